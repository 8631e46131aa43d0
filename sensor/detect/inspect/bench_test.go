package inspect

import (
	"strings"
	"testing"
)

// benchRule is shaped like an ET Open web rule: an anchored method, a
// relative URI content, a relative pcre and a negated content.
const benchRule = `content:"POST"; startswith; content:"/wp-admin/"; distance:0; content:"action="; nocase; distance:0; pcre:"/^[a-z_]{4,32}&/R"; content:!"nonce=";`

func benchPayload(action string) []byte {
	var b strings.Builder
	b.WriteString("POST /blog/wp-admin/admin-ajax.php?x=1&action=" + action + "&id=7 HTTP/1.1\r\n")
	b.WriteString("Host: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n")
	for b.Len() < 1000 {
		b.WriteString("X-Pad: abcdefghijklmnopqrstuvwxyz0123456789\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func BenchmarkMatch(b *testing.B) {
	p := compileRule(b, benchRule).progs[0]
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"match", benchPayload("upload_file"), true},
		{"nomatch_pcre", benchPayload("UPLOAD"), false},
		{"nomatch_content", []byte(strings.Replace(string(benchPayload("x")), "action=", "act=", 1)), false},
		// Many candidates for the first relative content, none with a
		// match after it: the backtracking path.
		{"backtrack", []byte("POST " + strings.Repeat("/wp-admin/ ", 90)), false},
	} {
		s := NewScratch()
		var v Vars
		if got := p.Match(s, &v, tc.data); got != tc.want {
			b.Fatalf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				p.Match(s, &v, tc.data)
			}
		})
	}
}

func BenchmarkTransform(b *testing.B) {
	p := compileRule(b, `http.uri; url_decode; to_lowercase; compress_whitespace; content:"x";`).progs[0]
	data := benchPayload("Upload%20File")
	s := NewScratch()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p.Transform(s, data)
	}
}
