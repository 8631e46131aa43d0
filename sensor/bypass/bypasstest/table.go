// Package bypasstest provides an in-memory bypass.Table for tests of the
// pipeline's capture-bypass logic (insert, fallback, sweeps, downgrade,
// removal) without a kernel. It drops nothing by itself: a test plays the
// kernel by calling Count for the packets the capture layer would have
// dropped.
package bypasstest

import (
	"sync"
	"time"

	"github.com/polder-nsm/polder/sensor/bypass"
	"github.com/polder-nsm/polder/sensor/flow"
)

// Table is a bypass.Table and bypass.Attacher held in a map. It is safe for
// concurrent use. Set Capacity and FailWith before use or under no
// concurrent calls.
type Table struct {
	// Capacity bounds the flows held; 0 = unlimited. Beyond it Insert
	// fails with bypass.ErrTableFull.
	Capacity int
	// FailWith, when not nil, is returned by every Insert.
	FailWith error

	mu       sync.Mutex
	flows    map[flow.Key]*bypass.Counters
	inserts  int
	removes  int
	attached []string
	closed   bool
}

// Insert implements bypass.Table.
func (t *Table) Insert(k *flow.Key) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.FailWith != nil {
		return t.FailWith
	}
	if t.flows == nil {
		t.flows = map[flow.Key]*bypass.Counters{}
	}
	if _, ok := t.flows[*k]; ok {
		return bypass.ErrExists
	}
	if t.Capacity > 0 && len(t.flows) >= t.Capacity {
		return bypass.ErrTableFull
	}
	t.flows[*k] = &bypass.Counters{}
	t.inserts++
	return nil
}

// Read implements bypass.Table.
func (t *Table) Read(keys []flow.Key, out []bypass.Counters) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range keys {
		out[i] = bypass.Counters{}
		if c, ok := t.flows[keys[i]]; ok {
			out[i] = *c
		}
	}
	return nil
}

// Remove implements bypass.Table.
func (t *Table) Remove(k *flow.Key) (bypass.Counters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.flows[*k]
	if !ok {
		return bypass.Counters{}, nil
	}
	delete(t.flows, *k)
	t.removes++
	return *c, nil
}

// Entries implements bypass.Table.
func (t *Table) Entries() (int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.flows), t.Capacity
}

// Close implements bypass.Table.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	t.flows = nil
	return nil
}

// Attach implements bypass.Attacher; it records iface.
func (t *Table) Attach(iface string, fd int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attached = append(t.attached, iface)
	return nil
}

// Count plays the kernel: it adds pkts packets and bytes bytes travelling
// in direction d to flow k, seen at time at. It reports false when k is not
// in the table (the kernel would not have dropped them).
func (t *Table) Count(k flow.Key, d flow.Direction, pkts, bytes uint64, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.flows[k]
	if !ok {
		return false
	}
	c.Pkts[d] += pkts
	c.Bytes[d] += bytes
	if at.After(c.Last) {
		c.Last = at
	}
	return true
}

// Has reports whether flow k is in the table.
func (t *Table) Has(k flow.Key) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.flows[k]
	return ok
}

// Stats returns how many Inserts succeeded and Removes found their flow,
// and the interfaces Attach was called for.
func (t *Table) Stats() (inserts, removes int, attached []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inserts, t.removes, append([]string(nil), t.attached...)
}

// Closed reports whether Close was called.
func (t *Table) Closed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

var (
	_ bypass.Table    = (*Table)(nil)
	_ bypass.Attacher = (*Table)(nil)
)
