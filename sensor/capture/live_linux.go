//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"
)

// blockTimeout is how long the kernel keeps a partly filled TPACKET_V3 block
// before handing it to user space: the worst-case added latency on a quiet
// link. Suricata uses the same 10 ms.
const blockTimeout = 10 * time.Millisecond

// LiveSource is one AF_PACKET TPACKET_V3 socket of a fanout group. It
// implements Source for one worker goroutine; Stop, Stats and FD may be
// called from any goroutine.
//
// Frame.Data points into the kernel's mmapped ring (no copy) and is valid
// only until the next ReadFrame or Close: Close unmaps the ring, so it
// belongs to the reading goroutine (or to whoever knows the reader is done
// with its last frame). To end a reader from elsewhere, call Stop. ReadFrame allocates only for
// VLAN-tagged frames, whose tag the kernel strips and the reader puts back.
type LiveSource struct {
	name    string
	link    LinkType
	ifIndex int // Frame.Interface: the index in the caller's configuration
	snaplen int

	mu     sync.Mutex   // held by ReadFrame, so Close waits for it to leave the ring
	fdMu   sync.RWMutex // guards tp and fd against Close for Stats and FD
	tp     *afpacket.TPacket
	fd     int
	closed atomic.Bool

	lastPackets, lastDrops uint64 // final counters, kept by Close
}

// OpenLive opens opts.Workers AF_PACKET sockets on opts.Interface, joined in
// one PACKET_FANOUT_HASH group with PACKET_FANOUT_FLAG_DEFRAG (fragments are
// reassembled before hashing so they reach the flow's socket). ifaceIndex
// is stored in every Frame.Interface. On error nothing stays open.
//
// Capture starts when each socket is bound, so the first socket may see a
// few frames alone before the others join. Disable GRO/LRO on the interface
// (ethtool -K IF gro off lro off) to see frames as they were on the wire.
func OpenLive(opts LiveOptions, ifaceIndex int) ([]*LiveSource, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(o.Interface)
	if err != nil {
		return nil, fmt.Errorf("open interface %q: no such interface %s", o.Interface, haveInterfaces())
	}
	if ifc.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("open interface %q: interface is down (is the interface up? ip link set %s up)", o.Interface, o.Interface)
	}
	var srcs []*LiveSource
	for w := range o.Workers {
		s, err := openSocket(o, ifaceIndex, w)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return nil, err
		}
		srcs = append(srcs, s)
	}
	return srcs, nil
}

func (o LiveOptions) withDefaults() (LiveOptions, error) {
	page := os.Getpagesize()
	switch {
	case o.Interface == "":
		return o, fmt.Errorf("open live capture: no interface given %s", haveInterfaces())
	case o.Workers < 0:
		return o, fmt.Errorf("open live capture on %s: Workers %d is negative", o.Interface, o.Workers)
	case o.BlockSize < 0 || o.BlockSize%page != 0:
		return o, fmt.Errorf("open live capture on %s: BlockSize %d is not a positive multiple of the page size %d", o.Interface, o.BlockSize, page)
	case o.NumBlocks < 0:
		return o, fmt.Errorf("open live capture on %s: NumBlocks %d is negative", o.Interface, o.NumBlocks)
	case o.Snaplen < 0:
		return o, fmt.Errorf("open live capture on %s: Snaplen %d is negative", o.Interface, o.Snaplen)
	case o.PollTimeout < 0:
		return o, fmt.Errorf("open live capture on %s: PollTimeout %v is negative (Close needs ReadFrame to return)", o.Interface, o.PollTimeout)
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.NumBlocks == 0 {
		o.NumBlocks = max(DefaultRingBlocks/o.Workers, MinBlocksPerSocket)
	}
	if o.PollTimeout == 0 {
		o.PollTimeout = DefaultPollTimeout
	}
	return o, nil
}

func openSocket(o LiveOptions, ifaceIndex, worker int) (*LiveSource, error) {
	where := fmt.Sprintf("open interface %q (worker %d of %d)", o.Interface, worker+1, o.Workers)
	frameSize := min(afpacket.DefaultFrameSize, o.BlockSize)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(o.Interface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(frameSize),
		afpacket.OptBlockSize(o.BlockSize),
		afpacket.OptNumBlocks(o.NumBlocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(o.PollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: create AF_PACKET ring: %w%s", where, err, hint(err))
	}
	fd, err := tpacketFD(tp)
	if err != nil {
		tp.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s := &LiveSource{name: o.Interface, ifIndex: ifaceIndex, snaplen: o.Snaplen, tp: tp, fd: fd}

	sa, err := unix.Getsockname(fd)
	ll, ok := sa.(*unix.SockaddrLinklayer)
	if err != nil || !ok {
		s.Close()
		return nil, fmt.Errorf("%s: read socket address: %v", where, err)
	}
	if s.link, ok = arphrdLinkType(ll.Hatype); !ok {
		s.Close()
		return nil, fmt.Errorf("%s: unsupported hardware type %d (Ethernet, loopback, raw-IP and 802.11 interfaces are supported)", where, ll.Hatype)
	}
	if o.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: set promiscuous mode: %w%s", where, err, hint(err))
		}
	}
	// A 4-byte int, not afpacket.SetFanout's 8-byte one: kernels before
	// 5.12 accept only sizeof(int) for PACKET_FANOUT.
	arg := int(o.FanoutGroup) | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
		s.Close()
		h := hint(err)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EALREADY) {
			h = fmt.Sprintf(" (is fanout group %d used by another capture with other settings or on another interface? choose another FanoutGroup)", o.FanoutGroup)
		}
		return nil, fmt.Errorf("%s: join fanout group %d: %w%s", where, o.FanoutGroup, err, h)
	}
	return s, nil
}

// tpacketFD digs the socket descriptor out of afpacket.TPacket, which does
// not export it (gopacket v1.7.7). The bypass filter and the fanout join
// need it. TestLiveFD fails if a gopacket upgrade renames the field.
func tpacketFD(tp *afpacket.TPacket) (int, error) {
	v := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !v.IsValid() || v.Kind() != reflect.Int {
		return -1, errors.New("find AF_PACKET socket descriptor: afpacket.TPacket has no int field fd (gopacket changed; update tpacketFD)")
	}
	return int(v.Int()), nil
}

// arphrdLinkType maps the interface's ARPHRD_ hardware type to the link
// type of what a SOCK_RAW packet socket delivers on it.
func arphrdLinkType(hatype uint16) (LinkType, bool) {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return LinkTypeEthernet, true // loopback frames carry a zeroed Ethernet header
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6,
		unix.ARPHRD_SIT, unix.ARPHRD_IPGRE, unix.ARPHRD_PPP:
		return LinkTypeRaw, true
	case unix.ARPHRD_IEEE80211:
		return 105, true // passed on so the pipeline names it as unsupported
	case unix.ARPHRD_IEEE80211_RADIOTAP:
		return 127, true
	}
	return 0, false
}

// hint adds the likely fix for errors users meet opening a capture.
func hint(err error) string {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return " (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)"
	case errors.Is(err, unix.ENETDOWN):
		return " (is the interface up?)"
	case errors.Is(err, unix.ENOMEM):
		return " (ring too large? lower BlockSize or NumBlocks)"
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return " " + haveInterfaces()
	}
	return ""
}

// LinkType is the link type of every frame from this socket.
func (s *LiveSource) LinkType() LinkType { return s.link }

// Interface is the name of the captured interface.
func (s *LiveSource) Interface() string { return s.name }

// FD returns the socket descriptor, e.g. to attach a bypass socket filter
// (SO_ATTACH_FILTER / SO_ATTACH_BPF). It is -1 after Close. The caller must
// not close it.
func (s *LiveSource) FD() int {
	s.fdMu.RLock()
	defer s.fdMu.RUnlock()
	return s.fd
}

// ReadFrame fills f with the next frame from the ring. It returns ErrTimeout
// when none arrived within PollTimeout and ErrClosed once Close was called.
// An error the interface reports (e.g. it went down) carries a hint.
func (s *LiveSource) ReadFrame(f *Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return ErrTimeout
		}
		if errors.Is(err, afpacket.ErrPoll) {
			// POLLERR: the pending socket error says why (ENETDOWN mostly).
			if soErr, gerr := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); gerr == nil && soErr != 0 {
				err = unix.Errno(soErr)
			}
		}
		return fmt.Errorf("read from interface %q: %w%s", s.name, err, hint(err))
	}
	if s.snaplen > 0 && len(data) > s.snaplen {
		data = data[:s.snaplen]
	}
	f.Data = data
	f.OrigLen = ci.Length
	f.Timestamp = ci.Timestamp
	f.LinkType = s.link
	f.Interface = s.ifIndex
	return nil
}

// Stats returns the kernel's PACKET_STATISTICS counters for this socket,
// cumulative since open: packets is every frame the socket received
// (including drops, as the kernel counts it) and drops the frames lost
// because the ring was full. After Close it returns the final counts.
func (s *LiveSource) Stats() (packets, drops uint64, err error) {
	s.fdMu.RLock()
	defer s.fdMu.RUnlock()
	if s.tp == nil {
		return s.lastPackets, s.lastDrops, nil
	}
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return 0, 0, fmt.Errorf("read socket statistics on %q: %w", s.name, err)
	}
	return uint64(v3.Packets()), uint64(v3.Drops()), nil
}

// Stop makes ReadFrame return ErrClosed from its next call, and a call
// blocked waiting for packets return within PollTimeout. It may be called
// from any goroutine and does not release anything: the reader then calls
// Close.
func (s *LiveSource) Stop() { s.closed.Store(true) }

// Close releases the ring and the socket, leaving the fanout group, and
// invalidates the last Frame.Data. If a ReadFrame is in progress on another
// goroutine, Close waits for it (at most PollTimeout) before unmapping the
// ring. Later calls return nil.
func (s *LiveSource) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fdMu.Lock()
	defer s.fdMu.Unlock()
	if s.tp == nil {
		return nil
	}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		s.lastPackets, s.lastDrops = uint64(v3.Packets()), uint64(v3.Drops())
	}
	s.tp.Close()
	s.tp, s.fd = nil, -1
	return nil
}

var _ Source = (*LiveSource)(nil)
