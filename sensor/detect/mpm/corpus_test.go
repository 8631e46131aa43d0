package mpm

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/pcaptest"
)

// Real material: the fast patterns of the ET Open rules and transport
// payloads of the corpus pcaps.
var (
	etRulesDir = "../../../../shared/corpus/rules/et-open-suricata-5.0-20240421"
	pcapDir    = "../../../../shared/corpus/pcaps"
)

var (
	contentRE = regexp.MustCompile(`content:\s*(!?)"((?:[^"\\]|\\.)*)"`)
	hexRE     = regexp.MustCompile(`^[0-9A-Fa-f ]*$`)
)

// decodeContent decodes a rule content string: |hex| runs and \-escapes.
func decodeContent(s string) ([]byte, bool) {
	var out []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '|':
			j := strings.IndexByte(s[i+1:], '|')
			if j < 0 || !hexRE.MatchString(s[i+1:i+1+j]) {
				return nil, false
			}
			h, err := hex.DecodeString(strings.ReplaceAll(s[i+1:i+1+j], " ", ""))
			if err != nil {
				return nil, false
			}
			out = append(out, h...)
			i += j + 1
		case '\\':
			if i+1 < len(s) {
				i++
				out = append(out, s[i])
			}
		default:
			out = append(out, c)
		}
	}
	return out, len(out) > 0
}

// etPatterns returns, for every ET Open rule (enabled or commented out),
// the fast pattern Suricata would pick by default: the content marked
// fast_pattern, else the longest non-negated content. all returns every
// non-negated content instead, each with its own ID.
func etPatterns(tb testing.TB, all bool) []Pattern {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(etRulesDir, "*.rules"))
	if len(files) == 0 {
		missingCorpus(tb, "no ET Open rules under %s", etRulesDir)
	}
	var pats []Pattern
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimLeft(sc.Text(), "# ")
			if !strings.HasPrefix(line, "alert") && !strings.HasPrefix(line, "drop") {
				continue
			}
			locs := contentRE.FindAllStringSubmatchIndex(line, -1)
			var best Pattern
			fast := false
			for k, loc := range locs {
				end := len(line)
				if k+1 < len(locs) {
					end = locs[k+1][0]
				}
				mods := line[loc[1]:end]
				if loc[3] > loc[2] { // negated
					continue
				}
				b, ok := decodeContent(line[loc[4]:loc[5]])
				if !ok {
					continue
				}
				p := Pattern{ID: uint32(len(pats)), Bytes: b, Nocase: strings.Contains(mods, "nocase;")}
				if all {
					pats = append(pats, p)
					continue
				}
				isFast := strings.Contains(mods, "fast_pattern")
				if fast && !isFast {
					continue
				}
				if (isFast && !fast) || len(b) > len(best.Bytes) {
					best, fast = p, isFast
				}
			}
			if !all && best.Bytes != nil {
				pats = append(pats, best)
			}
		}
		fh.Close()
	}
	return pats
}

var corpusPayloads = sync.OnceValues(func() ([][]byte, error) {
	var files []string
	err := filepath.WalkDir(pcapDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out [][]byte
	for _, f := range files {
		pkts, err := pcaptest.Read(f)
		if err != nil {
			continue // a few corpus files are deliberately broken
		}
		for _, p := range pkts {
			if len(p.Payload) > 0 {
				out = append(out, slices.Clone(p.Payload))
			}
		}
	}
	return out, nil
})

func payloads(tb testing.TB) [][]byte {
	tb.Helper()
	p, err := corpusPayloads()
	if err != nil || len(p) == 0 {
		missingCorpus(tb, "no corpus payloads under %s: %v", pcapDir, err)
	}
	return p
}

// chunks cuts the concatenated payloads into size-byte buffers, up to
// limit bytes in all.
func chunks(pl [][]byte, size, limit int) [][]byte {
	var all []byte
	for _, p := range pl {
		all = append(all, p...)
		if len(all) >= limit {
			break
		}
	}
	var out [][]byte
	for len(all) >= size {
		out = append(out, all[:size:size])
		all = all[size:]
	}
	return out
}

// refMatcher is the naive reference with the nocase patterns folded once.
type refMatcher struct {
	pats []Pattern
	low  [][]byte
}

func newRef(pats []Pattern) *refMatcher {
	r := &refMatcher{pats: pats}
	for _, p := range pats {
		r.low = append(r.low, asciiLower(p.Bytes))
	}
	return r
}

func (r *refMatcher) scan(buf []byte) []uint32 {
	lower := asciiLower(buf)
	// Skip patterns whose first two bytes do not occur (an exact shortcut
	// that keeps the 33k × bytes.Contains reference affordable).
	var pairs, lpairs [1 << 16]bool
	var ones, lones [256]bool
	for i := range buf {
		ones[buf[i]], lones[lower[i]] = true, true
		if i > 0 {
			pairs[int(buf[i-1])<<8|int(buf[i])] = true
			lpairs[int(lower[i-1])<<8|int(lower[i])] = true
		}
	}
	var out []uint32
	for i, p := range r.pats {
		b, in, pr, on := p.Bytes, buf, &pairs, &ones
		if p.Nocase {
			b, in, pr, on = r.low[i], lower, &lpairs, &lones
		}
		if len(b) == 1 && !on[b[0]] || len(b) >= 2 && !pr[int(b[0])<<8|int(b[1])] {
			continue
		}
		if bytes.Contains(in, b) {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestETOpenPatternsOnCorpus(t *testing.T) {
	start := time.Now()
	pl := payloads(t)
	t.Logf("%d payloads read in %v", len(pl), time.Since(start))
	sets := []bool{false, true}
	if testing.Short() {
		sets = sets[:1]
	}
	for _, all := range sets {
		start := time.Now()
		pats := etPatterns(t, all)
		t.Logf("all contents=%v: %d patterns extracted in %v", all, len(pats), time.Since(start))
		var bufs [][]byte
		step := 1 + len(pl)/1000
		if testing.Short() {
			step = 1 + len(pl)/100
		}
		for i := 0; i < len(pl); i += step {
			bufs = append(bufs, pl[i])
		}
		bufs = append(bufs, chunks(pl, 64<<10, 1<<20)...)
		start = time.Now()
		ref := newRef(pats)
		want := make([][]uint32, len(bufs))
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i, b := range bufs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				want[i] = ref.scan(b)
				<-sem
			}()
		}
		wg.Wait()
		t.Logf("reference scanned %d buffers in %v", len(bufs), time.Since(start))
		total := 0
		for _, w := range want {
			total += len(w)
		}
		if total == 0 {
			t.Fatal("the reference finds no pattern in any payload")
		}
		for _, eng := range engines() {
			m := mustNew(t, pats, eng)
			if st, ok := m.(fmt.Stringer); ok {
				t.Log(st)
			}
			s := m.NewScratch()
			for i, b := range bufs {
				if got := scanSorted(t, m, s, b); !slices.Equal(got, want[i]) {
					t.Fatalf("%s: buffer %d (%d bytes): got %d IDs, reference %d\n got %v\nwant %v", eng, i, len(b), len(got), len(want[i]), got, want[i])
				}
			}
			t.Logf("%s: %d buffers agree (%d hits)", eng, len(bufs), total)
		}
	}
}

// missingCorpus skips on a developer machine without ../shared/corpus but
// fails in CI, where the corpus must be there: a test of real material must
// not pass silently without it.
func missingCorpus(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf(format+" (CI must provide ../shared/corpus)", args...)
	}
	tb.Skipf(format, args...)
}
