package http

import (
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/flow"
)

const benchReq = "GET /search?q=polder&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nCookie: session=0123456789abcdef\r\nConnection: keep-alive\r\n\r\n"

var benchResp = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 2048\r\nConnection: keep-alive\r\n\r\n" + strings.Repeat("x", 2048)

// BenchmarkParse measures a keep-alive flow of 100 transactions, each
// request then its response in 1460-byte segments; allocs/op divided by
// tx/op is allocations per transaction.
func BenchmarkParse(b *testing.B) {
	rq, rs := []byte(benchReq), []byte(benchResp)
	b.SetBytes(int64(100 * (len(rq) + len(rs))))
	b.ReportAllocs()
	n, loops := 0, 0
	emit := func(*Transaction) { n++ }
	for b.Loop() {
		loops++
		p := NewParser(nil)
		for range 100 {
			p.Parse(flow.ToServer, rq, t0, emit)
			for j := 0; j < len(rs); j += 1460 {
				p.Parse(flow.ToClient, rs[j:min(j+1460, len(rs))], t0, emit)
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

// TestAllocsPerTransaction bounds allocations per keep-alive transaction:
// the Transaction, its header slices, arena blocks and the kept body.
func TestAllocsPerTransaction(t *testing.T) {
	rq, rs := []byte(benchReq), []byte(benchResp)
	p := NewParser(nil)
	emit := func(*Transaction) {}
	allocs := testing.AllocsPerRun(200, func() {
		p.Parse(flow.ToServer, rq, t0, emit)
		p.Parse(flow.ToClient, rs, t0, emit)
	})
	if allocs > 6 {
		t.Errorf("%.1f allocations per transaction, want <= 6", allocs)
	}
	t.Logf("%.2f allocs per transaction", allocs)
}
