package http

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/polder-nsm/polder/internal/corpus"
)

func txKey(host, url, method string, status int) string {
	return fmt.Sprintf("%s|%s|%s|%d", host, url, method, status)
}

func compareWithEVE(t testing.TB, rel string) (missing, extra []string) {
	got := replayPcap(t, corpus.Path(t, "pcaps", rel))
	want := readEVE(t, corpus.Path(t, "reference", "suricata-7.0.4-etopen", rel+".eve.json"))
	count := map[string]int{}
	for _, w := range want {
		count[txKey(w.Hostname, w.URL, w.Method, w.Status)]++
	}
	for _, g := range got {
		k := txKey(string(g.Host), string(g.URI), string(g.Method), g.Status)
		if count[k] > 0 {
			count[k]--
			continue
		}
		extra = append(extra, k)
	}
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// TestCorpusSurvey prints how every corpus pcap with Suricata http events
// compares with Suricata.
// It is a development aid: POLDER_HTTP_SURVEY=1 go test -run Survey -v.
func TestCorpusSurvey(t *testing.T) {
	if os.Getenv("POLDER_HTTP_SURVEY") == "" {
		t.Skip("set POLDER_HTTP_SURVEY=1")
	}
	rels, _ := corpus.Pcaps(t)
	for _, rel := range rels {
		ref, err := os.ReadFile(corpus.Path(t, "reference", "suricata-7.0.4-etopen", rel+".eve.json"))
		if err != nil || !strings.Contains(string(ref), `"event_type":"http"`) {
			continue
		}
		m, x := compareWithEVE(t, rel)
		if len(m)+len(x) > 0 {
			t.Logf("%s: missing %d extra %d\n  missing: %s\n  extra:   %s", rel, len(m), len(x), trunc(m), trunc(x))
		}
	}
}

func trunc(s []string) string {
	if len(s) > 4 {
		s = append(s[:4:4], "…")
	}
	return strings.Join(s, " ; ")
}

// TestCorpusAgainstSuricata replays well-behaved HTTP captures and checks
// hostname, url, method and status of every transaction against Suricata
// 7.0.4's EVE output for the same pcap. These captures start with the
// handshake and have no loss, so the naive in-order concatenation in
// replayPcap is enough.
func TestCorpusAgainstSuricata(t *testing.T) {
	for _, name := range []string{
		"get.pcap", "get-gzip.pcap", "pipelined-requests.pcap", "100-continue.pcap", "post.pcap",
		"connect-with-header.pcap", "http-lower-case-nonstandard-port.pcap", "multipart.pcap",
		"x-gzip.pcap", "curl_http_09.pcap", "no-uri.pcap", "basic-auth-with-colon.pcap",
		"missing-zlib-header.pcap", "byteranges.pcap", "no-version.pcap",
	} {
		rel := filepath.Join("zeek", "http", name)
		t.Run(name, func(t *testing.T) {
			missing, extra := compareWithEVE(t, rel)
			if len(missing)+len(extra) > 0 {
				t.Errorf("differs from Suricata:\n  missing: %s\n  extra:   %s", trunc(missing), trunc(extra))
			}
		})
	}
}

// TestCorpusLength checks EVE "length" (response body bytes after
// de-chunking) and that compressed bodies decode.
func TestCorpusLength(t *testing.T) {
	for _, name := range []string{"get-gzip.pcap", "100-continue.pcap", "x-gzip.pcap", "pipelined-requests.pcap"} {
		rel := filepath.Join("zeek", "http", name)
		t.Run(name, func(t *testing.T) {
			got := replayPcap(t, corpus.Path(t, "pcaps", rel))
			want := readEVE(t, corpus.Path(t, "reference", "suricata-7.0.4-etopen", rel+".eve.json"))
			lens := map[string]int{}
			for _, w := range want {
				lens[fmt.Sprintf("%s %d", w.URL, w.Length)]++
			}
			for _, g := range got {
				k := fmt.Sprintf("%s %d", g.URI, g.ResponseBodyLen)
				if lens[k] == 0 {
					t.Errorf("url/length %q not in reference", k)
				}
				lens[k]--
				if g.Events&EventDecodeFailed != 0 {
					t.Errorf("%s: body did not decode", g.URI)
				}
			}
		})
	}
}

// TestCorpusOneDirection replays real captures with one direction removed,
// as seen behind asymmetric routing or a one-way tap, and with the
// handshake missing: the request side alone must still give method, host
// and URI; the response side alone, status and length.
func TestCorpusOneDirection(t *testing.T) {
	for _, name := range []string{"get.pcap", "pipelined-requests.pcap", "get-gzip.pcap"} {
		rel := filepath.Join("zeek", "http", name)
		want := readEVE(t, corpus.Path(t, "reference", "suricata-7.0.4-etopen", rel+".eve.json"))
		path := corpus.Path(t, "pcaps", rel)
		t.Run(name+"/requests only", func(t *testing.T) {
			got := replayPcapFilter(t, path, func(tl *layers.TCP) bool { return tl.SrcPort == 80 || tl.SYN })
			if len(got) != len(want) {
				t.Fatalf("got %d transactions, want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if string(g.Method) != w.Method || string(g.Host) != w.Hostname || string(g.URI) != w.URL || g.HasResponse {
					t.Errorf("tx %d: %s %s %s (response %v), want %s %s %s", i, g.Method, g.Host, g.URI, g.HasResponse, w.Method, w.Hostname, w.URL)
				}
			}
		})
		t.Run(name+"/responses only", func(t *testing.T) {
			got := replayPcapFilter(t, path, func(tl *layers.TCP) bool { return tl.DstPort == 80 || tl.SYN })
			if len(got) != len(want) {
				t.Fatalf("got %d transactions, want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if g.Status != w.Status || g.ResponseBodyLen != w.Length || len(g.Method) != 0 {
					t.Errorf("tx %d: status %d length %d, want %d %d", i, g.Status, g.ResponseBodyLen, w.Status, w.Length)
				}
			}
		})
	}
}

// TestCorpusMidStream: a capture that starts after the handshake (Suricata
// logs nothing for it) still gives the transaction tshark shows.
func TestCorpusMidStream(t *testing.T) {
	got := replayPcap(t, corpus.Path(t, "pcaps", "zeek", "http", "get_nosyn.pcap"))
	if len(got) != 1 || string(got[0].Host) != "bro.org" || string(got[0].URI) != "/download/CHANGES.bro-aux.txt" || got[0].Status != 200 {
		t.Fatalf("got %+v", views(got))
	}
}
