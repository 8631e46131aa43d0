package tls

// Test helper: read a pcap or pcapng with gopacket and hand back transport
// payloads per flow. Tests only; the package itself imports no capture or
// decoding library.

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

// tpkt is one transport-layer payload.
type tpkt struct {
	ts           time.Time
	src, dst     netip.Addr
	sport, dport uint16
	tcp          bool
	syn, ack     bool
	seq          uint32
	payload      []byte
}

// readPcap returns every TCP/UDP packet of path in file order.
func readPcap(path string) ([]tpkt, error) {
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
	var out []tpkt
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
		var p tpkt
		p.ts = ci.Timestamp
		if ip4, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			p.src, _ = netip.AddrFromSlice(ip4.SrcIP.To4())
			p.dst, _ = netip.AddrFromSlice(ip4.DstIP.To4())
		} else if ip6, ok := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			p.src, _ = netip.AddrFromSlice(ip6.SrcIP)
			p.dst, _ = netip.AddrFromSlice(ip6.DstIP)
		} else {
			continue
		}
		if t, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			p.tcp = true
			p.sport, p.dport = uint16(t.SrcPort), uint16(t.DstPort)
			p.syn, p.ack, p.seq = t.SYN, t.ACK, t.Seq
			p.payload = t.Payload
		} else if u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			p.sport, p.dport = uint16(u.SrcPort), uint16(u.DstPort)
			p.payload = u.Payload
		} else {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// endpoint is one side of a flow.
type endpoint struct {
	addr netip.Addr
	port uint16
}

// tcpFlow is a TCP connection with the client side known (the SYN sender,
// else the first sender).
type tcpFlow struct {
	client, server endpoint
	next           [2]uint32
	started        [2]bool
	pending        [2][]tpkt // out-of-order segments waiting for the hole to fill
}

// tcpEvent is an in-order chunk (or a gap when data is nil and gap > 0).
type tcpEvent struct {
	flow *tcpFlow
	dir  int // 0 to server, 1 to client
	data []byte
	gap  int
	ts   time.Time
}

// tcpStreams replays the TCP packets as in-order chunks per direction: a
// small reassembler for tests. Retransmitted bytes are trimmed, segments
// ahead of the next expected byte wait until the hole fills; what still
// waits at the end of the capture is flushed in order with gaps.
func tcpStreams(pkts []tpkt) []tcpEvent {
	type key struct{ a, b endpoint }
	flows := map[key]*tcpFlow{}
	var order []*tcpFlow
	var ev []tcpEvent
	deliver := func(f *tcpFlow, dir int, p tpkt) bool {
		pl := p.payload
		delta := int32(p.seq - f.next[dir])
		if delta > 0 {
			return false
		}
		if -delta >= int32(len(pl)) {
			return true
		}
		pl = pl[-delta:]
		ev = append(ev, tcpEvent{flow: f, dir: dir, data: pl, ts: p.ts})
		f.next[dir] += uint32(len(pl))
		return true
	}
	drain := func(f *tcpFlow, dir int) {
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
		if !p.tcp {
			continue
		}
		s, d := endpoint{p.src, p.sport}, endpoint{p.dst, p.dport}
		f := flows[key{s, d}]
		if f == nil {
			f = flows[key{d, s}]
		}
		if f == nil {
			if p.syn && p.ack {
				f = &tcpFlow{client: d, server: s}
			} else {
				f = &tcpFlow{client: s, server: d}
			}
			flows[key{s, d}] = f
			order = append(order, f)
		}
		dir := 0
		if s != f.client {
			dir = 1
		}
		if p.syn {
			if !f.started[dir] {
				f.next[dir] = p.seq + 1
				f.started[dir] = true
			}
			continue
		}
		if len(p.payload) == 0 {
			continue
		}
		if !f.started[dir] {
			f.started[dir] = true
			f.next[dir] = p.seq
		}
		if d := int32(p.seq - f.next[dir]); d > 1<<20 || d < -(1<<20) {
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
					if int32(q.seq-f.pending[dir][lo].seq) < 0 {
						lo = i
					}
				}
				q := f.pending[dir][lo]
				ev = append(ev, tcpEvent{flow: f, dir: dir, gap: int(q.seq - f.next[dir]), ts: q.ts})
				f.next[dir] = q.seq
				drain(f, dir)
			}
		}
	}
	return ev
}
