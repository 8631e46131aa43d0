package eve

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// etMetadata is ET rule 2033078's metadata keyword in rule order: two
// values for "deployment", keys otherwise ascending.
var etMetadata = []MetaKV{
	{"created_at", "2021_06_03"}, {"deployment", "Perimeter"}, {"deployment", "alert_only"},
	{"former_category", "INFO"}, {"signature_severity", "Informational"}, {"updated_at", "2023_04_28"},
}

func alertHeader() *Header {
	return &Header{
		Timestamp: t0, FlowID: 1985001132874671, PcapCnt: 6,
		SrcIP: netip.MustParseAddr("172.16.16.154"), SrcPort: 53904,
		DstIP: netip.MustParseAddr("38.102.136.125"), DstPort: 80,
		Proto: 6, PktSrc: "wire/pcap", TxID: 0, HasTxID: true, AppProto: "http",
	}
}

func alertFlow() *AlertFlow {
	return &AlertFlow{Start: t0.Add(-176 * time.Millisecond), PktsToServer: 4, PktsToClient: 2, BytesToServer: 757, BytesToClient: 297}
}

// payloadBytes has every kind of byte payload_printable must handle.
var payloadBytes = []byte("GET /a\"b\\c HTTP/1.1\r\nHost: x\r\n\tTab\x00NUL\x7fDEL\xff\xc3\xa9</script>\r\n\r\n")

// goldenAlerts are the alert shapes polder writes, one per golden file.
func goldenAlerts() map[string][]byte {
	out := map[string][]byte{}

	// An ET HTTP alert with every option on.
	h := alertHeader()
	tx := &http.Transaction{
		Host: []byte("38.102.136.125"), URI: []byte("/weatherstation/updateweatherstation.php?ID=KGAOAKWO2"),
		UserAgent: []byte("curl/7.43.0"), ContentType: []byte("text/html"), Method: []byte("GET"),
		Protocol: []byte("HTTP/1.1"), Status: 200, ResponseBodyLen: 58,
		RequestBody: []byte("a=1&b=\x00\t"), ResponseBody: []byte("success\n"),
		RequestHeaders: []http.Header{{Name: []byte("Host"), Value: []byte("38.102.136.125")}},
	}
	out["http-all-options"] = AppendAlert(nil, h, &Alert{
		Action: ActionAllowed, GID: 1, SID: 2013028, Rev: 7,
		Signature: "ET POLICY curl User-Agent Outbound", Category: "Attempted Information Leak", Severity: 2,
		Target: TargetDest, References: []string{"http://www.useragentstring.com/pages/useragentstring.php"},
		Metadata: etMetadata, Rule: `alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET POLICY curl User-Agent Outbound"; sid:2013028; rev:7;)`,
		Direction: ToServer, Flowbits: []string{"http.dottedquadhost", "ET.curl"},
	}, alertFlow(), AlertApp{
		HTTP: tx, TSProgress: "request_complete", TCProgress: "response_complete",
		Payload: payloadBytes, Stream: true,
		Packet: []byte{0, 1, 2, 3, 0xfe, 0xff}, LinkType: 1,
		Options: AlertOptions{Payload: true, PayloadPrintable: true, PayloadLength: true, Packet: true, HTTPBody: true, HTTPBodyPrintable: true},
	})

	// The same alert with Suricata's default options.
	out["http-default"] = AppendAlert(nil, h, &Alert{
		GID: 1, SID: 2013028, Rev: 7, Signature: "ET POLICY curl User-Agent Outbound",
		Category: "Attempted Information Leak", Severity: 2, Metadata: etMetadata[:1], Direction: ToServer,
	}, alertFlow(), AlertApp{HTTP: tx})

	// A DNS response alert to the client (v3, answers only), blocked.
	dh := &Header{
		Timestamp: t0, FlowID: 219396964390442, PcapCnt: 3,
		SrcIP: netip.MustParseAddr("10.0.2.20"), SrcPort: 53, DstIP: netip.MustParseAddr("10.0.2.30"), DstPort: 44639,
		Proto: 17, PktSrc: "wire/pcap", AppProto: "dns",
	}
	out["dns-response"] = AppendAlert(nil, dh, &Alert{
		Action: ActionBlocked, GID: 1, SID: 2029994, Rev: 1, Signature: "ET HUNTING Suspicious NULL DNS Request",
		Category: "Misc activity", Severity: 3, Direction: ToClient, Target: TargetSrc,
	}, &AlertFlow{Start: t0, PktsToServer: 2, PktsToClient: 1, BytesToServer: 185, BytesToClient: 103}, AlertApp{
		DNS: &dns.Message{TxID: 0, ID: 4784, Flags: 0x8180,
			Questions: []dns.Question{{Name: []byte("vaaaakardli.pirate.sea"), Type: 10}},
			Answers: []dns.Record{
				{Name: []byte("vaaaakardli.pirate.sea"), Type: dns.TypeCNAME, TTL: 60, Data: []byte("x.pirate.sea")},
				{Name: []byte("x.pirate.sea"), Type: dns.TypeA, TTL: 60, Data: []byte("192.0.2.1")},
			}},
		Payload: []byte{0x12, 0xb0, 0x81, 0x80}, Options: AlertOptions{Payload: true, PayloadPrintable: true},
	})

	// A TLS alert on a server's packet, target:src_ip.
	th := &Header{
		Timestamp: t0, FlowID: 2134027470634493, PcapCnt: 11,
		SrcIP: netip.MustParseAddr("8.8.8.8"), SrcPort: 853, DstIP: netip.MustParseAddr("192.168.1.185"), DstPort: 58290,
		Proto: 6, PktSrc: "wire/pcap", TxID: 0, HasTxID: true, AppProto: "tls",
	}
	out["tls"] = AppendAlert(nil, th, &Alert{
		GID: 1, SID: 2049796, Rev: 5, Signature: "ET INFO Google DNS Over HTTPS Certificate Inbound",
		Category: "Misc activity", Severity: 3, Target: TargetSrc, Direction: ToClient, TxGuessed: true,
		Metadata: []MetaKV{
			{"affected_product", "Any"}, {"attack_target", "Client_Endpoint"}, {"created_at", "2019_08_21"},
			{"deployment", "Perimeter"}, {"former_category", "INFO"}, {"performance_impact", "Low"},
			{"signature_severity", "Informational"}, {"tag", "DoH"}, {"updated_at", "2023_12_20"},
			{"reviewed_at", "2024_02_20"}, {"former_sid", "2838109"},
		},
	}, &AlertFlow{Start: t0, PktsToServer: 7, PktsToClient: 4, BytesToServer: 838, BytesToClient: 3617}, AlertApp{
		TLS: &tls.Session{
			Subject: []byte("C=US, ST=California, L=Mountain View, O=Google LLC, CN=dns.google"),
			Issuer:  []byte("C=US, O=Google Trust Services, CN=GTS CA 1O1"), Serial: []byte("00:9B:DD"),
			Fingerprint: []byte("be:73:46:2a"), Version: 0x0303, SNI: []byte("dns.google"),
			NotBefore: time.Date(2019, 10, 10, 20, 58, 42, 0, time.UTC), NotAfter: time.Date(2020, 1, 2, 20, 58, 42, 0, time.UTC),
		},
	})

	// An ICMP alert on a packet without a flow; the packet is raw IP.
	ih := &Header{
		Timestamp: t0, PcapCnt: 1, SrcIP: netip.MustParseAddr("66.59.111.190"), DstIP: netip.MustParseAddr("172.28.2.3"),
		Proto: 1, ICMPType: 8, PktSrc: "wire/pcap",
	}
	out["icmp-no-flow"] = AppendAlert(nil, ih, &Alert{
		GID: 1, SID: 2100366, Rev: 8, Signature: "GPL ICMP_INFO PING *NIX", Target: TargetDest,
		Direction: ToServer, // ignored without a flow
	}, nil, AlertApp{
		Payload: []byte("\x00\x01abc"), Stream: true, // stream is TCP only
		Packet: []byte{0x45, 0, 0, 0x54}, LinkType: 12,
		Options: AlertOptions{Payload: true, PayloadPrintable: true, PayloadLength: true, Packet: true},
	})

	// IPv6 UDP to the client, no app layer, unknown link type.
	vh := &Header{
		Timestamp: t0, FlowID: 5, SrcIP: netip.MustParseAddr("2001:db8::53"), SrcPort: 53,
		DstIP: netip.MustParseAddr("2001:db8::1"), DstPort: 5353, Proto: 17, PktSrc: "wire/pcap", AppProto: "failed",
	}
	out["v6-udp"] = AppendAlert(nil, vh, &Alert{
		GID: 1, SID: 1, Rev: 1, Signature: "v6", Category: "", Target: TargetDest, Direction: ToClient,
	}, &AlertFlow{Start: t0, PktsToServer: 1, PktsToClient: 1, AppProtoTC: "failed"}, AlertApp{
		Packet: []byte{0x60}, LinkType: 147, Options: AlertOptions{Packet: true},
	})

	// Attacker-chosen text everywhere a string goes.
	hs := "\"},\"event_type\":\"x\" <script>\x00\x1b[31m\xff\xfe\u2028"
	hh := alertHeader()
	hh.AppProto = hs
	hh.PktSrc = hs
	out["hostile"] = AppendAlert(nil, hh, &Alert{
		Action: hs, GID: 1, SID: 2, Rev: 3, Signature: hs, Category: hs, Severity: 1,
		References: []string{hs}, Metadata: []MetaKV{{hs, hs}, {"a", hs}, {hs, "2"}}, Rule: hs, Direction: ToServer,
		Flowbits: []string{hs},
	}, &AlertFlow{Start: t0, AppProtoTS: hs}, AlertApp{
		HTTP: hostileHTTP(hs), TSProgress: hs, TCProgress: hs, Payload: []byte(hs),
		Options: AlertOptions{Payload: true, PayloadPrintable: true, HTTPBody: true, HTTPBodyPrintable: true},
	})
	return out
}

// TestAlertGolden compares each alert shape with testdata/alert-*.golden;
// run with -update to rewrite them after a deliberate change.
func TestAlertGolden(t *testing.T) {
	for name, got := range goldenAlerts() {
		path := filepath.Join("testdata", "alert-"+name+".golden")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update to create it)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n got %s\nwant %s", name, path, got, want)
		}
	}
}

// TestAlertSchema validates every golden shape, and each with every hostile
// string, against the Suricata 8.0.6 schema.
func TestAlertSchema(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	lines := goldenAlerts()
	for i, s := range hostile {
		h := alertHeader()
		h.InIface = s
		lines["hostile/"+string(rune('a'+i))] = AppendAlert(nil, h, &Alert{
			Action: s, Signature: s, Category: s, References: []string{s}, Rule: s,
			Metadata: []MetaKV{{s, s}, {"tag", s}, {"TAG", s}}, Direction: s, Flowbits: []string{s, s},
			Target: TargetSrc,
		}, &AlertFlow{AppProtoTS: s, AppProtoTC: s, AppProtoOrig: s, AppProtoExpected: s}, AlertApp{
			DNS: hostileDNS(s, true), TSProgress: s, Payload: []byte(s), Packet: []byte(s),
			Options: AlertOptions{Payload: true, PayloadPrintable: true, PayloadLength: true, Packet: true},
		})
		lines["hostile-tls/"+string(rune('a'+i))] = AppendAlert(nil, h, &Alert{Signature: s}, &AlertFlow{}, AlertApp{TLS: hostileTLS(s)})
	}
	for name, line := range lines {
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
}

// TestAlertHostile: attacker text comes back out of the JSON as Suricata's
// rendering of it, in the field it went into, and cannot add members.
func TestAlertHostile(t *testing.T) {
	for _, s := range hostile {
		line := AppendAlert(nil, alertHeader(), &Alert{
			Signature: s, Category: s, Metadata: []MetaKV{{"k", s}}, Direction: ToServer,
		}, alertFlow(), AlertApp{Payload: []byte(s), Options: AlertOptions{PayloadPrintable: true, Payload: true}})
		var ev struct {
			EventType string `json:"event_type"`
			Alert     struct {
				Signature string              `json:"signature"`
				Category  string              `json:"category"`
				Metadata  map[string][]string `json:"metadata"`
			} `json:"alert"`
			Payload          []byte `json:"payload"`
			PayloadPrintable string `json:"payload_printable"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := suricataText([]byte(s))
		if ev.EventType != "alert" || ev.Alert.Signature != want || ev.Alert.Category != want || ev.Alert.Metadata["k"][0] != want {
			t.Errorf("%q: got %+v, want %q", s, ev, want)
		}
		if !bytes.Equal(ev.Payload, []byte(s)) {
			t.Errorf("%q: payload decodes to %q", s, ev.Payload)
		}
		if len(ev.PayloadPrintable) != len(s) {
			t.Errorf("%q: payload_printable %q has %d bytes, want one per payload byte", s, ev.PayloadPrintable, len(ev.PayloadPrintable))
		}
	}
}

func TestPayloadPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":                       ``, // left out
		"abc":                    `"payload_printable":"abc"`,
		"\x00\x01\t\x0b\x7f\xff": `"payload_printable":"......"`,
		"a\r\nb":                 `"payload_printable":"a\r\nb"`,
		`"\`:                     `"payload_printable":"\"\\"`,
		"é ~":                    `"payload_printable":".. ~"`,
	} {
		var b Builder
		b.keyPrintASCII("payload_printable", []byte(in))
		if got := string(b.B); got != want {
			t.Errorf("payload %q printed as %s, want %s", in, got, want)
		}
	}
}

// TestRuleMetadata checks Suricata's metadata order: keys sorted
// case-insensitively, values of one key in reverse rule order.
func TestRuleMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []MetaKV
		want string
	}{
		{"ET 2033078, as Suricata 7.0.4 logs it", etMetadata,
			`{"created_at":["2021_06_03"],"deployment":["alert_only","Perimeter"],"former_category":["INFO"],"signature_severity":["Informational"],"updated_at":["2023_04_28"]}`},
		{"ET 2049796, as Suricata 7.0.4 logs it", []MetaKV{
			{"affected_product", "Any"}, {"attack_target", "Client_Endpoint"}, {"created_at", "2019_08_21"},
			{"deployment", "Perimeter"}, {"former_category", "INFO"}, {"performance_impact", "Low"},
			{"signature_severity", "Informational"}, {"tag", "DoH"}, {"updated_at", "2023_12_20"},
			{"reviewed_at", "2024_02_20"}, {"former_sid", "2838109"},
		}, `{"affected_product":["Any"],"attack_target":["Client_Endpoint"],"created_at":["2019_08_21"],"deployment":["Perimeter"],"former_category":["INFO"],"former_sid":["2838109"],"performance_impact":["Low"],"reviewed_at":["2024_02_20"],"signature_severity":["Informational"],"tag":["DoH"],"updated_at":["2023_12_20"]}`},
		{"ascending", []MetaKV{{"a", "1"}, {"b", "2"}}, `{"a":["1"],"b":["2"]}`},
		{"descending", []MetaKV{{"c", "1"}, {"b", "2"}, {"a", "3"}}, `{"a":["3"],"b":["2"],"c":["1"]}`},
		{"one", []MetaKV{{"k", "v"}}, `{"k":["v"]}`},
		{"three values, interleaved", []MetaKV{{"tag", "1"}, {"b", "x"}, {"tag", "2"}, {"a", "y"}, {"tag", "3"}},
			`{"a":["y"],"b":["x"],"tag":["3","2","1"]}`},
		{"case folds; last spelling names the key", []MetaKV{{"Tag", "1"}, {"b", "x"}, {"tAG", "2"}, {"TAG_", "3"}},
			`{"b":["x"],"tAG":["2","1"],"TAG_":["3"]}`},
		{"strcasecmp: '_' sorts before letters, folded to lower case", []MetaKV{{"aB", "2"}, {"a_b", "1"}}, `{"a_b":["1"],"aB":["2"]}`},
		{"empty key", []MetaKV{{"", "1"}, {"", "2"}}, `{"":["2","1"]}`},
		{"escaped key", []MetaKV{{"\"}", "1"}}, `{"\"}":["1"]}`},
	} {
		var b Builder
		b.ruleMetadata(tc.in)
		if got := string(b.B); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if !json.Valid(b.B) {
			t.Errorf("%s: invalid JSON %s", tc.name, b.B)
		}
	}
}

// TestRuleMetadataPaths: the stack-index sort and the scanning fallback for
// long lists write the same object, and a list over the index size works.
func TestRuleMetadataPaths(t *testing.T) {
	keys := []string{"tag", "TAG", "a", "b", "Created_at", "created_at", "z", "", "_", "é"}
	for n := 0; n <= 2*maxMetaSort+3; n++ {
		md := make([]MetaKV, n)
		for i := range md {
			md[i] = MetaKV{keys[(i*7+n)%len(keys)], string(rune('0' + i%10))}
		}
		var sorted, scanned, public Builder
		sorted.BeginObject()
		if n <= maxMetaSort {
			sorted.metaSorted(md)
		}
		sorted.EndObject()
		scanned.BeginObject()
		scanned.metaScanned(md)
		scanned.EndObject()
		public.ruleMetadata(md)
		if n <= maxMetaSort && !bytes.Equal(sorted.B, scanned.B) {
			t.Fatalf("%d pairs: sorted %s, scanned %s", n, sorted.B, scanned.B)
		}
		if !bytes.Equal(public.B, scanned.B) || !json.Valid(public.B) {
			t.Fatalf("%d pairs: ruleMetadata %s, want %s", n, public.B, scanned.B)
		}
	}
}

// TestAlertReference rebuilds every alert Suricata 7.0.4 wrote for the
// corpus pcaps from its own field values and requires the same bytes: key
// order, number formatting, escaping, metadata grouping, the flow object's
// orientation and the source/target objects. Alerts carrying objects
// polder does not write (files, tunnel, http.content_range) or that
// changed in Suricata 8 (DNS v2) are counted and skipped.
func TestAlertReference(t *testing.T) {
	root := corpus.Path(t, "reference", "suricata-7.0.4-etopen")
	var total, same int
	skipped := map[string]int{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eve.json") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			line := sc.Bytes()
			if !bytes.Contains(line, []byte(`"event_type":"alert"`)) {
				continue
			}
			total++
			h, a, fl, app, why := fromReference(t, line)
			if why != "" {
				skipped[why]++
				continue
			}
			got := AppendAlert(nil, h, a, fl, app)
			if want := append(bytes.Clone(line), '\n'); !bytes.Equal(got, want) {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s: rebuilt alert differs:\n got %s\nwant %s", rel, got, want)
				continue
			}
			same++
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d reference alerts rebuilt byte for byte; skipped %v", same, total, skipped)
	if same < 300 {
		t.Errorf("only %d reference alerts rebuilt, want at least 300", same)
	}
}

// fromReference turns a Suricata alert line back into AppendAlert's
// inputs. why names the reason when the line cannot be rebuilt.
func fromReference(t *testing.T, line []byte) (h *Header, a *Alert, f *AlertFlow, app AlertApp, why string) {
	t.Helper()
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("reference line: %v", err)
	}
	for _, k := range []string{"files", "tunnel", "dns"} {
		if _, ok := ev[k]; ok {
			return nil, nil, nil, app, k
		}
	}
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		if raw, ok := m[k]; ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		return s
	}
	num := func(m map[string]json.RawMessage, k string) uint64 {
		var n uint64
		if raw, ok := m[k]; ok {
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		return n
	}
	obj := func(m map[string]json.RawMessage, k string) map[string]json.RawMessage {
		var o map[string]json.RawMessage
		if raw, ok := m[k]; ok {
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		return o
	}
	ts := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02T15:04:05.000000-0700", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}

	h = &Header{
		Timestamp: ts(str(ev, "timestamp")), FlowID: num(ev, "flow_id"), PcapCnt: num(ev, "pcap_cnt"),
		SrcIP: netip.MustParseAddr(str(ev, "src_ip")), SrcPort: uint16(num(ev, "src_port")),
		DstIP: netip.MustParseAddr(str(ev, "dest_ip")), DstPort: uint16(num(ev, "dest_port")),
		PktSrc: str(ev, "pkt_src"), AppProto: str(ev, "app_proto"),
	}
	proto := str(ev, "proto")
	for n, name := range protoNames {
		if name == proto {
			h.Proto = uint8(n)
		}
	}
	if h.Proto == 0 {
		return nil, nil, nil, app, "proto " + proto
	}
	if _, ok := ev["tx_id"]; ok {
		h.HasTxID, h.TxID = true, num(ev, "tx_id")
	}

	al := obj(ev, "alert")
	a = &Alert{
		Action: str(al, "action"), GID: uint32(num(al, "gid")), SID: uint32(num(al, "signature_id")), Rev: uint32(num(al, "rev")),
		Signature: str(al, "signature"), Category: str(al, "category"), Severity: int(num(al, "severity")),
		Direction: str(ev, "direction"),
	}
	if src := obj(al, "source"); src != nil {
		a.Target = TargetSrc
		if str(src, "ip") == str(ev, "src_ip") {
			a.Target = TargetDest
		}
	}
	if raw, ok := al["metadata"]; ok {
		// Reverse what Suricata did: back to rule order, in which each
		// key's values appear in reverse.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			var vs []string
			if err := dec.Decode(&vs); err != nil {
				t.Fatal(err)
			}
			for i := len(vs) - 1; i >= 0; i-- {
				a.Metadata = append(a.Metadata, MetaKV{k.(string), vs[i]})
			}
		}
	}
	if md := obj(ev, "metadata"); md != nil {
		if err := json.Unmarshal(md["flowbits"], &a.Flowbits); err != nil {
			t.Fatal(err)
		}
	}

	fo := obj(ev, "flow")
	f = &AlertFlow{
		Start: ts(str(fo, "start")), PktsToServer: num(fo, "pkts_toserver"), PktsToClient: num(fo, "pkts_toclient"),
		BytesToServer: num(fo, "bytes_toserver"), BytesToClient: num(fo, "bytes_toclient"),
		AppProtoTS: str(ev, "app_proto_ts"), AppProtoTC: str(ev, "app_proto_tc"),
		AppProtoOrig: str(ev, "app_proto_orig"), AppProtoExpected: str(ev, "app_proto_expected"),
	}

	if hj := obj(ev, "http"); hj != nil {
		if _, ok := hj["content_range"]; ok {
			// Not parsed by applayer/http, so not in http events either.
			return nil, nil, nil, app, "http.content_range"
		}
		app.HTTP = &http.Transaction{
			Host: []byte(str(hj, "hostname")), Port: int(num(hj, "http_port")), URI: []byte(str(hj, "url")),
			UserAgent: []byte(str(hj, "http_user_agent")), XFF: []byte(str(hj, "xff")),
			ContentType: []byte(str(hj, "http_content_type")), Referer: []byte(str(hj, "http_refer")),
			Method: []byte(str(hj, "http_method")), Protocol: []byte(str(hj, "protocol")),
			Status: int(num(hj, "status")), Location: []byte(str(hj, "redirect")), ResponseBodyLen: int64(num(hj, "length")),
		}
	}
	if tj := obj(ev, "tls"); tj != nil {
		s := &tls.Session{
			Subject: []byte(str(tj, "subject")), Issuer: []byte(str(tj, "issuerdn")), Serial: []byte(str(tj, "serial")),
			Fingerprint: []byte(str(tj, "fingerprint")), SNI: []byte(str(tj, "sni")), JA4: []byte(str(tj, "ja4")),
		}
		if _, ok := tj["session_resumed"]; ok {
			s.SessionResumed = true
		}
		ver := str(tj, "version")
		found := false
		for v := range 0x10000 {
			var b Builder
			b.tlsVersion(uint16(v))
			if string(b.B) == `"`+ver+`"` {
				s.Version, found = uint16(v), true
				break
			}
		}
		if !found {
			return nil, nil, nil, app, "tls version " + ver
		}
		cert := func(k string) time.Time {
			if v := str(tj, k); v != "" {
				tm, err := time.Parse("2006-01-02T15:04:05", v)
				if err != nil {
					t.Fatal(err)
				}
				return tm
			}
			return time.Time{}
		}
		s.NotBefore, s.NotAfter = cert("notbefore"), cert("notafter")
		if ja3 := obj(tj, "ja3"); ja3 != nil {
			s.HasClientHello, s.JA3String = true, []byte(str(ja3, "string"))
			hex.Decode(s.JA3Hash[:], []byte(str(ja3, "hash")))
		}
		if ja3s := obj(tj, "ja3s"); ja3s != nil {
			s.HasServerHello, s.JA3SString = true, []byte(str(ja3s, "string"))
			hex.Decode(s.JA3SHash[:], []byte(str(ja3s, "hash")))
		}
		var alpn []string
		if raw, ok := tj["client_alpns"]; ok {
			json.Unmarshal(raw, &alpn)
			for _, p := range alpn {
				s.ALPNClient = append(s.ALPNClient, []byte(p))
			}
		}
		if raw, ok := tj["server_alpns"]; ok {
			json.Unmarshal(raw, &alpn)
			s.ALPNServer = []byte(alpn[0])
		}
		app.TLS = s
	}
	return h, a, f, app, ""
}

func TestFlowAlerted(t *testing.T) {
	h := &Header{Timestamp: t0, SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("10.0.0.2"), Proto: 17}
	for alerted, want := range map[bool]string{true: `"alerted":true`, false: `"alerted":false`} {
		line := AppendFlow(nil, h, &FlowRecord{Start: t0, End: t0, Alerted: alerted})
		var ev struct {
			Flow map[string]json.RawMessage `json:"flow"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if got := `"alerted":` + string(ev.Flow["alerted"]); got != want {
			t.Errorf("FlowRecord.Alerted=%v: flow object has %s, want %s", alerted, got, want)
		}
	}
}

// TestAlertAllocs: with a buffer that is large enough, an alert with every
// part allocates nothing.
func TestAlertAllocs(t *testing.T) {
	h, fl := alertHeader(), alertFlow()
	a := benchAlert()
	a.Metadata = etMetadata // the grouping path
	app := AlertApp{
		HTTP: hostileHTTP("GET /index.html \xff"), TSProgress: "request_complete", Payload: payloadBytes, Stream: true,
		Packet: payloadBytes, LinkType: 1,
		Options: AlertOptions{Payload: true, PayloadPrintable: true, PayloadLength: true, Packet: true, HTTPBody: true, HTTPBodyPrintable: true},
	}
	dnsApp := AlertApp{DNS: hostileDNS("www.example.com", true)}
	tlsApp := AlertApp{TLS: hostileTLS("example.com")}
	buf := make([]byte, 0, 64<<10)
	for name, fn := range map[string]func(){
		"http": func() { buf = AppendAlert(buf[:0], h, a, fl, app) },
		"dns":  func() { buf = AppendAlert(buf[:0], h, a, fl, dnsApp) },
		"tls":  func() { buf = AppendAlert(buf[:0], h, a, fl, tlsApp) },
		"bare": func() { buf = AppendAlert(buf[:0], h, a, nil, AlertApp{}) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocs per alert, want 0", name, n)
		}
	}
}

func benchAlert() *Alert {
	return &Alert{
		Action: ActionAllowed, GID: 1, SID: 2049796, Rev: 5, Signature: "ET INFO Google DNS Over HTTPS Certificate Inbound",
		Category: "Misc activity", Severity: 3, Direction: ToServer, Flowbits: []string{"ET.http.binary"},
		Metadata: []MetaKV{
			{"affected_product", "Any"}, {"attack_target", "Client_Endpoint"}, {"created_at", "2019_08_21"},
			{"deployment", "Perimeter"}, {"former_category", "INFO"}, {"performance_impact", "Low"},
			{"signature_severity", "Informational"}, {"tag", "DoH"}, {"updated_at", "2023_12_20"},
			{"reviewed_at", "2024_02_20"}, {"former_sid", "2838109"},
		},
	}
}

// BenchmarkAlert is a typical ET alert on an HTTP transaction with
// Suricata's default options; its metadata is not quite in key order
// (reviewed_at, former_sid last, as ET writes them).
func BenchmarkAlert(b *testing.B) {
	h, fl, a := alertHeader(), alertFlow(), benchAlert()
	tx := &http.Transaction{
		Host: []byte("www.example.com"), URI: []byte("/index.html?q=search+terms&lang=en"),
		UserAgent:   []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
		ContentType: []byte("text/html; charset=utf-8"), Method: []byte("GET"), Protocol: []byte("HTTP/1.1"), Status: 200, ResponseBodyLen: 12345,
	}
	benchEvent(b, func(buf []byte) []byte { return AppendAlert(buf, h, a, fl, AlertApp{HTTP: tx}) })
}

// BenchmarkAlertPayload adds a 1460-byte payload (base64 and printable) and
// the packet.
func BenchmarkAlertPayload(b *testing.B) {
	h, fl, a := alertHeader(), alertFlow(), benchAlert()
	a.Metadata = a.Metadata[:9] // in key order
	pkt := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\x00\xff"), 1514/26)
	app := AlertApp{Payload: pkt[54:], Packet: pkt, LinkType: 1,
		Options: AlertOptions{Payload: true, PayloadPrintable: true, Packet: true}}
	benchEvent(b, func(buf []byte) []byte { return AppendAlert(buf, h, a, fl, app) })
}

// FuzzAlert puts arbitrary bytes into every string of an alert and
// arbitrary payload: the line must stay one valid JSON object, the payload
// must round-trip through base64, and payload_printable must keep one
// character per byte.
func FuzzAlert(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, []byte(s), uint16(0xffff))
	}
	f.Add("b,a,B,a", payloadBytes, uint16(0))
	f.Fuzz(func(t *testing.T, s string, payload []byte, bits uint16) {
		var md []MetaKV
		for i, k := range strings.Split(s, ",") {
			md = append(md, MetaKV{Key: k, Value: s[:i%(len(s)+1)]})
		}
		h := hdr(uint8(bits))
		h.AppProto, h.PktSrc = s, s
		a := &Alert{
			Action: s, Signature: s, Category: s, Severity: int(bits), References: []string{s}, Metadata: md,
			Rule: s, Direction: s, Flowbits: []string{s}, Target: Target(bits % 3), TxGuessed: bits&1 != 0,
		}
		var fl *AlertFlow
		if bits&2 != 0 {
			fl = &AlertFlow{AppProtoTS: s}
		}
		app := AlertApp{
			TSProgress: s, TCProgress: s, Payload: payload, Stream: bits&4 != 0, Packet: payload, LinkType: uint32(bits),
			Options: AlertOptions{
				Payload: bits&8 != 0, PayloadPrintable: bits&16 != 0, PayloadLength: bits&32 != 0,
				Packet: bits&64 != 0, HTTPBody: bits&128 != 0, HTTPBodyPrintable: bits&256 != 0,
			},
		}
		switch bits >> 9 & 3 {
		case 1:
			app.HTTP = hostileHTTP(s)
			app.HTTP.RequestBody = payload
		case 2:
			app.DNS = hostileDNS(s, bits&1 != 0)
		case 3:
			app.TLS = hostileTLS(s)
		}
		line := AppendAlert(nil, h, a, fl, app)
		if !json.Valid(line) || bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("bad line for %q: %q", s, line)
		}
		var ev struct {
			Payload          *string `json:"payload"`
			PayloadPrintable *string `json:"payload_printable"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Payload != nil {
			got, err := base64.StdEncoding.DecodeString(*ev.Payload)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("payload %q came back as %q (%v)", payload, got, err)
			}
		}
		if ev.PayloadPrintable != nil && len(*ev.PayloadPrintable) != len(payload) {
			t.Fatalf("payload_printable %q for %d bytes", *ev.PayloadPrintable, len(payload))
		}
	})
}

// TestAlertKeyOrder checks AppendAlert's top-level order against the order
// the doc comment promises, with every member present.
func TestAlertKeyOrder(t *testing.T) {
	line := goldenAlerts()["http-all-options"]
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	want := []string{
		"timestamp", "flow_id", "pcap_cnt", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "pkt_src",
		"metadata", "tx_id", "alert", "ts_progress", "tc_progress", "http", "app_proto", "direction", "flow",
		"payload", "payload_length", "payload_printable", "stream", "packet", "packet_info",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("top-level keys (-want +got):\n%s", diff)
	}
}

// TestAlertStream: "stream" is 1 only for a TCP alert with a flow, and a
// stream match without any data logs no payload members but "stream".
func TestAlertStream(t *testing.T) {
	all := AlertOptions{Payload: true, PayloadPrintable: true, PayloadLength: true}
	for _, tc := range []struct {
		name    string
		proto   uint8
		flow    bool
		payload string
		want    string
	}{
		{"tcp stream", 6, true, "ab", `"payload":"YWI=","payload_length":2,"payload_printable":"ab","stream":1}`},
		{"tcp stream, no data", 6, true, "", `"stream":1}`},
		{"tcp packet, no data", 6, false, "", `"payload_length":0,"stream":0}`},
		{"udp", 17, true, "ab", `"payload":"YWI=","payload_length":2,"payload_printable":"ab","stream":0}`},
	} {
		h := hdr(tc.proto)
		var fl *AlertFlow
		if tc.flow {
			fl = &AlertFlow{}
		}
		line := string(AppendAlert(nil, h, &Alert{}, fl, AlertApp{Payload: []byte(tc.payload), Stream: true, Options: all}))
		if !strings.HasSuffix(line, tc.want+"\n") {
			t.Errorf("%s: %s\nwant it to end with %s", tc.name, line, tc.want)
		}
	}
}
