package eve

import (
	"strings"
	"sync"
	"time"
)

// AppendStats appends a complete "stats" event line (with '\n') to buf.
// uptime is in seconds. counters yields every counter once as a dotted name
// and its value ("decoder.ipv4", "capture.kernel_packets",
// "app_layer.flow.http"); AppendStats nests them into the stats object
// ({"decoder":{"ipv4":N}}) in first-seen order, which is Suricata's order
// when counters are yielded in registration order, and stable as long as
// the caller's order is. A name yielded twice keeps the last value; a name
// that is both a counter and a prefix of others ("a" and "a.b") is written
// as the object and the bare value is dropped. "uptime" is written first
// from the argument and a counter of that name is ignored.
//
// The 8.0.6 schema forbids unknown members in stats: counter names must be
// Suricata's.
//
// counters is called once, synchronously; name strings are not kept after
// AppendStats returns. Steady state allocates nothing: the scratch tree is
// pooled.
func AppendStats(buf []byte, ts time.Time, uptime int64, counters func(yield func(name string, v uint64))) []byte {
	t := statPool.Get().(*statTree)
	t.reset()
	if counters != nil {
		counters(t.add)
	}
	b := Builder{B: buf}
	b.BeginObject()
	b.KeyTime("timestamp", ts)
	b.KeyString("event_type", "stats")
	b.Key("stats")
	b.BeginObject()
	b.KeyInt("uptime", uptime)
	t.emit(&b, 0)
	b.EndObject()
	t.reset() // drop references to the caller's strings
	statPool.Put(t)
	return b.end()
}

type statNode struct {
	name              string
	val               uint64
	leaf              bool
	first, last, next int32 // children list; -1 = none
}

// statTree is the scratch trie of counter names. Node 0 is the root.
type statTree struct {
	nodes []statNode
	add   func(name string, v uint64) // t.insert, bound once so yielding allocates nothing
}

var statPool = sync.Pool{New: func() any {
	t := &statTree{nodes: make([]statNode, 0, 1024)}
	t.add = t.insert
	return t
}}

func (t *statTree) reset() {
	clear(t.nodes)
	t.nodes = append(t.nodes[:0], statNode{first: -1, last: -1, next: -1})
}

func (t *statTree) insert(name string, v uint64) {
	n := int32(0)
	for rest := name; ; {
		part, tail, more := strings.Cut(rest, ".")
		if n == 0 && !more && part == "uptime" {
			return
		}
		c := t.nodes[n].first
		for c >= 0 && t.nodes[c].name != part {
			c = t.nodes[c].next
		}
		if c < 0 {
			c = int32(len(t.nodes))
			t.nodes = append(t.nodes, statNode{name: part, first: -1, last: -1, next: -1})
			if p := &t.nodes[n]; p.last < 0 {
				p.first, p.last = c, c
			} else {
				t.nodes[p.last].next = c
				p.last = c
			}
		}
		n = c
		if !more {
			break
		}
		rest = tail
	}
	t.nodes[n].val = v
	t.nodes[n].leaf = true
}

func (t *statTree) emit(b *Builder, n int32) {
	for c := t.nodes[n].first; c >= 0; c = t.nodes[c].next {
		node := &t.nodes[c]
		b.EscapedKey(node.name)
		if node.first >= 0 {
			b.BeginObject()
			t.emit(b, c)
			b.EndObject()
		} else {
			b.Uint(node.val)
		}
	}
}
