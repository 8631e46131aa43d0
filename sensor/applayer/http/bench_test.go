package http

import (
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/flow"
)

const benchReq = "GET /search?q=polder&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nCookie: session=0123456789abcdef\r\nConnection: keep-alive\r\n\r\n"

var benchResp = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 2048\r\nConnection: keep-alive\r\n\r\n" + strings.Repeat("x", 2048)

// BenchmarkParse measures a keep-alive flow of 100 transactions fed in
// 1460-byte segments; allocs/op divided by 100 is allocations per
// transaction.
func BenchmarkParse(b *testing.B) {
	reqs := strings.Repeat(benchReq, 100)
	resps := strings.Repeat(benchResp, 100)
	b.SetBytes(int64(len(reqs) + len(resps)))
	b.ReportAllocs()
	rq, rs := []byte(reqs), []byte(resps)
	n, loops := 0, 0
	emit := func(*Transaction) { n++ }
	for b.Loop() {
		loops++
		p := NewParser(nil)
		for i, j := 0, 0; i < len(rq) || j < len(rs); {
			if i < len(rq) {
				e := min(i+1460, len(rq))
				p.Parse(flow.ToServer, rq[i:e], t0, emit)
				i = e
			}
			if j < len(rs) {
				e := min(j+1460, len(rs))
				p.Parse(flow.ToClient, rs[j:e], t0, emit)
				j = e
			}
		}
		p.Close(t0, emit)
	}
	b.ReportMetric(float64(n)/float64(loops), "tx/op")
}

// BenchmarkNewParser is the per-flow setup cost.
func BenchmarkNewParser(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewParser(nil)
	}
}
