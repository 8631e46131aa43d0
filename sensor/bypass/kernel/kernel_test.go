package kernel

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	bpf "github.com/polder-nsm/polder/bpf/bypass"
	"github.com/polder-nsm/polder/sensor/bypass"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/flow"
)

func TestReasonOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bypass.Reason
	}{
		{fmt.Errorf("insert bypassed flow: %w (4 flows)", bpf.ErrTableFull), bypass.ReasonTableFull},
		{fmt.Errorf("insert bypassed flow: %w", bpf.ErrNotSupported), bypass.ReasonProto},
		{errors.New("bypass table closed"), bypass.ReasonKernel},
	} {
		if got := reasonOf(tt.err); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.err, got, tt.want)
		}
		if got := bypass.ReasonOf(bypass.Fail(reasonOf(tt.err), tt.err)); got != tt.want {
			t.Errorf("%v through Fail: %v", tt.err, got)
		}
	}
}

func TestConvert(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := bpf.Counters{
		FromSrc: bpf.DirCounters{Packets: 10, Bytes: 1000, LastSeen: 95 * time.Second},
		FromDst: bpf.DirCounters{Packets: 4, Bytes: 240, LastSeen: 90 * time.Second},
	}
	got := convert(c, now, 100*time.Second)
	want := bypass.Counters{Pkts: [2]uint64{10, 4}, Bytes: [2]uint64{1000, 240}, Last: now.Add(-5 * time.Second)}
	if got != want {
		t.Errorf("convert = %+v, want %+v", got, want)
	}
	// No packet since Insert: no last-seen time (the kernel's is Insert's).
	if got := convert(bpf.Counters{FromSrc: bpf.DirCounters{LastSeen: 99 * time.Second}}, now, 100*time.Second); !got.Last.IsZero() {
		t.Errorf("idle flow has Last %v", got.Last)
	}
}

func TestOpenWithoutKernelModes(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, m := range []string{config.BypassOff, config.BypassLocal} {
		tab, err := Open(config.Bypass{Mode: m, TableSize: 1024}, nil, log)
		if err != nil || tab != nil {
			t.Errorf("%s: %v %v", m, tab, err)
		}
	}
	if _, err := Open(config.Bypass{Mode: config.BypassXDP, TableSize: 1024}, nil, log); err == nil {
		t.Error("xdp without interfaces accepted")
	}
}

// TestKernelRoundTrip inserts, counts nothing, reads and removes a flow in
// a real kernel table. It needs CAP_BPF and CAP_NET_ADMIN (root); without
// them it is skipped, except in CI where it must run.
func TestKernelRoundTrip(t *testing.T) {
	b, err := bpf.Open(bpf.Config{Mode: bpf.ModeSocket, TableSize: 16})
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("open kernel bypass table (CI must run this as root): %v", err)
		}
		t.Skipf("open kernel bypass table (needs root or CAP_BPF+CAP_NET_ADMIN): %v", err)
	}
	tab := New(b, bpf.ModeSocket)
	defer tab.Close()
	k := flow.Key{Src: netip.MustParseAddr("10.0.0.2").As16(), Dst: netip.MustParseAddr("10.0.0.1").As16(),
		SrcPort: 40000, DstPort: 443, Proto: 6, IPVersion: 4}
	if err := tab.Insert(&k); err != nil {
		t.Fatal(err)
	}
	if n, c := tab.Entries(); n != 1 || c != 16 {
		t.Errorf("entries %d/%d", n, c)
	}
	out := make([]bypass.Counters, 2)
	other := k
	other.SrcPort++
	if err := tab.Read([]flow.Key{k, other}, out); err != nil || out[0] != (bypass.Counters{}) || out[1] != (bypass.Counters{}) {
		t.Errorf("read %+v %v", out, err)
	}
	if _, err := tab.Remove(&k); err != nil {
		t.Fatal(err)
	}
	if n, _ := tab.Entries(); n != 0 {
		t.Errorf("entries after remove %d", n)
	}
	icmp := k
	icmp.Proto = 1
	if r := bypass.ReasonOf(tab.Insert(&icmp)); r != bypass.ReasonProto {
		t.Errorf("icmp insert: %v", r)
	}
	// Fill the table: the 17th flow is refused as table full.
	for i := range 17 {
		f := k
		f.SrcPort = uint16(1000 + i)
		err := tab.Insert(&f)
		if i < 16 && err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		if i == 16 && bypass.ReasonOf(err) != bypass.ReasonTableFull {
			t.Errorf("insert into a full table: %v", err)
		}
	}
}
