// Package pcaptest reads pcap and pcapng files with gopacket, an
// implementation independent of the sensor's capture and decode stages, and
// replays TCP as in-order chunks: a reference for parser tests that must
// not depend on the stages upstream of them.
package pcaptest

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one transport-layer payload.
type Packet struct {
	TS               time.Time
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	TCP              bool
	SYN, ACK         bool
	Seq              uint32
	Payload          []byte
}

// Read returns every TCP/UDP packet of path in file order.
func Read(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	type src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r src
	var lt layers.LinkType
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		r, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		r, lt = pr, pr.LinkType()
	}
	var out []Packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			break
		}
		pk := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if pk.NetworkLayer() == nil && len(data) > 0 {
			// Raw-IP link types gopacket does not map: try the version nibble.
			switch data[0] >> 4 {
			case 4:
				pk = gopacket.NewPacket(data, layers.LayerTypeIPv4, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
			case 6:
				pk = gopacket.NewPacket(data, layers.LayerTypeIPv6, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
			}
		}
		var p Packet
		p.TS = ci.Timestamp
		if ip4, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			p.Src, _ = netip.AddrFromSlice(ip4.SrcIP.To4())
			p.Dst, _ = netip.AddrFromSlice(ip4.DstIP.To4())
		} else if ip6, ok := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			p.Src, _ = netip.AddrFromSlice(ip6.SrcIP)
			p.Dst, _ = netip.AddrFromSlice(ip6.DstIP)
		} else {
			continue
		}
		if t, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			p.TCP = true
			p.SrcPort, p.DstPort = uint16(t.SrcPort), uint16(t.DstPort)
			p.SYN, p.ACK, p.Seq = t.SYN, t.ACK, t.Seq
			p.Payload = t.Payload
		} else if u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			p.SrcPort, p.DstPort = uint16(u.SrcPort), uint16(u.DstPort)
			p.Payload = u.Payload
		} else {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Endpoint is one side of a flow.
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

// TCPFlow is a TCP connection with the client side known (the SYN sender,
// else the first sender).
type TCPFlow struct {
	Client, Server Endpoint
	next           [2]uint32
	started        [2]bool
	pending        [2][]Packet // out-of-order segments waiting for the hole to fill
}

// TCPEvent is an in-order chunk (or a gap when data is nil and gap > 0).
type TCPEvent struct {
	Flow *TCPFlow
	Dir  int // 0 to server, 1 to client
	Data []byte
	Gap  int
	TS   time.Time
}

// TCPStreams replays the TCP packets as in-order chunks per direction: a
// small reassembler for tests. Retransmitted bytes are trimmed, segments
// ahead of the next expected byte wait until the hole fills; what still
// waits at the end of the capture is flushed in order with gaps.
func TCPStreams(pkts []Packet) []TCPEvent {
	type key struct{ a, b Endpoint }
	flows := map[key]*TCPFlow{}
	var order []*TCPFlow
	var ev []TCPEvent
	deliver := func(f *TCPFlow, dir int, p Packet) bool {
		pl := p.Payload
		delta := int32(p.Seq - f.next[dir])
		if delta > 0 {
			return false
		}
		if -delta >= int32(len(pl)) {
			return true
		}
		pl = pl[-delta:]
		ev = append(ev, TCPEvent{Flow: f, Dir: dir, Data: pl, TS: p.TS})
		f.next[dir] += uint32(len(pl))
		return true
	}
	drain := func(f *TCPFlow, dir int) {
		for progress := true; progress; {
			progress = false
			keep := f.pending[dir][:0]
			for _, q := range f.pending[dir] {
				if deliver(f, dir, q) {
					progress = true
				} else {
					keep = append(keep, q)
				}
			}
			f.pending[dir] = keep
		}
	}
	for _, p := range pkts {
		if !p.TCP {
			continue
		}
		s, d := Endpoint{p.Src, p.SrcPort}, Endpoint{p.Dst, p.DstPort}
		f := flows[key{s, d}]
		if f == nil {
			f = flows[key{d, s}]
		}
		if f == nil {
			if p.SYN && p.ACK {
				f = &TCPFlow{Client: d, Server: s}
			} else {
				f = &TCPFlow{Client: s, Server: d}
			}
			flows[key{s, d}] = f
			order = append(order, f)
		}
		dir := 0
		if s != f.Client {
			dir = 1
		}
		if p.SYN {
			if !f.started[dir] {
				f.next[dir] = p.Seq + 1
				f.started[dir] = true
			}
			continue
		}
		if len(p.Payload) == 0 {
			continue
		}
		if !f.started[dir] {
			f.started[dir] = true
			f.next[dir] = p.Seq
		}
		if d := int32(p.Seq - f.next[dir]); d > 1<<20 || d < -(1<<20) {
			continue
		}
		if deliver(f, dir, p) {
			drain(f, dir)
		} else if len(f.pending[dir]) < 4096 {
			f.pending[dir] = append(f.pending[dir], p)
		}
	}
	for _, f := range order {
		for dir := 0; dir < 2; dir++ {
			for len(f.pending[dir]) > 0 {
				lo := 0
				for i, q := range f.pending[dir] {
					if int32(q.Seq-f.pending[dir][lo].Seq) < 0 {
						lo = i
					}
				}
				q := f.pending[dir][lo]
				ev = append(ev, TCPEvent{Flow: f, Dir: dir, Gap: int(q.Seq - f.next[dir]), TS: q.TS})
				f.next[dir] = q.Seq
				drain(f, dir)
			}
		}
	}
	return ev
}
