// Package kernel plugs the eBPF loader of bpf/bypass into the sensor: Table
// adapts a *bpf/bypass.Bypass (the flow table shared by the socket filters
// or XDP programs) to sensor/bypass.Table, which the pipeline drives, and
// Open opens one for a sensor's capture.bypass settings, falling back as
// notes/bypass.md §6.6 recommends: XDP that cannot attach falls back to
// the socket filter, and a kernel that refuses both (no CAP_BPF, an old
// kernel, a verifier error) to local bypass, with the reason logged.
package kernel

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	bpf "github.com/polder-nsm/polder/bpf/bypass"
	"github.com/polder-nsm/polder/sensor/bypass"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/flow"
)

// Table is a bypass.Table and bypass.Attacher over a kernel table. It is
// safe for concurrent use, as the loader is.
type Table struct {
	b    *bpf.Bypass
	mode bpf.Mode
	n    atomic.Int64 // flows inserted and not removed
}

// New wraps an open kernel table; mode is the mode it was opened with.
func New(b *bpf.Bypass, mode bpf.Mode) *Table { return &Table{b: b, mode: mode} }

// Mode returns the mode the table was opened with.
func (t *Table) Mode() bpf.Mode { return t.mode }

// Insert implements bypass.Table. A flow already in the table (left by a
// sensor that restarted with pinning) keeps its entry and counts.
func (t *Table) Insert(k *flow.Key) error {
	if err := t.b.Insert(*k); err != nil {
		return bypass.Fail(reasonOf(err), err)
	}
	t.n.Add(1)
	return nil
}

// reasonOf maps the loader's errors onto bypass reasons.
func reasonOf(err error) bypass.Reason {
	switch {
	case errors.Is(err, bpf.ErrTableFull):
		return bypass.ReasonTableFull
	case errors.Is(err, bpf.ErrNotSupported):
		return bypass.ReasonProto // a key the programs cannot match
	}
	return bypass.ReasonKernel
}

// Read implements bypass.Table with one lookup per flow (a system call of
// about a microsecond): a worker reads only its own flows, and the loader's
// Read walks the whole table.
func (t *Table) Read(keys []flow.Key, out []bypass.Counters) error {
	var first error
	now, mono := time.Now(), bpf.Monotonic()
	for i := range keys {
		c, ok, err := t.b.Lookup(keys[i])
		out[i] = bypass.Counters{}
		switch {
		case err != nil:
			if first == nil {
				first = err
			}
		case ok:
			out[i] = convert(c, now, mono)
		}
	}
	if first != nil {
		return fmt.Errorf("read bypassed flows: %w", first)
	}
	return nil
}

// Remove implements bypass.Table.
func (t *Table) Remove(k *flow.Key) (bypass.Counters, error) {
	c, ok, err := t.b.Remove(*k)
	if err != nil {
		return bypass.Counters{}, err
	}
	if !ok {
		return bypass.Counters{}, nil
	}
	t.n.Add(-1)
	return convert(c, time.Now(), bpf.Monotonic()), nil
}

// convert orients the loader's counters (FromSrc: what the key's Src, the
// client, sent) as flow directions and turns LastSeen into wall time.
func convert(c bpf.Counters, now time.Time, mono time.Duration) bypass.Counters {
	out := bypass.Counters{
		Pkts:  [2]uint64{flow.ToServer: c.FromSrc.Packets, flow.ToClient: c.FromDst.Packets},
		Bytes: [2]uint64{flow.ToServer: c.FromSrc.Bytes, flow.ToClient: c.FromDst.Bytes},
	}
	if c.Packets() > 0 {
		out.Last = now.Add(c.LastSeen() - mono)
	}
	return out
}

// Entries implements bypass.Table: flows inserted by this process and not
// removed, and the table's capacity in flows.
func (t *Table) Entries() (int, int) { return int(max(t.n.Load(), 0)), t.b.TableSize() }

// Attach implements bypass.Attacher: in socket-filter mode it attaches the
// filter to the capture socket fd; XDP was attached to the interfaces by
// Open.
func (t *Table) Attach(iface string, fd int) error {
	if t.mode != bpf.ModeSocket {
		return nil
	}
	if err := t.b.AttachSocket(fd); err != nil {
		return fmt.Errorf("attach bypass socket filter on %s: %w", iface, err)
	}
	return nil
}

// Close implements bypass.Table. Close the capture sockets first: socket
// filters keep dropping what the table held until their sockets close.
func (t *Table) Close() error { return t.b.Close() }

// Open opens the kernel table for capture.bypass (mode, table-size) on the
// live interfaces ifaces, as a *Table. It returns nil, and no error, when the mode needs
// no kernel table (off, local) or the kernel refuses every mode: the
// sensor then bypasses in user space, and log says why once. A
// configuration the loader rejects is an error.
func Open(c config.Bypass, ifaces []string, log *slog.Logger) (bypass.Table, error) {
	var mode bpf.Mode
	switch c.Mode {
	case config.BypassOff, config.BypassLocal:
		return nil, nil
	case config.BypassXDP:
		mode = bpf.ModeXDP
	default: // auto, socket-filter
		mode = bpf.ModeSocket
	}
	cfg := bpf.Config{Mode: mode, TableSize: c.TableSize, Interfaces: ifaces}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("capture.bypass: %w", err)
	}
	b, err := bpf.Open(cfg)
	if err != nil && mode == bpf.ModeXDP {
		log.Warn("xdp bypass unavailable; using the socket filter", "err", err)
		mode, cfg.Mode = bpf.ModeSocket, bpf.ModeSocket
		b, err = bpf.Open(cfg)
	}
	if err != nil {
		log.Warn("capture bypass unavailable; bypassed flows are dropped in user space", "err", err)
		return nil, nil
	}
	log.Info("capture bypass", "mode", mode.String(), "flows", b.TableSize())
	return New(b, mode), nil
}

var (
	_ bypass.Table    = (*Table)(nil)
	_ bypass.Attacher = (*Table)(nil)
)
