package ssh

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"github.com/polder-nsm/polder/sensor/flow"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parser's output")

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// record returns one cleartext binary packet with message code code, a
// body of n bytes and 4 bytes of padding (RFC 4253 §6).
func record(code byte, n int) string {
	const pad = 4
	b := binary.BigEndian.AppendUint32(nil, uint32(1+1+n+pad))
	b = append(b, pad, code)
	b = append(b, make([]byte, n+pad)...)
	return string(b)
}

// sessionText renders what a test compares.
func sessionText(s *Session) string {
	var ev []string
	s.Events.Each(func(n string) { ev = append(ev, n) })
	ep := func(e *Endpoint) string {
		if !e.HasBanner {
			return "-"
		}
		return fmt.Sprintf("%q/%q kex=%v newkeys=%v", e.ProtoVersion, e.SoftwareVersion, e.KexInit, e.NewKeys)
	}
	return fmt.Sprintf("client %s; server %s; encrypted=%v events=%v", ep(&s.Client), ep(&s.Server), s.Encrypted, ev)
}

// run parses a client and a server stream, each cut at the given offsets,
// interleaving the directions chunk by chunk.
func run(client, server string, cuts ...int) *Parser {
	p := NewParser()
	split := func(s string) []string {
		var parts []string
		last := 0
		for _, c := range cuts {
			if c > last && c < len(s) {
				parts = append(parts, s[last:c])
				last = c
			}
		}
		return append(parts, s[last:])
	}
	cs, ss := split(client), split(server)
	for i := 0; i < len(cs) || i < len(ss); i++ {
		if i < len(ss) {
			p.Parse(flow.ToClient, []byte(ss[i]), t0)
		}
		if i < len(cs) {
			p.Parse(flow.ToServer, []byte(cs[i]), t0)
		}
	}
	return p
}

func TestParse(t *testing.T) {
	kex := record(MsgKexInit, 200)
	nk := record(MsgNewKeys, 0)
	enc := "\x8f\x12\x00\x01garbage-ciphertext"
	tests := []struct {
		name           string
		client, server string
		want           string
		done           bool
	}{
		{"full handshake",
			"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n" + kex + record(30, 40) + nk + enc,
			"SSH-2.0-OpenSSH_8.9\r\n" + kex + record(31, 300) + nk + enc,
			`client "2.0"/"OpenSSH_9.6p1" kex=true newkeys=true; server "2.0"/"OpenSSH_8.9" kex=true newkeys=true; encrypted=true events=[]`, true},
		{"LF only and 1.99", "SSH-1.99-Cisco-1.25\n", "SSH-2.0-srv\n",
			`client "1.99"/"Cisco-1.25" kex=false newkeys=false; server "2.0"/"srv" kex=false newkeys=false; encrypted=false events=[]`, true},
		{"empty software version", "SSH-2.0-\r\n", "",
			`client "2.0"/"" kex=false newkeys=false; server -; encrypted=false events=[]`, false},
		{"lone CR ends the line", "SSH-2.0-a\rXYZW\x00\x14", "",
			`client "2.0"/"a" kex=false newkeys=false; server -; encrypted=false events=[invalid_record]`, false},
		{"one side only encrypted", "SSH-2.0-c\r\n" + nk, "SSH-2.0-s\r\n" + kex,
			`client "2.0"/"c" kex=false newkeys=true; server "2.0"/"s" kex=true newkeys=false; encrypted=false events=[]`, true},
		{"not ssh", "GET / HTTP/1.1\r\n", "",
			`client -; server -; encrypted=false events=[invalid_banner]`, false},
		{"no protocol version", "SSH--x\r\n", "",
			`client -; server -; encrypted=false events=[invalid_banner]`, false},
		{"no dash after version", "SSH-2.0\r\n", "",
			`client -; server -; encrypted=false events=[invalid_banner]`, false},
		{"record length 1", "SSH-2.0-c\r\n\x00\x00\x00\x01\x00\x15", "",
			`client "2.0"/"c" kex=false newkeys=false; server -; encrypted=false events=[invalid_record]`, false},
		{"record too long", "SSH-2.0-c\r\n\x7f\xff\xff\xff\x00\x14", "",
			`client "2.0"/"c" kex=false newkeys=false; server -; encrypted=false events=[invalid_record]`, false},
		{"truncated record", "SSH-2.0-c\r\n" + kex[:30], "",
			`client "2.0"/"c" kex=true newkeys=false; server -; encrypted=false events=[]`, false},
		{"truncated banner", "SSH-2.0-OpenSS", "",
			`client -; server -; encrypted=false events=[]`, false},
		{"long banner", "SSH-2.0-" + strings.Repeat("x", 300) + " comment\r\n" + nk, "",
			`client "2.0"/"` + strings.Repeat("x", MaxBanner-8) + `" kex=false newkeys=true; server -; encrypted=false events=[long_banner]`, false},
		{"banner of exactly MaxBanner", "SSH-2.0-" + strings.Repeat("y", MaxBanner-8) + "\r\n", "",
			`client "2.0"/"` + strings.Repeat("y", MaxBanner-8) + `" kex=false newkeys=false; server -; encrypted=false events=[long_banner]`, false},
		{"empty", "", "", `client -; server -; encrypted=false events=[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := run(tt.client, tt.server)
			if got := sessionText(p.Session()); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if p.Done() != tt.done {
				t.Errorf("Done = %v", p.Done())
			}
			// The same streams split at every offset parse the same.
			for cut := 1; cut < max(len(tt.client), len(tt.server)); cut++ {
				if got := sessionText(run(tt.client, tt.server, cut).Session()); got != tt.want {
					t.Fatalf("split at %d:\ngot  %s\nwant %s", cut, got, tt.want)
				}
			}
			// And byte by byte.
			var cuts []int
			for i := 1; i < max(len(tt.client), len(tt.server)); i++ {
				cuts = append(cuts, i)
			}
			if got := sessionText(run(tt.client, tt.server, cuts...).Session()); got != tt.want {
				t.Fatalf("byte by byte:\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestGap(t *testing.T) {
	p := NewParser()
	p.Parse(flow.ToServer, []byte("SSH-2.0-c\r\n"), t0)
	p.Gap(flow.ToServer, 10)
	p.Parse(flow.ToServer, []byte(record(MsgNewKeys, 0)), t0)
	s := p.Session()
	if s.Client.NewKeys || s.Events&EventGap == 0 {
		t.Errorf("after a gap: %s", sessionText(s))
	}
	// A gap after encryption loses nothing.
	p = run("SSH-2.0-c\r\n"+record(MsgNewKeys, 0), "SSH-2.0-s\r\n"+record(MsgNewKeys, 0))
	p.Gap(flow.ToClient, 100)
	if !p.Session().Encrypted || p.Session().Events != 0 || !p.Finished() {
		t.Errorf("gap after encryption: %s", sessionText(p.Session()))
	}
}

// TestAllocs: once both banners are stored, framing records and encrypted
// bytes allocates nothing.
func TestAllocs(t *testing.T) {
	kex := []byte(record(MsgKexInit, 1000))
	p := NewParser()
	p.Parse(flow.ToServer, []byte("SSH-2.0-c\r\n"), t0)
	if a := testing.AllocsPerRun(200, func() { p.Parse(flow.ToServer, kex, t0) }); a != 0 {
		t.Errorf("records: %v allocs", a)
	}
	p.Parse(flow.ToServer, []byte(record(MsgNewKeys, 0)), t0)
	enc := make([]byte, 1400)
	if a := testing.AllocsPerRun(200, func() { p.Parse(flow.ToServer, enc, t0) }); a != 0 {
		t.Errorf("encrypted: %v allocs", a)
	}
}

func BenchmarkKeyExchange(b *testing.B) {
	client := []byte("SSH-2.0-OpenSSH_9.6\r\n" + record(MsgKexInit, 1200) + record(30, 40) + record(MsgNewKeys, 0))
	server := []byte("SSH-2.0-OpenSSH_9.6\r\n" + record(MsgKexInit, 1000) + record(31, 600) + record(MsgNewKeys, 0))
	b.ReportAllocs()
	b.SetBytes(int64(len(client) + len(server)))
	for b.Loop() {
		p := NewParser()
		p.Parse(flow.ToClient, server, t0)
		p.Parse(flow.ToServer, client, t0)
	}
}

// connStreams returns the client and server bytes of the first TCP
// connection of a corpus pcap, stopping a direction at its first gap.
func connStreams(t testing.TB, pcap string) (client, server []byte) {
	t.Helper()
	pkts, err := pcaptest.Read(corpus.Path(t, "pcaps", pcap))
	if err != nil {
		t.Fatal(err)
	}
	var first *pcaptest.TCPFlow
	var gap [2]bool
	for _, ev := range pcaptest.TCPStreams(pkts) {
		if first == nil {
			first = ev.Flow
		}
		if ev.Flow != first {
			continue
		}
		if ev.Gap > 0 {
			gap[ev.Dir] = true
		}
		if gap[ev.Dir] {
			continue
		}
		if ev.Dir == 0 {
			client = append(client, ev.Data...)
		} else {
			server = append(server, ev.Data...)
		}
	}
	return client, server
}

// TestCorpusGolden parses the first connection of SSH captures from the
// corpus (zeek's ssh traces, nDPI's, arkime's) and compares the sessions
// with testdata/corpus.golden (rewrite with -update). The versions agree
// with Suricata 7.0.4's ssh events for the pcaps it logged.
func TestCorpusGolden(t *testing.T) {
	pcaps := []string{
		"zeek/ssh/ssh.pcap", "zeek/ssh/ssh_version_199.pcap", "zeek/ssh/ssh-on-port-80.pcap",
		"zeek/ssh/ssh_kex_curve25519.pcap", "zeek/ssh/ssh_client_sends_first_enc_pkt_with_newkeys.pcap",
		"zeek/ssh/ssh_server_sends_first_enc_pkt_with_newkeys.pcap", "zeek/ssh/ssh.client-side-half-duplex.pcap",
		"zeek/ssh/server-pre-banner-data.pcap", "zeek/ssh/ssh1-ssh2-fingerprints.pcap",
		"ndpi/ssh.pcap", "arkime/ssh2.pcap",
	}
	var out strings.Builder
	for _, pc := range pcaps {
		if _, err := os.Stat(corpus.Path(t, "pcaps", pc)); err != nil {
			t.Fatalf("%s: %v", pc, err)
		}
		c, s := connStreams(t, pc)
		p := NewParser()
		// Feed the server first: SSH servers speak first.
		p.Parse(flow.ToClient, s, t0)
		p.Parse(flow.ToServer, c, t0)
		fmt.Fprintf(&out, "%s: %s\n", pc, sessionText(p.Session()))
	}
	golden := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), out.String()); d != "" {
		t.Errorf("corpus sessions differ from %s (-want +got):\n%s", golden, d)
	}
}
