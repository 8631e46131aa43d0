package pcre

import (
	"strings"

	"github.com/dlclark/regexp2"
)

// fbCode is a pattern compiled for the regexp2 fallback. regexp2.Regexp
// is safe for concurrent use.
type fbCode struct {
	re     *regexp2.Regexp
	net    string // the translated .NET pattern
	groups int
}

// fbScratch is the fallback's per-worker state: the subject as runes and
// the offsets of the last match.
type fbScratch struct {
	runes []rune
	pairs []int
}

func compileFallback(expr string, f Flags, o Options) (*fbCode, error) {
	net, groups, terr := translate(expr, f)
	if terr != nil {
		return nil, &SyntaxError{Expr: expr, Offset: terr.off, Msg: terr.msg, Unsupported: terr.unsupported}
	}
	re, err := regexp2.Compile(net, regexp2.None)
	if err != nil {
		return nil, &SyntaxError{Expr: expr, Offset: -1, Msg: err.Error()}
	}
	re.MatchTimeout = o.timeout()
	return &fbCode{re: re, net: net, groups: groups}, nil
}

// match runs the fallback; n is the number of pairs recorded (0: no
// match). Runes and offsets are 1:1 with bytes.
func (c *fbCode) match(s *fbScratch, buf []byte, start, maxGroups int) (a, b, n int, lim Limit) {
	if cap(s.runes) < len(buf) {
		s.runes = make([]rune, len(buf), len(buf)+len(buf)/4)
	}
	r := s.runes[:len(buf)]
	for i, c := range buf {
		r[i] = rune(c)
	}
	m, err := c.re.FindRunesMatchStartingAt(r, start)
	if err != nil {
		if isTimeout(err) {
			return 0, 0, 0, LimitTimeout
		}
		return 0, 0, 0, LimitInternal
	}
	if m == nil {
		return 0, 0, 0, LimitNone
	}
	pairs := min(c.groups, maxGroups) + 1
	s.pairs = s.pairs[:0]
	for i := 0; i < pairs; i++ {
		g := m.GroupByNumber(i)
		if g == nil || len(g.Captures) == 0 {
			s.pairs = append(s.pairs, -1, -1)
			continue
		}
		s.pairs = append(s.pairs, g.Index, g.Index+g.Length)
	}
	return m.Index, m.Index + m.Length, pairs, LimitNone
}

func isTimeout(err error) bool {
	// regexp2 returns a plain error "match timeout after ...".
	return err != nil && strings.HasPrefix(err.Error(), "match timeout")
}
