package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestBadRules(t *testing.T) {
	const hdr = "alert tcp any any -> any any "
	tests := []struct {
		name    string
		rule    string
		col     int
		sid     uint32
		keyword string
		msg     string // substring
	}{
		{"unknown keyword", hdr + `(msg:"x"; frobnicate:1; sid:10;)`, 40, 10, "frobnicate", "unknown keyword"},
		{"bad sid", hdr + `(msg:"x"; sid:abc;)`, 40, 0, "sid", "unsigned 32-bit"},
		{"sid zero", hdr + `(sid:0;)`, 31, 0, "sid", "greater than 0"},
		{"missing sid", hdr + `(msg:"x";)`, 39, 0, "sid", "missing sid"},
		{"modifier without content", hdr + `(msg:"x"; nocase; sid:11;)`, 40, 11, "nocase", "no content before"},
		{"distance without content", hdr + `(distance:1; sid:12;)`, 31, 12, "distance", "no content before"},
		{"legacy modifier without content", hdr + `(http_uri; sid:13;)`, 31, 13, "http_uri", "no content before"},
		{"pcre no delimiter", hdr + `(pcre:"abc"; sid:14;)`, 31, 14, "pcre", "must start with '/'"},
		{"pcre unclosed", hdr + `(pcre:"/abc"; sid:15;)`, 31, 15, "pcre", "missing closing '/'"},
		{"pcre bad flag", hdr + `(pcre:"/abc/iq"; sid:16;)`, 31, 16, "pcre", `unknown flag 'q'`},
		{"pcre two buffers", hdr + `(pcre:"/abc/UH"; sid:17;)`, 31, 17, "pcre", "two buffers"},
		{"bad hex", hdr + `(content:"|4G|"; sid:18;)`, 31, 18, "content", "bad hex digit"},
		{"odd hex", hdr + `(content:"|414|"; sid:19;)`, 31, 19, "content", "odd number of hex digits"},
		{"unterminated hex", hdr + `(content:"|41"; sid:20;)`, 31, 20, "content", "unterminated"},
		{"bad escape", hdr + `(content:"a\x"; sid:21;)`, 31, 21, "content", `bad escape \x`},
		{"empty content", hdr + `(content:""; sid:22;)`, 31, 22, "content", "empty content"},
		{"depth shorter than content", hdr + `(content:"abcd"; depth:2; sid:23;)`, 47, 23, "depth", "shorter than the content"},
		{"relative after absolute", hdr + `(content:"a"; offset:1; within:5; sid:24;)`, 54, 24, "within", "can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content."},
		{"distance after offset", hdr + `(content:"AA"; content:"BB"; offset:20; distance:5; sid:242;)`, 70, 242, "distance", "can't use a relative keyword like within/distance"},
		{"absolute after relative", hdr + `(content:"a"; content:"b"; distance:1; depth:5; sid:241;)`, 69, 241, "depth", "can't use a relative keyword like within/distance"},
		{"unknown byte var", hdr + `(content:"a"; offset:nosuch; sid:25;)`, 44, 25, "offset", `unknown variable "nosuch"`},
		{"byte_test bad op", hdr + `(byte_test:2,~,1,0; sid:26;)`, 31, 26, "byte_test", "bad operator"},
		{"byte_test few fields", hdr + `(byte_test:2,=,1; sid:27;)`, 31, 27, "byte_test", "want bytes,operator,value,offset"},
		{"byte_jump bad option", hdr + `(byte_jump:2,0,sideways; sid:28;)`, 31, 28, "byte_jump", `unknown option "sideways"`},
		{"byte_math missing result", hdr + `(byte_math:bytes 1,offset 0,oper +,rvalue 1; sid:29;)`, 31, 29, "byte_math", "missing required result"},
		{"flow conflict", hdr + `(flow:to_server,to_client; sid:30;)`, 31, 30, "flow", "to_server and to_client"},
		{"flow unknown", hdr + `(flow:sideways; sid:31;)`, 31, 31, "flow", `unknown flow option "sideways"`},
		{"flowbits bad cmd", hdr + `(flowbits:frob,x; sid:32;)`, 31, 32, "flowbits", "unknown command"},
		{"flowbits no name", hdr + `(flowbits:set; sid:33;)`, 31, 33, "flowbits", "needs a name"},
		{"xbits no track", hdr + `(xbits:set,x; sid:34;)`, 31, 34, "xbits", "needs track"},
		{"threshold missing", hdr + `(threshold:type limit,track by_src,count 1; sid:35;)`, 31, 35, "threshold", "missing seconds"},
		{"threshold bad track", hdr + `(threshold:type limit,track by_moon,count 1,seconds 1; sid:36;)`, 31, 36, "threshold", "bad track"},
		{"bsize without buffer", hdr + `(bsize:10; sid:37;)`, 31, 37, "bsize", "sticky buffer"},
		{"transform without buffer", hdr + `(to_lowercase; sid:38;)`, 31, 38, "to_lowercase", "sticky buffer"},
		{"sticky with value", hdr + `(http.uri:1; sid:39;)`, 31, 39, "http.uri", "takes no value"},
		{"bad classtype", hdr + `(classtype:bad class; sid:40;)`, 31, 40, "classtype", "bad classtype"},
		{"bad priority", hdr + `(priority:0; sid:41;)`, 31, 41, "priority", "1-255"},
		{"unterminated option", hdr + `(msg:"x"; sid:42)`, 40, 42, "sid", "not terminated"},
		{"unknown action", `alarm tcp any any -> any any (sid:43;)`, 1, 43, "", `unknown action "alarm"`},
		{"unknown protocol", `alert tcpx any any -> any any (sid:44;)`, 7, 44, "", `unknown protocol "tcpx"`},
		{"bad direction", `alert tcp any any <- any any (sid:45;)`, 19, 45, "", "bad direction"},
		{"bad address", `alert tcp 10.0.0.300 any -> any any (sid:46;)`, 11, 46, "", "bad address"},
		{"bad port", `alert tcp any 70000 -> any any (sid:47;)`, 15, 47, "", "bad port"},
		{"unclosed list", `alert tcp [1.1.1.1,2.2.2.2 any -> any any (sid:48;)`, 1, 48, "", "fields"},
		{"no options", `alert tcp any any -> any any`, 1, 0, "", "no options"},
		{"no closing paren", hdr + `(sid:49;`, 38, 0, "", "does not end with ')'"},
		{"undefined var", `alert tcp $NOPE any -> any any (sid:50;)`, 11, 50, "", "undefined address variable $NOPE"},
		{"undefined port var", `alert tcp any $NOPE_PORTS -> any any (sid:51;)`, 15, 51, "", "undefined port variable $NOPE_PORTS"},
		{"port var as address", `alert tcp any any -> $HTTP_PORTS any (sid:52;)`, 22, 52, "", "is a port group"},
		{"fast_pattern twice", hdr + `(content:"a"; fast_pattern; content:"b"; fast_pattern; sid:53;)`, 71, 53, "fast_pattern", "at most one"},
		{"replace length", hdr + `(content:"ab"; replace:"a"; sid:54;)`, 45, 54, "replace", "same length"},
		{"sid twice", hdr + `(sid:56; msg:"x"; sid:56;)`, 48, 56, "sid", "sid given twice (first at 1:31)"},
		{"msg twice", hdr + `(msg:"a"; msg:"b"; sid:57;)`, 40, 57, "msg", "msg given twice"},
		{"dsize with app-layer", hdr + `(dsize:10; http.uri; content:"a"; sid:58;)`, 31, 58, "dsize", "app-layer buffer http.uri"},
		{"bad tcp flags", hdr + `(flags:SX; sid:59;)`, 31, 59, "flags", "unknown flag 'X'"},
		{"bad ip_proto", hdr + `(ip_proto:300; sid:60;)`, 31, 60, "ip_proto", "out of range"},
		{"bad app-layer-protocol", hdr + `(app-layer-protocol:gopher; sid:61;)`, 31, 61, "app-layer-protocol", "unknown app-layer protocol"},
		{"two legacy modifiers", hdr + `(content:"a"; http_uri; http_header; sid:62;)`, 54, 62, "http_header", "already moved to http.uri"},
		{"legacy modifier in sticky buffer", hdr + `(http.uri; content:"a"; http_header; sid:63;)`, 54, 63, "http_header", "sticky buffer http.uri"},
		{"empty sticky buffer", hdr + `(content:"a"; http.uri; sid:64;)`, 44, 64, "http.uri", "no match follows"},
		{"upper case http.host", hdr + `(http.host; content:"Evil.com"; sid:65;)`, 42, 65, "content", "upper case in an http.host pattern"},
		{"buffer conflicts with protocol", `alert http any any -> any any (dns.query; content:"a"; sid:66;)`, 32, 66, "dns.query", "dns buffer conflicts with protocol http"},
		{"buffers conflict", hdr + `(tls.sni; content:"a"; http.uri; content:"b"; sid:67;)`, 53, 67, "http.uri", "http buffer conflicts with buffer tls.sni"},
		{"isdataat bad", hdr + `(isdataat:x1y; sid:55;)`, 31, 55, "isdataat", "unknown variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet()
			errs := s.Load(strings.NewReader(tt.rule+"\n"), "bad.rules", LoadOptions{Vars: DefaultVars()})
			if len(s.Rules) != 0 || len(errs) != 1 {
				t.Fatalf("loaded %d rules, %d errors (%v); want 0 and 1", len(s.Rules), len(errs), errs)
			}
			e := errs[0]
			if e.File != "bad.rules" || e.Line != 1 || e.Col != tt.col || e.SID != tt.sid || e.Keyword != tt.keyword || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got  %s (col %d sid %d keyword %q)\nwant col %d sid %d keyword %q msg containing %q",
					e, e.Col, e.SID, e.Keyword, tt.col, tt.sid, tt.keyword, tt.msg)
			}
		})
	}
}

func TestDuplicateSID(t *testing.T) {
	src := "alert tcp any any -> any any (sid:1; rev:1;)\nalert tcp any any -> any any (sid:1; rev:2;)\nalert tcp any any -> any any (gid:2; sid:1;)\n"
	s := NewSet()
	errs := s.Load(strings.NewReader(src), "dup.rules", LoadOptions{})
	if len(s.Rules) != 2 || len(errs) != 1 {
		t.Fatalf("loaded %d, errors %v; want 2 and one duplicate", len(s.Rules), errs)
	}
	if e := errs[0]; e.Line != 2 || e.Col != 31 || e.SID != 1 || e.Keyword != "sid" || !strings.Contains(e.Msg, "duplicate sid 1:1, first defined at dup.rules:1") {
		t.Errorf("got %v", e)
	}
	if s.Lookup(2, 1) == nil || s.Lookup(1, 1).Rev != 1 {
		t.Errorf("lookup: gid 2 %v, gid 1 rev %d", s.Lookup(2, 1), s.Lookup(1, 1).Rev)
	}
}

func TestVarCycles(t *testing.T) {
	v := Vars{AddressGroups: map[string]string{"A": "[$B,$B]", "B": "[$C,$C]", "C": "$A", "OK": "[$D,$D]", "D": "[$E,$E]", "E": "1.2.3.4"}}
	if err := v.CheckAddress(Address{Kind: AddrVar, Var: "A"}); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("cycle: got %v", err)
	}
	if err := v.CheckAddress(Address{Kind: AddrVar, Var: "OK"}); err != nil {
		t.Errorf("diamond: %v", err)
	}
}

func TestCompilePCREHook(t *testing.T) {
	boom := errors.New("missing )")
	s := NewSet()
	errs := s.Load(strings.NewReader(`alert tcp any any -> any any (content:"a"; pcre:"/(a/"; sid:1;)`+"\n"), "p.rules",
		LoadOptions{CompilePCRE: func(p *PCRE) error {
			if strings.Count(p.Pattern, "(") != strings.Count(p.Pattern, ")") {
				return boom
			}
			return nil
		}})
	if len(errs) != 1 || errs[0].Keyword != "pcre" || errs[0].Col != 44 || !strings.Contains(errs[0].Msg, "missing )") {
		t.Errorf("got %v", errs)
	}
}

func TestErrorListFormatting(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Error("empty list is an error")
	}
	l = append(l, &Error{File: "f", Line: 2, Col: 3, SID: 4, Keyword: "k", Msg: "m"}, &Error{Msg: "n"})
	if got := l.Error(); got != "f:2:3: sid 4: k: m (and 1 more errors)" {
		t.Errorf("got %q", got)
	}
}
