package pcre

import (
	"fmt"
	"strings"
)

// Flags are the Suricata pcre modifiers that change the regex semantics,
// each mapped to the PCRE2 compile option of the same meaning.
type Flags struct {
	Caseless      bool // i: PCRE2_CASELESS (ASCII letters only: no PCRE2_UTF)
	Dotall        bool // s: PCRE2_DOTALL, . matches \n
	Multiline     bool // m: PCRE2_MULTILINE, ^ and $ at internal newlines
	Extended      bool // x: PCRE2_EXTENDED, unescaped whitespace and #-comments ignored
	Anchored      bool // A: PCRE2_ANCHORED, the match must start at the start offset
	DollarEndOnly bool // E: PCRE2_DOLLAR_ENDONLY, $ not before a final \n (ignored with m)
	Ungreedy      bool // G: PCRE2_UNGREEDY, quantifiers lazy unless followed by ?
}

// String returns the flags as Suricata modifier letters, in the order
// "ismxAEG".
func (f Flags) String() string {
	var b []byte
	for _, x := range []struct {
		on bool
		c  byte
	}{{f.Caseless, 'i'}, {f.Dotall, 's'}, {f.Multiline, 'm'}, {f.Extended, 'x'}, {f.Anchored, 'A'}, {f.DollarEndOnly, 'E'}, {f.Ungreedy, 'G'}} {
		if x.on {
			b = append(b, x.c)
		}
	}
	return string(b)
}

// Keyword is a parsed Suricata pcre keyword value, `[!]"/<expr>/<mods>[,
// <captures>]"`. The rule engine owns everything but Expr and Flags.
type Keyword struct {
	Negated bool   // leading '!': the rule matches when the pcre does not
	Expr    string // the pattern between the slashes, escapes untouched (\/ stays \/, which PCRE reads as /)
	Flags   Flags  // the semantic modifiers i s m x A E G
	// Relative is the R modifier: match relative to the previous match.
	Relative bool
	// MatchLimit is the O modifier: use the configured pcre.match-limit
	// and pcre.match-limit-recursion instead of Suricata's defaults.
	MatchLimit bool
	// Buffer is the one buffer-selector modifier given (B U I P Q H D M C
	// S Y V W Z), or 0 for none. Suricata refuses two selectors, and B
	// (raw bytes) with an HTTP normalized-buffer selector; so does
	// ParseSuricata.
	Buffer byte
	// EngineMods holds the non-semantic modifier letters as written (R,
	// O and the buffer selector), the "other" flags for the engine.
	EngineMods string
	// Captures is the text after the first ',' following the modifiers
	// (inside or after the quotes), trimmed: Suricata 6+'s variable list
	// ("pkt:key,flow:name"). It is not parsed here.
	Captures string
}

// buffer-selector modifiers and whether each is an HTTP normalized buffer
// that Suricata refuses together with B.
var bufferMods = map[byte]bool{
	'U': true, 'V': true, 'W': true, 'Z': true, 'H': true, 'I': true, 'M': true, 'C': true,
	'D': false, 'P': false, 'Q': false, 'Y': false, 'S': false, 'B': false,
}

// ParseSuricata parses a pcre keyword value as Suricata does, with or
// without the surrounding double quotes: optional leading whitespace and
// '!', then /expr/mods. The closing slash is the last '/' not escaped by a
// single backslash (Suricata's "(?<!\\)/(.*(?<!(?<!\\)\\))/" rule), so
// "\/" inside the pattern is kept and "\\/" ends it. The pattern text is
// returned unchanged: backslash escapes are PCRE's to read.
func ParseSuricata(s string) (Keyword, error) {
	var k Keyword
	v := strings.TrimLeft(s, " \t")
	if strings.HasPrefix(v, "!") {
		k.Negated = true
		v = strings.TrimLeft(v[1:], " \t")
	}
	v = strings.TrimRight(v, " \t")
	var after string // text after the closing quote
	if strings.HasPrefix(v, `"`) {
		q := strings.LastIndexByte(v, '"')
		if q == 0 {
			return Keyword{}, fmt.Errorf("parse pcre %q: missing closing '\"'", s)
		}
		v, after = v[1:q], strings.TrimSpace(v[q+1:])
		if after != "" && !strings.HasPrefix(after, ",") {
			return Keyword{}, fmt.Errorf("parse pcre %q: unexpected %q after the closing quote", s, after)
		}
	}
	if !strings.HasPrefix(v, "/") {
		return Keyword{}, fmt.Errorf("parse pcre %q: the pattern must start with '/'", s)
	}
	end := -1
	for j := len(v) - 1; j > 0; j-- {
		if v[j] != '/' {
			continue
		}
		if v[j-1] == '\\' && (j < 2 || v[j-2] != '\\') {
			continue
		}
		end = j
		break
	}
	if end < 1 {
		return Keyword{}, fmt.Errorf("parse pcre %q: no closing '/'", s)
	}
	k.Expr = v[1:end]
	mods := v[end+1:]
	if i := strings.IndexByte(mods, ','); i >= 0 {
		k.Captures = strings.TrimSpace(mods[i+1:])
		mods = mods[:i]
	}
	if after != "" {
		k.Captures = strings.TrimSpace(strings.TrimPrefix(k.Captures+after, ","))
	}
	mods = strings.TrimRight(mods, " \t")
	var eng []byte
	for i := 0; i < len(mods); i++ {
		c := mods[i]
		switch c {
		case 'i':
			k.Flags.Caseless = true
		case 's':
			k.Flags.Dotall = true
		case 'm':
			k.Flags.Multiline = true
		case 'x':
			k.Flags.Extended = true
		case 'A':
			k.Flags.Anchored = true
		case 'E':
			k.Flags.DollarEndOnly = true
		case 'G':
			k.Flags.Ungreedy = true
		case 'R':
			k.Relative = true
			eng = append(eng, c)
		case 'O':
			k.MatchLimit = true
			eng = append(eng, c)
		default:
			if _, ok := bufferMods[c]; !ok {
				return Keyword{}, fmt.Errorf("parse pcre %q: unknown regex modifier '%c'", s, c)
			}
			if k.Buffer != 0 {
				if c == 'B' || k.Buffer == 'B' {
					other := c
					if c == 'B' {
						other = k.Buffer
					}
					if bufferMods[other] {
						return Keyword{}, fmt.Errorf("parse pcre %q: regex modifier '%c' inconsistent with 'B'", s, other)
					}
				}
				return Keyword{}, fmt.Errorf("parse pcre %q: only one pcre option to specify a buffer type is allowed ('%c' and '%c')", s, k.Buffer, c)
			}
			k.Buffer = c
			eng = append(eng, c)
		}
	}
	k.EngineMods = string(eng)
	return k, nil
}
