//go:build linux

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/polder-nsm/polder/internal/netnstest"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpenLiveErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts LiveOptions
		want string
	}{
		{"no interface", LiveOptions{}, "open live capture: no interface given (have: lo"},
		{"missing interface", LiveOptions{Interface: "polder-nope9"}, `open interface "polder-nope9": no such interface (have: lo`},
		{"bad block size", LiveOptions{Interface: "lo", BlockSize: 1000}, "BlockSize 1000 is not a positive multiple of the page size"},
		{"negative workers", LiveOptions{Interface: "lo", Workers: -1}, "Workers -1 is negative"},
		{"negative poll timeout", LiveOptions{Interface: "lo", PollTimeout: -1}, "PollTimeout -1ns is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcs, err := OpenLive(tc.opts, 0)
			if err == nil {
				for _, s := range srcs {
					s.Close()
				}
				t.Fatalf("OpenLive succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenLive: %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{unix.EPERM, "(run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)"},
		{fmt.Errorf("socket: %w", unix.EACCES), "(run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)"},
		{unix.ENETDOWN, "(is the interface up?)"},
		{unix.ENODEV, "(have: lo"},
		{io.EOF, ""},
	} {
		if got := hint(tc.err); !strings.HasPrefix(strings.TrimSpace(got), tc.want) {
			t.Errorf("hint(%v) = %q, want prefix %q", tc.err, got, tc.want)
		}
	}
}

func needRoot(t *testing.T) { netnstest.NeedRoot(t) }

func run(t *testing.T, args ...string) { netnstest.Run(t, args...) }

func newVethPair(t *testing.T, n int) *vethPair {
	return &vethPair{netnstest.NewVethPair(t, "pc", n)}
}

// vethPair adapts netnstest.VethPair to this file's lower-case helpers.
type vethPair struct{ *netnstest.VethPair }

func (v *vethPair) up(t *testing.T)                    { v.Up(t) }
func (v *vethPair) inNS(t *testing.T, fn func() error) { v.InNS(t, fn) }

// tuple is a direction-free flow key for the test's own bookkeeping.
type tuple struct {
	a, b  netip.AddrPort
	proto byte
}

func flowOf(src, dst netip.AddrPort, proto byte) tuple {
	if src.Compare(dst) > 0 {
		src, dst = dst, src
	}
	return tuple{src, dst, proto}
}

// parseIPv4 pulls the 5-tuple and payload out of an Ethernet/IPv4/UDP or
// TCP frame; ok is false for anything else (ARP, IPv6, fragments).
func parseIPv4(b []byte) (src, dst netip.AddrPort, proto byte, payload []byte, ok bool) {
	if len(b) < 14+20 || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
		return
	}
	ip := b[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < 20 || total > len(ip) || total < ihl {
		return
	}
	proto = ip[9]
	l4 := ip[ihl:total]
	var hl int
	switch {
	case proto == unix.IPPROTO_UDP && len(l4) >= 8:
		hl = 8
	case proto == unix.IPPROTO_TCP && len(l4) >= 20:
		hl = int(l4[12]>>4) * 4
		if hl < 20 || hl > len(l4) {
			return
		}
	default:
		return
	}
	sa, _ := netip.AddrFromSlice(ip[12:16])
	da, _ := netip.AddrFromSlice(ip[16:20])
	src = netip.AddrPortFrom(sa, binary.BigEndian.Uint16(l4))
	dst = netip.AddrPortFrom(da, binary.BigEndian.Uint16(l4[2:]))
	return src, dst, proto, l4[hl:], true
}

type captured struct {
	worker   int
	src, dst netip.AddrPort
	proto    byte
	payload  string
}

// TestLiveFanout sends UDP request/response pairs on 40 flows and one TCP
// connection across a veth pair and captures them on our end with two
// fanout workers: every packet must be captured exactly once, both
// directions of each flow on the same worker, and the socket statistics
// must count them.
func TestLiveFanout(t *testing.T) {
	needRoot(t)
	v := newVethPair(t, 0)

	// A down interface is refused with a hint.
	if _, err := OpenLive(LiveOptions{Interface: v.Outer}, 0); err == nil || !strings.Contains(err.Error(), "(is the interface up?") {
		t.Fatalf("OpenLive on a down interface: %v, want the interface-up hint", err)
	}
	v.up(t)

	const workers = 2
	srcs, err := OpenLive(LiveOptions{
		Interface:   v.Outer,
		Workers:     workers,
		FanoutGroup: uint16(os.Getpid() * 2), // even: TestLiveTimeout uses odd ids, so parallel test processes do not meet
		BlockSize:   1 << 16,
		NumBlocks:   8,
		Promisc:     true,
		PollTimeout: 20 * time.Millisecond,
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range srcs {
			s.Close()
		}
	})
	if len(srcs) != workers {
		t.Fatalf("OpenLive returned %d sources, want %d", len(srcs), workers)
	}
	for _, s := range srcs {
		if s.LinkType() != LinkTypeEthernet {
			t.Fatalf("veth link type %v, want Ethernet", s.LinkType())
		}
		typ, err := unix.GetsockoptInt(s.FD(), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil || typ != unix.AF_PACKET {
			t.Fatalf("FD() %d: SO_DOMAIN %d, %v; want AF_PACKET", s.FD(), typ, err)
		}
	}

	// Capture on both workers until told to stop.
	var (
		mu   sync.Mutex
		got  []captured
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	for w, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var f Frame
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.ReadFrame(&f)
				if errors.Is(err, ErrTimeout) {
					continue
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if f.Interface != 3 || f.LinkType != LinkTypeEthernet || f.OrigLen < len(f.Data) || f.Timestamp.IsZero() {
					t.Errorf("worker %d: frame fields %+v", w, f)
				}
				src, dst, proto, payload, ok := parseIPv4(f.Data)
				if !ok {
					continue
				}
				mu.Lock()
				got = append(got, captured{w, src, dst, proto, string(payload)})
				mu.Unlock()
			}
		}()
	}

	// UDP: a server on our side echoes; 40 clients in the namespace, one
	// flow each.
	const flows = 40
	srv, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(v.OuterAddr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(bytes.Replace(buf[:n], []byte("req"), []byte("rsp"), 1), from)
		}
	}()
	srvAddr := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	var clients []*net.UDPConn
	v.inNS(t, func() error {
		for range flows {
			c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(srvAddr))
			if err != nil {
				return err
			}
			clients = append(clients, c)
		}
		return nil
	})
	want := map[string]bool{}
	for i, c := range clients {
		defer c.Close()
		msg := fmt.Sprintf("polder-req-%d", i)
		want[msg], want[strings.Replace(msg, "req", "rsp", 1)] = true, true
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("UDP flow %d got no reply: %v", i, err)
		}
	}

	// TCP: one connection from the namespace, a few segments each way.
	ln, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(v.OuterAddr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		for i := 0; ; i++ {
			if _, err := c.Read(buf); err != nil {
				return
			}
			c.Write(fmt.Appendf(nil, "polder-tcp-rsp-%d", i))
		}
	}()
	var tc net.Conn
	v.inNS(t, func() error {
		tc, err = net.Dial("tcp4", ln.Addr().String())
		return err
	})
	for i := range 3 {
		msg := fmt.Sprintf("polder-tcp-req-%d", i)
		want[msg], want[fmt.Sprintf("polder-tcp-rsp-%d", i)] = true, true
		tc.Write([]byte(msg))
		tc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := tc.Read(make([]byte, 64)); err != nil {
			t.Fatalf("TCP reply %d: %v", i, err)
		}
	}
	tc.Close()

	// Wait until every payload was seen (or give up after 5 s).
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		seen := 0
		for _, c := range got {
			if want[c.payload] {
				seen++
			}
		}
		mu.Unlock()
		if seen >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(done)
	wg.Wait()

	count := map[string]int{}
	worker := map[tuple]int{}
	perWorker := make([]int, workers)
	for _, c := range got {
		if c.src.Addr() != v.OuterAddr && c.src.Addr() != v.InnerAddr {
			continue
		}
		if c.payload != "" {
			count[c.payload]++
		}
		fl := flowOf(c.src, c.dst, c.proto)
		if w, ok := worker[fl]; ok && w != c.worker {
			t.Errorf("flow %v-%v (proto %d) seen on workers %d and %d: fanout must keep a flow on one socket", fl.a, fl.b, fl.proto, w, c.worker)
		}
		worker[fl] = c.worker
		perWorker[c.worker]++
	}
	for p := range want {
		if count[p] != 1 {
			t.Errorf("payload %q captured %d times, want exactly once", p, count[p])
		}
	}
	for w, n := range perWorker {
		if n == 0 {
			t.Errorf("worker %d captured nothing of %d flows: the fanout did not spread them", w, len(worker))
		}
	}
	var total uint64
	for w, s := range srcs {
		pk, drops, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if pk < uint64(perWorker[w]) || drops != 0 {
			t.Errorf("worker %d: Stats() = %d packets, %d drops; captured %d of ours", w, pk, drops, perWorker[w])
		}
		total += pk
	}
	t.Logf("%d flows, %d frames of ours per worker %v, kernel counted %d", len(worker), len(got), perWorker, total)

	// Stop from another goroutine while the reader waits in poll: the
	// reader must see ErrClosed promptly, then Close; Stats keeps the
	// final counts. A Close racing a blocked ReadFrame (srcs[1]) must wait
	// for it rather than unmap the ring under it.
	s := srcs[0]
	errc := make(chan error, 2)
	reader := func(s *LiveSource, closeAfter bool) {
		var f Frame
		for {
			if err := s.ReadFrame(&f); err != nil && !errors.Is(err, ErrTimeout) {
				if closeAfter {
					s.Close()
				}
				errc <- err
				return
			}
		}
	}
	go reader(s, true)
	go reader(srcs[1], false)
	time.Sleep(50 * time.Millisecond)
	before, _, _ := s.Stats()
	s.Stop()
	if err := srcs[1].Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("ReadFrame after Stop or Close: %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("ReadFrame did not return after Stop or Close")
		}
	}
	if after, _, err := s.Stats(); err != nil || after < before {
		t.Errorf("Stats after Close = %d, %v; want >= %d", after, err, before)
	}
	if s.FD() != -1 {
		t.Errorf("FD() after Close = %d, want -1", s.FD())
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestLiveTimeout checks that a quiet socket returns ErrTimeout about every
// PollTimeout, so workers get to run their periodic work, and that reading
// frames from the ring allocates nothing.
func TestLiveTimeout(t *testing.T) {
	needRoot(t)
	v := newVethPair(t, 1)
	v.up(t)
	srcs, err := OpenLive(LiveOptions{Interface: v.Outer, FanoutGroup: uint16(os.Getpid()*2 + 1), BlockSize: 1 << 16, NumBlocks: 4, PollTimeout: 30 * time.Millisecond}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := srcs[0]
	defer s.Close()
	var f Frame
	start := time.Now()
	for {
		err := s.ReadFrame(&f)
		if errors.Is(err, ErrTimeout) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatal("no ErrTimeout within 3 s on a quiet interface")
		}
	}

	// Queue 300 frames in the ring, then read them counting allocations.
	const n = 300
	var c *net.UDPConn
	v.inNS(t, func() (err error) {
		c, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(v.OuterAddr, 9)))
		return err
	})
	defer c.Close()
	for range n {
		c.Write([]byte("polder-alloc-probe"))
	}
	time.Sleep(100 * time.Millisecond) // let the block timeout hand the frames over
	frames := 0
	allocs := testing.AllocsPerRun(n/2, func() {
		if s.ReadFrame(&f) == nil {
			frames++
		}
	})
	if frames < n/2 {
		t.Fatalf("read %d frames of %d queued", frames, n/2+1)
	}
	if allocs != 0 {
		t.Errorf("ReadFrame allocates %.2f times per frame, want 0", allocs)
	}
}
