package pcre

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// engines returns the engines this build can test.
func engines() []Engine {
	if HavePCRE2() {
		return []Engine{EnginePCRE2, EngineFallback}
	}
	return []Engine{EngineFallback}
}

// matchCase is one Suricata-style pcre with a subject and the result PCRE2
// 10.42 gives (no match: start == -1).
type matchCase struct {
	name       string
	kw         string // the keyword value as in a rule
	in         string
	start, end int
	// fbRefuses is set where the fallback must refuse the pattern.
	fbRefuses bool
}

var cases = []matchCase{
	{"literal", `"/GET \/index/"`, "xx GET /index.php", 3, 13, false},
	{"backref", `"/(['"])abc\1/"`, `x'abc'`, 1, 6, false},
	{"backref mismatch", `"/(['"])abc\1/"`, `x'abc"`, -1, -1, false},
	{"named backref P", `"/(?P<q>['"])x(?P=q)/"`, `'x'`, 0, 3, false},
	{"named backref k", `"/(?<q>a)b\k<q>/"`, `aba`, 0, 3, false},
	{"lookahead", `"/foo(?=bar)/"`, "foobaz foobar", 7, 10, false},
	{"neg lookahead", `"/foo(?!bar)/"`, "foobar foobaz", 7, 10, false},
	{"lookbehind", `"/(?<=user=)admin/"`, "x=admin user=admin", 13, 18, false},
	{"neg lookbehind", `"/(?<!x)admin/"`, "xadmin admin", 7, 12, false},
	{"raw byte xff", `"/\xff\xfe/"`, "a\xff\xfeb", 1, 3, false},
	{"raw byte literal", "\"/\xff+/\"", "a\xff\xffb", 1, 3, false},
	{"high byte dot", `"/^.{3}$/"`, "\xe9\xff\x80", 0, 3, false},
	{"posix xdigit", `"/^[[:xdigit:]]{4}$/"`, "aF09", 0, 4, false},
	{"posix xdigit no", `"/^[[:xdigit:]]{4}$/"`, "aG09", -1, -1, false},
	{"posix alpha no high", `"/[[:alpha:]]/"`, "\xe9\xc0", -1, -1, false},
	{"negated posix", `"/[[:^digit:]]/"`, "12a", 2, 3, true},
	{"atomic group", `"/(?>a+)b/"`, "aaab", 0, 4, false},
	{"atomic no backtrack", `"/(?>a+)ab/"`, "aaab", -1, -1, false},
	{"possessive", `"/a++b/"`, "aaab", 0, 4, false},
	{"possessive no backtrack", `"/a++ab/"`, "aaab", -1, -1, false},
	{"possessive group", `"/(?:ab)*+ab/"`, "ababab", -1, -1, false},
	{"possessive class", `"/[a-c]{2,}+c/"`, "abcc", -1, -1, false},
	{"\\K", `"/foo\Kbar/"`, "foobar", 3, 6, true},
	{"dollar before final newline", `"/abc$/"`, "abc\n", 0, 3, false},
	{"dollar not before inner newline", `"/abc$/"`, "abc\nx", -1, -1, false},
	{"dollar endonly E", `"/abc$/E"`, "abc\n", -1, -1, false},
	{"\\Z before final newline", `"/abc\Z/"`, "abc\n", 0, 3, false},
	{"\\z", `"/abc\z/"`, "abc\n", -1, -1, false},
	{"conditional yes", `"/^(<)?\w+(?(1)>)$/"`, "<abc>", 0, 5, false},
	{"conditional no", `"/^(<)?\w+(?(1)>)$/"`, "abc>", -1, -1, false},
	{"conditional lookahead", `"/^(?(?=\d)\d{3}|[a-z]{2})$/"`, "ab", 0, 2, false},
	{"nocase ascii", `"/user-agent: CURL/i"`, "User-Agent: curl", 0, 16, false},
	{"nocase no latin1 fold", `"/\xc9/i"`, "\xe9", -1, -1, false},
	{"nocase latin1 exact", `"/\xc9/i"`, "\xc9", 0, 1, false},
	{"nocase class no latin1 fold", `"/[\xc0-\xc5]/i"`, "\xe0", -1, -1, false},
	{"nocase negated class", `"/[^a-z]/i"`, "aZ1", 2, 3, false},
	{"\\w no high bytes", `"/\w+/"`, "\xe9\xe8ab\xe0", 2, 4, false},
	{"\\s no nbsp", `"/\s/"`, "\xa0\x85 ", 2, 3, false},
	{"\\b ascii", `"/\bcat\b/"`, "\xe9cat\xe9", 1, 4, false},
	{"anchored A", `"/bar/A"`, "foobar", -1, -1, false},
	{"anchored A at start", `"/foo/A"`, "foobar", 0, 3, false},
	{"multiline caret", `"/^Host: x$/m"`, "GET / HTTP/1.1\r\nHost: x\nA: b", 16, 23, false},
	{"no multiline caret", `"/^Host/"`, "GET /\nHost", -1, -1, false},
	{"multiline caret not after final newline", `"/^$/m"`, "a\n", -1, -1, false},
	{"dotall", `"/a.b/s"`, "a\nb", 0, 3, false},
	{"no dotall", `"/a.b/"`, "a\nb", -1, -1, false},
	{"ungreedy G", `"/a.+b/G"`, "axbxb", 0, 3, false},
	{"ungreedy G with ?", `"/a.+?b/G"`, "axbxb", 0, 5, false},
	{"greedy", `"/a.+b/"`, "axbxb", 0, 5, false},
	{"extended", "\"/a b # comment [(\n c/x\"", "abc", 0, 3, false},
	{"extended escaped space", `"/a\ b/x"`, "a b", 0, 3, false},
	{"extended class keeps space", `"/a[ ]b/x"`, "a b", 0, 3, false},
	{"escaped slash and semicolon", `"/a\/b\;c/"`, "a/b;c", 0, 5, false},
	{"octal", `"/\101\0102/"`, "A\x082", 0, 3, true}, // \101 is octal (fewer than 101 groups): refused by the fallback as ambiguous
	{"octal zero", `"/\012/"`, "a\nb", 1, 2, false},
	{"class octal", `"/[\101]/"`, "xA", 1, 2, false},
	{"hex brace", `"/\x{41}/"`, "A", 0, 1, false},
	{"class bracket literal", `"/[]a]+/"`, "x]a]", 1, 4, false},
	{"class dotnet subtraction is literal", `"/[a-z-[aeiou]]/"`, "e]", 0, 2, false},
	{"quote", `"/\Q.*\E+/"`, "a.**", 1, 4, false},
	{"inline caseless", `"/a(?i)b/"`, "aB", 0, 2, false},
	{"inline caseless scoped", `"/(a(?i)b)c/"`, "aBC", -1, -1, false},
	{"inline flag group", `"/(?i:b)c/"`, "Bc", 0, 2, false},
	{"recursion", `"/\((?R)*\)/"`, "(())", 0, 4, true},
	{"brace literal", `"/a{,2}/"`, "a{,2}", 0, 5, false},
	{"cntrl c", `"/\cA/"`, "\x01", 0, 1, false},
	{"named group numbering", `"/(?<n>a)(b)\2/"`, "abb", 0, 3, false},
	{"caseless backref ascii", `"/(['"a-z])x\1/i"`, "-Axa", 1, 4, false},
	{"caseless backref latin1", `"/(.)x\1/i"`, "\xc9x\xe9", -1, -1, true},
	{"caseless backref ascii group", `"/(\w+)=\1/i"`, "abc=ABC", 0, 7, false},
	{"http uri sqli", `"/union\s+select/Ui"`, "/x.php?id=1 UNION  SELECT 1", 12, 25, false},
	{"relative digits", `"/^\d{1,5}/R"`, "12345678", 0, 5, false},
}

func TestCases(t *testing.T) {
	for _, eng := range engines() {
		for _, c := range cases {
			kw, err := ParseSuricata(c.kw)
			if err != nil {
				t.Errorf("%s: ParseSuricata(%s): %v", c.name, c.kw, err)
				continue
			}
			re, err := Compile(kw.Expr, kw.Flags, Options{Engine: eng})
			if eng == EngineFallback && c.fbRefuses {
				if err == nil || !errors.Is(err, ErrNotSupported) {
					t.Errorf("%v %s: Compile(%q) = %v, want an ErrNotSupported refusal", eng, c.name, kw.Expr, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%v %s: Compile(%q, %v): %v", eng, c.name, kw.Expr, kw.Flags, err)
				continue
			}
			s := re.NewScratch()
			a, b, ok, err := re.Match(s, []byte(c.in), 0)
			if err != nil {
				t.Errorf("%v %s: Match: %v", eng, c.name, err)
				continue
			}
			if !ok {
				a, b = -1, -1
			}
			if a != c.start || b != c.end {
				extra := ""
				if re.fb != nil {
					extra = " (.NET: " + re.fb.net + ")"
				}
				t.Errorf("%v %s: /%s/%v on %q = [%d,%d), want [%d,%d)%s", eng, c.name, kw.Expr, kw.Flags, c.in, a, b, c.start, c.end, extra)
			}
		}
	}
}

func TestSubmatch(t *testing.T) {
	for _, eng := range engines() {
		re, err := Compile(`(?P<flow_user>\w+):(\d+)?(x)?`, Flags{}, Options{Engine: eng, Captures: true})
		if err != nil {
			t.Fatal(err)
		}
		if re.NumGroups() != 3 {
			t.Errorf("%v: NumGroups = %d, want 3", eng, re.NumGroups())
		}
		s := re.NewScratch()
		in := []byte("-- alice:42 --")
		if _, _, ok, err := re.Match(s, in, 0); !ok || err != nil {
			t.Fatalf("%v: no match: %v", eng, err)
		}
		want := [][2]int{{3, 11}, {3, 8}, {9, 11}, {-1, -1}, {-1, -1}}
		for i, w := range want {
			a, b := s.Submatch(i)
			if a != w[0] || b != w[1] {
				t.Errorf("%v: Submatch(%d) = %d,%d, want %d,%d", eng, i, a, b, w[0], w[1])
			}
		}
	}
}

func TestStartOffset(t *testing.T) {
	for _, eng := range engines() {
		re, err := Compile(`(?<=a)b|^c`, Flags{}, Options{Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		s := re.NewScratch()
		// The lookbehind sees the byte before start; ^ does not match at start > 0.
		if a, b, ok, _ := re.Match(s, []byte("abcb"), 1); !ok || a != 1 || b != 2 {
			t.Errorf("%v: lookbehind before start: %d %d %v", eng, a, b, ok)
		}
		if _, _, ok, _ := re.Match(s, []byte("xc"), 1); ok {
			t.Errorf("%v: ^ matched at start offset 1", eng)
		}
		if _, _, _, err := re.Match(s, []byte("ab"), 3); err == nil {
			t.Errorf("%v: start beyond buffer accepted", eng)
		}
		if _, _, ok, err := re.Match(s, nil, 0); ok || err != nil {
			t.Errorf("%v: empty buffer: %v %v", eng, ok, err)
		}
		// A anchors at the start offset, not at 0.
		an, err := Compile(`b`, Flags{Anchored: true}, Options{Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		if a, b, ok, _ := an.Match(s, []byte("abb"), 1); !ok || a != 1 || b != 2 {
			t.Errorf("%v: anchored at offset 1: %d %d %v", eng, a, b, ok)
		}
		if _, _, ok, _ := an.Match(s, []byte("aab"), 1); ok {
			t.Errorf("%v: anchored pattern matched after the start offset", eng)
		}
	}
}

// TestReDoS: ^(a+)+$ on 28 a's and "!" must give up with a limit error
// quickly, not run for minutes.
func TestReDoS(t *testing.T) {
	in := []byte(strings.Repeat("a", 28) + "!")
	for _, eng := range engines() {
		for _, jit := range []bool{true, false} {
			if eng == EngineFallback && !jit {
				continue
			}
			re, err := Compile(`^(a+)+$`, Flags{}, Options{Engine: eng, NoJIT: !jit})
			if err != nil {
				t.Fatal(err)
			}
			s := re.NewScratch()
			t0 := time.Now()
			_, _, ok, err := re.Match(s, in, 0)
			d := time.Since(t0)
			var lim Limit
			if ok || !errors.As(err, &lim) {
				t.Errorf("%v jit=%v: ok=%v err=%v, want a Limit", eng, jit, ok, err)
			}
			want := ErrMatchLimit
			if eng == EngineFallback {
				want = ErrTimeout
			}
			if !errors.Is(err, want) {
				t.Errorf("%v jit=%v: err = %v, want %v", eng, jit, err, want)
			}
			if d > time.Second {
				t.Errorf("%v jit=%v: took %v", eng, jit, d)
			}
			t.Logf("%v jit=%v (JIT in use: %v): %v after %v", eng, jit, re.JIT(), err, d)
		}
	}
}

func TestAllocs(t *testing.T) {
	if !HavePCRE2() {
		t.Skip("PCRE2 not in this build (CGO_ENABLED=0 or -tags nopcre2): the fallback allocates per match")
	}
	re, err := Compile(`User-Agent\x3a[^\r\n]*(curl|wget)`, Flags{Caseless: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := re.NewScratch()
	buf := []byte(httpPayload(1024, 1))
	n := testing.AllocsPerRun(1000, func() {
		re.Match(s, buf, 0)
		s.Submatch(1)
	})
	if n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
}

func TestScratchShared(t *testing.T) {
	// One small Scratch serves regexes with more groups: offsets only.
	for _, eng := range engines() {
		s := NewScratch(0)
		for _, p := range []string{`(a)(b)(c)`, `x(y)`} {
			re, err := Compile(p, Flags{}, Options{Engine: eng, Captures: true})
			if err != nil {
				t.Fatal(err)
			}
			if a, b, ok, err := re.Match(s, []byte("--abcxy"), 0); !ok || err != nil || b-a < 2 {
				t.Errorf("%v %s: %d %d %v %v", eng, p, a, b, ok, err)
			}
			if a, _ := s.Submatch(1); a != -1 {
				t.Errorf("%v %s: group 1 recorded beyond capacity", eng, p)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, eng := range engines() {
		for _, p := range []string{`(`, `a)`, `[a`, `*a`, `\`, `(?<=a+)b`, `a{2,1}`, `\x{100}`} {
			if _, err := Compile(p, Flags{}, Options{Engine: eng}); err == nil {
				if eng == EngineFallback && p == `(?<=a+)b` {
					continue // .NET allows variable-length lookbehind; PCRE2 does not
				}
				t.Errorf("%v: Compile(%q) succeeded", eng, p)
			} else if !strings.HasPrefix(err.Error(), "compile pcre ") {
				t.Errorf("%v: error %q does not start with the context", eng, err)
			}
		}
	}
}

// TestJITKnownBug pins PCRE2 10.42's JIT discrepancy on a lazy quantifier
// in an atomic group (PCRE2Project/pcre2#347, fixed in 10.43): Suricata
// linked against the same library gives the JIT answer, so polder does
// too. When the library is upgraded this test reports the change.
func TestJITKnownBug(t *testing.T) {
	if !HavePCRE2() {
		t.Skip("no PCRE2 in this build")
	}
	for _, noJIT := range []bool{false, true} {
		re, err := Compile(`(?>a+?)b`, Flags{}, Options{NoJIT: noJIT})
		if err != nil {
			t.Fatal(err)
		}
		_, _, ok, _ := re.Match(re.NewScratch(), []byte("aab"), 0)
		t.Logf("JIT in use %v: match %v", re.JIT(), ok)
		if !re.JIT() && !ok {
			t.Errorf("interpreter: no match, want [1,3)")
		}
		if re.JIT() && ok {
			t.Logf("the JIT now matches: libpcre2 has the #347 fix; update this test")
		}
	}
}
