package mpm

import (
	"slices"
	"testing"
)

// fuzzPatterns decodes length-prefixed patterns: a header byte gives the
// length (low 3 bits + 1) and nocase (bit 7); the ID is the index mod 7,
// so IDs are shared between patterns.
func fuzzPatterns(data []byte) []Pattern {
	var pats []Pattern
	for len(data) > 0 && len(pats) < 512 {
		h := data[0]
		data = data[1:]
		n := min(int(h&7)+1, len(data))
		if n == 0 {
			break
		}
		pats = append(pats, Pattern{ID: uint32(len(pats) % 7), Bytes: data[:n], Nocase: h&0x80 != 0})
		data = data[n:]
	}
	return pats
}

func FuzzMatcher(f *testing.F) {
	f.Add([]byte("\x02abc\x81GE\x00x\x83\x00\xffAB"), []byte("xxABC ge\x00\xffab"), uint16(0))
	f.Add([]byte("\x01he\x03hers\x02his\x02she"), []byte("ushers"), uint16(1))
	f.Add([]byte("\x80a\x00B\x81ab\x01\r\n"), []byte("A b\r\nAB"), uint16(0xffff))
	f.Fuzz(func(t *testing.T, pdata, buf []byte, dense uint16) {
		pats := fuzzPatterns(pdata)
		want := naive(pats, buf)
		for _, eng := range engines() {
			// dense varies how many states get dense rows (from only the root).
			m, err := New(pats, Options{Engine: eng, DenseBytes: int64(dense) * 64})
			if err != nil {
				t.Fatal(err)
			}
			s := m.NewScratch()
			for range 2 {
				got := m.Scan(s, buf, nil)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: patterns %+v buffer %q: got %v, want %v", eng, pats, buf, got, want)
				}
			}
		}
	})
}
