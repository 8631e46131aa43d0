package mpm

import (
	"bytes"
	"fmt"
	"slices"
)

// acMatcher is the pure-Go engine. Patterns of 3 bytes or more go into one
// Aho-Corasick automaton over case-folded bytes; 1- and 2-byte patterns,
// common in rules and matching almost everywhere, take a separate path
// (shortPath) so they do not mark most automaton states as matching.
//
// The automaton:
//
//   - Byte classes: bytes that no pattern uses share class 0 and each
//     upper-case ASCII letter shares its lower-case letter's class, so case
//     folding costs nothing in the scan loop and rows are nc entries wide,
//     not 256.
//   - Mixed case: everything is folded; a match of a nocase pattern, or of a
//     case-sensitive one without letters, is final; a case-sensitive pattern
//     with letters is re-checked against the buffer (as Suricata's ac does).
//   - States are numbered breadth-first. The shallowest ones (where a scan
//     spends nearly all its time) get dense rows: nc resolved transitions
//     each, within Options.DenseBytes. Deeper states keep only their trie
//     edges (sorted, searched linearly) and a failure link, which always
//     ends at a dense state.
//   - A transition value is the next state encoded: dense state i as i*nc
//     (its row offset), sparse state j as denseLimit+j, with matchFlag set
//     when the state or a suffix of it ends a pattern.
//   - Patterns longer than acPrefix bytes enter the automaton by their
//     first acPrefix bytes and are verified whole when those match: deep
//     states of long patterns are rare to reach and cost memory, and a
//     short automaton depth lets Scan split a buffer between independent
//     walks (see Scan).
type acMatcher struct {
	t *table

	cls        [256]byte
	nc         uint32
	nDense     uint32
	denseLimit uint32   // nDense*nc: encoded values below it are dense rows
	dense      []uint32 // nDense rows of nc encoded next states
	sparse     []sparseState
	sKey       []byte   // edge classes of sparse states
	sNext      []uint32 // edge targets, encoded
	outOff     []uint32 // state index i ends patterns out[outOff[i]:outOff[i+1]]
	out        []uint32
	dict       []int32 // nearest proper suffix state that ends a pattern, or -1

	short   shortPath
	hasLong bool // any pattern of 3 bytes or more
	depth   int  // longest path in the automaton: min(longest pattern, acPrefix)
}

// acPrefix is the automaton depth: longer patterns are found by their
// prefix and verified.
const acPrefix = 32

// Scan walks a buffer in acWays independent parts at once once it is at
// least acWaysMin bytes long: each step's table lookup depends on the
// previous one, so one walk waits on memory most of the time, and
// interleaved walks overlap those waits.
const (
	acWays    = 4
	acWaysMin = 256
)

type sparseState struct {
	lo, hi uint32 // edges sKey[lo:hi], sNext[lo:hi]
	fail   uint32 // encoded, without matchFlag
}

const matchFlag = 1 << 31

func buildAC(t *table, opts Options) (*acMatcher, error) {
	m := &acMatcher{t: t}
	var long []uint32
	for u, p := range t.pats {
		if len(p.b) <= 2 {
			continue
		}
		long = append(long, uint32(u))
	}
	m.short.build(t)
	m.hasLong = len(long) > 0
	if err := m.buildAutomaton(long, opts); err != nil {
		return nil, err
	}
	return m, nil
}

type trieNode struct {
	keys  []byte
	kids  []int32
	fail  int32
	depth int32
	outs  []uint32
}

func (n *trieNode) kid(c byte) int32 {
	if i := bytes.IndexByte(n.keys, c); i >= 0 {
		return n.kids[i]
	}
	return -1
}

func (m *acMatcher) buildAutomaton(long []uint32, opts Options) error {
	t := m.t
	// Byte classes over folded bytes.
	var used [256]bool
	for _, u := range long {
		for _, c := range prefix(t.pats[u].fold) {
			used[c] = true
		}
	}
	var classOf [256]byte
	nc := 1
	for c := range 256 {
		if used[c] {
			classOf[c] = byte(nc)
			nc++
		}
	}
	if nc > 256 { // 256 used folded bytes are impossible: A–Z fold away
		return fmt.Errorf("build mpm: %d byte classes", nc)
	}
	for c := range 256 {
		m.cls[c] = classOf[fold(byte(c))]
	}
	m.nc = uint32(nc)

	// Trie over classes.
	nodes := []trieNode{{fail: 0}}
	for _, u := range long {
		n := int32(0)
		m.depth = max(m.depth, len(prefix(t.pats[u].fold)))
		for _, c := range prefix(t.pats[u].fold) {
			k := classOf[c]
			next := nodes[n].kid(k)
			if next < 0 {
				next = int32(len(nodes))
				nodes[n].keys = append(nodes[n].keys, k)
				nodes[n].kids = append(nodes[n].kids, next)
				nodes = append(nodes, trieNode{depth: nodes[n].depth + 1})
			}
			n = next
		}
		nodes[n].outs = append(nodes[n].outs, u)
	}

	// Breadth-first order and failure links.
	order := make([]int32, 0, len(nodes))
	order = append(order, 0)
	for i := 0; i < len(order); i++ {
		n := order[i]
		for j, k := range nodes[n].keys {
			child := nodes[n].kids[j]
			order = append(order, child)
			if n == 0 {
				nodes[child].fail = 0
				continue
			}
			f := nodes[n].fail
			for {
				if g := nodes[f].kid(k); g >= 0 {
					nodes[child].fail = g
					break
				}
				if f == 0 {
					nodes[child].fail = 0
					break
				}
				f = nodes[f].fail
			}
		}
	}
	// Renumber: state index = position in order.
	index := make([]int32, len(nodes))
	for i, n := range order {
		index[n] = int32(i)
	}

	budget := opts.DenseBytes
	if budget <= 0 {
		budget = DefaultDenseBytes
	}
	nDense := budget / (int64(nc) * 4)
	nDense = max(1, min(nDense, int64(len(order))))
	m.nDense = uint32(nDense)
	if uint64(nDense)*uint64(nc)+uint64(len(order)) >= matchFlag {
		return fmt.Errorf("build mpm: automaton too large (%d states)", len(order))
	}
	m.denseLimit = m.nDense * m.nc

	// Outputs and dictionary links, by state index.
	ns := len(order)
	m.outOff = make([]uint32, ns+1)
	m.dict = make([]int32, ns)
	isMatch := make([]bool, ns)
	for i, n := range order {
		m.out = append(m.out, nodes[n].outs...)
		m.outOff[i+1] = uint32(len(m.out))
		m.dict[i] = -1
		if i == 0 {
			continue
		}
		f := nodes[n].fail
		fi := index[f]
		if len(nodes[f].outs) > 0 {
			m.dict[i] = fi
		} else {
			m.dict[i] = m.dict[fi]
		}
		isMatch[i] = len(nodes[n].outs) > 0 || m.dict[i] >= 0
	}
	enc := func(n int32) uint32 {
		i := uint32(index[n])
		var v uint32
		if i < m.nDense {
			v = i * m.nc
		} else {
			v = m.denseLimit + i - m.nDense
		}
		if isMatch[i] {
			v |= matchFlag
		}
		return v
	}

	// Dense rows, in breadth-first order so a failure target's row is
	// complete before it is copied from.
	m.dense = make([]uint32, m.denseLimit)
	for i := range m.nDense {
		n := order[i]
		row := m.dense[i*m.nc : (i+1)*m.nc]
		if i > 0 {
			f := uint32(index[nodes[n].fail]) // shallower, so dense and done
			copy(row, m.dense[f*m.nc:(f+1)*m.nc])
		}
		for j, k := range nodes[n].keys {
			row[k] = enc(nodes[n].kids[j])
		}
	}
	// Sparse states.
	m.sparse = make([]sparseState, ns-int(m.nDense))
	for i := int(m.nDense); i < ns; i++ {
		n := order[i]
		nd := &nodes[n]
		perm := make([]int, len(nd.keys))
		for j := range perm {
			perm[j] = j
		}
		slices.SortFunc(perm, func(a, b int) int { return int(nd.keys[a]) - int(nd.keys[b]) })
		lo := uint32(len(m.sKey))
		for _, j := range perm {
			m.sKey = append(m.sKey, nd.keys[j])
			m.sNext = append(m.sNext, enc(nd.kids[j]))
		}
		m.sparse[i-int(m.nDense)] = sparseState{lo: lo, hi: uint32(len(m.sKey)), fail: enc(nd.fail) &^ matchFlag}
	}
	return nil
}

// prefix returns the part of a pattern the automaton holds.
func prefix(b []byte) []byte { return b[:min(len(b), acPrefix)] }

func (m *acMatcher) NewScratch() *Scratch { return m.t.newScratch() }
func (m *acMatcher) Patterns() int        { return len(m.t.pats) }
func (m *acMatcher) Engine() string       { return EngineAC }

func (m *acMatcher) MemBytes() int64 {
	n := m.t.memBytes() + 256 + int64(len(m.dense))*4 + int64(len(m.sparse))*12 +
		int64(len(m.sKey)) + int64(len(m.sNext))*4 + int64(len(m.outOff)+len(m.out)+len(m.dict))*4
	return n + m.short.memBytes()
}

func (m *acMatcher) Scan(sc *Scratch, buf []byte, hits []uint32) []uint32 {
	sc.begin(m.t)
	if len(buf) == 0 {
		return hits
	}
	hits = m.short.scan(m.t, sc, buf, hits)
	if !m.hasLong {
		return hits
	}
	// Each part after the first starts depth-1 bytes early, so a pattern
	// ending in it is seen whole; a match in the overlap may be reported
	// by two walks and is deduplicated by emit.
	ov := m.depth - 1
	seg := (len(buf) + acWays - 1) / acWays
	if len(buf) < acWaysMin || seg <= ov {
		_, hits = m.walk(sc, buf, 0, len(buf), 0, hits)
		return hits
	}
	var st [acWays]uint32
	for k := 1; k < acWays; k++ {
		// Warm up: the overlap before the part's own bytes.
		st[k], hits = m.walk(sc, buf, k*seg-ov, k*seg, 0, hits)
	}
	last := len(buf) - (acWays-1)*seg // bytes of the last part, ≤ seg
	dense, dl, cls := m.dense, m.denseLimit, &m.cls
	b0, b1, b2, b3 := buf[:last], buf[seg:seg+last], buf[2*seg:2*seg+last], buf[3*seg:3*seg+last]
	s0, s1, s2, s3 := st[0], st[1], st[2], st[3]
	for i := range b0 {
		c0, c1, c2, c3 := uint32(cls[b0[i]]), uint32(cls[b1[i]]), uint32(cls[b2[i]]), uint32(cls[b3[i]])
		if s0 < dl {
			s0 = dense[s0+c0]
		} else {
			s0 = m.sparseNext(s0, c0)
		}
		if s1 < dl {
			s1 = dense[s1+c1]
		} else {
			s1 = m.sparseNext(s1, c1)
		}
		if s2 < dl {
			s2 = dense[s2+c2]
		} else {
			s2 = m.sparseNext(s2, c2)
		}
		if s3 < dl {
			s3 = dense[s3+c3]
		} else {
			s3 = m.sparseNext(s3, c3)
		}
		if (s0|s1|s2|s3)&matchFlag != 0 {
			if s0&matchFlag != 0 {
				s0 &^= matchFlag
				hits = m.report(sc, s0, buf, i, hits)
			}
			if s1&matchFlag != 0 {
				s1 &^= matchFlag
				hits = m.report(sc, s1, buf, seg+i, hits)
			}
			if s2&matchFlag != 0 {
				s2 &^= matchFlag
				hits = m.report(sc, s2, buf, 2*seg+i, hits)
			}
			if s3&matchFlag != 0 {
				s3 &^= matchFlag
				hits = m.report(sc, s3, buf, 3*seg+i, hits)
			}
		}
	}
	// The first parts are longer than the last by seg-last bytes.
	for k, s := range [acWays - 1]uint32{s0, s1, s2} {
		_, hits = m.walk(sc, buf, k*seg+last, (k+1)*seg, s, hits)
	}
	return hits
}

// walk runs the automaton over buf[from:to] from state s (encoded, no
// flag) and returns the state it ends in.
func (m *acMatcher) walk(sc *Scratch, buf []byte, from, to int, s uint32, hits []uint32) (uint32, []uint32) {
	dense, dl := m.dense, m.denseLimit
	for i := from; i < to; i++ {
		c := uint32(m.cls[buf[i]])
		if s < dl {
			s = dense[s+c]
		} else {
			s = m.sparseNext(s, c)
		}
		if s&matchFlag != 0 {
			s &^= matchFlag
			hits = m.report(sc, s, buf, i, hits)
		}
	}
	return s, hits
}

// sparseNext follows failure links from sparse state s (encoded) until an
// edge on class c or a dense state.
func (m *acMatcher) sparseNext(s, c uint32) uint32 {
	for s >= m.denseLimit {
		st := &m.sparse[s-m.denseLimit]
		keys := m.sKey[st.lo:st.hi]
		for j, k := range keys {
			if uint32(k) == c {
				return m.sNext[st.lo+uint32(j)]
			}
		}
		s = st.fail
	}
	return m.dense[s+c]
}

// report emits the patterns ending at buf[end] in state s (encoded, no
// flag) and its dictionary suffixes.
func (m *acMatcher) report(sc *Scratch, s uint32, buf []byte, end int, hits []uint32) []uint32 {
	var st int32
	if s < m.denseLimit {
		st = int32(s / m.nc)
	} else {
		st = int32(m.nDense + s - m.denseLimit)
	}
	for st >= 0 {
		for _, u := range m.out[m.outOff[st]:m.outOff[st+1]] {
			if sc.seenPat[u] == sc.epoch {
				continue
			}
			p := &m.t.pats[u]
			if len(p.b) > acPrefix {
				// Found by its prefix: the whole pattern must follow.
				start := end + 1 - acPrefix
				if start+len(p.b) > len(buf) || !p.equal(buf[start:start+len(p.b)]) {
					continue
				}
			} else if p.verify && string(buf[end+1-len(p.b):end+1]) != string(p.b) {
				continue
			}
			hits = m.t.emit(sc, u, hits)
		}
		st = m.dict[st]
	}
	return hits
}

// shortPath finds 1- and 2-byte patterns without the automaton. Tables are
// keyed by raw bytes with every case variant of a nocase pattern expanded,
// so no hit needs re-checking.
type shortPath struct {
	// 1-byte patterns: byte v present reports one[oneOff[v]:oneOff[v+1]].
	oneOff   [257]uint32
	one      []uint32
	oneProbe []byte // the bytes v with patterns
	// 2-byte patterns: pair bit k = b0<<8|b1 set when a pattern matches it;
	// pairKey sorted, pairKey[i] reports pair[pairOff[i]:pairOff[i+1]].
	pairBits *[1 << 10]uint64
	pairKey  []uint16
	pairOff  []uint32
	pair     []uint32
	nPairPat int // distinct 2-byte patterns, to stop early once all are found
}

// oneProbeMax is the number of distinct 1-byte pattern values up to which
// each is searched with bytes.IndexByte (vectorised, stops at the first
// hit); above it one pass marks every byte present.
const oneProbeMax = 12

func variants(c byte, nocase bool) []byte {
	if nocase && fold(c) != upper(c) {
		return []byte{fold(c), upper(c)}
	}
	return []byte{c}
}

func (sp *shortPath) build(t *table) {
	var ones [256][]uint32
	pairs := map[uint16][]uint32{}
	for u, p := range t.pats {
		switch len(p.b) {
		case 1:
			for _, v := range variants(p.b[0], p.nocase) {
				ones[v] = append(ones[v], uint32(u))
			}
		case 2:
			sp.nPairPat++
			for _, a := range variants(p.b[0], p.nocase) {
				for _, b := range variants(p.b[1], p.nocase) {
					k := uint16(a)<<8 | uint16(b)
					pairs[k] = append(pairs[k], uint32(u))
				}
			}
		}
	}
	for v := range 256 {
		if len(ones[v]) > 0 {
			sp.oneProbe = append(sp.oneProbe, byte(v))
		}
		sp.one = append(sp.one, ones[v]...)
		sp.oneOff[v+1] = uint32(len(sp.one))
	}
	if len(pairs) == 0 {
		return
	}
	sp.pairBits = new([1 << 10]uint64)
	for k := range pairs {
		sp.pairKey = append(sp.pairKey, k)
		sp.pairBits[k>>6] |= 1 << (k & 63)
	}
	slices.Sort(sp.pairKey)
	sp.pairOff = make([]uint32, 1, len(sp.pairKey)+1)
	for _, k := range sp.pairKey {
		sp.pair = append(sp.pair, pairs[k]...)
		sp.pairOff = append(sp.pairOff, uint32(len(sp.pair)))
	}
}

func (sp *shortPath) memBytes() int64 {
	n := int64(len(sp.oneOff))*4 + int64(len(sp.one))*4 + int64(len(sp.oneProbe))
	if sp.pairBits != nil {
		n += int64(len(sp.pairBits)) * 8
	}
	return n + int64(len(sp.pairKey))*2 + int64(len(sp.pairOff)+len(sp.pair))*4
}

func (sp *shortPath) scan(t *table, sc *Scratch, buf []byte, hits []uint32) []uint32 {
	if len(sp.oneProbe) > 0 {
		if len(sp.oneProbe) <= oneProbeMax {
			for _, v := range sp.oneProbe {
				if bytes.IndexByte(buf, v) >= 0 {
					hits = sp.emitOne(t, sc, v, hits)
				}
			}
		} else {
			seen := &sc.seen1
			clear(seen[:])
			for _, c := range buf {
				seen[c] = true
			}
			for _, v := range sp.oneProbe {
				if seen[v] {
					hits = sp.emitOne(t, sc, v, hits)
				}
			}
		}
	}
	if bits := sp.pairBits; bits != nil && len(buf) >= 2 {
		left := sp.nPairPat
		prev := uint16(buf[0])
		for _, c := range buf[1:] {
			k := prev<<8 | uint16(c)
			prev = uint16(c)
			if bits[k>>6]&(1<<(k&63)) == 0 {
				continue
			}
			i, _ := slices.BinarySearch(sp.pairKey, k)
			for _, u := range sp.pair[sp.pairOff[i]:sp.pairOff[i+1]] {
				if sc.seenPat[u] != sc.epoch {
					hits = t.emit(sc, u, hits)
					left--
				}
			}
			if left == 0 {
				break
			}
		}
	}
	return hits
}

func (sp *shortPath) emitOne(t *table, sc *Scratch, v byte, hits []uint32) []uint32 {
	for _, u := range sp.one[sp.oneOff[v]:sp.oneOff[int(v)+1]] {
		if sc.seenPat[u] != sc.epoch {
			hits = t.emit(sc, u, hits)
		}
	}
	return hits
}

// String summarises the automaton's shape, for tests and tuning.
func (m *acMatcher) String() string {
	one, two := 0, 0
	for _, p := range m.t.pats {
		switch len(p.b) {
		case 1:
			one++
		case 2:
			two++
		}
	}
	return fmt.Sprintf("ac: %d patterns (%d of 1 byte, %d of 2), %d IDs, %d byte classes, %d states (%d dense), %d sparse edges, %.1f MB",
		len(m.t.pats), one, two, len(m.t.slotID), m.nc, int(m.nDense)+len(m.sparse), m.nDense, len(m.sKey), float64(m.MemBytes())/(1<<20))
}
