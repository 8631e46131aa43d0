package ssh

import (
	"os"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// FuzzSSHParse feeds arbitrary client and server streams (b split at k),
// whole and cut at an arbitrary offset: no panic, bounded buffers, and the
// same Session either way; gaps anywhere must not panic either.
func FuzzSSHParse(f *testing.F) {
	for _, pcap := range []string{"zeek/ssh/ssh.pcap", "zeek/ssh/ssh_version_199.pcap", "zeek/ssh/server-pre-banner-data.pcap"} {
		if _, err := os.Stat(corpus.Path(f, "pcaps", pcap)); err != nil {
			continue
		}
		c, s := connStreams(f, pcap)
		c, s = c[:min(len(c), 4096)], s[:min(len(s), 4096)]
		f.Add(append(append([]byte(nil), c...), s...), uint16(len(c)), uint16(len(c)/2))
	}
	f.Add([]byte("SSH-2.0-a\rSSH-1.99-b-c d\n\x00\x00\x00\x0c\x0a\x15"), uint16(10), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, k, cut uint16) {
		n := int(k) % (len(b) + 1)
		client, server := string(b[:n]), string(b[n:])
		whole := run(client, server)
		i := int(cut) % (max(len(client), len(server)) + 1)
		split := run(client, server, i)
		if a, b := sessionText(whole.Session()), sessionText(split.Session()); a != b {
			t.Fatalf("split at %d changed the session:\n%s\n%s", i, a, b)
		}
		if whole.Done() != split.Done() || whole.Finished() != split.Finished() {
			t.Fatal("split changed Done/Finished")
		}
		for _, d := range split.dirs {
			if len(d.line) > MaxBanner {
				t.Fatalf("banner buffer %d bytes", len(d.line))
			}
		}
		s := split.Session()
		for _, e := range []*Endpoint{&s.Client, &s.Server} {
			if len(e.ProtoVersion)+len(e.SoftwareVersion) > MaxBanner {
				t.Fatal("versions over MaxBanner")
			}
		}
		p := NewParser()
		p.Parse(flow.ToServer, []byte(client[:min(i, len(client))]), t0)
		p.Gap(flow.ToServer, 17)
		p.Parse(flow.ToServer, []byte(client[min(i, len(client)):]), t0)
		p.Gap(flow.ToClient, 1)
		p.Parse(flow.ToClient, []byte(server), t0)
	})
}
