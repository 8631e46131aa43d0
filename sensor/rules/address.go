package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AddrKind says which field of an Address is meaningful.
type AddrKind uint8

// Address node kinds.
const (
	AddrAny    AddrKind = iota + 1 // any
	AddrPrefix                     // Prefix: a host (full-length prefix) or a CIDR
	AddrRange                      // From-To, inclusive
	AddrVar                        // $Var
	AddrList                       // [List...]
)

// Address is an address expression of a rule header or an address group:
// "any", an IPv4/IPv6 address, CIDR or range, a $VAR, or a bracketed list,
// each optionally negated with '!'. Variables are kept as written; Resolve
// checks them against a Vars.
type Address struct {
	Negated bool
	Kind    AddrKind
	Prefix  netip.Prefix
	From    netip.Addr
	To      netip.Addr
	Var     string
	List    []Address
}

// PortKind says which field of a Port is meaningful.
type PortKind uint8

// Port node kinds.
const (
	PortAny   PortKind = iota + 1 // any
	PortRange                     // Low..High inclusive; a single port has Low == High
	PortVar                       // $Var
	PortList                      // [List...]
)

// Port is a port expression: "any", N, A:B, A: (to 65535), :B (from 0), a
// $VAR or a bracketed list, each optionally negated with '!'.
type Port struct {
	Negated   bool
	Kind      PortKind
	Low, High uint16
	Var       string
	List      []Port
}

// maxExprDepth bounds list nesting and variable expansion.
const maxExprDepth = 16

// ParseAddress parses an address expression.
func ParseAddress(s string) (Address, error) {
	p := exprParser{s: s}
	a, err := p.addr(0)
	if err != nil {
		return Address{}, err
	}
	if p.i != len(p.s) {
		return Address{}, fmt.Errorf("address %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return a, nil
}

// ParsePort parses a port expression.
func ParsePort(s string) (Port, error) {
	p := exprParser{s: s}
	a, err := p.port(0)
	if err != nil {
		return Port{}, err
	}
	if p.i != len(p.s) {
		return Port{}, fmt.Errorf("port %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return a, nil
}

type exprParser struct {
	s string
	i int
}

func (p *exprParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// atom returns the next run of characters up to a list delimiter.
func (p *exprParser) atom() string {
	j := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",[]! \t", rune(p.s[p.i])) {
		p.i++
	}
	return p.s[j:p.i]
}

// negation consumes a leading '!' (and the blanks around it).
func (p *exprParser) negation() bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == '!' {
		p.i++
		p.skip()
		return true
	}
	return false
}

// exprList parses "[e, e, ...]" when the input is at '[' — the list grammar
// addresses and ports share — reading each element with elem. ok is false
// when there is no list here.
func exprList[T any](p *exprParser, what string, depth int, elem func(*exprParser, int) (T, error)) (list []T, ok bool, err error) {
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, false, nil
	}
	p.i++
	for {
		e, err := elem(p, depth+1)
		if err != nil {
			return nil, true, err
		}
		list = append(list, e)
		p.skip()
		if p.i >= len(p.s) {
			return nil, true, fmt.Errorf("%s %q: missing ']'", what, p.s)
		}
		if p.s[p.i] == ']' {
			p.i++
			return list, true, nil
		}
		if p.s[p.i] != ',' {
			return nil, true, fmt.Errorf("%s %q: unexpected %q in list", what, p.s, p.s[p.i])
		}
		p.i++
	}
}

func (p *exprParser) addr(depth int) (Address, error) {
	if depth > maxExprDepth {
		return Address{}, errors.New("address nested too deeply")
	}
	a := Address{Negated: p.negation()}
	if list, ok, err := exprList(p, "address", depth, (*exprParser).addr); err != nil {
		return Address{}, err
	} else if ok {
		a.Kind, a.List = AddrList, list
		return a, nil
	}
	t := p.atom()
	switch {
	case t == "":
		return Address{}, fmt.Errorf("address %q: empty element", p.s)
	case t == "any":
		if a.Negated {
			return Address{}, fmt.Errorf("address %q: !any matches nothing", p.s)
		}
		a.Kind = AddrAny
	case t[0] == '$':
		if !validVarName(t[1:]) {
			return Address{}, fmt.Errorf("address %q: bad variable name %q", p.s, t)
		}
		a.Kind, a.Var = AddrVar, t[1:]
	case strings.Contains(t, "/"):
		pfx, err := parsePrefix(t)
		if err != nil {
			return Address{}, fmt.Errorf("address %q: %v", p.s, err)
		}
		a.Kind, a.Prefix = AddrPrefix, pfx
	case strings.Contains(t, "-"):
		from, to, _ := strings.Cut(t, "-")
		f, err1 := netip.ParseAddr(from)
		l, err2 := netip.ParseAddr(to)
		if err1 != nil || err2 != nil || f.Is4() != l.Is4() || l.Less(f) {
			return Address{}, fmt.Errorf("address %q: bad range %q", p.s, t)
		}
		a.Kind, a.From, a.To = AddrRange, f, l
	default:
		ip, err := netip.ParseAddr(t)
		if err != nil || ip.Zone() != "" {
			return Address{}, fmt.Errorf("address %q: bad address %q", p.s, t)
		}
		a.Kind, a.Prefix = AddrPrefix, netip.PrefixFrom(ip, ip.BitLen())
	}
	return a, nil
}

// parsePrefix accepts a.b.c.d/len, v6/len and the netmask form a.b.c.d/m.m.m.m.
func parsePrefix(t string) (netip.Prefix, error) {
	ip, bits, _ := strings.Cut(t, "/")
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad address %q", t)
	}
	if n, err := strconv.Atoi(bits); err == nil {
		if n < 0 || n > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("bad prefix length in %q", t)
		}
		return netip.PrefixFrom(a, n), nil
	}
	m, err := netip.ParseAddr(bits)
	if err != nil || !m.Is4() || !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("bad netmask in %q", t)
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return netip.Prefix{}, fmt.Errorf("non-contiguous netmask in %q", t)
	}
	return netip.PrefixFrom(a, n), nil
}

func (p *exprParser) port(depth int) (Port, error) {
	if depth > maxExprDepth {
		return Port{}, errors.New("port nested too deeply")
	}
	a := Port{Negated: p.negation()}
	if list, ok, err := exprList(p, "port", depth, (*exprParser).port); err != nil {
		return Port{}, err
	} else if ok {
		a.Kind, a.List = PortList, list
		return a, nil
	}
	t := p.atom()
	switch {
	case t == "":
		return Port{}, fmt.Errorf("port %q: empty element", p.s)
	case t == "any":
		if a.Negated {
			return Port{}, fmt.Errorf("port %q: !any matches nothing", p.s)
		}
		a.Kind = PortAny
	case t[0] == '$':
		if !validVarName(t[1:]) {
			return Port{}, fmt.Errorf("port %q: bad variable name %q", p.s, t)
		}
		a.Kind, a.Var = PortVar, t[1:]
	default:
		lo, hi, isRange := strings.Cut(t, ":")
		a.Kind, a.Low, a.High = PortRange, 0, 65535
		if lo != "" || !isRange {
			n, err := strconv.ParseUint(lo, 10, 16)
			if err != nil {
				return Port{}, fmt.Errorf("port %q: bad port %q", p.s, lo)
			}
			a.Low = uint16(n)
			if !isRange {
				a.High = a.Low
			}
		}
		if hi != "" {
			n, err := strconv.ParseUint(hi, 10, 16)
			if err != nil {
				return Port{}, fmt.Errorf("port %q: bad port %q", p.s, hi)
			}
			a.High = uint16(n)
		}
		if isRange && lo == "" && hi == "" || a.High < a.Low {
			return Port{}, fmt.Errorf("port %q: bad range %q", p.s, t)
		}
	}
	return a, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// String prints a in rule syntax; ParseAddress(a.String()) equals a.
func (a Address) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

func (a Address) write(b *strings.Builder) {
	if a.Negated {
		b.WriteByte('!')
	}
	switch a.Kind {
	case AddrAny:
		b.WriteString("any")
	case AddrPrefix:
		if a.Prefix.Bits() == a.Prefix.Addr().BitLen() {
			b.WriteString(a.Prefix.Addr().String())
		} else {
			b.WriteString(a.Prefix.String())
		}
	case AddrRange:
		b.WriteString(a.From.String() + "-" + a.To.String())
	case AddrVar:
		b.WriteString("$" + a.Var)
	case AddrList:
		b.WriteByte('[')
		for i, e := range a.List {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	}
}

// String prints p in rule syntax; ParsePort(p.String()) equals p.
func (p Port) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p Port) write(b *strings.Builder) {
	if p.Negated {
		b.WriteByte('!')
	}
	switch p.Kind {
	case PortAny:
		b.WriteString("any")
	case PortRange:
		switch {
		case p.Low == p.High:
			b.WriteString(strconv.Itoa(int(p.Low)))
		case p.High == 65535:
			b.WriteString(strconv.Itoa(int(p.Low)) + ":")
		default:
			b.WriteString(strconv.Itoa(int(p.Low)) + ":" + strconv.Itoa(int(p.High)))
		}
	case PortVar:
		b.WriteString("$" + p.Var)
	case PortList:
		b.WriteByte('[')
		for i, e := range p.List {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	}
}

// Vars holds the address and port groups a rule's $VARs refer to, as in
// suricata.yaml's vars section: name without '$' → expression text. It has
// the shape of sensor/config's Vars; the pipeline converts.
type Vars struct {
	AddressGroups map[string]string
	PortGroups    map[string]string
}

// DefaultVars returns the address and port groups of Suricata's default
// suricata.yaml, for checking rules without a sensor config.
func DefaultVars() Vars {
	home := "$HOME_NET"
	return Vars{
		AddressGroups: map[string]string{
			"HOME_NET": "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", "EXTERNAL_NET": "!$HOME_NET",
			"HTTP_SERVERS": home, "SMTP_SERVERS": home, "SQL_SERVERS": home, "DNS_SERVERS": home,
			"TELNET_SERVERS": home, "AIM_SERVERS": "$EXTERNAL_NET", "DC_SERVERS": home,
			"DNP3_SERVER": home, "DNP3_CLIENT": home, "MODBUS_CLIENT": home, "MODBUS_SERVER": home,
			"ENIP_CLIENT": home, "ENIP_SERVER": home,
		},
		PortGroups: map[string]string{
			"HTTP_PORTS": "80", "SHELLCODE_PORTS": "!80", "ORACLE_PORTS": "1521", "SSH_PORTS": "22",
			"DNP3_PORTS": "20000", "MODBUS_PORTS": "502", "FILE_DATA_PORTS": "[$HTTP_PORTS,110,143]",
			"FTP_PORTS": "21", "GENEVE_PORTS": "6081", "VXLAN_PORTS": "4789", "TEREDO_PORTS": "3544",
		},
	}
}

// CheckAddress reports the first variable of a that is undefined in v,
// whose definition does not parse, or that refers to itself.
func (v Vars) CheckAddress(a Address) error { return v.checker().addr(a) }

// CheckPort is CheckAddress for port expressions.
func (v Vars) CheckPort(p Port) error { return v.checker().port(p) }

func (v Vars) checker() *varChecker {
	return &varChecker{v: v, addrs: map[string]int{}, ports: map[string]int{}}
}

// varChecker resolves variables once each: state 1 while expanding (a
// second visit is a cycle), 2 when done, so shared sub-definitions cost
// linear, not exponential, time.
type varChecker struct {
	v            Vars
	addrs, ports map[string]int
}

func (c *varChecker) addr(a Address) error {
	switch a.Kind {
	case AddrList:
		for _, e := range a.List {
			if err := c.addr(e); err != nil {
				return err
			}
		}
	case AddrVar:
		switch c.addrs[a.Var] {
		case 1:
			return fmt.Errorf("address variable $%s refers to itself", a.Var)
		case 2:
			return nil
		}
		def, ok := c.v.AddressGroups[a.Var]
		if !ok {
			if _, isPort := c.v.PortGroups[a.Var]; isPort {
				return fmt.Errorf("$%s is a port group, used as an address", a.Var)
			}
			return fmt.Errorf("undefined address variable $%s (add it to vars.address-groups)", a.Var)
		}
		e, err := ParseAddress(def)
		if err != nil {
			return fmt.Errorf("address variable $%s: %v", a.Var, err)
		}
		c.addrs[a.Var] = 1
		if err := c.addr(e); err != nil {
			delete(c.addrs, a.Var) // not good: check again, with the same error
			return err
		}
		c.addrs[a.Var] = 2
	}
	return nil
}

func (c *varChecker) port(p Port) error {
	switch p.Kind {
	case PortList:
		for _, e := range p.List {
			if err := c.port(e); err != nil {
				return err
			}
		}
	case PortVar:
		switch c.ports[p.Var] {
		case 1:
			return fmt.Errorf("port variable $%s refers to itself", p.Var)
		case 2:
			return nil
		}
		def, ok := c.v.PortGroups[p.Var]
		if !ok {
			if _, isAddr := c.v.AddressGroups[p.Var]; isAddr {
				return fmt.Errorf("$%s is an address group, used as a port", p.Var)
			}
			return fmt.Errorf("undefined port variable $%s (add it to vars.port-groups)", p.Var)
		}
		e, err := ParsePort(def)
		if err != nil {
			return fmt.Errorf("port variable $%s: %v", p.Var, err)
		}
		c.ports[p.Var] = 1
		if err := c.port(e); err != nil {
			delete(c.ports, p.Var)
			return err
		}
		c.ports[p.Var] = 2
	}
	return nil
}
