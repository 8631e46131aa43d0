package fastlog

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/depstest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var t0 = time.Date(2009, 10, 16, 16, 44, 16, 109042000, time.UTC)

func tcpAlert() Alert {
	return Alert{
		Time: t0, GID: 1, SID: 100, Rev: 0, Msg: "msg escape tests", Priority: 3, Proto: 6,
		Src: netip.MustParseAddr("192.168.2.3"), SrcPort: 37010,
		Dst: netip.MustParseAddr("208.69.36.231"), DstPort: 80,
	}
}

func TestAppend(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Alert)
		want string
	}{
		{"tcp, no classtype", func(*Alert) {},
			"10/16/2009-16:44:16.109042  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"classtype and priority", func(a *Alert) { a.Class, a.Priority, a.Rev = "Potentially Bad Traffic", 2, 7 },
			"10/16/2009-16:44:16.109042  [**] [1:100:7] msg escape tests [**] [Classification: Potentially Bad Traffic] [Priority: 2] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"blocked", func(a *Alert) { a.Blocked = true },
			"10/16/2009-16:44:16.109042  [Drop] [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"drop rule in IDS mode", func(a *Alert) { a.WouldDrop = true },
			"10/16/2009-16:44:16.109042  [wDrop] [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"ipv6 udp, zero microseconds", func(a *Alert) {
			a.Time = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			a.Proto, a.Src, a.Dst = 17, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::53")
			a.SrcPort, a.DstPort = 5353, 53
		}, "01/02/2024-03:04:05.000000  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {UDP} 2001:db8::1:5353 -> 2001:db8::53:53\n"},
		{"icmp type and code for ports", func(a *Alert) { a.Proto, a.SrcPort, a.DstPort = 1, 8, 0 },
			"10/16/2009-16:44:16.109042  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {ICMP} 192.168.2.3:8 -> 208.69.36.231:0\n"},
		{"protocol without a name", func(a *Alert) { a.Proto = 253 },
			"10/16/2009-16:44:16.109042  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {PROTO:253} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"two-digit protocol number", func(a *Alert) { a.Proto = 99 },
			"10/16/2009-16:44:16.109042  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] {PROTO:099} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"control characters stay on the line", func(a *Alert) { a.Msg, a.Class = "evil\n10/16/2009 [**] fake\x7f", "tab\there" },
			"10/16/2009-16:44:16.109042  [**] [1:100:0] evil\\x0A10/16/2009 [**] fake\\x7F [**] [Classification: tab\\x09here] [Priority: 3] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80\n"},
		{"no ip layer: raw bytes", func(a *Alert) {
			a.Src, a.Dst = netip.Addr{}, netip.Addr{}
			a.Raw, a.PcapCnt = bytes.Repeat([]byte{0xab, 0x01}, 20), 42
		}, "10/16/2009-16:44:16.109042  [**] [1:100:0] msg escape tests [**] [Classification: (null)] [Priority: 3] [**] [Raw pkt: " +
			strings.TrimSpace(strings.Repeat("AB 01 ", 16)) + "] [pcap file packet: 42]\n"},
	} {
		a := tcpAlert()
		tc.edit(&a)
		if got := string(Append(nil, &a)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestGolden pins a run's worth of lines in testdata/alerts.golden.
func TestGolden(t *testing.T) {
	var buf []byte
	a := tcpAlert()
	for i := range 3 {
		a.Time = a.Time.Add(time.Duration(i) * 1500 * time.Microsecond)
		a.SID = uint32(2100498 + i)
		a.Class = []string{"", "Potentially Bad Traffic", "Attempted Information Leak"}[i]
		buf = Append(buf, &a)
	}
	path := filepath.Join("testdata", "alerts.golden")
	if *update {
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", path, buf)
	}
}

func TestAppendNoAllocs(t *testing.T) {
	a := tcpAlert()
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], &a) }); n != 0 {
		t.Errorf("%v allocations per line, want 0", n)
	}
}

func BenchmarkAppend(b *testing.B) {
	a := tcpAlert()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &a)
	}
}

func TestDeps(t *testing.T) {
	depstest.Check(t, "output formats lines from upstream value types; fast.log shares only EVE's protocol names and never calls forward", "sensor/output/eve", "sensor/capture", "sensor/decode", "sensor/defrag", "sensor/flow", "sensor/stream", "sensor/applayer", "sensor/rules", "sensor/detect")
}
