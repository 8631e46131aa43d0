package tls

import (
	"os"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// FuzzTLSParse feeds arbitrary client and server streams (b split at k),
// whole and cut at an arbitrary offset: no panic, bounded buffers, and the
// same Session either way.
func FuzzTLSParse(f *testing.F) {
	for _, pcap := range []string{"zeek/tls/tls1.2.pcap", "zeek/tls/tls13_psk_succesfull.pcap", "arkime/tls-split-client-hello.pcap"} {
		if _, err := os.Stat(corpus.Path(f, "pcaps", pcap)); err != nil {
			continue
		}
		c, s := connStreams(f, pcap)
		f.Add(append(append([]byte(nil), c...), s...), uint16(len(c)), uint16(len(c)/2))
	}
	f.Add(mustHex("801f0103010006000000100000040000050a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"), uint16(40), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, k, cut uint16) {
		n := int(k) % (len(b) + 1)
		client, server := b[:n], b[n:]
		whole := run(client, server, nil, nil)
		i := int(cut) % (len(client) + 1)
		j := int(cut) % (len(server) + 1)
		split := run(client, server, []int{i}, []int{j})
		if a, b := sessionText(whole.Session()), sessionText(split.Session()); a != b {
			t.Fatalf("split at %d/%d changed the session:\n%s\n%s", i, j, a, b)
		}
		if whole.Done() != split.Done() {
			t.Fatal("split changed Done")
		}
		for _, d := range split.dirs {
			if len(d.hs) > MaxHandshake || len(d.rec) > RecordHeaderLen+MaxRecordLen {
				t.Fatalf("buffers over limit: %d %d", len(d.hs), len(d.rec))
			}
		}
		// Gaps anywhere must not panic either.
		p := NewParser()
		p.Parse(flow.ToServer, client[:i], time.Time{})
		p.Gap(flow.ToServer, 17)
		p.Parse(flow.ToServer, client[i:], time.Time{})
		_ = p.Session().Buffer("ja3.hash")
	})
}
