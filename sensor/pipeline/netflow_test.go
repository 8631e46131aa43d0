package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type netflowEvent struct {
	EventType string `json:"event_type"`
	FlowID    uint64 `json:"flow_id"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int    `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int    `json:"dest_port"`
	AppProto  string `json:"app_proto"`
	Netflow   *struct {
		Pkts   uint64 `json:"pkts"`
		Bytes  uint64 `json:"bytes"`
		MinTTL *int   `json:"min_ttl"`
		MaxTTL *int   `json:"max_ttl"`
		TxCnt  uint64 `json:"tx_cnt"`
	} `json:"netflow"`
	TCP *struct {
		Flags string `json:"tcp_flags"`
	} `json:"tcp"`
}

// setTTL rewrites the IPv4 TTL of frame i (Ethernet + IPv4 header).
func setTTL(tr *traffic, i int, ttl uint8) { tr.frames[i].Data[14+8] = ttl }

// TestNetflow: one record per direction with that direction's counters and
// TTL range, whatever the app layer did to the flow's orientation; none
// for a direction that sent nothing.
func TestNetflow(t *testing.T) {
	tr := newTraffic(t)
	// A DNS response seen before its query: the app layer swaps the flow.
	tr.udp(addrServer+":53", addrClient+":40000", dnsQuery(7, "example.com", true))
	setTTL(tr, 0, 50)
	tr.udp(addrClient+":40000", addrServer+":53", dnsQuery(8, "example.org", false))
	setTTL(tr, 1, 64)
	tr.udp(addrClient+":40000", addrServer+":53", dnsQuery(9, "example.net", false))
	setTTL(tr, 2, 60)
	// A TCP connection, the server's packets with TTL 47.
	c := tr.connect(addrClient+":40001", addrServer+":8080")
	c.send(clientToServer, "hello")
	c.send(1, "world")
	c.close()
	for i := 3; i < len(tr.frames); i++ {
		if tr.frames[i].Data[14+12] == 203 { // from the server
			setTTL(tr, i, 47)
		}
	}
	// One direction only.
	tr.udp(addrClient+":40002", addrServer+":9", "discard")

	dir := t.TempDir()
	pcap := tr.write(filepath.Join(dir, "in.pcap"))
	cfg := testConfig()
	cfg.EVE.Netflow = true
	cfg.EVE.Stats = false
	if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	flows := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e netflowEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		switch e.EventType {
		case "flow":
			flows++
		case "netflow":
			n := e.Netflow
			s := e.SrcIP + ":" + itoa(e.SrcPort) + " -> " + e.DestIP + ":" + itoa(e.DestPort) + " " + e.AppProto +
				" pkts " + itoa(int(n.Pkts))
			if n.MinTTL != nil {
				s += " ttl " + itoa(*n.MinTTL) + "-" + itoa(*n.MaxTTL)
			}
			if n.TxCnt > 0 {
				s += " tx " + itoa(int(n.TxCnt))
			}
			if e.TCP != nil {
				s += " flags " + e.TCP.Flags
			}
			got = append(got, s)
		}
	}
	want := []string{
		"10.0.0.1:40000 -> 203.0.113.10:53 dns pkts 2 ttl 60-64 tx 3",
		"203.0.113.10:53 -> 10.0.0.1:40000 dns pkts 1 ttl 50-50 tx 3",
		"10.0.0.1:40001 -> 203.0.113.10:8080 unknown pkts 6 ttl 64-64 flags 1b",
		"203.0.113.10:8080 -> 10.0.0.1:40001 unknown pkts 4 ttl 47-47 flags 1b",
		"10.0.0.1:40002 -> 203.0.113.10:9 unknown pkts 1 ttl 64-64",
	}
	slices.Sort(want)
	slices.Sort(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("netflow events (-want +got):\n%s", d)
	}
	if flows != 3 {
		t.Errorf("%d flow events, want 3 (netflow is written besides them)", flows)
	}
}
