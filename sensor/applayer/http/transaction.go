// Package http parses HTTP/1.x request and response streams incrementally
// into transactions.
//
// A Parser takes the two directions of one flow as ordered byte chunks and
// gap notices (from the stream stage, via the pipeline) and emits a
// Transaction per request/response pair, in ID order, once the response is
// complete. Unlike libhtp it is built to log what Wireshark sees in
// captures that Suricata gives up on:
//
//   - one direction only: a response stream alone yields response-only
//     transactions; a request stream alone yields request-only ones at
//     Close (or when MaxPendingTx is exceeded);
//   - mid-stream pickup and gaps: bytes that are not a plausible start
//     line are skipped (counted in Stats.SkippedBytes) until one is found
//     at a line start, or at the start of a Parse call as Wireshark finds
//     requests at segment starts; a gap inside a body of known length is
//     stepped over without losing sync;
//   - tolerant lines as libhtp: LF-only endings, runs of spaces, folding,
//     a missing protocol (HTTP/0.9, or headers that follow anyway).
//
// Everything is bounded by Options; nothing panics on any input (FuzzParse)
// and the result does not depend on how the bytes were split into chunks
// (TestSplitEveryOffset), except while resynchronising.
package http

import "time"

// Header is one header line, name and value as sent (value trimmed of
// surrounding whitespace). Both slices are owned by the Transaction.
type Header struct {
	Name, Value []byte
}

// Transaction is one request and its response. Every byte slice is owned by
// the Transaction (copied out of the stream), so it stays valid after the
// parser moves on; the parser never reuses a Transaction it has handed out.
// Field names follow Suricata's EVE http object.
type Transaction struct {
	ID        uint64    // tx_id: index of the transaction in its flow, from 0
	Timestamp time.Time // time of the packet that completed the request line

	// Request.
	Method         []byte
	URI            []byte // request target as sent (EVE "url")
	Protocol       []byte // e.g. "HTTP/1.1"; empty for HTTP/0.9
	Host           []byte // Host header, or authority of an absolute URI, without port (EVE "hostname")
	Port           int    // port from Host/authority, 0 when absent (EVE "http_port")
	UserAgent      []byte
	Referer        []byte
	Cookie         []byte
	XFF            []byte
	ContentTypeReq []byte
	RequestHeaders []Header
	// RequestHeadersRaw is the header section exactly as received: every
	// header line (folded and malformed ones included) with its CRLF or
	// LF, then the empty line that ends it, then any trailer lines
	// (http.header.raw). At most MaxHeaderBytes plus the last line ending.
	RequestHeadersRaw []byte
	RequestBody       []byte // decoded body, truncated at the inspection limit
	RequestBodyLen    int64  // message-body bytes on the wire: chunk-size lines and CRLFs included (trailers not), before decompression; gap bytes inside a body included

	// Response.
	HasResponse        bool
	RespProtocol       []byte
	Status             int // 0 when no response was seen
	StatusMsg          []byte
	ContentType        []byte // response Content-Type, whole value (http.content_type); EVE "http_content_type" is the part before ';', trimmed, as Suricata logs it
	Location           []byte // EVE "redirect"
	ResponseHeaders    []Header
	ResponseHeadersRaw []byte // as RequestHeadersRaw, for the response
	ResponseBody       []byte // decoded (de-chunked, gunzipped) body, truncated at the inspection limit
	ResponseBodyLen    int64  // as RequestBodyLen, for the response: EVE "length" (libhtp response_message_len, which counts chunk framing)

	// RequestFile and ResponseFile are the bodies tracked as files when
	// Options.Files is set (see File); nil otherwise or when the message
	// has no body that is a file.
	RequestFile, ResponseFile *File

	// LogDisabled is set by the parser's consumer, never by the parser,
	// when a rule's config keyword (logging disable, type tx) matched the
	// transaction: it is then not logged, as Suricata's conditional
	// logging.
	LogDisabled bool

	RequestDone, ResponseDone bool
	Gap                       bool  // a stream gap hit this transaction
	Events                    Event // anomalies seen while parsing it (EVE anomaly / http events)

	// RequestLine and ResponseLine are the start lines as sent, without
	// CRLF (http.request_line, http.response_line).
	RequestLine, ResponseLine []byte

	respStarted bool // a status line has been attached (reset by 1xx)
	reqSeen     bool // a request line was parsed into this transaction
	discard     bool // parse target for bytes whose transaction was already emitted
}
