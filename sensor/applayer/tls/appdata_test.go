package tls

import (
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// TestAppData: AppData, Suricata's encryption-handling trigger, is set by
// the first application_data record, not by ChangeCipherSpec, and not by
// 0-RTT early data sent before the ServerHello.
func TestAppData(t *testing.T) {
	client, server := connStreams(t, "zeek/tls/tls1.2.pcap")
	p := NewParser()
	// The handshake alone (up to both Finished messages) encrypts both
	// directions but carries no application data yet.
	p.Parse(flow.ToServer, client[:clientHandshakeEnd(t, client)], time.Time{})
	p.Parse(flow.ToClient, server[:clientHandshakeEnd(t, server)], time.Time{})
	if s := p.Session(); !s.Encrypted || s.AppData {
		t.Fatalf("after the handshake: encrypted %v appdata %v", s.Encrypted, s.AppData)
	}
	p = run(client, server, nil, nil)
	if !p.Session().AppData {
		t.Error("application data not seen")
	}

	// Early data: a ClientHello offering early_data (42), then an
	// application_data record before any ServerHello.
	q := NewParser()
	q.sess.Extensions = []uint16{0, 42}
	q.record(flow.ToServer, ContentApplicationData, []byte{1, 2, 3})
	if q.Session().AppData {
		t.Error("0-RTT data taken for the end of the handshake")
	}
	q.sess.HasServerHello = true
	q.record(flow.ToServer, ContentApplicationData, []byte{1, 2, 3})
	if !q.Session().AppData {
		t.Error("application data after the ServerHello not seen")
	}
}

// clientHandshakeEnd returns the offset of the first application_data
// record of a stream of whole TLS records.
func clientHandshakeEnd(t *testing.T, b []byte) int {
	t.Helper()
	for off := 0; off+RecordHeaderLen <= len(b); {
		if b[off] == ContentApplicationData {
			return off
		}
		off += RecordHeaderLen + (int(b[off+3])<<8 | int(b[off+4]))
	}
	return len(b)
}
