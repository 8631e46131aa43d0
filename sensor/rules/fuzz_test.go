package rules

import (
	"bytes"
	"github.com/polder-nsm/polder/internal/corpus"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FuzzParse checks that no input panics the parser and that every rule it
// accepts prints to text that parses back to the same AST.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.rules")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "alert") || strings.HasPrefix(l, "drop") {
				f.Add(l)
			}
		}
	}
	f.Add(`alert tcp [1.1.1.1,[!2.2.2.0/24,$X]] [1:2,!3] -> any any (content:"|00|"; byte_math:bytes 1,offset 0,oper +,rvalue 1,result r; isdataat:r; sid:1;)`)
	f.Add(`alert tcp any any -> any any (pcre:"/a\;b/smiR"; content:!"\"x\\"; within:5; sid:1;)`)
	f.Add("alert tcp any any -> any any (msg:abc\\ ; xbits:set,a,track ip_pair,expire 5; sid:1;)")
	f.Add(`alert http any any -> any any (content:"a"; http_uri; pcre:"/b/UR"; urilen:1<>9; flowbits:isset,a|b; threshold:type backoff,track by_flow,count 1,multiplier 10; sid:2;)`)
	f.Add("alert dns any any -> any any (dns.query; to_lowercase; content:\"x\"; \\\n bsize:!5; tag:host,1,seconds,dst; sid:3;)")
	f.Add(`alert http any any -> any any (urilen:<3; http.uri; content:"ab"; offset:9223372036854775807; content:"c"; distance:-9223372036854775807; bsize:2<>4; sid:4;)`)
	f.Fuzz(func(t *testing.T, text string) {
		r, err := Parse(text)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		printed := r.String()
		r2, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed rule does not parse: %v\ninput:   %q\nprinted: %q", err, text, printed)
		}
		if !equalAST(r, r2) {
			t.Fatalf("round trip changed the AST\ninput:   %q\nprinted: %q", text, printed)
		}
		if p2 := r2.String(); p2 != printed {
			t.Fatalf("printing is not stable: %q then %q", printed, p2)
		}
		// The analyzer reads every rule that loads: it must not panic, and
		// it reads the AST, so the printed rule gets the same verdict.
		if a, b := len(AnalyzeRule(r)), len(AnalyzeRule(r2)); a != b {
			t.Fatalf("analysis changed with printing: %d then %d warnings\ninput: %q", a, b, text)
		}
	})
}

// FuzzLoad feeds whole files to Set.Load: comments, continuation lines
// and duplicate sids must never panic, and every rule loaded must print
// and parse back.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.rules")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := NewSet()
		errs := s.Load(strings.NewReader(text), "fuzz.rules", LoadOptions{Vars: DefaultVars()})
		for _, e := range errs {
			if e.File != "fuzz.rules" || e.Line < 1 {
				t.Fatalf("error without position: %+v", e)
			}
		}
		for _, r := range s.Rules {
			if _, err := Parse(r.String()); err != nil {
				t.Fatalf("loaded rule does not reparse: %v\n%q", err, r.String())
			}
		}
	})
}

// BenchmarkParseETOpen loads the whole ET Open ruleset from memory on one
// goroutine: the parse share of the engine's 1.5 s load+compile budget.
func BenchmarkParseETOpen(b *testing.B) {
	files := corpus.Glob(b, "rules/et-open-suricata-5.0-20240421/*.rules")
	data := make([][]byte, len(files))
	for i, p := range files {
		var err error
		if data[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	opts := LoadOptions{Vars: DefaultVars()}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		s := NewSet()
		for i, d := range data {
			if errs := s.Load(bytes.NewReader(d), files[i], opts); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
		n = len(s.Rules)
	}
	b.ReportMetric(float64(n), "rules/op")
	// On a shared machine ns/op is wall time inflated by other load; the
	// process CPU time (GC workers included) is the number to compare
	// with the budget.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FuzzContent checks that EncodeContent's output decodes to the same bytes
// for any pattern, and that DecodeContent never panics.
func FuzzContent(f *testing.F) {
	f.Add([]byte("a;b\"c\\d|e\x00\xff"), `"|41 42|C\;"`)
	f.Fuzz(func(t *testing.T, pattern []byte, text string) {
		DecodeContent(text) //nolint:errcheck // must not panic
		if len(pattern) == 0 {
			return
		}
		enc := EncodeContent(pattern, len(pattern)%2 == 0)
		got, neg, err := DecodeContent(enc)
		if err != nil || !bytes.Equal(got, pattern) || neg != (len(pattern)%2 == 0) {
			t.Fatalf("EncodeContent(%q) = %s decodes to %q, %v, %v", pattern, enc, got, neg, err)
		}
	})
}
