//go:build linux

// Package netnstest builds throwaway test hosts for integration tests that
// need a real kernel: a network namespace joined to ours by a veth pair.
// Everything it creates is removed when the test ends, pass or fail.
package netnstest

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// NeedRoot skips without root or iproute2, except in CI (CI=true), where a
// missing privilege must fail the test rather than let it pass silently.
func NeedRoot(t testing.TB) {
	t.Helper()
	msg := ""
	if os.Geteuid() != 0 {
		msg = "needs root (AF_PACKET, network namespaces)"
	} else if _, err := exec.LookPath("ip"); err != nil {
		msg = "needs the ip command (make deps installs iproute2)"
	}
	if msg == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + ": CI must run this test")
	}
	t.Skip(msg)
}

// VethPair is a veth pair with one end (Inner, address InnerAddr) in a
// network namespace of its own and the other (Outer, OuterAddr) in ours.
type VethPair struct {
	NS, Outer, Inner     string
	OuterAddr, InnerAddr netip.Addr
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// NewVethPair builds a pair named after tag (≤ 3 letters), the process id
// and n, so parallel tests and test binaries never clash; addresses are a
// /30 of 10.231.0.0/16 chosen the same way. The outer end is left down:
// call Up once capture is ready, so the test sees every packet.
func NewVethPair(t testing.TB, tag string, n int) *VethPair {
	t.Helper()
	pid := os.Getpid()
	v := &VethPair{
		NS:    fmt.Sprintf("polder-%s-%d-%d", tag, pid, n),
		Outer: fmt.Sprintf("%s%do%d", tag, pid%100000, n),
		Inner: fmt.Sprintf("%s%di%d", tag, pid%100000, n),
	}
	salt := 0
	for _, c := range tag {
		salt = salt*31 + int(c)
	}
	base := uint32(10<<24|231<<16) | uint32((pid*4+n*4+salt*64)&0xfffc)
	v.OuterAddr = netip.AddrFrom4([4]byte{byte(base >> 24), byte(base >> 16), byte(base >> 8), byte(base) | 1})
	v.InnerAddr = v.OuterAddr.Next()

	Run(t, "ip", "netns", "add", v.NS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", v.NS).Run() })
	Run(t, "ip", "link", "add", v.Outer, "type", "veth", "peer", "name", v.Inner)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.Outer).Run() })
	// Keep IPv6 router and multicast chatter off the link.
	os.WriteFile("/proc/sys/net/ipv6/conf/"+v.Outer+"/disable_ipv6", []byte("1"), 0o644)
	Run(t, "ip", "link", "set", v.Inner, "netns", v.NS)
	Run(t, "ip", "netns", "exec", v.NS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	Run(t, "ip", "addr", "add", v.OuterAddr.String()+"/30", "dev", v.Outer)
	Run(t, "ip", "netns", "exec", v.NS, "ip", "addr", "add", v.InnerAddr.String()+"/30", "dev", v.Inner)
	Run(t, "ip", "netns", "exec", v.NS, "ip", "link", "set", v.Inner, "up")
	Run(t, "ip", "netns", "exec", v.NS, "ip", "link", "set", "lo", "up")
	return v
}

// Up brings the outer end up.
func (v *VethPair) Up(t testing.TB) { Run(t, "ip", "link", "set", v.Outer, "up") }

// InNS runs fn on an OS thread switched into the namespace. Sockets fn
// creates belong to the namespace for their whole life and may be used from
// any goroutine. The thread is never switched back: it exits with the
// goroutine (LockOSThread without Unlock), so no other goroutine ever runs
// in the wrong namespace.
func (v *VethPair) InNS(t testing.TB, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+v.NS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", v.NS, err)
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
