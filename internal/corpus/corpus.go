// Package corpus locates the shared third-party test corpus (pcaps, rules,
// EVE schemas, Suricata reference output) for tests. The corpus lives beside
// the repository as ../shared/corpus, in CI as on developers' machines;
// POLDER_CORPUS overrides that.
package corpus

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the corpus root. A missing corpus fails the test: tests that
// need real data must not pass silently without it.
func Dir(t testing.TB) string {
	t.Helper()
	d, err := find()
	if err != nil {
		t.Fatalf("locate corpus: %v (set POLDER_CORPUS or check out ../shared beside the repository)", err)
	}
	return d
}

// Path joins elems onto the corpus root.
func Path(t testing.TB, elems ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elems...)...)
}

// Glob returns the files matching pattern (filepath.Match syntax, relative
// to the corpus root), sorted. No match fails the test, as a missing corpus
// does.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(Path(t, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus %s: no files (%v)", pattern, err)
	}
	sort.Strings(files)
	return files
}

// Pcaps returns every pcap and pcapng under pcaps/, sorted, as paths
// relative to pcaps/ paired with absolute paths.
func Pcaps(t testing.TB) (rel, abs []string) {
	t.Helper()
	root := Path(t, "pcaps")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		n := strings.ToLower(d.Name())
		if strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".cap") {
			r, _ := filepath.Rel(root, p)
			rel = append(rel, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk corpus pcaps: %v", err)
	}
	sort.Strings(rel)
	for _, r := range rel {
		abs = append(abs, filepath.Join(root, r))
	}
	return rel, abs
}

func find() (string, error) {
	if d := os.Getenv("POLDER_CORPUS"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", err
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "..", "shared", "corpus")
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(c); err != nil {
				return "", err
			}
			return filepath.Clean(c), nil
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}
