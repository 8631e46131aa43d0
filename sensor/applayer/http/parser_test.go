package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/polder-nsm/polder/sensor/flow"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// step is one Parse (or Gap when gap > 0) call.
type step struct {
	dir  flow.Direction
	data string
	gap  uint32
}

func req(s string) step  { return step{dir: flow.ToServer, data: s} }
func resp(s string) step { return step{dir: flow.ToClient, data: s} }

// feed runs steps through a fresh parser and closes it.
func feed(opts *Options, steps ...step) []*Transaction {
	p := NewParser(opts)
	var out []*Transaction
	emit := func(tx *Transaction) { out = append(out, tx) }
	for _, s := range steps {
		if s.gap > 0 {
			p.Gap(s.dir, s.gap, t0, emit)
			continue
		}
		// Parse must not keep data: hand it a buffer we scribble on after.
		b := []byte(s.data)
		p.Parse(s.dir, b, t0, emit)
		for i := range b {
			b[i] = 'X'
		}
	}
	p.Close(t0, emit)
	return out
}

// view is the comparable summary of a Transaction used by table tests.
type view struct {
	ID                     uint64
	Method, URI, Proto     string
	Host                   string
	Port                   int
	UA, Referer, Cookie    string
	Status                 int
	Msg, CT, Location      string
	ReqBody, RespBody      string
	ReqLen, RespLen        int64
	ReqDone, RespDone, Gap bool
	NReqH, NRespH          int
	Events                 string
}

func viewOf(tx *Transaction) view {
	return view{
		ID: tx.ID, Method: string(tx.Method), URI: string(tx.URI), Proto: string(tx.Protocol),
		Host: string(tx.Host), Port: tx.Port, UA: string(tx.UserAgent), Referer: string(tx.Referer),
		Cookie: string(tx.Cookie), Status: tx.Status, Msg: string(tx.StatusMsg), CT: string(tx.ContentType),
		Location: string(tx.Location), ReqBody: string(tx.RequestBody), RespBody: string(tx.ResponseBody),
		ReqLen: tx.RequestBodyLen, RespLen: tx.ResponseBodyLen, ReqDone: tx.RequestDone,
		RespDone: tx.ResponseDone, Gap: tx.Gap, NReqH: len(tx.RequestHeaders), NRespH: len(tx.ResponseHeaders),
		Events: tx.Events.String(),
	}
}

// fullView adds what view leaves out: raw header sections and files.
type fullView struct {
	View              view
	RawReq, RawResp   string
	ReqFile, RespFile string
}

func fileString(f *File) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%q size=%d gaps=%v closed=%v range=%v:%d-%d md5=%x sha1=%x sha256=%x",
		f.Name, f.Size, f.Gaps, f.Closed, f.HasRange, f.Start, f.End, f.MD5, f.SHA1, f.SHA256)
}

func fullViews(txs []*Transaction) []fullView {
	out := make([]fullView, len(txs))
	for i, tx := range txs {
		out[i] = fullView{viewOf(tx), string(tx.RequestHeadersRaw), string(tx.ResponseHeadersRaw),
			fileString(tx.RequestFile), fileString(tx.ResponseFile)}
	}
	return out
}

func views(txs []*Transaction) []view {
	out := make([]view, len(txs))
	for i, tx := range txs {
		out[i] = viewOf(tx)
	}
	return out
}

const (
	simpleReq  = "GET /index.html?a=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8.0\r\nReferer: http://r/\r\nCookie: a=b\r\n\r\n"
	simpleResp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
)

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zlibbed(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func rawDeflated(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestParse(t *testing.T) {
	plain := strings.Repeat("compressible text ", 40)
	gz := gzipped(plain)
	zl := zlibbed(plain)
	rd := rawDeflated(plain)
	tests := []struct {
		name  string
		opts  *Options
		steps []step
		want  []view
	}{
		{
			name:  "simple",
			steps: []step{req(simpleReq), resp(simpleResp)},
			want: []view{{Method: "GET", URI: "/index.html?a=1", Proto: "HTTP/1.1", Host: "example.com", Port: 8080,
				UA: "curl/8.0", Referer: "http://r/", Cookie: "a=b", Status: 200, Msg: "OK", CT: "text/html",
				RespBody: "hello", RespLen: 5, ReqDone: true, RespDone: true, NReqH: 4, NRespH: 2}},
		},
		{
			name: "pipelined",
			steps: []step{
				req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: c\r\n\r\n"),
				resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 NF\r\nContent-Length: 2\r\n\r\nBBHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
			},
			want: []view{
				{ID: 0, Method: "GET", URI: "/1", Proto: "HTTP/1.1", Host: "a", Status: 200, Msg: "OK", RespBody: "A", RespLen: 1, ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1},
				{ID: 1, Method: "GET", URI: "/2", Proto: "HTTP/1.1", Host: "b", Status: 404, Msg: "NF", RespBody: "BB", RespLen: 2, ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1},
				{ID: 2, Method: "HEAD", URI: "/3", Proto: "HTTP/1.1", Host: "c", Status: 200, Msg: "OK", ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1},
			},
		},
		{
			name: "chunked with extensions and trailers",
			steps: []step{
				req("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;name=val\r\nabc\r\n2 ; x\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"),
				resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"),
			},
			want: []view{{Method: "POST", URI: "/up", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				// Lengths count chunk framing, as libhtp's *_message_len.
				ReqBody: "abcde", ReqLen: 31, RespBody: "0123456789", RespLen: 18, ReqDone: true, RespDone: true, NReqH: 3, NRespH: 1}},
		},
		{
			name:  "gzip body decoded",
			steps: []step{req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz))},
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				RespBody: plain, RespLen: int64(len(gz)), ReqDone: true, RespDone: true, NReqH: 1, NRespH: 2}},
		},
		{
			name:  "deflate zlib body decoded",
			steps: []step{req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n%s", len(zl), zl))},
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				RespBody: plain, RespLen: int64(len(zl)), ReqDone: true, RespDone: true, NReqH: 1, NRespH: 2}},
		},
		{
			name:  "raw deflate body decoded",
			steps: []step{req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n%s", len(rd), rd))},
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				RespBody: plain, RespLen: int64(len(rd)), ReqDone: true, RespDone: true, NReqH: 1, NRespH: 2}},
		},
		{
			name:  "bad gzip kept raw",
			steps: []step{req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), resp("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope")},
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				RespBody: "nope", RespLen: 4, ReqDone: true, RespDone: true, NReqH: 1, NRespH: 2, Events: "decode_failed"}},
		},
		{
			name:  "gzip bomb bounded by limit",
			opts:  &Options{ResponseBodyLimit: 100},
			steps: []step{req("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz))},
			// Only the first 100 compressed bytes are kept, so the output
			// is what they decode to, then cut at 100.
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK",
				RespBody: plain[:100], RespLen: int64(len(gz)), ReqDone: true, RespDone: true, NReqH: 1, NRespH: 2, Events: "body_truncated"}},
		},
		{
			name:  "tolerant lines: LF only, extra spaces, folded header",
			steps: []step{req("GET   /x   HTTP/1.0\nHost:   h  \nUser-Agent: a\n  b\n\n"), resp("HTTP/1.0   302   Found\nLocation: /y\nContent-Length: 0\n\n")},
			want: []view{{Method: "GET", URI: "/x", Proto: "HTTP/1.0", Host: "h", UA: "a b", Status: 302, Msg: "Found", Location: "/y",
				ReqDone: true, RespDone: true, NReqH: 2, NRespH: 2, Events: "folded_header|lf_only"}},
		},
		{
			name:  "absolute URI wins over Host",
			steps: []step{req("GET http://User@Proxy.Example:3128/p?q HTTP/1.1\r\nHost: other\r\n\r\n"), resp("HTTP/1.1 204 No Content\r\n\r\n")},
			want: []view{{Method: "GET", URI: "http://User@Proxy.Example:3128/p?q", Proto: "HTTP/1.1", Host: "proxy.example", Port: 3128,
				Status: 204, Msg: "No Content", ReqDone: true, RespDone: true, NReqH: 1, Events: "host_ambiguous"}},
		},
		{
			name:  "CONNECT then tunnel",
			steps: []step{req("CONNECT secure.example:443 HTTP/1.1\r\nHost: secure.example:443\r\n\r\n"), resp("HTTP/1.1 200 Connection established\r\n\r\n"), req("\x16\x03\x01\x00\x05hello"), resp("\x16\x03\x03junk")},
			want: []view{{Method: "CONNECT", URI: "secure.example:443", Proto: "HTTP/1.1", Host: "secure.example", Port: 443,
				Status: 200, Msg: "Connection established", ReqDone: true, RespDone: true, NReqH: 1}},
		},
		{
			name:  "100-continue",
			steps: []step{req("POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), resp("HTTP/1.1 100 Continue\r\n\r\n"), req("abc"), resp("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")},
			want: []view{{Method: "POST", URI: "/u", Proto: "HTTP/1.1", Host: "h", Status: 201, Msg: "Created",
				ReqBody: "abc", ReqLen: 3, ReqDone: true, RespDone: true, NReqH: 3, NRespH: 1}},
		},
		{
			name:  "body until close",
			steps: []step{req("GET / HTTP/1.0\r\n\r\n"), resp("HTTP/1.0 200 OK\r\n\r\nall of it"), resp(" until close")},
			want: []view{{Method: "GET", URI: "/", Proto: "HTTP/1.0", Status: 200, Msg: "OK",
				RespBody: "all of it until close", RespLen: 21, ReqDone: true, RespDone: true}},
		},
		{
			name:  "HTTP/0.9",
			steps: []step{req("GET /old\r\n"), resp("<html>old</html>")},
			want:  []view{{Method: "GET", URI: "/old", RespBody: "<html>old</html>", RespLen: 16, ReqDone: true, RespDone: true, Events: "http09_response"}},
		},
		{
			name:  "missing protocol but headers follow",
			steps: []step{req("GET HTTP/1.1\r\nHost: bro.org\r\n\r\n"), resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
			want:  []view{{Method: "GET", URI: "HTTP/1.1", Host: "bro.org", Status: 200, Msg: "OK", ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1}},
		},
		{
			name:  "response only",
			steps: []step{resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 304 Not Modified\r\n\r\n")},
			want: []view{
				{ID: 0, Status: 200, Msg: "OK", RespBody: "ok", RespLen: 2, RespDone: true, NRespH: 1},
				{ID: 1, Status: 304, Msg: "Not Modified", RespDone: true},
			},
		},
		{
			name:  "request only",
			steps: []step{req("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy")},
			want: []view{
				{ID: 0, Method: "GET", URI: "/a", Proto: "HTTP/1.1", Host: "h", ReqDone: true, NReqH: 1},
				{ID: 1, Method: "POST", URI: "/b", Proto: "HTTP/1.1", Host: "h", ReqBody: "xy", ReqLen: 2, ReqDone: true, NReqH: 2},
			},
		},
		{
			name: "mid-stream start on both sides",
			steps: []step{
				req("dy of an earlier upload\r\nmore junk"),
				resp("tail of a body</html>"),
				req("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
				resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			},
			want: []view{{Method: "GET", URI: "/next", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK", ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1}},
		},
		{
			name: "gap in the middle of a response body stays in step",
			steps: []step{
				req("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
				resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012"), {dir: flow.ToClient, gap: 4}, resp("789"),
				resp("HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n"),
			},
			want: []view{
				{ID: 0, Method: "GET", URI: "/a", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK", RespBody: "012", RespLen: 10, ReqDone: true, RespDone: true, Gap: true, NReqH: 1, NRespH: 1},
				{ID: 1, Method: "GET", URI: "/b", Proto: "HTTP/1.1", Host: "h", Status: 404, Msg: "NF", ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1},
			},
		},
		{
			name: "gap in headers resyncs at next request",
			steps: []step{
				req("GET /a HTTP/1.1\r\nHost: h\r\nUser-"), {dir: flow.ToServer, gap: 100}, req("gent: lost\r\n\r\nGET /b HTTP/1.1\r\nHost: h2\r\n\r\n"),
			},
			want: []view{
				{ID: 0, Method: "GET", URI: "/a", Proto: "HTTP/1.1", ReqDone: true, Gap: true, NReqH: 1, Events: "gap"},
				{ID: 1, Method: "GET", URI: "/b", Proto: "HTTP/1.1", Host: "h2", ReqDone: true, NReqH: 1},
			},
		},
		{
			name: "gap past the end of a body resyncs",
			steps: []step{
				req("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
				resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01"), {dir: flow.ToClient, gap: 50}, resp("xx\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			},
			want: []view{
				{ID: 0, Method: "GET", URI: "/a", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK", RespBody: "01", RespLen: 2, ReqDone: true, RespDone: true, Gap: true, NReqH: 1, NRespH: 1, Events: "gap"},
				{ID: 1, Method: "GET", URI: "/b", Proto: "HTTP/1.1", Host: "h", Status: 200, Msg: "OK", ReqDone: true, RespDone: true, NReqH: 1, NRespH: 1},
			},
		},
		{
			name:  "pending overflow emits oldest early",
			opts:  &Options{MaxPendingTx: 2},
			steps: []step{req("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")},
			want: []view{
				{ID: 0, Method: "GET", URI: "/1", Proto: "HTTP/1.1", ReqDone: true, Events: "missing_host|pending_overflow"},
				{ID: 1, Method: "GET", URI: "/2", Proto: "HTTP/1.1", ReqDone: true, Events: "missing_host"},
				{ID: 2, Method: "GET", URI: "/3", Proto: "HTTP/1.1", ReqDone: true, Events: "missing_host"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := views(feed(tt.opts, tt.steps...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("transactions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSplitEveryOffset feeds the same exchange split at every byte offset of
// either direction (and byte by byte): the transactions must not change.
func TestSplitEveryOffset(t *testing.T) {
	gz := gzipped(strings.Repeat("z", 300))
	exchanges := []struct{ name, req, resp string }{
		{"simple", simpleReq, simpleResp},
		{"pipelined chunked", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nabcd\r\n0\r\nT: 1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"},
		{"lf only folded", "GET  /x?y  HTTP/1.0\nHost: h\nX-F: a\n\tb\n\n", "HTTP/1.0 200 OK\nSet-Cookie: s\n\nbody until close"},
		{"gzip", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz)},
		{"http09", "GET /old\r\n", "<html>old</html>"},
		{"files, raw headers, odd chunk sizes", "PUT /up/f.bin?x=1 HTTP/1.1\r\nHost:   h  \r\nContent-Length: 4\r\n\r\nabcd",
			"HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"e.txt\"\r\nTransfer-Encoding: chunked\r\n\r\n3,\r\nabc\r\n\r\n2 \r\nde\r\n0\r\nX-T:  t\r\n\r\n"},
		{"chunk size junk: body until close", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbody\r\n0\r\n\r\n"},
	}
	opts := &Options{Files: true, FileHashes: HashMD5 | HashSHA1 | HashSHA256}
	for _, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			base := fullViews(feed(opts, req(ex.req), resp(ex.resp)))
			if len(base) == 0 {
				t.Fatal("no transactions")
			}
			check := func(what string, steps ...step) {
				t.Helper()
				if diff := cmp.Diff(base, fullViews(feed(opts, steps...))); diff != "" {
					t.Fatalf("%s changed the result (-whole +split):\n%s", what, diff)
				}
			}
			for i := 1; i < len(ex.req); i++ {
				check(fmt.Sprintf("request split at %d", i), req(ex.req[:i]), req(ex.req[i:]), resp(ex.resp))
			}
			for i := 1; i < len(ex.resp); i++ {
				check(fmt.Sprintf("response split at %d", i), req(ex.req), resp(ex.resp[:i]), resp(ex.resp[i:]))
			}
			var bytewise []step
			for i := range len(ex.req) {
				bytewise = append(bytewise, req(ex.req[i:i+1]))
			}
			for i := range len(ex.resp) {
				bytewise = append(bytewise, resp(ex.resp[i:i+1]))
			}
			check("byte by byte", bytewise...)
		})
	}
}

// TestHostile checks that floods and garbage stay bounded and never panic.
func TestHostile(t *testing.T) {
	opts := &Options{MaxHeaderBytes: 1024, MaxHeaders: 10, RequestBodyLimit: 64, ResponseBodyLimit: 64}
	t.Run("header flood", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("GET / HTTP/1.1\r\nHost: h\r\n")
		for i := range 10000 {
			fmt.Fprintf(&b, "X-%d: %d\r\n", i, i)
		}
		b.WriteString("\r\n")
		txs := feed(opts, req(b.String()), resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		if len(txs) != 1 || len(txs[0].RequestHeaders) > 10 || txs[0].Status != 200 {
			t.Fatalf("got %d tx, %d headers", len(txs), len(txs[0].RequestHeaders))
		}
		if txs[0].Events&EventTooManyHeaders == 0 {
			t.Errorf("events %v, want too_many_headers", txs[0].Events)
		}
	})
	t.Run("huge line", func(t *testing.T) {
		huge := "GET /" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: h\r\n\r\n"
		p := NewParser(opts)
		var n int
		for i := 0; i < len(huge); i += 1000 {
			p.Parse(flow.ToServer, []byte(huge[i:min(i+1000, len(huge))]), t0, func(*Transaction) { n++ })
			if cap(p.req.line) > 1024 {
				t.Fatalf("line buffer grew to %d", cap(p.req.line))
			}
		}
		p.Close(t0, func(*Transaction) { n++ })
		if n != 1 {
			t.Errorf("got %d tx", n)
		}
	})
	t.Run("NULs and non-UTF-8", func(t *testing.T) {
		junk := "GET /\x00\xff\xfe HTTP/1.1\r\nHost: \xc3\x28\r\nX: \x00\x00\r\n\r\n"
		txs := feed(opts, req(junk), resp("HTTP/1.1 200 \xff\r\nContent-Length: 1\r\n\r\n\x00"))
		if len(txs) != 1 || string(txs[0].URI) != "/\x00\xff\xfe" {
			t.Fatalf("got %+v", views(txs))
		}
	})
	t.Run("body beyond limit", func(t *testing.T) {
		body := strings.Repeat("b", 10000)
		txs := feed(opts, req(fmt.Sprintf("POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
		if len(txs) != 1 || len(txs[0].RequestBody) != 64 || txs[0].RequestBodyLen != 10000 {
			t.Fatalf("got %+v", views(txs))
		}
	})
	t.Run("endless response-only stream", func(t *testing.T) {
		p := NewParser(opts)
		n := 0
		for range 1000 {
			p.Parse(flow.ToClient, []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), t0, func(*Transaction) { n++ })
			if len(p.pending) > opts.MaxPendingTx && opts.MaxPendingTx > 0 || len(p.pending) > DefaultMaxPendingTx {
				t.Fatal("pending grew")
			}
		}
		if n != 1000 {
			t.Errorf("emitted %d", n)
		}
	})
	t.Run("late responses after overflow stay paired", func(t *testing.T) {
		var reqs, resps strings.Builder
		for i := range 10 {
			fmt.Fprintf(&reqs, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
			fmt.Fprintf(&resps, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(fmt.Sprint(i)), fmt.Sprint(i))
		}
		txs := feed(&Options{MaxPendingTx: 3}, req(reqs.String()), resp(resps.String()))
		if len(txs) != 10 {
			t.Fatalf("got %d tx", len(txs))
		}
		for _, tx := range txs {
			if tx.HasResponse && string(tx.URI[1:]) != string(tx.ResponseBody) {
				t.Errorf("%s paired with response body %q", tx.URI, tx.ResponseBody)
			}
		}
	})
	t.Run("request-only flood bounded", func(t *testing.T) {
		p := NewParser(opts)
		n := 0
		for range 1000 {
			p.Parse(flow.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"), t0, func(*Transaction) { n++ })
		}
		if len(p.pending) > DefaultMaxPendingTx {
			t.Fatalf("pending %d", len(p.pending))
		}
	})
	t.Run("huge content length and chunk size", func(t *testing.T) {
		feed(opts, req("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"))
		feed(opts, resp("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nabc"), step{dir: flow.ToClient, gap: 1 << 31})
	})
}

func TestBuffers(t *testing.T) {
	txs := feed(nil,
		req("GET http://Host.Example:81/a/./b/../c%41%2z?q=%41 HTTP/1.1\r\nHost: host.example:81\r\nUser-Agent: ua\r\nCookie: c=1\r\nContent-Type: text/plain\r\n\r\n"),
		resp("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nSet-Cookie: s=2\r\nContent-Length: 3\r\n\r\nabc"))
	if len(txs) != 1 {
		t.Fatalf("got %d tx", len(txs))
	}
	tx := txs[0]
	want := map[string]string{
		"http.uri":           "/a/cA%2z?q=%41",
		"http.uri.raw":       "http://Host.Example:81/a/./b/../c%41%2z?q=%41",
		"http.method":        "GET",
		"http.protocol":      "HTTP/1.1",
		"http.host":          "host.example",
		"http.host.raw":      "host.example:81",
		"http.user_agent":    "ua",
		"http.cookie":        "c=1",
		"http.content_type":  "text/plain",
		"http.request_line":  "GET http://Host.Example:81/a/./b/../c%41%2z?q=%41 HTTP/1.1",
		"http.response_line": "HTTP/1.1 404 Not Found",
		"http.stat_code":     "404",
		"http.stat_msg":      "Not Found",
		"http.response_body": "abc",
		"file.data":          "abc",
		"http.header":        "Host: host.example:81\r\nUser-Agent: ua\r\nCookie: c=1\r\nContent-Type: text/plain\r\n",
		"http.header.raw":    "Host: host.example:81\r\nUser-Agent: ua\r\nCookie: c=1\r\nContent-Type: text/plain\r\n\r\n",
		"http.start":         "GET http://Host.Example:81/a/./b/../c%41%2z?q=%41 HTTP/1.1\r\nHost: host.example:81\r\nUser-Agent: ua\r\nCookie: c=1\r\nContent-Type: text/plain\r\n\r\n",
		"http.referer":       "",
		"http.request_body":  "",
	}
	for name, w := range want {
		if got := string(tx.Buffer(name)); got != w {
			t.Errorf("Buffer(%q) = %q, want %q", name, got, w)
		}
	}
	if got := string(tx.BufferDir("http.cookie", flow.ToClient)); got != "s=2" {
		t.Errorf("response cookie = %q", got)
	}
	if got := string(tx.BufferDir("http.content_type", flow.ToClient)); got != "text/html" {
		t.Errorf("response content type = %q", got)
	}
	if tx.Buffer("no.such") != nil {
		t.Error("unknown buffer not nil")
	}
}

func TestNormalizeURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/a/../../b", "/b"},
		{"/%2e%2e/x", "/x"},
		{"/a%20b?x=%20", "/a b?x=%20"},
		{"http://h", "/"},
		{"http://h?x", "/?x"},
		{"/a#frag", "/a"},
		{"*", "*"},
	} {
		if got := string(normalizeURI([]byte(tc.in), []byte("GET"))); got != tc.want {
			t.Errorf("normalizeURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStatsEach(t *testing.T) {
	var st Stats
	feed(&Options{Stats: &st}, req(simpleReq), resp(simpleResp))
	got := map[string]uint64{}
	st.Each(func(n string, v uint64) { got[n] = v })
	if got["http.tx"] != 1 || got["http.requests"] != 1 || got["http.responses"] != 1 {
		t.Errorf("stats %v", got)
	}
}

var _ = cmpopts.EquateEmpty
