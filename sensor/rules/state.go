package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func decodeFlow(p *ruleParser, v string) error {
	if p.r.Flow != nil {
		return errors.New("flow given twice")
	}
	if err := needValue(v); err != nil {
		return err
	}
	f := &Flow{}
	for _, s := range fields(v) {
		switch s {
		case "established":
			f.Established = true
		case "not_established":
			f.NotEstablished = true
		case "stateless":
			f.Stateless = true
		case "to_server", "from_client":
			f.ToServer = true
		case "to_client", "from_server":
			f.ToClient = true
		case "only_stream":
			f.OnlyStream = true
		case "no_stream":
			f.NoStream = true
		case "only_frag":
			f.OnlyFrag = true
		case "no_frag":
			f.NoFrag = true
		default:
			return fmt.Errorf("unknown flow option %q", s)
		}
	}
	switch {
	case f.ToServer && f.ToClient:
		return errors.New("to_server and to_client together")
	case f.Established && (f.NotEstablished || f.Stateless):
		return errors.New("established with not_established or stateless")
	case f.OnlyStream && f.NoStream:
		return errors.New("only_stream and no_stream together")
	case f.OnlyFrag && f.NoFrag:
		return errors.New("only_frag and no_frag together")
	}
	p.r.Flow = f
	return nil
}

func decodeBits(p *ruleParser, v string) error {
	kind := p.opt.Name
	f := fields(v)
	b := &Bits{Pos: p.opt.Pos, Kind: kind, Cmd: f[0]}
	switch b.Cmd {
	case "noalert":
		if len(f) > 1 || kind != "flowbits" {
			return fmt.Errorf("%s:noalert takes no name", kind)
		}
		p.r.Bits = append(p.r.Bits, b)
		p.r.Noalert = true
		return nil
	case "set", "unset", "isset", "isnotset", "toggle":
	case "":
		return errors.New("missing value")
	default:
		return fmt.Errorf("unknown command %q: want set, unset, isset, isnotset, toggle or noalert", b.Cmd)
	}
	if len(f) < 2 || f[1] == "" {
		return fmt.Errorf("%s:%s needs a name", kind, b.Cmd)
	}
	names := f[1]
	sep := "&"
	if strings.Contains(names, "|") {
		if b.Cmd != "isset" && b.Cmd != "isnotset" {
			return fmt.Errorf("'|' is only allowed with isset and isnotset")
		}
		b.Or, sep = true, "|"
	}
	for _, n := range strings.Split(names, sep) {
		n = strings.TrimSpace(n)
		if n == "" || strings.ContainsAny(n, " \t|&") {
			return fmt.Errorf("bad name %q", n)
		}
		b.Names = append(b.Names, n)
	}
	for _, s := range f[2:] {
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		switch {
		case kind == "flowbits":
			return fmt.Errorf("unexpected %q after the name", s)
		case k == "track":
			switch arg {
			case "ip_src", "ip_dst", "ip_pair":
				b.Track = arg
			default:
				return fmt.Errorf("bad track %q: want ip_src, ip_dst or ip_pair", arg)
			}
		case k == "expire":
			n, err := strconv.Atoi(arg)
			if err != nil || n <= 0 {
				return fmt.Errorf("bad expire %q", arg)
			}
			b.Expire = n
		case kind == "hostbits" && (k == "src" || k == "dst" || k == "both" || k == "to_src" || k == "to_dst"):
			b.Track = k
		default:
			return fmt.Errorf("unknown option %q", s)
		}
	}
	if kind == "xbits" && b.Track == "" {
		return errors.New("xbits needs track ip_src, ip_dst or ip_pair")
	}
	p.r.Bits = append(p.r.Bits, b)
	return nil
}

func decodeFlowint(p *ruleParser, v string) error {
	f := fields(v)
	if len(f) < 2 || f[0] == "" {
		return fmt.Errorf("want name,operator[,value], got %q", v)
	}
	m := &Flowint{Pos: p.opt.Pos, Name: f[0], Cmd: f[1]}
	switch m.Cmd {
	case "isset", "notset", "isnotset":
		if len(f) != 2 {
			return fmt.Errorf("%s takes no value", m.Cmd)
		}
	case "=", "+", "-", "==", "!=", "<", "<=", ">", ">=":
		if len(f) != 3 || f[2] == "" {
			return fmt.Errorf("%s needs a value", m.Cmd)
		}
		m.Value = f[2]
	default:
		return fmt.Errorf("bad operator %q", m.Cmd)
	}
	p.r.Flowints = append(p.r.Flowints, m)
	return nil
}

var tracks = map[string]bool{"by_src": true, "by_dst": true, "by_rule": true, "by_both": true, "by_flow": true}

// ParseThreshold parses the value of a threshold (filter false) or
// detection_filter (filter true) option.
func ParseThreshold(v string, filter bool) (*Threshold, error) {
	t := &Threshold{}
	seen := map[string]bool{}
	for _, s := range fields(v) {
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		if seen[k] {
			return nil, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "type":
			if filter {
				return nil, errors.New("detection_filter takes no type")
			}
			switch arg {
			case "limit", "threshold", "both", "backoff":
				t.Type = arg
			default:
				return nil, fmt.Errorf("bad type %q: want limit, threshold, both or backoff", arg)
			}
		case "track":
			if !tracks[arg] {
				return nil, fmt.Errorf("bad track %q: want by_src, by_dst, by_rule, by_both or by_flow", arg)
			}
			t.Track = arg
		case "count":
			t.Count, err = strconv.Atoi(arg)
			if err == nil && t.Count < 1 {
				err = errors.New("")
			}
		case "seconds":
			t.Seconds, err = strconv.Atoi(arg)
			if err == nil && t.Seconds < 1 {
				err = errors.New("")
			}
		case "multiplier":
			t.Multiplier, err = strconv.Atoi(arg)
			if err == nil && t.Multiplier < 2 {
				err = errors.New("")
			}
		default:
			return nil, fmt.Errorf("unknown option %q", s)
		}
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: want a positive integer", k, arg)
		}
	}
	need := []string{"track", "count", "seconds"}
	if !filter {
		need = append(need, "type")
	}
	if t.Type == "backoff" {
		need = []string{"type", "track", "count", "multiplier"}
	}
	for _, k := range need {
		if !seen[k] {
			return nil, fmt.Errorf("missing %s", k)
		}
	}
	return t, nil
}

func decodeThreshold(p *ruleParser, v string) error {
	filter := p.opt.Name == "detection_filter"
	t, err := ParseThreshold(v, filter)
	if err != nil {
		return err
	}
	t.Pos = p.opt.Pos
	dst := &p.r.Threshold
	if filter {
		dst = &p.r.DetectionFilter
	}
	if *dst != nil {
		return fmt.Errorf("%s given twice", p.opt.Name)
	}
	*dst = t
	return nil
}

func decodeNoalert(p *ruleParser, v string) error {
	p.r.Noalert = true
	return noValue(v)
}

func decodeBypass(p *ruleParser, v string) error {
	p.r.Bypass = true
	return noValue(v)
}

func decodeTag(p *ruleParser, v string) error {
	f := fields(v)
	t := &Tag{Pos: p.opt.Pos, Type: f[0]}
	if t.Type != "session" && t.Type != "host" {
		return fmt.Errorf("bad type %q: want session or host", t.Type)
	}
	if len(f) > 4 || len(f) == 2 {
		return fmt.Errorf("want type[,count,metric[,direction]], got %q", v)
	}
	if len(f) >= 3 {
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 {
			return fmt.Errorf("bad count %q", f[1])
		}
		t.Count = n
		switch f[2] {
		case "packets", "seconds", "bytes":
			t.Metric = f[2]
		default:
			return fmt.Errorf("bad metric %q: want packets, seconds or bytes", f[2])
		}
	}
	if len(f) == 4 {
		if t.Type != "host" || f[3] != "src" && f[3] != "dst" {
			return fmt.Errorf("bad direction %q: want src or dst, for host tags only", f[3])
		}
		t.Direction = f[3]
	}
	if p.r.Tag != nil {
		return errors.New("tag given twice")
	}
	p.r.Tag = t
	return nil
}
