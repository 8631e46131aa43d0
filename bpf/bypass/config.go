package bypass

import (
	"errors"
	"fmt"
	"time"
)

// Mode says where the packets of a bypassed flow are dropped.
type Mode uint8

const (
	// ModeOff disables bypass: every packet of every flow is inspected.
	ModeOff Mode = iota
	// ModeLocal drops a bypassed flow's packets in the sensor, after
	// capture and decoding: no kernel support needed, small gain.
	ModeLocal
	// ModeSocket drops them in a socket filter on every AF_PACKET capture
	// socket (sock_bypass), before the copy into the ring: the default
	// for AF_PACKET capture. It sees only the sensor's sockets.
	ModeSocket
	// ModeXDP drops them in an XDP program on the capture interfaces
	// (xdp_bypass), before the kernel allocates an skb. It affects every
	// user of the interface, so use it on dedicated SPAN/TAP ports only.
	ModeXDP
)

var modeNames = [...]string{ModeOff: "off", ModeLocal: "local", ModeSocket: "socket", ModeXDP: "xdp"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// Kernel reports whether m keeps a table in the kernel, that is whether
// the sensor calls Open for it.
func (m Mode) Kernel() bool { return m == ModeSocket || m == ModeXDP }

// ParseMode parses a mode name: off, local, socket or xdp.
func ParseMode(s string) (Mode, error) {
	for m, name := range modeNames {
		if s == name {
			return Mode(m), nil
		}
	}
	return ModeOff, fmt.Errorf("unknown bypass mode %q (want off, local, socket or xdp)", s)
}

// MarshalText implements encoding.TextMarshaler (YAML and JSON config).
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (YAML and JSON config).
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DefaultTableSize is the default Config.TableSize: 131072 flows, about
// 21 MiB of kernel memory (one preallocated hash entry of ~165 bytes per
// flow, both directions in one entry).
const DefaultTableSize = 1 << 17

// MaxTableSize bounds Config.TableSize (about 2.7 GiB of kernel memory).
const MaxTableSize = 1 << 24

// Config says what Open loads and where it attaches.
type Config struct {
	// Mode is ModeSocket or ModeXDP; Open refuses the others, which need
	// no kernel table.
	Mode Mode

	// TableSize is how many flows the kernel table holds; 0 means
	// DefaultTableSize. The table is preallocated: memory is TableSize ×
	// ~165 bytes whether it is used or not, charged to the sensor's
	// memory cgroup. When it is full, Insert returns ErrTableFull and the
	// caller bypasses the flow locally.
	TableSize int

	// Interfaces are the interfaces ModeXDP attaches xdp_bypass to. They
	// must be Ethernet interfaces. Ignored in ModeSocket, where the caller
	// attaches each capture socket with AttachSocket.
	Interfaces []string

	// XDPGeneric attaches in generic (skb) mode instead of driver mode.
	// Generic XDP runs after the kernel allocated the skb, so it gains
	// little over ModeSocket and affects the whole interface: meant for
	// tests (veth) and explicit configuration only. Open never falls back
	// to it by itself.
	XDPGeneric bool

	// PassTCPControl makes the programs pass TCP segments with SYN, FIN or
	// RST of bypassed flows to the sensor (not counted in the table), so
	// it sees a flow end or a port reuse instead of waiting for the idle
	// timeout. Off by default, as in Suricata.
	PassTCPControl bool

	// PinDir, when set, is a directory on a bpf filesystem (e.g.
	// /sys/fs/bpf/polder/<instance>) where the flow table and the XDP
	// links are pinned, so that a sensor that crashed or restarts keeps
	// dropping bypassed flows in the meantime. Open reuses a compatible
	// pinned table with its entries (the caller adopts them through Read
	// or deletes them); a table of another size or layout is replaced.
	// Every other pin in PinDir is stale and removed: pinned XDP links
	// are detached, and ModeXDP attaches afresh (a gap of microseconds, in
	// which the interface's packets all pass). PinDir belongs to one
	// sensor instance. Close removes the pins. Empty: nothing is pinned.
	PinDir string
}

// Validate checks the configuration without touching the kernel.
func (c *Config) Validate() error {
	switch c.Mode {
	case ModeSocket, ModeXDP:
	default:
		return fmt.Errorf("bypass mode %s has no kernel table (want socket or xdp)", c.Mode)
	}
	if c.TableSize < 0 || c.TableSize > MaxTableSize {
		return fmt.Errorf("bypass table size %d out of range (0 for the default %d, at most %d)", c.TableSize, DefaultTableSize, MaxTableSize)
	}
	if c.Mode == ModeXDP && len(c.Interfaces) == 0 {
		return errors.New("bypass mode xdp needs at least one interface")
	}
	seen := map[string]bool{}
	for _, name := range c.Interfaces {
		if name == "" || seen[name] {
			return fmt.Errorf("bypass interfaces: empty or repeated name %q", name)
		}
		seen[name] = true
	}
	return nil
}

func (c *Config) tableSize() int {
	if c.TableSize == 0 {
		return DefaultTableSize
	}
	return c.TableSize
}

// Sentinel errors callers branch on; errors wrap them with context and,
// where the fix is known, a hint.
var (
	// ErrTableFull: the kernel table has no room for another flow. Bypass
	// the flow locally and count it (Stats.InsertTableFull counts it too).
	ErrTableFull = errors.New("bypass table full")
	// ErrNotSupported: the kernel, the interface or the flow cannot be
	// bypassed in the kernel (old kernel, no native XDP, a protocol the
	// programs do not key). Fall back to another mode or to local bypass.
	ErrNotSupported = errors.New("not supported")
)

// DirCounters are the kernel's counters of one direction of a flow since
// Insert.
type DirCounters struct {
	Packets uint64
	Bytes   uint64 // frame length without FCS, VLAN tags included
	// LastSeen is the time of the last packet (or of Insert when none
	// came) on CLOCK_MONOTONIC_COARSE, the kernel's bpf_ktime_get_coarse_ns
	// clock: time since boot, excluding suspend, with the resolution of
	// one timer tick (1–10 ms). Compare it with Monotonic(); to get wall
	// time, read both clocks together:
	//	wall := time.Now().Add(c.LastSeen - bypass.Monotonic())
	LastSeen time.Duration
}

// Counters are the kernel's counters of a flow, per direction. FromSrc
// counts packets sent by the Src of the key they were returned for,
// FromDst those sent by its Dst.
type Counters struct {
	FromSrc, FromDst DirCounters
}

// LastSeen is the later of the two directions' LastSeen.
func (c Counters) LastSeen() time.Duration { return max(c.FromSrc.LastSeen, c.FromDst.LastSeen) }

// Packets is the sum of both directions' packets.
func (c Counters) Packets() uint64 { return c.FromSrc.Packets + c.FromDst.Packets }

// Stats are the bypass counters: from the kernel programs, summed over
// CPUs, and from this process's Insert calls. Every packet the programs
// ran on is in exactly one of Bypassed, Miss, TCPControl, NotIP,
// Malformed, Fragment and Unsupported.
type Stats struct {
	Packets       uint64 // packets the programs ran on
	Bypassed      uint64 // of bypassed flows: counted and dropped
	BypassedBytes uint64 // their bytes
	Miss          uint64 // keyed, but the flow is not in the table (inspected)
	TCPControl    uint64 // SYN/FIN/RST of bypassed flows passed (Config.PassTCPControl)
	NotIP         uint64 // no IPv4/IPv6 after Ethernet and VLAN tags
	Malformed     uint64 // truncated or invalid headers: passed to the decoder
	Fragment      uint64 // IP fragments: never bypassed, the sensor reassembles them
	Unsupported   uint64 // not keyed in the kernel: other protocols, > 3 VLAN tags, > 6 IPv6 extension headers

	Inserted          uint64 // Insert calls that added a flow
	InsertExists      uint64 // Insert calls for a flow already in the table
	InsertTableFull   uint64 // Insert calls that returned ErrTableFull
	InsertUnsupported uint64 // Insert calls for keys the kernel cannot match
}
