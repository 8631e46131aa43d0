package mpm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// engines lists the engines compiled into this test binary.
func engines() []string {
	if hyperscanCompiled {
		return []string{EngineAC, EngineHyperscan}
	}
	return []string{EngineAC}
}

// naive is the reference: bytes.Contains per pattern, ASCII folding for
// nocase.
func naive(pats []Pattern, buf []byte) []uint32 {
	lower := asciiLower(buf)
	var out []uint32
	for _, p := range pats {
		var ok bool
		if p.Nocase {
			ok = bytes.Contains(lower, asciiLower(p.Bytes))
		} else {
			ok = bytes.Contains(buf, p.Bytes)
		}
		if ok && len(p.Bytes) > 0 {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func mustNew(t testing.TB, pats []Pattern, engine string) Matcher {
	t.Helper()
	m, err := New(pats, Options{Engine: engine})
	if err != nil {
		t.Fatalf("New(%d patterns, %s): %v", len(pats), engine, err)
	}
	if m.Engine() != engine {
		t.Fatalf("Engine() = %q, want %q", m.Engine(), engine)
	}
	return m
}

// scanSorted scans and checks the IDs are distinct.
func scanSorted(t testing.TB, m Matcher, s *Scratch, buf []byte) []uint32 {
	t.Helper()
	got := m.Scan(s, buf, nil)
	slices.Sort(got)
	if c := slices.Compact(slices.Clone(got)); len(c) != len(got) {
		t.Fatalf("%s: Scan(%q) reported an ID twice: %v", m.Engine(), buf, got)
	}
	return got
}

func cs(id uint32, s string) Pattern { return Pattern{ID: id, Bytes: []byte(s)} }
func nc(id uint32, s string) Pattern { return Pattern{ID: id, Bytes: []byte(s), Nocase: true} }

func TestScanTable(t *testing.T) {
	tests := []struct {
		name string
		pats []Pattern
		buf  string
		want []uint32
	}{
		{"empty buffer", []Pattern{cs(1, "a"), cs(2, "abc")}, "", nil},
		{"no match", []Pattern{cs(1, "abc")}, "abd ab bc", nil},
		{"overlap", []Pattern{cs(1, "abcd"), cs(2, "bcde"), cs(3, "cd")}, "xabcdex", []uint32{1, 2, 3}},
		{"prefix and suffix", []Pattern{cs(1, "he"), cs(2, "hers"), cs(3, "his"), cs(4, "she"), cs(5, "hershey")}, "ushers", []uint32{1, 2, 4}},
		{"suffix chain", []Pattern{cs(1, "aaaa"), cs(2, "aaa"), cs(3, "aa"), cs(4, "a")}, "aaa", []uint32{2, 3, 4}},
		{"case-sensitive miss", []Pattern{cs(1, "GET"), cs(2, "Host")}, "get host", nil},
		{"case-sensitive hit", []Pattern{cs(1, "GET"), cs(2, "Host")}, "GET / HTTP/1.1\r\nHost: x", []uint32{1, 2}},
		{"nocase", []Pattern{nc(1, "user-agent"), nc(2, "HOST"), nc(3, "x")}, "USER-AGENT: curl\r\nhost: X", []uint32{1, 2, 3}},
		{"same bytes, case and nocase", []Pattern{cs(1, "Admin"), nc(2, "Admin"), cs(3, "admin")}, "ADMIN admin", []uint32{2, 3}},
		{"case after failed verify", []Pattern{cs(1, "abc")}, "ABC abc", []uint32{1}},
		{"nocase leaves high bytes", []Pattern{nc(1, "\xc4\xe4"), nc(2, "\xe4")}, "\xe4\xe4 \xc4\xc4", []uint32{2}},
		{"binary", []Pattern{cs(1, "\x00\x00\x01"), cs(2, "\xff\xfe"), cs(3, "\x00")}, "a\x00\x00\x01\xff\xfe", []uint32{1, 2, 3}},
		{"one-byte patterns", []Pattern{cs(1, "a"), cs(2, "B"), nc(3, "c"), nc(4, "D"), cs(5, "\n"), cs(6, "z")}, "AbC d\n", []uint32{3, 4, 5}},
		{"two-byte patterns", []Pattern{cs(1, "ab"), nc(2, "CD"), cs(3, "\r\n"), cs(4, "Ab"), cs(5, "zz")}, "xAbcd\r\n", []uint32{2, 3, 4}},
		{"two-byte at edges", []Pattern{cs(1, "ab"), cs(2, "yz")}, "abxyz", []uint32{1, 2}},
		{"all lengths together", []Pattern{cs(1, "a"), cs(2, "ab"), cs(3, "abc"), nc(4, "ABCD"), cs(5, "bcd")}, "abcd", []uint32{1, 2, 3, 4, 5}},
		{"duplicate pattern, two IDs", []Pattern{cs(1, "evil"), cs(2, "evil"), cs(1, "evil")}, "evil evil", []uint32{1, 2}},
		{"one ID, two patterns", []Pattern{cs(7, "foo"), cs(7, "bar"), cs(7, "b")}, "foobar", []uint32{7}},
		{"repeated hits once", []Pattern{cs(1, "ab"), cs(2, "abc"), cs(3, "a")}, "abcabcabcabc", []uint32{1, 2, 3}},
	}
	for _, eng := range engines() {
		for _, tt := range tests {
			t.Run(eng+"/"+tt.name, func(t *testing.T) {
				m := mustNew(t, tt.pats, eng)
				s := m.NewScratch()
				for range 3 { // the epoch must reset "seen" between scans
					got := scanSorted(t, m, s, []byte(tt.buf))
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("Scan(%q) -want +got:\n%s", tt.buf, diff)
					}
					if ref := naive(tt.pats, []byte(tt.buf)); !slices.Equal(ref, got) {
						t.Errorf("Scan(%q) = %v, naive reference %v", tt.buf, got, ref)
					}
				}
			})
		}
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := New([]Pattern{cs(1, "ok"), {ID: 2}}, Options{Engine: EngineAC}); err == nil {
		t.Error("empty pattern: no error")
	}
	if _, err := New(nil, Options{Engine: "bogus"}); err == nil {
		t.Error("unknown engine: no error")
	}
	if !hyperscanCompiled {
		if _, err := New(nil, Options{Engine: EngineHyperscan}); err == nil {
			t.Error("hyperscan not compiled in: no error")
		}
	}
	m, err := New([]Pattern{cs(1, "x")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := engines()[len(engines())-1]; m.Engine() != want {
		t.Errorf("auto picked %q, want %q", m.Engine(), want)
	}
}

func TestNoPatterns(t *testing.T) {
	for _, eng := range engines() {
		m := mustNew(t, nil, eng)
		if got := m.Scan(m.NewScratch(), []byte("anything"), nil); len(got) != 0 {
			t.Errorf("%s: got %v", eng, got)
		}
	}
}

func TestScratchFromOtherMatcherPanics(t *testing.T) {
	a := mustNew(t, []Pattern{cs(1, "abc")}, EngineAC)
	b := mustNew(t, []Pattern{cs(1, "abc")}, EngineAC)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	a.Scan(b.NewScratch(), []byte("abc"), nil)
}

func TestEpochWrap(t *testing.T) {
	pats := []Pattern{cs(1, "abc"), cs(2, "x")}
	for _, eng := range engines() {
		m := mustNew(t, pats, eng)
		s := m.NewScratch()
		s.epoch = ^uint32(0) - 1
		for i := range 4 {
			if got := scanSorted(t, m, s, []byte("abcx")); !slices.Equal(got, []uint32{1, 2}) {
				t.Errorf("%s scan %d near epoch wrap: %v", eng, i, got)
			}
		}
	}
}

func TestScanAllocs(t *testing.T) {
	pats := randomPatterns(rand.New(rand.NewPCG(1, 2)), 2000)
	buf := randomBuffer(rand.New(rand.NewPCG(3, 4)), 1500, pats)
	for _, eng := range engines() {
		m := mustNew(t, pats, eng)
		s := m.NewScratch()
		hits := make([]uint32, 0, len(pats))
		if n := len(m.Scan(s, buf, hits)); n == 0 {
			t.Fatalf("%s: test buffer matches nothing", eng)
		}
		allocs := testing.AllocsPerRun(100, func() { hits = m.Scan(s, buf, hits[:0]) })
		if allocs != 0 {
			t.Errorf("%s: Scan allocates %.1f times per call, want 0", eng, allocs)
		}
	}
}

const testAlpha = "abcAB\x00\xff-"

// randomPatterns draws patterns from a small alphabet (so they overlap and
// share prefixes) with some binary and some 1–2 byte ones.
func randomPatterns(r *rand.Rand, n int) []Pattern {
	var pats []Pattern
	for i := range n {
		l := 1 + r.IntN(8)
		switch r.IntN(12) {
		case 0, 1, 2:
			l = 1 + r.IntN(2)
		case 3:
			l = acPrefix - 2 + r.IntN(40) // around and beyond the automaton depth
		}
		b := make([]byte, l)
		for j := range b {
			if r.IntN(10) == 0 {
				b[j] = byte(r.IntN(256))
			} else {
				b[j] = testAlpha[r.IntN(len(testAlpha))]
			}
		}
		pats = append(pats, Pattern{ID: uint32(r.IntN(n + 1)), Bytes: b, Nocase: r.IntN(2) == 0})
		if i > 0 && r.IntN(20) == 0 { // an exact duplicate with another ID
			d := pats[r.IntN(len(pats))]
			d.ID = uint32(i)
			pats = append(pats, d)
		}
	}
	return pats
}

// randomBuffer mixes random bytes, alphabet bytes and planted patterns
// with random case changes.
func randomBuffer(r *rand.Rand, n int, pats []Pattern) []byte {
	buf := make([]byte, 0, n+16)
	for len(buf) < n {
		switch r.IntN(3) {
		case 0:
			buf = append(buf, byte(r.IntN(256)))
		case 1:
			buf = append(buf, testAlpha[r.IntN(len(testAlpha))])
		default:
			p := pats[r.IntN(len(pats))].Bytes
			for _, c := range p {
				if r.IntN(3) == 0 {
					c = upper(c)
				} else if r.IntN(3) == 0 {
					c = fold(c)
				}
				buf = append(buf, c)
			}
		}
	}
	return buf[:n]
}

func TestDifferentialRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for round := range rounds {
		pats := randomPatterns(r, 1+r.IntN(300))
		opts := Options{}
		if round%3 == 0 {
			opts.DenseBytes = 1 // only the root dense: exercise the sparse path
		}
		ms := map[string]Matcher{}
		for _, eng := range engines() {
			opts.Engine = eng
			m, err := New(pats, opts)
			if err != nil {
				t.Fatal(err)
			}
			ms[eng] = m
		}
		for range 10 {
			buf := randomBuffer(r, r.IntN(1500), pats)
			want := naive(pats, buf)
			for eng, m := range ms {
				if got := scanSorted(t, m, m.NewScratch(), buf); !slices.Equal(got, want) {
					t.Fatalf("round %d %s: Scan(%q) with %d patterns:\n got %v\nwant %v\n%s", round, eng, buf, len(pats), got, want, fmt.Sprint(pats))
				}
			}
		}
	}
}

// TestScanPartBoundaries plants patterns across every boundary of the
// parts Scan walks at once, and long patterns whose prefix ends the
// buffer without room for the rest.
func TestScanPartBoundaries(t *testing.T) {
	long := bytes.Repeat([]byte("Long-Pattern."), 6) // 78 bytes, beyond acPrefix
	pats := []Pattern{
		{ID: 1, Bytes: long},
		{ID: 2, Bytes: []byte("boundary"), Nocase: true},
		{ID: 3, Bytes: []byte("xyzzy")},
		{ID: 4, Bytes: bytes.ToUpper(long[:40]), Nocase: true},
	}
	m := mustNew(t, pats, EngineAC)
	s := m.NewScratch()
	for n := acWaysMin; n < acWaysMin+200; n += 7 {
		seg := (n + acWays - 1) / acWays
		for k := 1; k < acWays; k++ {
			for _, p := range pats {
				for shift := 1; shift < len(p.Bytes); shift += 5 {
					at := k*seg - shift
					if at < 0 || at+len(p.Bytes) > n {
						continue
					}
					buf := bytes.Repeat([]byte{'.'}, n)
					copy(buf[at:], p.Bytes)
					if got, want := scanSorted(t, m, s, buf), naive(pats, buf); !slices.Equal(got, want) {
						t.Fatalf("n=%d pattern %d at %d (part %d starts at %d): got %v, want %v", n, p.ID, at, k, k*seg, got, want)
					}
				}
			}
		}
		// The long pattern's prefix at the very end: no room for the rest.
		buf := bytes.Repeat([]byte{'.'}, n)
		copy(buf[n-acPrefix-3:], long)
		if got, want := scanSorted(t, m, s, buf), naive(pats, buf); !slices.Equal(got, want) {
			t.Fatalf("n=%d truncated long pattern: got %v, want %v", n, got, want)
		}
	}
}
