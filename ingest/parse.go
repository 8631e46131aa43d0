package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/polder-nsm/polder/store"
)

// BadLine is why a line was skipped. It is a small enum so a bad line costs
// a counter, not an error value or a log record.
type BadLine uint8

// Reasons a line is skipped.
const (
	BadNone        BadLine = iota
	BadJSON                // not a JSON object
	BadNoTimestamp         // no "timestamp" string
	BadTimestamp           // "timestamp" not in EVE's format
	BadNoEventType         // no "event_type" string
	BadTooLong             // longer than Options.MaxLineBytes
	numBadLineReasons
)

func (r BadLine) String() string {
	switch r {
	case BadNone:
		return "ok"
	case BadJSON:
		return "not a JSON object"
	case BadNoTimestamp:
		return "no timestamp"
	case BadTimestamp:
		return "bad timestamp"
	case BadNoEventType:
		return "no event_type"
	case BadTooLong:
		return "line too long"
	}
	return "unknown"
}

// eveLine is the part of an EVE event that the store indexes. Unknown
// fields are skipped by the decoder.
type eveLine struct {
	Timestamp string `json:"timestamp"`
	EventType string `json:"event_type"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int    `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int    `json:"dest_port"`
	Proto     string `json:"proto"`
	FlowID    int64  `json:"flow_id"`
	AppProto  string `json:"app_proto"`
	Alert     *struct {
		SignatureID int64  `json:"signature_id"`
		Signature   string `json:"signature"`
		Severity    int    `json:"severity"`
	} `json:"alert"`
	HTTP *struct {
		Hostname string `json:"hostname"`
	} `json:"http"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	DNS *struct {
		RRName  string `json:"rrname"`
		Queries []struct {
			RRName string `json:"rrname"`
		} `json:"queries"`
	} `json:"dns"`
}

// EVE timestamps: Suricata writes "2017-04-05T20:15:44.654818+0000";
// RFC 3339 ("...Z", "+00:00") is accepted for JSON dropped in by other tools.
var timeLayouts = []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano}

// Parse extracts the indexed fields of one EVE JSON line (without its
// newline). e.Raw is set to line itself: the caller owns line and must
// copy it if it reuses the buffer. A line that is not a JSON object, or
// lacks a valid timestamp or event_type, gives a reason other than BadNone
// and an unspecified e.
func Parse(line []byte) (e store.Event, bad BadLine) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return e, BadJSON
	}
	var v eveLine
	if err := json.Unmarshal(line, &v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return e, BadJSON
		}
		// A field of an unexpected type (a string flow_id from some other
		// tool): keep what decoded, the raw line has the rest.
	}
	if v.Timestamp == "" {
		return e, BadNoTimestamp
	}
	if v.EventType == "" {
		return e, BadNoEventType
	}
	var err error
	for _, l := range timeLayouts {
		if e.Time, err = time.Parse(l, v.Timestamp); err == nil {
			break
		}
	}
	if err != nil {
		return e, BadTimestamp
	}
	e.EventType = v.EventType
	e.SrcIP, e.SrcPort, e.DestIP, e.DestPort = v.SrcIP, v.SrcPort, v.DestIP, v.DestPort
	e.Proto, e.FlowID, e.AppProto = v.Proto, v.FlowID, v.AppProto
	if a := v.Alert; a != nil {
		e.SigID, e.Signature, e.Severity = a.SignatureID, a.Signature, a.Severity
	}
	switch {
	case v.HTTP != nil && v.HTTP.Hostname != "":
		e.Host = v.HTTP.Hostname
	case v.TLS != nil && v.TLS.SNI != "":
		e.Host = v.TLS.SNI
	case v.DNS != nil && v.DNS.RRName != "":
		e.Host = v.DNS.RRName
	case v.DNS != nil && len(v.DNS.Queries) > 0:
		e.Host = v.DNS.Queries[0].RRName
	}
	e.Raw = line
	return e, BadNone
}
