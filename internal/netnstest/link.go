//go:build linux

package netnstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NoOffloads turns off TSO, GSO and GRO on both ends, so every packet on
// the link is one wire-sized frame: what the sender's TCP stack counts,
// the interface counters count and a capture sees are the same packets
// (with offloads on, a veth carries ~64 KB super-packets). Call it before
// opening connections: TCP sockets keep the route's offload flags.
func (v *VethPair) NoOffloads(t testing.TB) {
	t.Helper()
	if err := noOffloads(v.Outer); err != nil {
		t.Fatal(err)
	}
	v.InNS(t, func() error { return noOffloads(v.Inner) })
}

// noOffloads is ethtool -K name tso off gso off gro off, through the
// legacy ETHTOOL_S* ioctls (no ethtool binary needed), checked by reading
// each back.
func noOffloads(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, o := range []struct {
		name     string
		set, get uint32
	}{
		{"tso", unix.ETHTOOL_STSO, unix.ETHTOOL_GTSO},
		{"gso", unix.ETHTOOL_SGSO, unix.ETHTOOL_GGSO},
		{"gro", unix.ETHTOOL_SGRO, unix.ETHTOOL_GGRO},
	} {
		if _, err := ethtool(fd, name, o.set, 0); err != nil {
			return fmt.Errorf("ethtool -K %s %s off: %w", name, o.name, err)
		}
		on, err := ethtool(fd, name, o.get, 0)
		if err != nil || on != 0 {
			return fmt.Errorf("ethtool -k %s: %s still on (%v)", name, o.name, err)
		}
	}
	return nil
}

// ethtool runs one struct ethtool_value command on interface name and
// returns the value the kernel left in it.
func ethtool(fd int, name string, cmd, data uint32) (uint32, error) {
	val := struct{ cmd, data uint32 }{cmd, data}
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [24 - unsafe.Sizeof(uintptr(0))]byte // struct ifreq is 40 bytes
	}
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(&val)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return 0, e
	}
	return val.data, nil
}

// StaticNeighbors makes each end's neighbour entry for the other permanent,
// so no ARP crosses the link: after it, the link carries only the
// test's own packets (IPv6 is off on both ends).
func (v *VethPair) StaticNeighbors(t testing.TB) {
	t.Helper()
	outer, err := net.InterfaceByName(v.Outer)
	if err != nil {
		t.Fatal(err)
	}
	var inner net.HardwareAddr
	v.InNS(t, func() error {
		ifi, err := net.InterfaceByName(v.Inner)
		if err == nil {
			inner = ifi.HardwareAddr
		}
		return err
	})
	Run(t, "ip", "neigh", "replace", v.InnerAddr.String(), "lladdr", inner.String(), "dev", v.Outer, "nud", "permanent")
	Run(t, "ip", "netns", "exec", v.NS, "ip", "neigh", "replace", v.OuterAddr.String(), "lladdr", outer.HardwareAddr.String(), "dev", v.Inner, "nud", "permanent")
}

// LinkCounters are an interface's kernel counters: frames and bytes
// (Ethernet header included) sent and received.
type LinkCounters struct {
	TxPackets, TxBytes, RxPackets, RxBytes uint64
}

// Sub returns c minus an earlier reading o.
func (c LinkCounters) Sub(o LinkCounters) LinkCounters {
	return LinkCounters{c.TxPackets - o.TxPackets, c.TxBytes - o.TxBytes, c.RxPackets - o.RxPackets, c.RxBytes - o.RxBytes}
}

// OuterCounters reads the outer end's counters. On a veth pair the outer
// end's tx is what our namespace sent into the link and its rx what the
// inner end sent (the kernel reads it from the peer's tx counters).
func (v *VethPair) OuterCounters(t testing.TB) LinkCounters {
	t.Helper()
	var c LinkCounters
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"tx_packets", &c.TxPackets}, {"tx_bytes", &c.TxBytes}, {"rx_packets", &c.RxPackets}, {"rx_bytes", &c.RxBytes}} {
		b, err := os.ReadFile("/sys/class/net/" + v.Outer + "/statistics/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		if *f.dst, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Leftovers lists what of the pair is still in our namespace: the
// namespace's name, the outer interface (and with it its routes), a
// neighbour entry for the inner address. Empty once the test's cleanups ran; register a cleanup
// that checks it before calling NewVethPair, so that it runs after theirs.
func (v *VethPair) Leftovers() []string {
	var left []string
	if _, err := os.Stat("/var/run/netns/" + v.NS); err == nil {
		left = append(left, "network namespace "+v.NS)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), v.NS) {
		left = append(left, "ip netns list: "+v.NS)
	}
	if _, err := net.InterfaceByName(v.Outer); err == nil {
		left = append(left, "interface "+v.Outer)
	}
	if out, _ := exec.Command("ip", "neigh", "show", v.InnerAddr.String()).Output(); len(strings.TrimSpace(string(out))) > 0 {
		left = append(left, "neighbour "+strings.TrimSpace(string(out)))
	}
	return left
}
