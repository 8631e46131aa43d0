package eve

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// Raw IP packets (LINKTYPE_RAW) for DropOf.
const (
	// IPv4 TCP SYN from 145.254.160.237:3372 to 65.208.228.223:80, tos
	// 0x10, id 3905, ttl 128, window 8760, reserved bits 0x2, urgent
	// pointer 7.
	hexTCP4 = "4510003000f440008006000091fea0ed41d0e4df" +
		"0d2c005038affe13000000007202223800000007" + "020405b401010402"
	// IPv6 UDP from 2001:db8::1:5353 to 2001:db8::2:53, traffic class
	// 0xb8, flow label 0x12345, hop limit 64, 4 bytes of payload.
	hexUDP6 = "6b812345000c1140" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002" +
		"14e90035000c0000" + "61626364"
	// IPv4 ICMP echo request, id 0x1234, seq 7.
	hexICMP4 = "450000200001000040010000c0000201c0000202" + "0800000012340007" + "61626364"
)

func decodeRaw(t *testing.T, h string) *decode.Packet {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	var d decode.Decoder
	p := new(decode.Packet)
	if r := d.Decode(p, &capture.Frame{Data: b, OrigLen: len(b), LinkType: capture.LinkTypeRaw, Timestamp: t0}); r != decode.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	return p
}

func TestDropOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		hex  string
		want Drop
	}{
		{"tcp4", hexTCP4, Drop{IPVersion: 4, Len: 48, TOS: 0x10, TTL: 128, IPID: 0xf4, Proto: 6, HasL4: true,
			TCPSeq: 0x38affe13, TCPAck: 0, TCPWin: 0x2238, TCPFlags: 0x02, TCPRes: 2, TCPUrgPtr: 7}},
		{"udp6", hexUDP6, Drop{IPVersion: 6, Len: 12, TOS: 0xb8, TTL: 64, FlowLabel: 0x12345, Proto: 17, HasL4: true, UDPLen: 12}},
		{"icmp4 echo", hexICMP4, Drop{IPVersion: 4, Len: 32, TTL: 64, IPID: 1, Proto: 1, HasL4: true, ICMPID: 0x1234, ICMPSeq: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, DropOf(decodeRaw(t, tc.hex))); d != "" {
				t.Errorf("DropOf (-want +got):\n%s", d)
			}
		})
	}
}

// TestDropOfShort: headers that are cut leave their members out and never
// read past the data.
func TestDropOfShort(t *testing.T) {
	p := decodeRaw(t, hexTCP4)
	full := p.Data
	for n := 0; n <= len(full); n++ {
		q := *p
		q.Data = full[:n]
		d := DropOf(&q)
		if n < p.L3Offset+20 && d.IPVersion != 0 {
			t.Errorf("cut at %d: IP members from a short header: %+v", n, d)
		}
		if n < p.L4Offset+20 && d.HasL4 {
			t.Errorf("cut at %d: TCP members from a short header: %+v", n, d)
		}
	}
	q := *p
	q.L3Offset, q.L4Offset = len(full)+5, -1
	if d := DropOf(&q); d.IPVersion != 0 || d.HasL4 {
		t.Errorf("bad offsets: %+v", d)
	}
	q = *p
	q.Fragment = true
	if d := DropOf(&q); d.HasL4 {
		t.Errorf("fragment: transport members: %+v", d)
	}
}

func dropHeader() *Header {
	return &Header{
		Timestamp: t0, FlowID: 7026049074168620, PcapCnt: 1,
		SrcIP: netip.MustParseAddr("145.254.160.237"), SrcPort: 3372,
		DstIP: netip.MustParseAddr("65.208.228.223"), DstPort: 80, Proto: 6,
		PktSrc: "wire/pcap", AppProto: "http", TxID: 3, HasTxID: true,
	}
}

// goldenDrops are the drop and netflow shapes, one per golden file.
func goldenDrops(t *testing.T) map[string][]byte {
	tcp := DropOf(decodeRaw(t, hexTCP4))
	tcp.Reason = DropReasonRules
	udp := DropOf(decodeRaw(t, hexUDP6))
	udp.Reason = DropReasonFlowDrop
	icmp := DropOf(decodeRaw(t, hexICMP4))
	h6 := &Header{Timestamp: t0, SrcIP: netip.MustParseAddr("2001:db8::1"), SrcPort: 5353,
		DstIP: netip.MustParseAddr("2001:db8::2"), DstPort: 53, Proto: 17, PktSrc: "wire/pcap"}
	hicmp := &Header{Timestamp: t0, FlowID: 5, SrcIP: netip.MustParseAddr("192.0.2.1"), DstIP: netip.MustParseAddr("192.0.2.2"),
		Proto: 1, ICMPType: 8, PktSrc: "wire/pcap"}
	alert := &Alert{Action: ActionBlocked, GID: 1, SID: 1000001, Rev: 2, Signature: "drop SYN", Category: "Misc activity",
		Severity: 3, Target: TargetDest, Metadata: []MetaKV{{"not", "written"}}}
	nfHdr := &Header{Timestamp: t1, FlowID: 3834252847830037, SrcIP: netip.MustParseAddr("10.16.1.11"), SrcPort: 46652,
		DstIP: netip.MustParseAddr("82.165.177.154"), DstPort: 80, Proto: 6, AppProto: "http", PcapCnt: 9, PktSrc: "wire/pcap"}
	nfICMP := &Header{Timestamp: t1, FlowID: 4, VLAN: [3]uint16{10}, VLANCount: 1, SrcIP: netip.MustParseAddr("192.0.2.2"),
		DstIP: netip.MustParseAddr("192.0.2.1"), Proto: 1, ICMPType: 0, HasRespICMP: true, RespICMPType: 8}
	return map[string][]byte{
		"drop-tcp-alert":  AppendDrop(nil, dropHeader(), ToServer, &tcp, alert),
		"drop-udp6-flow":  AppendDrop(nil, h6, ToClient, &udp, nil),
		"drop-icmp-nodir": AppendDrop(nil, hicmp, "", &icmp, nil),
		"netflow-tcp": AppendNetflow(nil, nfHdr, &Netflow{Pkts: 6, Bytes: 425, Start: t0, End: t1,
			MinTTL: 60, MaxTTL: 64, HasTTL: true, TxCnt: 1, IsTCP: true, TCPFlags: 0x1b}),
		"netflow-icmp-unknown": AppendNetflow(nil, nfICMP, &Netflow{Pkts: 1, Bytes: 98, Start: t0, End: t0}),
	}
}

// TestDropGolden compares drop and netflow events with
// testdata/{drop,netflow}-*.golden; -update rewrites them.
func TestDropGolden(t *testing.T) {
	for name, got := range goldenDrops(t) {
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update to create it)", name, err)
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestDropSchema validates the drop and netflow shapes against the
// Suricata 8.0.6 schema, hostile signature text included.
func TestDropSchema(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	lines := goldenDrops(t)
	d := DropOf(decodeRaw(t, hexTCP4))
	for i, s := range hostile {
		a := &Alert{Action: ActionBlocked, GID: 1, SID: 1, Signature: s, Category: s}
		lines["hostile"+string(rune('a'+i))] = AppendDrop(nil, dropHeader(), ToServer, &d, a)
	}
	for name, line := range lines {
		if !json.Valid(line) {
			t.Errorf("%s: invalid JSON: %s", name, line)
			continue
		}
		if err := v.Validate(line); err != nil {
			t.Errorf("%s: %v\n%s", name, err, line)
		}
	}
}

func TestAppendDropAllocs(t *testing.T) {
	p := decodeRaw(t, hexTCP4)
	h := dropHeader()
	a := &Alert{Action: ActionBlocked, GID: 1, SID: 1}
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		d := DropOf(p)
		buf = AppendDrop(buf[:0], h, ToServer, &d, a)
		buf = AppendNetflow(buf[:0], h, &Netflow{Pkts: 1, IsTCP: true})
	})
	if n != 0 {
		t.Errorf("%.0f allocations per drop and netflow event", n)
	}
}
