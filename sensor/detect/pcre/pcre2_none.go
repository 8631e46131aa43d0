//go:build !cgo || nopcre2

package pcre

// havePCRE2 reports whether this build links libpcre2-8: it does not
// (CGO_ENABLED=0 or the nopcre2 tag), so Compile uses the regexp2 fallback.
const havePCRE2 = false

type p2Code struct{ jit bool }

type p2Scratch struct{}

func compilePCRE2(expr string, f Flags, o Options) (*p2Code, int, error) {
	return nil, 0, ErrNotSupported
}

func newP2Scratch(groups int) *p2Scratch { return nil }

func (p *p2Code) free() {}

func (s *p2Scratch) free() {}

func (p *p2Code) match(s *p2Scratch, buf []byte, start int) (int, Limit) { return 0, LimitInternal }

func (s *p2Scratch) pair(i int) (int, int) { return -1, -1 }
