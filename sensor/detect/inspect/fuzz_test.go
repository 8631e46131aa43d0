package inspect

import (
	"sync"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

// fuzzRules are hand-written rules at the edges: extreme byte_* values,
// negative offsets, variables everywhere, every transform.
var fuzzRules = []string{
	`byte_jump:8,0,from_end,post_offset -9223372036854775807; isdataat:!1,relative;`,
	`byte_jump:8,0,multiplier 65535,align; content:"a"; distance:-100;`,
	`byte_jump:23,0,string,oct,from_beginning; content:"a"; within:1;`,
	`byte_extract:8,0,v; content:"a"; offset:v; depth:v; content:"b"; distance:v; within:v;`,
	`byte_extract:4,0,v,little; byte_test:v,>,v,v,relative; byte_jump:v,v,relative;`,
	`byte_math:bytes 10,offset 0,oper <<,rvalue 100,result r,string hex; isdataat:r,relative;`,
	`byte_extract:1,0,z; byte_math:bytes 1,offset -1,oper /,rvalue z,result r,relative;`,
	`content:"a"; content:"a"; distance:0; content:"a"; distance:-2; within:3; pcre:"/a+b/R"; byte_test:2,!&,1,-1,relative,string,hex;`,
	`content:"x"; base64_decode:bytes 100,offset 1,relative; base64_data; content:"a"; byte_jump:1,0,relative; isdataat:1,relative;`,
	`http.uri; to_lowercase; url_decode; compress_whitespace; strip_whitespace; dotprefix; content:"."; startswith; endswith;`,
	`http.header; header_lowercase; strip_pseudo_headers; xor:"ff00"; from_base64: bytes 5, offset 1, mode rfc2045; to_md5; bsize:16; content:"a";`,
	`http.uri; pcrexform:"/(?:x)?(a*)/"; to_sha1; content:"a"; endswith;`,
	`content:"|00|"; nocase; endswith; content:!"|00 00|"; distance:-1; within:2; isdataat:!0,relative;`,
}

var (
	fuzzOnce  sync.Once
	fuzzProgs []*Program
)

func fuzzPrograms(t testing.TB) []*Program {
	fuzzOnce.Do(func() {
		for _, opts := range fuzzRules {
			fuzzProgs = append(fuzzProgs, compileRule(t, opts).progs...)
		}
		for _, r := range loadETOpen(t).Rules {
			vm := NewVarMap()
			for _, b := range r.Buffers {
				if p, err := Compile(b, vm, Options{}); err == nil {
					fuzzProgs = append(fuzzProgs, p)
				}
			}
		}
	})
	return fuzzProgs
}

// FuzzMatch runs a program (a hand-written edge case or any buffer of ET
// Open, chosen by idx) on arbitrary data, with arbitrary variables: it
// must not panic, and Match must give the same answer twice.
func FuzzMatch(f *testing.F) {
	f.Add(uint32(0), uint64(0), []byte("GET /index.php HTTP/1.1\r\n"))
	f.Add(uint32(3), uint64(1<<63), []byte("\xff\xff\xff\xff\xff\xff\xff\xffab"))
	f.Add(uint32(8), uint64(5), []byte("xdGVzdA==\x01a"))
	f.Add(uint32(12), uint64(0), []byte("\x00"))
	f.Add(uint32(500), uint64(0), []byte("POST /wp-login.php HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, idx uint32, seed uint64, data []byte) {
		progs := fuzzPrograms(t)
		p := progs[int(idx%uint32(len(progs)))]
		s := NewScratch()
		var v Vars
		for i := range v {
			v[i] = seed * uint64(i+1)
		}
		v2 := v
		in := p.Transform(s, data)
		got := p.Match(s, &v, in)
		if again := p.Match(s, &v2, p.Transform(s, data)); again != got {
			t.Fatalf("program %d: Match not deterministic (%v then %v)", idx, got, again)
		}
		if b := s.Base64Data(); b != nil && len(b) > maxBase64 {
			t.Fatalf("base64 output %d bytes", len(b))
		}
	})
}

// FuzzRule compiles arbitrary rule options (whatever the parser accepts)
// and runs every buffer on arbitrary data.
func FuzzRule(f *testing.F) {
	for _, r := range fuzzRules {
		f.Add(r, []byte("abc\x00\x10 1234 dGVzdA== GET"))
	}
	f.Fuzz(func(t *testing.T, opts string, data []byte) {
		r, err := rules.Parse("alert tcp any any -> any any (" + opts + " sid:1;)")
		if err != nil {
			return
		}
		vm := NewVarMap()
		s := NewScratch()
		var v Vars
		for _, b := range r.Buffers {
			p, err := Compile(b, vm, Options{})
			if err != nil {
				return
			}
			p.Match(s, &v, p.Transform(s, data))
		}
	})
}
