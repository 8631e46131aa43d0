// Package bypass is the sensor's side of capture bypass: the small contract
// between the pipeline, which decides that a flow needs no more inspection,
// and a flow table below the sensor (an eBPF map read by a socket filter on
// the AF_PACKET sockets, or by an XDP program on the interface) that drops
// the flow's packets before they cost anything in user space and counts
// them.
//
// The pipeline owns every decision: when a flow is bypassed (a rule's
// bypass keyword, stream depth with stream.bypass, encrypted TLS or SSH with
// encryption-handling bypass), whether it is eligible for the kernel (not a
// fragment, not tunnelled, TCP or UDP), falling back to local bypass when
// Insert fails, reading the counters back and removing entries when the flow
// ends. A Table only stores, counts and forgets. Local is the Table of a
// sensor without kernel support (pcap files, bypass mode local, no eBPF
// permission): every Insert fails with ReasonUnsupported and the pipeline
// bypasses locally.
//
// Keys are flow.Key values oriented client → server, the orientation of the
// flow record. An implementation stores the two half-flow keys it derives
// from one (client → server and server → client) so it can report
// Counters per direction however the packet that triggered the bypass
// travelled.
package bypass

import (
	"errors"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// Table is a capture-bypass flow table. Every worker of a sensor shares one
// Table, so implementations must be safe for concurrent use; each worker
// touches only the flows it owns (both directions of a flow reach the same
// worker). Calls happen once per flow (Insert, Remove) or once per sweep
// (Read), never per packet; they may make system calls but must not block
// for long.
type Table interface {
	// Insert starts dropping both directions of the flow k below the
	// sensor. It returns nil on success, or an error whose reason
	// ReasonOf reports (use Fail to build one): ReasonUnsupported when
	// this table cannot bypass at all, ReasonTableFull, ReasonKernel when
	// the kernel refused the update, ReasonExists when k is already in
	// the table. On error nothing is left in the table.
	Insert(k *flow.Key) error

	// Read fills out[i] with the counters of keys[i] (cumulative since its
	// Insert). A key that is not in the table reads as zero Counters. out
	// has at least len(keys) elements; Read neither keeps nor grows
	// either slice, so a caller can reuse them without allocating.
	Read(keys []flow.Key, out []Counters) error

	// Remove deletes the flow k and returns its final counters
	// (cumulative since Insert). Removing a key that is not in the table
	// returns zero Counters and no error.
	Remove(k *flow.Key) (Counters, error)

	// Entries returns how many flows the table holds now (each flow
	// takes two kernel entries, one per direction) and how many it can
	// hold.
	Entries() (n, capacity int)

	// Close detaches the kernel programs this table installed and frees
	// the table. Flows still in it are forgotten.
	Close() error
}

// Attacher is implemented by a Table whose kernel program must be attached
// to the capture: the pipeline calls Attach once per AF_PACKET socket it
// opens (fd, for a socket filter) on interface iface (for XDP, which
// attaches once per interface and ignores repeats). An error stops the
// sensor from starting: the configured mode cannot work.
type Attacher interface {
	Attach(iface string, fd int) error
}

// Counters are what the kernel counted for one bypassed flow, per
// flow.Direction: packets and bytes (whole frames as captured, the unit of
// flow records), and the time of the latest packet in either direction
// (zero when none arrived since Insert).
type Counters struct {
	Pkts, Bytes [2]uint64
	Last        time.Time
}

// Sub returns c minus an earlier reading o of the same flow: the packets
// and bytes counted in between. A counter that went backwards (the entry
// was replaced) counts from zero.
func (c Counters) Sub(o Counters) Counters {
	d := c
	for i := range c.Pkts {
		if c.Pkts[i] >= o.Pkts[i] && c.Bytes[i] >= o.Bytes[i] {
			d.Pkts[i] -= o.Pkts[i]
			d.Bytes[i] -= o.Bytes[i]
		}
	}
	return d
}

// Reason says why a flow could not be bypassed in the capture layer and was
// bypassed locally instead. The values are stable: they index counters.
type Reason uint8

const (
	ReasonNone        Reason = iota
	ReasonUnsupported        // no capture bypass here: mode local or off, a pcap file, no eBPF permission or kernel support
	ReasonTableFull          // the kernel table has no free entry (E2BIG)
	ReasonKernel             // the kernel refused the update for another reason
	ReasonExists             // the flow was already in the table
	ReasonFragment           // the packet was an IP fragment: the kernel program keys on L4 ports
	ReasonTunnel             // the flow is inside a tunnel (GRE, VXLAN, ...), which the kernel program does not decapsulate
	ReasonProto              // neither TCP nor UDP, or IPv6 with extension headers
	NumReasons
)

var reasonNames = [NumReasons]string{"", "unsupported", "table_full", "kernel", "exists", "fragment", "tunnel", "proto"}

// String returns the reason's counter name ("table_full", ...).
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// InsertError is why Insert failed, with the underlying cause when there is
// one (a syscall error).
type InsertError struct {
	Reason Reason
	Err    error
}

func (e *InsertError) Error() string {
	msg := "insert bypassed flow: " + reasonText[e.Reason]
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Reason == ReasonUnsupported {
		msg += " (bypass mode local, or run as root / grant CAP_BPF and CAP_NET_ADMIN)"
	}
	return msg
}

var reasonText = [NumReasons + 1]string{"no reason", "capture bypass unsupported", "table full",
	"kernel refused", "already bypassed", "IP fragment", "tunnelled", "protocol not bypassable", "unknown reason"}

// Unwrap returns the cause.
func (e *InsertError) Unwrap() error { return e.Err }

// Preallocated errors for the reasons that carry no cause, so a busy sensor
// whose table is full builds no error value per failed insert.
var (
	ErrUnsupported error = &InsertError{Reason: ReasonUnsupported}
	ErrTableFull   error = &InsertError{Reason: ReasonTableFull}
	ErrExists      error = &InsertError{Reason: ReasonExists}
)

// Fail returns an error for Insert with reason r and cause err (nil for
// none): one of the preallocated errors when err is nil.
func Fail(r Reason, err error) error {
	if err == nil {
		switch r {
		case ReasonUnsupported:
			return ErrUnsupported
		case ReasonTableFull:
			return ErrTableFull
		case ReasonExists:
			return ErrExists
		}
	}
	if r >= NumReasons {
		r = ReasonKernel
	}
	return &InsertError{Reason: r, Err: err}
}

// ReasonOf returns the reason of an Insert error: ReasonNone for nil, the
// InsertError's reason, and ReasonKernel for any other error.
func ReasonOf(err error) Reason {
	if err == nil {
		return ReasonNone
	}
	var ie *InsertError
	if errors.As(err, &ie) && ie.Reason != ReasonNone && ie.Reason < NumReasons {
		return ie.Reason
	}
	return ReasonKernel
}

// Local is the Table of a sensor that bypasses in user space only: Insert
// always fails with ReasonUnsupported, so the pipeline counts and drops the
// flow's packets itself. It holds nothing; the zero value is ready.
type Local struct{}

// Insert implements Table: it always returns ErrUnsupported.
func (Local) Insert(*flow.Key) error { return ErrUnsupported }

// Read implements Table: nothing is ever inserted, so every key reads zero.
func (Local) Read(keys []flow.Key, out []Counters) error {
	clear(out[:len(keys)])
	return nil
}

// Remove implements Table.
func (Local) Remove(*flow.Key) (Counters, error) { return Counters{}, nil }

// Entries implements Table: an empty table of no capacity.
func (Local) Entries() (int, int) { return 0, 0 }

// Close implements Table.
func (Local) Close() error { return nil }
