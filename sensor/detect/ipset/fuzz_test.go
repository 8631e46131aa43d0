package ipset

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

// The fuzz target checks CompileAddress and CompilePort against reference
// evaluators written the slow, obvious way: membership of one address (or
// one port) decided straight from the AST, with no range arithmetic.

// refAddr decides membership per address. An address expression is
// piecewise constant between the boundaries of its atoms, so whether a
// sub-expression is empty in a family is decided by testing every
// candidate point: each atom's first address, the one after its last, and
// the first address of each family.
type refAddr struct {
	vars   map[string]string
	cands  []netip.Addr
	depth  int
	parsed map[string]rules.Address // variables parsed once, so list slices are stable
	memo   map[refKey]bool          // emptiness of one side of a list in one family
}

type refKey struct {
	list         *rules.Address
	is4, negated bool
}

var errRefBad = errors.New("reference: bad expression")

func newRefAddr(t testing.TB, a rules.Address, vars map[string]string) *refAddr {
	r := &refAddr{vars: vars, cands: []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()},
		parsed: map[string]rules.Address{}, memo: map[refKey]bool{}}
	seen := map[string]bool{}
	var walk func(a rules.Address)
	walk = func(a rules.Address) {
		switch a.Kind {
		case rules.AddrPrefix:
			s := prefixVal(a.Prefix)
			r.addCands(s)
		case rules.AddrRange:
			if s, err := rangeVal(a.From, a.To); err == nil {
				r.addCands(s)
			}
		case rules.AddrVar:
			if seen[a.Var] {
				return
			}
			seen[a.Var] = true
			if e, err := rules.ParseAddress(vars[a.Var]); err == nil {
				walk(e)
			}
		case rules.AddrList:
			for _, e := range a.List {
				walk(e)
			}
		}
	}
	walk(a)
	return r
}

// addCands adds the boundaries of an atom; prefixVal and rangeVal only
// convert one atom's text to numbers, which the reference needs too.
func (r *refAddr) addCands(s addrVal) {
	for _, x := range s.v4 {
		r.cands = append(r.cands, from4(x.lo), from4(x.hi), from4(x.hi.succ()))
	}
	for _, x := range s.v6 {
		r.cands = append(r.cands, from6(x.lo), from6(x.hi), from6(x.hi.succ()))
	}
}

func (r *refAddr) member(a rules.Address, x netip.Addr) bool {
	if a.Negated {
		return r.list([]rules.Address{a}, x, false)
	}
	return r.plain(a, x)
}

func (r *refAddr) plain(a rules.Address, x netip.Addr) bool {
	switch a.Kind {
	case rules.AddrAny:
		return true
	case rules.AddrPrefix:
		p := a.Prefix
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Contains(x)
	case rules.AddrRange:
		from, to := a.From, a.To
		if from.Is4In6() && to.Is4In6() {
			from, to = from.Unmap(), to.Unmap()
		}
		return from.Is4() == x.Is4() && !x.Less(from) && !to.Less(x)
	case rules.AddrVar:
		e, ok := r.parsed[a.Var]
		if !ok {
			var err error
			if e, err = rules.ParseAddress(r.vars[a.Var]); err != nil {
				panic(errRefBad)
			}
			r.parsed[a.Var] = e
		}
		r.depth++
		if r.depth > 50 {
			panic(errRefBad)
		}
		defer func() { r.depth-- }()
		return r.member(e, x)
	case rules.AddrList:
		return r.list(a.List, x, true)
	}
	panic(errRefBad)
}

// list decides membership in a list; stable says elems lives as long as
// r, so that its emptiness may be memoized by address.
func (r *refAddr) list(elems []rules.Address, x netip.Addr, stable bool) bool {
	hit := func(negated bool, y netip.Addr) bool {
		for _, e := range elems {
			if e.Negated == negated {
				e.Negated = false
				if r.plain(e, y) {
					return true
				}
			}
		}
		return false
	}
	nonEmpty := func(negated bool) bool {
		k := refKey{&elems[0], x.Is4(), negated}
		if v, ok := r.memo[k]; ok && stable {
			return v
		}
		v := false
		for _, c := range r.cands {
			if c.Is4() == x.Is4() && hit(negated, c) {
				v = true
				break
			}
		}
		if stable {
			r.memo[k] = v
		}
		return v
	}
	if hit(true, x) {
		return false
	}
	if hit(false, x) {
		return true
	}
	return !nonEmpty(false) && nonEmpty(true)
}

// refPort evaluates a port expression to all 65536 answers at once.
func refPort(p rules.Port, vars map[string]string, depth int) *[65536]bool {
	if depth > 50 {
		panic(errRefBad)
	}
	if p.Negated {
		return refPortList([]rules.Port{p}, vars, depth)
	}
	var out [65536]bool
	switch p.Kind {
	case rules.PortAny:
		for i := range out {
			out[i] = true
		}
	case rules.PortRange:
		for i := int(p.Low); i <= int(p.High); i++ {
			out[i] = true
		}
	case rules.PortVar:
		e, err := rules.ParsePort(vars[p.Var])
		if err != nil {
			panic(errRefBad)
		}
		return refPort(e, vars, depth+1)
	case rules.PortList:
		return refPortList(p.List, vars, depth)
	}
	return &out
}

func refPortList(elems []rules.Port, vars map[string]string, depth int) *[65536]bool {
	var pos, neg [65536]bool
	anyPos, anyNeg := false, false
	for _, e := range elems {
		n := e.Negated
		e.Negated = false
		s := refPort(e, vars, depth+1)
		for i, in := range s {
			if !in {
				continue
			}
			if n {
				neg[i], anyNeg = true, true
			} else {
				pos[i], anyPos = true, true
			}
		}
	}
	var out [65536]bool
	for i := range out {
		out[i] = (pos[i] || !anyPos && anyNeg) && !neg[i]
	}
	return &out
}

func checkAddress(t *testing.T, text string, v rules.Vars) {
	a, err := rules.ParseAddress(text)
	if err != nil {
		return
	}
	s, err := CompileAddress(a, v)
	ref := newRefAddr(t, a, v.AddressGroups)
	probes := append(ref.cands, netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:db8::1"))
	if err != nil {
		if errors.Is(err, errNoAddress) && a.Kind != rules.AddrVar {
			// The whole expression is empty: no probe may be a member.
			func() {
				defer func() {
					if e := recover(); e != nil && e != errRefBad {
						panic(e)
					}
				}()
				for _, x := range probes {
					if ref.member(a, x) {
						t.Fatalf("%q: %v, but the reference has %s in it", text, err, x)
					}
				}
			}()
		}
		return
	}
	for _, x := range probes {
		want := ref.member(a, x.Unmap())
		if got := s.Contains(x); got != want {
			t.Fatalf("%q = %s: Contains(%s) = %v, reference %v", text, s, x, got, want)
		}
		if x.Is4() {
			if got := s.Contains(netip.AddrFrom16(x.As16())); got != want {
				t.Fatalf("%q: Contains(mapped %s) = %v, reference %v", text, x, got, want)
			}
		}
	}
	again, err := rules.ParseAddress(s.String())
	if err != nil {
		t.Fatalf("%q: String %s does not parse: %v", text, s, err)
	}
	s2, err := CompileAddress(again, v)
	if err != nil || s2.String() != s.String() {
		t.Fatalf("%q: String %s recompiles to %v, %v", text, s, s2, err)
	}
}

func checkPort(t *testing.T, text string, v rules.Vars) {
	p, err := rules.ParsePort(text)
	if err != nil {
		return
	}
	s, err := CompilePort(p, v)
	if err != nil {
		if errors.Is(err, errNoPort) && p.Kind != rules.PortVar {
			ref := refPort(p, v.PortGroups, 0)
			for i, in := range ref {
				if in {
					t.Fatalf("%q: %v, but the reference has %d in it", text, err, i)
				}
			}
		}
		return
	}
	ref := refPort(p, v.PortGroups, 0)
	for i, want := range ref {
		if got := s.Contains(uint16(i)); got != want {
			t.Fatalf("%q = %s: Contains(%d) = %v, reference %v", text, s, i, got, want)
		}
	}
	again, err := rules.ParsePort(s.String())
	if err != nil {
		t.Fatalf("%q: String %s does not parse: %v", text, s, err)
	}
	if s2, err := CompilePort(again, v); err != nil || s2.String() != s.String() {
		t.Fatalf("%q: String %s recompiles to %v, %v", text, s, s2, err)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"any", "!1.2.3.4", "[10.0.0.0/8,!10.1.2.3]", "[!1.1.1.1,!2.2.2.2]", "$EXTERNAL_NET", "!$HOME_NET",
		"[$EXTERNAL_NET,!255.255.255.255]", "$NESTED", "$NOT_DUAL", "[10.0.0.0/8,!2001:db8::1]",
		"[1.2.3.4,!1.2.3.4]", "![1.2.3.0/24,![1.2.3.4,1.2.3.5]]", "::ffff:10.0.0.0/104", "1.1.1.1-1.1.1.10",
		"2001:db8::1-2001:db8::ff", "[::1,!0.0.0.0/0]", "$LOOP_A", "$UNDEF",
		"80", "[1:80,!53]", "!$HTTP_PORTS", "[1:80,![2,4]]", "[80,!80]", "$NOT_WEB", "1024:", ":1023",
	} {
		f.Add(s)
	}
	v := testVars()
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 300 {
			return // bound the reference's cost
		}
		checkAddress(t, text, v)
		checkPort(t, text, v)
	})
}

// TestRandomExpressions runs the fuzz checks over generated expressions,
// which reach deeper combinations than mutation finds quickly.
func TestRandomExpressions(t *testing.T) {
	r := randSource(3)
	v := testVars()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		checkAddress(t, randomAddrExpr(r, 0), v)
		checkPort(t, randomPortExpr(r, 0), v)
	}
}
