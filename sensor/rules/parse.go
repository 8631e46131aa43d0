package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a problem with one rule or config line. Line and Col are 1-based;
// SID is 0 when the rule's sid is unknown and Keyword "" when the problem
// is not with one option.
type Error struct {
	File    string
	Line    int
	Col     int
	SID     uint32
	Keyword string
	Msg     string
	// Text is the refused rule as written (continuation lines joined), for
	// logs that quote it as Suricata's "error parsing signature" does; ""
	// for config lines, unreadable files and refusals made after loading.
	Text string
}

// Error formats e as "file:line:col: sid N: keyword: msg", leaving out
// parts that are unknown, like go/scanner. Text is not part of it.
func (e *Error) Error() string {
	return positioned(e.File, e.Line, e.Col, e.SID, e.Keyword, e.Msg)
}

// positioned formats "file:line:col: sid N: keyword: msg", leaving out the
// parts that are zero.
func positioned(file string, line, col int, sid uint32, keyword, msg string) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		b.WriteByte(':')
	}
	if line > 0 {
		b.WriteString(strconv.Itoa(line))
		if col > 0 {
			b.WriteString(":" + strconv.Itoa(col))
		}
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if sid != 0 {
		fmt.Fprintf(&b, "sid %d: ", sid)
	}
	if keyword != "" {
		b.WriteString(keyword + ": ")
	}
	b.WriteString(msg)
	return b.String()
}

// ErrorList is every Error found while loading; the rules without errors
// are kept.
type ErrorList []*Error

// Error reports the first error and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Parse parses the text of one rule (no continuation lines, no comment).
// The error, if any, is an *Error with Line and Col relative to text.
// Variables are not checked; see LoadFile and Vars.CheckAddress.
func Parse(text string) (*Rule, error) {
	r, err := parseRule(text, lineMap{{0, 1, 1}})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// seg maps the logical rule text from off onwards to a physical position.
type seg struct{ off, line, col int }

// lineMap maps offsets in a logical rule (continuation lines joined) back
// to physical positions; segments are in offset order.
type lineMap []seg

func (m lineMap) pos(off int) Pos {
	s := m[0]
	for _, t := range m[1:] {
		if t.off > off {
			break
		}
		s = t
	}
	return Pos{Line: s.line, Col: s.col + off - s.off}
}

// maxRuleLen bounds the text of one rule, as Suricata bounds its line
// buffer; longer input is refused without being parsed.
const maxRuleLen = 1 << 20

type ruleParser struct {
	text string
	lm   lineMap
	r    *Rule

	cur         *Buffer // selected sticky buffer, nil before any
	implicit    *Buffer
	lastContent *Content
	lastBuf     *Buffer // buffer of the last payload match
	lastMatch   Match
	byteVars    map[string]bool
	opt         *Option
}

func (p *ruleParser) errAt(off int, kw, format string, a ...any) *Error {
	pos := p.lm.pos(off)
	var sid uint32
	if p.r != nil {
		sid = p.r.SID
	}
	return &Error{Line: pos.Line, Col: pos.Col, SID: sid, Keyword: kw, Msg: fmt.Sprintf(format, a...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func parseRule(text string, lm lineMap) (*Rule, *Error) {
	p := &ruleParser{text: text, lm: lm, r: &Rule{GID: 1}}
	if len(text) > maxRuleLen {
		return nil, p.errAt(0, "", "rule longer than %d bytes", maxRuleLen)
	}
	start := 0
	for start < len(text) && isSpace(text[start]) {
		start++
	}
	p.r.Pos = lm.pos(start)
	open := strings.IndexByte(text, '(')
	if open < 0 {
		return nil, p.errAt(start, "", "no options: want \"(msg:...; sid:...;)\" after the header")
	}
	end := len(text)
	for end > 0 && isSpace(text[end-1]) {
		end--
	}
	if end <= open+1 || text[end-1] != ')' {
		return nil, p.errAt(end, "", "rule does not end with ')'")
	}
	// Scan options first so that header errors can name the sid.
	if err := p.scanOptions(open+1, end-1); err != nil {
		p.findSID()
		err.SID = p.r.SID
		return nil, err
	}
	p.findSID()
	if err := p.header(start, open); err != nil {
		return nil, err
	}
	if err := p.decodeOptions(); err != nil {
		return nil, err
	}
	if err := p.finish(end - 1); err != nil {
		return nil, err
	}
	return p.r, nil
}

// findSID sets r.SID from the sid option if it parses, for error messages.
func (p *ruleParser) findSID() {
	for _, o := range p.r.Options {
		if o.Name == "sid" {
			if n, err := strconv.ParseUint(o.Value, 10, 32); err == nil {
				p.r.SID = uint32(n)
			}
		}
	}
}

// header parses "action proto src sport dir dst dport" in text[start:end].
func (p *ruleParser) header(start, end int) *Error {
	type tok struct {
		s   string
		off int
	}
	var arr [8]tok
	toks := arr[:0]
	i := start
	for i < end {
		for i < end && isSpace(p.text[i]) {
			i++
		}
		if i >= end {
			break
		}
		j, depth := i, 0
		for j < end && (depth > 0 || !isSpace(p.text[j])) {
			switch p.text[j] {
			case '[':
				depth++
			case ']':
				depth--
			}
			j++
		}
		if len(toks) == len(arr) {
			return p.errAt(i, "", "header has more than 7 fields: action protocol src_addr src_port direction dst_addr dst_port")
		}
		toks = append(toks, tok{p.text[i:j], i})
		i = j
	}
	if len(toks) == 0 {
		return p.errAt(start, "", "missing rule header")
	}
	act, ok := parseAction(toks[0].s)
	if !ok {
		return p.errAt(toks[0].off, "", "unknown action %q", toks[0].s)
	}
	p.r.Action = act
	if act == ActionConfig && len(toks) == 1 {
		// Suricata 8 "config" rules may omit the rest of the header.
		p.r.Protocol = ""
		return nil
	}
	if len(toks) != 7 {
		return p.errAt(start, "", "header has %d fields, want 7: action protocol src_addr src_port direction dst_addr dst_port", len(toks))
	}
	proto := strings.ToLower(toks[1].s)
	if !protocols[proto] {
		return p.errAt(toks[1].off, "", "unknown protocol %q", toks[1].s)
	}
	p.r.Protocol = proto
	for i, t := range []tok{toks[2], toks[3], toks[5], toks[6]} {
		p.r.hdrPos[i] = p.lm.pos(t.off)
	}
	var err error
	if p.r.Src, err = ParseAddress(toks[2].s); err != nil {
		return p.errAt(toks[2].off, "", "source %v", err)
	}
	if p.r.SrcPort, err = ParsePort(toks[3].s); err != nil {
		return p.errAt(toks[3].off, "", "source %v", err)
	}
	switch toks[4].s {
	case "->":
		p.r.Dir = DirForward
	case "<>":
		p.r.Dir = DirBoth
	case "=>":
		p.r.Dir = DirTransaction
	default:
		return p.errAt(toks[4].off, "", "bad direction %q: want ->, <> or =>", toks[4].s)
	}
	if p.r.Dst, err = ParseAddress(toks[5].s); err != nil {
		return p.errAt(toks[5].off, "", "destination %v", err)
	}
	if p.r.DstPort, err = ParsePort(toks[6].s); err != nil {
		return p.errAt(toks[6].off, "", "destination %v", err)
	}
	return nil
}

func parseAction(s string) (Action, bool) {
	for i, n := range actionNames {
		if i > 0 && n == s {
			return Action(i), true
		}
	}
	return 0, false
}

// protocols are the rule header protocols Suricata 7/8 accept.
var protocols = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`ip ipv4 ip4 ipv6 ip6 tcp udp icmp icmpv4 icmpv6 sctp pkthdr
		tcp-pkt tcp-stream udp-pkt any http http1 http2 ftp ftp-data smtp tls ssl ssh imap pop3 dns
		dcerpc smb nfs ntp tftp ike ikev2 krb5 dhcp snmp sip rfb mqtt pgsql telnet rdp modbus dnp3
		enip quic websocket ldap doh2 bittorrent-dht mdns template failed`) {
		protocols[s] = true
	}
}

// scanOptions splits text[from:to] into options. A value runs to the next
// ';' not escaped by a backslash, as in Suricata's SigParseOptions.
func (p *ruleParser) scanOptions(from, to int) *Error {
	s := p.text
	i := from
	p.r.Options = make([]Option, 0, strings.Count(s[from:to], ";"))
	for {
		for i < to && isSpace(s[i]) {
			i++
		}
		if i >= to {
			return nil
		}
		nameOff := i
		for i < to && s[i] != ':' && s[i] != ';' && !isSpace(s[i]) {
			i++
		}
		name := s[nameOff:i]
		for i < to && isSpace(s[i]) {
			i++
		}
		if name == "" {
			return p.errAt(nameOff, "", "empty option name")
		}
		if !validKeywordName(name) {
			return p.errAt(nameOff, name, "bad option name")
		}
		o := Option{Name: name, Pos: p.lm.pos(nameOff)}
		if i >= to {
			return p.errAt(nameOff, name, "option not terminated by ';'")
		}
		if s[i] == ':' {
			i++
			v := i
			for i < to && s[i] != ';' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= to {
				o.Value = trimValue(s[v:to]) // for findSID
				p.r.Options = append(p.r.Options, o)
				return p.errAt(nameOff, name, "option not terminated by ';'")
			}
			o.Value = trimValue(s[v:i])
		} else if s[i] != ';' {
			return p.errAt(i, name, "unexpected %q after option name: want ':' or ';'", s[i])
		}
		i++ // ';'
		p.r.Options = append(p.r.Options, o)
	}
}

func validKeywordName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func (p *ruleParser) decodeOptions() *Error {
	for i := range p.r.Options {
		o := &p.r.Options[i]
		p.opt = o
		if err := p.decode(o); err != nil {
			return &Error{Line: o.Pos.Line, Col: o.Pos.Col, SID: p.r.SID, Keyword: o.Name, Msg: err.Error()}
		}
	}
	p.opt = nil
	return nil
}

// finish runs whole-rule checks.
func (p *ruleParser) finish(end int) *Error {
	r := p.r
	hasSID := false
	for _, o := range r.Options {
		hasSID = hasSID || o.Name == "sid"
	}
	if !hasSID {
		if r.Action == ActionConfig {
			return nil
		}
		return p.errAt(end, "sid", "missing sid")
	}
	// Suricata: "Signature combines packet specific matches (like dsize,
	// flags, ttl) with stream / state matching by matching on app layer
	// proto (like using http_* keywords)." dsize is the case it refuses.
	for _, m := range r.Packet {
		if c, ok := m.(*Compare); ok && c.Name == "dsize" {
			for _, b := range r.Buffers {
				if b.Name != "pkt_data" && len(b.Matches) > 0 {
					return &Error{Line: c.Pos.Line, Col: c.Pos.Col, SID: r.SID, Keyword: "dsize",
						Msg: fmt.Sprintf("dsize inspects packets and can't be combined with app-layer buffer %s", b.Name)}
				}
			}
		}
	}
	if err := p.checkAppProto(); err != nil {
		return err
	}
	// Suricata normalises http.host to lower case and refuses patterns
	// that could never match it.
	for _, b := range r.Buffers {
		if b.Name != "http.host" || len(b.Transforms) > 0 {
			continue
		}
		for _, m := range b.Matches {
			if c, ok := m.(*Content); ok && hasUpper(c.Pattern) {
				return &Error{Line: c.Pos.Line, Col: c.Pos.Col, SID: r.SID, Keyword: "content",
					Msg: "upper case in an http.host pattern: the buffer is normalised to lower case, write the pattern in lower case"}
			}
		}
	}
	// Drop buffers left empty by legacy modifiers moving their contents;
	// a sticky buffer with nothing in it is an error in Suricata ("rule
	// setup buffer X but didn't add matches to it").
	out := r.Buffers[:0]
	for _, b := range r.Buffers {
		if len(b.Matches) > 0 {
			out = append(out, b)
		} else if !b.Implicit {
			return &Error{Line: b.Pos.Line, Col: b.Pos.Col, SID: r.SID, Keyword: b.Name,
				Msg: "buffer selected but no match follows it"}
		}
	}
	r.Buffers = out
	return nil
}

// trimValue trims blanks around an option value but keeps a trailing
// blank that a backslash escapes, so that printing "name:value;" gives
// back the same value.
func trimValue(s string) string {
	t := strings.TrimSpace(s)
	if n := len(t); n > 0 && t[n-1] == '\\' && !escapedAt(t, n-1) {
		if start := strings.Index(s, t); start+n < len(s) {
			return s[start : start+n+1]
		}
	}
	return t
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// bufferFamily returns the application protocol family a buffer belongs
// to, "" for buffers usable with several (pkt_data, file.data, base64_data,
// dce_stub_data, ...). ja3/ja4 buffers serve TLS and QUIC.
func bufferFamily(name string) string {
	prefix, _, _ := strings.Cut(name, ".")
	switch prefix {
	case "http", "http2":
		return "http"
	case "dns":
		return "dns"
	case "tls":
		return "tls"
	case "ja3", "ja3s", "ja4":
		return "tls|quic"
	case "ssh", "smtp", "sip", "quic", "krb5", "smb", "ftp", "snmp", "mqtt", "ike", "ldap", "rfb", "websocket", "imap", "pop3":
		return prefix
	case "email":
		return "smtp"
	}
	return ""
}

// headerFamily maps a header protocol to the family bufferFamily uses, ""
// for transport protocols that any buffer may refine.
func headerFamily(proto string) string {
	switch proto {
	case "http", "http1", "http2":
		return "http"
	case "tls", "ssl":
		return "tls"
	case "dns", "ssh", "smtp", "sip", "quic", "krb5", "smb", "ftp", "snmp", "mqtt", "ike", "ldap", "rfb", "websocket", "imap", "pop3":
		return proto
	case "ikev2":
		return "ike"
	}
	return ""
}

// checkAppProto refuses rules whose buffers belong to different
// application protocols, or to another one than the header names
// (Suricata: "rule contains conflicting keywords").
func (p *ruleParser) checkAppProto() *Error {
	have := headerFamily(p.r.Protocol)
	haveWhat := func() string { return "protocol " + p.r.Protocol }
	for _, b := range p.r.Buffers {
		f := bufferFamily(b.Name)
		if f == "" {
			continue
		}
		if have == "" {
			have, haveWhat = f, bufferWhat(b)
			continue
		}
		if !familiesMeet(have, f) {
			return &Error{Line: b.Pos.Line, Col: b.Pos.Col, SID: p.r.SID, Keyword: b.Name,
				Msg: fmt.Sprintf("%s buffer conflicts with %s", strings.ReplaceAll(f, "|", " or "), haveWhat())}
		}
		if f != have && !strings.Contains(f, "|") {
			have, haveWhat = f, bufferWhat(b)
		}
	}
	return nil
}

// familiesMeet reports whether two "a|b" family sets share a member.
func familiesMeet(a, b string) bool {
	for a != "" {
		var x string
		x, a, _ = strings.Cut(a, "|")
		for rest := b; rest != ""; {
			var y string
			y, rest, _ = strings.Cut(rest, "|")
			if x == y {
				return true
			}
		}
	}
	return false
}

func bufferWhat(b *Buffer) func() string { return func() string { return "buffer " + b.Name } }
