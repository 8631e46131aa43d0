//go:build linux

// Command bypassload is the load generator of scripts/bench-bypass.sh: it
// writes one TCP elephant flow, and UDP mice beside it, as crafted Ethernet
// frames into an AF_PACKET socket at a fixed packet rate, so a sensor
// capturing on the other end of a veth pair sees a known flow at a known
// offered load. Both directions of every flow are sent from here, so the
// capture interface receives all of them (an XDP program sees them all).
//
// The elephant is an HTTP download, client 10.99.0.1:40000 → server
// 203.0.113.10:80 (a host in HOME_NET and one outside it, as the rules
// expect): a handshake, the request "GET /elephant" (bench-bypass.sh's rule
// bypasses the flow on it), the server's ACK and response header, then the
// body in 1448-byte segments with a client ACK every second segment, and a
// FIN exchange at the end. Each mouse is one
// UDP request ("MOUSE ...") and its reply between 10.99.1.x and
// 203.0.113.10:5300, a new flow each time; one mouse every -mice packets.
// Frames go to a unicast MAC address that is not the receiver's, so the
// receiving host's IP stack discards them at once (PACKET_OTHERHOST) and
// only capture sees them.
//
// Usage (as root, in the namespace holding the sending end):
//
//	bypassload -i IFACE -rate PPS -duration 10s [-mice 100]
//
// It prints one line of key=value pairs: frames and bytes sent in all, of
// the elephant (per direction) and of the mice, the seconds it took and the
// packet rate achieved (lower than -rate when the host cannot keep up).
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

const (
	mss       = 1448
	ethLen    = 14
	ipLen     = 20
	tcpLen    = 20
	udpLen    = 8
	mouseLen  = 100
	tcpFIN    = 0x01
	tcpSYN    = 0x02
	tcpPSH    = 0x08
	tcpACK    = 0x10
	elephantC = 40000
	elephantS = 80
	mousePort = 5300
)

var (
	clientIP = [4]byte{10, 99, 0, 1}
	serverIP = [4]byte{203, 0, 113, 10} // outside HOME_NET: the rules that watch external hosts apply
	macA     = [6]byte{0x02, 0, 0, 0, 0xbb, 1}
	macB     = [6]byte{0x02, 0, 0, 0, 0xbb, 2}
)

// counts are what was sent.
type counts struct {
	pkts, bytes           uint64
	toServer, toClient    uint64 // elephant packets per direction
	toServerB, toClientB  uint64 // and bytes
	micePkts, miceBytes   uint64
	elephantSegs, miceNum uint64
}

type sender struct {
	fd  int
	buf []byte
	c   counts
	// elephant state: next sequence numbers
	cseq, sseq uint32
	chunks     [][]byte // the segments' payloads, in turn
	sums       []uint32 // their one's-complement partial sums
	next       int
	mouse      uint32
}

func main() {
	iface := flag.String("i", "", "interface to send on (required)")
	rate := flag.Int("rate", 100_000, "packets per second, all flows together")
	dur := flag.Duration("duration", 10*time.Second, "how long the elephant's data phase lasts")
	mice := flag.Int("mice", 100, "one mouse (request + reply) every MICE packets; 0 = none")
	payload := flag.String("payload", "", "the elephant's data: consecutive 1448-byte pieces of this file, cycling; empty = pseudo-random bytes")
	flag.Parse()
	if *iface == "" || *rate <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*iface, *rate, *dur, *mice, *payload); err != nil {
		fmt.Fprintln(os.Stderr, "bypassload:", err)
		os.Exit(1)
	}
}

func run(iface string, rate int, dur time.Duration, mice int, payload string) error {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: send only
	if err != nil {
		return fmt.Errorf("open AF_PACKET socket: %w (run as root)", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		return fmt.Errorf("bind to %s: %w", iface, err)
	}
	// Straight to the driver: no qdisc, as a capture-replay tool would.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)

	s := &sender{fd: fd, buf: make([]byte, 2048), cseq: 1_000_000, sseq: 2_000_000}
	var data []byte
	if payload != "" {
		if data, err = os.ReadFile(payload); err != nil {
			return err
		}
		// Whole segments, cycling through the file: repeat it until the
		// pieces line up again.
		for len(data)%mss != 0 && len(data) < 64*mss {
			data = append(data, data...)
		}
	} else {
		// Incompressible bulk data (an encrypted transfer), the same
		// every run.
		r := rand.New(rand.NewPCG(1, 2))
		data = make([]byte, 64*mss)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
	}
	for off := 0; off+mss <= len(data); off += mss {
		s.chunks = append(s.chunks, data[off:off+mss])
		s.sums = append(s.sums, sum(0, data[off:off+mss]))
	}
	if len(s.chunks) == 0 {
		return fmt.Errorf("payload file %s is shorter than one segment (%d bytes)", payload, mss)
	}

	start := time.Now()
	// Handshake and request.
	s.tcp(true, tcpSYN, nil, 0)
	s.tcp(false, tcpSYN|tcpACK, nil, 0)
	s.tcp(true, tcpACK, nil, 0)
	req := []byte("GET /elephant HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bypassload\r\nAccept: */*\r\n\r\n")
	s.tcp(true, tcpPSH|tcpACK, req, sum(0, req))
	s.tcp(false, tcpACK, nil, 0)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: bypassload\r\nContent-Type: text/plain\r\nContent-Length: 100000000000\r\n\r\n")
	s.tcp(false, tcpPSH|tcpACK, resp, sum(0, resp))

	interval := time.Second / time.Duration(rate)
	next := start
	var n uint64
	for time.Since(start) < dur {
		for range 64 {
			n++
			switch {
			case mice > 0 && n%uint64(mice) == 0:
				s.mouseFlow()
				n++
			case n%3 == 0:
				s.tcp(true, tcpACK, nil, 0) // the client acknowledges every second segment
			default:
				s.tcp(false, tcpACK, s.chunks[s.next], s.sums[s.next])
				s.next = (s.next + 1) % len(s.chunks)
			}
		}
		next = next.Add(64 * interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
	s.tcp(false, tcpFIN|tcpACK, nil, 0)
	s.tcp(true, tcpFIN|tcpACK, nil, 0)
	s.tcp(false, tcpACK, nil, 0)
	secs := time.Since(start).Seconds()
	c := s.c
	fmt.Printf("sent_pkts=%d sent_bytes=%d elephant_pkts=%d elephant_toserver_pkts=%d elephant_toclient_pkts=%d elephant_toserver_bytes=%d elephant_toclient_bytes=%d mice=%d mice_pkts=%d mice_bytes=%d seconds=%.3f pps=%.0f\n",
		c.pkts, c.bytes, c.toServer+c.toClient, c.toServer, c.toClient, c.toServerB, c.toClientB,
		c.miceNum, c.micePkts, c.miceBytes, secs, float64(c.pkts)/secs)
	return nil
}

// tcp sends one elephant segment, from the client when toServer; psum is
// the payload's one's-complement partial sum (sum(0, payload)).
func (s *sender) tcp(toServer bool, flags byte, payload []byte, psum uint32) {
	src, dst, sp, dp := clientIP, serverIP, uint16(elephantC), uint16(elephantS)
	seq, ack := &s.cseq, s.sseq
	if !toServer {
		src, dst, sp, dp = serverIP, clientIP, elephantS, elephantC
		seq, ack = &s.sseq, s.cseq
	}
	n := ethLen + ipLen + tcpLen + len(payload)
	f := s.buf[:n]
	s.ipv4(f, src, dst, unix.IPPROTO_TCP, ipLen+tcpLen+len(payload), toServer)
	t := f[ethLen+ipLen:]
	binary.BigEndian.PutUint16(t[0:], sp)
	binary.BigEndian.PutUint16(t[2:], dp)
	binary.BigEndian.PutUint32(t[4:], *seq)
	a := uint32(0)
	if flags&tcpACK != 0 {
		a = ack
	}
	binary.BigEndian.PutUint32(t[8:], a)
	t[12] = tcpLen / 4 << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], 65535)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	cs := pseudo(src, dst, unix.IPPROTO_TCP, tcpLen+len(payload))
	cs = sum(cs, t[:tcpLen])
	cs += psum
	copy(t[tcpLen:], payload)
	binary.BigEndian.PutUint16(t[16:], fold(cs))
	*seq += uint32(len(payload))
	if flags&(tcpSYN|tcpFIN) != 0 {
		*seq++
	}
	s.send(f)
	if toServer {
		s.c.toServer++
		s.c.toServerB += uint64(n)
	} else {
		s.c.toClient++
		s.c.toClientB += uint64(n)
	}
}

// mouseFlow sends one UDP request and its reply, a flow of its own.
func (s *sender) mouseFlow() {
	s.mouse++
	cli := [4]byte{10, 99, 1, byte(s.mouse % 250)}
	port := uint16(1024 + s.mouse/250%60000)
	for i, dir := range [2]bool{true, false} {
		src, dst, sp, dp := cli, serverIP, port, uint16(mousePort)
		if !dir {
			src, dst, sp, dp = serverIP, cli, mousePort, port
		}
		n := ethLen + ipLen + udpLen + mouseLen
		f := s.buf[:n]
		s.ipv4(f, src, dst, unix.IPPROTO_UDP, ipLen+udpLen+mouseLen, dir)
		u := f[ethLen+ipLen:]
		binary.BigEndian.PutUint16(u[0:], sp)
		binary.BigEndian.PutUint16(u[2:], dp)
		binary.BigEndian.PutUint16(u[4:], udpLen+mouseLen)
		u[6], u[7] = 0, 0
		p := u[udpLen : udpLen+mouseLen]
		clear(p)
		word := "MOUSE "
		if i == 1 {
			word = "REPLY "
		}
		copy(p, word)
		strconv.AppendUint(p[len(word):len(word)], uint64(s.mouse), 10)
		cs := sum(pseudo(src, dst, unix.IPPROTO_UDP, udpLen+mouseLen), u[:udpLen+mouseLen])
		binary.BigEndian.PutUint16(u[6:], fold(cs))
		s.send(f)
		s.c.micePkts++
		s.c.miceBytes += uint64(n)
	}
	s.c.miceNum++
}

// ipv4 writes the Ethernet and IPv4 headers of a frame.
func (s *sender) ipv4(f []byte, src, dst [4]byte, proto byte, totLen int, fromA bool) {
	smac, dmac := macA, macB
	if !fromA {
		smac, dmac = macB, macA
	}
	copy(f[0:6], dmac[:])
	copy(f[6:12], smac[:])
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_IP)
	ip := f[ethLen : ethLen+ipLen]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(totLen))
	binary.BigEndian.PutUint16(ip[4:], uint16(s.c.pkts))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8], ip[9] = 64, proto
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], fold(sum(0, ip)))
}

func (s *sender) send(f []byte) {
	for {
		_, err := unix.Write(s.fd, f)
		if err == nil {
			break
		}
		if err != unix.ENOBUFS && err != unix.EAGAIN && err != unix.EINTR {
			fmt.Fprintln(os.Stderr, "bypassload: send:", err)
			os.Exit(1)
		}
	}
	s.c.pkts++
	s.c.bytes += uint64(len(f))
}

// sum adds b to a one's-complement partial sum.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func pseudo(src, dst [4]byte, proto byte, l4Len int) uint32 {
	s := sum(0, src[:])
	s = sum(s, dst[:])
	return s + uint32(proto) + uint32(l4Len)
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
