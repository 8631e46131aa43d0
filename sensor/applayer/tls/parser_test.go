package tls

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// connStreams returns the client→server and server→client byte streams of
// the first TCP connection in a corpus pcap that carries data both ways.
func connStreams(t testing.TB, pcap string) (client, server []byte) {
	t.Helper()
	pkts, err := pcaptest.Read(corpus.Path(t, "pcaps", pcap))
	if err != nil {
		t.Fatal(err)
	}
	var first *pcaptest.TCPFlow
	for _, ev := range pcaptest.TCPStreams(pkts) {
		if first == nil {
			first = ev.Flow
		}
		if ev.Flow != first || ev.Gap > 0 {
			continue
		}
		if ev.Dir == 0 {
			client = append(client, ev.Data...)
		} else {
			server = append(server, ev.Data...)
		}
	}
	if len(client) == 0 || len(server) == 0 {
		t.Fatalf("%s: no bidirectional TCP connection", pcap)
	}
	return client, server
}

// run feeds the client stream, then the server stream, each cut into the
// given chunks, and returns the parser.
func run(client, server []byte, clientCuts, serverCuts []int) *Parser {
	p := NewParser()
	feed := func(dir flow.Direction, b []byte, cuts []int) {
		prev := 0
		for _, c := range cuts {
			p.Parse(dir, b[prev:c], time.Unix(1, 0))
			prev = c
		}
		p.Parse(dir, b[prev:], time.Unix(1, 0))
	}
	feed(flow.ToServer, client, clientCuts)
	feed(flow.ToClient, server, serverCuts)
	return p
}

// sessionText renders a Session for comparison: nil and empty slices print
// alike and certificates are summarised by their SHA-1 (cmp's reflection
// over DER bytes would make the split tests slow).
func sessionText(s *Session) string {
	c := *s
	var sums []string
	for _, d := range c.CertDER {
		h := sha1.Sum(d)
		sums = append(sums, hex.EncodeToString(h[:]))
	}
	c.CertDER = nil
	return fmt.Sprintf("%+v\ncerts %v", c, sums)
}

// TestSplitEverywhere: a TLS 1.2 handshake with a certificate chain
// (zeek/tls/tls1.2.pcap) gives the same Session whatever the segment
// boundaries: each stream split at every offset, and byte by byte.
func TestSplitEverywhere(t *testing.T) {
	for _, pcap := range []string{"zeek/tls/tls1.2.pcap", "arkime/tls-split-client-hello.pcap", "zeek/tls/tls13_psk_succesfull.pcap"} {
		t.Run(pcap, func(t *testing.T) {
			client, server := connStreams(t, pcap)
			whole := run(client, server, nil, nil)
			want := *whole.Session()
			if !want.HasClientHello || !want.HasServerHello || !whole.Done() {
				t.Fatalf("whole stream: client hello %v server hello %v done %v", want.HasClientHello, want.HasServerHello, whole.Done())
			}
			check := func(what string, p *Parser) {
				t.Helper()
				if diff := cmp.Diff(sessionText(&want), sessionText(p.Session())); diff != "" {
					t.Fatalf("%s (-want +got):\n%s", what, diff)
				}
				if p.Done() != whole.Done() {
					t.Fatalf("%s: done %v", what, p.Done())
				}
			}
			for i := 0; i <= len(client); i++ {
				check("client split at "+itoa(i), run(client, server, []int{i}, nil))
			}
			// Every server offset inside the handshake; the flight of
			// tls-split-client-hello is 10 KB, so beyond 6 KB step by 5.
			for i := 0; i <= len(server); i++ {
				if i > 6000 && i%5 != 0 {
					continue
				}
				check("server split at "+itoa(i), run(client, server, nil, []int{i}))
			}
			var every []int
			for i := 1; i < len(server); i++ {
				every = append(every, i)
			}
			var everyC []int
			for i := 1; i < len(client); i++ {
				everyC = append(everyC, i)
			}
			check("byte by byte", run(client, server, everyC, every))
		})
	}
}

func TestHandshakeStates(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	p := NewParser()
	p.Parse(flow.ToServer, client[:0], time.Time{})
	if p.Done() || p.Session().HasClientHello {
		t.Fatal("empty input changed state")
	}
	p = run(client, server, nil, nil)
	s := p.Session()
	if s.Version != VersionTLS12 || !s.Encrypted || s.CertChainLen == 0 || len(s.Subject) == 0 {
		t.Errorf("version %x encrypted %v chain %d subject %q", s.Version, s.Encrypted, s.CertChainLen, s.Subject)
	}
	if VersionString(s.Version) != "TLS 1.2" {
		t.Errorf("VersionString %q", VersionString(s.Version))
	}
	// TLS 1.3: the server turns encrypted right after ServerHello, the
	// client after its first encrypted record; certificates stay hidden.
	client, server = connStreams(t, "zeek/tls/tls13_psk_succesfull.pcap")
	p = run(client, server, nil, nil)
	s = p.Session()
	if s.Version != VersionTLS13 || !s.Encrypted || len(s.CertDER) != 0 || !p.Done() {
		t.Errorf("TLS 1.3: version %x encrypted %v certs %d done %v", s.Version, s.Encrypted, len(s.CertDER), p.Done())
	}
}

func TestBuffers(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	s := run(client, server, nil, nil).Session()
	if len(s.Buffer("tls.sni")) != 0 {
		t.Error("tls.sni without SNI")
	}
	for _, name := range []string{"tls.cert_subject", "tls.cert_issuer", "tls.cert_serial", "tls.cert_fingerprint", "ja3.hash", "ja3.string", "ja3s.hash", "ja3s.string", "ja4.hash"} {
		if len(s.Buffer(name)) == 0 {
			t.Errorf("buffer %s empty", name)
		}
	}
	if got := string(s.Buffer("ja3.hash")); got != s.JA3HashHex() || len(got) != 32 {
		t.Errorf("ja3.hash %q", got)
	}
	if s.Buffer("no.such") != nil {
		t.Error("unknown buffer not nil")
	}
}

// TestMidStream: a parser that starts inside the server's flight finds
// the next record header and still reads the certificate; garbage before
// the ClientHello (SOCKS, HTTP CONNECT) is skipped.
func TestMidStream(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	want := run(client, server, nil, nil).Session()
	// Drop the ServerHello's first 3 bytes: the certificate must still parse.
	p := NewParser()
	p.Parse(flow.ToClient, server[3:], time.Time{})
	s := p.Session()
	if !bytes.Equal(s.Fingerprint, want.Fingerprint) || s.HasServerHello {
		t.Errorf("mid-stream: fingerprint %q server hello %v", s.Fingerprint, s.HasServerHello)
	}
	if p.Stats().ResyncBytes == 0 {
		t.Error("no resync counted")
	}
	// Junk before the ClientHello.
	p = NewParser()
	junk := []byte("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	p.Parse(flow.ToServer, append(junk, client...), time.Time{})
	if string(p.Session().JA3String) != string(want.JA3String) {
		t.Errorf("after junk: JA3 %q", p.Session().JA3String)
	}
	// Gap in the middle of the server flight: resync on a later record.
	p = NewParser()
	p.Parse(flow.ToServer, client, time.Time{})
	p.Parse(flow.ToClient, server[:10], time.Time{})
	p.Gap(flow.ToClient, 100)
	p.Parse(flow.ToClient, server[110:], time.Time{})
	if p.Session().HasServerHello && p.Session().Version != 0 && len(p.Session().JA3SString) != 0 {
		// The ServerHello was cut by the gap: no JA3S expected.
		t.Errorf("JA3S from a cut ServerHello: %q", p.Session().JA3SString)
	}
	// Non-TLS data is given up after MaxResyncScan.
	p = NewParser()
	zero := make([]byte, 64<<10)
	for i := 0; i < MaxResyncScan/len(zero)+2; i++ {
		p.Parse(flow.ToServer, zero, time.Time{})
		p.Parse(flow.ToClient, zero, time.Time{})
	}
	if !p.Failed() {
		t.Error("zeros not given up")
	}
	p = NewParser()
	for i := 0; i < MaxResyncScan/len(zero)+2; i++ {
		p.Parse(flow.ToServer, zero, time.Time{})
	}
	if !p.Failed() {
		t.Error("one-sided zeros not given up")
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		hello bool
	}{
		{"empty handshake record", mustHex("1603010000"), false},
		{"client hello cut inside random", mustHex("160301000a0100000603030000"), false},
		{"hello with huge inner length", mustHex("16030100080100ffff0303aaaa"), false},
		{"record too long", mustHex("1603017fff01"), false},
		{"wrong major version", mustHex("1604010005010000010303"), false},
		{"client hello without extensions", mustHex("160301002d010000290301" + "0000000000000000000000000000000000000000000000000000000000000000" + "00" + "0002002f" + "0100"), true},
		{"extension length past end", mustHex("16030100330100002f0303" + "0000000000000000000000000000000000000000000000000000000000000000" + "00" + "0002002f" + "0100" + "0004" + "0000ffff"), true},
		// SSLv2-compatible ClientHello (RFC 5246 appendix E.2).
		{"sslv2 hello", mustHex("801f0103010006000000100000040000050a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"), true},
		{"sslv2 hello cut", mustHex("801f01030100"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i <= len(tt.in); i++ {
				p := NewParser()
				p.Parse(flow.ToServer, tt.in[:i], time.Time{})
				p.Parse(flow.ToServer, tt.in[i:], time.Time{})
				if i == len(tt.in) || i == 0 {
					if p.Session().HasClientHello != tt.hello {
						t.Errorf("split %d: client hello %v", i, p.Session().HasClientHello)
					}
				}
			}
		})
	}
}

// TestOversizedCertificate: a certificate message larger than MaxHandshake
// does not grow the buffer past the bound.
func TestOversizedCertificate(t *testing.T) {
	p := NewParser()
	body := make([]byte, 200<<10)
	n := len(body)
	msg := append([]byte{HandshakeCertificate, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
	for len(msg) > 0 {
		k := min(len(msg), 1<<14)
		rec := append([]byte{ContentHandshake, 3, 3, byte(k >> 8), byte(k)}, msg[:k]...)
		p.Parse(flow.ToClient, rec, time.Time{})
		msg = msg[k:]
		if len(p.dirs[1].hs) > MaxHandshake || len(p.dirs[1].rec) > RecordHeaderLen+MaxRecordLen {
			t.Fatalf("buffers %d %d", len(p.dirs[1].hs), len(p.dirs[1].rec))
		}
	}
	if p.Stats().Oversized != 1 {
		t.Errorf("oversized %d", p.Stats().Oversized)
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[uint16]string{0: "UNDETERMINED", 0x0002: "SSLv2", 0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3", 0x7f0e: "TLS 1.3 draft-<16", 0x7f10: "TLS 1.3 draft-16", 0x7f17: "TLS 1.3 draft-23", 0x7e01: "0x7e01"} {
		if got := VersionString(v); got != want {
			t.Errorf("%#x: %q want %q", v, got, want)
		}
	}
}

func TestParseNoAllocSteadyState(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	p := NewParser()
	p.Parse(flow.ToServer, client, time.Time{})
	p.Parse(flow.ToClient, server, time.Time{})
	// Encrypted application data: framing only, no allocation.
	rec := append([]byte{ContentApplicationData, 3, 3, 0x04, 0x00}, make([]byte, 1024)...)
	allocs := testing.AllocsPerRun(100, func() {
		p.Parse(flow.ToClient, rec[:700], time.Time{})
		p.Parse(flow.ToClient, rec[700:], time.Time{})
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per encrypted record", allocs)
	}
}

func BenchmarkHandshake(b *testing.B) {
	client, server := connStreams(b, "zeek/tls/tls1.2.pcap")
	b.ReportAllocs()
	b.SetBytes(int64(len(client) + len(server)))
	for b.Loop() {
		p := NewParser()
		p.Parse(flow.ToServer, client, time.Time{})
		p.Parse(flow.ToClient, server, time.Time{})
	}
}

func BenchmarkClientHello(b *testing.B) {
	client, _ := connStreams(b, "zeek/tls/tls1.2.pcap")
	b.ReportAllocs()
	p := NewParser()
	for b.Loop() {
		p.sess.HasClientHello = false
		p.dirs[0] = dirState{}
		p.Parse(flow.ToServer, client, time.Time{})
	}
}

func BenchmarkEncrypted(b *testing.B) {
	client, server := connStreams(b, "zeek/tls/tls1.2.pcap")
	p := NewParser()
	p.Parse(flow.ToServer, client, time.Time{})
	p.Parse(flow.ToClient, server, time.Time{})
	rec := append([]byte{ContentApplicationData, 3, 3, 0x05, 0xa0}, make([]byte, 1440)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		p.Parse(flow.ToClient, rec, time.Time{})
	}
}

// TestOneDirection: captures that hold only one side still give what that
// side shows.
func TestOneDirection(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	both := run(client, server, nil, nil).Session()

	p := NewParser()
	p.Parse(flow.ToServer, client, time.Time{})
	if s := p.Session(); string(s.JA3String) != string(both.JA3String) || string(s.JA4) != string(both.JA4) || p.Done() {
		t.Errorf("client only: JA3 %q JA4 %q done %v", s.JA3String, s.JA4, p.Done())
	}
	p = NewParser()
	p.Parse(flow.ToClient, server, time.Time{})
	s := p.Session()
	if string(s.JA3SString) != string(both.JA3SString) || string(s.Fingerprint) != string(both.Fingerprint) || !p.Done() {
		t.Errorf("server only: JA3S %q fingerprint %q done %v", s.JA3SString, s.Fingerprint, p.Done())
	}
	if s.Encrypted {
		t.Error("encrypted with one side only")
	}
}
