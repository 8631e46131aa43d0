package http

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// replayFlow is a test-only stand-in for the stream stage: it orders one
// TCP direction by sequence number only as far as dropping retransmissions
// and reporting holes as gaps. Out-of-order segments are treated as a gap
// followed by data, which is enough for well-behaved captures.
type replayDir struct {
	init     bool
	next     uint32
	probe    []byte // bytes held while Detect wants more
	probeSeq uint32
}

type replayFlow struct {
	client, server string // "ip:port"
	oriented       bool
	dirs           [2]replayDir
	parser         *Parser
	detected       bool
	notHTTP        bool
	probes         int
}

// replayPcap feeds every TCP flow of a pcap through Detect and a Parser,
// returning the transactions in emission order.
func replayPcap(t testing.TB, path string) []*Transaction {
	t.Helper()
	return replayPcapFilter(t, path, nil)
}

// replayPcapFilter is replayPcap with packets for which drop returns true
// left out (to simulate one-direction captures).
func replayPcapFilter(t testing.TB, path string, drop func(*layers.TCP) bool) []*Transaction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open pcap: %v", err)
	}
	defer f.Close()
	var src gopacket.PacketDataSource
	var lt layers.LinkType
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	if len(magic) == 4 && binary.LittleEndian.Uint32(magic) == 0x0A0D0D0A {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("read pcapng: %v", err)
		}
		src, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatalf("read pcap: %v", err)
		}
		src, lt = r, r.LinkType()
	}
	flows := map[string]*replayFlow{}
	var order []*replayFlow
	var out []*Transaction
	emit := func(tx *Transaction) { out = append(out, tx) }
	var last time.Time
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // truncated capture: keep what was read
		}
		last = ci.Timestamp
		var dec gopacket.Decoder = lt
		switch lt {
		case layers.LinkTypeIPv4:
			dec = layers.LayerTypeIPv4
		case layers.LinkTypeIPv6:
			dec = layers.LayerTypeIPv6
		case layers.LinkTypeRaw, 14:
			dec = layers.LayerTypeIPv4
			if len(data) > 0 && data[0]>>4 == 6 {
				dec = layers.LayerTypeIPv6
			}
		}
		pkt := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		// The innermost IP layer names the flow (tunnels such as ERSPAN
		// or GRE carry it inside an outer one).
		var nl gopacket.NetworkLayer
		for _, l := range pkt.Layers() {
			if n, ok := l.(gopacket.NetworkLayer); ok {
				nl = n
			}
		}
		if tl == nil || nl == nil || (drop != nil && drop(tl)) {
			continue
		}
		srcEP := nl.NetworkFlow().Src().String() + ":" + tl.SrcPort.String()
		dstEP := nl.NetworkFlow().Dst().String() + ":" + tl.DstPort.String()
		key := srcEP + "|" + dstEP
		if srcEP > dstEP {
			key = dstEP + "|" + srcEP
		}
		fl := flows[key]
		if fl == nil {
			fl = &replayFlow{}
			flows[key] = fl
			order = append(order, fl)
		}
		if !fl.oriented && tl.SYN {
			fl.oriented = true
			if tl.ACK {
				fl.client, fl.server = dstEP, srcEP
			} else {
				fl.client, fl.server = srcEP, dstEP
			}
		}
		payload := tl.Payload
		if len(payload) == 0 && !tl.SYN {
			continue
		}
		if !fl.oriented && len(payload) > 0 {
			// Orient by content, as the pipeline does for mid-stream pickup.
			p, fromClient, _ := applayer.Detect(decode.IPProtoTCP, flow.ToServer, payload, uint16(tl.SrcPort), uint16(tl.DstPort))
			fl.oriented = true
			fl.client, fl.server = srcEP, dstEP
			if p == applayer.ProtoUnknown {
				if tl.SrcPort < tl.DstPort {
					fl.client, fl.server = dstEP, srcEP
				}
			} else if !fromClient {
				fl.client, fl.server = dstEP, srcEP
			}
		}
		dir := flow.ToServer
		if srcEP == fl.server {
			dir = flow.ToClient
		}
		d := &fl.dirs[dir]
		seq := tl.Seq
		if tl.SYN {
			if !d.init {
				d.init, d.next = true, seq+1
			}
			continue
		}
		if len(payload) == 0 {
			continue
		}
		if !d.init {
			d.init, d.next = true, seq
		}
		if diff := int32(seq - d.next); diff < 0 {
			// Retransmission or overlap: keep only new bytes.
			if int(-diff) >= len(payload) {
				continue
			}
			payload = payload[-diff:]
			seq = d.next
		}
		if fl.notHTTP {
			continue
		}
		if !fl.detected {
			// Buffer a direction's first bytes until Detect decides, as
			// the pipeline must (clients may send a byte per segment).
			probe := payload
			if len(d.probe) > 0 && seq == d.next {
				probe = append(d.probe, payload...)
			}
			p, _, final := applayer.Detect(decode.IPProtoTCP, dir, probe, uint16(tl.SrcPort), uint16(tl.DstPort))
			if !final {
				if len(d.probe) == 0 || seq != d.next {
					d.probeSeq = seq
				}
				d.probe = append([]byte(nil), probe...)
				d.next = seq + uint32(len(payload))
				continue
			}
			if p != applayer.ProtoHTTP && len(probe) > len(payload) {
				// The held bytes were a preamble (SOCKS, proxy): try the
				// segment on its own.
				probe = payload
				p, _, _ = applayer.Detect(decode.IPProtoTCP, dir, probe, uint16(tl.SrcPort), uint16(tl.DstPort))
			}
			if p == applayer.ProtoHTTP && len(d.probe) > 0 && len(probe) > len(payload) {
				payload, seq = probe, d.probeSeq
				d.next = seq
			}
			d.probe = nil
			if p != applayer.ProtoHTTP {
				if final {
					// The other direction, or a later segment (after a
					// SOCKS or proxy preamble), may still say HTTP: keep
					// probing segment starts for a while, as the pipeline
					// should.
					d.next = seq + uint32(len(payload))
					fl.probes++
					if fl.probes > 16 {
						fl.notHTTP = true
					}
				}
				continue
			}
			fl.detected = true
			fl.parser = NewParser(nil)
		}
		if gap := seq - d.next; gap > 0 && gap < 1<<30 {
			fl.parser.Gap(dir, gap, ci.Timestamp, emit)
		}
		fl.parser.Parse(dir, payload, ci.Timestamp, emit)
		d.next = seq + uint32(len(payload))
	}
	for _, fl := range order {
		if fl.parser != nil {
			fl.parser.Close(last, emit)
		}
	}
	return out
}

// eveHTTP is the subset of a Suricata EVE http event the tests compare.
type eveHTTP struct {
	Hostname string `json:"hostname"`
	URL      string `json:"url"`
	Method   string `json:"http_method"`
	Status   int    `json:"status"`
	Length   int64  `json:"length"`
}

func readEVE(t testing.TB, path string) []eveHTTP {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read reference eve: %v", err)
	}
	var out []eveHTTP
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `"event_type":"http"`) {
			continue
		}
		var ev struct {
			HTTP eveHTTP `json:"http"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("parse eve line: %v", err)
		}
		out = append(out, ev.HTTP)
	}
	return out
}
