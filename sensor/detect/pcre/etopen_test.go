package pcre

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/pcaptest"
)

// pcreOption finds the pcre keyword values of a rule: `pcre:` then an
// optional '!' and a double-quoted string in which \" and \; are escapes.
var pcreOption = regexp.MustCompile(`(?:^|[;(]\s*)pcre\s*:\s*(!?\s*"(?:\\.|[^"\\])*")\s*;`)

// etPcres returns every pcre value of the enabled ET Open rules, in file
// order, with duplicates.
func etPcres(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(corpus.Path(t, "rules", "et-open-suricata-5.0-20240421", "*.rules"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ET Open rules in the corpus: %v", err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			for _, m := range pcreOption.FindAllStringSubmatch(line, -1) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// corpusPayloads returns distinct non-empty TCP chunks and UDP payloads of
// the corpus pcaps, each cut to 4 KiB, at most limit of them, spread over
// all pcaps.
func corpusPayloads(t *testing.T, limit int) [][]byte {
	t.Helper()
	_, pcaps := corpus.Pcaps(t)
	seen := map[string]bool{}
	var per [][][]byte
	for _, p := range pcaps {
		pk, err := pcaptest.Read(p)
		if err != nil {
			continue
		}
		var mine [][]byte
		add := func(b []byte) {
			if len(b) == 0 {
				return
			}
			if len(b) > 4096 {
				b = b[:4096]
			}
			if !seen[string(b)] {
				seen[string(b)] = true
				mine = append(mine, b)
			}
		}
		for _, ev := range pcaptest.TCPStreams(pk) {
			add(ev.Data)
		}
		for _, q := range pk {
			if !q.TCP {
				add(q.Payload)
			}
		}
		per = append(per, mine)
	}
	// Round-robin over the pcaps so one big capture does not crowd out the rest.
	var out [][]byte
	for i := 0; len(out) < limit; i++ {
		added := false
		for _, m := range per {
			if i < len(m) && len(out) < limit {
				out = append(out, m[i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// TestETOpenDifferential compiles every pcre of the ET Open rules with
// each engine, then compares the engines on corpus payloads for the
// patterns both accept: every pair PCRE2 matches, plus a sample of the
// pairs it does not. Any disagreement fails.
func TestETOpenDifferential(t *testing.T) {
	vals := etPcres(t)
	uniq := map[string]int{}
	for _, v := range vals {
		uniq[v]++
	}
	keys := make([]string, 0, len(uniq))
	for v := range uniq {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	t.Logf("ET Open: %d pcre keywords in enabled rules, %d distinct", len(vals), len(keys))

	type pair struct{ p2, fb *Regexp }
	var both []pair
	parseErr, p2ok, fbok, p2okAll, fbokAll := 0, 0, 0, 0, 0
	p2Errs := map[string]int{}
	fbRefusals := map[string]int{}
	var fbOnlyErr, p2OnlyErr []string
	for _, v := range keys {
		kw, err := ParseSuricata(v)
		if err != nil {
			parseErr++
			t.Errorf("ParseSuricata(%s): %v", v, err)
			continue
		}
		var p2 *Regexp
		var e2 error
		if HavePCRE2() {
			p2, e2 = Compile(kw.Expr, kw.Flags, Options{Engine: EnginePCRE2})
			if e2 == nil {
				p2ok++
				p2okAll += uniq[v]
			} else {
				p2Errs[e2.Error()]++
			}
		}
		fb, ef := Compile(kw.Expr, kw.Flags, Options{Engine: EngineFallback})
		if ef == nil {
			fbok++
			fbokAll += uniq[v]
		} else {
			var se *SyntaxError
			reason := ef.Error()
			if errors.As(ef, &se) {
				reason = se.Msg
				if i := strings.IndexAny(reason, `"'`); i > 0 && se.Unsupported {
					reason = strings.TrimSpace(reason[:i])
				}
				if !se.Unsupported {
					reason = "syntax: " + reason
				}
			}
			fbRefusals[reason]++
		}
		switch {
		case e2 == nil && ef == nil && p2 != nil:
			both = append(both, pair{p2, fb})
		case e2 == nil && ef != nil && p2 != nil:
			fbOnlyErr = append(fbOnlyErr, v)
		case e2 != nil && ef == nil:
			p2OnlyErr = append(p2OnlyErr, v+": "+e2.Error())
		}
	}
	t.Logf("compiled: pcre2 %d/%d distinct (%d/%d keywords), regexp2 fallback %d/%d distinct (%d/%d keywords)",
		p2ok, len(keys), p2okAll, len(vals), fbok, len(keys), fbokAll, len(vals))
	for _, r := range sortedCounts(fbRefusals) {
		t.Logf("  fallback refuses %s", r)
	}
	for _, r := range sortedCounts(p2Errs) {
		t.Logf("  pcre2 error %s", r)
	}
	for _, v := range p2OnlyErr {
		t.Logf("  only the fallback compiles %s", v)
	}
	if len(fbOnlyErr) > 0 {
		t.Logf("  e.g. only pcre2 compiles: %s", strings.Join(fbOnlyErr[:min(5, len(fbOnlyErr))], "  "))
	}
	if !HavePCRE2() {
		t.Skip("no PCRE2 in this build: no differential")
	}

	limit, sample := 2000, 30
	if testing.Short() {
		limit, sample = 400, 10
	}
	payloads := corpusPayloads(t, limit)
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	t.Logf("payloads: %d (%d bytes) from the corpus pcaps", len(payloads), total)

	rng := rand.New(rand.NewPCG(1, 2))
	s := NewScratch(0)
	var runs, p2matches, fbRuns, lim2, limf, disagree int
	var limits [NumLimits]int
	var examples []string
	for _, pr := range both {
		var idx []int
		for i, buf := range payloads {
			runs++
			_, _, ok, err := pr.p2.Match(s, buf, 0)
			if err != nil {
				lim2++
				var l Limit
				if errors.As(err, &l) {
					limits[l]++
				}
				continue
			}
			if ok {
				p2matches++
				idx = append(idx, i)
			}
		}
		for k := 0; k < sample; k++ {
			idx = append(idx, rng.IntN(len(payloads)))
		}
		for _, i := range idx {
			buf := payloads[i]
			a2, b2, ok2, err2 := pr.p2.Match(s, buf, 0)
			af, bf, okf, errf := pr.fb.Match(s, buf, 0)
			fbRuns++
			if err2 != nil {
				continue
			}
			if errf != nil {
				limf++
				continue
			}
			if ok2 != okf || ok2 && (a2 != af || b2 != bf) {
				disagree++
				if len(examples) < 20 {
					examples = append(examples, fmt.Sprintf("/%s/%v on payload %d: pcre2 %v [%d,%d) regexp2 %v [%d,%d) (.NET %s)",
						pr.p2.String(), pr.p2.Flags(), i, ok2, a2, b2, okf, af, bf, prefix(pr.fb.fb.net, 200)))
				}
			}
		}
	}
	t.Logf("differential: %d patterns × %d payloads = %d pcre2 matches run, %d matched, %d hit a pcre2 limit; %d fallback runs, %d fallback timeouts, %d disagreements",
		len(both), len(payloads), runs, p2matches, lim2, fbRuns, limf, disagree)
	for l, n := range limits {
		if n > 0 {
			t.Logf("  pcre2 %s: %d", Limit(l).String(), n)
		}
	}
	for _, e := range examples {
		t.Errorf("disagreement: %s", e)
	}
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%5d  %s", v, k))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}
