package decode_test

import (
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// hotFixtures are the frame shapes of ordinary traffic; decoding them must
// not allocate.
var hotFixtures = []string{
	"eth ipv4 tcp opts",
	"eth ipv4 tcp padded",
	"eth vlan ipv4 udp",
	"eth qinq ipv6 tcp",
	"eth ipv6 hbh udp",
	"eth ipv4 icmp unreach",
	"gre erspan2",
	"vxlan",
	"ipv6 fragment",
	"tcp bad mss len",
	"radiotap qos data fcs",
	"80211 4addr qos htc",
	"nflog ipv4 tcp",
	"gtp ipv4 tcp",
	"gtp ext chain",
}

func fixtureFrame(t testing.TB, name string) capture.Frame {
	t.Helper()
	for _, fx := range fixtures {
		if fx.name == name {
			b := unhex(t, fx.hex)
			return capture.Frame{Data: b, OrigLen: len(b), LinkType: fx.lt}
		}
	}
	t.Fatalf("no fixture %q", name)
	return capture.Frame{}
}

func TestDecodeAllocs(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	for _, name := range hotFixtures {
		f := fixtureFrame(t, name)
		if n := testing.AllocsPerRun(100, func() { d.Decode(&p, &f) }); n != 0 {
			t.Errorf("%s: %v allocs per Decode, want 0", name, n)
		}
	}
	f := fixtureFrame(t, "eth ipv4 tcp opts")
	d.Decode(&p, &f)
	ip := f.Data[p.L3Offset:]
	if n := testing.AllocsPerRun(100, func() { d.DecodeDatagram(&p, ip) }); n != 0 {
		t.Errorf("DecodeDatagram: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(10, func() { d.Counters.Each(func(string, uint64) {}) }); n != 0 {
		t.Errorf("Counters.Each: %v allocs, want 0", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range hotFixtures[:5] {
		f := fixtureFrame(b, name)
		b.Run(name, func(b *testing.B) {
			var d decode.Decoder
			var p decode.Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Data)))
			for b.Loop() {
				d.Decode(&p, &f)
			}
		})
	}
}

// BenchmarkDecodeLink covers the link types and tunnel that are off the
// Ethernet fast path: 802.11 with radiotap, NFLOG and GTP-U.
func BenchmarkDecodeLink(b *testing.B) {
	for _, name := range []string{"radiotap qos data fcs", "nflog ipv4 tcp", "gtp ipv4 tcp"} {
		f := fixtureFrame(b, name)
		b.Run(name, func(b *testing.B) {
			var d decode.Decoder
			var p decode.Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Data)))
			for b.Loop() {
				d.Decode(&p, &f)
			}
		})
	}
}

// BenchmarkDecodeCorpus decodes every frame of the corpus, so ns/op is per
// packet over a realistic mix.
func BenchmarkDecodeCorpus(b *testing.B) {
	frames := loadCorpusFrames(b)
	var d decode.Decoder
	var p decode.Packet
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		d.Decode(&p, &frames[i])
		i++
		if i == len(frames) {
			i = 0
		}
	}
}
