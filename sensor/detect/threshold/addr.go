package threshold

import (
	"fmt"
	"net/netip"

	"github.com/polder-nsm/polder/sensor/rules"
)

// maxVarDepth bounds variable expansion in suppress ip expressions (a cycle
// ends here too).
const maxVarDepth = 16

// addrSet is an address expression with its variables expanded: the ip of a
// suppress entry.
type addrSet struct {
	neg  bool
	any  bool
	pfx  []netip.Prefix // single addresses are full-length prefixes
	rng  [][2]netip.Addr
	list []addrSet
}

// compileAddr expands the variables of a using vars.
func compileAddr(a rules.Address, vars map[string]string, depth int) (addrSet, error) {
	if depth > maxVarDepth {
		return addrSet{}, fmt.Errorf("address variables nested deeper than %d (a cycle?)", maxVarDepth)
	}
	s := addrSet{neg: a.Negated}
	switch a.Kind {
	case rules.AddrAny:
		s.any = true
	case rules.AddrPrefix:
		s.pfx = []netip.Prefix{a.Prefix.Masked()}
	case rules.AddrRange:
		s.rng = [][2]netip.Addr{{a.From, a.To}}
	case rules.AddrVar:
		def, ok := vars[a.Var]
		if !ok {
			return addrSet{}, fmt.Errorf("undefined address variable $%s (add it to vars.address-groups)", a.Var)
		}
		e, err := rules.ParseAddress(def)
		if err != nil {
			return addrSet{}, fmt.Errorf("address variable $%s: %v", a.Var, err)
		}
		inner, err := compileAddr(e, vars, depth+1)
		if err != nil {
			return addrSet{}, err
		}
		s.list = []addrSet{inner}
	case rules.AddrList:
		for _, e := range a.List {
			c, err := compileAddr(e, vars, depth+1)
			if err != nil {
				return addrSet{}, err
			}
			s.list = append(s.list, c)
		}
	default:
		return addrSet{}, fmt.Errorf("empty address expression")
	}
	return s, nil
}

// contains reports whether ip is in s. A list holds the union of its
// positive elements minus its negated ones; a list of only negated
// elements holds every address but those, as in Suricata's address groups.
func (s *addrSet) contains(ip netip.Addr) bool {
	return s.containsPos(ip) != s.neg
}

// containsPos is contains ignoring s's own negation.
func (s *addrSet) containsPos(ip netip.Addr) bool {
	if s.any {
		return true
	}
	for _, p := range s.pfx {
		if p.Contains(ip) {
			return true
		}
	}
	for _, r := range s.rng {
		if r[0].BitLen() == ip.BitLen() && r[0].Compare(ip) <= 0 && ip.Compare(r[1]) <= 0 {
			return true
		}
	}
	if len(s.list) == 0 {
		return false
	}
	pos, hit := false, false
	for i := range s.list {
		e := &s.list[i]
		if e.neg {
			if e.containsPos(ip) {
				return false
			}
			continue
		}
		pos = true
		if !hit && e.containsPos(ip) {
			hit = true
		}
	}
	return hit || !pos
}
