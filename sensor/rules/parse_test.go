package rules

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in         string
		src, sport string // printed back
		dst, dport string
		dir        Direction
		action     Action
		proto      string
	}{
		{"alert tcp any any -> any any", "any", "any", "any", "any", DirForward, ActionAlert, "tcp"},
		{"drop http $HOME_NET any <> $EXTERNAL_NET $HTTP_PORTS", "$HOME_NET", "any", "$EXTERNAL_NET", "$HTTP_PORTS", DirBoth, ActionDrop, "http"},
		{"rejectboth ip [10.0.0.0/8,!10.1.0.0/16] [1:1024,!80] => !192.168.1.1 1024:", "[10.0.0.0/8,!10.1.0.0/16]", "[1:1024,!80]", "!192.168.1.1", "1024:", DirTransaction, ActionRejectBoth, "ip"},
		{"pass udp [2001:db8::/32, ::1] :1023 -> [$HOME_NET,[1.1.1.1-1.1.1.9,!1.1.1.5]] ![53,$DNS]", "[2001:db8::/32,::1]", "0:1023", "[$HOME_NET,[1.1.1.1-1.1.1.9,!1.1.1.5]]", "![53,$DNS]", DirForward, ActionPass, "udp"},
		{"alert tcp-pkt 10.0.0.0/255.0.0.0 any -> any 0:65535", "10.0.0.0/8", "any", "any", "0:", DirForward, ActionAlert, "tcp-pkt"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in + ` (msg:"m"; sid:1;)`)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		got := []string{r.Src.String(), r.SrcPort.String(), r.Dst.String(), r.DstPort.String()}
		want := []string{tt.src, tt.sport, tt.dst, tt.dport}
		if d := cmp.Diff(want, got); d != "" || r.Dir != tt.dir || r.Action != tt.action || r.Protocol != tt.proto {
			t.Errorf("%s: header (-want +got):\n%s dir %v action %v proto %q", tt.in, d, r.Dir, r.Action, r.Protocol)
		}
	}
}

func TestParseAddressTree(t *testing.T) {
	a, err := ParseAddress("[!$HOME_NET, [10.0.0.1,fe80::1/64]]")
	if err != nil {
		t.Fatal(err)
	}
	want := Address{Kind: AddrList, List: []Address{
		{Negated: true, Kind: AddrVar, Var: "HOME_NET"},
		{Kind: AddrList, List: []Address{
			{Kind: AddrPrefix, Prefix: pfx("10.0.0.1/32")},
			{Kind: AddrPrefix, Prefix: pfx("fe80::1/64")},
		}},
	}}
	if d := cmp.Diff(want, a, astOpts); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseOptions(t *testing.T) {
	r, err := Parse(`alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET \"quoted\" x\;y"; flow:established,to_server; ` +
		`http.method; content:"POST"; http.uri; content:"/a|3b 3A|b"; startswith; fast_pattern; content:!"x\\"; distance:0; within:10; nocase; ` +
		`pcre:"/^\/a[0-9]+/Ui"; reference:url,example.com/a; classtype:trojan-activity; ` +
		`metadata: created_at 2024_01_01, signature_severity Major; sid:2000001; rev:3;)`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Msg != `ET "quoted" x;y` || r.SID != 2000001 || r.Rev != 3 || r.GID != 1 || r.Classtype != "trojan-activity" {
		t.Errorf("meta: msg %q sid %d rev %d gid %d class %q", r.Msg, r.SID, r.Rev, r.GID, r.Classtype)
	}
	if d := cmp.Diff([]Metadata{{"created_at", "2024_01_01"}, {"signature_severity", "Major"}}, r.Metadata); d != "" {
		t.Errorf("metadata (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Reference{{"url", "example.com/a"}}, r.References); d != "" {
		t.Errorf("reference (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&Flow{Established: true, ToServer: true}, r.Flow); d != "" {
		t.Errorf("flow (-want +got):\n%s", d)
	}
	want := []*Buffer{
		{Name: "http.method", Matches: []Match{&Content{Pattern: []byte("POST")}}},
		{Name: "http.uri", Matches: []Match{
			&Content{Pattern: []byte("/a;:b"), Startswith: true, FastPattern: true},
			&Content{Pattern: []byte(`x\`), Negated: true, Distance: Num{Set: true}, Within: Num{Value: 10, Set: true}, Nocase: true},
			&PCRE{Pattern: `^\/a[0-9]+`, Flags: "Ui", Buffer: "http.uri", Caseless: true},
		}},
	}
	if d := cmp.Diff(want, r.Buffers, astOpts); d != "" {
		t.Errorf("buffers (-want +got):\n%s", d)
	}
	if got := r.Options[0]; got.Name != "msg" || got.Value != `"ET \"quoted\" x\;y"` || got.Pos != (Pos{1, 48}) {
		t.Errorf("first option %+v", got)
	}
}

func TestParseLegacyModifiers(t *testing.T) {
	r, err := Parse(`alert tcp any any -> any any (content:"GET"; http_method; content:"/x"; http_uri; content:"y"; distance:0; http_uri; ` +
		`content:"raw"; byte_test:2,>,10,0,relative; pcre:"/h/H"; uricontent:"z"; sid:1;)`)
	if err != nil {
		t.Fatal(err)
	}
	want := []*Buffer{
		{Name: "pkt_data", Implicit: true, Matches: []Match{
			&Content{Pattern: []byte("raw")},
			&ByteTest{Bytes: Num{Value: 2, Set: true}, Op: ">", Value: Num{Value: 10, Set: true}, Offset: Num{Set: true}, Relative: true},
		}},
		{Name: "http.method", Implicit: true, Matches: []Match{&Content{Pattern: []byte("GET")}}},
		{Name: "http.uri", Implicit: true, Matches: []Match{
			&Content{Pattern: []byte("/x")},
			&Content{Pattern: []byte("y"), Distance: Num{Set: true}},
			&Content{Pattern: []byte("z")},
		}},
		{Name: "http.header", Implicit: true, Matches: []Match{&PCRE{Pattern: "h", Flags: "H", Buffer: "http.header"}}},
	}
	if d := cmp.Diff(want, r.Buffers, astOpts); d != "" {
		t.Errorf("buffers (-want +got):\n%s", d)
	}
}

func TestParseByteKeywords(t *testing.T) {
	r, err := Parse(`alert tcp any any -> any any (content:"|00 01|"; byte_extract:2,0,len,relative,little; ` +
		`byte_test:len,!&,0x80,4,relative,string,hex,bitmask 0xff; byte_jump:4,len,relative,multiplier 2,align,post_offset -2,from_beginning; ` +
		`byte_math:bytes 2,offset 0,oper <<,rvalue len,result sum,relative,endian little; isdataat:!sum,relative; ` +
		`content:"x"; offset:len; depth:sum; dsize:>100; ttl:1<>5; urilen:10,raw; stream_size:server,>=,5; sid:1;)`)
	if err != nil {
		t.Fatal(err)
	}
	wantPayload := []Match{
		&Content{Pattern: []byte{0, 1}},
		&ByteExtract{Bytes: 2, Offset: 0, Var: "len", Relative: true, Endian: EndianLittle},
		&ByteTest{Bytes: Num{Var: "len", Set: true}, Negated: true, Op: "&", Value: Num{Value: 0x80, Set: true}, Offset: Num{Value: 4, Set: true}, Relative: true, Base: BaseHex, Bitmask: 0xff},
		&ByteJump{Bytes: Num{Value: 4, Set: true}, Offset: Num{Var: "len", Set: true}, Relative: true, Multiplier: 2, Align: true, PostOffset: -2, FromBeginning: true},
		&ByteMath{Bytes: Num{Value: 2, Set: true}, Op: "<<", Rvalue: Num{Var: "len", Set: true}, Result: "sum", Relative: true, Endian: EndianLittle},
		&IsDataAt{Negated: true, Offset: Num{Var: "sum", Set: true}, Relative: true},
		&Content{Pattern: []byte("x"), Offset: Num{Var: "len", Set: true}, Depth: Num{Var: "sum", Set: true}},
	}
	if len(r.Buffers) != 1 {
		t.Fatalf("want one buffer, got %d", len(r.Buffers))
	}
	if d := cmp.Diff(wantPayload, r.Buffers[0].Matches, astOpts); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
	wantPacket := []Match{
		&Compare{Name: "dsize", Op: CmpGT, A: 100},
		&Compare{Name: "ttl", Op: CmpRange, A: 1, B: 5},
		&Compare{Name: "urilen", Op: CmpEQ, A: 10, Arg: "raw"},
		&Compare{Name: "stream_size", Op: CmpGE, A: 5, Arg: "server"},
	}
	if d := cmp.Diff(wantPacket, r.Packet, astOpts); d != "" {
		t.Errorf("packet (-want +got):\n%s", d)
	}
}

func TestParseStateKeywords(t *testing.T) {
	r, err := Parse(`alert tcp any any -> any any (flowbits:isset,a|b; flowbits:set,c&d; flowbits:noalert; ` +
		`xbits:set,x,track ip_pair,expire 30; hostbits:isnotset,h,track ip_src; flowint:cnt,+,1; flowint:cnt,>,5; ` +
		`threshold: type limit, track by_src, count 1, seconds 60; detection_filter:track by_dst,count 5,seconds 10; ` +
		`tag:host,10,packets,src; bypass; fast_pattern:only; sid:1;)`)
	if err == nil || !strings.Contains(err.Error(), "no content") {
		t.Fatalf("fast_pattern without content: got %v", err)
	}
	r, err = Parse(strings.Replace(`alert tcp any any -> any any (flowbits:isset,a|b; flowbits:set,c&d; flowbits:noalert; `+
		`xbits:set,x,track ip_pair,expire 30; hostbits:isnotset,h,track ip_src; flowint:cnt,+,1; flowint:cnt,>,5; `+
		`threshold: type limit, track by_src, count 1, seconds 60; detection_filter:track by_dst,count 5,seconds 10; `+
		`tag:host,10,packets,src; bypass; sid:1;)`, "", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	wantBits := []*Bits{
		{Kind: "flowbits", Cmd: "isset", Names: []string{"a", "b"}, Or: true},
		{Kind: "flowbits", Cmd: "set", Names: []string{"c", "d"}},
		{Kind: "flowbits", Cmd: "noalert"},
		{Kind: "xbits", Cmd: "set", Names: []string{"x"}, Track: "ip_pair", Expire: 30},
		{Kind: "hostbits", Cmd: "isnotset", Names: []string{"h"}, Track: "ip_src"},
	}
	if d := cmp.Diff(wantBits, r.Bits, astOpts); d != "" {
		t.Errorf("bits (-want +got):\n%s", d)
	}
	if !r.Noalert || !r.Bypass {
		t.Errorf("noalert %v bypass %v", r.Noalert, r.Bypass)
	}
	if d := cmp.Diff([]*Flowint{{Name: "cnt", Cmd: "+", Value: "1"}, {Name: "cnt", Cmd: ">", Value: "5"}}, r.Flowints, astOpts); d != "" {
		t.Errorf("flowint (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&Threshold{Type: "limit", Track: "by_src", Count: 1, Seconds: 60}, r.Threshold, astOpts); d != "" {
		t.Errorf("threshold (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&Threshold{Track: "by_dst", Count: 5, Seconds: 10}, r.DetectionFilter, astOpts); d != "" {
		t.Errorf("detection_filter (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&Tag{Type: "host", Count: 10, Metric: "packets", Direction: "src"}, r.Tag, astOpts); d != "" {
		t.Errorf("tag (-want +got):\n%s", d)
	}
}

func TestParseStickyAndTransforms(t *testing.T) {
	r, err := Parse(`alert dns any any -> any any (dns.query; dotprefix; content:".evil.com"; endswith; bsize:<64; ` +
		`dns.query; to_lowercase; pcre:"/x/R"; pkt_data; content:"pq"; fast_pattern:1,1; file_data; content:"f"; sid:1;)`)
	if err != nil {
		t.Fatal(err)
	}
	want := []*Buffer{
		{Name: "dns.query", Transforms: []Transform{{Name: "dotprefix"}}, Matches: []Match{
			&Content{Pattern: []byte(".evil.com"), Endswith: true},
			&Compare{Name: "bsize", Op: CmpLT, A: 64},
		}},
		{Name: "dns.query", Transforms: []Transform{{Name: "to_lowercase"}}, Matches: []Match{&PCRE{Pattern: "x", Flags: "R", Relative: true}}},
		{Name: "pkt_data", Matches: []Match{&Content{Pattern: []byte("pq"), FastPattern: true, FastPatternChop: true, ChopOffset: 1, ChopLen: 1}}},
		{Name: "file.data", Matches: []Match{&Content{Pattern: []byte("f")}}},
	}
	if d := cmp.Diff(want, r.Buffers, astOpts); d != "" {
		t.Errorf("buffers (-want +got):\n%s", d)
	}
}

func TestContentCodec(t *testing.T) {
	tests := []struct {
		in   string
		want string
		neg  bool
	}{
		{`"abc"`, "abc", false},
		{`!"abc"`, "abc", true},
		{`! "a|20|b"`, "a b", true},
		{`"|41 42|C|0d0a|"`, "ABC\r\n", false},
		{`"\;\"\\\:"`, `;"\:`, false},
		{`"|7c|"`, "|", false},
	}
	for _, tt := range tests {
		got, neg, err := DecodeContent(tt.in)
		if err != nil || string(got) != tt.want || neg != tt.neg {
			t.Errorf("DecodeContent(%s) = %q, %v, %v; want %q, %v", tt.in, got, neg, err, tt.want, tt.neg)
			continue
		}
		back, neg2, err := DecodeContent(EncodeContent(got, neg))
		if err != nil || string(back) != tt.want || neg2 != neg {
			t.Errorf("EncodeContent(%q) = %s does not decode back", got, EncodeContent(got, neg))
		}
	}
}

func TestMultiLineRulePositions(t *testing.T) {
	src := "# comment\n#alert tcp any any -> any any (sid:9;)\n\nalert tcp any any -> any any (msg:\"x\"; \\\n  content:\"a\"; \\\n  nocase; sid:7;)\nalert tcp any any -> any any (msg:\"y\"; \\\n    bogus; sid:8;)\n"
	s := NewSet()
	errs := s.Load(strings.NewReader(src), "m.rules", LoadOptions{})
	if len(s.Rules) != 1 || s.Commented != 1 {
		t.Fatalf("loaded %d, commented %d; want 1, 1 (errors %v)", len(s.Rules), s.Commented, errs)
	}
	r := s.Rules[0]
	if r.Pos != (Pos{4, 1}) || r.Options[1].Pos != (Pos{5, 3}) || r.Options[2].Pos != (Pos{6, 3}) {
		t.Errorf("positions: rule %v content %v nocase %v", r.Pos, r.Options[1].Pos, r.Options[2].Pos)
	}
	if len(errs) != 1 {
		t.Fatalf("want 1 error, got %v", errs)
	}
	want := &Error{File: "m.rules", Line: 8, Col: 5, SID: 8, Keyword: "bogus", Msg: "unknown keyword",
		Text: `alert tcp any any -> any any (msg:"y";     bogus; sid:8;)`}
	if d := cmp.Diff(want, errs[0]); d != "" {
		t.Errorf("error (-want +got):\n%s", d)
	}
	if got := errs[0].Error(); got != "m.rules:8:5: sid 8: bogus: unknown keyword" {
		t.Errorf("Error() = %q", got)
	}
}

func TestEscapedTrailingBlankSurvivesPrinting(t *testing.T) {
	r, err := Parse(`alert tcp any any -> any any (msg:abc\ ; sid:1;)`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Options[0].Value != `abc\ ` {
		t.Fatalf("value %q", r.Options[0].Value)
	}
	r2, err := Parse(r.String())
	if err != nil || !equalAST(r, r2) {
		t.Errorf("round trip of %q: %v", r.String(), err)
	}
}
