package pcre

import (
	"fmt"
	"strconv"
	"strings"
)

// translate rewrites a PCRE2 pattern (non-UTF, default C-locale tables)
// into .NET syntax for regexp2 matching bytes mapped 1:1 to runes, so that
// both engines accept the same strings. Everything whose meaning depends
// on tables or options is spelled out explicitly: literals and classes
// become \xHH byte sets (case-folded by hand for caseless mode, since
// regexp2's IgnoreCase would also fold Latin-1 letters), . ^ $ \b \Z
// become explicit assertions, named groups become numbered groups (PCRE
// numbers them in order, .NET after the unnamed ones), and possessive
// quantifiers become atomic groups. What it cannot render exactly it
// refuses with an Unsupported SyntaxError.
type translator struct {
	src    string
	i      int
	out    []byte
	mode   mode
	groups int
	names  map[string]int
	stack  []frame
	atom   int // out offset where the last quantifiable item starts, or -1
	// high[n] is set when capture group n may capture a Latin-1 letter
	// (0xc0-0xfe but 0xd7, 0xf7); closed[n] once its ')' is read.
	high, closed map[int]bool
}

type mode struct {
	caseless, dotall, multiline, extended, dollarEndOnly, ungreedy bool
}

type frame struct {
	start   int  // out offset of the group's '('
	saved   mode // mode to restore at ')'
	capture int  // capture group number, or 0
}

// setLatin1Letters is what regexp2's IgnoreCase folds beyond ASCII.
var setLatin1Letters = func() byteSet {
	s := setOf("\xc0\xfe")
	s[0xd7>>6] &^= 1 << (0xd7 & 63)
	s[0xf7>>6] &^= 1 << (0xf7 & 63)
	return s
}()

// markHigh records that the open capture groups may now hold a Latin-1
// letter when s does.
func (t *translator) markHigh(s byteSet) {
	for i := range s {
		if s[i]&setLatin1Letters[i] != 0 {
			for _, fr := range t.stack {
				if fr.capture > 0 {
					t.high[fr.capture] = true
				}
			}
			return
		}
	}
}

type translateError struct {
	off         int
	msg         string
	unsupported bool
}

func (t *translator) unsupported(format string, a ...any) *translateError {
	return &translateError{off: t.i, msg: fmt.Sprintf(format, a...), unsupported: true}
}

func (t *translator) syntax(format string, a ...any) *translateError {
	return &translateError{off: t.i, msg: fmt.Sprintf(format, a...)}
}

// byte sets of PCRE2's default tables (pcre2_chartables.c, C locale).
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}
func (s *byteSet) union(o byteSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
func (s byteSet) not() byteSet {
	for i := range s {
		s[i] = ^s[i]
	}
	return s
}
func (s *byteSet) fold() {
	for c := byte('A'); c <= 'Z'; c++ {
		if s.has(c) || s.has(c+32) {
			s.add(c)
			s.add(c + 32)
		}
	}
}

func setOf(ranges string) byteSet {
	var s byteSet
	for i := 0; i+1 < len(ranges); i += 2 {
		s.addRange(ranges[i], ranges[i+1])
	}
	return s
}

var (
	setDigit = setOf("09")
	setWord  = setOf("09AZaz__")
	setSpace = setOf("\t\r  ") // \t \n \v \f \r and space (PCRE2 10.x includes VT)
	setHoriz = setOf("\t\t  \xa0\xa0")
	setVert  = setOf("\n\r\x85\x85")
	setAll   = setOf("\x00\xff")
	posix    = map[string]byteSet{
		"alpha": setOf("AZaz"), "digit": setDigit, "alnum": setOf("09AZaz"),
		"xdigit": setOf("09AFaf"), "space": setSpace, "upper": setOf("AZ"),
		"lower": setOf("az"), "punct": setOf("!/:@[`{~"), "print": setOf(" ~"),
		"graph": setOf("!~"), "cntrl": setOf("\x00\x1f\x7f\x7f"), "blank": setOf("\t\t  "),
		"word": setWord, "ascii": setOf("\x00\x7f"),
	}
)

// emitSet writes s as a .NET character class of \xHH ranges.
func (t *translator) emitSet(s byteSet) {
	t.markHigh(s)
	if s == setAll {
		t.out = append(t.out, `[\x00-\xff]`...)
		return
	}
	if s == (byteSet{}) {
		t.out = append(t.out, `(?!)`...)
		return
	}
	t.out = append(t.out, '[')
	for c := 0; c < 256; {
		if !s.has(byte(c)) {
			c++
			continue
		}
		lo := c
		for c < 256 && s.has(byte(c)) {
			c++
		}
		t.out = fmt.Appendf(t.out, `\x%02x`, lo)
		if c-1 > lo {
			t.out = fmt.Appendf(t.out, `-\x%02x`, c-1)
		}
	}
	t.out = append(t.out, ']')
}

// emitByte writes one literal byte, case-folded in caseless mode.
func (t *translator) emitByte(c byte) {
	t.atom = len(t.out)
	var one byteSet
	one.add(c)
	t.markHigh(one)
	lc := c | 0x20
	if t.mode.caseless && lc >= 'a' && lc <= 'z' {
		t.out = append(t.out, '[', lc-32, lc, ']')
		return
	}
	if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		t.out = append(t.out, c)
		return
	}
	t.out = fmt.Appendf(t.out, `\x%02x`, c)
}

func (t *translator) emitAssert(s string) {
	t.out = append(t.out, s...)
	t.atom = -1
}

const (
	wordClass = `[0-9A-Za-z_]`
	assertB   = `(?:(?<=` + wordClass + `)(?!` + wordClass + `)|(?<!` + wordClass + `)(?=` + wordClass + `))`
	assertNB  = `(?:(?<=` + wordClass + `)(?=` + wordClass + `)|(?<!` + wordClass + `)(?!` + wordClass + `))`
)

func translate(src string, f Flags) (out string, groups int, err *translateError) {
	t := &translator{src: src, names: map[string]int{}, atom: -1, high: map[int]bool{}, closed: map[int]bool{}}
	t.mode = mode{caseless: f.Caseless, dotall: f.Dotall, multiline: f.Multiline, extended: f.Extended, dollarEndOnly: f.DollarEndOnly, ungreedy: f.Ungreedy}
	if f.Anchored {
		t.out = append(t.out, `\G(?:`...)
	}
	if e := t.run(); e != nil {
		return "", 0, e
	}
	if len(t.stack) > 0 {
		return "", 0, t.syntax("missing closing parenthesis")
	}
	if f.Anchored {
		t.out = append(t.out, ')')
	}
	return string(t.out), t.groups, nil
}

// isSpace reports what PCRE2_EXTENDED skips in an 8-bit pattern: the
// C-locale spaces, and NEL (0x85) as in a Unicode-enabled libpcre2 such as
// Debian's, even without PCRE2_UTF.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' || c == 0x85 }

func (t *translator) run() *translateError {
	for t.i < len(t.src) {
		c := t.src[t.i]
		if t.mode.extended {
			if isSpace(c) {
				t.i++
				continue
			}
			if c == '#' {
				for t.i < len(t.src) && t.src[t.i] != '\n' {
					t.i++
				}
				continue
			}
		}
		switch c {
		case '\\':
			if e := t.escape(); e != nil {
				return e
			}
		case '[':
			if e := t.class(); e != nil {
				return e
			}
		case '(':
			if e := t.group(); e != nil {
				return e
			}
		case ')':
			if len(t.stack) == 0 {
				return t.syntax("unmatched closing parenthesis")
			}
			fr := t.stack[len(t.stack)-1]
			t.stack = t.stack[:len(t.stack)-1]
			t.mode = fr.saved
			if fr.capture > 0 {
				t.closed[fr.capture] = true
			}
			t.out = append(t.out, ')')
			t.atom = fr.start
			t.i++
		case '|':
			t.out = append(t.out, '|')
			t.atom = -1
			t.i++
		case '.':
			t.atom = len(t.out)
			if t.mode.dotall {
				t.emitSet(setAll)
			} else {
				t.emitSet(setOf("\n\n").not())
			}
			t.i++
		case '^':
			if t.mode.multiline {
				t.emitAssert(`(?:\A|(?<=\n)(?!\z))`)
			} else {
				t.emitAssert(`\A`)
			}
			t.i++
		case '$':
			switch {
			case t.mode.multiline:
				t.emitAssert(`(?=\n|\z)`)
			case t.mode.dollarEndOnly:
				t.emitAssert(`\z`)
			default:
				t.emitAssert(`(?=\n?\z)`)
			}
			t.i++
		case '*', '+', '?':
			if e := t.quantifier(1); e != nil {
				return e
			}
		case '{':
			if n := quantLen(t.src[t.i:]); n > 0 {
				if e := t.quantifier(n); e != nil {
					return e
				}
			} else {
				t.emitByte('{')
				t.i++
			}
		default:
			t.emitByte(c)
			t.i++
		}
	}
	return nil
}

// quantLen returns the length of a {n}, {n,} or {n,m} quantifier at the
// start of s, or 0 when s does not start with one (PCRE2 10.42 then reads
// '{' as a literal).
func quantLen(s string) int {
	i := 1
	d := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		d++
	}
	if d == 0 || i >= len(s) {
		return 0
	}
	if s[i] == '}' {
		return i + 1
	}
	if s[i] != ',' {
		return 0
	}
	i++
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

// quantifier applies the n-byte quantifier at t.i, with its lazy '?' or
// possessive '+' suffix, to the last atom.
func (t *translator) quantifier(n int) *translateError {
	q := t.src[t.i : t.i+n]
	t.i += n
	lazy, possessive := false, false
	if t.i < len(t.src) {
		switch t.src[t.i] {
		case '?':
			lazy = true
			t.i++
		case '+':
			possessive = true
			t.i++
		}
	}
	if t.atom < 0 {
		return t.syntax("quantifier does not follow a repeatable item")
	}
	if t.mode.ungreedy && !possessive {
		lazy = !lazy
	}
	if possessive {
		body := append([]byte(nil), t.out[t.atom:]...)
		t.out = append(t.out[:t.atom], "(?>"...)
		t.out = append(t.out, body...)
		t.out = append(t.out, q...)
		t.out = append(t.out, ')')
	} else {
		t.out = append(t.out, q...)
		if lazy {
			t.out = append(t.out, '?')
		}
	}
	t.atom = -1
	return nil
}

// escapeValue reads a backslash escape that stands for one byte (t.i at
// the letter after '\'). ok is false when the escape is not a literal.
func (t *translator) escapeValue(inClass bool) (c byte, ok bool, e *translateError) {
	s := t.src
	ch := s[t.i]
	switch ch {
	case 'a':
		t.i++
		return 7, true, nil
	case 'e':
		t.i++
		return 0x1b, true, nil
	case 'f':
		t.i++
		return 0x0c, true, nil
	case 'n':
		t.i++
		return '\n', true, nil
	case 'r':
		t.i++
		return '\r', true, nil
	case 't':
		t.i++
		return '\t', true, nil
	case 'x':
		t.i++
		v := 0
		if t.i < len(s) && s[t.i] == '{' {
			j := strings.IndexByte(s[t.i:], '}')
			if j < 2 {
				return 0, false, t.syntax(`malformed \x{}`)
			}
			x, err := strconv.ParseUint(s[t.i+1:t.i+j], 16, 32)
			if err != nil {
				return 0, false, t.syntax(`malformed \x{}`)
			}
			t.i += j + 1
			if x > 0xff {
				return 0, false, t.syntax(`character code point value in \x{} is too large`)
			}
			return byte(x), true, nil
		}
		for k := 0; k < 2 && t.i < len(s) && isHex(s[t.i]); k++ {
			v = v*16 + hexVal(s[t.i])
			t.i++
		}
		return byte(v), true, nil
	case 'o':
		t.i++
		if t.i >= len(s) || s[t.i] != '{' {
			return 0, false, t.syntax(`missing opening brace after \o`)
		}
		j := strings.IndexByte(s[t.i:], '}')
		if j < 2 {
			return 0, false, t.syntax(`malformed \o{}`)
		}
		x, err := strconv.ParseUint(s[t.i+1:t.i+j], 8, 32)
		if err != nil || x > 0xff {
			return 0, false, t.syntax(`malformed or too large \o{}`)
		}
		t.i += j + 1
		return byte(x), true, nil
	case 'c':
		t.i++
		if t.i >= len(s) || s[t.i] < 0x20 || s[t.i] > 0x7e {
			return 0, false, t.syntax(`\c must be followed by a printable ASCII character`)
		}
		v := s[t.i]
		if v >= 'a' && v <= 'z' {
			v -= 32
		}
		t.i++
		return v ^ 0x40, true, nil
	case '0':
		v := 0
		t.i++
		for k := 0; k < 2 && t.i < len(s) && s[t.i] >= '0' && s[t.i] <= '7'; k++ {
			v = v*8 + int(s[t.i]-'0')
			t.i++
		}
		return byte(v), true, nil
	}
	if inClass && ch >= '1' && ch <= '7' {
		// In a class, \1..\7 start an octal escape of up to three digits.
		v := 0
		for k := 0; k < 3 && t.i < len(s) && s[t.i] >= '0' && s[t.i] <= '7'; k++ {
			v = v*8 + int(s[t.i]-'0')
			t.i++
		}
		if v > 0xff {
			return 0, false, t.syntax("octal value greater than \\377")
		}
		return byte(v), true, nil
	}
	if isAlnum(ch) {
		return 0, false, nil
	}
	t.i++
	return ch, true, nil // any other escaped non-alphanumeric is literal
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }
func hexVal(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c|0x20-'a') + 10
}
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// classEscape returns the byte set of a class shorthand letter.
func classEscape(ch byte) (s byteSet, negated, ok bool) {
	switch ch {
	case 'd':
		return setDigit, false, true
	case 'D':
		return setDigit, true, true
	case 'w':
		return setWord, false, true
	case 'W':
		return setWord, true, true
	case 's':
		return setSpace, false, true
	case 'S':
		return setSpace, true, true
	case 'h':
		return setHoriz, false, true
	case 'H':
		return setHoriz, true, true
	case 'v':
		return setVert, false, true
	case 'V':
		return setVert, true, true
	}
	return s, false, false
}

func (t *translator) escape() *translateError {
	start := t.i
	t.i++
	if t.i >= len(t.src) {
		return t.syntax(`\ at end of pattern`)
	}
	ch := t.src[t.i]
	if s, neg, ok := classEscape(ch); ok {
		t.i++
		t.atom = len(t.out)
		if neg {
			s = s.not()
		}
		t.emitSet(s)
		return nil
	}
	switch ch {
	case 'b':
		t.i++
		t.emitAssert(assertB)
		return nil
	case 'B':
		t.i++
		t.emitAssert(assertNB)
		return nil
	case 'A':
		t.i++
		t.emitAssert(`\A`)
		return nil
	case 'z':
		t.i++
		t.emitAssert(`\z`)
		return nil
	case 'Z':
		t.i++
		t.emitAssert(`(?=\n?\z)`)
		return nil
	case 'G':
		t.i++
		t.emitAssert(`\G`)
		return nil
	case 'N':
		t.i++
		if t.i < len(t.src) && t.src[t.i] == '{' {
			return t.unsupported(`\N{...}`)
		}
		t.atom = len(t.out)
		t.emitSet(setOf("\n\n").not())
		return nil
	case 'R':
		t.i++
		t.atom = len(t.out)
		t.out = append(t.out, `(?>\r\n|[\n\x0b\x0c\r\x85])`...)
		return nil
	case 'Q':
		t.i++
		for t.i < len(t.src) {
			if strings.HasPrefix(t.src[t.i:], `\E`) {
				t.i += 2
				return nil
			}
			t.emitByte(t.src[t.i])
			t.i++
		}
		return nil
	case 'E':
		t.i++
		return nil
	case 'K':
		return t.unsupported(`\K (reset match start)`)
	case 'X', 'C', 'p', 'P':
		return t.unsupported(`\%c`, ch)
	case 'g':
		return t.backrefG()
	case 'k':
		return t.backrefK()
	}
	if ch >= '1' && ch <= '9' {
		j := t.i
		for j < len(t.src) && t.src[j] >= '0' && t.src[j] <= '9' {
			j++
		}
		if j-t.i > 1 {
			return t.unsupported(`multi-digit backreference or octal escape \%s`, t.src[t.i:j])
		}
		n := int(ch - '0')
		t.i = j
		return t.emitBackref(n)
	}
	c, ok, e := t.escapeValue(false)
	if e != nil {
		return e
	}
	if !ok {
		t.i = start + 1
		return t.syntax(`unrecognized character follows \`)
	}
	t.emitByte(c)
	return nil
}

// emitBackref writes a backreference to group n. A caseless one is
// rendered with .NET's (?i:), which folds Latin-1 letters as well as
// ASCII, so it is accepted only when group n is complete and cannot
// capture a Latin-1 letter.
func (t *translator) emitBackref(n int) *translateError {
	if t.high[n] {
		// What group n captures flows on: the open groups may now hold it.
		for _, fr := range t.stack {
			if fr.capture > 0 {
				t.high[fr.capture] = true
			}
		}
	}
	t.atom = len(t.out)
	if !t.mode.caseless {
		t.out = fmt.Appendf(t.out, `(?:\%d)`, n)
		return nil
	}
	if !t.closed[n] || t.high[n] {
		return t.unsupported("caseless backreference to a group that may capture a Latin-1 letter (regexp2 would fold its case)")
	}
	t.out = fmt.Appendf(t.out, `(?i:\%d)`, n)
	return nil
}

func (t *translator) backrefG() *translateError {
	s := t.src[t.i+1:]
	var ref string
	switch {
	case strings.HasPrefix(s, "{"):
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return t.syntax(`malformed \g`)
		}
		ref, t.i = s[1:j], t.i+1+j+1
	default:
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 {
			return t.unsupported(`\g subroutine call or relative reference`)
		}
		ref, t.i = s[:j], t.i+1+j
	}
	if n, err := strconv.Atoi(ref); err == nil && n > 0 {
		if n > 9 {
			return t.unsupported(`backreference \g{%d}`, n)
		}
		return t.emitBackref(n)
	}
	if n, ok := t.names[ref]; ok {
		return t.emitBackref(n)
	}
	return t.unsupported(`\g reference %q (relative or forward)`, ref)
}

func (t *translator) backrefK() *translateError {
	s := t.src[t.i+1:]
	if len(s) == 0 {
		return t.syntax(`\k is not followed by a name`)
	}
	close := map[byte]byte{'<': '>', '\'': '\'', '{': '}'}[s[0]]
	if close == 0 {
		return t.syntax(`\k is not followed by a name`)
	}
	j := strings.IndexByte(s[1:], close)
	if j < 0 {
		return t.syntax(`malformed \k`)
	}
	name := s[1 : 1+j]
	t.i += 1 + j + 2
	n, ok := t.names[name]
	if !ok {
		return t.unsupported("reference to group %q before its definition", name)
	}
	return t.emitBackref(n)
}

// class reads a [...] character class into a byte set and emits it.
func (t *translator) class() *translateError {
	s := t.src
	t.i++ // '['
	neg := false
	if t.i < len(s) && s[t.i] == '^' {
		neg = true
		t.i++
	}
	var set byteSet
	first := true
	for {
		if t.i >= len(s) {
			return t.syntax("missing terminating ] for character class")
		}
		c := s[t.i]
		if c == ']' && !first {
			t.i++
			break
		}
		first = false
		if c == '[' && t.i+1 < len(s) && (s[t.i+1] == ':' || s[t.i+1] == '.' || s[t.i+1] == '=') {
			if end := strings.Index(s[t.i+2:], string(s[t.i+1])+"]"); end >= 0 {
				name := s[t.i+2 : t.i+2+end]
				if s[t.i+1] != ':' {
					return t.syntax("POSIX collating elements are not supported")
				}
				if strings.HasPrefix(name, "^") {
					return t.unsupported("negated POSIX class [:%s:]", name)
				}
				ps, ok := posix[name]
				if !ok {
					return t.syntax("unknown POSIX class name %q", name)
				}
				set.union(ps)
				t.i += 2 + end + 2
				continue
			}
		}
		var lo int
		if c == '\\' {
			t.i++
			if t.i >= len(s) {
				return t.syntax(`\ at end of pattern`)
			}
			ch := s[t.i]
			if cs, n, ok := classEscape(ch); ok {
				if n {
					return t.unsupported(`\%c inside a character class`, ch)
				}
				t.i++
				set.union(cs)
				continue
			}
			switch ch {
			case 'b':
				t.i++
				lo = 8
			case 'Q':
				t.i++
				for t.i < len(s) && !strings.HasPrefix(s[t.i:], `\E`) {
					set.add(s[t.i])
					t.i++
				}
				if t.i < len(s) {
					t.i += 2
				}
				continue
			case 'E':
				t.i++
				continue
			default:
				v, ok, e := t.escapeValue(true)
				if e != nil {
					return e
				}
				if !ok {
					return t.unsupported(`\%c inside a character class`, ch)
				}
				lo = int(v)
			}
		} else {
			lo = int(c)
			t.i++
		}
		// range?
		if t.i+1 < len(s) && s[t.i] == '-' && s[t.i+1] != ']' {
			save := t.i
			t.i++
			hc := s[t.i]
			var hi int
			if hc == '\\' {
				t.i++
				if t.i >= len(s) {
					return t.syntax(`\ at end of pattern`)
				}
				if _, _, ok := classEscape(s[t.i]); ok {
					return t.syntax("invalid range in character class")
				}
				if s[t.i] == 'b' {
					t.i++
					hi = 8
				} else {
					v, ok, e := t.escapeValue(true)
					if e != nil {
						return e
					}
					if !ok {
						return t.unsupported(`\%c inside a character class`, s[t.i])
					}
					hi = int(v)
				}
			} else if hc == '[' && t.i+1 < len(s) && s[t.i+1] == ':' {
				t.i = save // "a-[:digit:]": '-' is literal
				set.add(byte(lo))
				set.add('-')
				t.i++
				continue
			} else {
				hi = int(hc)
				t.i++
			}
			if hi < lo {
				return t.syntax("range out of order in character class")
			}
			set.addRange(byte(lo), byte(hi))
			continue
		}
		set.add(byte(lo))
	}
	if t.mode.caseless {
		set.fold()
	}
	if neg {
		set = set.not()
	}
	t.atom = len(t.out)
	t.emitSet(set)
	return nil
}

func validName(n string) bool {
	if n == "" || len(n) > 32 || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isAlnum(n[i]) && n[i] != '_' {
			return false
		}
	}
	return true
}

func (t *translator) push() {
	t.stack = append(t.stack, frame{start: len(t.out), saved: t.mode})
}

func (t *translator) capture(name string) *translateError {
	if name != "" {
		if !validName(name) {
			return t.syntax("invalid group name %q", name)
		}
		if _, dup := t.names[name]; dup {
			return t.syntax("two named groups have the same name %q", name)
		}
	}
	t.groups++
	if name != "" {
		t.names[name] = t.groups
	}
	t.push()
	t.stack[len(t.stack)-1].capture = t.groups
	t.out = append(t.out, '(')
	return nil
}

func (t *translator) group() *translateError {
	s := t.src
	rest := s[t.i:]
	if strings.HasPrefix(rest, "(*") {
		return t.unsupported("backtracking verb or start-of-pattern option %q", prefix(rest, 12))
	}
	if !strings.HasPrefix(rest, "(?") {
		t.i++
		return t.capture("")
	}
	if len(rest) < 3 {
		return t.syntax("unterminated group")
	}
	switch {
	case strings.HasPrefix(rest, "(?#"):
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return t.syntax("missing ) after (?# comment")
		}
		t.i += j + 1
		return nil
	case strings.HasPrefix(rest, "(?:"), strings.HasPrefix(rest, "(?>"), strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"):
		t.push()
		t.out = append(t.out, rest[:3]...)
		t.i += 3
		return nil
	case strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		t.push()
		t.out = append(t.out, rest[:4]...)
		t.i += 4
		return nil
	case strings.HasPrefix(rest, "(?<"), strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?'"):
		open := 3
		close := byte('>')
		if rest[2] == 'P' {
			open = 4
		} else if rest[2] == '\'' {
			close = '\''
		}
		j := strings.IndexByte(rest[open:], close)
		if j < 0 {
			return t.syntax("syntax error in subpattern name (missing terminator?)")
		}
		name := rest[open : open+j]
		t.i += open + j + 1
		return t.capture(name)
	case strings.HasPrefix(rest, "(?P="):
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return t.syntax("missing ) after (?P=")
		}
		name := rest[4:j]
		t.i += j + 1
		n, ok := t.names[name]
		if !ok {
			return t.unsupported("reference to group %q before its definition", name)
		}
		return t.emitBackref(n)
	case strings.HasPrefix(rest, "(?("):
		return t.conditional()
	}
	// option setting: (?imsx-imsx) or (?imsx-imsx: ...)
	j := 2
	on := true
	m := t.mode
	for ; j < len(rest); j++ {
		switch rest[j] {
		case 'i':
			m.caseless = on
		case 's':
			m.dotall = on
		case 'm':
			m.multiline = on
		case '-':
			if !on {
				return t.syntax("bad option setting")
			}
			on = false
		case ')', ':':
			goto done
		case 'x', 'U', 'J', 'n', '^':
			return t.unsupported("inline option %q", string(rest[j]))
		default:
			if rest[j] == '|' || rest[j] == '&' || rest[j] == 'R' || rest[j] == '+' || rest[j] >= '0' && rest[j] <= '9' || rest[j] == 'C' {
				return t.unsupported("recursion, subroutine call, branch reset or callout %q", prefix(rest, 6))
			}
			return t.syntax("unrecognized character after (? or (?-")
		}
	}
	return t.syntax("missing ) after option setting")
done:
	t.i += j + 1
	if rest[j] == ')' {
		t.mode = m // applies to the end of the enclosing group
		return nil
	}
	t.push()
	t.mode = m
	t.out = append(t.out, "(?:"...)
	return nil
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (t *translator) conditional() *translateError {
	rest := t.src[t.i:]
	cond := rest[3:]
	switch {
	case strings.HasPrefix(cond, "?="), strings.HasPrefix(cond, "?!"), strings.HasPrefix(cond, "?<="), strings.HasPrefix(cond, "?<!"):
		// (?(?=x)yes|no): .NET reads an assertion as the condition.
		t.push()
		t.out = append(t.out, "(?"...)
		t.i += 2
		return nil
	}
	j := strings.IndexByte(cond, ')')
	if j < 0 {
		return t.syntax("malformed conditional group")
	}
	ref := cond[:j]
	var n int
	switch {
	case ref != "" && ref[0] >= '1' && ref[0] <= '9':
		v, err := strconv.Atoi(ref)
		if err != nil {
			return t.syntax("malformed number in conditional")
		}
		n = v
	case len(ref) > 2 && (ref[0] == '<' && ref[len(ref)-1] == '>' || ref[0] == '\'' && ref[len(ref)-1] == '\''):
		v, ok := t.names[ref[1:len(ref)-1]]
		if !ok {
			return t.unsupported("condition on group %q before its definition", ref)
		}
		n = v
	case ref == "R" || strings.HasPrefix(ref, "R") || ref == "DEFINE" || strings.HasPrefix(ref, "+") || strings.HasPrefix(ref, "-"):
		return t.unsupported("conditional (?(%s)", ref)
	default:
		v, ok := t.names[ref]
		if !ok {
			return t.unsupported("condition (?(%s) on an unknown or later group", ref)
		}
		n = v
	}
	t.push()
	t.out = fmt.Appendf(t.out, "(?(%d)", n)
	t.i += 3 + j + 1
	return nil
}
