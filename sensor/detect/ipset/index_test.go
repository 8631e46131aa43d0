package ipset

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// bruteLookup is the reference for Index.Lookup: every Set tested in turn.
func bruteLookup(sets []*Set, ids []uint32, a netip.Addr) []uint32 {
	var out []uint32
	for i, s := range sets {
		if s.Contains(a) {
			out = append(out, ids[i])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestIndexSmall(t *testing.T) {
	v := testVars()
	exprs := []string{"any", "$HOME_NET", "$EXTERNAL_NET", "[1.2.3.4,5.6.7.8]", "1.2.3.0/24", "!1.2.3.4", "$DUAL", "2001:db8::/48", "[1.2.3.4,5.6.7.8]", "1.2.3.4"}
	var b IndexBuilder
	var sets []*Set
	var ids []uint32
	for i, e := range exprs {
		s := mustCompile(t, e, v)
		id := uint32(100 - 7*i)
		b.Add(s, id)
		sets, ids = append(sets, s), append(ids, id)
	}
	// An id added twice, with two Sets: returned once, for their union.
	extra := mustCompile(t, "9.9.9.9", v)
	b.Add(extra, ids[3])
	sets, ids = append(sets, extra), append(ids, ids[3])
	b.Add(nil, 1)
	x := b.Build()

	// ids: any 100, HOME 93, EXT 86, [1.2.3.4,5.6.7.8] 79 and 44,
	// 1.2.3.0/24 72, !1.2.3.4 65, DUAL 58, 2001:db8::/48 51, 1.2.3.4 37.
	tests := map[string][]uint32{
		"1.2.3.4":        {37, 44, 72, 79, 86, 100},
		"1.2.3.5":        {65, 72, 86, 100},
		"10.0.0.1":       {58, 65, 93, 100},
		"9.9.9.9":        {65, 79, 86, 100}, // 79 via the second Set of that id
		"2001:db8::1":    {51, 58, 100},
		"2001:db9::1":    {100},
		"::ffff:1.2.3.4": {37, 44, 72, 79, 86, 100},
	}
	for a, want := range tests {
		got := x.Lookup(netip.MustParseAddr(a), nil)
		if !slices.Equal(got, want) {
			t.Errorf("Lookup(%s) = %v, want %v", a, got, want)
		}
		if ref := bruteLookup(sets, ids, netip.MustParseAddr(a)); !slices.Equal(got, ref) {
			t.Errorf("Lookup(%s) = %v, brute force %v", a, got, ref)
		}
	}
	if got := x.Lookup(netip.Addr{}, []uint32{7}); !slices.Equal(got, []uint32{7}) {
		t.Errorf("Lookup(invalid) = %v", got)
	}
	var empty IndexBuilder
	if got := empty.Build().Lookup(netip.MustParseAddr("1.2.3.4"), nil); len(got) != 0 {
		t.Errorf("empty index returned %v", got)
	}
}

// TestIndexRandom checks Lookup against brute force on random sets of
// hosts, CIDRs, ranges and negations in both families.
func TestIndexRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v := testVars()
	var b IndexBuilder
	var sets []*Set
	var ids []uint32
	var probes []netip.Addr
	for i := 0; i < 300; i++ {
		e := randomAddrExpr(r, 0)
		a, err := parseAddr(e)
		if err != nil {
			t.Fatalf("random expression %q: %v", e, err)
		}
		s, err := CompileAddress(a, v)
		if err != nil {
			continue // empty results are expected now and then
		}
		id := uint32(r.IntN(200))
		b.Add(s, id)
		sets, ids = append(sets, s), append(ids, id)
		probes = append(probes, boundaryProbes(s)...)
	}
	for i := 0; i < 2000; i++ {
		probes = append(probes, randomProbe(r))
	}
	x := b.Build()
	var dst []uint32
	for _, a := range probes {
		dst = x.Lookup(a, dst[:0])
		if ref := bruteLookup(sets, ids, a); !slices.Equal(dst, ref) {
			t.Fatalf("Lookup(%s) = %v, brute force %v", a, dst, ref)
		}
	}
}

func TestIndexLookupAllocs(t *testing.T) {
	v := testVars()
	var b IndexBuilder
	for i, e := range []string{"any", "$HOME_NET", "$EXTERNAL_NET", "[1.2.3.4,5.6.7.8]", "1.2.3.0/24", "$DUAL"} {
		b.Add(mustCompile(t, e, v), uint32(i))
	}
	x := b.Build()
	dst := make([]uint32, 0, 16)
	addrs := []netip.Addr{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")}
	n := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			dst = x.Lookup(a, dst[:0])
		}
	})
	if n != 0 {
		t.Errorf("Lookup allocates %v times per run", n)
	}
}
