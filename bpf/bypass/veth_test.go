//go:build linux

package bypass

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/polder-nsm/polder/internal/netnstest"
)

// liveFrames are the frames the live tests send: two bypassed flows (one
// VLAN-tagged, whose tag the receiving kernel moves into skb metadata),
// in both directions, and one flow that is not bypassed.
type liveFrames struct {
	bypassed [][]byte // inserted flows, both directions
	other    []byte
}

func newLiveFrames() liveFrames {
	tagged := with(tcp6, func(f *frame) { f.tags = []uint32{tpidQ | 0x2000 | 77} })
	return liveFrames{
		bypassed: [][]byte{tcp4.bytes(), tcp4.reverse().bytes(), tagged.bytes(), tagged.reverse().bytes()},
		other:    udp4.bytes(),
	}
}

// flows returns one frame of each bypassed flow.
func (lf liveFrames) flows() [][]byte { return [][]byte{lf.bypassed[0], lf.bypassed[2]} }

// match reports which test frame got is: index into bypassed, len(bypassed)
// for other, -1 for none. A frame received with its VLAN tag in metadata
// lacks the 4 tag bytes.
func (lf liveFrames) match(got []byte) int {
	eq := func(want []byte) bool {
		if bytes.Equal(got, want) {
			return true
		}
		return len(want) > 18 && want[12] == 0x81 && len(got) == len(want)-4 &&
			bytes.Equal(got[:12], want[:12]) && bytes.Equal(got[12:], want[16:])
	}
	for i, f := range lf.bypassed {
		if eq(f) {
			return i
		}
	}
	if eq(lf.other) {
		return len(lf.bypassed)
	}
	return -1
}

// packetSocket opens an AF_PACKET socket bound to the interface.
func packetSocket(t testing.TB, iface string) int {
	t.Helper()
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

// send sends every frame n times from the namespace end of the pair.
func send(t testing.TB, v *netnstest.VethPair, frames [][]byte, n int) {
	t.Helper()
	v.InNS(t, func() error {
		ifi, err := net.InterfaceByName(v.Inner)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		for range n {
			for _, f := range frames {
				if err := unix.Sendto(fd, f, 0, to); err != nil {
					return fmt.Errorf("send: %w", err)
				}
			}
		}
		return nil
	})
}

// receive counts the test frames read from fd until it is quiet.
func receive(t testing.TB, fd int, lf liveFrames) []int {
	t.Helper()
	counts := make([]int, len(lf.bypassed)+1)
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return counts
		}
		if err != nil {
			t.Fatal(err)
		}
		if i := lf.match(buf[:n]); i >= 0 {
			counts[i]++
		}
	}
}

// checkLive sends n copies of every test frame and checks that the reader
// on fd got only the other flow's, and the kernel counted the rest with
// their wire length (VLAN tag included).
func checkLive(t *testing.T, b *Bypass, v *netnstest.VethPair, fd int) {
	lf := newLiveFrames()
	for _, f := range lf.flows() {
		k, _ := keyOf(t, f)
		if err := b.Insert(k); err != nil {
			t.Fatal(err)
		}
	}
	const n = 50
	send(t, v, append(lf.bypassed, lf.other), n)
	counts := receive(t, fd, lf)
	for i := range lf.bypassed {
		if counts[i] != 0 {
			t.Errorf("reader got %d packets of bypassed frame %d", counts[i], i)
		}
	}
	if got := counts[len(lf.bypassed)]; got != n {
		t.Errorf("reader got %d packets of the other flow, want %d", got, n)
	}
	for _, f := range lf.flows() {
		k, fromDst := keyOf(t, f)
		c := lookup(t, b, k)
		want := DirCounters{Packets: n, Bytes: n * uint64(len(f))}
		if c.FromSrc.Packets != want.Packets || c.FromSrc.Bytes != want.Bytes ||
			c.FromDst.Packets != want.Packets || c.FromDst.Bytes != want.Bytes {
			t.Errorf("flow %+v (first frame from dst: %v): counters %+v, want %+v each way", k, fromDst, c, want)
		}
	}
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Bypassed != 4*n || s.Miss < n {
		t.Errorf("stats %+v: want %d bypassed, at least %d missed", s, 4*n, n)
	}
}

// TestLiveSocketFilter: sock_bypass on a real AF_PACKET socket, with the
// kernel's VLAN untagging and skb layout, on a veth pair.
func TestLiveSocketFilter(t *testing.T) {
	netnstest.NeedRoot(t)
	v := netnstest.NewVethPair(t, "bys", 0)
	v.Up(t)
	b := openTest(t, Config{Mode: ModeSocket, TableSize: 64})
	fd := packetSocket(t, v.Outer)
	if err := b.AttachSocket(fd); err != nil {
		t.Fatal(err)
	}
	checkLive(t, b, v, fd)
}

// TestLiveXDP: xdp_bypass in generic and driver mode on a veth, seen by
// a plain AF_PACKET reader; with pinning, a stale link is detached at the
// next Open.
func TestLiveXDP(t *testing.T) {
	netnstest.NeedRoot(t)
	for i, generic := range []bool{true, false} {
		t.Run(map[bool]string{true: "generic", false: "driver"}[generic], func(t *testing.T) {
			v := netnstest.NewVethPair(t, "byx", i)
			v.Up(t)
			pin := filepath.Join(mountBPFFS(t), "polder")
			b, err := Open(Config{Mode: ModeXDP, Interfaces: []string{v.Outer}, XDPGeneric: generic, TableSize: 64, PinDir: pin})
			if err != nil {
				t.Fatal(err)
			}
			fd := packetSocket(t, v.Outer)
			checkLive(t, b, v, fd)
			if !xdpAttached(t, v.Outer) {
				t.Fatal("no XDP program on the interface")
			}
			crash(b) // the pinned link keeps XDP attached
			if !xdpAttached(t, v.Outer) {
				t.Fatal("pinned XDP link detached by a crash")
			}
			b2, err := Open(Config{Mode: ModeSocket, TableSize: 64, PinDir: pin})
			if err != nil {
				t.Fatal(err)
			}
			if xdpAttached(t, v.Outer) {
				t.Error("stale XDP link still attached after Open")
			}
			if err := b2.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func xdpAttached(t testing.TB, iface string) bool {
	t.Helper()
	out, err := exec.Command("ip", "-d", "link", "show", "dev", iface).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v\n%s", err, out)
	}
	return strings.Contains(string(out), "prog/xdp")
}
