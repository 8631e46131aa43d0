//go:build linux

package bypass

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/polder-nsm/polder/sensor/flow"
)

// batchSize is how many entries Read fetches per BPF_MAP_LOOKUP_BATCH call:
// 4096 × 92 bytes of buffers, and 200 K entries in ~0.1 s.
const batchSize = 4096

// pinTable is the file name of the pinned flow table in Config.PinDir (the
// map's name); XDP links are pinned as xdpPinPrefix + interface name.
const (
	pinTable     = bypassMapFlows
	xdpPinPrefix = "xdp_"
)

// Bypass is the loaded kernel side of flow bypass: the flow table, the
// programs that consult it, and their XDP attachments. Its methods are safe
// for concurrent use; Read calls are serialized.
type Bypass struct {
	cfg    Config
	objs   bypassObjects
	links  map[string]link.Link // XDP attachments by interface name
	closed atomic.Bool

	readMu  sync.Mutex // guards keys and vals
	keys    []mapKey
	vals    []mapValue
	noBatch atomic.Bool // the kernel has no BPF_MAP_LOOKUP_BATCH for hash maps (< 5.6)

	sweepMu sync.Mutex // guards expired
	expired []flow.Key

	inserted, exists, full, unsupported atomic.Uint64
}

// Open loads the bypass programs and the flow table into the kernel and,
// in ModeXDP, attaches xdp_bypass to cfg.Interfaces. In ModeSocket it
// attaches nothing: call AttachSocket for every capture socket. On error
// nothing stays loaded or attached.
//
// It needs CAP_BPF and CAP_NET_ADMIN (or root) and Linux 5.11 or later;
// errors say which is missing, and include the verifier's log when the
// kernel rejects a program.
func Open(cfg Config) (*Bypass, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec, err := loadBypass()
	if err != nil {
		return nil, fmt.Errorf("open bypass: %w", err)
	}
	spec.Maps[bypassMapFlows].MaxEntries = uint32(cfg.tableSize())
	if cfg.PassTCPControl {
		if err := spec.Variables[bypassVarPassTcpControl].Set(uint8(1)); err != nil {
			return nil, fmt.Errorf("open bypass: set pass_tcp_control: %w", err)
		}
	}
	var opts ebpf.CollectionOptions
	if cfg.PinDir != "" {
		if err := preparePinDir(cfg.PinDir); err != nil {
			return nil, err
		}
		spec.Maps[bypassMapFlows].Pinning = ebpf.PinByName
		opts.Maps.PinPath = cfg.PinDir
	}

	b := &Bypass{cfg: cfg, links: map[string]link.Link{}}
	err = spec.LoadAndAssign(&b.objs, &opts)
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		// Pinned by a sensor with another table size or layout: stale.
		os.Remove(filepath.Join(cfg.PinDir, pinTable))
		err = spec.LoadAndAssign(&b.objs, &opts)
	}
	if err != nil {
		return nil, loadError(err)
	}
	if cfg.Mode == ModeXDP {
		for _, name := range cfg.Interfaces {
			if err := b.attachXDP(name); err != nil {
				b.Close()
				return nil, err
			}
		}
	}
	return b, nil
}

// preparePinDir creates dir on a bpf filesystem and removes every stale
// pin in it but the flow table: XDP links left by a sensor that did not
// close (they are detached: they would keep dropping with nobody
// watching) and anything else.
func preparePinDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create bypass pin directory: %w (is a bpf filesystem mounted? mount -t bpf bpf /sys/fs/bpf)", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("check bypass pin directory: %w", err)
	}
	if st.Type != unix.BPF_FS_MAGIC {
		return fmt.Errorf("bypass pin directory %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf, or choose a directory under it)", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read bypass pin directory: %w", err)
	}
	for _, e := range entries {
		if e.Name() == pinTable {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if l, err := link.LoadPinnedLink(path, nil); err == nil {
			l.Unpin()
			l.Close()
			continue
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove stale bypass pin: %w", err)
		}
	}
	return nil
}

// loadError explains why loading failed: the verifier's log, missing
// privileges or a kernel without a helper the programs need.
func loadError(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		if probe := probeKernel(); probe != nil {
			return fmt.Errorf("load bypass programs: %w", probe)
		}
		return fmt.Errorf("load bypass programs: %w\nverifier log (last lines):\n%s", err, tail(ve.Log, 30))
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("load bypass programs: %w%s", err, permHint)
	}
	if probe := probeKernel(); probe != nil {
		return fmt.Errorf("load bypass programs: %w", probe)
	}
	if errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.E2BIG) {
		return fmt.Errorf("load bypass programs: %w (table too large for the kernel or the memory cgroup? lower the table size)", err)
	}
	return fmt.Errorf("load bypass programs: %w", err)
}

const permHint = " (run as root or grant CAP_BPF and CAP_NET_ADMIN; CAP_SYS_ADMIN before Linux 5.8)"

// probeKernel checks for the newest helper the programs call.
func probeKernel() error {
	for _, pt := range []ebpf.ProgramType{ebpf.XDP, ebpf.SocketFilter} {
		err := features.HaveProgramHelper(pt, asm.FnKtimeGetCoarseNs)
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("kernel %s has no bpf_ktime_get_coarse_ns for %s programs: %w (bypass in the kernel needs Linux 5.11 or later; use bypass mode local)", kernelRelease(), pt, ErrNotSupported)
		}
	}
	return nil
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// attachXDP attaches xdp_bypass to the interface name, and pins the link.
func (b *Bypass) attachXDP(name string) error {
	where := "attach xdp to " + name
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("%s: %w (is the interface name right?)", where, err)
	}
	if t, err := os.ReadFile("/sys/class/net/" + name + "/type"); err == nil {
		if hw, _ := strconv.Atoi(strings.TrimSpace(string(t))); hw != unix.ARPHRD_ETHER {
			return fmt.Errorf("%s: hardware type %d is not Ethernet: %w (use bypass mode socket)", where, hw, ErrNotSupported)
		}
	}
	flags := link.XDPDriverMode
	if b.cfg.XDPGeneric {
		flags = link.XDPGenericMode
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: b.objs.XdpBypass, Interface: ifi.Index, Flags: flags})
	if err != nil {
		switch {
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return fmt.Errorf("%s: %w%s", where, err, permHint)
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EEXIST):
			return fmt.Errorf("%s: %w (another XDP program is attached: ip link set dev %s xdp off removes it)", where, err, name)
		case !b.cfg.XDPGeneric && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) || errors.Is(err, ebpf.ErrNotSupported)):
			return fmt.Errorf("%s: %w: %w (the driver has no native XDP: use bypass mode socket)", where, err, ErrNotSupported)
		case errors.Is(err, ebpf.ErrNotSupported):
			return fmt.Errorf("%s: %w: %w (XDP links need Linux 5.9 or later)", where, err, ErrNotSupported)
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	if b.cfg.PinDir != "" {
		if err := l.Pin(filepath.Join(b.cfg.PinDir, xdpPinPrefix+name)); err != nil {
			l.Close()
			return fmt.Errorf("%s: pin link: %w", where, err)
		}
	}
	b.links[name] = l
	return nil
}

// AttachSocket attaches the bypass socket filter to the AF_PACKET socket
// fd (SO_ATTACH_BPF), replacing any filter it had: sock_bypass on
// Ethernet and loopback interfaces, sock_bypass_l3 on raw-IP ones (tun,
// ipip, ...), chosen from the interface the socket is bound to, so bind it
// first. Attach every member of a fanout group; they share the table. The
// filter stays with the socket until DetachSocket or the socket's close;
// Close does not detach it (the descriptor may be closed and reused by
// then), and the kernel frees the program with the last socket using it.
// ModeSocket only.
func (b *Bypass) AttachSocket(fd int) error {
	if b.cfg.Mode != ModeSocket {
		return fmt.Errorf("attach bypass socket filter: bypass mode is %s, not socket", b.cfg.Mode)
	}
	if b.closed.Load() {
		return errClosed
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fmt.Errorf("attach bypass socket filter to fd %d: %w", fd, err)
	}
	ll, ok := sa.(*unix.SockaddrLinklayer)
	if !ok {
		return fmt.Errorf("attach bypass socket filter to fd %d: not an AF_PACKET socket", fd)
	}
	if ll.Ifindex == 0 {
		return fmt.Errorf("attach bypass socket filter to fd %d: the socket is not bound to an interface (bind it first: the filter depends on the link type)", fd)
	}
	var prog *ebpf.Program
	switch ll.Hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		prog = b.objs.SockBypass
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6,
		unix.ARPHRD_SIT, unix.ARPHRD_IPGRE, unix.ARPHRD_PPP:
		prog = b.objs.SockBypassL3
	default:
		return fmt.Errorf("attach bypass socket filter to fd %d: hardware type %d: %w", fd, ll.Hatype, ErrNotSupported)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		h := ""
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			h = permHint
		}
		return fmt.Errorf("attach bypass socket filter to fd %d: %w%s", fd, err, h)
	}
	return nil
}

// AttachSocketConn is AttachSocket for a socket behind a syscall.RawConn.
func (b *Bypass) AttachSocketConn(rc syscall.RawConn) error {
	var aerr error
	if err := rc.Control(func(fd uintptr) { aerr = b.AttachSocket(int(fd)) }); err != nil {
		return fmt.Errorf("attach bypass socket filter: %w", err)
	}
	return aerr
}

// DetachSocket removes the socket filter from the AF_PACKET socket fd (any
// filter: SO_DETACH_BPF). Packets of bypassed flows reach the socket again.
func (b *Bypass) DetachSocket(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_BPF, 0); err != nil {
		return fmt.Errorf("detach bypass socket filter from fd %d: %w", fd, err)
	}
	return nil
}

var errClosed = errors.New("bypass table closed")

// Insert adds the flow k to the kernel table: from now on the programs
// count its packets and drop them. k may be in either orientation. It
// returns nil when the flow is already there (its counters are kept), an
// error wrapping ErrTableFull when the table is full (bypass it locally),
// and one wrapping ErrNotSupported when the kernel cannot match k (see
// Supported). Both directions' LastSeen start at Monotonic(). A system
// call: about 1–2 µs.
func (b *Bypass) Insert(k flow.Key) error {
	mk, _, err := toMapKey(k)
	if err != nil {
		b.unsupported.Add(1)
		return fmt.Errorf("insert bypassed flow: %w", err)
	}
	now := uint64(Monotonic())
	v := mapValue{Dir: [2]mapDir{{LastSeen: now}, {LastSeen: now}}}
	err = b.objs.Flows.Update(&mk, &v, ebpf.UpdateNoExist)
	switch {
	case err == nil:
		b.inserted.Add(1)
		return nil
	case errors.Is(err, ebpf.ErrKeyExist):
		b.exists.Add(1)
		return nil
	case errors.Is(err, unix.E2BIG), errors.Is(err, unix.ENOMEM):
		b.full.Add(1)
		return fmt.Errorf("insert bypassed flow: %w (%d flows)", ErrTableFull, b.objs.Flows.MaxEntries())
	case b.closed.Load():
		return errClosed
	}
	return fmt.Errorf("insert bypassed flow: %w", err)
}

// Lookup returns the kernel's counters of the flow k, oriented to k
// (FromSrc counts what k.Src sent). ok is false when k is not in the table.
func (b *Bypass) Lookup(k flow.Key) (c Counters, ok bool, err error) {
	mk, rev, err := toMapKey(k)
	if err != nil {
		return c, false, nil // never inserted
	}
	var v mapValue
	if err := b.objs.Flows.Lookup(&mk, &v); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return c, false, nil
		}
		return c, false, fmt.Errorf("look up bypassed flow: %w", err)
	}
	return v.counters(rev), true, nil
}

// Remove deletes the flow k from the table and returns its final counters,
// oriented to k, read and deleted in one step where the kernel can
// (BPF_MAP_LOOKUP_AND_DELETE_ELEM on hash maps, Linux 5.14), so no packet
// counted in the kernel is lost. ok is false when k was not in the table.
// Packets of k reach the sensor again from now on.
func (b *Bypass) Remove(k flow.Key) (c Counters, ok bool, err error) {
	mk, rev, err := toMapKey(k)
	if err != nil {
		return c, false, nil
	}
	var v mapValue
	err = b.objs.Flows.LookupAndDelete(&mk, &v)
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) {
		// Older kernels: a packet counted between the two calls is lost.
		if err = b.objs.Flows.Lookup(&mk, &v); err == nil {
			err = b.objs.Flows.Delete(&mk)
		}
	}
	if err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return c, false, nil
		}
		return c, false, fmt.Errorf("remove bypassed flow: %w", err)
	}
	return v.counters(rev), true, nil
}

// Delete deletes the flows keys from the table in batches, skipping those
// not in it, and returns how many it deleted. Their counters are lost: use
// it for orphans and for entries already read with Read.
func (b *Bypass) Delete(keys []flow.Key) (int, error) {
	mks := make([]mapKey, 0, len(keys))
	for _, k := range keys {
		if mk, _, err := toMapKey(k); err == nil {
			mks = append(mks, mk)
		}
	}
	deleted := 0
	for len(mks) > 0 {
		n, err := b.objs.Flows.BatchDelete(mks, nil)
		deleted += n
		mks = mks[n:]
		switch {
		case err == nil:
			return deleted, nil
		case errors.Is(err, ebpf.ErrKeyNotExist):
			mks = mks[1:] // not in the table
		case errors.Is(err, ebpf.ErrNotSupported):
			for _, mk := range mks {
				if err := b.objs.Flows.Delete(&mk); err == nil {
					deleted++
				} else if !errors.Is(err, ebpf.ErrKeyNotExist) {
					return deleted, fmt.Errorf("delete bypassed flows: %w", err)
				}
			}
			return deleted, nil
		default:
			return deleted, fmt.Errorf("delete bypassed flows: %w", err)
		}
	}
	return deleted, nil
}

// Read calls fn for every flow in the table, with its normalized key (the
// lower address and port are Src, as flow.KeyOf makes them) and its
// counters oriented to that key, until fn returns false. It reads the
// table in batches of 4096 (BPF_MAP_LOOKUP_BATCH, Linux 5.6) or entry by
// entry on older kernels. A flow inserted or removed meanwhile may be seen
// or not; a flow is seen at most once unless the table changes under the
// walk. fn may call Insert, Remove and Delete, not Read. Read calls are
// serialized; it does not allocate after the first call.
func (b *Bypass) Read(fn func(k flow.Key, c Counters) bool) error {
	b.readMu.Lock()
	defer b.readMu.Unlock()
	if b.closed.Load() {
		return errClosed
	}
	if !b.noBatch.Load() {
		if b.keys == nil {
			b.keys = make([]mapKey, batchSize)
			b.vals = make([]mapValue, batchSize)
		}
		var cursor ebpf.MapBatchCursor
		for first := true; ; first = false {
			n, err := b.objs.Flows.BatchLookup(&cursor, b.keys, b.vals, nil)
			if first && errors.Is(err, ebpf.ErrNotSupported) {
				b.noBatch.Store(true)
				break
			}
			for i := range n {
				if !fn(b.keys[i].flowKey(), b.vals[i].counters(false)) {
					return nil
				}
			}
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read bypass table: %w", err)
			}
		}
	}
	var (
		k mapKey
		v mapValue
	)
	it := b.objs.Flows.Iterate()
	for it.Next(&k, &v) {
		if !fn(k.flowKey(), v.counters(false)) {
			return nil
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read bypass table: %w", err)
	}
	return nil
}

// Sweep is one round of the bypass sweeper (Suricata runs one every 10 s):
// it reads the table in batches and calls fn for every flow with its
// normalized key and counters. Flows idle for at least idle at now (both
// on Monotonic's clock: now - c.LastSeen() >= idle) are removed first, and
// fn gets their final counters with expired set; their packets reach the
// sensor again. A packet that arrives between the read and the removal
// still lands in the final counters. fn must not call Read or Sweep. It
// returns how many flows expired. Sweep calls are serialized.
func (b *Bypass) Sweep(now, idle time.Duration, fn func(k flow.Key, c Counters, expired bool)) (int, error) {
	b.sweepMu.Lock()
	defer b.sweepMu.Unlock()
	b.expired = b.expired[:0]
	err := b.Read(func(k flow.Key, c Counters) bool {
		if now-c.LastSeen() >= idle {
			b.expired = append(b.expired, k)
		} else {
			fn(k, c, false)
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("sweep bypass table: %w", err)
	}
	n := 0
	for _, k := range b.expired {
		c, ok, err := b.Remove(k)
		if err != nil {
			return n, fmt.Errorf("sweep bypass table: %w", err)
		}
		if ok { // else removed meanwhile
			n++
			fn(k, c, true)
		}
	}
	return n, nil
}

// Stats returns the programs' counters summed over CPUs, and Insert's.
func (b *Bypass) Stats() (Stats, error) {
	var per []mapStats
	if err := b.objs.Stats.Lookup(uint32(0), &per); err != nil {
		return Stats{}, fmt.Errorf("read bypass stats: %w", err)
	}
	var s Stats
	for _, c := range per {
		s.Packets += c.Packets
		s.Bypassed += c.Bypassed
		s.BypassedBytes += c.BypassedBytes
		s.Miss += c.Miss
		s.TCPControl += c.TCPControl
		s.NotIP += c.NotIP
		s.Malformed += c.Malformed
		s.Fragment += c.Fragment
		s.Unsupported += c.Unsupported
	}
	s.Inserted = b.inserted.Load()
	s.InsertExists = b.exists.Load()
	s.InsertTableFull = b.full.Load()
	s.InsertUnsupported = b.unsupported.Load()
	return s, nil
}

// TableSize is the number of flows the kernel table holds.
func (b *Bypass) TableSize() int { return int(b.objs.Flows.MaxEntries()) }

// Close detaches the XDP programs, removes the pins and releases the
// programs and the table. Socket filters stay attached to their sockets
// until these close (see AttachSocket); with the table gone they keep
// dropping the flows it held, so close the capture sockets first, or
// DetachSocket them, when the sensor keeps capturing. Close is idempotent.
func (b *Bypass) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	var errs []error
	for name, l := range b.links {
		if b.cfg.PinDir != "" {
			if err := l.Unpin(); err != nil {
				errs = append(errs, fmt.Errorf("unpin xdp link of %s: %w", name, err))
			}
		}
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach xdp from %s: %w", name, err))
		}
	}
	if b.cfg.PinDir != "" && b.objs.Flows != nil {
		if err := b.objs.Flows.Unpin(); err != nil {
			errs = append(errs, fmt.Errorf("unpin bypass table: %w", err))
		}
		os.Remove(b.cfg.PinDir) // only when empty
	}
	if err := b.objs.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close bypass programs: %w", err))
	}
	return errors.Join(errs...)
}

// Monotonic returns CLOCK_MONOTONIC_COARSE, the clock of
// DirCounters.LastSeen (the kernel's bpf_ktime_get_coarse_ns): time since
// boot, excluding suspend. A flow is idle for Monotonic() -
// c.LastSeen(). It does not allocate (vDSO).
func Monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC_COARSE, &ts)
	return time.Duration(ts.Nano())
}
