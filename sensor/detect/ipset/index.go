package ipset

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// IndexBuilder collects the Sets of an Index. The zero value is ready to
// use. It is not safe for concurrent use; Build does not change it, so
// more Sets may be added and Build called again.
type IndexBuilder struct {
	groups []group        // distinct Sets, in order of first Add
	byPtr  map[*Set]int   // Set → index in groups
	byText map[string]int // String of a Set → index in groups
}

// group is one distinct Set and the ids added with it (or with an equal
// Set), sorted and unique after Build's tidy.
type group struct {
	set *Set
	ids []uint32
}

// Add records that id's Set is s: Lookup of any address in s returns id.
// An id may be added with several Sets (it is then returned for their
// union); Sets equal in content share one entry. A nil s is ignored.
func (b *IndexBuilder) Add(s *Set, id uint32) {
	if s == nil {
		return
	}
	if b.byPtr == nil {
		b.byPtr, b.byText = map[*Set]int{}, map[string]int{}
	}
	g, ok := b.byPtr[s]
	if !ok {
		key := s.String()
		if g, ok = b.byText[key]; !ok {
			g = len(b.groups)
			b.groups = append(b.groups, group{set: s})
			b.byText[key] = g
		}
		b.byPtr[s] = g
	}
	b.groups[g].ids = append(b.groups[g].ids, id)
}

// wideShare is the share of an address family above which a Set's ranges
// in that family go to the wide tier of the Index. Sets such as any,
// $HOME_NET and $EXTERNAL_NET overlap every narrow set (reputation lists
// of hosts and small CIDRs): kept in one tier, their thousands of ids
// would be copied into the id list of every distinct narrow combination.
// Two tiers keep both small; a lookup merges one list from each.
const wideShare = 1.0 / (1 << 16) // a /16 of IPv4, a /16 of IPv6

// Index maps an address to the ids of the Sets added to it. Each address
// family of each of two tiers (wide and narrow Sets) is a sorted list of
// disjoint intervals covering the whole space, each carrying the sorted id
// list of the Sets containing it; equal lists are one shared slice. It is
// immutable and safe for concurrent use.
type Index struct {
	wide, narrow tier
}

type tier struct {
	t4 table4
	t6 table6
}

// table4 holds intervals starts[i]..starts[i+1]-1 (the last one to the top
// of the space) with ids lists[i]; starts[0] is 0.
type table4 struct {
	starts []v4
	lists  [][]uint32
}

type table6 struct {
	starts []v6
	lists  [][]uint32
}

// Build returns the Index of the Sets added so far.
func (b *IndexBuilder) Build() *Index {
	in := &interner{m: map[string][]uint32{}}
	var w4, n4 []group4
	var w6, n6 []group6
	for _, g := range b.groups {
		ids := slices.Clone(g.ids)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if s := g.set.v4; len(s) > 0 {
			if coverage4(s) > wideShare {
				w4 = append(w4, group4{s, ids})
			} else {
				n4 = append(n4, group4{s, ids})
			}
		}
		if s := g.set.v6; len(s) > 0 {
			if coverage6(s) > wideShare {
				w6 = append(w6, group6{s, ids})
			} else {
				n6 = append(n6, group6{s, ids})
			}
		}
	}
	x := &Index{}
	x.wide.t4.starts, x.wide.t4.lists = sweep(w4, in)
	x.narrow.t4.starts, x.narrow.t4.lists = sweep(n4, in)
	x.wide.t6.starts, x.wide.t6.lists = sweep(w6, in)
	x.narrow.t6.starts, x.narrow.t6.lists = sweep(n6, in)
	return x
}

type group4 = spanGroup[v4]
type group6 = spanGroup[v6]

type spanGroup[T point[T]] struct {
	spans []span[T]
	ids   []uint32
}

// interner makes equal id lists one shared slice.
type interner struct {
	m   map[string][]uint32
	key []byte
}

func (in *interner) intern(ids []uint32) []uint32 {
	if len(ids) == 0 {
		return nil
	}
	in.key = in.key[:0]
	for _, id := range ids {
		in.key = binary.LittleEndian.AppendUint32(in.key, id)
	}
	if l, ok := in.m[string(in.key)]; ok {
		return l
	}
	l := slices.Clone(ids)
	in.m[string(in.key)] = l
	return l
}

// sweep cuts the space at every span boundary of groups and returns the
// interval starts with the interned ids of the groups active in each,
// merging neighbours with equal lists. The first start is 0.
func sweep[T point[T]](groups []spanGroup[T], in *interner) ([]T, [][]uint32) {
	type event struct {
		at    T
		group int32
		delta int32
	}
	var ev []event
	for g, gr := range groups {
		for _, r := range gr.spans {
			ev = append(ev, event{r.lo, int32(g), 1})
			if r.hi != r.hi.top() {
				ev = append(ev, event{r.hi.succ(), int32(g), -1})
			}
		}
	}
	slices.SortFunc(ev, func(a, b event) int {
		switch {
		case a.at.less(b.at):
			return -1
		case b.at.less(a.at):
			return 1
		}
		return 0
	})
	var zero T
	starts := []T{zero}
	lists := [][]uint32{nil}
	count := make([]int32, len(groups))
	var active []int32 // groups with count > 0, unordered
	at := make([]int32, len(groups))
	var buf []uint32
	for i := 0; i < len(ev); {
		p := ev[i].at
		for ; i < len(ev) && ev[i].at == p; i++ {
			g := ev[i].group
			count[g] += ev[i].delta
			switch {
			case count[g] == 1 && ev[i].delta > 0:
				at[g] = int32(len(active))
				active = append(active, g)
			case count[g] == 0:
				last := active[len(active)-1]
				active[at[g]] = last
				at[last] = at[g]
				active = active[:len(active)-1]
			}
		}
		buf = buf[:0]
		for _, g := range active {
			buf = append(buf, groups[g].ids...)
		}
		if len(active) > 1 {
			slices.Sort(buf)
			buf = slices.Compact(buf)
		}
		l := in.intern(buf)
		switch {
		case p == zero:
			lists[0] = l
		case sameList(l, lists[len(lists)-1]):
		default:
			starts = append(starts, p)
			lists = append(lists, l)
		}
	}
	return slices.Clip(starts), slices.Clip(lists)
}

// sameList reports whether a and b are the same interned list.
func sameList(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

// Lookup appends to dst the ids whose Set contains a, sorted and without
// duplicates, and returns the extended slice. An IPv4-mapped IPv6 address
// is looked up as the IPv4 address. It costs two binary searches and a
// merge of two id lists; it does not allocate when dst has room for the
// result.
func (x *Index) Lookup(a netip.Addr, dst []uint32) []uint32 {
	if a.Is4In6() {
		a = a.Unmap()
	}
	var w, n []uint32
	switch {
	case a.Is4():
		k := to4(a)
		w, n = x.wide.t4.find(k), x.narrow.t4.find(k)
	case a.Is6():
		k := to6(a)
		w, n = x.wide.t6.find(k), x.narrow.t6.find(k)
	default:
		return dst
	}
	return appendMerge(dst, w, n)
}

func (t *table4) find(k v4) []uint32 {
	s := t.starts
	if len(s) == 0 {
		return nil
	}
	lo, hi := 0, len(s) // s[lo] <= k < s[hi]
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if s[m] <= k {
			lo = m
		} else {
			hi = m
		}
	}
	return t.lists[lo]
}

func (t *table6) find(k v6) []uint32 {
	s := t.starts
	if len(s) == 0 {
		return nil
	}
	lo, hi := 0, len(s)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if !k.less(s[m]) {
			lo = m
		} else {
			hi = m
		}
	}
	return t.lists[lo]
}

// appendMerge appends the sorted union of the sorted lists a and b.
func appendMerge(dst, a, b []uint32) []uint32 {
	if len(b) == 0 {
		return append(dst, a...)
	}
	if len(a) == 0 {
		return append(dst, b...)
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			dst = append(dst, a[i])
			i++
		case b[j] < a[i]:
			dst = append(dst, b[j])
			j++
		default:
			dst = append(dst, a[i])
			i++
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// Intervals is the number of intervals with at least one id, over both
// tiers and address families: a measure of the Index's size.
func (x *Index) Intervals() int {
	n := 0
	for _, t := range []*tier{&x.wide, &x.narrow} {
		for _, l := range t.t4.lists {
			if len(l) > 0 {
				n++
			}
		}
		for _, l := range t.t6.lists {
			if len(l) > 0 {
				n++
			}
		}
	}
	return n
}
