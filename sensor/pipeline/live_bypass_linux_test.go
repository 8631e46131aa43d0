package pipeline

import (
	"context"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/netnstest"
	"github.com/polder-nsm/polder/sensor/bypass/kernel"
	"github.com/polder-nsm/polder/sensor/config"
)

// TestLiveBypassVeth runs a live sensor with the kernel's socket-filter
// bypass (bpf/bypass through sensor/bypass/kernel) on a veth: a rule
// bypasses an HTTP download after its request, the socket filter drops the
// rest of the response, and the flow record adds the kernel's packets to
// the sensor's with bypass "capture".
func TestLiveBypassVeth(t *testing.T) {
	netnstest.NeedRoot(t)
	v := netnstest.NewVethPair(t, "pb", 0)
	var ln net.Listener
	v.InNS(t, func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(v.InnerAddr, 8080).String())
		return err
	})
	body := strings.Repeat("bulk data ", 200_000) // 2 MB
	srv := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		io.WriteString(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	v.Up(t)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "bypass.rules")
	if err := os.WriteFile(rulesPath, []byte(`alert tcp any any -> any 8080 (msg:"bulk download"; content:"GET /bulk"; bypass; sid:1; rev:1;)`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := LoadRules(RuleConfig{Files: []string{rulesPath}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatal(err, res.Errors)
	}
	cfg := testConfig()
	cfg.SetInterfaces([]string{v.Outer}, 1)
	log := slog.New(slog.DiscardHandler)
	tab, err := kernel.Open(config.Bypass{Mode: config.BypassSocketFilter, TableSize: 1024}, cfg.InterfaceNames(), log)
	if err != nil || tab == nil {
		t.Fatalf("open kernel bypass table: %v", err)
	}
	live, err := OpenLive(Options{Config: cfg, LogDir: dir, Engine: res.Engine, Bypass: tab})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)

	client := &nethttp.Client{Timeout: 10 * time.Second, Transport: &nethttp.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + netip.AddrPortFrom(v.InnerAddr, 8080).String() + "/bulk")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != int64(len(body)) {
		t.Fatalf("downloaded %d bytes", n)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := live.out.byp.stats()
	if err := tab.Close(); err != nil {
		t.Error(err)
	}

	var rec, stats map[string]any
	for _, e := range readEVE(t, filepath.Join(dir, "eve.json")) {
		switch e["event_type"] {
		case "flow":
			if e["dest_port"] == float64(8080) {
				rec = e["flow"].(map[string]any)
			}
		case "stats":
			stats = e["stats"].(map[string]any)
		}
	}
	if rec == nil || stats == nil {
		t.Fatalf("no flow record or stats (bypass-stats %+v)", st)
	}
	t.Logf("flow %v; bypass-stats %+v; flow_bypassed %v", rec, st, stats["flow_bypassed"])
	byp, _ := rec["bypassed"].(map[string]any)
	if rec["bypass"] != "capture" || byp == nil || byp["pkts_toclient"].(float64) == 0 {
		t.Fatalf("flow record: %v", rec)
	}
	if rec["pkts_toclient"].(float64) <= byp["pkts_toclient"].(float64) {
		t.Errorf("totals %v do not add the sensor's packets to the kernel's %v", rec["pkts_toclient"], byp["pkts_toclient"])
	}
	fb := stats["flow_bypassed"].(map[string]any)
	if fb["closed"].(float64) != 1 || fb["pkts"].(float64) != byp["pkts_toclient"].(float64)+byp["pkts_toserver"].(float64) {
		t.Errorf("flow_bypassed %v", fb)
	}
	if st.Inserted != 1 || st.Removed != 1 || st.Mode != config.BypassSocketFilter {
		t.Errorf("bypass-stats %+v", st)
	}
}
