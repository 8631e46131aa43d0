package ipset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/polder-nsm/polder/sensor/rules"
)

// PortSet is a compiled port expression: sorted, disjoint, non-adjacent
// port ranges. It is immutable and safe for concurrent use. The zero
// PortSet matches no port; CompilePort never returns one.
type PortSet struct {
	spans []span[port]
}

// CompilePort compiles p with the port groups of v: "any" is 0–65535, a
// list is its positive elements (all ports when there are none) minus its
// negated ones, as in Suricata ("[1:80,!53]" is 1–52,54–80). A result with
// no port, an undefined or cyclic variable is an error naming the
// expression and the variable.
func CompilePort(p rules.Port, v rules.Vars) (*PortSet, error) {
	c := portCompiler{vars: v.PortGroups, addrs: v.AddressGroups}
	s, err := c.node(p)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", p.String(), err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("port %q: %w", p.String(), errNoPort)
	}
	return &PortSet{spans: s}, nil
}

var errNoPort = errors.New("matches no port (its negations remove everything; Suricata refuses it)")

type portCompiler struct {
	vars, addrs map[string]string
	memo        map[string][]span[port]
	active      map[string]bool
}

func (c *portCompiler) node(p rules.Port) ([]span[port], error) {
	if p.Negated {
		return c.list([]rules.Port{p})
	}
	return c.plain(p)
}

func (c *portCompiler) plain(p rules.Port) ([]span[port], error) {
	switch p.Kind {
	case rules.PortAny:
		return full[port](), nil
	case rules.PortRange:
		if p.High < p.Low {
			return nil, fmt.Errorf("bad range %d:%d", p.Low, p.High)
		}
		return []span[port]{{port(p.Low), port(p.High)}}, nil
	case rules.PortVar:
		return c.variable(p.Var)
	case rules.PortList:
		return c.list(p.List)
	}
	return nil, fmt.Errorf("port node of unknown kind %d", p.Kind)
}

func (c *portCompiler) list(elems []rules.Port) ([]span[port], error) {
	var pos, neg []span[port]
	for _, e := range elems {
		negated := e.Negated
		e.Negated = false
		s, err := c.plain(e)
		if err != nil {
			return nil, err
		}
		if negated {
			if len(s) == 0 {
				return nil, fmt.Errorf("negated %s matches no port, so negating it is meaningless (Suricata refuses it)", e)
			}
			neg = union(neg, s)
		} else {
			pos = union(pos, s)
		}
	}
	return familyMinus(pos, neg), nil
}

func (c *portCompiler) variable(name string) ([]span[port], error) {
	if s, ok := c.memo[name]; ok {
		return s, nil
	}
	if c.active[name] {
		return nil, fmt.Errorf("port variable $%s refers to itself", name)
	}
	def, ok := c.vars[name]
	if !ok {
		if _, isAddr := c.addrs[name]; isAddr {
			return nil, fmt.Errorf("$%s is an address group, used as a port", name)
		}
		return nil, fmt.Errorf("undefined port variable $%s (add it to vars.port-groups)", name)
	}
	e, err := rules.ParsePort(def)
	if err != nil {
		return nil, fmt.Errorf("port variable $%s: %v", name, err)
	}
	if c.active == nil {
		c.active, c.memo = map[string]bool{}, map[string][]span[port]{}
	}
	c.active[name] = true
	s, err := c.node(e)
	delete(c.active, name)
	if err != nil {
		return nil, fmt.Errorf("in $%s: %w", name, err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("port variable $%s = %q %w", name, def, errNoPort)
	}
	c.memo[name] = s
	return s, nil
}

// Contains reports whether port is in p: O(1) for one range, a short scan
// for a few, O(log n) beyond. It does not allocate.
func (p *PortSet) Contains(pt uint16) bool {
	s, x := p.spans, port(pt)
	if len(s) <= 8 {
		for _, r := range s {
			if x <= r.hi {
				return x >= r.lo
			}
		}
		return false
	}
	lo, hi := 0, len(s)
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

// Hull returns the smallest range lo–hi holding every port of p.
func (p *PortSet) Hull() (lo, hi uint16) {
	if len(p.spans) == 0 {
		return 1, 0
	}
	return uint16(p.spans[0].lo), uint16(p.spans[len(p.spans)-1].hi)
}

// Any reports whether p matches every port 0–65535.
func (p *PortSet) Any() bool { return isFull(p.spans) }

// String prints p in rule syntax with its canonical ranges: "any", "80",
// "1024:", "[1:52,54:80]". CompilePort of the parsed String is p again.
// The zero PortSet prints as "[]".
func (p *PortSet) String() string {
	if p.Any() {
		return "any"
	}
	parts := make([]string, 0, len(p.spans))
	for _, r := range p.spans {
		switch {
		case r.lo == r.hi:
			parts = append(parts, strconv.Itoa(int(r.lo)))
		case r.hi == r.hi.top():
			parts = append(parts, strconv.Itoa(int(r.lo))+":")
		default:
			parts = append(parts, strconv.Itoa(int(r.lo))+":"+strconv.Itoa(int(r.hi)))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ",") + "]"
}
