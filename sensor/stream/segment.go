package stream

import "unsafe"

const segSize = uint64(unsafe.Sizeof(segment{}))

// classOf returns the pool size class for n bytes (n ≤ maxSegData).
func classOf(n int) int {
	c := 0
	for (1<<(minClassShift+c)) < n && c < numClasses-1 {
		c++
	}
	return c
}

// insert buffers the parts of [seq, seq+len(data)) not already buffered
// (first wins), copying them into pooled buffers. It reports false, changing
// nothing, when that would exceed MaxSegmentsPerDir or Memcap. Every
// buffered segment lies after d.next, which the caller guarantees for seq.
func (r *Reassembler) insert(d *half, seq uint32, data []byte) bool {
	end := seq + uint32(len(data))

	// Fast path: after the last buffered segment (in-order arrival behind a
	// hole) or with nothing buffered.
	if d.tail == 0 || int32(seq-r.segs[d.tail-1].end()) >= 0 {
		if !r.fits(d, data) {
			return false
		}
		r.addPieces(d, d.tail, seq, data)
		return true
	}

	// Pass 1: count what would be added.
	var pieces, bytes int64
	c := seq
	for i := d.head; i != 0 && int32(c-end) < 0; i = r.segs[i-1].next {
		g := &r.segs[i-1]
		if int32(g.end()-c) <= 0 {
			continue
		}
		if int32(g.seq-end) >= 0 {
			break
		}
		if n := int32(g.seq - c); n > 0 {
			p, b := cost(int(n))
			pieces += p
			bytes += b
		}
		c = g.end()
	}
	if n := int32(end - c); n > 0 {
		p, b := cost(int(n))
		pieces += p
		bytes += b
	}
	if pieces == 0 {
		// Entirely buffered already: count the overlap.
		r.compare(d, seq, data)
		return true
	}
	if int64(d.nseg)+pieces > int64(r.opts.MaxSegmentsPerDir) || r.inUse+bytes > r.opts.Memcap {
		return false
	}

	// Pass 2: insert the uncovered pieces, compare the covered ones.
	r.compare(d, seq, data)
	c = seq
	prev := int32(0)
	i := d.head
	for i != 0 && int32(c-end) < 0 {
		g := &r.segs[i-1]
		if int32(g.end()-c) <= 0 {
			prev, i = i, g.next
			continue
		}
		if int32(g.seq-end) >= 0 {
			break
		}
		if n := int32(g.seq - c); n > 0 {
			off := c - seq
			prev = r.addPieces(d, prev, c, data[off:off+uint32(n)])
		}
		c = r.segs[i-1].end()
		prev, i = i, r.segs[i-1].next
	}
	if n := int32(end - c); n > 0 {
		off := c - seq
		r.addPieces(d, prev, c, data[off:])
	}
	return true
}

// cost returns the segments and buffer bytes needed to hold n bytes.
func cost(n int) (pieces, bytes int64) {
	for n > 0 {
		m := min(n, maxSegData)
		pieces++
		bytes += 1 << (minClassShift + classOf(m))
		n -= m
	}
	return pieces, bytes
}

func (r *Reassembler) fits(d *half, data []byte) bool {
	p, b := cost(len(data))
	return int64(d.nseg)+p <= int64(r.opts.MaxSegmentsPerDir) && r.inUse+b <= r.opts.Memcap
}

// compare counts overlaps of [seq, seq+len(data)) with buffered segments
// and those whose bytes differ.
func (r *Reassembler) compare(d *half, seq uint32, data []byte) {
	end := seq + uint32(len(data))
	for i := d.head; i != 0; i = r.segs[i-1].next {
		g := &r.segs[i-1]
		if int32(g.seq-end) >= 0 {
			return
		}
		ge := g.end()
		if int32(ge-seq) <= 0 {
			continue
		}
		lo, hi := g.seq, ge
		if int32(seq-lo) > 0 {
			lo = seq
		}
		if int32(end-hi) < 0 {
			hi = end
		}
		r.ctr.overlap++
		a := g.buf[lo-g.seq : hi-g.seq]
		b := data[lo-seq : hi-seq]
		if string(a) != string(b) {
			r.ctr.overlapDiff++
		}
	}
}

// addPieces copies data (starting at seq) into one or more segments linked
// after prev (index+1, 0 = at the head) and returns the last one added.
func (r *Reassembler) addPieces(d *half, prev int32, seq uint32, data []byte) int32 {
	for len(data) > 0 {
		n := min(len(data), maxSegData)
		i := r.newSeg()
		g := &r.segs[i-1]
		g.seq = seq
		g.buf = append(r.getBuf(n), data[:n]...)
		if prev == 0 {
			g.next = d.head
			d.head = i
		} else {
			g.next = r.segs[prev-1].next
			r.segs[prev-1].next = i
		}
		if g.next == 0 {
			d.tail = i
		}
		d.nseg++
		prev = i
		seq += uint32(n)
		data = data[n:]
	}
	return prev
}

func (r *Reassembler) newSeg() int32 {
	if r.free != 0 {
		i := r.free
		r.free = r.segs[i-1].next
		r.segs[i-1].next = 0
		return i
	}
	r.segs = append(r.segs, segment{})
	return int32(len(r.segs))
}

// popHead frees the first buffered segment of d.
func (r *Reassembler) popHead(d *half) {
	i := d.head
	g := &r.segs[i-1]
	d.head = g.next
	if d.head == 0 {
		d.tail = 0
	}
	d.nseg--
	r.putBuf(g.buf)
	g.buf = nil
	g.next = r.free
	r.free = i
}

// freeAll frees every buffered segment of d.
func (r *Reassembler) freeAll(d *half) {
	for d.head != 0 {
		r.popHead(d)
	}
}

// getBuf returns an empty buffer with capacity ≥ n from the pool. Pooled
// buffers of other classes are dropped when allocating a new one would make
// all buffers together exceed the memcap, so the pools stay bounded too.
func (r *Reassembler) getBuf(n int) []byte {
	c := classOf(n)
	size := int64(1) << (minClassShift + c)
	r.inUse += size
	if k := len(r.pools[c]); k > 0 {
		b := r.pools[c][k-1]
		r.pools[c][k-1] = nil
		r.pools[c] = r.pools[c][:k-1]
		return b[:0]
	}
	if r.allocated+size > r.opts.Memcap {
		for o := range r.pools {
			for _, b := range r.pools[o] {
				r.allocated -= int64(cap(b))
			}
			clear(r.pools[o])
			r.pools[o] = r.pools[o][:0]
		}
	}
	r.allocated += size
	return make([]byte, 0, size)
}

func (r *Reassembler) putBuf(b []byte) {
	if cap(b) == 0 {
		return
	}
	r.inUse -= int64(cap(b))
	c := classOf(cap(b))
	r.pools[c] = append(r.pools[c], b[:0])
}
