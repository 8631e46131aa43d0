package dns

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Fixtures are UDP payloads taken from corpus pcaps (path in the name).
var (
	// zeek/dns-txt-multiple.pcap: query and response (CNAME chain, TXT
	// with two strings, NS and A records in authority/additional).
	txtQuery    = mustHex("6daf0100000100000000000004666c6b720a5f646f6d61696e6b657906666c69636b7203636f6d0000100001")
	txtResponse = mustHex("6daf8500000100030005000504666c6b720a5f646f6d61696e6b657906666c69636b7203636f6d0000100001c00c000500010000038400070466613134c011c0380005000100000384001804666131340a5f646f6d61696e6b6579057961686f6fc023c04b0010000100001c2000e37f6b3d7273613b20703d4d4947664d413047435371475349623344514542415155414134474e4144434269514b4267514450645066794a4d32523247714d795a4d31666c547a46654449552b65374b6d694b527735797a335868742b6367454969486d6d356c49474275574363357274697930436378655070716363504b6a6e624853724449323350552b484f75714a366572674531494f734c364c4f4567473659543533764d62385a36556942537359506c724445432b384355496b544c4d4c584a6175524b35624e524b56314154477a4746706633546a5a745777494441514142c050000200010002a3000006036e7335c05bc050000200010002a3000006036e7334c05bc050000200010002a3000006036e7333c05bc050000200010002a3000006036e7332c05bc050000200010002a3000006036e7331c05bc1a60001000100127500000444b48310c19400010001001275000004448eff10c18200010001001275000004cb54dd35c17000010001001275000004628a0b9dc15e0001000100127500000477a0f77c")
	// ndpi/dns-tunnel-iodine.pcap: NULL answer with binary rdata.
	nullResponse = mustHex("12b0840000010001000000000b76616161616b6172646c69067069726174650373656100000a0001c00c000a00010000000000095641434b4403c5e901")
	// ndpi/tls_heur__shadowsocks-tcp.pcapng: CNAME, A and AAAA answers, OPT.
	aaaaResponse = mustHex("2c27818000010009000000050377777707796f757475626503636f6d0000010001c00c000500010000012000160a796f75747562652d7569016c06676f6f676c65c018c02d00010001000000570004d83acc8ec02d000100010000005700048efbd10ec02d00010001000000570004d83acceec02d000100010000005700048efab4aec02d00010001000000570004d83ad12ec02d000100010000005700048efab48ec02d000100010000005700048efbd12ec02d00010001000000570004d83acd2ec02d001c00010000012000102a00145040020402000000000000200ec02d001c00010000012000102a00145040020415000000000000200ec02d001c00010000012000102a00145040020403000000000000200ec02d001c00010000012000102a00145040020416000000000000200e000029ffd6000000000000")
	// zeek/dns/sshfp-trunc.pcap: SSHFP answers (the last RRSIG is cut).
	sshfpResponse = mustHex("9fd484100001000900000001036d6f6e036c626c03676f7600002c0001c00c002c00010000a8c000160201a6b95f9eba1104a7272a362e8bfbcbebd5726dcfc00c002c00010000a8c000220202520711b47c300b819cfb696a845007c420de4df30ae3953004b6cfb2bd2c6a46c00c002c00010000a8c0001603015b72c59cceaea2c210f14156e20e6aff829b3e3bc00c002c00010000a8c000160101c052721a978470b36fe5b9222f234400f369172bc00c002c00010000a8c0001604010b24d970aa05b708804d35eea3a8c1a6c355e545c00c002c00010000a8c0002204022870056915073c1e189fc7bf04bbce4512be09a0104f64ae3cfa072b8e06dd2bc00c002c00010000a8c000220102562cb91a82129b62ee4fd92ca202a72b844b7e84ac29dec75654453550201e82c00c002c00010000a8c000220302c692deb7667ceee670d3e6863b5de7b140fe0ba0183a52f6ccbb4247f7b0ab29c00c002e00010000a8c0009b002c07030000a8c05ff1822a5f7ad99abc27036c626c03676f76004578d609c9e857552f17c8fb118797dd5d07b9d71494e38cc5c466f6af5d987056120f0e4fb68e024918fff159f876594b1e5da3e189ec2f10a47c63f944854c86558340ea7315ef9076a3e3c10e68c0a850f6af9db676f76ebd8979513ca3499eb10bf0134bb185b9dc4670a4d236e00048f35e7a6e7df6b9be20342e1fe83c0000291000000080000000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// rec summarises a record for table comparison.
type rec struct{ Name, Type, Data string }

func summary(rs []Record) []rec {
	var out []rec
	for _, r := range rs {
		d := string(AppendName(nil, r.Data))
		switch {
		case r.SOA != nil:
			d = "soa:" + string(r.SOA.MName) + " " + string(r.SOA.RName)
		case r.SRV != nil:
			d = "srv:" + string(r.SRV.Target)
		case r.SSHFP != nil:
			d = "sshfp:" + string(r.SSHFP.Fingerprint)
		}
		out = append(out, rec{string(AppendName(nil, r.Name)), TypeString(r.Type), d})
	}
	return out
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		id        uint16
		qname     string
		qtype     uint16
		response  bool
		rcode     string
		answers   []rec
		nAuth     int
		nAdd      int
		truncated bool
	}{
		{name: "txt query", in: txtQuery, id: 0x6daf, qname: "flkr._domainkey.flickr.com", qtype: TypeTXT},
		{
			name: "txt response", in: txtResponse, id: 0x6daf, qname: "flkr._domainkey.flickr.com", qtype: TypeTXT,
			response: true, rcode: "NOERROR",
			answers: []rec{
				{"flkr._domainkey.flickr.com", "CNAME", "fa14._domainkey.flickr.com"},
				{"fa14._domainkey.flickr.com", "CNAME", "fa14._domainkey.yahoo.com"},
				{"fa14._domainkey.yahoo.com", "TXT", "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPdPfyJM2R2GqMyZM1flTzFeDIU+e7KmiKRw5yz3Xht+cgEIiHmm5lIGBuWCc5rtiy0CcxePpqccPKjn"},
			},
			nAuth: 5, nAdd: 5,
		},
		{
			name: "null binary rdata", in: nullResponse, id: 0x12b0, qname: "vaaaakardli.pirate.sea", qtype: TypeNULL,
			response: true, rcode: "NOERROR",
			// Suricata: invalid UTF-8, so bytes ≥ 0x80 become \xhh.
			answers: []rec{{"vaaaakardli.pirate.sea", "NULL", "VACKD\x03\\xc5\\xe9\x01"}},
		},
		{
			name: "aaaa response", in: aaaaResponse, id: 0x2c27, qname: "www.youtube.com", qtype: TypeA,
			response: true, rcode: "NOERROR",
			answers: []rec{
				{"www.youtube.com", "CNAME", "youtube-ui.l.google.com"},
				{"youtube-ui.l.google.com", "A", "216.58.204.142"},
				{"youtube-ui.l.google.com", "A", "142.251.209.14"},
				{"youtube-ui.l.google.com", "A", "216.58.204.238"},
				{"youtube-ui.l.google.com", "A", "142.250.180.174"},
				{"youtube-ui.l.google.com", "A", "216.58.209.46"},
				{"youtube-ui.l.google.com", "A", "142.250.180.142"},
				{"youtube-ui.l.google.com", "A", "142.251.209.46"},
				{"youtube-ui.l.google.com", "A", "216.58.205.46"},
			},
			nAdd: 5,
		},
		{
			name: "sshfp cut rrsig", in: sshfpResponse, id: 0x9fd4, qname: "mon.lbl.gov", qtype: TypeSSHFP,
			response: true, rcode: "NOERROR", nAdd: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			if err := Parse(tt.in, &m); err != nil {
				t.Fatal(err)
			}
			if m.ID != tt.id || m.Response() != tt.response || m.Truncated != tt.truncated {
				t.Errorf("id %#x response %v truncated %v", m.ID, m.Response(), m.Truncated)
			}
			if len(m.Questions) != 1 || string(m.Questions[0].Name) != tt.qname || m.Questions[0].Type != tt.qtype {
				t.Fatalf("questions %+v", m.Questions)
			}
			if got := string(m.Buffer("dns.query")); got != tt.qname {
				t.Errorf("dns.query = %q", got)
			}
			if tt.response && RcodeString(m.Rcode()) != tt.rcode {
				t.Errorf("rcode %s", RcodeString(m.Rcode()))
			}
			if tt.answers != nil {
				if diff := cmp.Diff(tt.answers, summary(m.Answers)); diff != "" {
					t.Errorf("answers (-want +got):\n%s", diff)
				}
			}
			if len(m.Authorities) != tt.nAuth || len(m.Additionals) != tt.nAdd {
				t.Errorf("authorities %d additionals %d", len(m.Authorities), len(m.Additionals))
			}
		})
	}
}

func TestParseDetails(t *testing.T) {
	var m Message
	if err := Parse(txtResponse, &m); err != nil {
		t.Fatal(err)
	}
	txt := m.Answers[2]
	if len(txt.TXT) != 2 || !strings.HasPrefix(string(txt.TXT[1]), "HSrDI23P") {
		t.Errorf("TXT strings %q", txt.TXT)
	}
	if got := string(m.Additionals[0].Data); got != "68.180.131.16" {
		t.Errorf("additional A %q", got)
	}
	if err := Parse(aaaaResponse, &m); err != nil {
		t.Fatal(err)
	}
	if got := string(m.Additionals[0].Data); got != "2a00:1450:4002:0402:0000:0000:0000:200e" {
		t.Errorf("AAAA %q (Suricata prints all eight groups zero-padded)", got)
	}
	opt := m.Additionals[4]
	if opt.Type != TypeOPT || len(opt.Name) != 0 || opt.Class != 0xffd6 || opt.Data != nil {
		t.Errorf("OPT %+v", opt)
	}
	if err := Parse(sshfpResponse, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Answers) != 9 {
		t.Fatalf("answers %d", len(m.Answers))
	}
	fp := m.Answers[0].SSHFP
	if fp == nil || fp.Algo != 2 || fp.FPType != 1 || string(fp.Fingerprint) != "a6:b9:5f:9e:ba:11:04:a7:27:2a:36:2e:8b:fb:cb:eb:d5:72:6d:cf" {
		t.Errorf("SSHFP %+v", fp)
	}
}

// header builds a 12-byte header.
func header(id, flags, qd, an, ns, ar uint16) []byte {
	return []byte{byte(id >> 8), byte(id), byte(flags >> 8), byte(flags), byte(qd >> 8), byte(qd), byte(an >> 8), byte(an), byte(ns >> 8), byte(ns), byte(ar >> 8), byte(ar)}
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestParseMalformed(t *testing.T) {
	q := []byte("\x07example\x03com\x00\x00\x01\x00\x01")
	tests := []struct {
		name      string
		in        []byte
		err       error
		questions int
		answers   int
		truncated bool
	}{
		{name: "empty", in: nil, err: ErrShort},
		{name: "short header", in: header(1, 0, 0, 0, 0, 0)[:11], err: ErrShort},
		{name: "header only", in: header(1, 0, 0, 0, 0, 0)},
		{name: "question cut", in: cat(header(1, 0, 1, 0, 0, 0), q[:8]), err: ErrNoQuestion, truncated: true},
		{name: "type cut", in: cat(header(1, 0, 1, 0, 0, 0), q[:len(q)-1]), err: ErrNoQuestion, truncated: true},
		{name: "second question cut", in: cat(header(1, 0, 2, 0, 0, 0), q, q[:3]), questions: 1, truncated: true},
		{name: "pointer loop", in: cat(header(1, 0, 1, 0, 0, 0), []byte{0xc0, 12, 0, 1, 0, 1}), err: ErrNoQuestion, truncated: true},
		{name: "pointer two-step loop", in: cat(header(1, 0, 1, 0, 0, 0), []byte{1, 'a', 0xc0, 15, 1, 'b', 0xc0, 12}), err: ErrNoQuestion, truncated: true},
		{name: "pointer past end", in: cat(header(1, 0, 1, 0, 0, 0), []byte{0xc0, 0xff, 0, 1, 0, 1}), err: ErrNoQuestion, truncated: true},
		{name: "pointer cut", in: cat(header(1, 0, 1, 0, 0, 0), []byte{0xc0}), err: ErrNoQuestion, truncated: true},
		{name: "label past end", in: cat(header(1, 0, 1, 0, 0, 0), []byte{9, 'a'}), err: ErrNoQuestion, truncated: true},
		{name: "extended label type", in: cat(header(1, 0, 1, 0, 0, 0), []byte{0x41, 0, 0, 1, 0, 1}), err: ErrNoQuestion, truncated: true},
		{name: "huge counts", in: cat(header(1, 0x8000, 1, 0xffff, 0xffff, 0xffff), q), questions: 1, truncated: true},
		{name: "answer rdata past end", in: cat(header(1, 0x8000, 1, 1, 0, 0), q, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2}), questions: 1, truncated: true},
		{name: "answer ok", in: cat(header(1, 0x8000, 1, 1, 0, 0), q, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4}), questions: 1, answers: 1},
		{name: "answer A wrong length", in: cat(header(1, 0x8000, 1, 1, 0, 0), q, []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3}), questions: 1, answers: 1},
		{name: "cname loop in rdata", in: cat(header(1, 0x8000, 1, 1, 0, 0), q, []byte{0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 29 + 12}), questions: 1, answers: 1},
		{name: "zero questions with answers", in: cat(header(1, 0x8000, 0, 1, 0, 0), []byte{0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4}), answers: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			err := Parse(tt.in, &m)
			if err != tt.err {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if len(m.Questions) != tt.questions || len(m.Answers) != tt.answers || m.Truncated != tt.truncated {
				t.Errorf("questions %d answers %d truncated %v", len(m.Questions), len(m.Answers), m.Truncated)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		want string
		ok   bool
	}{
		{"root", []byte{0}, "", true},
		{"simple", []byte("\x03www\x07example\x03com\x00"), "www.example.com", true},
		{"dot in label", []byte("\x03a.b\x01c\x00"), "a.b.c", true}, // Suricata 7 joins as is
		{"binary label", []byte("\x02\xca\x32\x00"), `\xca2`, true},
		{"utf8 label", []byte("\x04\xc3\xa9t\xc3\x00"), `\xc3\xa9t\xc3`, true}, // invalid as a whole
		{"valid utf8", []byte("\x03\xc3\xa9t\x00"), "\u00e9t", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cat(header(1, 0, 1, 0, 0, 0), tt.wire, []byte{0, 1, 0, 1})
			var m Message
			err := Parse(b, &m)
			if (err == nil) != tt.ok {
				t.Fatal(err)
			}
			if got := string(AppendName(nil, m.Questions[0].Name)); got != tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
	// A name longer than MaxNameLen is refused, not grown without bound.
	var long []byte
	for i := 0; i < 20; i++ {
		long = append(long, 63)
		long = append(long, strings.Repeat("x", 63)...)
	}
	var m Message
	if err := Parse(cat(header(1, 0, 1, 0, 0, 0), long, []byte{0, 0, 1, 0, 1}), &m); err != ErrNoQuestion {
		t.Errorf("long name: %v", err)
	}
}

func TestTypeAndRcodeStrings(t *testing.T) {
	for v, want := range map[uint16]string{1: "A", 28: "AAAA", 11: "WKS", 255: "ANY", 249: "TKEY", 64: "64", 252: "252", 257: "257", 65534: "65534"} {
		if got := TypeString(v); got != want {
			t.Errorf("TypeString(%d) = %q want %q", v, got, want)
		}
	}
	for v, want := range map[uint8]string{0: "NOERROR", 3: "NXDOMAIN", 5: "REFUSED", 15: "15"} {
		if got := RcodeString(v); got != want {
			t.Errorf("RcodeString(%d) = %q want %q", v, got, want)
		}
	}
}

func TestParseReuseNoAlloc(t *testing.T) {
	var m Message
	Parse(txtResponse, &m) // grow the storage once
	allocs := testing.AllocsPerRun(100, func() {
		Parse(aaaaResponse, &m)
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per message with reused storage", allocs)
	}
	_ = ParseDatagram(txtQuery, time.Unix(1, 0), 7, &m)
	if m.TxID != 7 || m.Timestamp.Unix() != 1 {
		t.Errorf("ParseDatagram did not stamp the message")
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   []byte
	}{{"query", txtQuery}, {"response", txtResponse}, {"aaaa", aaaaResponse}} {
		b.Run(bc.name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				Parse(bc.in, &m)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	// NBNS name query for "WORKGROUP<1d>" (first-level encoded).
	nbns := cat(header(0x8001, 0x0110, 1, 0, 0, 0), []byte("\x20FHEPFCELEHFCEPFFFACACACACACACABN\x00\x00\x20\x00\x01"))
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"query", txtQuery, true},
		{"response", txtResponse, true},
		{"null response", nullResponse, true},
		{"trailing garbage", append(append([]byte(nil), txtQuery...), 0), false},
		{"cut", txtQuery[:len(txtQuery)-1], false},
		{"two questions", cat(header(1, 0, 2, 0, 0, 0), []byte("\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x01\x00\x01")), false},
		{"query with answers", cat(header(1, 0, 1, 1, 0, 0), []byte("\x01a\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04")), false},
		{"nbns", nbns, false},
		{"tls record", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x01\x02\x03\x04\x05\x06\x07\x08"), false},
	}
	var m Message
	for _, tt := range tests {
		if got := Probe(tt.in, &m); got != tt.want {
			t.Errorf("%s: Probe = %v", tt.name, got)
		}
	}
}
