package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DecodeContent decodes a content value as written in a rule (optionally
// negated, quoted, with |hex| runs and the escapes \; \" \\ \:) into its
// bytes, following Suricata's DetectContentDataParse.
func DecodeContent(v string) (pattern []byte, negated bool, err error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "!") {
		negated = true
		v = strings.TrimSpace(v[1:])
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !escapedAt(v, len(v)-1) {
		v = v[1 : len(v)-1]
	} else if strings.HasPrefix(v, `"`) || strings.HasSuffix(v, `"`) {
		return nil, false, errors.New("unbalanced '\"'")
	}
	if v == "" {
		return nil, false, errors.New("empty content")
	}
	out := make([]byte, 0, len(v))
	hex, escape := false, false
	var hi int = -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escape:
			if c != ';' && c != '"' && c != '\\' && c != ':' {
				return nil, false, fmt.Errorf("bad escape \\%c at offset %d: only \\; \\\" \\\\ \\: are allowed", c, i)
			}
			out = append(out, c)
			escape = false
		case c == '|':
			if hex && hi >= 0 {
				return nil, false, fmt.Errorf("odd number of hex digits before offset %d", i)
			}
			hex = !hex
		case hex:
			if c == ' ' || c == '\t' {
				if hi >= 0 {
					return nil, false, fmt.Errorf("space inside hex byte at offset %d", i)
				}
				continue
			}
			d := unhex(c)
			if d < 0 {
				return nil, false, fmt.Errorf("bad hex digit %q at offset %d", c, i)
			}
			if hi < 0 {
				hi = d
			} else {
				out = append(out, byte(hi<<4|d))
				hi = -1
			}
		case c == '\\':
			escape = true
		case c == '"':
			return nil, false, fmt.Errorf("unescaped '\"' at offset %d", i)
		case c == ';':
			return nil, false, fmt.Errorf("unescaped ';' at offset %d", i)
		default:
			out = append(out, c)
		}
	}
	if hex {
		return nil, false, errors.New("unterminated |hex| run")
	}
	if escape {
		return nil, false, errors.New("trailing '\\'")
	}
	return out, negated, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// EncodeContent is the inverse of DecodeContent: printable bytes are
// written as is (escaping ; " \ :), others as |hex| runs.
func EncodeContent(b []byte, negated bool) string {
	var s strings.Builder
	if negated {
		s.WriteByte('!')
	}
	s.WriteByte('"')
	inHex := false
	for _, c := range b {
		printable := c >= 0x20 && c < 0x7f && c != '|'
		if printable && inHex {
			s.WriteByte('|')
			inHex = false
		}
		switch {
		case printable && (c == ';' || c == '"' || c == '\\' || c == ':'):
			s.WriteByte('\\')
			s.WriteByte(c)
		case printable:
			s.WriteByte(c)
		default:
			if inHex {
				s.WriteByte(' ')
			} else {
				s.WriteByte('|')
				inHex = true
			}
			const digits = "0123456789ABCDEF"
			s.WriteByte(digits[c>>4])
			s.WriteByte(digits[c&15])
		}
	}
	if inHex {
		s.WriteByte('|')
	}
	s.WriteByte('"')
	return s.String()
}

func decodeContent(p *ruleParser, v string) error {
	pat, neg, err := DecodeContent(v)
	if err != nil {
		return err
	}
	c := &Content{Pos: p.opt.Pos, Pattern: pat, Negated: neg}
	p.add(p.target(false), c)
	p.lastContent = c
	return nil
}

// decodeURIContent handles the deprecated uricontent: content + http_uri.
func decodeURIContent(p *ruleParser, v string) error {
	pat, neg, err := DecodeContent(v)
	if err != nil {
		return err
	}
	if p.cur != nil {
		return fmt.Errorf("uricontent with sticky buffer %s selected", p.cur.Name)
	}
	c := &Content{Pos: p.opt.Pos, Pattern: pat, Negated: neg}
	p.add(p.namedBuffer("http.uri"), c)
	p.lastContent = c
	return nil
}

func (p *ruleParser) content() (*Content, error) {
	if p.lastContent == nil {
		return nil, errors.New("no content before this modifier")
	}
	return p.lastContent, nil
}

// num parses an integer or a byte_extract/byte_math variable defined earlier.
func (p *ruleParser) num(v string) (Num, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return Num{Value: n, Set: true}, nil
	}
	if n, err := strconv.ParseInt(v, 0, 64); err == nil {
		return Num{Value: n, Set: true}, nil
	}
	if v == "" || !isIdent(v) {
		return Num{}, fmt.Errorf("want an integer or a byte_extract variable, got %q", v)
	}
	if !p.byteVars[v] {
		return Num{}, fmt.Errorf("unknown variable %q (define it with byte_extract or byte_math first)", v)
	}
	return Num{Var: v, Set: true}, nil
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func modNocase(p *ruleParser, v string) error {
	c, err := p.content()
	if err == nil {
		err = noValue(v)
	}
	if err != nil {
		return err
	}
	if c.Nocase {
		return errors.New("nocase given twice for one content")
	}
	c.Nocase = true
	return nil
}

func modRawbytes(p *ruleParser, v string) error {
	c, err := p.content()
	if err == nil {
		err = noValue(v)
	}
	if err != nil {
		return err
	}
	c.Rawbytes = true
	return nil
}

// errMixedRelative refuses offset/depth and distance/within on one content,
// whichever comes second, in Suricata's words (its detect-distance, -within,
// -offset and -depth setups), which is what users search for.
var errMixedRelative = errors.New("can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content.")

func (p *ruleParser) absolute(v string, set func(*Content, Num) *Num, name string) error {
	c, err := p.content()
	if err != nil {
		return err
	}
	n, err := p.num(v)
	if err != nil {
		return err
	}
	if c.Relative() {
		return errMixedRelative
	}
	if c.Startswith {
		return fmt.Errorf("%s with startswith on one content", name)
	}
	if n.Var == "" && n.Value < 0 {
		return fmt.Errorf("negative %s %d", name, n.Value)
	}
	if f := set(c, n); f.Set {
		return fmt.Errorf("%s given twice for one content", name)
	} else {
		*f = n
	}
	return nil
}

func modOffset(p *ruleParser, v string) error {
	return p.absolute(v, func(c *Content, _ Num) *Num { return &c.Offset }, "offset")
}

func modDepth(p *ruleParser, v string) error {
	if err := p.absolute(v, func(c *Content, _ Num) *Num { return &c.Depth }, "depth"); err != nil {
		return err
	}
	c := p.lastContent
	if c.Depth.Var == "" && c.Depth.Value < int64(len(c.Pattern)) {
		return fmt.Errorf("depth %d is shorter than the content (%d bytes)", c.Depth.Value, len(c.Pattern))
	}
	return nil
}

func (p *ruleParser) relative(v string, field func(*Content) *Num, name string) error {
	c, err := p.content()
	if err != nil {
		return err
	}
	n, err := p.num(v)
	if err != nil {
		return err
	}
	if c.Offset.Set || c.Depth.Set {
		return errMixedRelative
	}
	if c.Startswith {
		return fmt.Errorf("%s with startswith on one content", name)
	}
	f := field(c)
	if f.Set {
		return fmt.Errorf("%s given twice for one content", name)
	}
	*f = n
	return nil
}

func modDistance(p *ruleParser, v string) error {
	return p.relative(v, func(c *Content) *Num { return &c.Distance }, "distance")
}

func modWithin(p *ruleParser, v string) error {
	if err := p.relative(v, func(c *Content) *Num { return &c.Within }, "within"); err != nil {
		return err
	}
	c := p.lastContent
	if c.Within.Var == "" && c.Within.Value < int64(len(c.Pattern)) {
		return fmt.Errorf("within %d is shorter than the content (%d bytes)", c.Within.Value, len(c.Pattern))
	}
	return nil
}

func modStartswith(p *ruleParser, v string) error {
	c, err := p.content()
	if err == nil {
		err = noValue(v)
	}
	if err != nil {
		return err
	}
	if c.Offset.Set || c.Depth.Set || c.Distance.Set || c.Within.Set {
		return errors.New("startswith with offset, depth, distance or within on one content")
	}
	c.Startswith = true
	return nil
}

func modEndswith(p *ruleParser, v string) error {
	c, err := p.content()
	if err == nil {
		err = noValue(v)
	}
	if err != nil {
		return err
	}
	c.Endswith = true
	return nil
}

func modFastPattern(p *ruleParser, v string) error {
	c, err := p.content()
	if err != nil {
		return err
	}
	if c.FastPattern {
		return errors.New("fast_pattern given twice for one content")
	}
	for _, b := range p.r.Buffers {
		for _, m := range b.Matches {
			if o, ok := m.(*Content); ok && o.FastPattern {
				return errors.New("fast_pattern already set on another content: at most one per rule")
			}
		}
	}
	c.FastPattern = true
	switch v = strings.TrimSpace(v); {
	case v == "":
	case v == "only":
		c.FastPatternOnly = true
	default:
		a, b, ok := strings.Cut(v, ",")
		off, err1 := strconv.Atoi(strings.TrimSpace(a))
		n, err2 := strconv.Atoi(strings.TrimSpace(b))
		if !ok || err1 != nil || err2 != nil || off < 0 || n <= 0 || off+n > len(c.Pattern) {
			return fmt.Errorf("want fast_pattern, fast_pattern:only or fast_pattern:offset,length within the content, got %q", v)
		}
		c.FastPatternChop, c.ChopOffset, c.ChopLen = true, off, n
	}
	return nil
}

func modReplace(p *ruleParser, v string) error {
	c, err := p.content()
	if err != nil {
		return err
	}
	b, neg, err := DecodeContent(v)
	if err != nil {
		return err
	}
	if neg || c.Negated {
		return errors.New("replace can't be negated or follow a negated content")
	}
	if len(b) != len(c.Pattern) {
		return fmt.Errorf("replace is %d bytes, the content %d: they must be the same length", len(b), len(c.Pattern))
	}
	c.Replace = b
	return nil
}

func modPrefilter(p *ruleParser, v string) error {
	if err := noValue(v); err != nil {
		return err
	}
	i := len(p.r.Options) - 1
	for i >= 0 && &p.r.Options[i] != p.opt {
		i--
	}
	if i < 1 {
		return errors.New("no keyword before prefilter")
	}
	prev := p.r.Options[i-1].Name
	if c, ok := p.lastMatch.(*Content); ok && c == p.lastContent && (prev == "content" || isContentModifier(prev)) {
		c.FastPattern = true // prefilter on a content is fast_pattern
		return nil
	}
	// Prefilter on another keyword (flowbits, ttl, ...): the engine
	// looks the keyword up by name.
	p.r.Packet = append(p.r.Packet, &Keyword{Pos: p.opt.Pos, Name: "prefilter", Value: prev})
	return nil
}

func isContentModifier(name string) bool {
	switch name {
	case "nocase", "rawbytes", "offset", "depth", "distance", "within", "startswith", "endswith", "fast_pattern", "replace":
		return true
	}
	_, legacy := legacyModifiers[name]
	return legacy
}

// ValidPCREFlags are the letters allowed after a pcre's closing delimiter:
// PCRE compile options (i s m x A E G) and Suricata's own (R relative,
// B rawbytes, O no match limit, and the buffer selectors of pcreBuffers).
const ValidPCREFlags = "ismxAEGRBOUIPQHDMCSYVWZ"

// ParsePCRE parses a pcre value: [!]"/regex/flags". The regex is kept as
// written; only its delimiters and flags are checked. Compiling it is the
// job of a PCRE binding (see LoadOptions.CompilePCRE).
func ParsePCRE(v string) (*PCRE, error) {
	m := &PCRE{}
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "!") {
		m.Negated = true
		v = strings.TrimSpace(v[1:])
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	} else if strings.HasPrefix(v, `"`) || strings.HasSuffix(v, `"`) {
		return nil, errors.New("unbalanced '\"'")
	}
	if !strings.HasPrefix(v, "/") {
		return nil, errors.New("regex must start with '/'")
	}
	end := strings.LastIndexByte(v, '/')
	if end == 0 {
		return nil, errors.New("missing closing '/'")
	}
	m.Pattern, m.Flags = v[1:end], v[end+1:]
	if m.Pattern == "" {
		return nil, errors.New("empty regex")
	}
	if strings.HasSuffix(m.Pattern, `\`) && escapedAt(v, end) {
		return nil, errors.New("closing '/' is escaped")
	}
	for i := 0; i < len(m.Flags); i++ {
		f := m.Flags[i]
		if strings.IndexByte(ValidPCREFlags, f) < 0 {
			return nil, fmt.Errorf("unknown flag %q", f)
		}
		switch f {
		case 'R':
			m.Relative = true
		case 'B':
			m.Rawbytes = true
		case 'O':
			m.NoLimit = true
		case 'i':
			m.Caseless = true
		}
		if b, ok := pcreBuffers[f]; ok {
			if m.Buffer != "" && m.Buffer != b {
				return nil, fmt.Errorf("flags select two buffers, %s and %s", m.Buffer, b)
			}
			m.Buffer = b
		}
	}
	return m, nil
}

func decodePCRE(p *ruleParser, v string) error {
	m, err := ParsePCRE(v)
	if err != nil {
		return err
	}
	m.Pos = p.opt.Pos
	if m.Buffer != "" {
		if p.cur != nil {
			// Q on file.data: for HTTP, file.data is the response body.
			if p.cur.Name != m.Buffer && !(m.Buffer == "http.response_body" && p.cur.Name == "file.data") {
				return fmt.Errorf("buffer flag for %s with sticky buffer %s selected", m.Buffer, p.cur.Name)
			}
			p.add(p.cur, m) // the flag repeats the sticky buffer: harmless
			return nil
		}
		p.add(p.namedBuffer(m.Buffer), m)
		return nil
	}
	p.add(p.target(m.Relative), m)
	return nil
}

// fields splits a comma separated keyword value into trimmed fields.
func fields(v string) []string {
	f := strings.Split(v, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func parseBase(s string) (ByteBase, bool) {
	switch s {
	case "hex":
		return BaseHex, true
	case "dec":
		return BaseDec, true
	case "oct":
		return BaseOct, true
	}
	return 0, false
}

func parseUint64(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("want an unsigned integer, got %q", s)
	}
	return n, nil
}

func parseInt64(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		n, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("want an integer, got %q", s)
	}
	return n, nil
}

// byteOpts decodes the options shared by byte_test, byte_jump and
// byte_extract from f, returning the fields it did not know.
type byteOpts struct {
	relative bool
	endian   Endian
	base     ByteBase
	bitmask  uint64
	rest     []string
}

func parseByteOpts(f []string) (byteOpts, error) {
	var o byteOpts
	for i := 0; i < len(f); i++ {
		s := f[i]
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		switch k {
		case "relative":
			o.relative = true
		case "big", "little", "dce":
			if o.endian != EndianDefault {
				return o, errors.New("endianness given twice")
			}
			o.endian = map[string]Endian{"big": EndianBig, "little": EndianLittle, "dce": EndianDCE}[k]
		case "string":
			o.base = BaseDec
			if arg != "" {
				b, ok := parseBase(arg)
				if !ok {
					return o, fmt.Errorf("bad string base %q", arg)
				}
				o.base = b
			} else if i+1 < len(f) {
				if b, ok := parseBase(f[i+1]); ok {
					o.base = b
					i++
				}
			}
		case "hex", "dec", "oct":
			b, _ := parseBase(k)
			o.base = b
		case "bitmask":
			n, err := parseUint64(arg)
			if err != nil || n == 0 {
				return o, fmt.Errorf("bad bitmask %q", arg)
			}
			o.bitmask = n
		default:
			o.rest = append(o.rest, s)
		}
	}
	return o, nil
}

func (p *ruleParser) nbytes(s string, base ByteBase) (Num, error) {
	n, err := p.num(s)
	if err != nil {
		return n, err
	}
	if n.Var == "" {
		min, max := int64(1), int64(8)
		if base != BaseNone {
			// Suricata 7 accepts 0 with string (ET Open sid 2033131).
			min, max = 0, 23
		}
		if n.Value < min || n.Value > max {
			return n, fmt.Errorf("number of bytes %d out of range %d-%d", n.Value, min, max)
		}
	}
	return n, nil
}

func decodeByteTest(p *ruleParser, v string) error {
	f := fields(v)
	if len(f) < 4 {
		return fmt.Errorf("want bytes,operator,value,offset[,options], got %q", v)
	}
	o, err := parseByteOpts(f[4:])
	if err != nil {
		return err
	}
	if len(o.rest) > 0 {
		return fmt.Errorf("unknown option %q", o.rest[0])
	}
	m := &ByteTest{Pos: p.opt.Pos, Relative: o.relative, Endian: o.endian, Base: o.base, Bitmask: o.bitmask}
	if m.Bytes, err = p.nbytes(f[0], o.base); err != nil {
		return err
	}
	op := f[1]
	if strings.HasPrefix(op, "!") {
		m.Negated, op = true, strings.TrimSpace(op[1:])
		if op == "" || op == "=" {
			op = "="
		}
	}
	switch op {
	case "<", ">", "=", "<=", ">=", "&", "^":
		m.Op = op
	default:
		return fmt.Errorf("bad operator %q: want [!]<, >, =, <=, >=, & or ^", f[1])
	}
	if m.Value, err = p.num(f[2]); err != nil {
		return err
	}
	if m.Offset, err = p.num(f[3]); err != nil {
		return err
	}
	p.add(p.target(m.Relative), m)
	return nil
}

func decodeByteJump(p *ruleParser, v string) error {
	f := fields(v)
	if len(f) < 2 {
		return fmt.Errorf("want bytes,offset[,options], got %q", v)
	}
	o, err := parseByteOpts(f[2:])
	if err != nil {
		return err
	}
	m := &ByteJump{Pos: p.opt.Pos, Relative: o.relative, Endian: o.endian, Base: o.base, Bitmask: o.bitmask}
	for _, s := range o.rest {
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		switch k {
		case "align":
			m.Align = true
		case "from_beginning":
			m.FromBeginning = true
		case "from_end":
			m.FromEnd = true
		case "multiplier":
			if m.Multiplier, err = parseInt64(arg); err != nil || m.Multiplier <= 0 {
				return fmt.Errorf("bad multiplier %q", arg)
			}
		case "post_offset":
			if m.PostOffset, err = parseInt64(arg); err != nil {
				return fmt.Errorf("bad post_offset %q", arg)
			}
		default:
			return fmt.Errorf("unknown option %q", s)
		}
	}
	if m.FromBeginning && m.FromEnd {
		return errors.New("from_beginning and from_end together")
	}
	if m.Bytes, err = p.nbytes(f[0], o.base); err != nil {
		return err
	}
	if m.Offset, err = p.num(f[1]); err != nil {
		return err
	}
	p.add(p.target(m.Relative), m)
	return nil
}

func decodeByteExtract(p *ruleParser, v string) error {
	f := fields(v)
	if len(f) < 3 {
		return fmt.Errorf("want bytes,offset,name[,options], got %q", v)
	}
	o, err := parseByteOpts(f[3:])
	if err != nil {
		return err
	}
	if o.bitmask != 0 {
		return errors.New("byte_extract takes no bitmask")
	}
	m := &ByteExtract{Pos: p.opt.Pos, Relative: o.relative, Endian: o.endian, Base: o.base, Var: f[2]}
	for _, s := range o.rest {
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		switch k {
		case "multiplier":
			if m.Multiplier, err = parseInt64(arg); err != nil || m.Multiplier <= 0 {
				return fmt.Errorf("bad multiplier %q", arg)
			}
		case "align":
			n, err := strconv.Atoi(arg)
			if err != nil || n != 2 && n != 4 {
				return fmt.Errorf("bad align %q: want 2 or 4", arg)
			}
			m.Align = n
		default:
			return fmt.Errorf("unknown option %q", s)
		}
	}
	b, err := p.nbytes(f[0], o.base)
	if err != nil {
		return err
	}
	if b.Var != "" {
		return errors.New("number of bytes must be a constant")
	}
	m.Bytes = int(b.Value)
	if m.Offset, err = parseInt64(f[1]); err != nil {
		return err
	}
	if !isIdent(m.Var) {
		return fmt.Errorf("bad variable name %q", m.Var)
	}
	p.defineVar(m.Var)
	p.add(p.target(m.Relative), m)
	return nil
}

func (p *ruleParser) defineVar(name string) {
	if p.byteVars == nil {
		p.byteVars = map[string]bool{}
	}
	p.byteVars[name] = true
}

func decodeByteMath(p *ruleParser, v string) error {
	m := &ByteMath{Pos: p.opt.Pos}
	seen := map[string]bool{}
	for _, s := range fields(v) {
		k, arg, _ := strings.Cut(s, " ")
		arg = strings.TrimSpace(arg)
		if seen[k] {
			return fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "bytes":
			m.Bytes, err = p.num(arg)
			if err == nil && m.Bytes.Var == "" && (m.Bytes.Value < 1 || m.Bytes.Value > 10) {
				err = fmt.Errorf("bytes %d out of range 1-10", m.Bytes.Value)
			}
		case "offset":
			m.Offset, err = parseInt64(arg)
		case "oper":
			switch arg {
			case "+", "-", "*", "/", "<<", ">>":
				m.Op = arg
			default:
				err = fmt.Errorf("bad oper %q: want + - * / << >>", arg)
			}
		case "rvalue":
			m.Rvalue, err = p.num(arg)
		case "result":
			if !isIdent(arg) {
				err = fmt.Errorf("bad result name %q", arg)
			}
			m.Result = arg
		case "relative":
			m.Relative = true
		case "endian":
			switch arg {
			case "big":
				m.Endian = EndianBig
			case "little":
				m.Endian = EndianLittle
			default:
				err = fmt.Errorf("bad endian %q", arg)
			}
		case "dce":
			m.Endian = EndianDCE
		case "string":
			b, ok := parseBase(arg)
			if !ok {
				err = fmt.Errorf("bad string base %q", arg)
			}
			m.Base = b
		case "bitmask":
			m.Bitmask, err = parseUint64(arg)
		default:
			err = fmt.Errorf("unknown option %q", s)
		}
		if err != nil {
			return err
		}
	}
	for _, k := range []string{"bytes", "offset", "oper", "rvalue", "result"} {
		if !seen[k] {
			return fmt.Errorf("missing required %s", k)
		}
	}
	p.defineVar(m.Result)
	p.add(p.target(m.Relative), m)
	return nil
}

func decodeIsDataAt(p *ruleParser, v string) error {
	f := fields(v)
	m := &IsDataAt{Pos: p.opt.Pos}
	s := f[0]
	if strings.HasPrefix(s, "!") {
		m.Negated, s = true, strings.TrimSpace(s[1:])
	}
	var err error
	if m.Offset, err = p.num(s); err != nil {
		return err
	}
	for _, o := range f[1:] {
		switch o {
		case "relative":
			m.Relative = true
		case "rawbytes":
			m.Rawbytes = true
		default:
			return fmt.Errorf("unknown option %q", o)
		}
	}
	p.add(p.target(m.Relative), m)
	return nil
}

// ParseCompare parses Suricata's integer comparison syntax: N, =N, !N, !=N,
// <N, <=N, >N, >=N, A<>B and A-B (exclusive range).
func ParseCompare(v string) (op CmpOp, a, b uint64, err error) {
	v = strings.TrimSpace(v)
	if x, y, ok := strings.Cut(v, "<>"); ok {
		return compareRange(v, x, y)
	}
	if x, y, ok := strings.Cut(v, "-"); ok && x != "" {
		return compareRange(v, x, y)
	}
	op = CmpEQ
	for _, p := range []struct {
		s  string
		op CmpOp
	}{{"<=", CmpLE}, {">=", CmpGE}, {"!=", CmpNE}, {"<", CmpLT}, {">", CmpGT}, {"!", CmpNE}, {"=", CmpEQ}} {
		if strings.HasPrefix(v, p.s) {
			op, v = p.op, strings.TrimSpace(v[len(p.s):])
			break
		}
	}
	a, err = parseUint64(v)
	if err != nil {
		return 0, 0, 0, err
	}
	if op == CmpLT && a == 0 {
		return 0, 0, 0, errors.New("<0 matches nothing")
	}
	return op, a, 0, nil
}

func compareRange(v, x, y string) (CmpOp, uint64, uint64, error) {
	a, err1 := parseUint64(strings.TrimSpace(x))
	b, err2 := parseUint64(strings.TrimSpace(y))
	if err1 != nil || err2 != nil || a >= b {
		return 0, 0, 0, fmt.Errorf("bad range %q: want A<>B with A < B", v)
	}
	return CmpRange, a, b, nil
}

func parseCompare(name, v string) (*Compare, error) {
	if v == "" {
		return nil, errors.New("missing value")
	}
	op, a, b, err := ParseCompare(v)
	if err != nil {
		return nil, err
	}
	return &Compare{Name: name, Op: op, A: a, B: b}, nil
}

func decodeBsize(p *ruleParser, v string) error {
	c, err := parseCompare("bsize", v)
	if err != nil {
		return err
	}
	if p.cur == nil {
		return errors.New("needs a sticky buffer before it")
	}
	c.Pos = p.opt.Pos
	p.add(p.cur, c)
	return nil
}

func decodeUrilen(p *ruleParser, v string) error {
	expr, arg, _ := strings.Cut(v, ",")
	arg = strings.TrimSpace(arg)
	if arg != "" && arg != "raw" && arg != "norm" {
		return fmt.Errorf("bad option %q: want raw or norm", arg)
	}
	c, err := parseCompare("urilen", expr)
	if err != nil {
		return err
	}
	c.Pos, c.Arg = p.opt.Pos, arg
	p.r.Packet = append(p.r.Packet, c)
	return nil
}

func decodeStreamSize(p *ruleParser, v string) error {
	f := fields(v)
	if len(f) != 3 {
		return fmt.Errorf("want side,operator,size, got %q", v)
	}
	switch f[0] {
	case "server", "client", "both", "either":
	default:
		return fmt.Errorf("bad side %q: want server, client, both or either", f[0])
	}
	c, err := parseCompare("stream_size", f[1]+f[2])
	if err != nil {
		return err
	}
	c.Pos, c.Arg = p.opt.Pos, f[0]
	p.r.Packet = append(p.r.Packet, c)
	return nil
}

func decodeBase64Decode(p *ruleParser, v string) error {
	m := &Base64Decode{Pos: p.opt.Pos}
	if v != "" {
		for _, s := range fields(v) {
			k, arg, _ := strings.Cut(s, " ")
			arg = strings.TrimSpace(arg)
			var err error
			switch k {
			case "bytes":
				m.Bytes, err = parseInt64(arg)
			case "offset":
				m.Offset, err = parseInt64(arg)
			case "relative":
				m.Relative = true
			default:
				err = fmt.Errorf("unknown option %q", s)
			}
			if err != nil {
				return err
			}
		}
	}
	p.add(p.target(m.Relative), m)
	return nil
}
