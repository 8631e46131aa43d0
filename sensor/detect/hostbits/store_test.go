package hostbits

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	t0 = time.Unix(1_700_000_000, 0).UTC()
	hA = netip.MustParseAddr("10.0.0.1")
	hB = netip.MustParseAddr("10.0.0.2")
	h6 = netip.MustParseAddr("2001:db8::1")
)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// op is one call on a Store, written "set A x 10" (expire seconds, 0 or
// absent for the default), "unset A x", "toggle A x", "isset A x" or
// "isnotset A x", with keys A, B (hosts), AB, BA (pairs), 6 (IPv6 host),
// m (A as IPv4-mapped IPv6).
type op struct {
	t   float64
	cmd string
}

func keyOf(t *testing.T, s string) Key {
	switch s {
	case "A":
		return HostKey(hA)
	case "B":
		return HostKey(hB)
	case "AB":
		return PairKey(hA, hB)
	case "BA":
		return PairKey(hB, hA)
	case "6":
		return HostKey(h6)
	case "m":
		return HostKey(netip.AddrFrom16(hA.As16()))
	}
	t.Fatalf("bad key %q", s)
	return Key{}
}

// run applies ops and returns the results of the checks as a string of
// 1 (true) and 0 (false).
func run(t *testing.T, s *Store, ops []op) string {
	var b strings.Builder
	for _, o := range ops {
		f := strings.Fields(o.cmd)
		k, id, now := keyOf(t, f[1]), s.ID(f[2]), at(o.t)
		var expire time.Duration
		if len(f) > 3 {
			var n int
			fmt.Sscan(f[3], &n)
			expire = time.Duration(n) * time.Second
		}
		switch f[0] {
		case "set":
			s.Set(k, id, now, expire)
		case "unset":
			s.Unset(k, id, now)
		case "toggle":
			s.Toggle(k, id, now, expire)
		case "isset", "isnotset":
			set := s.IsSet(k, id, now)
			if set == (f[0] == "isset") {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		case "sweep":
			s.Sweep(now)
		default:
			t.Fatalf("bad op %q", o.cmd)
		}
	}
	return b.String()
}

func TestStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []op
		want string
	}{
		{"unset bit", []op{{0, "isset A x"}, {0, "isnotset A x"}}, "01"},
		{"set, other name, other host", []op{{0, "set A x"}, {1, "isset A x"}, {1, "isset A y"}, {1, "isset B x"}}, "100"},
		// Default expiry 30 s, inclusive.
		{"default expiry", []op{{0, "set A x"}, {30, "isset A x"}, {30.001, "isset A x"}, {30.001, "isnotset A x"}}, "101"},
		{"expire seconds", []op{{0, "set A x 5"}, {5, "isset A x"}, {5.5, "isset A x"}}, "10"},
		{"set restarts the expiry", []op{{0, "set A x 10"}, {8, "set A x 10"}, {15, "isset A x"}, {18.5, "isset A x"}}, "10"},
		{"set may shorten the expiry", []op{{0, "set A x 3600"}, {1, "set A x 2"}, {4, "isset A x"}}, "0"},
		{"unset", []op{{0, "set A x"}, {0, "set A y"}, {1, "unset A x"}, {1, "isset A x"}, {1, "isset A y"}}, "01"},
		{"unset absent", []op{{0, "unset A x"}, {0, "isset A x"}}, "0"},
		{"toggle", []op{{0, "toggle A x"}, {1, "isset A x"}, {2, "toggle A x"}, {3, "isset A x"}, {4, "toggle A x 5"}, {9, "isset A x"}, {9.5, "isset A x"}}, "1010"},
		{"toggle an expired bit sets it", []op{{0, "set A x 1"}, {5, "toggle A x"}, {6, "isset A x"}}, "1"},
		{"pairs are unordered", []op{{0, "set AB x"}, {1, "isset BA x"}, {1, "isset A x"}, {1, "isset B x"}}, "100"},
		{"host and pair are apart", []op{{0, "set A x"}, {1, "isset AB x"}}, "0"},
		{"IPv4-mapped is IPv4", []op{{0, "set m x"}, {1, "isset A x"}}, "1"},
		{"IPv6", []op{{0, "set 6 x"}, {1, "isset 6 x"}, {1, "isset A x"}}, "10"},
		{"sweep drops only expired bits", []op{{0, "set A x 10"}, {0, "set A y 100"}, {50, "sweep A x"}, {51, "isset A y"}, {51, "isset A x"}}, "10"},
		// suricata-verify detect-hostbits-02, one packet A → B in rule
		// order: isset abc,src; isnotset abc,dst; unset abc,src;
		// set myflow2 (src); isset myflow2 (src).
		{"detect-hostbits-02", []op{{0, "isset A abc"}, {0, "isnotset B abc"}, {0, "unset A abc"}, {0, "set A myflow2"}, {0, "isset A myflow2"}}, "011"},
		// xbits example of the Xbits Keyword page: set badssh on ip_src
		// for an hour; later packets of that source match isset.
		{"xbits badssh", []op{{0, "set A badssh 3600"}, {1800, "isset A badssh"}, {1800, "isset B badssh"}, {3601, "isset A badssh"}}, "100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, New(Options{}), tc.ops); got != tc.want {
				t.Errorf("checks %s, want %s", got, tc.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	if PairKey(hA, hB) != PairKey(hB, hA) {
		t.Error("PairKey is ordered")
	}
	if PairKey(hA, netip.Addr{}) != (Key{}) || HostKey(netip.Addr{}) != (Key{}) {
		t.Error("invalid addresses do not give the zero Key")
	}
	if got := PairKey(hB, hA).String(); got != "10.0.0.1,10.0.0.2" {
		t.Errorf("String %q", got)
	}
	if !PairKey(hA, hB).IsPair() || HostKey(hA).IsPair() {
		t.Error("IsPair")
	}
	s := New(Options{})
	s.Set(Key{}, s.ID("x"), t0, 0)
	if s.Len() != 0 || s.IsSet(Key{}, s.ID("x"), t0) {
		t.Error("zero Key stored")
	}
}

func TestIDs(t *testing.T) {
	s := New(Options{MaxNames: 2})
	a, b := s.ID("a"), s.ID("B")
	if a == 0 || b == 0 || a == b || s.ID("a") != a {
		t.Fatalf("ids a=%d B=%d", a, b)
	}
	if s.ID("b") != 0 {
		t.Error("third name interned beyond MaxNames")
	}
	if s.Name(a) != "a" || s.Name(0) != "" || s.Name(99) != "" {
		t.Error("Name")
	}
	s.Set(HostKey(hA), 0, t0, 0)
	if s.Len() != 0 || s.IsSet(HostKey(hA), 0, t0) {
		t.Error("id 0 stored")
	}
	if st := s.Stats(); st.Names != 2 || st.NamesRefused != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBounds(t *testing.T) {
	s := New(Options{MaxKeys: 3})
	x := s.ID("x")
	host := func(i int) Key { return HostKey(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)})) }
	for i := range 5 {
		s.Set(host(i), x, at(0), 10*time.Second)
	}
	if st := s.Stats(); st.Keys != 3 || st.Refused != 2 {
		t.Fatalf("5 hosts into 3 keys: %+v", st)
	}
	if s.IsSet(host(3), x, at(1)) || !s.IsSet(host(2), x, at(1)) {
		t.Error("refused host set or kept host unset")
	}
	// A second bit on a held key is not a new key.
	s.Set(host(0), s.ID("y"), at(1), 0)
	if !s.IsSet(host(0), s.ID("y"), at(1)) {
		t.Error("second bit refused")
	}
	// Full of expired bits: Set sweeps and succeeds.
	s.Set(host(4), x, at(11), 0)
	if !s.IsSet(host(4), x, at(11)) {
		t.Error("set refused although the Store held only expired bits")
	}
	if st := s.Stats(); st.Keys != 2 || st.Expired != 3 { // host 0 keeps y (30 s)
		t.Errorf("after sweep on full: %+v", st)
	}
	// Unset of the last bit frees the key.
	s.Unset(host(0), s.ID("y"), at(12))
	if s.Len() != 1 {
		t.Errorf("Len %d after unset, want 1", s.Len())
	}
}

func TestConcurrent(t *testing.T) {
	s := New(Options{MaxKeys: 500})
	ids := []uint32{s.ID("a"), s.ID("b"), s.ID("c")}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				now := at(float64(i) / 100)
				src := netip.AddrFrom4([4]byte{10, 0, byte(w), byte(i % 256)})
				dst := netip.AddrFrom4([4]byte{10, 1, 0, byte(i % 7)})
				id := ids[i%3]
				switch i % 5 {
				case 0:
					s.Set(HostKey(src), id, now, time.Second)
				case 1:
					s.Toggle(PairKey(src, dst), id, now, 0)
				case 2:
					s.Unset(HostKey(src), id, now)
				case 3:
					s.IsSet(PairKey(dst, src), id, now)
				default:
					if i%100 == 4 {
						s.Sweep(now)
					} else {
						s.IsSet(HostKey(src), id, now)
					}
				}
			}
		})
	}
	wg.Wait()
	held := 0
	for i := range s.shards {
		held += len(s.shards[i].m)
	}
	if held != s.Len() || held > 500 {
		t.Errorf("%d keys in shards, Len %d, limit 500", held, s.Len())
	}
	// A bit set by one goroutine is seen by another.
	s2 := New(Options{})
	done := make(chan struct{})
	go func() { s2.Set(HostKey(h6), ids[0], t0, time.Hour); close(done) }()
	<-done
	if !s2.IsSet(HostKey(h6), ids[0], t0) {
		t.Error("bit set in another goroutine not seen")
	}
}

func TestAllocs(t *testing.T) {
	s := New(Options{})
	k, x := PairKey(hA, hB), s.ID("x")
	s.Set(k, x, t0, time.Minute)
	if n := testing.AllocsPerRun(1000, func() { s.IsSet(k, x, t0) }); n != 0 {
		t.Errorf("IsSet allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { s.Set(k, x, t0, time.Minute) }); n != 0 {
		t.Errorf("Set of a held bit allocates %v times", n)
	}
}

func BenchmarkIsSet(b *testing.B) {
	s := New(Options{})
	ids := []uint32{s.ID("a"), s.ID("b"), s.ID("c"), s.ID("d")}
	for i := range 1000 {
		s.Set(HostKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})), ids[i%4], t0, time.Hour)
	}
	k := HostKey(netip.AddrFrom4([4]byte{10, 0, 0, 7}))
	b.ReportAllocs()
	for b.Loop() {
		s.IsSet(k, ids[3], t0)
	}
}

func BenchmarkIsSetParallel(b *testing.B) {
	s := New(Options{})
	id := s.ID("a")
	for i := range 1000 {
		s.Set(HostKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})), id, t0, time.Hour)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.IsSet(HostKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8 & 3), byte(i)})), id, t0)
			i++
		}
	})
}

func BenchmarkSet(b *testing.B) {
	s := New(Options{})
	id := s.ID("a")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Set(PairKey(hA, netip.AddrFrom4([4]byte{10, 9, byte(i >> 8 & 3), byte(i)})), id, t0, 0)
	}
}

func TestShardSpread(t *testing.T) {
	for _, base := range []netip.Addr{hA, h6} {
		var n [numShards]int
		a := base
		for range 1024 {
			n[HostKey(a).shard]++
			a = a.Next()
		}
		for i, c := range n {
			if c < 1024/numShards/2 || c > 1024/numShards*2 {
				t.Errorf("from %v: shard %d holds %d of 1024 consecutive hosts", base, i, c)
			}
		}
	}
}
