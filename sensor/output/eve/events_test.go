package eve

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
)

var (
	t0 = time.Date(2016, 1, 6, 21, 58, 35, 652043000, time.UTC)
	t1 = t0.Add(1500 * time.Millisecond)
)

// hostile is attacker-chosen text: markup, quotes, NULs, control bytes,
// invalid and valid UTF-8, JSON-looking text and a fake newline-delimited
// event.
var hostile = []string{
	`<script>alert(document.cookie)</script>`,
	"a\x00b\x01\x1f\x7f",
	"\xff\xfe\xc3\x28 invalid",
	`"},"event_type":"alert","x":{"`,
	"line1\nline2\r\n{\"timestamp\":\"x\"}",
	`\u0000 \\ \" '`,
	"日本語 ✓ \u2028 \U0001F600",
	"",
}

func hdr(proto uint8) *Header {
	return &Header{
		Timestamp: t0,
		FlowID:    1234567890123456,
		InIface:   "eth0",
		PcapCnt:   7,
		VLAN:      [3]uint16{100, 200}, VLANCount: 2,
		SrcIP: netip.MustParseAddr("10.0.0.1"), SrcPort: 49152,
		DstIP: netip.MustParseAddr("192.0.2.80"), DstPort: 80,
		Proto:  proto,
		PktSrc: "wire/pcap",
		TxID:   3, HasTxID: true,
		AppProto: "http",
	}
}

func hostileHTTP(s string) *http.Transaction {
	b := []byte(s)
	return &http.Transaction{
		ID: 0, Timestamp: t0,
		Method: b, URI: append([]byte("/?q="), b...), Protocol: []byte("HTTP/1.1"),
		Host: b, Port: 8080, UserAgent: b, Referer: b, Cookie: b, XFF: b,
		ContentTypeReq: b,
		RequestHeaders: []http.Header{{Name: []byte("Host"), Value: b}, {Name: b, Value: b}},
		RequestBody:    b, RequestBodyLen: int64(len(b)),
		HasResponse:  true,
		RespProtocol: []byte("HTTP/1.1"), Status: 200, StatusMsg: b,
		ContentType: b, Location: b,
		ResponseHeaders: []http.Header{{Name: []byte("Server"), Value: b}},
		ResponseBody:    b, ResponseBodyLen: 1 << 40,
	}
}

func hostileFile(s string, closed bool) *http.File {
	return &http.File{
		Name: []byte(s), Size: 1 << 40, Gaps: !closed, Closed: closed, Start: 100, End: 199, HasRange: true,
		MD5: make([]byte, 16), SHA1: make([]byte, 20), SHA256: []byte{0xde, 0xad, 0xbe, 0xef},
	}
}

func hostileDNS(s string, response bool) *dns.Message {
	b := []byte(s)
	m := &dns.Message{
		Timestamp: t0, TxID: 1, ID: 0xbeef, Flags: 0x0100,
		Questions: []dns.Question{{Name: b, Type: dns.TypeA, Class: 1}, {Name: b, Type: 4242, Class: 1}},
	}
	if response {
		m.Flags = 0x8583 | 0x0040 | 0x0200 // qr aa tc rd ra z NXDOMAIN
		m.Answers = []dns.Record{
			{Name: b, Type: dns.TypeA, TTL: 60, Data: []byte("192.0.2.1")},
			{Name: b, Type: dns.TypeAAAA, TTL: 60, Data: []byte("2001:0db8:0000:0000:0000:0000:0000:0001")},
			{Name: b, Type: dns.TypeCNAME, TTL: 60, Data: b},
			{Name: b, Type: dns.TypeTXT, TTL: 60, Data: b},
			{Name: b, Type: dns.TypeSOA, TTL: 60, SOA: &dns.SOA{MName: b, RName: b, Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minimum: 4294967295}},
			{Name: b, Type: dns.TypeSRV, TTL: 60, SRV: &dns.SRV{Priority: 1, Weight: 2, Port: 443, Target: b}},
			{Name: b, Type: dns.TypeHTTPS, TTL: 60, Data: b},
			{Name: b, Type: 65000, TTL: 60},
		}
		m.Authorities = []dns.Record{
			{Name: b, Type: dns.TypeNS, TTL: 60, Data: b},
			{Name: b, Type: dns.TypeSOA, TTL: 60, SOA: &dns.SOA{MName: b, RName: b}},
			{Name: b, Type: dns.TypeSRV, TTL: 60, SRV: &dns.SRV{Target: b}},
		}
		m.Additionals = []dns.Record{
			{Name: nil, Type: dns.TypeOPT, Class: 4096},
			{Name: b, Type: dns.TypeA, TTL: 60, Data: []byte("192.0.2.2")},
			{Name: b, Type: dns.TypeSOA, TTL: 60, SOA: &dns.SOA{MName: b}},
		}
	}
	return m
}

func hostileTLS(s string) *tls.Session {
	b := []byte(s)
	return &tls.Session{
		Timestamp: t0, ClientVersion: 0x0303,
		SNI: b, ALPNClient: [][]byte{[]byte("h2"), b},
		JA3String: b, JA3Hash: [16]byte{0xde, 0xad, 0xbe, 0xef}, JA4: b, HasClientHello: true,
		Version: 0x0303, ALPNServer: b, JA3SString: b, JA3SHash: [16]byte{1}, HasServerHello: true,
		Subject: b, Issuer: b, Serial: b, Fingerprint: b, SANs: [][]byte{[]byte("a.example"), b},
		NotBefore: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
	}
}

func hostileFlow(tcp bool) *FlowRecord {
	return &FlowRecord{
		Start: t0, End: t1.Add(time.Hour),
		PktsToServer: 10, PktsToClient: 9, BytesToServer: 1000, BytesToClient: 90000,
		State: "closed", Reason: "timeout", Alerted: true, Action: "pass", Elephant: true, TxCnt: 4,
		Bypass: "capture", BypassedPktsToServer: 1, BypassedBytesToClient: 2,
		AppProtoTS: "http", AppProtoTC: "failed", AppProtoOrig: "http", AppProtoExpected: "tls",
		IsTCP: tcp, TCPFlagsTS: 0x1b, TCPFlagsTC: 0xdf, TCPState: "closed",
		TSMaxRegions: 2, TSGap: true, TCGap: true, TSUrgentOOB: 1, TCUrgentOOB: 2,
	}
}

// events returns one line of every kind polder writes, for each hostile
// string and protocol variant.
func events(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	add := func(name string, line []byte) { out[name] = line }
	for i, s := range hostile {
		n := string(rune('a' + i))
		for _, p := range []uint8{6, 17, 1, 58, 132, 47, 99} {
			h := hdr(p)
			h.InIface = s
			h.PktSrc = s
			h.AppProto = s
			pn := n + "/" + string(rune('0'+p%10)) + string(rune('0'+p/10%10))
			add("flow/tcp/"+pn, AppendFlow(nil, h, hostileFlow(true)))
			add("flow/udp/"+pn, AppendFlow(nil, h, hostileFlow(false)))
			h.HasRespICMP = true
			add("flow/icmp/"+pn, AppendFlow(nil, h, &FlowRecord{Start: t0, End: t0}))
			add("anomaly/"+pn, AppendAnomaly(nil, h, AnomalyApplayer, s, s))
		}
		h := hdr(6)
		add("http/"+n, AppendHTTP(nil, h, hostileHTTP(s)))
		add("http-all/"+n, AppendHTTPWith(nil, h, hostileHTTP(s), HTTPOptions{DumpAllHeaders: true, Bodies: true}))
		add("http-empty/"+n, AppendHTTP(nil, h, &http.Transaction{}))
		add("fileinfo/"+n, AppendFileInfo(nil, h, hostileHTTP(s), hostileFile(s, true)))
		add("fileinfo-truncated/"+n, AppendFileInfo(nil, h, hostileHTTP(s), hostileFile(s, false)))
		h = hdr(17)
		h.DstPort = 53
		add("dns-q/"+n, AppendDNS(nil, h, hostileDNS(s, false)))
		add("dns-r/"+n, AppendDNS(nil, h, hostileDNS(s, true)))
		add("dns-r-detailed/"+n, AppendDNSWith(nil, h, hostileDNS(s, true), DNSDetailed))
		add("dns-r-grouped/"+n, AppendDNSWith(nil, h, hostileDNS(s, true), DNSGrouped))
		add("dns-empty/"+n, AppendDNS(nil, h, &dns.Message{}))
		h = hdr(6)
		h.DstPort = 443
		add("tls/"+n, AppendTLS(nil, h, hostileTLS(s)))
		add("tls-empty/"+n, AppendTLS(nil, h, &tls.Session{}))
		add("anomaly-decode/"+n, AppendAnomaly(nil, &Header{Timestamp: t0}, AnomalyDecode, s, ""))
		add("stats/"+n, AppendStats(nil, t0, 42, func(yield func(string, uint64)) {
			yield("decoder.pkts", 1)
			yield("capture.kernel_packets", 2)
			yield("decoder.event.ipv4.trunc_pkt", 3)
			yield("flow.mgr.rows_maxlen", 4)
		}))
	}
	v6 := hdr(6)
	v6.SrcIP = netip.MustParseAddr("2001:db8::1")
	v6.DstIP = netip.MustParseAddr("::ffff:192.0.2.1")
	add("flow/v6", AppendFlow(nil, v6, hostileFlow(true)))
	return out
}

// TestSchema validates every event kind, filled with hostile text, against
// the Suricata 8.0.6 schema.
func TestSchema(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs := events(t)
	for name, line := range evs {
		if n := bytes.Count(line, []byte{'\n'}); n != 1 || line[len(line)-1] != '\n' {
			t.Errorf("%s: %d newlines, want exactly one at the end: %q", name, n, line)
		}
		if !json.Valid(line) {
			t.Errorf("%s: invalid JSON: %s", name, line)
			continue
		}
		if err := v.Validate(line); err != nil {
			t.Errorf("%s: %v\n%s", name, err, line)
		}
	}
	t.Logf("%d lines validated against schema-suricata-8.0.6.json", len(evs))
}

// TestHostileRoundTrip: every hostile string comes back out of the JSON as
// Suricata's rendering of it, in the field it went into.
func TestHostileRoundTrip(t *testing.T) {
	for _, s := range hostile {
		line := AppendHTTP(nil, hdr(6), hostileHTTP(s))
		var ev struct {
			EventType string `json:"event_type"`
			PktSrc    string `json:"pkt_src"`
			HTTP      struct {
				Hostname  string `json:"hostname"`
				UserAgent string `json:"http_user_agent"`
				URL       string `json:"url"`
			} `json:"http"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := suricataText([]byte(s))
		if ev.EventType != "http" || ev.HTTP.UserAgent != want && s != "" || ev.HTTP.URL != suricataText([]byte("/?q="+s)) {
			t.Errorf("%q: got %+v, want user agent %q", s, ev, want)
		}
	}
}

func TestGolden(t *testing.T) {
	h := &Header{
		Timestamp: t0, FlowID: 255381722145839, PcapCnt: 7,
		SrcIP: netip.MustParseAddr("10.0.1.104"), SrcPort: 64216,
		DstIP: netip.MustParseAddr("193.40.5.162"), DstPort: 80, Proto: 6,
		PktSrc: "wire/pcap", TxID: 0, HasTxID: true,
	}
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"http", AppendHTTP(nil, h, &http.Transaction{
			Host: []byte("lepo.it.da.ut.ee"), URI: []byte("/~cect/x%FC.pdf"), UserAgent: []byte("Wget/1.12 (darwin10.8.0)"),
			ContentType: []byte("text/html"), Method: []byte("GET"), Protocol: []byte("HTTP/1.0"), Status: 404, ResponseBodyLen: 346,
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":255381722145839,"pcap_cnt":7,"event_type":"http","src_ip":"10.0.1.104","src_port":64216,"dest_ip":"193.40.5.162","dest_port":80,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"http":{"hostname":"lepo.it.da.ut.ee","url":"/~cect/x%FC.pdf","http_user_agent":"Wget/1.12 (darwin10.8.0)","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.0","status":404,"length":346}}`},
		{"flow", AppendFlow(nil, &Header{Timestamp: t0, FlowID: 1, SrcIP: h.SrcIP, SrcPort: 1, DstIP: h.DstIP, DstPort: 80, Proto: 6, AppProto: "http"}, &FlowRecord{
			Start: t0, End: t1, PktsToServer: 7, PktsToClient: 5, BytesToServer: 767, BytesToClient: 964,
			State: "closed", Reason: "shutdown", IsTCP: true, TCPFlagsTS: 0x1b, TCPFlagsTC: 0x1b, TCPState: "closed",
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":1,"event_type":"flow","src_ip":"10.0.1.104","src_port":1,"dest_ip":"193.40.5.162","dest_port":80,"proto":"TCP","app_proto":"http","flow":{"pkts_toserver":7,"pkts_toclient":5,"bytes_toserver":767,"bytes_toclient":964,"start":"2016-01-06T21:58:35.652043+0000","end":"2016-01-06T21:58:37.152043+0000","age":2,"state":"closed","reason":"shutdown","alerted":false},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed","ts_max_regions":1,"tc_max_regions":1}}`},
		{"icmp flow", AppendFlow(nil, &Header{Timestamp: t0, FlowID: 2, VLAN: [3]uint16{100}, VLANCount: 1, SrcIP: h.SrcIP, DstIP: h.DstIP, Proto: 1, ICMPType: 8}, &FlowRecord{
			Start: t0, End: t0, PktsToServer: 1, BytesToServer: 55, State: "new", Reason: "shutdown",
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":2,"event_type":"flow","vlan":[100],"src_ip":"10.0.1.104","dest_ip":"193.40.5.162","proto":"ICMP","icmp_type":8,"icmp_code":0,"flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":55,"bytes_toclient":0,"start":"2016-01-06T21:58:35.652043+0000","end":"2016-01-06T21:58:35.652043+0000","age":0,"state":"new","reason":"shutdown","alerted":false}}`},
		{"dns", AppendDNS(nil, &Header{Timestamp: t0, FlowID: 3, SrcIP: h.SrcIP, SrcPort: 5353, DstIP: h.DstIP, DstPort: 53, Proto: 17}, &dns.Message{
			TxID: 0, ID: 16954, Flags: 0x8180,
			Questions: []dns.Question{{Name: []byte("meta.wikimedia.org"), Type: dns.TypeA}},
			Answers: []dns.Record{
				{Name: []byte("meta.wikimedia.org"), Type: dns.TypeCNAME, TTL: 723, Data: []byte("text.wikimedia.org")},
				{Name: []byte("text.wikimedia.org"), Type: dns.TypeA, TTL: 2141, Data: []byte("208.80.152.2")},
			},
			Authorities: []dns.Record{{Name: []byte(""), Type: dns.TypeSOA, TTL: 757, SOA: &dns.SOA{MName: []byte("a.root-servers.net"), RName: []byte("nstld.verisign-grs.com"), Serial: 2014120201, Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400}}},
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":3,"event_type":"dns","src_ip":"10.0.1.104","src_port":5353,"dest_ip":"193.40.5.162","dest_port":53,"proto":"UDP","dns":{"version":3,"type":"response","tx_id":0,"id":16954,"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rcode":"NOERROR","queries":[{"rrname":"meta.wikimedia.org","rrtype":"A"}],"answers":[{"rrname":"meta.wikimedia.org","rrtype":"CNAME","ttl":723,"rdata":"text.wikimedia.org"},{"rrname":"text.wikimedia.org","rrtype":"A","ttl":2141,"rdata":"208.80.152.2"}],"grouped":{"A":["208.80.152.2"],"CNAME":["text.wikimedia.org"]},"authorities":[{"rrname":"","rrtype":"SOA","ttl":757,"soa":{"mname":"a.root-servers.net","rname":"nstld.verisign-grs.com","serial":2014120201,"refresh":1800,"retry":900,"expire":604800,"minimum":86400}}]}}`},
		{"dns query", AppendDNS(nil, &Header{Timestamp: t0, SrcIP: h.SrcIP, SrcPort: 5353, DstIP: h.DstIP, DstPort: 53, Proto: 17}, &dns.Message{
			ID: 4660, Flags: 0x0100, Questions: []dns.Question{{Name: []byte("example.com"), Type: dns.TypeA}},
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","event_type":"dns","src_ip":"10.0.1.104","src_port":5353,"dest_ip":"193.40.5.162","dest_port":53,"proto":"UDP","dns":{"version":3,"type":"request","tx_id":0,"id":4660,"flags":"100","rd":true,"opcode":0,"rcode":"NOERROR","queries":[{"rrname":"example.com","rrtype":"A"}]}}`},
		{"tls", AppendTLS(nil, h, &tls.Session{
			Subject: []byte("CN=x230"), Issuer: []byte("CN=x230"), SANs: [][]byte{[]byte("x230.example"), []byte("192.0.2.1")},
			Serial:      []byte("00:9D:2C:A9:7E:8D:C6:C7:56"),
			Fingerprint: []byte("94:7e:27:04:37:10:34:72:bf:0a:7b:25:09:84:82:03:2a:06:ae:4d"), Version: 0x0303,
			NotBefore: time.Date(2014, 2, 20, 21, 54, 32, 0, time.UTC), NotAfter: time.Date(2024, 2, 18, 21, 54, 32, 0, time.UTC),
			HasClientHello: true, JA3String: []byte("771,47,,,"), JA3Hash: [16]byte{0xfd, 0xe4, 0x27, 0x36, 0x25, 0xb2, 0xac, 0x63, 0xbd, 0x01, 0xd9, 0xc5, 0x00, 0xda, 0xc9, 0x1b},
			HasServerHello: true, JA3SString: []byte("771,47,"), JA3SHash: [16]byte{0x53, 0x97, 0xc4, 0x14, 0xa9, 0xeb, 0xea, 0xff, 0x1b, 0xf1, 0x8b, 0x70, 0xca, 0x22, 0xea, 0xa0},
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":255381722145839,"pcap_cnt":7,"event_type":"tls","src_ip":"10.0.1.104","src_port":64216,"dest_ip":"193.40.5.162","dest_port":80,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"tls":{"subject":"CN=x230","issuerdn":"CN=x230","subjectaltname":["x230.example","192.0.2.1"],"serial":"00:9D:2C:A9:7E:8D:C6:C7:56","fingerprint":"94:7e:27:04:37:10:34:72:bf:0a:7b:25:09:84:82:03:2a:06:ae:4d","version":"TLS 1.2","notbefore":"2014-02-20T21:54:32","notafter":"2024-02-18T21:54:32","ja3":{"hash":"fde4273625b2ac63bd01d9c500dac91b","string":"771,47,,,"},"ja3s":{"hash":"5397c414a9ebeaff1bf18b70ca22eaa0","string":"771,47,"}}}`},
		{"fileinfo", AppendFileInfo(nil, &Header{Timestamp: t0, FlowID: 5, PcapCnt: 9, SrcIP: h.DstIP, SrcPort: 80, DstIP: h.SrcIP, DstPort: 64216, Proto: 6, PktSrc: "wire/pcap", TxID: 1, HasTxID: true, AppProto: "http"},
			&http.Transaction{ID: 1, Host: []byte("evader.example.com"), URI: []byte("/chunked/eicar.txt/chunked"), ContentType: []byte("application/octet-stream"),
				Method: []byte("GET"), Protocol: []byte("HTTP/1.1"), Status: 200, ResponseBodyLen: 236},
			&http.File{Name: []byte("eicar.txt"), Size: 68, Closed: true, MD5: []byte{0x44, 0xd8, 0x86, 0x12}, SHA256: []byte{0x27, 0x5a}}),
			`{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":5,"pcap_cnt":9,"event_type":"fileinfo","src_ip":"193.40.5.162","src_port":80,"dest_ip":"10.0.1.104","dest_port":64216,"proto":"TCP","pkt_src":"wire/pcap","http":{"hostname":"evader.example.com","url":"/chunked/eicar.txt/chunked","http_content_type":"application/octet-stream","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":236},"app_proto":"http","fileinfo":{"filename":"eicar.txt","gaps":false,"state":"CLOSED","md5":"44d88612","sha256":"275a","stored":false,"size":68,"tx_id":1}}`},
		{"fileinfo truncated, partial content, no name", AppendFileInfo(nil, &Header{Timestamp: t0, SrcIP: h.DstIP, SrcPort: 80, DstIP: h.SrcIP, DstPort: 64216, Proto: 6, AppProto: "http"},
			&http.Transaction{Method: []byte("POST")},
			&http.File{Size: 102400, Gaps: true, Start: 49283072, End: 50331647, HasRange: true, MD5: []byte{1}, SHA1: []byte{2}}),
			`{"timestamp":"2016-01-06T21:58:35.652043+0000","event_type":"fileinfo","src_ip":"193.40.5.162","src_port":80,"dest_ip":"10.0.1.104","dest_port":64216,"proto":"TCP","http":{"http_method":"POST","length":0},"app_proto":"http","fileinfo":{"gaps":true,"state":"TRUNCATED","stored":false,"size":102400,"start":49283072,"end":50331647,"tx_id":0}}`},
		{"anomaly", AppendAnomaly(nil, &Header{Timestamp: t0, FlowID: 4, PcapCnt: 14, SrcIP: h.SrcIP, SrcPort: 1, DstIP: h.DstIP, DstPort: 8089, Proto: 6, PktSrc: "wire/pcap", HasTxID: true, AppProto: "http"}, AnomalyApplayer, "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST", "proto_parser"),
			`{"timestamp":"2016-01-06T21:58:35.652043+0000","flow_id":4,"pcap_cnt":14,"event_type":"anomaly","src_ip":"10.0.1.104","src_port":1,"dest_ip":"193.40.5.162","dest_port":8089,"proto":"TCP","pkt_src":"wire/pcap","tx_id":0,"anomaly":{"app_proto":"http","type":"applayer","event":"UNABLE_TO_MATCH_RESPONSE_TO_REQUEST","layer":"proto_parser"}}`},
		{"v6 addr and proto number", AppendAnomaly(nil, &Header{Timestamp: t0, SrcIP: netip.MustParseAddr("2001:db8::1"), DstIP: netip.MustParseAddr("::1"), Proto: 253}, AnomalyDecode, "decoder.ipv6.trunc_pkt", ""),
			`{"timestamp":"2016-01-06T21:58:35.652043+0000","event_type":"anomaly","src_ip":"2001:0db8:0000:0000:0000:0000:0000:0001","dest_ip":"0000:0000:0000:0000:0000:0000:0000:0001","proto":"253","anomaly":{"type":"decode","event":"decoder.ipv6.trunc_pkt"}}`},
		{"stats", AppendStats(nil, t0, 12, func(yield func(string, uint64)) {
			yield("decoder.pkts", 2)
			yield("capture.kernel_packets", 5)
			yield("decoder.event.ipv4.trunc_pkt", 0)
			yield("uptime", 999)
			yield("decoder.bytes", 465)
			yield("decoder.pkts", 3)
			yield("tcp.syn", 1)
		}), `{"timestamp":"2016-01-06T21:58:35.652043+0000","event_type":"stats","stats":{"uptime":12,"decoder":{"pkts":3,"event":{"ipv4":{"trunc_pkt":0}},"bytes":465},"capture":{"kernel_packets":5},"tcp":{"syn":1}}}`},
	} {
		if got := strings.TrimSuffix(string(tc.got), "\n"); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestTLSVersion(t *testing.T) {
	for v, want := range map[uint16]string{0: "UNDETERMINED", 0x0200: "SSLv2", 0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3", 0x7f17: "TLS 1.3 draft-23", 0xfefd: "0xfefd"} {
		var b Builder
		b.tlsVersion(v)
		if got := string(b.B); got != `"`+want+`"` {
			t.Errorf("tlsVersion(%#x) = %s, want %q", v, got, want)
		}
	}
}

// TestAllocs: with a buffer that is large enough, no event allocates.
func TestAllocs(t *testing.T) {
	h := hdr(6)
	tx := hostileHTTP("GET /index.html \xff")
	m := hostileDNS("www.example.com", true)
	s := hostileTLS("example.com")
	f := hostileFlow(true)
	file := hostileFile("eicar.txt", true)
	counters := func(yield func(string, uint64)) {
		for _, n := range statNames {
			yield(n, 1)
		}
	}
	buf := make([]byte, 0, 64<<10)
	for name, fn := range map[string]func(){
		"flow":     func() { buf = AppendFlow(buf[:0], h, f) },
		"http":     func() { buf = AppendHTTP(buf[:0], h, tx) },
		"httpall":  func() { buf = AppendHTTPWith(buf[:0], h, tx, HTTPOptions{DumpAllHeaders: true, Bodies: true}) },
		"fileinfo": func() { buf = AppendFileInfo(buf[:0], h, tx, file) },
		"dns":      func() { buf = AppendDNS(buf[:0], h, m) },
		"tls":      func() { buf = AppendTLS(buf[:0], h, s) },
		"anomaly":  func() { buf = AppendAnomaly(buf[:0], h, AnomalyApplayer, "X", "proto_parser") },
		"stats":    func() { buf = AppendStats(buf[:0], t0, 1, counters) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocs per event, want 0", name, n)
		}
	}
}

// statNames is a realistic counter set: Suricata's decoder, flow and tcp
// counters.
var statNames = func() []string {
	var out []string
	for _, g := range []struct {
		prefix string
		names  string
	}{
		{"capture.", "kernel_packets kernel_drops errors"},
		{"decoder.", "pkts bytes invalid ipv4 ipv6 ethernet arp unknown_ethertype chdlc raw null sll tcp udp sctp esp icmpv4 icmpv6 ppp pppoe geneve gre vlan vlan_qinq vlan_qinqinq vxlan vntag ieee8021ah teredo ipv4_in_ipv6 ipv6_in_ipv6 mpls avg_pkt_size max_pkt_size max_mac_addrs_src max_mac_addrs_dst erspan nsh"},
		{"decoder.event.ipv4.", "pkt_too_small hlen_too_small iplen_smaller_than_hlen trunc_pkt opt_invalid opt_invalid_len opt_malformed opt_pad_required opt_eol_required opt_duplicate opt_unknown wrong_ip_version icmpv6 frag_pkt_too_large frag_overlap frag_ignored"},
		{"decoder.event.ipv6.", "pkt_too_small trunc_pkt trunc_exthdr exthdr_dupl_fh exthdr_useless_fh exthdr_dupl_rh exthdr_dupl_hh exthdr_dupl_dh exthdr_dupl_ah exthdr_dupl_eh exthdr_invalid_optlen wrong_ip_version"},
		{"tcp.", "syn synack rst active_sessions sessions ssn_memcap_drop pseudo invalid_checksum midstream_pickups reassembly_gap overlap memuse reassembly_memuse"},
		{"flow.", "memcap total active tcp udp icmpv4 icmpv6 tcp_reuse memuse"},
		{"app_layer.flow.", "http tls dns_udp dns_tcp failed_tcp failed_udp"},
		{"app_layer.tx.", "http tls dns_udp dns_tcp"},
	} {
		for _, n := range strings.Fields(g.names) {
			out = append(out, g.prefix+n)
		}
	}
	return out
}()

func benchEvent(b *testing.B, fn func(buf []byte) []byte) {
	buf := make([]byte, 0, 64<<10)
	buf = fn(buf)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = fn(buf[:0])
	}
}

func BenchmarkFlow(b *testing.B) {
	h, f := hdr(6), hostileFlow(true)
	benchEvent(b, func(buf []byte) []byte { return AppendFlow(buf, h, f) })
}

func BenchmarkHTTP(b *testing.B) {
	h := hdr(6)
	tx := &http.Transaction{
		Host: []byte("www.example.com"), URI: []byte("/index.html?q=search+terms&lang=en"),
		UserAgent:   []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
		ContentType: []byte("text/html; charset=utf-8"), Method: []byte("GET"), Protocol: []byte("HTTP/1.1"), Status: 200, ResponseBodyLen: 12345,
	}
	benchEvent(b, func(buf []byte) []byte { return AppendHTTP(buf, h, tx) })
}

func BenchmarkDNS(b *testing.B) {
	h := hdr(17)
	m := &dns.Message{ID: 1, Flags: 0x8180,
		Questions: []dns.Question{{Name: []byte("www.example.com"), Type: dns.TypeA}},
		Answers: []dns.Record{
			{Name: []byte("www.example.com"), Type: dns.TypeCNAME, TTL: 300, Data: []byte("edge.example.net")},
			{Name: []byte("edge.example.net"), Type: dns.TypeA, TTL: 60, Data: []byte("192.0.2.10")},
			{Name: []byte("edge.example.net"), Type: dns.TypeA, TTL: 60, Data: []byte("192.0.2.11")},
		}}
	benchEvent(b, func(buf []byte) []byte { return AppendDNS(buf, h, m) })
}

func BenchmarkTLS(b *testing.B) {
	h, s := hdr(6), hostileTLS("www.example.com")
	benchEvent(b, func(buf []byte) []byte { return AppendTLS(buf, h, s) })
}

func BenchmarkAnomaly(b *testing.B) {
	h := hdr(6)
	benchEvent(b, func(buf []byte) []byte {
		return AppendAnomaly(buf, h, AnomalyApplayer, "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST", "proto_parser")
	})
}

func BenchmarkStats(b *testing.B) {
	counters := func(yield func(string, uint64)) {
		for i, n := range statNames {
			yield(n, uint64(i))
		}
	}
	benchEvent(b, func(buf []byte) []byte { return AppendStats(buf, t0, 1, counters) })
}

// BenchmarkHTTPEncodingJSON is the baseline: the same http event through
// encoding/json.
func BenchmarkHTTPEncodingJSON(b *testing.B) {
	type httpObj struct {
		Hostname    string `json:"hostname"`
		URL         string `json:"url"`
		UserAgent   string `json:"http_user_agent"`
		ContentType string `json:"http_content_type"`
		Method      string `json:"http_method"`
		Protocol    string `json:"protocol"`
		Status      int    `json:"status"`
		Length      int64  `json:"length"`
	}
	type ev struct {
		Timestamp string   `json:"timestamp"`
		FlowID    uint64   `json:"flow_id"`
		PcapCnt   uint64   `json:"pcap_cnt"`
		EventType string   `json:"event_type"`
		VLAN      []uint16 `json:"vlan"`
		SrcIP     string   `json:"src_ip"`
		SrcPort   uint16   `json:"src_port"`
		DstIP     string   `json:"dest_ip"`
		DstPort   uint16   `json:"dest_port"`
		Proto     string   `json:"proto"`
		PktSrc    string   `json:"pkt_src"`
		TxID      uint64   `json:"tx_id"`
		HTTP      httpObj  `json:"http"`
	}
	h := hdr(6)
	b.ReportAllocs()
	for b.Loop() {
		e := ev{Timestamp: string(AppendTime(nil, h.Timestamp)), FlowID: h.FlowID, PcapCnt: h.PcapCnt, EventType: "http",
			VLAN: h.VLAN[:h.VLANCount], SrcIP: h.SrcIP.String(), SrcPort: h.SrcPort, DstIP: h.DstIP.String(), DstPort: h.DstPort,
			Proto: "TCP", PktSrc: h.PktSrc, TxID: h.TxID,
			HTTP: httpObj{"www.example.com", "/index.html?q=search+terms&lang=en", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "text/html; charset=utf-8", "GET", "HTTP/1.1", 200, 12345}}
		if _, err := json.Marshal(&e); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBeginEvent(t *testing.T) {
	h := &Header{Timestamp: t0, EventType: "alert", SrcIP: netip.MustParseAddr("10.0.0.1"), SrcPort: 1, DstIP: netip.MustParseAddr("10.0.0.2"), DstPort: 2, Proto: 17, AppProto: "dns"}
	b := Builder{B: []byte("prefix\n")}
	b.BeginEvent(h)
	b.Key("alert")
	b.BeginObject()
	b.KeyUint("signature_id", 2000001)
	b.EndObject()
	got := string(b.EndEvent())
	want := "prefix\n" + `{"timestamp":"2016-01-06T21:58:35.652043+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":2,"proto":"UDP","app_proto":"dns","alert":{"signature_id":2000001}}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestHTTPContentType(t *testing.T) {
	for in, want := range map[string]string{
		"text/html":                  `"text/html"`,
		"Text/HTML; charset=UTF-8":   `"text/html"`,
		"application/json,text/html": `"application/json"`,
		"\xffA\x00;x":                `"\\xffa\u0000"`,
		";":                          ``,
	} {
		line := AppendHTTP(nil, &Header{Timestamp: t0}, &http.Transaction{ContentType: []byte(in)})
		_, after, found := strings.Cut(string(line), `"http_content_type":`)
		got := ""
		if found {
			got, _, _ = strings.Cut(after, `,"length"`)
		}
		if got != want {
			t.Errorf("content type %q logged as %s, want %s", in, got, want)
		}
	}
}

// FuzzEvents puts arbitrary bytes into every string field of every event
// kind: each line must stay one valid JSON object.
func FuzzEvents(f *testing.F) {
	for _, s := range hostile {
		f.Add([]byte(s), uint16(0x8180))
	}
	f.Fuzz(func(t *testing.T, in []byte, flags uint16) {
		s := string(in)
		h := hdr(uint8(flags))
		h.InIface, h.PktSrc, h.AppProto = s, s, s
		m := hostileDNS(s, flags&0x8000 != 0)
		m.Flags = flags
		for _, line := range [][]byte{
			AppendHTTPWith(nil, h, hostileHTTP(s), HTTPOptions{DumpAllHeaders: true, Bodies: true}),
			AppendFileInfo(nil, h, hostileHTTP(s), hostileFile(s, flags&1 != 0)),
			AppendDNS(nil, h, m),
			AppendTLS(nil, h, hostileTLS(s)),
			AppendFlow(nil, h, hostileFlow(true)),
			AppendAnomaly(nil, h, s, s, s),
			AppendStats(nil, t0, 1, func(yield func(string, uint64)) { yield(s, 1); yield("a."+s, 2) }),
		} {
			if !json.Valid(line) || bytes.IndexByte(line, '\n') != len(line)-1 {
				t.Fatalf("bad line for %q: %q", in, line)
			}
		}
	})
}
