package http

import (
	"testing"

	"github.com/polder-nsm/polder/sensor/flow"
)

// FuzzParse feeds random bytes, cut at random points, to both directions,
// with gaps, and checks the invariants: no panic, bounded buffers, IDs
// unique and increasing in emission order, every transaction emitted once,
// no transaction touched after emission.
func FuzzParse(f *testing.F) {
	f.Add([]byte(simpleReq), []byte(simpleResp), []byte{3, 7, 200, 5})
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n"),
		[]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08"), []byte{1, 1, 1})
	f.Add([]byte("GET /old\r\n"), []byte("<html>"), []byte{0})
	f.Add([]byte("CONNECT h:443 HTTP/1.1\r\n\r\n\x16\x03"), []byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03"), []byte{9, 250})
	f.Fuzz(func(t *testing.T, reqData, respData, cuts []byte) {
		opts := &Options{MaxHeaderBytes: 512, MaxHeaders: 8, RequestBodyLimit: 256, ResponseBodyLimit: 256, MaxPendingTx: 4,
			Files: true, FileHashes: HashMD5 | HashSHA256}
		p := NewParser(opts)
		seen := map[*Transaction]bool{}
		var last int64 = -1
		var snapshots []view
		var emitted []*Transaction
		emit := func(tx *Transaction) {
			if seen[tx] {
				t.Fatalf("tx %d emitted twice", tx.ID)
			}
			seen[tx] = true
			if int64(tx.ID) <= last {
				t.Fatalf("tx id %d after %d", tx.ID, last)
			}
			last = int64(tx.ID)
			if len(tx.RequestBody) > 256 || len(tx.ResponseBody) > 256 || len(tx.RequestHeaders) > 8 || len(tx.ResponseHeaders) > 8 {
				t.Fatalf("limits exceeded: %d %d %d %d", len(tx.RequestBody), len(tx.ResponseBody), len(tx.RequestHeaders), len(tx.ResponseHeaders))
			}
			if len(tx.RequestHeadersRaw) > 514 || len(tx.ResponseHeadersRaw) > 514 {
				t.Fatalf("raw headers exceed the limit: %d %d", len(tx.RequestHeadersRaw), len(tx.ResponseHeadersRaw))
			}
			for _, f := range []*File{tx.RequestFile, tx.ResponseFile} {
				if f != nil && (f.Size < 0 || f.Size > 256 || len(f.Name) > MaxFileName || f.Closed && f.Gaps) {
					t.Fatalf("file out of bounds: %s", fileString(f))
				}
			}
			for _, name := range []string{"http.uri", "http.header", "http.header.raw", "http.start", "http.stat_code", "http.host.raw"} {
				tx.Buffer(name)
				tx.BufferDir(name, flow.ToClient)
			}
			emitted = append(emitted, tx)
			snapshots = append(snapshots, viewOf(tx))
		}
		ri, si := 0, 0
		for k := 0; ri < len(reqData) || si < len(respData); k++ {
			c := 1
			if len(cuts) > 0 {
				c = int(cuts[k%len(cuts)])
			}
			switch {
			case c == 0 && k%3 == 0:
				p.Gap(flow.Direction(k&1), uint32(k*7), t0, emit)
			case k&1 == 0 && ri < len(reqData):
				n := min(len(reqData)-ri, c%64+1)
				p.Parse(flow.ToServer, reqData[ri:ri+n], t0, emit)
				ri += n
			case si < len(respData):
				n := min(len(respData)-si, c%64+1)
				p.Parse(flow.ToClient, respData[si:si+n], t0, emit)
				si += n
			case ri < len(reqData):
				n := min(len(reqData)-ri, c%64+1)
				p.Parse(flow.ToServer, reqData[ri:ri+n], t0, emit)
				ri += n
			}
			if cap(p.req.line) > 512 || cap(p.resp.line) > 512 || len(p.pending) > 4 {
				t.Fatalf("state grew: line %d/%d pending %d", cap(p.req.line), cap(p.resp.line), len(p.pending))
			}
		}
		p.Close(t0, emit)
		for i, tx := range emitted {
			if v := viewOf(tx); v != snapshots[i] {
				t.Fatalf("tx %d changed after emission:\n%+v\n%+v", tx.ID, snapshots[i], v)
			}
		}
	})
}
