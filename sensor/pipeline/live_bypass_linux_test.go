package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

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
	var live *Live
	srv := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		// The first 64 KiB, then the rest once the flow is in the kernel
		// table: the whole download takes a few ms, less than the
		// sensor's ring may lag behind, and the test is about the rest
		// being dropped in the kernel, not about the ring's backlog.
		io.WriteString(w, body[:64<<10])
		w.(nethttp.Flusher).Flush()
		for deadline := time.Now().Add(5 * time.Second); live.out.byp.inserts.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		io.WriteString(w, body[64<<10:])
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
	live, err = OpenLive(Options{Config: cfg, LogDir: dir, Engine: res.Engine, Bypass: tab})
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

// TestLiveBypassElephant is issue 4's end-to-end bar for capture bypass,
// on a real kernel: a network namespace joined to ours by a veth pair with
// offloads off (one packet per wire frame) and static neighbours (nothing
// on the link but the test's packets); a live sensor with the socket-filter
// bypass; a 256 MiB TCP download (the elephant) that a bypass rule sends to
// the kernel on its request, and UDP mice exchanged while it runs.
//
//   - Packets of the elephant that reached user space after the kernel
//     had its entry (bypass-stats leaked_pkts: capture timestamp later
//     than the insert) are at most 1% of the flow (measured: 0).
//     Packets already in the AF_PACKET ring at the insert are the
//     legitimate backlog (flow_bypassed.local_capture_pkts: about one
//     TPACKET_V3 block timeout, 10 ms, of the flow), logged: 105–1759
//     packets, 0.05–0.9% of this elephant's ~200,000, on a 2-core VM.
//   - The elephant's flow record totals, per direction, packets and
//     bytes, equal exactly what the link carried for it: the outer
//     end's interface counters (what our side sent and the namespace
//     sent back) minus the mice, whose packets are known exactly.
//   - Every mouse is inspected as if nothing were bypassed: each request
//     alerts, each flow record has all its packets and no bypass.
//   - Nothing is left in our namespace: the namespace, the interface and
//     its neighbour entry, the kernel's flow table and programs.
func TestLiveBypassElephant(t *testing.T) {
	netnstest.NeedRoot(t)
	const (
		elephantSize = 256 << 20
		mice         = 16  // UDP flows
		trips        = 10  // request/response pairs per mouse
		mouseLen     = 100 // UDP payload bytes
		mouseFrame   = 14 + 20 + 8 + mouseLen
	)
	var (
		v        *netnstest.VethPair
		tableIDs []bpfObject
	)
	// Registered before the pair exists, so it runs after every cleanup
	// that removes things (t.Cleanup is last in, first out).
	t.Cleanup(func() {
		if v == nil {
			return
		}
		left := append(v.Leftovers(), bpfLeft(tableIDs)...)
		if len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	v = netnstest.NewVethPair(t, "pe", 0)
	v.NoOffloads(t)

	var eln net.Listener
	var uconn net.PacketConn
	v.InNS(t, func() (err error) {
		if eln, err = net.Listen("tcp4", netip.AddrPortFrom(v.InnerAddr, 9000).String()); err != nil {
			return err
		}
		uconn, err = net.ListenPacket("udp4", netip.AddrPortFrom(v.InnerAddr, 5300).String())
		return err
	})
	t.Cleanup(func() { eln.Close(); uconn.Close() })
	go serveElephant(eln, elephantSize)
	go func() { // UDP echo, "MOUSE" → "REPLY"
		buf := make([]byte, 2048)
		for {
			n, from, err := uconn.ReadFrom(buf)
			if err != nil {
				return
			}
			copy(buf, "REPLY")
			uconn.WriteTo(buf[:n], from)
		}
	}()
	v.Up(t)
	v.StaticNeighbors(t)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "elephant.rules")
	if err := os.WriteFile(rulesPath, []byte(
		`alert tcp any any -> any 9000 (msg:"elephant"; flow:established,to_server; content:"ELEPHANT"; bypass; sid:1; rev:1;)`+"\n"+
			`alert udp any any -> any 5300 (msg:"mouse"; content:"MOUSE"; sid:2; rev:1;)`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := LoadRules(RuleConfig{Files: []string{rulesPath}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatal(err, res.Errors)
	}
	cfg := testConfig()
	cfg.SetInterfaces([]string{v.Outer}, 1)
	// A table size no other test uses, to find our map among the kernel's.
	size := 4096 + os.Getpid()%8192
	tab, err := kernel.Open(config.Bypass{Mode: config.BypassSocketFilter, TableSize: size}, cfg.InterfaceNames(), slog.New(slog.DiscardHandler))
	if err != nil || tab == nil {
		t.Fatalf("open kernel bypass table: %v", err)
	}
	if tableIDs = bpfObjects(t, size); len(tableIDs) < 2 {
		t.Fatalf("kernel objects of the table: %v (want the map and its programs)", tableIDs)
	}
	live, err := OpenLive(Options{Config: cfg, LogDir: dir, Engine: res.Engine, Bypass: tab})
	if err != nil {
		tab.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	before := v.OuterCounters(t)

	// The elephant, and the mice once it is under way.
	conn, err := net.DialTimeout("tcp4", netip.AddrPortFrom(v.InnerAddr, 9000).String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "ELEPHANT\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var head [1]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		t.Fatal(err)
	}
	miceErr := make(chan error, mice)
	for i := range mice {
		go func() { miceErr <- mouse(v.InnerAddr, i, trips, mouseLen) }()
	}
	n, err := io.Copy(io.Discard, conn)
	conn.Close()
	if err != nil || n+1 != elephantSize {
		t.Fatalf("elephant: %d bytes, %v", n+1, err)
	}
	for range mice {
		if err := <-miceErr; err != nil {
			t.Error(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // FIN/ACK exchange
	sent := v.OuterCounters(t).Sub(before)
	time.Sleep(500 * time.Millisecond) // let the sensor drain its ring
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := live.out.byp.stats()
	if err := tab.Close(); err != nil {
		t.Error(err)
	}

	var elephant map[string]any
	var stats map[string]any
	alerts := 0
	miceSeen := 0
	for _, e := range readEVE(t, filepath.Join(dir, "eve.json")) {
		switch e["event_type"] {
		case "alert":
			if e["alert"].(map[string]any)["signature_id"] == float64(2) {
				alerts++
			}
		case "stats":
			stats = e["stats"].(map[string]any)
		case "flow":
			rec := e["flow"].(map[string]any)
			switch e["dest_port"] {
			case float64(9000):
				elephant = rec
			case float64(5300):
				miceSeen++
				if rec["pkts_toserver"] != float64(trips) || rec["pkts_toclient"] != float64(trips) ||
					rec["bytes_toserver"] != float64(trips*mouseFrame) || rec["bytes_toclient"] != float64(trips*mouseFrame) ||
					rec["bypass"] != nil {
					t.Errorf("mouse from port %v: %v", e["src_port"], rec)
				}
			}
		}
	}
	if elephant == nil || stats == nil {
		t.Fatalf("no elephant flow record or no stats (bypass-stats %+v)", st)
	}
	if miceSeen != mice || alerts != mice*trips {
		t.Errorf("%d mouse flow records (want %d), %d mouse alerts (want %d)", miceSeen, mice, alerts, mice*trips)
	}
	fb := stats["flow_bypassed"].(map[string]any)
	capt := stats["capture"].(map[string]any)
	t.Logf("link: %+v", sent)
	t.Logf("elephant: %v", elephant)
	t.Logf("flow_bypassed: %v; capture: %v; bypass-stats: %+v", fb, capt, st)

	// The elephant's totals are exactly what the link carried for it.
	num := func(m map[string]any, k string) uint64 { f, _ := m[k].(float64); return uint64(f) }
	want := map[string]uint64{
		"pkts_toserver": sent.TxPackets - mice*trips, "bytes_toserver": sent.TxBytes - mice*trips*mouseFrame,
		"pkts_toclient": sent.RxPackets - mice*trips, "bytes_toclient": sent.RxBytes - mice*trips*mouseFrame,
	}
	for k, w := range want {
		if got := num(elephant, k); got != w {
			t.Errorf("elephant %s = %d, the link carried %d", k, got, w)
		}
	}
	if elephant["bypass"] != "capture" || st.Inserted != 1 || st.Removed != 1 || st.Downgraded != 0 {
		t.Errorf("elephant not capture-bypassed: flow %v, bypass-stats %+v", elephant, st)
	}
	if d := num(capt, "kernel_drops"); d != 0 {
		t.Errorf("the capture ring dropped %d packets", d)
	}

	// After the insert: leaked packets at most 1% of the flow.
	total := num(elephant, "pkts_toserver") + num(elephant, "pkts_toclient")
	byp, _ := elephant["bypassed"].(map[string]any)
	kernelPkts := num(byp, "pkts_toserver") + num(byp, "pkts_toclient")
	inFlight := num(fb, "local_capture_pkts")
	t.Logf("elephant %d packets: %d inspected before the bypass, %d in the ring at the insert (%.2f%%), %d leaked after it (%.3f%%), %d dropped in the kernel (%.2f%%)",
		total, total-kernelPkts-inFlight, inFlight-st.Leaked, pct(inFlight-st.Leaked, total), st.Leaked, pct(st.Leaked, total), kernelPkts, pct(kernelPkts, total))
	// The kernel has the flow from the packet after the request on: the
	// handshake and the request are all user space inspected.
	if before := total - kernelPkts - inFlight; before > 4 {
		t.Errorf("%d packets inspected before the bypass, want 4 (handshake, request)", before)
	}
	if st.Leaked*100 > total {
		t.Errorf("%d of the elephant's %d packets reached user space after the insert (> 1%%)", st.Leaked, total)
	}
	if kernelPkts == 0 || num(fb, "pkts") != kernelPkts || num(fb, "closed") != 1 {
		t.Errorf("kernel share %d, flow_bypassed %v", kernelPkts, fb)
	}
}

func pct(a, b uint64) float64 { return 100 * float64(a) / float64(max(b, 1)) }

// serveElephant answers each connection's request line with size bytes and
// closes it.
func serveElephant(ln net.Listener, size int) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				return
			}
			chunk := bytes.Repeat([]byte("elephant"), 8192) // 64 KiB
			for left := size; left > 0; left -= len(chunk) {
				if _, err := c.Write(chunk[:min(len(chunk), left)]); err != nil {
					return
				}
			}
		}()
	}
}

// mouse runs one UDP flow of trips request/response pairs, 20 ms apart,
// each payload n bytes.
func mouse(srv netip.Addr, i, trips, n int) error {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(srv, 5300)))
	if err != nil {
		return err
	}
	defer c.Close()
	req := make([]byte, n)
	copy(req, fmt.Sprintf("MOUSE %d", i))
	resp := make([]byte, n+1)
	for j := range trips {
		if j > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := c.Write(req); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if m, err := c.Read(resp); err != nil || m != n {
			return fmt.Errorf("mouse %d, trip %d: %d bytes, %v", i, j, m, err)
		}
	}
	return nil
}

// bpfObject is a kernel map or program by id.
type bpfObject struct {
	prog bool
	id   uint32
	name string
}

func (o bpfObject) String() string {
	kind := "map"
	if o.prog {
		kind = "program"
	}
	return fmt.Sprintf("%s %d (%s)", kind, o.id, o.name)
}

// bpfObjects finds the bypass flow table of size entries ("flows") and the
// programs that use it.
func bpfObjects(t *testing.T, size int) []bpfObject {
	t.Helper()
	var out []bpfObject
	var table ebpf.MapID
	for id, err := ebpf.MapGetNextID(0); err == nil; id, err = ebpf.MapGetNextID(id) {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		if info, err := m.Info(); err == nil && info.Name == "flows" && int(info.MaxEntries) == size {
			table = id
			out = append(out, bpfObject{id: uint32(id), name: info.Name})
		}
		m.Close()
	}
	if table == 0 {
		return nil
	}
	for id, err := ebpf.ProgramGetNextID(0); err == nil; id, err = ebpf.ProgramGetNextID(id) {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil {
			if maps, ok := info.MapIDs(); ok && slices.Contains(maps, table) {
				out = append(out, bpfObject{prog: true, id: uint32(id), name: info.Name})
			}
		}
		p.Close()
	}
	return out
}

// bpfLeft lists the objects that still exist, after waiting up to 2 s for
// the kernel to release them (a socket filter goes after an RCU grace
// period).
func bpfLeft(objs []bpfObject) []string {
	var left []string
	deadline := time.Now().Add(2 * time.Second)
	for _, o := range objs {
		for {
			var err error
			if o.prog {
				var p *ebpf.Program
				if p, err = ebpf.NewProgramFromID(ebpf.ProgramID(o.id)); err == nil {
					p.Close()
				}
			} else {
				var m *ebpf.Map
				if m, err = ebpf.NewMapFromID(ebpf.MapID(o.id)); err == nil {
					m.Close()
				}
			}
			if err != nil {
				break
			}
			if time.Now().After(deadline) {
				left = append(left, o.String())
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return left
}
