package http

import "strings"

// Event is a set of parser anomalies, one bit each, recorded per
// Transaction. They mirror the libhtp/Suricata http.* app-layer events the
// rule engine can match (app-layer-event:http.xxx) and never stop parsing.
type Event uint32

const (
	EventRequestLineInvalid    Event = 1 << iota // bytes skipped: not a plausible request line
	EventResponseLineInvalid                     // bytes skipped: not a plausible status line
	EventLineTooLong                             // a start/header line exceeded MaxHeaderBytes and was truncated
	EventTooManyHeaders                          // header lines past MaxHeaders were dropped
	EventHeaderSectionTooLarge                   // header bytes past MaxHeaderBytes were dropped
	EventHeaderInvalid                           // header line without a colon, or empty name
	EventFoldedHeader                            // obsolete line folding (RFC 9112 §5.2)
	EventContentLengthInvalid                    // unparsable or conflicting Content-Length
	EventChunkInvalid                            // bad chunk size line or missing CRLF after chunk data
	EventDecodeFailed                            // Content-Encoding body did not decode; raw kept
	EventBodyTruncated                           // body longer than the inspection limit
	EventMissingHost                             // HTTP/1.1 request without Host
	EventHostAmbiguous                           // absolute-URI authority and Host header differ
	EventGap                                     // a stream gap hit a header or framing line
	EventPendingOverflow                         // emitted early: too many transactions waiting for responses
	EventIncomplete                              // flow ended (Close) before the message ended
	EventLFOnly                                  // bare LF line endings
	EventHTTP09Response                          // response without status line (HTTP/0.9 style)
)

var eventNames = [...]string{
	"request_line_invalid", "response_line_invalid", "line_too_long", "too_many_headers",
	"header_section_too_large", "header_invalid", "folded_header", "content_length_invalid",
	"chunk_invalid", "decode_failed", "body_truncated", "missing_host", "host_ambiguous",
	"gap", "pending_overflow", "incomplete", "lf_only", "http09_response",
}

// String lists the set bits' names joined by "|", "" for none.
func (e Event) String() string {
	var b strings.Builder
	for i, n := range eventNames {
		if e&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}
