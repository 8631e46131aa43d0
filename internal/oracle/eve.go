package oracle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// eveEvent is the subset of an EVE record the oracle reads.
type eveEvent struct {
	EventType string `json:"event_type"`
	Proto     string `json:"proto"`
	AppProto  string `json:"app_proto"`
	SrcIP     string `json:"src_ip"`
	SrcPort   uint16 `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  uint16 `json:"dest_port"`
	VLAN      []int  `json:"vlan"`
	FlowID    uint64 `json:"flow_id"`
	Alert     *struct {
		SID       uint32 `json:"signature_id"`
		GID       uint32 `json:"gid"`
		Signature string `json:"signature"`
	} `json:"alert"`
	DNS *struct {
		Version int    `json:"version"`
		Type    string `json:"type"`
		RRName  string `json:"rrname"` // v2: the question name of query and answer events
		Queries []struct {
			RRName string `json:"rrname"`
		} `json:"queries"` // v3
	} `json:"dns"`
	HTTP *struct {
		Hostname string          `json:"hostname"`
		URL      string          `json:"url"`
		Protocol string          `json:"protocol"`
		HTTP2    json.RawMessage `json:"http2"`
	} `json:"http"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	Flow *struct {
		PktsToServer  uint64 `json:"pkts_toserver"`
		PktsToClient  uint64 `json:"pkts_toclient"`
		BytesToServer uint64 `json:"bytes_toserver"`
		BytesToClient uint64 `json:"bytes_toclient"`
		Start         string `json:"start"`
		End           string `json:"end"`
	} `json:"flow"`
}

// EVESets reads an EVE JSON file (one event per line) and returns the Sets
// its dns, http and tls events hold:
//   - dns: question names only, from v2 ("rrname" of query and answer
//     events) and v3 ("queries[].rrname") formats; answer records' names
//     are not question names and are ignored;
//   - http: (hostname, url) of HTTP/1.x transactions; HTTP/2 ones are
//     skipped because tshark reports them under http2.* fields;
//   - tls: "sni" of TCP flows.
//
// Other event types, including alerts that repeat app-layer metadata, are
// ignored. A line that is not JSON is an error naming the line.
func EVESets(evePath string) (Sets, error) {
	s := NewSets()
	err := readEVE(evePath, func(e *eveEvent) {
		switch e.EventType {
		case "dns":
			if e.DNS == nil {
				return
			}
			if e.DNS.RRName != "" {
				s.addDNS(e.DNS.RRName)
			}
			for _, q := range e.DNS.Queries {
				s.addDNS(q.RRName)
			}
		case "http":
			h := e.HTTP
			if h == nil || e.Proto != "TCP" || e.AppProto == "http2" || h.HTTP2 != nil || strings.HasPrefix(h.Protocol, "HTTP/2") {
				return
			}
			if h.URL == "" && h.Hostname == "" || h.URL == libhtpNoRequest {
				return // a response without its request: no request was seen
			}
			s.addHTTP(h.Hostname, h.URL)
		case "tls":
			if e.TLS != nil && e.Proto == "TCP" {
				s.addTLS(e.TLS.SNI)
			}
		}
	})
	return s, err
}

// libhtpNoRequest is the URI libhtp invents for a response whose request
// it never saw.
const libhtpNoRequest = "/libhtp::request_uri_not_seen"

func readEVE(path string, fn func(*eveEvent)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read eve: %w", err)
	}
	defer f.Close()
	return scanEVE(f, path, fn)
}

func scanEVE(r io.Reader, name string, fn func(*eveEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var e eveEvent
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("read eve %s:%d: %w", name, line, err)
		}
		fn(&e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read eve %s: %w", name, err)
	}
	return nil
}
