package http

// Defaults for Options fields left at zero.
const (
	// DefaultBodyLimit is Suricata's default request-body-limit and
	// response-body-limit (100 KiB): body bytes kept for inspection.
	DefaultBodyLimit = 100 << 10
	// DefaultMaxHeaderBytes bounds one start or header line and the header
	// section kept per message. libhtp's hard field limit is 18000 bytes per
	// line; 32 KiB per section leaves room for large cookie sets.
	DefaultMaxHeaderBytes = 32 << 10
	// DefaultMaxHeaders bounds the header lines kept per message. Real
	// traffic rarely exceeds 40; 256 is generous and still bounded.
	DefaultMaxHeaders = 256
	// DefaultMaxPendingTx bounds the transactions waiting for a response.
	// Pipelining depth in real traffic is a handful; 64 keeps a flow whose
	// responses are never seen to a bounded queue.
	DefaultMaxPendingTx = 64
)

// Options configures a Parser. The zero value means every default. One
// Options value may be shared by all parsers of a worker; NewParser copies
// it.
type Options struct {
	// RequestBodyLimit is how many bytes of the decoded request body a
	// Transaction keeps for inspection (http.request_body). 0 means
	// DefaultBodyLimit (100 KiB); negative keeps none. Bytes past the limit
	// are still counted in RequestBodyLen.
	RequestBodyLimit int
	// ResponseBodyLimit is the same for the response body (file.data). 0
	// means DefaultBodyLimit; negative keeps none. It also bounds the
	// output of gzip/deflate decoding and the compressed input kept.
	ResponseBodyLimit int
	// MaxHeaderBytes is the longest start or header line kept, and the most
	// header-section bytes kept per message. Longer lines are truncated,
	// extra headers dropped (framing headers are still honoured), each with
	// an Event. 0 means DefaultMaxHeaderBytes (32 KiB).
	MaxHeaderBytes int
	// MaxHeaders is the most header lines kept per message (trailers
	// included). 0 means DefaultMaxHeaders (256).
	MaxHeaders int
	// MaxPendingTx is the most transactions a flow holds while they wait
	// for their response. When a request makes the queue longer, the
	// oldest is emitted without its response (EventPendingOverflow); its
	// response, if it comes later, is parsed to keep request/response
	// pairing in step but not logged. 0 means DefaultMaxPendingTx (64).
	MaxPendingTx int
	// OnRequest, when set, is called with a transaction as soon as its
	// request (headers and body) is complete, before the response: the
	// rule engine inspects the request buffers then, at the packet that
	// completed the request. The transaction is emitted later as usual.
	OnRequest func(*Transaction)
	// Stats, when set, receives the parser counters. It is not
	// synchronised: share one Stats only among parsers of one worker.
	Stats *Stats
	// Files tracks message bodies as files (Transaction.RequestFile and
	// ResponseFile), as Suricata does when file logging is on. Off by
	// default: it costs a small allocation per body.
	Files bool
	// FileHashes selects the checksums computed over every file; 0 (the
	// default) computes none. Ignored without Files.
	FileHashes FileHash
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.RequestBodyLimit == 0 {
		r.RequestBodyLimit = DefaultBodyLimit
	} else if r.RequestBodyLimit < 0 {
		r.RequestBodyLimit = 0
	}
	if r.ResponseBodyLimit == 0 {
		r.ResponseBodyLimit = DefaultBodyLimit
	} else if r.ResponseBodyLimit < 0 {
		r.ResponseBodyLimit = 0
	}
	if r.MaxHeaderBytes <= 0 {
		r.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if r.MaxHeaders <= 0 {
		r.MaxHeaders = DefaultMaxHeaders
	}
	if r.MaxPendingTx <= 0 {
		r.MaxPendingTx = DefaultMaxPendingTx
	}
	return r
}

// Stats counts parser activity across the flows of one worker. These become
// app_layer / http stats in EVE. Fields are plain counters: the owning worker
// reads them with Each.
type Stats struct {
	Transactions   uint64 // transactions emitted
	Requests       uint64 // request lines parsed
	Responses      uint64 // status lines parsed (interim 1xx included)
	ResponseOnly   uint64 // transactions whose request was never seen
	RequestOnly    uint64 // transactions emitted without a response
	SkippedBytes   uint64 // bytes dropped while resynchronising
	Gaps           uint64 // Gap calls
	GapBytes       uint64
	PendingDropped uint64 // transactions forced out by MaxPendingTx
	// ResponsesUnmatched counts responses parsed but not logged because
	// their request had already been forced out by MaxPendingTx.
	ResponsesUnmatched uint64
	DecodeErrors       uint64 // gzip/deflate bodies that failed to decode
	Tunnels            uint64 // CONNECT/Upgrade switches to opaque tunnel
}

// Each calls fn for every counter with its stats name, in a fixed order.
func (s *Stats) Each(fn func(name string, v uint64)) {
	fn("http.tx", s.Transactions)
	fn("http.requests", s.Requests)
	fn("http.responses", s.Responses)
	fn("http.response_only", s.ResponseOnly)
	fn("http.request_only", s.RequestOnly)
	fn("http.skipped_bytes", s.SkippedBytes)
	fn("http.gaps", s.Gaps)
	fn("http.gap_bytes", s.GapBytes)
	fn("http.pending_dropped", s.PendingDropped)
	fn("http.responses_unmatched", s.ResponsesUnmatched)
	fn("http.decode_errors", s.DecodeErrors)
	fn("http.tunnels", s.Tunnels)
}
