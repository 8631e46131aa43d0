package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/internal/corpus"
)

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{"example.com:8080", "example.com"},
		{"example.com.", "example.com"},
		{"[2001:db8::1]:80", "2001:db8::1"},
		{"[::1]", "::1"},
		{"2001:db8::1", "2001:db8::1"},
		{" host ", "host"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeHost(tt.in); got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAddHTTP(t *testing.T) {
	tests := []struct{ host, uri, want string }{
		{"Example.com:8080", "/a?b", "example.com /a?b"},
		{"", "/x", " /x"},
		{"proxy.local", "http://Real.Example:81/p", "real.example http://Real.Example:81/p"},
		{"", "http://user@h.example/p", "h.example http://user@h.example/p"},
		{"", "secure.newegg.com:443", "secure.newegg.com secure.newegg.com:443"},
		{"x", "[2001:db8::1]:443", "2001:db8::1 [2001:db8::1]:443"},
		{"[::1]:80", "/", "::1 /"},
	}
	for _, tt := range tests {
		s := NewSets()
		s.addHTTP(tt.host, tt.uri)
		if got := s.Of(HTTP).Sorted(); len(got) != 1 || got[0] != tt.want {
			t.Errorf("addHTTP(%q, %q) = %q, want %q", tt.host, tt.uri, got, tt.want)
		}
	}
	s := NewSets()
	s.addHTTP("a", "/\x01")
	s.addHTTP("a", `/back\slash`)
	if len(s.Of(HTTP)) != 0 || len(s.Dropped[HTTP]) != 2 {
		t.Errorf("non-printable requests kept: %v dropped %v", s.Of(HTTP), s.Dropped[HTTP])
	}
}

func TestParseTshark(t *testing.T) {
	row := func(cols ...string) string { return strings.Join(cols, "\t") }
	out := strings.Join([]string{
		row("eth:ethertype:ip:udp:dns", "WWW.Example.COM.", "", "", "", ""),
		row("eth:ethertype:ip:udp:dns", "a.example"+aggregSep+"b.example", "", "", "", ""),
		row("eth:ethertype:ip:udp:mdns", "printer.local", "", "", "", ""),
		row("eth:ethertype:ip:udp:dns", "<Root>", "", "", "", ""),
		row("eth:ethertype:ip:tcp:dns", "tcp.example", "", "", "", ""),
		row("eth:ethertype:ip:tcp:http", "", "1"+aggregSep+"1", "h1:80"+aggregSep+"H2", "/one"+aggregSep+"/two", ""),
		row("eth:ethertype:ip:tcp:http", "", "1"+aggregSep+"1", "same", "/p1"+aggregSep+"/p2", ""),
		row("eth:ethertype:ip:udp:ssdp", "", "1", "239.255.255.250:1900", "*", ""),
		row("eth:ethertype:ip:tcp:tls", "", "", "", "", "SNI.example"),
		row("eth:ethertype:ip:udp:quic:tls", "", "", "", "", "quic.example"),
		row("eth:ethertype:ip:tcp:http:tls", "", "", "", "", "tunnel.example"),
		row("eth:ethertype:ip:udp:dns", `bad\001name`, "", "", "", ""),
		"", // blank line
	}, "\n")
	s := parseTshark([]byte(out))
	want := map[Kind][]string{
		DNS:  {"a.example", "b.example", "tcp.example", "www.example.com"},
		HTTP: {"h1 /one", "h2 /two", "same /p1", "same /p2"},
		TLS:  {"sni.example", "tunnel.example"},
	}
	for _, k := range Kinds {
		if d := cmp.Diff(want[k], s.Of(k).Sorted()); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
	if got := s.Dropped[DNS].Sorted(); !cmp.Equal(got, []string{"<root>", `bad\001name`}) {
		t.Errorf("dropped dns = %q", got)
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const eveFixture = `{"event_type":"dns","proto":"UDP","dns":{"type":"query","id":1,"rrname":"Q.example","rrtype":"A","tx_id":0}}
{"event_type":"dns","proto":"UDP","dns":{"version":2,"type":"answer","id":1,"rrname":"answered.example","answers":[{"rrname":"cname-target.example","rrtype":"A"}]}}
{"event_type":"dns","proto":"UDP","dns":{"version":3,"type":"request","queries":[{"rrname":"v3a.example"},{"rrname":"v3b.example."}],"answers":[{"rrname":"not-a-question.example"}]}}
{"event_type":"http","proto":"TCP","app_proto":"http","http":{"hostname":"www.Example.com","url":"/index.html","http_method":"GET","protocol":"HTTP/1.1"}}
{"event_type":"http","proto":"TCP","http":{"url":"/libhtp::request_uri_not_seen","status":200}}
{"event_type":"http","proto":"TCP","app_proto":"http2","http":{"hostname":"h2.example","url":"/h2","http2":{"stream_id":1}}}
{"event_type":"http","proto":"TCP","http":{"url":"/nohost"}}
{"event_type":"tls","proto":"TCP","tls":{"sni":"TLS.example","version":"TLS 1.2"}}
{"event_type":"tls","proto":"UDP","tls":{"sni":"udp.example"}}
{"event_type":"alert","proto":"UDP","dns":{"query":[{"rrname":"alert-meta.example"}]}}
{"event_type":"dns","proto":"UDP","dns":{"type":"query","rrname":"ctl\u0001.example"}}

{"event_type":"flow","proto":"TCP","src_ip":"10.0.0.2","src_port":80,"dest_ip":"10.0.0.1","dest_port":1234,"vlan":[5],"app_proto":"http","flow":{"pkts_toserver":3,"pkts_toclient":4,"bytes_toserver":300,"bytes_toclient":400,"start":"2015-10-01T20:56:17.727740+0000"}}
{"event_type":"flow","proto":"UDP","src_ip":"::ffff:10.0.0.1","src_port":53,"dest_ip":"10.0.0.9","dest_port":53,"app_proto":"failed","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":60,"bytes_toclient":0,"start":"2015-10-01T20:56:18.000000+0000"}}
`

func TestEVESets(t *testing.T) {
	s, err := EVESets(writeFile(t, "eve.json", eveFixture))
	if err != nil {
		t.Fatal(err)
	}
	want := map[Kind][]string{
		DNS:  {"answered.example", "q.example", "v3a.example", "v3b.example"},
		HTTP: {" /nohost", "www.example.com /index.html"},
		TLS:  {"tls.example"},
	}
	for _, k := range Kinds {
		if d := cmp.Diff(want[k], s.Of(k).Sorted()); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
	if len(s.Dropped[DNS]) != 1 {
		t.Errorf("dropped dns = %q, want the control-character name", s.Dropped[DNS].Sorted())
	}
	if _, err := EVESets(writeFile(t, "bad.json", "{\"event_type\":\"dns\"}\nnot json\n")); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("bad EVE error = %v, want one naming line 2", err)
	}
}

func TestCompareAndReport(t *testing.T) {
	a, b := NewSets(), NewSets()
	for _, v := range []string{"both.example", "a-only.example", "trunc.exam"} {
		a.addDNS(v)
	}
	for _, v := range []string{"both.example", "b-only.example", "trunc.example"} {
		b.addDNS(v)
	}
	a.addHTTP("h", "/same")
	b.addHTTP("other", "/same")
	r := Compare(a, b)
	if got, want := r.Count[DNS], (Count{Both: 1, Either: 5}); got != want {
		t.Errorf("dns count = %+v, want %+v", got, want)
	}
	if got, want := r.Count[HTTP], (Count{Both: 0, Either: 2}); got != want {
		t.Errorf("http count = %+v, want %+v", got, want)
	}
	if got := r.Count[TLS].Ratio(); got != 1 {
		t.Errorf("empty tls ratio = %v, want 1", got)
	}
	if d := cmp.Diff([]string{"a-only.example", "trunc.exam"}, r.OnlyA[DNS]); d != "" {
		t.Errorf("OnlyA (-want +got):\n%s", d)
	}
	rep := Report{}
	rep.Add("f.pcap", r)
	rep.Add("g.pcap", Compare(b, b))
	if got, want := rep.Overall(), (Count{Both: 1 + 4, Either: 7 + 4}); got != want {
		t.Errorf("overall = %+v, want %+v", got, want)
	}
	var sb strings.Builder
	rep.Print(&sb)
	out := sb.String()
	for _, want := range []string{
		"agreement sensor vs tshark over 2 files: 45.5% (5/11)",
		"f.pcap  dns   sensor only; truncated on one side",
		`"trunc.exam"`,
		"tshark only; same URI, host differs",
		"disagreements (6):",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestFlows(t *testing.T) {
	recs, err := FlowRecords(writeFile(t, "eve.json", eveFixture))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d flows, want 2", len(recs))
	}
	f := recs[0]
	if f.Proto != "TCP" || f.SrcPort != 80 || f.Pkts() != 7 || f.Bytes() != 700 || f.AppProto != "http" ||
		!cmp.Equal(f.VLAN, []int{5}) || !f.Start.Equal(time.Date(2015, 10, 1, 20, 56, 17, 727740000, time.UTC)) {
		t.Errorf("flow 0 = %+v", f)
	}
	if recs[1].AppProto != "" || !recs[1].SrcIP.Is4() {
		t.Errorf("flow 1 = %+v, want app_proto failed → \"\" and unmapped IPv4", recs[1])
	}

	// Ours sees the TCP flow reversed and with one packet more, misses the
	// UDP flow and has an extra one.
	ours := []FlowRec{recs[0], recs[0]}
	ours[0].SrcIP, ours[0].DstIP = recs[0].DstIP, recs[0].SrcIP
	ours[0].SrcPort, ours[0].DstPort = recs[0].DstPort, recs[0].SrcPort
	ours[0].PktsToClient++
	ours[1].VLAN = nil
	r := CompareFlows(ours, recs)
	if r.Matched != 1 || len(r.OnlyOurs) != 1 || len(r.OnlyRef) != 1 || len(r.Mismatches) != 1 || len(r.AppProtoDiffs) != 0 {
		t.Errorf("CompareFlows = %+v", r)
	}
	var sb strings.Builder
	r.Print(&sb)
	if !strings.Contains(sb.String(), "flows: ours 2, ref 2, matched 1, only ours 1, only ref 1, pkts/bytes mismatches 1") {
		t.Errorf("Print:\n%s", sb.String())
	}
}

// TestTsharkSets runs the real tshark on one corpus pcap: an IPv6 CONNECT
// request and the TLS session inside the tunnel.
func TestTsharkSets(t *testing.T) {
	tsharkForTest(t)
	pcap := corpus.Path(t, "pcaps", "zeek", "http", "connect-with-header.pcap")
	// The first call runs tshark and fills the cache, the second reads it.
	ts := &Tshark{CacheDir: t.TempDir()}
	for i := range 2 {
		s, err := ts.Sets(t.Context(), pcap)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"secure.newegg.com secure.newegg.com:443"}, s.Of(HTTP).Sorted()); d != "" {
			t.Errorf("run %d: http (-want +got):\n%s", i, d)
		}
		if d := cmp.Diff([]string{"secure.newegg.com"}, s.Of(TLS).Sorted()); d != "" {
			t.Errorf("run %d: tls (-want +got):\n%s", i, d)
		}
	}
	if ents, _ := os.ReadDir(ts.CacheDir); len(ents) != 1 {
		t.Errorf("cache holds %d entries, want 1", len(ents))
	}
}
