package inspect

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/rules"
)

// loadETOpen loads the enabled rules of the ET Open snapshot.
func loadETOpen(t testing.TB) *rules.Set {
	t.Helper()
	files, err := filepath.Glob(corpus.Path(t, "rules", "et-open-suricata-5.0-20240421", "*.rules"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ET Open rules in the corpus: %v", err)
	}
	set, errs := rules.LoadFiles(files, rules.LoadOptions{Vars: rules.DefaultVars()})
	if len(errs) > 0 {
		t.Logf("%d rules refused by the parser (not this package's concern); first: %v", len(errs), errs[0])
	}
	return set
}

// TestETOpenCompiles compiles every buffer of every ET Open rule and
// reports what was refused, by keyword. Target: everything compiles.
func TestETOpenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles ~4500 pcres")
	}
	set := loadETOpen(t)
	var buffers, refused int
	byKeyword := map[string]int{}
	s := NewScratch()
	probe := []byte("GET /index.php?id=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n")
	for _, r := range set.Rules {
		vm := NewVarMap()
		var v Vars
		for _, b := range r.Buffers {
			buffers++
			p, err := Compile(b, vm, Options{})
			if err != nil {
				refused++
				kw, _, _ := strings.Cut(err.Error(), ":")
				byKeyword[kw]++
				if !pcre.HavePCRE2() && errors.Is(err, pcre.ErrNotSupported) {
					// The pure-Go fallback refuses what it cannot render
					// exactly; with PCRE2 these compile.
					t.Logf("sid %d buffer %s: %v", r.SID, b.Name, err)
					continue
				}
				t.Errorf("sid %d buffer %s: %v", r.SID, b.Name, err)
				continue
			}
			// Smoke: every program runs on a probe without panicking.
			p.Match(s, &v, p.Transform(s, probe))
		}
	}
	t.Logf("ET Open: %d rules, %d buffers, %d compiled, %d refused", len(set.Rules), buffers, buffers-refused, refused)
	keys := make([]string, 0, len(byKeyword))
	for k := range byKeyword {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  refused by %-20s %d", k, byKeyword[k])
	}
}
