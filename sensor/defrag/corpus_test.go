package defrag_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/defrag"
)

// readPcap calls fn for every frame of a pcap or pcapng file (gopacket's
// reader, so the test does not depend on sensor/capture's).
func readPcap(path string, fn func(f *capture.Frame)) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	magic, err := br.Peek(4)
	if err != nil {
		return err
	}
	var f capture.Frame
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return err
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			lt := r.LinkType()
			if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
				lt = intf.LinkType
			}
			f = capture.Frame{Data: data, OrigLen: ci.Length, Timestamp: ci.Timestamp, LinkType: capture.LinkType(lt)}
			fn(&f)
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return err
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		f = capture.Frame{Data: data, OrigLen: ci.Length, Timestamp: ci.Timestamp, LinkType: capture.LinkType(r.LinkType())}
		fn(&f)
	}
}

// TestCorpusIPv6FragmentedDNS reassembles zeek's ipv6-fragmented-dns trace:
// the datagram must come out as UDP port 53 whose UDP length matches and
// whose DNS header counts at least one question.
func TestCorpusIPv6FragmentedDNS(t *testing.T) {
	path := corpus.Path(t, "pcaps", "zeek", "ipv6-fragmented-dns.pcap")
	var d decode.Decoder
	tab := defrag.NewTable(defrag.Options{})
	var p decode.Packet
	frags, dns := 0, 0
	err := readPcap(path, func(f *capture.Frame) {
		if r := d.Decode(&p, f); r != decode.ReasonNone || !p.Fragment {
			return
		}
		frags++
		dg, done := tab.Add(&p, f.Timestamp)
		if !done {
			return
		}
		if r := d.DecodeDatagram(&p, dg); r != decode.ReasonNone {
			t.Fatalf("reassembled datagram invalid: %v", r)
		}
		if p.IPVersion != 6 || p.IPProto != decode.IPProtoUDP || (p.SrcPort != 53 && p.DstPort != 53) {
			t.Fatalf("reassembled: v%d proto %d ports %d>%d", p.IPVersion, p.IPProto, p.SrcPort, p.DstPort)
		}
		udpLen := int(binary.BigEndian.Uint16(dg[p.L4Offset+4:]))
		if udpLen != len(p.Payload)+8 || len(p.Payload) < 12 {
			t.Fatalf("udp length %d, payload %d", udpLen, len(p.Payload))
		}
		if qd := binary.BigEndian.Uint16(p.Payload[4:]); qd == 0 {
			t.Fatalf("DNS message without question")
		}
		dns++
	})
	if err != nil {
		t.Fatal(err)
	}
	if frags == 0 || dns == 0 {
		t.Fatalf("fragments %d, reassembled DNS %d", frags, dns)
	}
	// The trace holds one complete response (ident 2, three fragments) and
	// the last fragment of an earlier one (ident 1) whose other fragments
	// were not captured: that one must stay pending, not complete.
	if dns != 1 || tab.Counters.IPv6Reassembled != 1 || tab.Len() != 1 {
		t.Errorf("counters %+v, Len %d", tab.Counters, tab.Len())
	}
	t.Logf("%d fragments -> %d DNS messages", frags, dns)
}

// TestCorpusAllFragments runs every corpus fragment through defrag; every
// completed datagram must decode.
func TestCorpusAllFragments(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	var d decode.Decoder
	var p decode.Packet
	total := defrag.Counters{}
	for _, path := range abs {
		tab := defrag.NewTable(defrag.Options{})
		_ = readPcap(path, func(f *capture.Frame) {
			if r := d.Decode(&p, f); r != decode.ReasonNone || !p.Fragment {
				return
			}
			dg, done := tab.Add(&p, f.Timestamp)
			if !done {
				return
			}
			if r := d.DecodeDatagram(&p, dg); r != decode.ReasonNone {
				t.Errorf("%s: reassembled datagram invalid: %v", path, r)
			}
		})
		c := tab.Counters
		total.IPv4Fragments += c.IPv4Fragments
		total.IPv4Reassembled += c.IPv4Reassembled
		total.IPv6Fragments += c.IPv6Fragments
		total.IPv6Reassembled += c.IPv6Reassembled
		total.Overlaps += c.Overlaps
	}
	t.Logf("corpus: %+v", total)
	if total.IPv4Reassembled == 0 || total.IPv6Reassembled == 0 {
		t.Errorf("expected both IPv4 and IPv6 reassembly in the corpus: %+v", total)
	}
}
