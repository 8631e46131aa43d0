package pcre

import (
	"fmt"
	"strings"
	"testing"
)

// httpPayload returns an HTTP-like request of about size bytes; variant
// changes the path and header values.
func httpPayload(size, variant int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET /shop/item.php?id=%d&cat=books&ref=home HTTP/1.1\r\nHost: www.example%d.com\r\n", variant, variant%7)
	fmt.Fprintf(&b, "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0\r\n", 100+variant%20, 100+variant%20)
	b.WriteString("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n")
	for i := 0; b.Len() < size-4; i++ {
		fmt.Fprintf(&b, "X-Pad-%d: %s\r\n", i, strings.Repeat("abcdefghij", 1+(variant+i)%6))
	}
	b.WriteString("\r\n")
	return b.String()
}

var benchPatterns = []struct {
	name string
	expr string
	f    Flags
}{
	{"anchored", `^(GET|POST)\s+\/[^\s]*\.php\?id=\d+`, Flags{Caseless: true}},
	{"unanchored", `User-Agent\x3a[^\r\n]*(curl|wget)`, Flags{Caseless: true}},
	{"backref", `(['"])\s*(union|or)\s.*?\1`, Flags{Caseless: true}},
}

func BenchmarkMatch(b *testing.B) {
	var bufs [][]byte
	total := 0
	for i := 0; i < 64; i++ {
		p := []byte(httpPayload(1024, i))
		bufs = append(bufs, p)
		total += len(p)
	}
	for _, eng := range engines() {
		for _, p := range benchPatterns {
			b.Run(eng.String()+"/"+p.name, func(b *testing.B) {
				re, err := Compile(p.expr, p.f, Options{Engine: eng})
				if err != nil {
					b.Fatal(err)
				}
				s := re.NewScratch()
				b.SetBytes(int64(total / len(bufs)))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					re.Match(s, bufs[i%len(bufs)], 0)
				}
			})
		}
	}
}
