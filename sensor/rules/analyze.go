package rules

import (
	"fmt"
	"strconv"
)

// Warning is a finding of Analyze: a rule that loads but can never match.
// It has the shape of an Error (position of the keyword that makes the
// match impossible, sid, keyword) and Msg uses Suricata's words, which is
// what users search logs for. Suricata refuses such rules when it loads
// them; polder keeps them, since a rule that cannot match costs little and
// never alerts, and reports them as warnings (`polder rules check --strict`
// turns them into failures, as Suricata would).
type Warning struct {
	File    string
	Line    int
	Col     int
	SID     uint32
	Keyword string // the size keyword that bounds the buffer: bsize, dsize or urilen
	Msg     string
}

// String formats w as "file:line:col: sid N: keyword: msg", like Error.
func (w *Warning) String() string {
	return positioned(w.File, w.Line, w.Col, w.SID, w.Keyword, w.Msg)
}

// Analyze returns the warnings of every rule of s, in load order.
func (s *Set) Analyze() []*Warning {
	var ws []*Warning
	for _, r := range s.Rules {
		ws = append(ws, AnalyzeRule(r)...)
	}
	return ws
}

// AnalyzeRule reports why r can never match, if it can tell: the contents
// of one buffer need more bytes than a size keyword lets that buffer have.
//
//   - bsize on a buffer bounds that buffer (after its transforms), as in
//     Suricata: "signature can't match as required content length 14
//     exceeds bsize value: 2" (or "bsize range: 10-13");
//   - dsize bounds the packet payload, which the implicit pkt_data buffer
//     inspects in a rule with dsize (such rules are packet rules): "...
//     exceeds dsize value 9";
//   - urilen bounds http.uri (http.uri.raw with ",raw"): "... exceeds urilen
//     value 5". Suricata reports this case as "depth or urilen N smaller than
//     content len M"; the wording here is the dsize one.
//
// The required length is a lower bound, so a warning is never wrong: the
// end of each content that must match (not negated) is at least its length
// plus its offset, or, for a relative content, the least end of what it is
// anchored to plus its distance (relative pcre keeps that anchor; byte_jump,
// byte_extract, negated contents and other keywords reset it to 0, since
// where they leave the cursor is unknown). As Suricata does, the content
// bytes alone (distances counted, offsets not) are reported when they are
// already too many, else the end with offsets. Bounds are exact: bsize:<13
// allows 12 bytes, 10<>13 allows 12.
func AnalyzeRule(r *Rule) []*Warning {
	var ws []*Warning
	warn := func(c *Compare, msg string) {
		ws = append(ws, &Warning{File: r.File, Line: c.Pos.Line, Col: c.Pos.Col, SID: r.SID, Keyword: c.Name, Msg: msg})
	}
	for _, b := range r.Buffers {
		var bound *Compare
		var limit uint64
		for _, m := range b.Matches {
			if c, ok := m.(*Compare); ok && c.Name == "bsize" {
				if n, ok := upperBound(c); ok && (bound == nil || n < limit) {
					bound, limit = c, n
				}
			}
		}
		if bound == nil {
			continue
		}
		if need, ok := exceeds(b.Matches, limit); ok {
			arg := "value: " + bsizeArg(bound)
			if bound.Op == CmpRange {
				arg = "range: " + strconv.FormatUint(bound.A, 10) + "-" + strconv.FormatUint(bound.B, 10)
			}
			warn(bound, fmt.Sprintf("signature can't match as required content length %d exceeds bsize %s", need, arg))
		}
	}
	for _, m := range r.Packet {
		c, ok := m.(*Compare)
		if !ok {
			continue
		}
		var buf string
		switch {
		case c.Name == "dsize":
			buf = "pkt_data"
		case c.Name == "urilen" && c.Arg == "raw":
			buf = "http.uri.raw"
		case c.Name == "urilen":
			buf = "http.uri"
		default:
			continue
		}
		limit, ok := upperBound(c)
		if !ok {
			continue
		}
		for _, b := range r.Buffers {
			// A transform changes the length the size keyword measured.
			if b.Name != buf || len(b.Transforms) > 0 {
				continue
			}
			if need, ok := exceeds(b.Matches, limit); ok {
				warn(c, fmt.Sprintf("signature can't match as required content length %d exceeds %s value %d", need, c.Name, limit))
				break
			}
		}
	}
	return ws
}

// upperBound is the largest size c allows, if it has one.
func upperBound(c *Compare) (uint64, bool) {
	switch c.Op {
	case CmpEQ, CmpLE:
		return c.A, true
	case CmpLT:
		return c.A - 1, c.A > 0
	case CmpRange:
		return c.B - 1, c.B > 0
	}
	return 0, false
}

// bsizeArg is a bsize bound as written: "2", "<13", "<=12".
func bsizeArg(c *Compare) string {
	n := strconv.FormatUint(c.A, 10)
	switch c.Op {
	case CmpLT:
		return "<" + n
	case CmpLE:
		return "<=" + n
	}
	return n
}

// exceeds reports the length the matches of one buffer need, when it is
// more than limit (see AnalyzeRule for how it is bounded).
func exceeds(ms []Match, limit uint64) (int64, bool) {
	// Two lower bounds of the previous match's end and of what the
	// contents need: "bytes" leaves offsets out, "end" counts them.
	var anchorBytes, anchorEnd, needBytes, needEnd int64
	for _, m := range ms {
		switch m := m.(type) {
		case *Content:
			if m.Negated {
				anchorBytes, anchorEnd = 0, 0
				continue
			}
			var startBytes, startEnd int64
			switch {
			case m.Relative():
				if m.Distance.Var == "" { // a variable distance: start unknown
					d := min(max(m.Distance.Value, -maxPos), maxPos)
					startBytes = clampPos(anchorBytes + d)
					startEnd = clampPos(anchorEnd + d)
				}
			case m.Offset.Set && m.Offset.Var == "":
				startEnd = clampPos(m.Offset.Value)
			}
			n := int64(len(m.Pattern))
			anchorBytes, anchorEnd = startBytes+n, startEnd+n
			needBytes, needEnd = max(needBytes, anchorBytes), max(needEnd, anchorEnd)
		case *PCRE:
			// A relative pcre ends at or after its anchor; another one
			// anywhere.
			if !m.Relative || m.Negated {
				anchorBytes, anchorEnd = 0, 0
			}
		case *Compare:
			// bsize: no cursor
		default:
			anchorBytes, anchorEnd = 0, 0
		}
	}
	switch {
	case needBytes > 0 && uint64(needBytes) > limit:
		return needBytes, true
	case needEnd > 0 && uint64(needEnd) > limit:
		return needEnd, true
	}
	return 0, false
}

// maxPos bounds positions so that sums of rule-supplied numbers cannot
// overflow; no buffer is that long.
const maxPos = 1 << 40

// clampPos limits v to 0..maxPos.
func clampPos(v int64) int64 { return min(max(v, 0), maxPos) }
