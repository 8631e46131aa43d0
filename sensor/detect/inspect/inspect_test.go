package inspect

import (
	"crypto/md5"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/rules"
)

// compiled is a rule compiled buffer by buffer, as the engine does.
type compiled struct {
	r     *rules.Rule
	progs []*Program
}

func compileRule(t testing.TB, opts string) *compiled {
	t.Helper()
	r, err := rules.Parse("alert tcp any any -> any any (" + opts + " sid:1;)")
	if err != nil {
		t.Fatalf("parse %q: %v", opts, err)
	}
	c := &compiled{r: r}
	vm := NewVarMap()
	for _, b := range r.Buffers {
		p, err := Compile(b, vm, Options{})
		if err != nil {
			t.Fatalf("compile %q buffer %s: %v", opts, b.Name, err)
		}
		c.progs = append(c.progs, p)
	}
	return c
}

// eval matches every buffer of the rule in order: data[name] is the
// buffer (the only value for a one-buffer rule), base64_data comes from
// the Scratch.
func (c *compiled) eval(s *Scratch, data map[string]string) bool {
	var v Vars
	for _, p := range c.progs {
		var in []byte
		if p.Name() == "base64_data" {
			in = s.Base64Data()
			if in == nil {
				return false
			}
		} else {
			d, ok := data[p.Name()]
			if !ok {
				return false
			}
			in = []byte(d)
		}
		if !p.Match(s, &v, p.Transform(s, in)) {
			return false
		}
	}
	return true
}

func pkt(s string) map[string]string { return map[string]string{"pkt_data": s} }

// byteExtractPayload is the packet of suricata-verify byte-extract-01
// (Suricata issue 3047).
const byteExtractPayload = "1026\x108 !34.\x11\x22\x33\x44\x55\x66.21"

var matchTests = []struct {
	name string
	rule string
	data string
	want bool
}{
	// content
	{"plain", `content:"abc";`, "xxabcxx", true},
	{"plain miss", `content:"abc";`, "xxabxcx", false},
	{"case", `content:"ABC";`, "xxabcxx", false},
	{"nocase", `content:"ABC"; nocase;`, "xxaBcxx", true},
	{"nocase hex", `content:"|41 FF|b"; nocase;`, "za\xffBz", true},
	{"nocase not latin1", `content:"|C0|"; nocase;`, "\xe0", false},
	{"negated", `content:!"abc";`, "xxabxcx", true},
	{"negated present", `content:!"abc";`, "xxabcx", false},
	{"empty buffer", `content:"a";`, "", false},
	{"empty negated", `content:!"a";`, "", true},
	{"offset", `content:"abc"; offset:2;`, "abcabc", true},
	{"offset miss", `content:"abc"; offset:4;`, "abcabc", false},
	{"depth", `content:"abc"; depth:3;`, "xabc", false},
	{"depth hit", `content:"abc"; depth:4;`, "xabc", true},
	{"depth from offset", `content:"abc"; offset:3; depth:3;`, "xxxabc", true},
	{"depth from offset miss", `content:"abc"; offset:2; depth:3;`, "xxxabc", false},
	{"offset past end", `content:"a"; offset:10;`, "aaa", false},
	{"negated offset window", `content:!"abc"; offset:1; depth:3;`, "abcx", true},
	{"startswith", `content:"GET"; startswith;`, "GET /", true},
	{"startswith miss", `content:"GET"; startswith;`, " GET /", false},
	{"endswith", `content:".exe"; endswith;`, "/a.exe", true},
	{"endswith miss", `content:".exe"; endswith;`, "/a.exe?", false},
	{"endswith twice", `content:"ab"; endswith;`, "ab-ab", true},
	{"startswith endswith", `content:"abc"; startswith; endswith;`, "abc", true},
	{"startswith endswith longer", `content:"abc"; startswith; endswith;`, "abcabc", false},
	{"negated endswith", `content:!".google.com"; endswith;`, "www.google.com.evil", true},
	{"negated endswith present", `content:!".google.com"; endswith;`, "www.google.com", false},
	{"endswith depth", `content:"ab"; depth:3; endswith;`, "xab", true},
	{"endswith depth short", `content:"ab"; depth:3; endswith;`, "xxab", false},

	// relative content (suricata-verify alert-distance-within-1)
	{"distance within", `content:"AllWorkAndNoPlayMakesWill"; content:"DullBoy"; distance:1; within:7;`, "AllWorkAndNoPlayMakesWill DullBoy", true},
	{"distance within miss", `content:"AllWorkAndNoPlayMakesWill"; content:"DullBoy"; distance:1; within:7;`, "AllWorkAndNoPlayMakesWill  DullBoy", false},
	{"distance 0", `content:"ab"; content:"cd"; distance:0;`, "abxxcd", true},
	{"distance order", `content:"cd"; content:"ab"; distance:0;`, "abxxcd", false},
	{"within only", `content:"ab"; content:"cd"; within:4;`, "abcd", true},
	{"within only too far", `content:"ab"; content:"cd"; within:4;`, "abxxxcd", false},
	{"negative distance", `content:"def"; content:"abc"; distance:-6; within:3;`, "abcdef", true},
	{"negative distance clamp", `content:"de"; content:"ab"; distance:-100;`, "abde", true},
	{"relative first", `content:"ab"; distance:1;`, "ab", false},
	{"relative first hit", `content:"ab"; distance:1;`, "xab", true},
	{"distance var", `byte_extract:1,0,d,string,dec; content:"x"; distance:d; within:1;`, "2abx", true},
	// backtracking
	{"backtrack", `content:"a"; content:"b"; distance:0; within:1;`, "a-a-ab", true},
	{"backtrack miss", `content:"a"; content:"b"; distance:0; within:1;`, "a-a-a-b", false},
	{"backtrack chain", `content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1;`, "ab-abx-abc", true},
	{"backtrack deep", `content:"k"; content:"a"; distance:0; within:1; content:"b"; distance:1; within:1;`, "ka-ka-kab-kaxb", true},
	{"backtrack with byte_test", `content:"v"; byte_test:1,=,0x39,0,relative; content:"!"; distance:1; within:1;`, "v1!v9x!v9!", true},
	{"backtrack isdataat", `content:"ab"; isdataat:!1,relative;`, "abxxab", true},
	{"backtrack isdataat miss", `content:"ab"; isdataat:!1,relative;`, "abxxabx", false},
	{"negated relative", `content:"foo"; content:!"bar"; within:6;`, "foo bar", false},
	{"negated relative retry", `content:"foo"; content:!"bar"; within:6;`, "foo bar foo baz", true},
	{"negated relative outside", `content:"foo"; content:!"bar"; distance:0; within:3;`, "foo bar", true},
	// The relative b flags the negated content before it, which never
	// retries: a is not searched again (Suricata's RELATIVE_NEXT).
	{"negated between", `content:"a"; content:!"zz"; content:"b"; distance:0; within:1;`, "a-ab", false},
	// An absolute content that fails stops the retries of earlier ones.
	{"absolute fails", `content:"a"; content:"b"; distance:0; within:1; content:"q";`, "ab", false},
	// Two absolute contents: no backtracking link.
	{"two absolute", `content:"b"; content:"a";`, "ab", true},

	// pcre
	{"pcre", `pcre:"/a.c/";`, "xxabcx", true},
	{"pcre miss", `pcre:"/a.c/";`, "xxacx", false},
	{"pcre negated", `pcre:!"/a.c/";`, "xxacx", true},
	{"pcre i", `pcre:"/ABC/i";`, "abc", true},
	{"pcre relative anchor", `content:"foo"; pcre:"/^bar/R";`, "foobar", true},
	{"pcre relative anchor miss", `content:"foo"; pcre:"/^bar/R";`, "foo bar", false},
	{"pcre relative retry", `content:"foo"; pcre:"/^bar/R";`, "foo foobar", true},
	{"pcre sets position", `pcre:"/a./"; content:"x"; distance:0; within:1;`, "abacaxx", true},
	{"pcre sets position miss", `pcre:"/a./"; content:"x"; distance:0; within:1;`, "abacax", false},
	{"pcre negated relative", `content:"foo"; pcre:!"/^bar/R";`, "foobaz", true},
	{"pcre buffer end", `content:"foo"; pcre:"/^$/R";`, "xfoo", true},

	// isdataat
	{"isdataat", `isdataat:3;`, "abcd", true},
	{"isdataat edge", `isdataat:4;`, "abcd", false},
	{"isdataat negated", `isdataat:!4;`, "abcd", true},
	{"isdataat relative", `content:"ab"; isdataat:2,relative;`, "abcd", true},
	{"isdataat relative edge", `content:"ab"; isdataat:3,relative;`, "abcd", false},
	{"isdataat relative negated", `content:"cd"; isdataat:!1,relative;`, "abcd", true},

	// bsize (suricata-verify detect-bsize-01)
	{"bsize eq", `http.uri; content:"abc"; bsize:3;`, "abc", true},
	{"bsize lt", `http.uri; content:"abcdefgh123456"; bsize:<20;`, "abcdefgh123456", true},
	{"bsize range", `http.uri; content:"abcdefgh123456"; bsize:15<>25;`, "abcdefgh123456", false},
	{"bsize range in", `http.uri; content:"abcdefgh123456"; bsize:10<>25;`, "abcdefgh123456", true},
	{"bsize gt", `http.uri; content:"/index.php"; bsize:>1024;`, "/index.php", false},
	{"bsize ne", `http.uri; content:"a"; bsize:!=2;`, "a", true},

	// byte_test (suricata-verify detect-bytetest-01)
	{"byte_test bitmask =", `content:"HTTP"; byte_test:1,=,0x9,0, bitmask 0xf8;`, "HTTP/1.1 400", true},
	{"byte_test bitmask >", `content:"HTTP"; byte_test:1,>,0x8,0, bitmask 0xf8;`, "HTTP/1.1 400", true},
	{"byte_test bitmask <", `content:"HTTP"; byte_test:1,<,0xa,0, bitmask 0xf8;`, "HTTP/1.1 400", true},
	{"byte_test bitmask !=", `content:"HTTP"; byte_test:1,!=,0x48,0, bitmask 0xf8;`, "HTTP/1.1 400", true},
	{"byte_test bitmask 2", `content:"HTTP"; byte_test:2,=,0x90a,0, bitmask 0xf8f8;`, "HTTP/1.1 400", true},
	{"byte_test big", `byte_test:2,=,0x0102,0;`, "\x01\x02", true},
	{"byte_test little", `byte_test:2,=,0x0201,0,little;`, "\x01\x02", true},
	{"byte_test 4 bytes", `byte_test:4,>,1000,1;`, "x\x00\x00\x10\x00", true},
	{"byte_test out of buffer", `byte_test:4,>,0,1;`, "x\x00\x00\x10", false},
	{"byte_test negated out of buffer", `byte_test:4,!=,0,1;`, "x\x00", false},
	{"byte_test &", `byte_test:1,&,0x80,0;`, "\x81", true},
	{"byte_test & miss", `byte_test:1,&,0x80,0;`, "\x7f", false},
	{"byte_test ^", `byte_test:1,^,0x7f,0;`, "\x7f", false},
	{"byte_test string dec", `byte_test:3,>,99,0,string,dec;`, "100", true},
	{"byte_test string partial", `byte_test:4,=,12,0,string,dec;`, "12ab", true},
	{"byte_test string none", `byte_test:3,!=,5,0,string,dec;`, "abc", false},
	{"byte_test string hex", `byte_test:2,=,255,0,string,hex;`, "ff", true},
	{"byte_test string oct", `byte_test:3,=,8,0,string,oct;`, "010", true},
	{"byte_test relative", `content:"ab"; byte_test:1,=,0x63,0,relative;`, "abc", true},
	{"byte_test relative negative offset", `content:"ab"; byte_test:1,=,0x61,-2,relative;`, "abc", true},
	{"byte_test relative before start", `content:"ab"; byte_test:1,=,0x61,-3,relative;`, "abc", false},
	{"byte_test relative at end", `content:"bc"; byte_test:1,>,0,0,relative;`, "abc", false},
	{"byte_test var value", `byte_extract:1,0,v; byte_test:1,=,v,1;`, "\x05\x05", true},
	{"byte_test var value miss", `byte_extract:1,0,v; byte_test:1,=,v,1;`, "\x05\x06", false},

	// byte_jump (suricata-verify detect-bytejump-01 and more)
	{"byte_jump from_end", `content:"Question?"; byte_jump:2,0,relative,string,from_end,post_offset -26; content:"pandemic"; distance:0;`, "Question?13When will the pandemic end?", true},
	{"byte_jump zero string", `content:"Question?"; byte_jump:0,0,relative,string,from_end,post_offset -3; content:"pandemic"; distance:0;`, "Question?13When will the pandemic end?", false},
	{"byte_jump", `byte_jump:1,0; content:"x"; within:1;`, "\x03abcx", true},
	{"byte_jump exact", `byte_jump:1,0; content:"x"; within:1;`, "\x02abcx", false},
	{"byte_jump relative", `content:"L"; byte_jump:1,0,relative; content:"z"; within:1;`, "L\x02abz", true},
	{"byte_jump align", `byte_jump:1,0,align; content:"x"; within:1;`, "\x01abcdx", true},
	{"byte_jump multiplier", `byte_jump:1,0,multiplier 2; content:"x"; within:1;`, "\x02abcdx", true},
	{"byte_jump from_beginning", `content:"zz"; byte_jump:1,0,relative,from_beginning; content:"q"; within:1;`, "zz\x05xxq", true},
	{"byte_jump post_offset", `byte_jump:1,0,post_offset 2; content:"x"; within:1;`, "\x01abcx", true},
	// Suricata refuses a jump to the very end of the buffer.
	{"byte_jump to end", `byte_jump:1,0; isdataat:!1,relative;`, "\x02ab", false},
	{"byte_jump to last byte", `byte_jump:1,0; isdataat:!1,relative;`, "\x01ab", false},
	{"byte_jump to last byte data", `byte_jump:1,0; isdataat:1,relative; isdataat:!2,relative;`, "\x01ab", true},
	{"byte_jump past end", `byte_jump:1,0; isdataat:!1,relative;`, "\x03ab", false},
	{"byte_jump before start", `byte_jump:1,0,post_offset -10; content:"j"; within:1;`, "\x01j", false},
	{"byte_jump before start clamps", `byte_jump:1,0,post_offset -10; content:"j"; within:2;`, "\x01j", true},
	{"byte_jump little", `byte_jump:2,0,little; content:"y"; within:1;`, "\x01\x00ay", true},
	{"byte_jump bitmask", `byte_jump:1,0,bitmask 0xf0; content:"y"; within:1;`, "\x1fay", true},

	// byte_extract (suricata-verify byte-extract-01)
	{"byte_extract 1", `byte_extract:2,0,two1,string,dec; content:"|33 34|"; offset:0; depth:two1;`, byteExtractPayload, true},
	{"byte_extract 2", `byte_extract:1,2,two2,string,dec; content:"|33 34|"; offset:8; depth:two2;`, byteExtractPayload, true},
	{"byte_extract 3", `byte_extract:1,2,two3,string,dec; byte_extract:1,5,eight,string,dec; content:"|33 34|"; offset:eight; depth:two3;`, byteExtractPayload, true},
	{"byte_extract 4", `byte_extract:1,3,sixd1,string,dec; content:"|31 30|"; content:"|33 34|"; distance:sixd1;`, byteExtractPayload, true},
	{"byte_extract 5", `byte_extract:1,2,twow,string,dec; byte_extract:1,3,sixd2,string,dec; content:"|31 30|"; content:"|33 34|"; distance:sixd2; within:twow;`, byteExtractPayload, true},
	{"byte_extract 6", `content:"|31 30|"; byte_extract:1,6,three1,relative,string,dec; content:"|36 10|"; offset:three1; depth:2;`, byteExtractPayload, true},
	{"byte_extract 7", `byte_extract:1,2,dectwo1,string,dec; content:"|32|"; offset:dectwo1; depth:1;`, byteExtractPayload, true},
	{"byte_extract 8", `byte_extract:1,2,dectwo2,string,dec; content:"|32|"; offset:dectwo2;`, byteExtractPayload, true},
	{"byte_extract 9", `byte_extract:1,4,hexten; byte_extract:1,0,decone,string,dec; content:"|66|"; offset:hexten; depth:decone;`, byteExtractPayload, true},
	{"byte_extract 10", `byte_extract:1,4,two4; content:"|31|"; depth:1; content:"|2e|"; distance:two4; within:1;`, byteExtractPayload, true},
	{"byte_extract depth short", `byte_extract:1,0,n,string,dec; content:"abc"; depth:n;`, "3abc", false},
	{"byte_extract sets position", `byte_extract:2,1,n; content:"q"; distance:0; within:1;`, "x\x00\x01q", true},
	{"byte_extract multiplier align", `byte_extract:1,0,n,multiplier 3,align 4; content:"z"; offset:n; depth:1;`, "\x01234z", true},
	{"byte_extract out of buffer", `byte_extract:4,0,n; content:"a";`, "abc", false},

	// byte_math
	{"byte_math +", `byte_math:bytes 1,offset 0,oper +,rvalue 2,result r; content:"k"; offset:r; depth:1;`, "\x01xxk", true},
	{"byte_math -", `byte_math:bytes 1,offset 0,oper -,rvalue 2,result r; content:"k"; offset:r; depth:1;`, "\x05xxk", true},
	{"byte_math *", `byte_math:bytes 1,offset 0,oper *,rvalue 3,result r; content:"k"; offset:r; depth:1;`, "\x01xxk", true},
	{"byte_math /", `byte_math:bytes 1,offset 0,oper /,rvalue 2,result r; content:"k"; offset:r; depth:1;`, "\x06xxk", true},
	{"byte_math / 0", `byte_extract:1,0,z; byte_math:bytes 1,offset 1,oper /,rvalue z,result r; content:"k";`, "\x00\x06k", false},
	{"byte_math <<", `byte_math:bytes 1,offset 0,oper <<,rvalue 1,result r; content:"k"; offset:r; depth:1;`, "\x01xk", true},
	{"byte_math >>", `byte_math:bytes 1,offset 0,oper >>,rvalue 2,result r; content:"k"; offset:r; depth:1;`, "\x0cxxk", true},
	{"byte_math string relative", `content:"n="; byte_math:bytes 2,offset 0,oper +,rvalue 2,result r,relative,string dec; content:"k"; offset:r; depth:1;`, "n=04xxk", true},

	// base64
	{"base64", `content:"x="; base64_decode:relative; base64_data; content:"test";`, "x=dGVzdA==", true},
	{"base64 miss", `content:"x="; base64_decode:relative; base64_data; content:"tent";`, "x=dGVzdA==", false},
	{"base64 offset bytes", `base64_decode:bytes 8,offset 2; base64_data; content:"testin"; bsize:6;`, "--dGVzdGluZw", true},
	{"base64 unpadded", `base64_decode; base64_data; content:"test"; endswith;`, "dGVzdA", true},
	{"base64 stops at invalid", `base64_decode; base64_data; content:"ing";`, "dGVz dGluZw==", false},
	{"base64 nothing", `base64_decode; base64_data; isdataat:!0;`, "!!!!", false},
	// An absolute content failing in base64_data ends the inspection
	// (the discontinue flag is shared): v= is not retried ...
	{"base64 absolute failure", `content:"v="; base64_decode:relative; base64_data; content:"test";`, "v=Zm9v v=dGVzdA==", false},
	// ... a relative one lets v= be retried.
	{"base64 retries the content", `content:"v="; base64_decode:relative; base64_data; content:"test"; distance:0;`, "v=Zm9v v=dGVzdA==", true},
}

func TestMatch(t *testing.T) {
	s := NewScratch()
	for _, tt := range matchTests {
		t.Run(tt.name, func(t *testing.T) {
			c := compileRule(t, tt.rule)
			data := pkt(tt.data)
			for _, p := range c.progs {
				if p.Name() != "pkt_data" && p.Name() != "base64_data" {
					data = map[string]string{p.Name(): tt.data}
				}
			}
			if got := c.eval(s, data); got != tt.want {
				t.Errorf("%s on %q = %v, want %v", tt.rule, tt.data, got, tt.want)
			}
		})
	}
}

func TestVarsAcrossBuffers(t *testing.T) {
	c := compileRule(t, `http.header; byte_extract:1,0,n,string,dec; http.uri; content:"a"; offset:n; depth:1;`)
	s := NewScratch()
	if !c.eval(s, map[string]string{"http.header": "3", "http.uri": "xxxa"}) {
		t.Error("variable from http.header not seen by http.uri")
	}
	if c.eval(s, map[string]string{"http.header": "2", "http.uri": "xxxa"}) {
		t.Error("matched with the wrong offset")
	}
}

func TestRecursionLimit(t *testing.T) {
	var opts strings.Builder
	opts.WriteString(`content:"a";`)
	for i := 0; i < 12; i++ {
		opts.WriteString(` content:"a"; distance:0;`)
	}
	opts.WriteString(` content:"b"; distance:0;`)
	c := compileRule(t, opts.String())
	s := NewScratch()
	data := strings.Repeat("a", 2000)
	if c.eval(s, pkt(data)) {
		t.Fatal("matched without a b")
	}
	if s.Counters.RecursionLimit != 1 {
		t.Errorf("RecursionLimit = %d, want 1", s.Counters.RecursionLimit)
	}
	if !c.eval(s, pkt(strings.Repeat("a", 13)+"b")) {
		t.Error("no match on the matching input")
	}
}

func TestTransforms(t *testing.T) {
	md := md5.Sum([]byte("abc"))
	sh := sha256.Sum256([]byte("abc"))
	tests := []struct {
		xf   string
		in   string
		want string
	}{
		{"to_lowercase;", "AbC\xc0", "abc\xc0"},
		{"to_uppercase;", "AbC\xe0", "ABC\xe0"},
		{"strip_whitespace;", " a \t\r\nb\v\fc ", "abc"},
		{"compress_whitespace;", "a  b\t\t c\r\n", "a b\tc\r"},
		{"dotprefix;", "example.com", ".example.com"},
		{"url_decode;", "a%41+%2x%4", "aA %2x%4"},
		{"to_md5;", "abc", string(md[:])},
		{"to_sha256;", "abc", string(sh[:])},
		{"header_lowercase;", "Host: A\r\n:Method: GET\r\nX-Y: Z\r\n", "host: A\r\n:method: GET\r\nx-y: Z\r\n"},
		{"strip_pseudo_headers;", ":method: GET\r\nhost: a\r\n:path: /\r\n", "host: a\r\n"},
		{`xor:"0102";`, "\x01\x02\x03", "\x00\x00\x02"},
		{"from_base64;", "dGVzdA==", "test"},
		{"from_base64: offset 2, bytes 8;", "xxdGVzdGluZw", "testin"},
		{"from_base64: mode rfc2045;", "dGVz\r\ndA==", "test"},
		{"from_base64: mode strict;", "dGVz\r\ndA==", ""},
		{"from_base64;", "dGVz\r\ndA==", "tes"},
		{`pcrexform:"/u=([^&]*)/";`, "a=1&u=bob&c=2", "bob"},
		{`pcrexform:"/u=([^&]*)/";`, "a=1", "a=1"},
		{"to_lowercase; dotprefix; to_uppercase;", "Ab", ".AB"},
	}
	s := NewScratch()
	for _, tt := range tests {
		c := compileRule(t, "http.uri; "+tt.xf+` content:"x";`)
		p := c.progs[0]
		if !p.HasTransforms() || p.TransformKey() == "" {
			t.Errorf("%s: no transforms compiled", tt.xf)
		}
		if got := string(p.Transform(s, []byte(tt.in))); got != tt.want {
			t.Errorf("%s on %q = %q, want %q", tt.xf, tt.in, got, tt.want)
		}
	}
}

func TestTransformKeyAndLifetime(t *testing.T) {
	a := compileRule(t, `http.uri; to_lowercase; content:"x";`).progs[0]
	b := compileRule(t, `http.uri; to_lowercase; content:"y";`).progs[0]
	c := compileRule(t, `http.uri; to_uppercase; content:"y";`).progs[0]
	if a.TransformKey() != b.TransformKey() || a.TransformKey() == c.TransformKey() {
		t.Errorf("keys %q %q %q", a.TransformKey(), b.TransformKey(), c.TransformKey())
	}
	s := NewScratch()
	la := a.Transform(s, []byte("AbC"))
	uc := c.Transform(s, []byte("AbC"))
	if string(la) != "abc" || string(uc) != "ABC" {
		t.Errorf("a result %q overwritten by another key (c %q)", la, uc)
	}
	n := compileRule(t, `http.uri; content:"x";`).progs[0]
	in := []byte("X")
	if out := n.Transform(s, in); &out[0] != &in[0] || n.HasTransforms() || n.TransformKey() != "" {
		t.Error("no transforms: Transform must return its input")
	}
}

func TestCompileRefuses(t *testing.T) {
	tests := []struct{ rule, want string }{
		{`byte_test:2,=,1,0,dce;`, "byte_test: dce"},
		{`byte_jump:2,0,dce;`, "byte_jump: dce"},
		{`http.uri; luaxform:x.lua; content:"a";`, "luaxform"},
		{`dns.query; domain; content:"a";`, "domain"},
		{`http.uri; content:"a"; dataset:isset,x;`, "dataset"},
		{`http.uri; pcrexform:"/abc/"; content:"a";`, "no capture group"},
	}
	for _, tt := range tests {
		r, err := rules.Parse("alert tcp any any -> any any (" + tt.rule + " sid:1;)")
		if err != nil {
			t.Fatalf("parse %q: %v", tt.rule, err)
		}
		vm := NewVarMap()
		var cerr error
		for _, b := range r.Buffers {
			if _, cerr = Compile(b, vm, Options{}); cerr != nil {
				break
			}
		}
		if cerr == nil || !strings.Contains(cerr.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.rule, cerr, tt.want)
		}
	}
}

func TestTooManyVars(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= MaxVars; i++ {
		b.WriteString("byte_extract:1,0,v")
		b.WriteByte(byte('a' + i))
		b.WriteString("; ")
	}
	r, err := rules.Parse("alert tcp any any -> any any (" + b.String() + "sid:1;)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(r.Buffers[0], NewVarMap(), Options{}); err == nil || !strings.Contains(err.Error(), "byte_extract") {
		t.Errorf("error %v, want a byte_extract variable limit", err)
	}
}

func TestBase64DataLifetime(t *testing.T) {
	c := compileRule(t, `content:"x="; base64_decode:relative;`)
	s := NewScratch()
	var v Vars
	if !c.progs[0].Match(s, &v, []byte("x=dGVzdA")) || string(s.Base64Data()) != "test" {
		t.Fatalf("Base64Data = %q, want test", s.Base64Data())
	}
	if c.progs[0].Match(s, &v, []byte("y=dGVzdA")) || s.Base64Data() != nil {
		t.Errorf("Base64Data after no match = %q, want nil", s.Base64Data())
	}
}

func TestZeroAllocs(t *testing.T) {
	re := `pcre:"/^[a-z]+\.php/R";`
	if !pcre.HavePCRE2() {
		// The regexp2 fallback allocates per match (its own
		// documented cost); the rest of the matcher must not.
		t.Log("no PCRE2 in this build: checking allocations without the pcre")
		re = `content:"index.php"; distance:0;`
	}
	c := compileRule(t, `content:"GET"; startswith; content:"/x"; distance:0; `+re+` byte_test:1,>,0x20,0,relative; isdataat:5,relative; content:!"evil"; content:"Host|3a| "; nocase; base64_decode:bytes 8,relative; base64_data; content:"te";`)
	x := compileRule(t, `http.uri; to_lowercase; url_decode; to_sha256; content:"x";`).progs[0]
	s := NewScratch()
	data := []byte("GET /x/a/xindex.php?q=1 HTTP/1.1\r\nhost: dGVzdA==\r\n\r\n")
	miss := []byte("GET /y HTTP/1.1\r\n\r\n")
	var v Vars
	if !c.progs[0].Match(s, &v, data) {
		t.Fatal("no match")
	}
	n := testing.AllocsPerRun(200, func() {
		c.progs[0].Match(s, &v, data)
		c.progs[0].Match(s, &v, miss)
		x.Transform(s, data)
	})
	if n != 0 {
		t.Errorf("%v allocs per run, want 0", n)
	}
}
