package http

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/flow"
)

func TestParseChunkSize(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		res  chunkResult
	}{
		{"5", 5, chunkOK},
		{"1F", 31, chunkOK},
		{"a;name=val", 10, chunkOK},
		{"f,", 15, chunkOK},              // http-evader: junk after the digits is ignored
		{"8 ; x", 8, chunkOK},            //
		{" \t\v\f5", 5, chunkOK},         // leading whitespace skipped
		{"0", 0, chunkOK},                //
		{"7fffffff", 1<<31 - 1, chunkOK}, // libhtp's limit
		{"80000000", 0, chunkInvalid},    // over it
		{"ffffffffffffffffff", 0, chunkInvalid},
		{"", 0, chunkEmpty},
		{"  \t", 0, chunkEmpty},
		{"xyz", 0, chunkInvalid},
		{";ext", 0, chunkInvalid},
		{"-1", 0, chunkInvalid},
	} {
		n, res := parseChunkSize([]byte(tc.line))
		if n != tc.n || res != tc.res {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tc.line, n, res, tc.n, tc.res)
		}
	}
}

// TestChunkedLikeLibhtp follows libhtp through odd chunk framing: junk
// after the size, empty size lines, and a response whose "chunked" body
// turns out not to be (the rest is the body until close).
func TestChunkedLikeLibhtp(t *testing.T) {
	get := req("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	for _, tc := range []struct {
		name, resp, body string
		events           string
	}{
		{"http-evader size-%5C054", "HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\nf,\r\nX5O!P%@AP[4\\PZX\r\n8,\r\nLE!$H+H*\r\n0\r\n\r\n",
			"X5O!P%@AP[4\\PZXLE!$H+H*", ""},
		{"empty size line is skipped", "HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n\r\n2\r\nde\r\n0\r\n\r\n", "abcde", ""},
		{"not chunked after all", "HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\nhello\r\nworld", "hello\r\nworld", "chunk_invalid"},
		{"not chunked, LF line", "HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\nhello\nworld", "hello\nworld", "chunk_invalid"},
	} {
		txs := feed(nil, get, resp(tc.resp))
		if len(txs) != 1 {
			t.Fatalf("%s: %d transactions", tc.name, len(txs))
		}
		tx := txs[0]
		if string(tx.ResponseBody) != tc.body || !strings.Contains(tx.Events.String(), tc.events) || !tx.ResponseDone {
			t.Errorf("%s: body %q events %q done %v; want %q with %q", tc.name, tx.ResponseBody, tx.Events, tx.ResponseDone, tc.body, tc.events)
		}
	}
	// A request with a bad chunk size ends there, as libhtp stops parsing it.
	txs := feed(nil, req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n"))
	if len(txs) != 1 || !strings.Contains(txs[0].Events.String(), "chunk_invalid") || len(txs[0].RequestBody) != 0 {
		t.Errorf("bad request chunk: %+v", views(txs))
	}
}

func TestRawHeaders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      *Options
		req, resp string
		rawReq    string
		rawResp   string
	}{
		{"as sent: spacing, case, folding, LF-only, bad lines",
			nil,
			"GET / HTTP/1.1\r\nHost:   h  \r\nX-Folded: a\r\n  b\r\nno colon here\nUSER-AGENT:ua\r\n\r\n",
			"HTTP/1.1 200 OK\r\nServer:       Yx(yw)        /SERVER IP:   x\r\nContent-Length: 0\r\n\r\n",
			"Host:   h  \r\nX-Folded: a\r\n  b\r\nno colon here\nUSER-AGENT:ua\r\n\r\n",
			"Server:       Yx(yw)        /SERVER IP:   x\r\nContent-Length: 0\r\n\r\n"},
		{"trailers follow the empty line", nil,
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT:  1\r\n\r\n", "",
			"Transfer-Encoding: chunked\r\n\r\nT:  1\r\n\r\n", ""},
		{"interim response forgotten", nil, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 100 Continue\r\nX: 1\r\n\r\nHTTP/1.1 204 No\r\nY: 2\r\n\r\n",
			"\r\n", "Y: 2\r\n\r\n"},
		{"no headers at all (HTTP/0.9)", nil, "GET /\r\n", "<html>", "", ""},
		{"bounded by MaxHeaderBytes", &Options{MaxHeaderBytes: 16}, "GET / HTTP/1.1\r\nA: 0123456789\r\nB: 0123456789\r\n\r\n", "",
			"A: 0123456789\r\nB: ", ""},
	} {
		txs := feed(tc.opts, req(tc.req), resp(tc.resp))
		if len(txs) != 1 {
			t.Fatalf("%s: %d transactions", tc.name, len(txs))
		}
		tx := txs[0]
		if got := string(tx.RequestHeadersRaw); got != tc.rawReq {
			t.Errorf("%s: request raw %q, want %q", tc.name, got, tc.rawReq)
		}
		if got := string(tx.ResponseHeadersRaw); got != tc.rawResp {
			t.Errorf("%s: response raw %q, want %q", tc.name, got, tc.rawResp)
		}
		if got := string(tx.BufferDir("http.header.raw", flow.ToClient)); got != tc.rawResp {
			t.Errorf("%s: http.header.raw to_client %q, want %q", tc.name, got, tc.rawResp)
		}
	}
}

func TestFiles(t *testing.T) {
	sum := func(s string) string {
		return fmt.Sprintf("md5=%x sha1=%x sha256=%x", md5.Sum([]byte(s)), sha1.Sum([]byte(s)), sha256.Sum256([]byte(s)))
	}
	sha256Only := func(s string) string {
		return fmt.Sprintf("md5= sha1= sha256=%x", sha256.Sum256([]byte(s)))
	}
	const noSum = "md5= sha1= sha256="
	all := &Options{Files: true, FileHashes: HashMD5 | HashSHA1 | HashSHA256}
	small := &Options{Files: true, FileHashes: HashMD5 | HashSHA1 | HashSHA256, ResponseBodyLimit: 4, RequestBodyLimit: 4}
	text := strings.Repeat("compressible text ", 40)
	gz := gzipped(text)
	for _, tc := range []struct {
		name     string
		opts     *Options
		steps    []step
		req, rsp string // fileString of the request and response files
	}{
		{"response named by the URI path", all,
			[]step{req("GET /dir/a%20b.txt?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"), resp(simpleResp)},
			"-", `"/dir/a b.txt" size=5 gaps=false closed=true range=false:0-0 ` + sum("hello")},
		{"content-disposition filename", all,
			[]step{req("GET /chunked/eicar.txt/chunked HTTP/1.1\r\n\r\n"),
				resp("HTTP/1.1 200 ok\r\nContent-disposition: attachment; filename=\"eicar.txt\"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nX5O!P\r\n3\r\n+H*\r\n0\r\n\r\n")},
			"-", `"eicar.txt" size=8 gaps=false closed=true range=false:0-0 ` + sum("X5O!P+H*")},
		{"no body, no file", all,
			[]step{req("HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"), resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 NM\r\n\r\n")},
			"-", "-"},
		{"POST body is a file named by the path", all,
			[]step{req("POST /login.php?a=b HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nu=a&p=b"), resp("HTTP/1.1 204 No\r\n\r\n")},
			`"/login.php" size=7 gaps=false closed=true range=false:0-0 ` + sum("u=a&p=b"), "-"},
		{"multipart POST is not one file", all,
			[]step{req("POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 3\r\n\r\nabc"), resp("HTTP/1.1 204 No\r\n\r\n")},
			"-", "-"},
		{"GET body is not a file", all,
			[]step{req("GET /q HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), resp("HTTP/1.1 204 No\r\n\r\n")},
			"-", "-"},
		{"gzip: decoded size and checksums", all,
			[]step{req("GET /t.txt HTTP/1.1\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz))},
			"-", fmt.Sprintf(`"/t.txt" size=%d gaps=false closed=true range=false:0-0 `, len(text)) + sum(text)},
		{"gzip past the limit: truncated there", &Options{Files: true, ResponseBodyLimit: 100},
			[]step{req("GET /big.txt HTTP/1.1\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz))},
			"-", `"/big.txt" size=100 gaps=false closed=false range=false:0-0 ` + noSum},
		{"gzip of nothing: no file", all,
			[]step{req("GET /e HTTP/1.1\r\n\r\n"), resp(fmt.Sprintf("HTTP/1.1 302 Found\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gzipped("")), gzipped("")))},
			"-", "-"},
		{"body limit truncates the file, sha256 only", small,
			[]step{req("PUT /f HTTP/1.1\r\nContent-Length: 6\r\n\r\nabcdef"), resp("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nwxyz")},
			`"/f" size=4 gaps=false closed=false range=false:0-0 ` + sha256Only("abcd"),
			`"/f" size=4 gaps=false closed=true range=false:0-0 ` + sum("wxyz")},
		{"flow ends mid-body: libhtp finalises, Suricata logs it closed", all,
			[]step{req("GET /big HTTP/1.1\r\n\r\n"), resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")},
			"-", `"/big" size=3 gaps=false closed=true range=false:0-0 ` + sum("abc")},
		{"gap in the body", all,
			[]step{req("GET /g HTTP/1.1\r\n\r\n"), resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), {dir: flow.ToClient, gap: 4}, resp("xyz")},
			"-", `"/g" size=10 gaps=true closed=false range=false:0-0 ` + noSum},
		{"body until close ends cleanly", all,
			[]step{req("GET /c HTTP/1.0\r\n\r\n"), resp("HTTP/1.0 200 OK\r\n\r\nuntil close")},
			"-", `"/c" size=11 gaps=false closed=true range=false:0-0 ` + sum("until close")},
		{"response without its request", all,
			[]step{resp(simpleResp)},
			"-", `"/libhtp::request_uri_not_seen" size=5 gaps=false closed=true range=false:0-0 ` + sum("hello")},
		{"content-range", all,
			[]step{req("GET /part HTTP/1.1\r\n\r\n"), resp("HTTP/1.1 206 Partial\r\nContent-Range: bytes 100-102/5000\r\nContent-Length: 3\r\n\r\nabc")},
			"-", `"/part" size=3 gaps=false closed=true range=true:100-102 ` + sum("abc")},
		{"no hashes unless asked", &Options{Files: true},
			[]step{req("GET /n HTTP/1.1\r\n\r\n"), resp(simpleResp)},
			"-", `"/n" size=5 gaps=false closed=true range=false:0-0 ` + noSum},
		{"files off", nil, []step{req("GET /n HTTP/1.1\r\n\r\n"), resp(simpleResp)}, "-", "-"},
	} {
		txs := feed(tc.opts, tc.steps...)
		if len(txs) == 0 {
			t.Fatalf("%s: no transactions", tc.name)
		}
		tx := txs[len(txs)-1]
		if got := fileString(tx.RequestFile); got != tc.req {
			t.Errorf("%s: request file\n got %s\nwant %s", tc.name, got, tc.req)
		}
		if got := fileString(tx.ResponseFile); got != tc.rsp {
			t.Errorf("%s: response file\n got %s\nwant %s", tc.name, got, tc.rsp)
		}
	}
}

func TestDispositionFilename(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`attachment; filename="eicar.txt"`, "eicar.txt"},
		{`attachment;filename=a.exe`, "a.exe"},
		{`  FILENAME="x y.pdf"; size=3`, "x y.pdf"},
		{`attachment; filename="a;b.txt"`, "a;b.txt"}, // ';' inside quotes
		{`inline; name="f"; filename=last`, "last"},
		{`attachment; filename*=UTF-8''x.txt`, ""}, // not "filename=": Suricata ignores it
		{`attachment`, ""},
		{`filename=`, ""},
		{``, ""},
		{`filename="`, ""},
	} {
		if got := string(dispositionFilename([]byte(tc.in))); got != tc.want {
			t.Errorf("dispositionFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"bytes 49283072-50331647/120746928", 49283072, 50331647, true},
		{"bytes 0-0/*", 0, 0, true},
		{"BYTES 5-9/10", 5, 9, true},
		{"bytes */100", 0, 0, false},
		{"bytes 9-5/10", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes", 0, 0, false},
	} {
		s, e, ok := parseContentRange([]byte(tc.in))
		if s != tc.start || e != tc.end || ok != tc.ok {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, s, e, ok)
		}
	}
}

// FuzzFileHeaders checks the header-value parsers behind file names and
// ranges for panics and for results that are not part of the input.
func FuzzFileHeaders(f *testing.F) {
	for _, s := range []string{`attachment; filename="eicar.txt"`, `filename="`, `bytes 1-2/3`, `a;;"\";filename=x`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if name := dispositionFilename(v); name != nil && !strings.Contains(string(v), string(name)) {
			t.Fatalf("filename %q is not in %q", name, v)
		}
		if s, e, ok := parseContentRange(v); ok && (s < 0 || e < s) {
			t.Fatalf("range %d-%d from %q", s, e, v)
		}
		parseChunkSize(v)
	})
}
