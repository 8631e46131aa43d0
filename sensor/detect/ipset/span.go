package ipset

import (
	"math/bits"
	"slices"
)

// point is a coordinate of one address (or port) space: IPv4 addresses,
// IPv6 addresses or ports. The zero value is the smallest point. The
// generic range algebra below runs at compile time only; the per-packet
// lookups are written for each concrete type.
type point[T any] interface {
	comparable
	less(T) bool
	succ() T // the next point; undefined for top()
	pred() T // the previous point; undefined for the zero value
	top() T  // the greatest point
}

// v4 is an IPv4 address in host order.
type v4 uint32

func (a v4) less(b v4) bool { return a < b }
func (a v4) succ() v4       { return a + 1 }
func (a v4) pred() v4       { return a - 1 }
func (v4) top() v4          { return ^v4(0) }

// v6 is an IPv6 address as a 128-bit big-endian number.
type v6 struct{ hi, lo uint64 }

func (a v6) less(b v6) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }
func (a v6) succ() v6 {
	lo, carry := bits.Add64(a.lo, 1, 0)
	return v6{a.hi + carry, lo}
}
func (a v6) pred() v6 {
	lo, borrow := bits.Sub64(a.lo, 1, 0)
	return v6{a.hi - borrow, lo}
}
func (v6) top() v6 { return v6{^uint64(0), ^uint64(0)} }

// port is a TCP/UDP/SCTP port.
type port uint16

func (a port) less(b port) bool { return a < b }
func (a port) succ() port       { return a + 1 }
func (a port) pred() port       { return a - 1 }
func (port) top() port          { return ^port(0) }

// span is the inclusive range lo..hi.
type span[T point[T]] struct{ lo, hi T }

// full returns the one span covering the whole space.
func full[T point[T]]() []span[T] {
	var zero T
	return []span[T]{{zero, zero.top()}}
}

func isFull[T point[T]](s []span[T]) bool {
	var zero T
	return len(s) == 1 && s[0].lo == zero && s[0].hi == zero.top()
}

// normalize sorts s and merges overlapping and adjacent spans, so that the
// result is the canonical form: sorted, disjoint, with gaps between spans.
// It reuses s.
func normalize[T point[T]](s []span[T]) []span[T] {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b span[T]) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	out := s[:1]
	for _, c := range s[1:] {
		last := &out[len(out)-1]
		if last.hi == last.hi.top() || !last.hi.succ().less(c.lo) { // overlap or adjacent
			if last.hi.less(c.hi) {
				last.hi = c.hi
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// union returns the canonical union of a and b, which are canonical.
func union[T point[T]](a, b []span[T]) []span[T] {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	return normalize(append(slices.Clip(slices.Clone(a)), b...))
}

// complement returns the points of the whole space not in the canonical s.
func complement[T point[T]](s []span[T]) []span[T] {
	var zero T
	var out []span[T]
	next := zero // the first point not yet accounted for
	done := false
	for _, c := range s {
		if next.less(c.lo) {
			out = append(out, span[T]{next, c.lo.pred()})
		}
		if c.hi == zero.top() {
			done = true
			break
		}
		next = c.hi.succ()
	}
	if !done {
		out = append(out, span[T]{next, zero.top()})
	}
	return out
}

// intersect returns the canonical intersection of the canonical a and b.
func intersect[T point[T]](a, b []span[T]) []span[T] {
	var out []span[T]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := a[i].lo, a[i].hi
		if lo.less(b[j].lo) {
			lo = b[j].lo
		}
		if b[j].hi.less(hi) {
			hi = b[j].hi
		}
		if !hi.less(lo) {
			out = append(out, span[T]{lo, hi})
		}
		if a[i].hi.less(b[j].hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// subtract returns a minus b, both canonical.
func subtract[T point[T]](a, b []span[T]) []span[T] {
	if len(b) == 0 {
		return a
	}
	return intersect(a, complement(b))
}
