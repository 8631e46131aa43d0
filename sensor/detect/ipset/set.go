// Package ipset compiles the address and port expressions of rule headers
// (rules.Address, rules.Port, with their $VARs) into immutable sets that
// answer "is this address (port) in it?" without allocating, and indexes
// many address sets so that the sets holding one address are found in
// O(log n): the engine's IP-only rules (reputation lists) are looked up,
// not tested one by one per packet.
//
// # Semantics
//
// Suricata's, as its rule documentation and detect-engine-address.c
// describe them:
//
//   - "any" is every IPv4 and every IPv6 address. IPv4 and IPv6 are
//     separate spaces: an expression that names only IPv4 addresses never
//     matches an IPv6 one, and the other way round.
//   - A list is the union of its positive elements minus the union of its
//     negated elements. When, in one address family, a list has negated
//     elements but no positive ones, the positive side is that whole family:
//     "[!1.2.3.4]" (and "!1.2.3.4") is every IPv4 address but 1.2.3.4 — and
//     no IPv6 address. So "!$HOME_NET" with an IPv4-only HOME_NET does not
//     match IPv6, exactly as in Suricata.
//   - A negated element (address, range, CIDR, $VAR or nested list) is
//     evaluated as a set first and then removed; nested lists and variables
//     are sets in their own right. (Suricata flattens non-negated nested
//     lists and variables into the enclosing list before subtracting; the
//     two readings differ only for double negations spread over nesting
//     levels, such as "[[10.0.0.0/8,!10.1.1.1],10.1.1.1]", which no rule
//     set we know of writes.)
//   - An IPv4-mapped IPv6 address or prefix of at least /96 written in a
//     rule ("::ffff:10.0.0.0/104") is the IPv4 address (prefix) it maps, and
//     a mapped address looked up is the IPv4 address: both forms of an IPv4
//     address always agree.
//   - Errors, as Suricata refuses these rules: an undefined or cyclic
//     variable; an expression, variable or negated element that matches no
//     address ("[1.2.3.4,!1.2.3.4]", "!$HOME_NET" when HOME_NET is "any",
//     "![1.2.3.4,!1.2.3.4]"); a list
//     whose negations cover a whole address family ("[::1,!0.0.0.0/0]",
//     Suricata's "complete IP space negated").
//
// Ports follow the same list rule over 0..65535: "[1:80,!53]" is 1–52 and
// 54–80, "!80" every port but 80, and a result with no port is an error.
package ipset

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/polder-nsm/polder/sensor/rules"
)

// Set is a compiled address expression: sorted, disjoint, non-adjacent
// IPv4 and IPv6 ranges. It is immutable and safe for concurrent use. The
// zero Set matches no address; CompileAddress never returns one.
type Set struct {
	v4 []span[v4]
	v6 []span[v6]
}

// addrVal is the value of an address sub-expression while compiling.
type addrVal struct {
	v4 []span[v4]
	v6 []span[v6]
}

func (a addrVal) empty() bool { return len(a.v4) == 0 && len(a.v6) == 0 }

// CompileAddress compiles a with the address groups of v. The error names
// the expression and, when the fault is in a variable, the variable.
func CompileAddress(a rules.Address, v rules.Vars) (*Set, error) {
	c := addrCompiler{vars: v.AddressGroups, ports: v.PortGroups}
	val, err := c.node(a)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", a.String(), err)
	}
	if val.empty() {
		return nil, fmt.Errorf("address %q: %w", a.String(), errNoAddress)
	}
	return &Set{v4: val.v4, v6: val.v6}, nil
}

var errNoAddress = errors.New("matches no address (its negations remove everything; Suricata refuses it)")

// addrCompiler evaluates one expression. Variables are evaluated once each
// (memo), so definitions that share sub-definitions cost linear time.
type addrCompiler struct {
	vars, ports map[string]string
	memo        map[string]addrVal
	active      map[string]bool // variables being expanded: a second visit is a cycle
}

// node evaluates a, applying its negation.
func (c *addrCompiler) node(a rules.Address) (addrVal, error) {
	if a.Negated {
		return c.list([]rules.Address{a})
	}
	return c.plain(a)
}

// plain evaluates a as if it were not negated.
func (c *addrCompiler) plain(a rules.Address) (addrVal, error) {
	switch a.Kind {
	case rules.AddrAny:
		return addrVal{full[v4](), full[v6]()}, nil
	case rules.AddrPrefix:
		if !a.Prefix.IsValid() {
			return addrVal{}, fmt.Errorf("bad prefix %v", a.Prefix)
		}
		return prefixVal(a.Prefix), nil
	case rules.AddrRange:
		return rangeVal(a.From, a.To)
	case rules.AddrVar:
		return c.variable(a.Var)
	case rules.AddrList:
		return c.list(a.List)
	}
	return addrVal{}, fmt.Errorf("address node of unknown kind %d", a.Kind)
}

// list evaluates the elements of a list (or a lone negated element, which
// is a list of one): positives minus negatives, per address family, the
// positives being the whole family when only negatives name it.
func (c *addrCompiler) list(elems []rules.Address) (addrVal, error) {
	var pos, neg addrVal
	for _, e := range elems {
		neg1 := e.Negated
		e.Negated = false
		v, err := c.plain(e)
		if err != nil {
			return addrVal{}, err
		}
		if neg1 {
			if v.empty() {
				return addrVal{}, fmt.Errorf("negated %s matches no address, so negating it is meaningless (Suricata refuses it)", e)
			}
			neg.v4, neg.v6 = union(neg.v4, v.v4), union(neg.v6, v.v6)
		} else {
			pos.v4, pos.v6 = union(pos.v4, v.v4), union(pos.v6, v.v6)
		}
	}
	if f4, f6 := isFull(neg.v4), isFull(neg.v6); f4 || f6 {
		fam := "IPv4 and IPv6"
		if !f6 {
			fam = "IPv4"
		} else if !f4 {
			fam = "IPv6"
		}
		return addrVal{}, fmt.Errorf("negations cover the whole %s space (Suricata refuses it: is a negated variable \"any\"?)", fam)
	}
	return addrVal{familyMinus(pos.v4, neg.v4), familyMinus(pos.v6, neg.v6)}, nil
}

// familyMinus is one family of a list: pos minus neg, pos being the whole
// family when it is empty and neg is not.
func familyMinus[T point[T]](pos, neg []span[T]) []span[T] {
	if len(neg) == 0 {
		return pos
	}
	if len(pos) == 0 {
		pos = full[T]()
	}
	return subtract(pos, neg)
}

func (c *addrCompiler) variable(name string) (addrVal, error) {
	if v, ok := c.memo[name]; ok {
		return v, nil
	}
	if c.active[name] {
		return addrVal{}, fmt.Errorf("address variable $%s refers to itself", name)
	}
	def, ok := c.vars[name]
	if !ok {
		if _, isPort := c.ports[name]; isPort {
			return addrVal{}, fmt.Errorf("$%s is a port group, used as an address", name)
		}
		return addrVal{}, fmt.Errorf("undefined address variable $%s (add it to vars.address-groups)", name)
	}
	e, err := rules.ParseAddress(def)
	if err != nil {
		return addrVal{}, fmt.Errorf("address variable $%s: %v", name, err)
	}
	if c.active == nil {
		c.active, c.memo = map[string]bool{}, map[string]addrVal{}
	}
	c.active[name] = true
	v, err := c.node(e)
	delete(c.active, name)
	if err != nil {
		return addrVal{}, fmt.Errorf("in $%s: %w", name, err)
	}
	if v.empty() {
		return addrVal{}, fmt.Errorf("address variable $%s = %q %w", name, def, errNoAddress)
	}
	c.memo[name] = v
	return v, nil
}

// prefixVal is the range of a prefix; an IPv4-mapped prefix of at least
// /96 is the IPv4 prefix it maps.
func prefixVal(p netip.Prefix) addrVal {
	p = p.Masked()
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		a, p = a.Unmap(), netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if a.Is4() {
		lo := to4(a)
		hi := lo | v4(uint64(1)<<(32-p.Bits())-1)
		return addrVal{v4: []span[v4]{{lo, hi}}}
	}
	lo := to6(a)
	hi := lo
	if n := 128 - p.Bits(); n >= 64 {
		hi.lo = ^uint64(0)
		hi.hi |= uint64(1)<<(n-64) - 1
		if n == 128 {
			hi.hi = ^uint64(0)
		}
	} else {
		hi.lo |= uint64(1)<<n - 1
	}
	return addrVal{v6: []span[v6]{{lo, hi}}}
}

func rangeVal(from, to netip.Addr) (addrVal, error) {
	if from.Is4In6() && to.Is4In6() {
		from, to = from.Unmap(), to.Unmap()
	}
	switch {
	case !from.IsValid() || !to.IsValid() || from.Is4() != to.Is4() || to.Less(from):
		return addrVal{}, fmt.Errorf("bad range %v-%v", from, to)
	case from.Is4():
		return addrVal{v4: []span[v4]{{to4(from), to4(to)}}}, nil
	}
	return addrVal{v6: []span[v6]{{to6(from), to6(to)}}}, nil
}

func to4(a netip.Addr) v4 {
	b := a.As4()
	return v4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

func to6(a netip.Addr) v6 {
	b := a.As16()
	var x v6
	for i := 0; i < 8; i++ {
		x.hi = x.hi<<8 | uint64(b[i])
		x.lo = x.lo<<8 | uint64(b[8+i])
	}
	return x
}

func from4(x v4) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

func from6(x v6) netip.Addr {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(x.hi >> (8 * i))
		b[15-i] = byte(x.lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

// Contains reports whether a is in s. An IPv4-mapped IPv6 address is looked
// up as the IPv4 address; the zone is ignored. It does not allocate.
func (s *Set) Contains(a netip.Addr) bool {
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		return contains4(s.v4, to4(a))
	}
	if a.Is6() {
		return contains6(s.v6, to6(a))
	}
	return false
}

// contains4 searches the canonical spans: linearly when few, else binary.
func contains4(s []span[v4], x v4) bool {
	if len(s) <= 8 {
		for _, r := range s {
			if x <= r.hi {
				return x >= r.lo
			}
		}
		return false
	}
	lo, hi := 0, len(s) // find the first span with hi >= x
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].hi < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s) && x >= s[lo].lo
}

func contains6(s []span[v6], x v6) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].hi.less(x) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s) && !x.less(s[lo].lo)
}

// Any reports whether s matches every IPv4 and IPv6 address, as "any".
func (s *Set) Any() bool { return isFull(s.v4) && isFull(s.v6) }

// Coverage is the share of the address space s covers, 0..1: the mean of
// the shares of the IPv4 and of the IPv6 space, so "any" is 1, all of IPv4
// 0.5, and $HOME_NET of suricata.yaml (three private IPv4 blocks) about
// 0.0021. The engine compares it between the two sides of a rule to pick
// the more selective one; it is not a count.
func (s *Set) Coverage() float64 {
	return (coverage4(s.v4) + coverage6(s.v6)) / 2
}

// coverage4 and coverage6 are the shares of each family, 0..1.
func coverage4(s []span[v4]) float64 {
	c := 0.0
	for _, r := range s {
		c += float64(r.hi-r.lo) + 1
	}
	return c / (1 << 32)
}

func coverage6(s []span[v6]) float64 {
	c := 0.0
	for _, r := range s {
		c += size6(r)
	}
	return c / math.Exp2(128)
}

// size6 is the number of addresses in r, as a float.
func size6(r span[v6]) float64 {
	lo, borrow := bits.Sub64(r.hi.lo, r.lo.lo, 0)
	hi, _ := bits.Sub64(r.hi.hi, r.lo.hi, borrow)
	return float64(hi)*math.Exp2(64) + float64(lo) + 1
}

// String prints s in rule syntax with its canonical ranges: "any", or the
// IPv4 then IPv6 ranges, each as a CIDR when it is one and as "from-to"
// otherwise, bracketed when there are several. CompileAddress of the
// parsed String is s again. The zero Set prints as "[]".
func (s *Set) String() string {
	if s.Any() {
		return "any"
	}
	var parts []string
	for _, r := range s.v4 {
		parts = append(parts, rangeString(from4(r.lo), from4(r.hi), 32-bitsSpan4(r)))
	}
	for _, r := range s.v6 {
		parts = append(parts, rangeString(from6(r.lo), from6(r.hi), 128-bitsSpan6(r)))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// rangeString prints lo..hi as a host, a CIDR of length bits, or a range
// (bits < 0).
func rangeString(lo, hi netip.Addr, bits int) string {
	switch {
	case lo == hi:
		return lo.String()
	case bits >= 0 && bits <= lo.BitLen():
		return netip.PrefixFrom(lo, bits).String()
	}
	return lo.String() + "-" + hi.String()
}

// bitsSpan4 is the number of host bits when r is exactly a CIDR, else a
// number that makes rangeString print a range.
func bitsSpan4(r span[v4]) int {
	n := r.hi - r.lo // 2^k - 1 for a CIDR of 32-k bits
	if n&(n+1) != 0 || r.lo&n != 0 {
		return 1000
	}
	return bits.OnesCount32(uint32(n))
}

func bitsSpan6(r span[v6]) int {
	lo, borrow := bits.Sub64(r.hi.lo, r.lo.lo, 0)
	hi, _ := bits.Sub64(r.hi.hi, r.lo.hi, borrow)
	n := v6{hi, lo}
	// n must be 2^k - 1: all ones below some bit, and aligned with r.lo.
	p := n.succ()
	if p.hi&n.hi != 0 || p.lo&n.lo != 0 || r.lo.hi&n.hi != 0 || r.lo.lo&n.lo != 0 {
		return 1000
	}
	return bits.OnesCount64(n.hi) + bits.OnesCount64(n.lo)
}
