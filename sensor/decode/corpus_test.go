package decode_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// readPcap calls fn for every frame of a pcap or pcapng file. It uses
// gopacket's pcapgo so these tests do not depend on sensor/capture's reader.
func readPcap(tb testing.TB, path string, fn func(f *capture.Frame)) error {
	tb.Helper()
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
			f = capture.Frame{Data: data, OrigLen: ci.Length, Timestamp: ci.Timestamp, LinkType: capture.LinkType(lt), Interface: ci.InterfaceIndex}
			fn(&f)
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return err
	}
	lt := capture.LinkType(r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		f = capture.Frame{Data: data, OrigLen: ci.Length, Timestamp: ci.Timestamp, LinkType: lt}
		fn(&f)
	}
}

// TestCorpusDecode decodes every frame of every corpus pcap: no panics (a
// panic fails the test binary), every invalid frame has a named reason, and
// offsets stay inside the frame.
func TestCorpusDecode(t *testing.T) {
	_, abs := corpus.Pcaps(t)
	if len(abs) == 0 {
		t.Fatal("no corpus pcaps")
	}
	var d decode.Decoder
	var p decode.Packet
	frames, ipFrames := 0, 0
	for _, path := range abs {
		err := readPcap(t, path, func(f *capture.Frame) {
			frames++
			r := d.Decode(&p, f)
			if r != decode.ReasonNone {
				if r.String() == "unknown" || !p.Events.Has(r) {
					t.Errorf("%s: frame %d: reason %d not named or not in Events", path, frames, r)
				}
				return
			}
			if p.IPVersion != 0 {
				ipFrames++
				if p.L3Offset < 0 || p.L4Offset < p.L3Offset || p.L4Offset > len(p.Data) {
					t.Errorf("%s: frame %d: bad offsets l3=%d l4=%d len=%d", path, frames, p.L3Offset, p.L4Offset, len(p.Data))
				}
			}
		})
		if err != nil {
			t.Logf("%s: read: %v", path, err)
		}
	}
	t.Logf("%d files, %d frames, %d IP", len(abs), frames, ipFrames)
	d.Counters.Each(func(name string, v uint64) {
		if v != 0 {
			t.Logf("  %s = %d", name, v)
		}
	})
}

// layerSummary is what the differential test compares: the innermost IP
// header and the L4 header after it.
type layerSummary struct {
	ok       bool
	src, dst netip.Addr
	proto    uint8
	sp, dp   uint16
	payload  int
	hasL4    bool
	icmpType uint8
}

// gopacketSummary decodes data with gopacket and returns its innermost
// IP/L4 view. ok is false when gopacket found no IP layer, or reported a
// decoding failure or truncation at or below that layer.
func gopacketSummary(data []byte, lt capture.LinkType) layerSummary {
	pk := gopacket.NewPacket(data, layers.LinkType(lt), gopacket.DecodeOptions{NoCopy: true})
	var s layerSummary
	ipIdx := -1
	ls := pk.Layers()
	for i, l := range ls {
		switch v := l.(type) {
		case *layers.IPv4:
			ipIdx = i
			s = layerSummary{ok: true, proto: uint8(v.Protocol)}
			s.src, _ = netip.AddrFromSlice(v.SrcIP.To4())
			s.dst, _ = netip.AddrFromSlice(v.DstIP.To4())
			if v.Flags&layers.IPv4MoreFragments != 0 || v.FragOffset != 0 {
				s.ok = false
			}
		case *layers.IPv6:
			ipIdx = i
			s = layerSummary{ok: true, proto: uint8(v.NextHeader)}
			s.src, _ = netip.AddrFromSlice(v.SrcIP.To16())
			s.dst, _ = netip.AddrFromSlice(v.DstIP.To16())
		case *layers.IPSecAH:
			s.proto = uint8(v.NextHeader)
		case *layers.IPv6Fragment:
			s.ok = false
		case *layers.IPv6HopByHop:
			s.proto = uint8(v.NextHeader)
		case *layers.IPv6Routing:
			s.proto = uint8(v.NextHeader)
		case *layers.IPv6Destination:
			s.proto = uint8(v.NextHeader)
		case *layers.TCP:
			if ipIdx >= 0 {
				s.hasL4, s.sp, s.dp, s.payload = true, uint16(v.SrcPort), uint16(v.DstPort), len(v.Payload)
			}
		case *layers.UDP:
			if ipIdx >= 0 {
				s.hasL4, s.sp, s.dp, s.payload = true, uint16(v.SrcPort), uint16(v.DstPort), len(v.Payload)
			}
		case *layers.SCTP:
			if ipIdx >= 0 {
				s.hasL4, s.sp, s.dp = true, uint16(v.SrcPort), uint16(v.DstPort)
			}
		case *layers.ICMPv4:
			if ipIdx >= 0 {
				s.hasL4, s.icmpType, s.payload = true, v.TypeCode.Type(), len(v.Payload)
			}
		case *layers.ICMPv6:
			if ipIdx >= 0 {
				s.hasL4, s.icmpType = true, v.TypeCode.Type()
			}
		}
	}
	if ipIdx < 0 {
		return layerSummary{}
	}
	if el := pk.ErrorLayer(); el != nil {
		s.ok = false
	}
	if m := pk.Metadata(); m != nil && m.Truncated {
		s.ok = false
	}
	return s
}

// TestCorpusDifferential compares the decoder with gopacket on every corpus
// frame both decode to IP: innermost addresses, protocol, ports and payload
// length must agree. Disagreements are listed by kind; the test fails if
// they exceed 0.5% of compared frames.
func TestCorpusDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus differential is slow-ish")
	}
	rel, abs := corpus.Pcaps(t)
	var d decode.Decoder
	var p decode.Packet
	compared, agreed, onlyUs, onlyThem := 0, 0, 0, 0
	kinds := map[string]int{}
	examples := map[string]string{}
	for fi, path := range abs {
		n := 0
		_ = readPcap(t, path, func(f *capture.Frame) {
			n++
			r := d.Decode(&p, f)
			g := gopacketSummary(f.Data, f.LinkType)
			usOK := r == decode.ReasonNone && p.IPVersion != 0 && !p.Fragment
			switch {
			case usOK && !g.ok:
				onlyUs++
				k := fmt.Sprintf("only us: linktype %d tunnel %#x proto %d", f.LinkType, p.Tunnel, p.IPProto)
				kinds[k]++
				if _, ok := examples[k]; !ok {
					examples[k] = fmt.Sprintf("%s#%d", rel[fi], n)
				}
				return
			case !usOK && g.ok:
				onlyThem++
				k := "only gopacket: " + r.String()
				if r == decode.ReasonNone {
					k = fmt.Sprintf("only gopacket: no IP (linktype %d, fragment=%v, tunnel=%#x)", f.LinkType, p.Fragment, p.Tunnel)
				}
				kinds[k]++
				if _, ok := examples[k]; !ok {
					examples[k] = fmt.Sprintf("%s#%d", rel[fi], n)
				}
				return
			case !usOK:
				return
			}
			compared++
			var diff []string
			if p.SrcAddr() != g.src || p.DstAddr() != g.dst {
				diff = append(diff, "addr")
			}
			if p.IPProto != g.proto {
				diff = append(diff, "proto")
			}
			if g.hasL4 {
				switch p.IPProto {
				case decode.IPProtoTCP, decode.IPProtoUDP, decode.IPProtoSCTP:
					if p.SrcPort != g.sp || p.DstPort != g.dp {
						diff = append(diff, "ports")
					}
					if p.IPProto != decode.IPProtoSCTP && len(p.Payload) != g.payload {
						diff = append(diff, "payload")
					}
				case decode.IPProtoICMP:
					if p.ICMPType != g.icmpType {
						diff = append(diff, "icmptype")
					}
				}
			}
			if len(diff) == 0 {
				agreed++
				return
			}
			k := "mismatch " + strings.Join(diff, ",")
			kinds[k]++
			if _, ok := examples[k]; !ok {
				examples[k] = fmt.Sprintf("%s#%d us=%v>%v/%d %d>%d pl=%d them=%v>%v/%d %d>%d pl=%d",
					rel[fi], n, p.SrcAddr(), p.DstAddr(), p.IPProto, p.SrcPort, p.DstPort, len(p.Payload),
					g.src, g.dst, g.proto, g.sp, g.dp, g.payload)
			}
		})
	}
	t.Logf("compared %d frames: %d agree (%.3f%%); decoded only by us: %d; only by gopacket: %d",
		compared, agreed, 100*float64(agreed)/float64(max(compared, 1)), onlyUs, onlyThem)
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %6d %s (e.g. %s)", kinds[k], k, examples[k])
	}
	if compared == 0 || float64(compared-agreed) > 0.005*float64(compared) {
		t.Errorf("too many disagreements: %d of %d", compared-agreed, compared)
	}
}

// loadCorpusFrames copies every corpus frame into memory.
func loadCorpusFrames(tb testing.TB) []capture.Frame {
	_, abs := corpus.Pcaps(tb)
	var frames []capture.Frame
	for _, path := range abs {
		_ = readPcap(tb, path, func(f *capture.Frame) {
			c := *f
			c.Data = append([]byte(nil), f.Data...)
			frames = append(frames, c)
		})
	}
	if len(frames) == 0 {
		tb.Fatal("no corpus frames")
	}
	return frames
}
