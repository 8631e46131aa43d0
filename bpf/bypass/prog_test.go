//go:build linux

package bypass

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// needPrivileges skips a test that loads BPF programs when not root,
// except in CI (CI=true), where the test must run rather than pass
// silently.
func needPrivileges(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	const msg = "needs root (CAP_BPF and CAP_NET_ADMIN) to load BPF programs: run go test as root"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run this test")
	}
	t.Skip(msg)
}

func openTest(t testing.TB, cfg Config) *Bypass {
	t.Helper()
	needPrivileges(t)
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// progRun is one of the programs under test as BPF_PROG_TEST_RUN runs it.
type progRun struct {
	name string
	prog *ebpf.Program
	pass func(ret uint32) bool
	// pulled is how many bytes of a frame the program does not count: 0,
	// or 14 where the test run pulls the Ethernet header.
	pulled int
}

// testPrograms returns the three programs sharing b's table:
//   - xdp_bypass as it runs on an interface;
//   - sock_bypass loaded as a tc (SchedCLS) program: BPF_PROG_TEST_RUN
//     starts skb data at the Ethernet header only for tc programs, which is
//     where AF_PACKET SOCK_RAW sockets have it. Same instructions, helpers
//     and context fields; only the return value means something else to
//     the kernel, and the test reads it itself;
//   - sock_bypass_l3 as a socket filter: the test run pulls the Ethernet
//     header and sets skb->protocol, as raw-IP interfaces deliver packets.
func testPrograms(t testing.TB, b *Bypass) []progRun {
	t.Helper()
	spec, err := loadBypass()
	if err != nil {
		t.Fatal(err)
	}
	ps := spec.Programs[bypassProgSockBypass]
	ps.Type = ebpf.SchedCLS
	spec.Programs = map[string]*ebpf.ProgramSpec{bypassProgSockBypass: ps}
	spec.Maps[bypassMapFlows].MaxEntries = uint32(b.TableSize())
	if err := spec.Variables[bypassVarPassTcpControl].Set(boolByte(b.cfg.PassTCPControl)); err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		MapReplacements: map[string]*ebpf.Map{bypassMapFlows: b.objs.Flows, bypassMapStats: b.objs.Stats},
	})
	if err != nil {
		t.Fatalf("load sock_bypass as tc program: %v", err)
	}
	t.Cleanup(func() { coll.Close() })
	return []progRun{
		{name: "xdp", prog: b.objs.XdpBypass, pass: func(r uint32) bool { return r == 2 /* XDP_PASS */ }},
		{name: "sock", prog: coll.Programs[bypassProgSockBypass], pass: func(r uint32) bool { return r != 0 }},
		{name: "sock_l3", prog: b.objs.SockBypassL3, pass: func(r uint32) bool { return r != 0 }, pulled: 14},
	}
}

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// errHarness: the kernel's test harness refused the frame before running
// the program.
var errHarness = errors.New("test run refused the frame")

// run runs the program once on data and reports whether it passed it. It
// checks that a socket filter keeps the whole frame when it passes it.
func (pr progRun) run(t testing.TB, data []byte) bool {
	t.Helper()
	passed, err := pr.tryRun(t, data)
	if err != nil {
		t.Fatalf("%s: %v", pr.name, err)
	}
	return passed
}

// tryRun is run for frames the test harness may refuse: BPF_PROG_TEST_RUN
// of skb programs wants a whole IPv4 or IPv6 header after an EtherType
// saying IP (EINVAL otherwise). The "vlan cut in ..." cases hide the cut
// header behind a VLAN tag to reach the skb programs' bounds checks.
func (pr progRun) tryRun(t testing.TB, data []byte) (bool, error) {
	t.Helper()
	ret, err := pr.prog.Run(&ebpf.RunOptions{Data: data})
	if errors.Is(err, unix.EINVAL) && pr.name != "xdp" {
		return false, errHarness
	}
	if err != nil {
		return false, err
	}
	if pr.name != "xdp" && ret != 0 && ret != 0xffffffff {
		t.Errorf("%s returned %d, want 0 (drop) or 0xffffffff (the whole frame)", pr.name, ret)
	}
	return pr.pass(ret), nil
}

// outcome is what a program should do with a test frame: which Stats
// counter it lands in.
type outcome int

const (
	outBypassed outcome = iota
	outMiss
	outTCPControl
	outNotIP
	outMalformed
	outFragment
	outUnsupported
)

func (o outcome) String() string {
	return [...]string{"bypassed", "miss", "tcp_control", "not_ip", "malformed", "fragment", "unsupported"}[o]
}

func (o outcome) count(s Stats) uint64 {
	return [...]uint64{s.Bypassed, s.Miss, s.TCPControl, s.NotIP, s.Malformed, s.Fragment, s.Unsupported}[o]
}

// keyOf keys a frame as the sensor does: sensor/decode, then flow.KeyOf.
// fromDst says whether the frame travels from the key's Dst to its Src.
func keyOf(t testing.TB, data []byte) (k flow.Key, fromDst bool) {
	t.Helper()
	var (
		d decode.Decoder
		p decode.Packet
	)
	if r := d.Decode(&p, &capture.Frame{Data: data, OrigLen: len(data), LinkType: capture.LinkTypeEthernet}); r != decode.ReasonNone {
		t.Fatalf("decode key frame: %v", r)
	}
	k, ok := flow.KeyOf(&p)
	if !ok {
		t.Fatalf("key frame has no flow key")
	}
	return k, p.Src != k.Src || p.SrcPort != k.SrcPort
}

// reverse returns f sent the other way.
func (f frame) reverse() frame {
	f.src, f.dst = f.dst, f.src
	f.sport, f.dport = f.dport, f.sport
	return f
}

var (
	lo4, hi4 = v4("10.0.0.1"), v4("10.0.0.2")
	lo6, hi6 = v4("2001:db8::1"), v4("2001:db8::2")
	tcp4     = frame{src: lo4, dst: hi4, proto: 6, sport: 40000, dport: 80, tcpFlags: 0x10, payload: 100}
	tcp6     = frame{src: lo6, dst: hi6, proto: 6, sport: 40000, dport: 443, tcpFlags: 0x10, payload: 100}
	udp4     = frame{src: lo4, dst: hi4, proto: 17, sport: 5353, dport: 53, payload: 30}
	udp6     = frame{src: lo6, dst: hi6, proto: 17, sport: 5353, dport: 53, payload: 30}
)

func with(f frame, mod func(*frame)) frame {
	mod(&f)
	return f
}

const (
	tpidQ   = 0x8100 << 16
	tpidAD  = 0x88a8 << 16
	tpid910 = 0x9100 << 16
)

type progCase struct {
	name string
	f    frame
	// bypass is the flow put in the table before the run: for outBypassed
	// and outTCPControl f's own flow; for the others, when set, a flow the
	// frame belongs to in the sensor's eyes (its fragments, say) or must
	// not be confused with, which must not make the program drop it.
	bypass *frame
	want   outcome
}

func progCases() []progCase {
	ptr := func(f frame) *frame { return &f }
	return []progCase{
		// Keyed and bypassed, both directions (run reverses each).
		{name: "ipv4 tcp", f: tcp4},
		{name: "ipv4 tcp from high side", f: tcp4.reverse()},
		{name: "ipv4 udp", f: udp4},
		{name: "ipv4 sctp", f: with(tcp4, func(f *frame) { f.proto = 132 })},
		{name: "ipv4 options", f: with(tcp4, func(f *frame) { f.ipOpts = []byte{7, 7, 4, 0, 0, 0, 0, 1, 1, 1, 1, 0} })},
		{name: "ipv4 max options", f: with(udp4, func(f *frame) { f.ipOpts = make([]byte, 40) })},
		{name: "ipv4 tcp options", f: with(tcp4, func(f *frame) { f.tcpDoff = 15 })},
		{name: "ipv4 ethernet padding", f: with(tcp4, func(f *frame) { f.payload, f.pad = 0, 6 })},
		{name: "ipv4 same address", f: with(tcp4, func(f *frame) { f.dst = f.src })},
		{name: "ipv4 same address high port first", f: with(tcp4, func(f *frame) { f.dst, f.sport, f.dport = f.src, 80, 40000 })},
		{name: "ipv4 syn", f: with(tcp4, func(f *frame) { f.tcpFlags = 0x02 })},
		{name: "ipv6 tcp", f: tcp6},
		{name: "ipv6 udp", f: udp6},
		{name: "ipv6 sctp", f: with(tcp6, func(f *frame) { f.proto = 132 })},
		{name: "ipv6 hop-by-hop routing dstopts", f: with(udp6, func(f *frame) { f.ext = []ext{{typ: 0}, {typ: 43, size: 24}, {typ: 60, size: 16}} })},
		{name: "ipv6 authentication header", f: with(tcp6, func(f *frame) { f.ext = []ext{{typ: 51, size: 24}} })},
		{name: "ipv6 atomic fragment", f: with(tcp6, func(f *frame) { f.ext = []ext{{typ: 0}, {typ: 44, frag: 0}} })},
		{name: "ipv6 six extension headers", f: with(udp6, func(f *frame) {
			f.ext = []ext{{typ: 0}, {typ: 60}, {typ: 43}, {typ: 44}, {typ: 51}, {typ: 60}}
		})},
		{name: "vlan", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 0x2000 | 100} })},
		{name: "vlan priority tag", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 0x6000} })},
		{name: "qinq", f: with(tcp6, func(f *frame) { f.tags = []uint32{tpidAD | 200, tpidQ | 100} })},
		{name: "qinqinq", f: with(udp4, func(f *frame) { f.tags = []uint32{tpid910 | 300, tpidAD | 200, tpidQ | 4095} })},

		// Not in the table.
		{name: "miss", f: tcp4, want: outMiss},
		{name: "miss other vlan", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 101} }),
			bypass: ptr(with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 100} })), want: outMiss},
		{name: "miss untagged", f: tcp4, bypass: ptr(with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 100} })), want: outMiss},
		{name: "miss other port", f: with(tcp4, func(f *frame) { f.sport++ }), bypass: &tcp4, want: outMiss},
		{name: "miss udp of a tcp flow", f: with(tcp4, func(f *frame) { f.proto = 17 }), bypass: &tcp4, want: outMiss},

		// Fragments of a bypassed flow still go to the sensor.
		{name: "ipv4 first fragment", f: with(tcp4, func(f *frame) { f.fragOff = 0x2000 }), bypass: &tcp4, want: outFragment},
		{name: "ipv4 last fragment", f: with(tcp4, func(f *frame) { f.fragOff = 0x0010 }), bypass: &tcp4, want: outFragment},
		{name: "ipv4 df is no fragment", f: with(tcp4, func(f *frame) { f.fragOff = 0x4000 })},
		{name: "ipv6 first fragment", f: with(tcp6, func(f *frame) { f.ext = []ext{{typ: 44, frag: 1}} }), bypass: &tcp6, want: outFragment},
		{name: "ipv6 later fragment", f: with(tcp6, func(f *frame) { f.ext = []ext{{typ: 0}, {typ: 44, frag: 185 << 3}} }), bypass: &tcp6, want: outFragment},

		// Not keyed in the kernel.
		{name: "ipv4 icmp", f: with(tcp4, func(f *frame) { f.proto = 1 }), want: outUnsupported},
		{name: "ipv6 icmpv6", f: with(tcp6, func(f *frame) { f.proto = 58 }), want: outUnsupported},
		{name: "ipv4 gre", f: with(tcp4, func(f *frame) { f.proto = 47 }), want: outUnsupported},
		{name: "ipv6 esp", f: with(tcp6, func(f *frame) { f.proto = 50 }), want: outUnsupported},
		{name: "ipv6 no next header", f: with(tcp6, func(f *frame) { f.proto = 59 }), want: outUnsupported},
		{name: "ipv6 seven extension headers", f: with(udp6, func(f *frame) {
			f.ext = []ext{{typ: 0}, {typ: 60}, {typ: 43}, {typ: 60}, {typ: 43}, {typ: 60}, {typ: 43}}
		}), want: outUnsupported},
		{name: "four vlan tags", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidAD | 1, tpidQ | 2, tpidQ | 3, tpidQ | 4} }), want: outUnsupported},
		{name: "arp", f: with(tcp4, func(f *frame) { f.etype = 0x0806 }), want: outNotIP},
		{name: "802.3 length", f: with(tcp4, func(f *frame) { f.etype = 0x0050 }), want: outNotIP},
		{name: "mpls", f: with(tcp4, func(f *frame) { f.etype = 0x8847 }), want: outNotIP},
		{name: "vlan arp", f: with(tcp4, func(f *frame) { f.tags, f.etype = []uint32{tpidQ | 5}, 0x0806 }), want: outNotIP},

		// Truncated and invalid: passed to the decoder, never read past.
		{name: "ethernet only", f: with(tcp4, func(f *frame) { f.cut = len(f.bytes()) - 14 }), want: outMalformed},
		{name: "cut in vlan tag", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 1}; f.cut = len(f.bytes()) - 16 }), want: outMalformed},
		{name: "cut in ipv4 header", f: with(tcp4, func(f *frame) { f.cut = len(f.bytes()) - 30 }), want: outMalformed},
		{name: "cut in ipv6 header", f: with(tcp6, func(f *frame) { f.cut = len(f.bytes()) - 50 }), want: outMalformed},
		{name: "vlan cut in ipv4 header", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 1}; f.cut = len(f.bytes()) - 34 }), want: outMalformed},
		{name: "vlan cut in ipv6 header", f: with(tcp6, func(f *frame) { f.tags = []uint32{tpidQ | 1}; f.cut = len(f.bytes()) - 57 }), want: outMalformed},
		{name: "vlan cut in tcp header", f: with(tcp4, func(f *frame) { f.tags = []uint32{tpidQ | 1}; f.cut = 100 + 10 }), want: outMalformed},
		{name: "vlan cut in ipv6 extension", f: with(udp6, func(f *frame) {
			f.tags = []uint32{tpidAD | 1, tpidQ | 2}
			f.ext = []ext{{typ: 0}, {typ: 60, size: 32}}
			f.cut = len(f.bytes()) - (22 + 40 + 8 + 4)
		}), want: outMalformed},
		{name: "ipv4 total length past frame", f: with(tcp4, func(f *frame) { f.totAdjust = 1 }), bypass: &tcp4, want: outMalformed},
		{name: "ipv4 snaplen cut", f: with(tcp4, func(f *frame) { f.cut = 10 }), bypass: &tcp4, want: outMalformed},
		{name: "ipv4 total length below header", f: with(tcp4, func(f *frame) { f.totAdjust = -(20 + 20 + 100) + 10 }), bypass: &tcp4, want: outMalformed},
		{name: "ipv4 ihl 4", f: with(tcp4, func(f *frame) { f.ihl = 4 }), bypass: &tcp4, want: outMalformed},
		{name: "ipv4 ihl past frame", f: with(tcp4, func(f *frame) { f.ihl = 15; f.payload = 0 }), want: outMalformed},
		{name: "ipv4 version 6", f: with(tcp4, func(f *frame) { f.etype = 0x86dd }), want: outMalformed},
		{name: "ipv6 version 4", f: with(tcp6, func(f *frame) { f.etype = 0x0800 }), want: outMalformed},
		{name: "ipv6 payload length past frame", f: with(tcp6, func(f *frame) { f.totAdjust = 1 }), bypass: &tcp6, want: outMalformed},
		{name: "ipv6 extension past payload", f: with(udp6, func(f *frame) { f.ext = []ext{{typ: 60, size: 16}}; f.payload = 0; f.totAdjust = -16 }), want: outMalformed},
		{name: "tcp header cut", f: with(tcp4, func(f *frame) { f.payload = 0; f.cut = 8; f.totAdjust = -8 }), bypass: &tcp4, want: outMalformed},
		{name: "tcp data offset 4", f: with(tcp4, func(f *frame) { f.tcpDoff = 4 }), bypass: &tcp4, want: outMalformed},
		{name: "tcp data offset past segment", f: with(tcp4, func(f *frame) { f.tcpDoff = 15; f.payload = 0; f.cut = 40; f.totAdjust = -40 }), want: outMalformed},
		{name: "udp length 7", f: with(udp4, func(f *frame) { f.udpLen = 7 }), bypass: &udp4, want: outMalformed},
		{name: "udp length past datagram", f: with(udp4, func(f *frame) { f.udpLen = 8 + 31 }), bypass: &udp4, want: outMalformed},
		{name: "udp header cut", f: with(udp6, func(f *frame) { f.payload = 0; f.cut = 2; f.totAdjust = -2 }), want: outMalformed},
		{name: "sctp header cut", f: with(tcp4, func(f *frame) { f.proto = 132; f.payload = 0; f.cut = 2; f.totAdjust = -2 }), want: outMalformed},
	}
}

// TestPrograms runs every case through the three programs with
// BPF_PROG_TEST_RUN: the verdict, the flow's counters in both directions
// and the global counters. Keys come from the sensor's own decoder and
// flow.KeyOf, so a hit proves the program computes the sensor's key.
func TestPrograms(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 1024})
	progs := testPrograms(t, b)
	for _, c := range progCases() {
		t.Run(c.name, func(t *testing.T) {
			data := c.f.bytes()
			var (
				k       flow.Key
				fromDst bool
				keyed   bool
			)
			switch {
			case c.want == outBypassed || c.want == outTCPControl:
				k, fromDst = keyOf(t, data)
				keyed = true
			case c.bypass != nil:
				k, _ = keyOf(t, c.bypass.bytes())
				keyed = true
			}
			for _, pr := range progs {
				clearTable(t, b)
				if keyed {
					if err := b.Insert(k); err != nil {
						t.Fatal(err)
					}
				}
				before := stats(t, b)
				passed, err := pr.tryRun(t, data)
				if errors.Is(err, errHarness) {
					t.Logf("%s: %v (see the vlan variant of the case)", pr.name, err)
					continue
				} else if err != nil {
					t.Fatalf("%s: %v", pr.name, err)
				}
				after := stats(t, b)
				if want := c.want != outBypassed; passed != want {
					t.Errorf("%s: passed %v, want %v", pr.name, passed, want)
				}
				if d := after.Packets - before.Packets; d != 1 {
					t.Errorf("%s: stats.Packets grew by %d, want 1", pr.name, d)
				}
				if d := c.want.count(after.Stats) - c.want.count(before.Stats); d != 1 {
					t.Errorf("%s: stats %s grew by %d, want 1 (before %+v, after %+v)", pr.name, c.want, d, before, after)
				}
				if !keyed {
					continue
				}
				wire := uint64(len(data) - pr.pulled)
				var want Counters
				if c.want == outBypassed {
					want.FromSrc = DirCounters{Packets: 1, Bytes: wire}
					if fromDst {
						want.FromSrc, want.FromDst = want.FromDst, want.FromSrc
					}
					if d := after.BypassedBytes - before.BypassedBytes; d != wire {
						t.Errorf("%s: stats.BypassedBytes grew by %d, want %d", pr.name, d, wire)
					}
				}
				got := lookup(t, b, k)
				if !sameCounts(got, want) {
					t.Errorf("%s: counters %+v, want %+v", pr.name, got, want)
				}
				if c.want != outBypassed {
					continue
				}
				// The other direction lands in the same entry.
				rdata := c.f.reverse().bytes()
				if rk, _ := keyOf(t, rdata); rk != k {
					t.Fatalf("reversed frame keys to %+v, want %+v", rk, k)
				}
				if pr.run(t, rdata) {
					t.Errorf("%s: reversed frame passed", pr.name)
				}
				want.FromSrc.Packets, want.FromSrc.Bytes = 1, wire
				want.FromDst.Packets, want.FromDst.Bytes = 1, wire
				got = lookup(t, b, k)
				if !sameCounts(got, want) {
					t.Errorf("%s: after both directions: counters %+v, want %+v", pr.name, got, want)
				}
				if got.FromSrc.LastSeen < before.monoNow || got.FromDst.LastSeen < before.monoNow {
					t.Errorf("%s: LastSeen %v/%v before the run at %v", pr.name, got.FromSrc.LastSeen, got.FromDst.LastSeen, before.monoNow)
				}
			}
		})
	}
}

// TestPassTCPControl: with Config.PassTCPControl, SYN, FIN and RST of a
// bypassed flow reach the sensor uncounted; other segments are dropped.
func TestPassTCPControl(t *testing.T) {
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 64, PassTCPControl: true})
	progs := testPrograms(t, b)
	k, _ := keyOf(t, tcp4.bytes())
	for _, pr := range progs {
		clearTable(t, b)
		if err := b.Insert(k); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			flags uint8
			pass  bool
		}{{0x02, true}, {0x12, true}, {0x11, true}, {0x04, true}, {0x14, true}, {0x10, false}, {0x18, false}} {
			before := stats(t, b)
			passed := pr.run(t, with(tcp4, func(f *frame) { f.tcpFlags = c.flags }).bytes())
			after := stats(t, b)
			if passed != c.pass {
				t.Errorf("%s flags %#x: passed %v, want %v", pr.name, c.flags, passed, c.pass)
			}
			if c.pass && after.TCPControl-before.TCPControl != 1 {
				t.Errorf("%s flags %#x: TCPControl grew by %d, want 1", pr.name, c.flags, after.TCPControl-before.TCPControl)
			}
		}
		if got := lookup(t, b, k); got.Packets() != 2 {
			t.Errorf("%s: %d packets counted, want the 2 without SYN/FIN/RST", pr.name, got.Packets())
		}
	}
}

type statsAt struct {
	Stats
	monoNow time.Duration
}

func stats(t testing.TB, b *Bypass) statsAt {
	t.Helper()
	now := Monotonic()
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return statsAt{Stats: s, monoNow: now}
}

func lookup(t testing.TB, b *Bypass, k flow.Key) Counters {
	t.Helper()
	c, ok, err := b.Lookup(k)
	if err != nil || !ok {
		t.Fatalf("look up %+v: ok %v, %v", k, ok, err)
	}
	return c
}

func sameCounts(a, b Counters) bool {
	return a.FromSrc.Packets == b.FromSrc.Packets && a.FromSrc.Bytes == b.FromSrc.Bytes &&
		a.FromDst.Packets == b.FromDst.Packets && a.FromDst.Bytes == b.FromDst.Bytes
}

func clearTable(t testing.TB, b *Bypass) {
	t.Helper()
	var keys []flow.Key
	if err := b.Read(func(k flow.Key, _ Counters) bool { keys = append(keys, k); return true }); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Delete(keys); err != nil || n != len(keys) {
		t.Fatalf("delete %d keys: %d, %v", len(keys), n, err)
	}
}
