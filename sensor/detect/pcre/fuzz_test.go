package pcre

import (
	"testing"
	"time"
)

// FuzzCompileMatch compiles a random pattern with random flags and matches
// it against random input on every engine in the build: nothing may
// crash or hang. Where PCRE2 and the fallback both accept the pattern and
// both decide, they must agree: the translator renders PCRE exactly or
// refuses.
func FuzzCompileMatch(f *testing.F) {
	for _, c := range cases {
		if kw, err := ParseSuricata(c.kw); err == nil {
			f.Add(kw.Expr, flagBits(kw.Flags), []byte(c.in), uint16(0))
		}
	}
	f.Add(`^(a+)+$`, uint8(0), []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), uint16(0))
	f.Add(`(?<=\d)x(?=y)`, uint8(1), []byte("1xy"), uint16(1))
	f.Fuzz(func(t *testing.T, expr string, fl uint8, in []byte, start uint16) {
		if len(expr) > 256 || len(in) > 2048 {
			return
		}
		flags := Flags{fl&1 != 0, fl&2 != 0, fl&4 != 0, fl&8 != 0, fl&16 != 0, fl&32 != 0, fl&64 != 0}
		st := int(start) % (len(in) + 1)
		t0 := time.Now()
		defer func() {
			// Every engine is bounded (match limit, timeout): one input
			// taking seconds is a hang, even on a loaded machine.
			if d := time.Since(t0); d > 5*time.Second {
				t.Errorf("/%s/%v over %d bytes took %v", expr, flags, len(in), d)
			}
		}()
		type res struct {
			a, b int
			ok   bool
		}
		// PCRE2 runs with and without the JIT (crash checks); the fallback
		// is compared with the interpreter: the 10.42 JIT has known
		// discrepancies of its own (PCRE2Project/pcre2#347, lazy
		// quantifiers in atomic groups, fixed in 10.43).
		type config struct {
			eng   Engine
			noJIT bool
		}
		configs := []config{{EngineFallback, false}}
		if HavePCRE2() {
			configs = append(configs, config{EnginePCRE2, true}, config{EnginePCRE2, false})
		}
		var got [2]*res // fallback, pcre2 interpreter
		for k, c := range configs {
			re, err := Compile(expr, flags, Options{Engine: c.eng, NoJIT: c.noJIT, Captures: true, Timeout: 20 * time.Millisecond})
			if err != nil {
				continue
			}
			s := re.NewScratch()
			a, b, ok, err := re.Match(s, in, st)
			if err != nil {
				continue
			}
			if ok && (a < 0 || b < a || b > len(in)) {
				t.Fatalf("%v: match [%d,%d) outside the input of %d bytes", c.eng, a, b, len(in))
			}
			for i := 0; i <= re.NumGroups(); i++ {
				if x, y := s.Submatch(i); x != -1 && (x < 0 || y < x || y > len(in)) {
					t.Fatalf("%v: group %d [%d,%d) outside the input", c.eng, i, x, y)
				}
			}
			if k < 2 {
				got[k] = &res{a, b, ok}
			}
			re.Close()
			s.Close()
		}
		if got[0] != nil && got[1] != nil && *got[0] != *got[1] {
			t.Errorf("engines disagree on /%s/%v at %d over %q: pcre2 interpreter %+v, regexp2 %+v", expr, flags, st, in, *got[1], *got[0])
		}
	})
}

func flagBits(f Flags) uint8 {
	var b uint8
	for i, on := range []bool{f.Caseless, f.Dotall, f.Multiline, f.Extended, f.Anchored, f.DollarEndOnly, f.Ungreedy} {
		if on {
			b |= 1 << i
		}
	}
	return b
}
