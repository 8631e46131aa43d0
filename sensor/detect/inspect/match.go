package inspect

import (
	"bytes"

	"github.com/polder-nsm/polder/sensor/detect/pcre"
)

// eval is the state of one Match call. It lives on the stack.
type eval struct {
	s     *Scratch
	v     *Vars
	data  []byte
	steps int  // search steps left (the recursion budget)
	abort bool // Suricata's discontinue_matching: no retry can help
}

// Match reports whether data (already transformed) satisfies every match
// of the buffer. v carries the rule's variables in and out. It does not
// allocate in steady state and never panics; it keeps no reference to
// data. It also resets what Scratch.Base64Data returns.
func (p *Program) Match(s *Scratch, v *Vars, data []byte) bool {
	s.b64 = s.b64[:0]
	s.b64ok = false
	e := eval{s: s, v: v, data: data, steps: p.limit}
	ok := e.run(p, 0, 0)
	if !ok {
		s.b64ok = false
	}
	return ok
}

// spend takes one step of the budget; false when it is exhausted.
func (e *eval) spend() bool {
	if e.steps <= 0 {
		if !e.abort {
			e.s.Counters.RecursionLimit++
		}
		e.abort = true
		return false
	}
	e.steps--
	return true
}

// run evaluates p.ops[i:] with relative position pos (Suricata's
// buffer_offset).
func (e *eval) run(p *Program, i, pos int) bool {
	data := e.data
	for ; i < len(p.ops); i++ {
		x := &p.ops[i]
		switch x.kind {
		case kContent:
			c := x.c
			start, end, ok := c.window(e.v, pos, len(data))
			if x.negated {
				if ok && c.find(data, start, end) >= 0 {
					if !c.relativeAny {
						e.abort = true
					}
					return false
				}
				continue
			}
			if !x.relNext {
				if !e.spend() {
					return false
				}
				at := -1
				if ok {
					at = c.find(data, start, end)
				}
				if at < 0 {
					if !c.relativeAny {
						e.abort = true
					}
					return false
				}
				pos = at + len(c.pat)
				continue
			}
			for ok {
				if !e.spend() {
					return false
				}
				at := c.find(data, start, end)
				if at < 0 {
					break
				}
				if e.run(p, i+1, at+len(c.pat)) {
					return true
				}
				if e.abort {
					return false
				}
				start = at + 1
			}
			if !c.relativeAny {
				e.abort = true
			}
			return false

		case kPCRE:
			base := 0
			if x.relative {
				base = pos
			}
			if base > len(data) {
				return false
			}
			sub := data[base:]
			if !e.spend() {
				return false
			}
			a, b, ok, err := x.re.Match(e.s.re, sub, 0)
			if err != nil {
				e.s.countPCRE(err)
				return false
			}
			if x.negated {
				if ok {
					return false
				}
				continue
			}
			if !ok {
				return false
			}
			if !x.relNext {
				pos = base + b
				continue
			}
			for {
				if e.run(p, i+1, base+b) {
					return true
				}
				if e.abort {
					return false
				}
				from := a + 1
				if from > len(sub) || !e.spend() {
					return false
				}
				a, b, ok, err = x.re.Match(e.s.re, sub, from)
				if err != nil {
					e.s.countPCRE(err)
					return false
				}
				if !ok {
					return false
				}
			}

		case kIsDataAt:
			n := x.dataat.unsigned(e.v)
			var has bool
			if x.relative {
				has = int64(pos)+n <= int64(len(data))
			} else {
				has = n < int64(len(data))
			}
			if has == x.negated {
				if !x.relative {
					e.abort = true
				}
				return false
			}

		case kBsize:
			if !x.cmp.Match(uint64(len(data)), x.a, x.bval) {
				e.abort = true
				return false
			}

		case kByteTest:
			if !x.b.test(e.v, data, pos, x.relative, x.negated) {
				return false
			}

		case kByteJump:
			np, ok := x.b.jump(e.v, data, pos, x.relative)
			if !ok {
				return false
			}
			pos = np

		case kByteExtract:
			np, ok := x.b.extract(e.v, data, pos, x.relative)
			if !ok {
				return false
			}
			pos = np

		case kByteMath:
			if !x.b.math(e.v, data, pos, x.relative) {
				return false
			}

		case kBase64:
			n := e.s.decodeBase64(x.b64, data, pos, x.relative)
			if n == 0 {
				return false
			}
			if p.b64 == nil {
				continue
			}
			// Suricata inspects base64_data here; a match there is the
			// final match of the buffer.
			// The discontinue flag and the step budget are shared with
			// the outer inspection, as in Suricata.
			outer := e.data
			e.data = e.s.b64
			ok := e.run(p.b64, 0, 0)
			e.data = outer
			return ok

		default:
			return false
		}
	}
	return true
}

// window returns the search window [start, end) of a content at relative
// position pos in a buffer of n bytes, and false when it is empty.
func (c *contentOp) window(v *Vars, pos, n int) (start, end int, ok bool) {
	s, t := int64(0), int64(n)
	switch {
	case c.startswith:
		t = int64(len(c.pat))
	case c.relativeAny:
		s = int64(pos)
		if c.hasDistance {
			s += c.distance.signed(v)
		}
		if c.hasWithin {
			t = s + c.within.unsigned(v)
		}
		if s < 0 {
			s = 0
		}
	default:
		if c.hasOffset {
			s = c.offset.unsigned(v)
		}
		if c.hasDepth {
			t = s + c.depth.unsigned(v)
		}
	}
	if t > int64(n) {
		t = int64(n)
	}
	if c.endswith && t != int64(n) {
		return 0, 0, false
	}
	if s > t || t-s < int64(len(c.pat)) {
		return 0, 0, false
	}
	return int(s), int(t), true
}

// find returns the offset of the first occurrence of the pattern in
// data[start:end] (or, for endswith, the one ending at end), or -1.
func (c *contentOp) find(data []byte, start, end int) int {
	if start < 0 || end > len(data) || end-start < len(c.pat) {
		return -1
	}
	if c.endswith {
		at := end - len(c.pat)
		if at >= start && c.equal(data[at:end]) {
			return at
		}
		return -1
	}
	w := data[start:end]
	var i int
	if c.nocase {
		i = indexFold(w, c.pat)
	} else {
		i = bytes.Index(w, c.pat)
	}
	if i < 0 {
		return -1
	}
	return start + i
}

func (c *contentOp) equal(b []byte) bool {
	if !c.nocase {
		return bytes.Equal(b, c.pat)
	}
	if len(b) != len(c.pat) {
		return false
	}
	for i, x := range b {
		if lower[x] != c.pat[i] {
			return false
		}
	}
	return true
}

// indexFold is bytes.Index with ASCII case folding; pat is lower case.
// Candidates are found with bytes.IndexByte for each case of the first
// byte, remembering the next occurrence of each so the scan stays linear.
func indexFold(s, pat []byte) int {
	n := len(pat)
	last := len(s) - n
	if n == 0 {
		return 0
	}
	if last < 0 {
		return -1
	}
	first, up := pat[0], upper[pat[0]]
	nf, nu := -2, -2 // next occurrence >= i; -1 none left; -2 not looked up
	if up == first {
		nu = -1
	}
	for i := 0; i <= last; i++ {
		if nf != -1 && nf < i {
			nf = nextByte(s, first, i, last)
		}
		if nu != -1 && nu < i {
			nu = nextByte(s, up, i, last)
		}
		switch {
		case nf < 0 && nu < 0:
			return -1
		case nf < 0:
			i = nu
		case nu < 0 || nf < nu:
			i = nf
		default:
			i = nu
		}
		k := 1
		for ; k < n; k++ {
			if lower[s[i+k]] != pat[k] {
				break
			}
		}
		if k == n {
			return i
		}
	}
	return -1
}

// nextByte returns the first index >= from and <= last of c in s, or -1.
func nextByte(s []byte, c byte, from, last int) int {
	j := bytes.IndexByte(s[from:last+1], c)
	if j < 0 {
		return -1
	}
	return from + j
}

// countPCRE records a pcre limit hit.
func (s *Scratch) countPCRE(err error) {
	if l, ok := err.(pcre.Limit); ok && l < pcre.NumLimits {
		s.Counters.PCRELimit[l]++
		return
	}
	s.Counters.PCRELimit[pcre.LimitInternal]++
}
