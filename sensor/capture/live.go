package capture

import (
	"errors"
	"net"
	"strings"
	"time"
)

// ErrTimeout is returned by a live source's ReadFrame when no frame arrived
// within LiveOptions.PollTimeout. It is not a failure: the worker runs its
// periodic work (flow expiry by wall clock, stats) and calls ReadFrame again.
var ErrTimeout = errors.New("capture: no frame within the poll timeout")

// ErrClosed is returned by ReadFrame after Close.
var ErrClosed = errors.New("capture: source closed")

// ErrNotSupported is returned by OpenLive on platforms without AF_PACKET.
var ErrNotSupported = errors.New("live capture is not supported on this platform (AF_PACKET needs Linux)")

// Defaults for LiveOptions' zero values.
const (
	DefaultBlockSize   = 1 << 20                // bytes per ring block
	DefaultRingBlocks  = 64                     // blocks per interface, split across workers
	MinBlocksPerSocket = 8                      // lower bound of the per-socket split
	DefaultPollTimeout = 100 * time.Millisecond // how long ReadFrame waits before ErrTimeout
)

// LiveOptions configures AF_PACKET capture on one interface. Validate it with
// OpenLive; every zero value has a documented default.
type LiveOptions struct {
	// Interface is the network interface name, e.g. "eth0". Required.
	Interface string
	// Workers is the number of sockets in the fanout group, one per worker
	// goroutine. Zero means 1. The kernel spreads packets by a symmetric
	// flow hash, so both directions of a flow reach the same socket.
	Workers int
	// FanoutGroup is the PACKET_FANOUT group id. It must be unique per
	// running instance and interface in the network namespace: two captures
	// with the same id and settings silently share (split) one stream of
	// packets, and with different settings the second fails to join.
	FanoutGroup uint16
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size. Zero means DefaultBlockSize (1 MiB). A frame larger than a
	// block is truncated by the kernel.
	BlockSize int
	// NumBlocks is the number of ring blocks per socket. Zero means
	// DefaultRingBlocks split across workers, at least MinBlocksPerSocket:
	// 64 MiB of ring per interface by default.
	NumBlocks int
	// Snaplen truncates each frame to this many bytes (OrigLen keeps the
	// wire length). Zero means no truncation beyond the block size. The
	// ring still receives the whole frame: the socket filter is left free
	// for bypass.
	Snaplen int
	// Promisc puts the interface in promiscuous mode (PACKET_MR_PROMISC
	// membership, dropped automatically when the sockets close).
	Promisc bool
	// PollTimeout is how long ReadFrame blocks before returning ErrTimeout,
	// and so the longest Close waits for a reader. Zero means
	// DefaultPollTimeout; it must not be negative.
	PollTimeout time.Duration
}

// ListInterfaces returns the names of the network interfaces of this host
// (of this network namespace), for error messages and the CLI. It returns
// nil if they cannot be listed.
func ListInterfaces() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	names := make([]string, len(ifs))
	for i, ifc := range ifs {
		names[i] = ifc.Name
	}
	return names
}

// haveInterfaces formats the interface list for an error hint.
func haveInterfaces() string {
	names := ListInterfaces()
	if len(names) == 0 {
		return "(no interfaces found)"
	}
	return "(have: " + strings.Join(names, ", ") + ")"
}
