package dns

import (
	"bufio"
	"encoding/json"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// eveDNS is the part of a Suricata 7 EVE dns event the parser must match.
type eveDNS struct {
	Proto string `json:"proto"`
	DNS   struct {
		Type    string `json:"type"`
		ID      int    `json:"id"`
		RRName  string `json:"rrname"`
		RRType  string `json:"rrtype"`
		Answers []struct {
			RRName string          `json:"rrname"`
			RRType string          `json:"rrtype"`
			TTL    uint32          `json:"ttl"`
			RData  string          `json:"rdata"`
			SOA    json.RawMessage `json:"soa"`
			SRV    json.RawMessage `json:"srv"`
		} `json:"answers"`
	} `json:"dns"`
}

// corpusMessages parses every DNS message of a pcap: UDP and TCP on port
// 53 (what the reference Suricata run logged).
func corpusMessages(t testing.TB, path string) []*Message {
	pkts, err := pcaptest.Read(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	var out []*Message
	for _, p := range pkts {
		if p.TCP || (p.SrcPort != 53 && p.DstPort != 53) {
			continue
		}
		m := &Message{}
		if ParseDatagram(p.Payload, p.TS, 0, m) == nil {
			out = append(out, m)
		}
	}
	parsers := map[*pcaptest.TCPFlow]*StreamParser{}
	for _, ev := range pcaptest.TCPStreams(pkts) {
		if ev.Flow.Server.Port != 53 && ev.Flow.Client.Port != 53 {
			continue
		}
		sp := parsers[ev.Flow]
		if sp == nil {
			sp = &StreamParser{}
			parsers[ev.Flow] = sp
		}
		if ev.Gap > 0 {
			sp.Gap(flow.Direction(ev.Dir), ev.Gap)
			continue
		}
		sp.Parse(flow.Direction(ev.Dir), ev.Data, ev.TS, func(m *Message) {
			out = append(out, clone(m))
		})
	}
	return out
}

// clone deep-copies what the comparison needs.
func clone(m *Message) *Message {
	c := *m
	c.Questions = append([]Question(nil), m.Questions...)
	c.Answers = append([]Record(nil), m.Answers...)
	c.arena = nil
	m.arena = nil // the parser allocates a new arena: the slices stay ours
	return &c
}

// answerKey renders one answer the way the EVE comparison keys it.
func answerKey(rrname, rrtype string, ttl uint32, rdata string) string {
	return rrname + "|" + rrtype + "|" + strconv.FormatUint(uint64(ttl), 10) + "|" + rdata
}

// TestCorpusAgainstSuricata compares question names and answer records
// with Suricata 7.0.4's EVE dns events over every corpus pcap that has
// them (as multisets per pcap).
func TestCorpusAgainstSuricata(t *testing.T) {
	root := corpus.Path(t, "reference", "suricata-7.0.4-etopen")
	var eves []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eve.json") {
			eves = append(eves, p)
		}
		return nil
	})
	sort.Strings(eves)
	var qOK, qN, aOK, aN int
	for _, ep := range eves {
		f, err := os.Open(ep)
		if err != nil {
			t.Fatal(err)
		}
		wantQ, wantA := map[string]int{}, map[string]int{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), `"event_type":"dns"`) {
				continue
			}
			var e eveDNS
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("%s: %v", ep, err)
				continue
			}
			switch e.DNS.Type {
			case "query":
				wantQ[strconv.Itoa(e.DNS.ID)+"|"+e.DNS.RRName+"|"+e.DNS.RRType]++
			case "answer":
				for _, a := range e.DNS.Answers {
					if a.SOA != nil || a.SRV != nil {
						continue
					}
					wantA[answerKey(a.RRName, a.RRType, a.TTL, a.RData)]++
				}
			}
		}
		f.Close()
		if len(wantQ)+len(wantA) == 0 {
			continue
		}
		rel, _ := filepath.Rel(root, ep)
		msgs := corpusMessages(t, corpus.Path(t, "pcaps", strings.TrimSuffix(rel, ".eve.json")))
		gotQ, gotA := map[string]int{}, map[string]int{}
		for _, m := range msgs {
			if !m.Response() {
				for _, q := range m.Questions {
					gotQ[strconv.Itoa(int(m.ID))+"|"+string(AppendName(nil, q.Name))+"|"+TypeString(q.Type)]++
				}
				continue
			}
			for _, r := range m.Answers {
				if r.SOA != nil || r.SRV != nil {
					continue
				}
				if r.Type == TypeTXT && len(r.TXT) > 1 {
					// Suricata 7 logs one answer per character-string.
					for _, s := range r.TXT {
						gotA[answerKey(string(AppendName(nil, r.Name)), TypeString(r.Type), r.TTL, string(AppendName(nil, s)))]++
					}
					continue
				}
				gotA[answerKey(string(AppendName(nil, r.Name)), TypeString(r.Type), r.TTL, string(AppendName(nil, r.Data)))]++
			}
		}
		cmp := func(want, got map[string]int, ok, n *int, what string) {
			for k, c := range want {
				*n += c
				g := min(c, got[k])
				*ok += g
				if g < c {
					t.Logf("%s: %s missing %q (want %d got %d)", rel, what, k, c, got[k])
				}
			}
		}
		cmp(wantQ, gotQ, &qOK, &qN, "query")
		cmp(wantA, gotA, &aOK, &aN, "answer")
	}
	t.Logf("queries %d/%d, answers %d/%d", qOK, qN, aOK, aN)
	if qN == 0 || float64(qOK) < 0.97*float64(qN) {
		t.Errorf("queries agree %d/%d (want ≥ 97%%)", qOK, qN)
	}
	if aN == 0 || float64(aOK) < 0.97*float64(aN) {
		t.Errorf("answers agree %d/%d (want ≥ 97%%)", aOK, aN)
	}
}
