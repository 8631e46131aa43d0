package pipeline

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/sensor/bypass"
	"github.com/polder-nsm/polder/sensor/bypass/bypasstest"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
)

// bypassRig runs a worker directly (as a live worker runs) so a test can
// play the kernel between packets: a bypasstest.Table stands in for the
// eBPF table.
type bypassRig struct {
	t   *testing.T
	dir string
	out *output
	w   *worker
	tab *bypasstest.Table
	tr  *traffic
	n   int // frames of tr already handled
}

// newBypassRig builds a worker with the rules of testdata/rules/rules ("" =
// none) and, when tab is not nil, tab as its capture table.
func newBypassRig(t *testing.T, rulesFile string, cfg *Config, tab *bypasstest.Table) *bypassRig {
	t.Helper()
	r := &bypassRig{t: t, dir: t.TempDir(), tab: tab, tr: newTraffic(t)}
	var err error
	r.out, err = newOutput(cfg, Options{LogDir: r.dir}, "wire/pcap")
	if err != nil {
		t.Fatal(err)
	}
	if tab != nil {
		if err := r.out.byp.live(&cfg.Bypass, tab, nil, nil2discard(), nil); err != nil {
			t.Fatal(err)
		}
	}
	r.w = newWorker(cfg, r.out)
	r.out.workers = []*worker{r.w}
	if rulesFile != "" {
		res := loadTestRules(t, rulesFile)
		if len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		sh, err := res.Engine.NewShared(nil)
		if err != nil {
			t.Fatal(err)
		}
		r.w.det = detect.NewThread(res.Engine, sh)
	}
	return r
}

// run handles the frames added to the traffic since the last run.
func (r *bypassRig) run() {
	for ; r.n < len(r.tr.frames); r.n++ {
		r.w.handleFrame(&r.tr.frames[r.n])
	}
}

// finish ends every flow and returns the EVE events and the counters.
func (r *bypassRig) finish() ([]eveEvent, map[string]uint64) {
	r.run()
	r.w.finish()
	st := map[string]uint64{}
	r.w.eachCounter(func(n string, v uint64) { st[n] = v })
	if err := r.out.close(); err != nil {
		r.t.Fatal(err)
	}
	return readEvents(r.t, filepath.Join(r.dir, "eve.json")), st
}

// key returns the flow key of a connection, client → server.
func key(c *tcpConn) flow.Key {
	return flow.Key{Src: c.cli.Addr().As16(), Dst: c.srv.Addr().As16(), SrcPort: c.cli.Port(), DstPort: c.srv.Port(),
		Proto: decode.IPProtoTCP, IPVersion: 4}
}

// flowRecord is the flow event of one client port, with the fields these
// tests read.
type flowRecord struct {
	Flow struct {
		PktsToServer  uint64 `json:"pkts_toserver"`
		PktsToClient  uint64 `json:"pkts_toclient"`
		BytesToServer uint64 `json:"bytes_toserver"`
		State         string `json:"state"`
		Bypass        string `json:"bypass"`
		Bypassed      *struct {
			PktsToServer  uint64 `json:"pkts_toserver"`
			PktsToClient  uint64 `json:"pkts_toclient"`
			BytesToServer uint64 `json:"bytes_toserver"`
		} `json:"bypassed"`
	} `json:"flow"`
}

func flowRecordOf(t *testing.T, dir string, port int) flowRecord {
	t.Helper()
	for _, line := range readEventsRaw(t, filepath.Join(dir, "eve.json")) {
		var e struct {
			EventType string `json:"event_type"`
			SrcPort   int    `json:"src_port"`
		}
		if json.Unmarshal(line, &e) == nil && e.EventType == "flow" && e.SrcPort == port {
			var r flowRecord
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no flow record from port %d", port)
	return flowRecord{}
}

// readEventsRaw returns the lines of an eve.json.
func readEventsRaw(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func nil2discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func bulkConn(tr *traffic, port string) *tcpConn {
	return tr.connect(addrClient+":"+port, addrServer+":8080")
}

// TestBypassCapture: a rule's bypass goes to the capture table; a packet
// still in flight counts as local_capture; sweeps add the kernel's counts
// to the flow and keep it alive; the flow's end removes the entry and
// writes bypass "capture" with the kernel's share.
func TestBypassCapture(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	tab := &bypasstest.Table{}
	r := newBypassRig(t, "bypass.rules", cfg, tab)
	c := bulkConn(r.tr, "40000")
	c.send(clientToServer, "BULK one") // alert and insert; the server's ACK is in flight
	r.run()
	k := key(c)
	if !tab.Has(k) {
		t.Fatal("flow not inserted in the capture table")
	}
	c.send(clientToServer, "in flight") // 2 more packets that still reach the sensor
	r.run()
	// The kernel drops 100 packets each way over the next 30 s; the
	// worker sweeps every 10 s of packet time (driven by another flow).
	other := r.tr.connect(addrClient2+":50000", addrServer+":9000")
	for i := range 3 {
		r.tr.wait(10 * time.Second)
		tab.Count(k, flow.ToServer, 100, 100_000, r.tr.now)
		tab.Count(k, flow.ToClient, 100, 6_000, r.tr.now)
		other.send(clientToServer, "tick")
		r.run()
		if got := r.w.byp.c.pkts; got != uint64(200*(i+1)) {
			t.Fatalf("sweep %d: flow_bypassed.pkts = %d", i, got)
		}
	}
	tab.Count(k, flow.ToServer, 5, 5000, r.tr.now) // counted after the last sweep
	evs, st := r.finish()

	want := map[string]uint64{
		"flow_bypassed.local_pkts": 0, "flow_bypassed.local_capture_pkts": 3,
		"flow_bypassed.pkts": 605, "flow_bypassed.bytes": 323_000, "flow_bypassed.closed": 1,
		"flow.end.state.capture_bypassed": 1, "flow.end.state.local_bypassed": 0,
	}
	for n, v := range want {
		if st[n] != v {
			t.Errorf("%s = %d, want %d", n, st[n], v)
		}
	}
	if tab.Has(k) {
		t.Error("entry not removed at flow end")
	}
	rec := flowRecordOf(t, r.dir, 40000)
	f := rec.Flow
	// Sensor: 3 handshake + 2 data + 2 ACKs (3 of them in flight); kernel: 105 + 100.
	if f.State != "bypassed" || f.Bypass != "capture" || f.Bypassed == nil ||
		f.Bypassed.PktsToServer != 305 || f.Bypassed.PktsToClient != 300 || f.PktsToServer != 305+4 || f.PktsToClient != 300+3 {
		t.Errorf("flow record %+v bypassed %+v", f, f.Bypassed)
	}
	alerts := 0
	for _, e := range evs {
		if e.EventType == "alert" {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d alerts, want 1", alerts)
	}
	if s := r.out.byp.stats(); s.Inserted != 1 || s.Removed != 1 || s.Mode != config.BypassSocketFilter {
		t.Errorf("bypass-stats %+v", s)
	}
	// The capture flow's record and the stats event are valid EVE.
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range readEventsRaw(t, filepath.Join(r.dir, "eve.json")) {
		if err := v.Validate(line); err != nil {
			t.Errorf("%v\n%s", err, line)
		}
	}
}

// TestBypassFallback: when the capture table cannot take the flow it is
// bypassed locally, counted by reason.
func TestBypassFallback(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*bypasstest.Table)
		reason bypass.Reason
	}{
		{"table full", func(tb *bypasstest.Table) {
			tb.Capacity = 1
			_ = tb.Insert(&flow.Key{Proto: 17, IPVersion: 4})
		}, bypass.ReasonTableFull},
		{"kernel refused", func(tb *bypasstest.Table) { tb.FailWith = bypass.Fail(bypass.ReasonKernel, syscall.EPERM) }, bypass.ReasonKernel},
		{"no permission", func(tb *bypasstest.Table) { tb.FailWith = bypass.ErrUnsupported }, bypass.ReasonUnsupported},
		{"foreign error", func(tb *bypasstest.Table) { tb.FailWith = syscall.ENOMEM }, bypass.ReasonKernel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.EVE.Stats = false
			tab := &bypasstest.Table{}
			tt.setup(tab)
			r := newBypassRig(t, "bypass.rules", cfg, tab)
			c := bulkConn(r.tr, "40000")
			c.send(clientToServer, "BULK one", "BULK two") // bypassed locally from the first's ACK on
			_, st := r.finish()
			if st["flow_bypassed.local_pkts"] != 3 || st["flow.end.state.local_bypassed"] != 1 {
				t.Errorf("local_pkts %d, local_bypassed %d", st["flow_bypassed.local_pkts"], st["flow.end.state.local_bypassed"])
			}
			s := r.out.byp.stats()
			if s.InsertFailed[tt.reason.String()] != 1 || s.Inserted != 0 {
				t.Errorf("bypass-stats %+v", s)
			}
			if rec := flowRecordOf(t, r.dir, 40000); rec.Flow.Bypass != "local" || rec.Flow.Bypassed != nil {
				t.Errorf("flow record %+v", rec.Flow)
			}
		})
	}
}

// TestBypassDowngrade: a capture-bypassed flow whose packets keep reaching
// the sensor past the grace period is bypassed locally instead.
func TestBypassDowngrade(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	cfg.Bypass.Grace = time.Second
	tab := &bypasstest.Table{}
	r := newBypassRig(t, "bypass.rules", cfg, tab)
	c := bulkConn(r.tr, "40000")
	c.send(clientToServer, "BULK one")
	r.run()
	k := key(c)
	tab.Count(k, flow.ToServer, 7, 700, r.tr.now)
	c.send(clientToServer, "in flight") // within the grace (with the ACK above): local_capture
	r.tr.wait(2 * time.Second)
	c.send(clientToServer, "still here", "and here") // past it: downgraded, then local
	_, st := r.finish()
	if tab.Has(k) {
		t.Error("kernel entry kept after the downgrade")
	}
	if st["flow_bypassed.local_capture_pkts"] != 4 || st["flow_bypassed.local_pkts"] != 3 ||
		st["flow_bypassed.pkts"] != 7 || st["flow.end.state.local_bypassed"] != 1 {
		t.Errorf("counters: %v", bypassStats(st))
	}
	if s := r.out.byp.stats(); s.Downgraded != 1 || s.Removed != 1 {
		t.Errorf("bypass-stats %+v", s)
	}
	if rec := flowRecordOf(t, r.dir, 40000); rec.Flow.Bypass != "local" {
		t.Errorf("flow record %+v", rec.Flow)
	}
}

func bypassStats(st map[string]uint64) map[string]uint64 {
	m := map[string]uint64{}
	for n, v := range st {
		if strings.HasPrefix(n, "flow_bypassed.") || strings.HasPrefix(n, "flow.end.state.") {
			m[n] = v
		}
	}
	return m
}

// TestBypassLeaked: with a capture table, a bypass decided on data goes to
// the kernel on that packet, without waiting for the peer's ACK. Packets
// captured before the insert (by their capture timestamp against the wall
// clock read at the insert) were in flight; later ones were missed by the
// kernel and count as leaked; only leaks past the grace downgrade.
func TestBypassLeaked(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	r := newBypassRig(t, "bypass.rules", cfg, nil)
	c := bulkConn(r.tr, "40000")
	r.run()
	// The sensor works 2.5 ms behind the wire: the insert happens when
	// the next two packets are already in the ring.
	insertAt := r.tr.now.Add(2500 * time.Microsecond)
	tab := &bypasstest.Table{}
	if err := r.out.byp.live(&cfg.Bypass, tab, func() time.Time { return insertAt }, nil2discard(), nil); err != nil {
		t.Fatal(err)
	}
	c.segment(clientToServer, "PA", []byte("BULK one")) // alert, inserted at once
	r.run()
	if !tab.Has(key(c)) {
		t.Fatal("not inserted on the packet that decided the bypass")
	}
	c.segment(serverToClient, "A", nil)                  // in flight
	c.segment(clientToServer, "PA", []byte("in flight")) // in flight
	c.segment(serverToClient, "A", nil)                  // leaked
	c.segment(clientToServer, "PA", []byte("leaked"))    // leaked
	r.run()
	if s := r.out.byp.stats(); s.Leaked != 2 || s.Downgraded != 0 || s.Inserted != 1 {
		t.Errorf("bypass-stats %+v", s)
	}
	_, st := r.finish()
	if st["flow_bypassed.local_capture_pkts"] != 4 || st["flow.end.state.capture_bypassed"] != 1 {
		t.Errorf("counters: %v", bypassStats(st))
	}
}

// TestBypassTiming: without a capture table (a replay), a bypass decided
// on data waits for the peer's ACK of that data, as Suricata's app layer
// and stream inspection see data only once acknowledged; on a one-sided
// capture it waits pendingMaxPkts packets. Packets without payload, and depth, bypass at once.
func TestBypassTiming(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	r := newBypassRig(t, "bypass.rules", cfg, nil)
	c := bulkConn(r.tr, "40000")
	c.segment(clientToServer, "PA", []byte("BULK one"))
	c.segment(clientToServer, "PA", []byte("BULK two")) // not yet acknowledged: inspected, alerts
	c.segment(serverToClient, "A", nil)                 // acknowledges both: bypass from here on
	c.send(clientToServer, "BULK three")
	c.close()
	// One-sided: a client whose server's packets the capture misses.
	d := bulkConn(r.tr, "40001")
	for i := range pendingMaxPkts + 5 {
		d.segment(clientToServer, "PA", []byte("BULK "+string(rune('a'+i%26))))
	}
	evs, st := r.finish()
	got := alertSummaries(t, evs)
	want := slices.Repeat([]string{"8001 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"}, 2)
	want = append(want, slices.Repeat([]string{"8001 10.0.0.1:40001 -> 203.0.113.10:8080 to_server -"}, pendingMaxPkts+1)...)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("alerts (-want +got):\n%s", d)
	}
	// 40000: "BULK three" + ACK + FIN, FIN, ACK; 40001: the last 4.
	if st["flow_bypassed.local_pkts"] != 5+4 {
		t.Errorf("local_pkts %d", st["flow_bypassed.local_pkts"])
	}
}

// TestBypassStreamDepth: with stream.bypass a session is bypassed on the
// packet that takes either direction to the depth; without, never.
func TestBypassStreamDepth(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := testConfig()
		cfg.EVE.Stats = false
		cfg.Stream.Depth = 16
		cfg.Bypass.StreamDepth = on
		r := newBypassRig(t, "", cfg, nil)
		c := r.tr.connect(addrClient+":40000", addrServer+":80")
		c.send(serverToClient, strings.Repeat("x", 20)) // depth reached: bypass now
		c.send(clientToServer, "more", "and more")
		_, st := r.finish()
		want := uint64(0)
		if on {
			want = 1 + 4 // the client's ACK, 2×(data, ACK)
		}
		if st["flow_bypassed.local_pkts"] != want {
			t.Errorf("stream.bypass=%v: local_pkts %d, want %d", on, st["flow_bypassed.local_pkts"], want)
		}
	}
}

// TestBypassOff: capture.bypass.mode off ignores every trigger.
func TestBypassOff(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	cfg.Bypass.Mode = config.BypassOff
	cfg.Bypass.StreamDepth = true
	cfg.Stream.Depth = 4
	r := newBypassRig(t, "bypass.rules", cfg, nil)
	c := bulkConn(r.tr, "40000")
	c.send(clientToServer, "BULK one", "BULK two")
	evs, st := r.finish()
	if n := len(alertSummaries(t, evs)); n != 1 { // depth 4: only the first chunk is reassembled
		t.Errorf("%d alerts", n)
	}
	if st["flow_bypassed.local_pkts"] != 0 || st["flow.end.state.local_bypassed"] != 0 {
		t.Errorf("bypassed although off: %v", bypassStats(st))
	}
}

// tlsAppData is a TLS 1.2 application_data record carrying payload.
func tlsAppData(payload string) string {
	b := []byte{0x17, 3, 3}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return string(b) + payload
}

// sshRecord is one cleartext SSH binary packet with message code code.
func sshRecord(code byte, body string) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(2+len(body)+4))
	b = append(b, 4, code)
	return string(b) + body + "\x00\x00\x00\x00"
}

// TestEncryptionHandling: Suricata 8's app-layer.protocols.{tls,ssh}.
// encryption-handling. track-only stops content inspection from the first
// TLS application data record (SSH: NEWKEYS both ways); full inspects it;
// bypass bypasses the flow once the peer acknowledged that data.
func TestEncryptionHandling(t *testing.T) {
	hello, _, _ := clientHello("example.com", []uint16{0xc02f}, []uint16{23})
	tlsSession := func(tr *traffic) {
		c := tr.connect(addrClient+":40000", addrServer+":443")
		c.send(clientToServer, hello)
		c.send(serverToClient, serverHello(0xc02f))
		c.send(clientToServer, "\x14\x03\x03\x00\x01\x01")
		c.send(serverToClient, "\x14\x03\x03\x00\x01\x01")
		c.send(clientToServer, tlsAppData("SECRET request"), tlsAppData("SECRET more"))
		c.send(serverToClient, tlsAppData("SECRET response"))
		c.close()
	}
	sshSession := func(tr *traffic) {
		c := tr.connect(addrClient+":40000", addrServer+":22")
		c.send(serverToClient, "SSH-2.0-OpenSSH_9.6\r\n")
		c.send(clientToServer, "SSH-2.0-PuTTY_0.80\r\n")
		c.send(clientToServer, sshRecord(20, "kexinit"))
		c.send(serverToClient, sshRecord(20, "kexinit"))
		c.send(serverToClient, sshRecord(21, ""))
		c.send(clientToServer, sshRecord(21, ""))
		c.send(clientToServer, "SECRET request", "SECRET more")
		c.send(serverToClient, "SECRET response")
		c.close()
	}
	tests := []struct {
		proto    string
		session  func(*traffic)
		handling string
		alerts   int
		local    uint64 // flow_bypassed.local_pkts
	}{
		{"tls", tlsSession, config.EncryptionTrackOnly, 0, 0},
		{"tls", tlsSession, config.EncryptionDefault, 0, 0},
		{"tls", tlsSession, config.EncryptionFull, 3, 0},
		// The first record's ACK applies the bypass: the second record
		// and everything after (with its ACK, the server's record and
		// ACK, 3 closing packets) is bypassed.
		{"tls", tlsSession, config.EncryptionBypass, 0, 2 + 2 + 3},
		{"ssh", sshSession, config.EncryptionTrackOnly, 0, 0},
		{"ssh", sshSession, config.EncryptionFull, 3, 0},
		// The client's NEWKEYS is acknowledged by the server's next ACK.
		{"ssh", sshSession, config.EncryptionBypass, 0, 2*3 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.proto+"/"+tt.handling, func(t *testing.T) {
			cfg := testConfig()
			cfg.EVE.Stats = false
			cfg.Bypass.TLS, cfg.Bypass.SSH = tt.handling, tt.handling
			r := newBypassRig(t, "encrypted.rules", cfg, nil)
			tt.session(r.tr)
			evs, st := r.finish()
			alerts, events := 0, 0
			for _, e := range evs {
				switch e.EventType {
				case "alert":
					alerts++
				case tt.proto:
					events++
				}
			}
			if alerts != tt.alerts || st["flow_bypassed.local_pkts"] != tt.local || events != 1 {
				t.Errorf("alerts %d (want %d), local_pkts %d (want %d), %s events %d", alerts, tt.alerts,
					st["flow_bypassed.local_pkts"], tt.local, tt.proto, events)
			}
		})
	}
}

// TestSSHEvent: the ssh event of a session from the corpus matches what
// Suricata 7.0.4 logged for it.
func TestSSHEvent(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.EVE.Stats = false
	if _, err := ReadFile(t.Context(), corpus.Path(t, "pcaps", "arkime", "ssh2.pcap"), Options{Config: cfg, LogDir: dir}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range readEventsRaw(t, filepath.Join(dir, "eve.json")) {
		var e struct {
			EventType string          `json:"event_type"`
			PcapCnt   int             `json:"pcap_cnt"`
			SSH       json.RawMessage `json:"ssh"`
		}
		if json.Unmarshal(line, &e) == nil && e.EventType == "ssh" {
			got = append(got, string(e.SSH))
		}
	}
	want := []string{`{"client":{"proto_version":"2.0","software_version":"OpenSSH_5.3"},"server":{"proto_version":"1.99","software_version":"OpenSSH_3.9p1"}}`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ssh events (-want +got):\n%s", d)
	}
}

// TestEligible: what the kernel program cannot bypass.
func TestEligible(t *testing.T) {
	frame := make([]byte, 100)
	tcpKey := flow.Key{Proto: decode.IPProtoTCP, IPVersion: 4}
	tests := []struct {
		name string
		p    decode.Packet
		k    flow.Key
		want bypass.Reason
	}{
		{"tcp", decode.Packet{Data: frame, IPVersion: 4, L3Offset: 14, L4Offset: 34}, tcpKey, bypass.ReasonNone},
		{"udp v6", decode.Packet{Data: frame, IPVersion: 6, L3Offset: 14, L4Offset: 54}, flow.Key{Proto: decode.IPProtoUDP, IPVersion: 6}, bypass.ReasonNone},
		{"icmp", decode.Packet{Data: frame}, flow.Key{Proto: decode.IPProtoICMP}, bypass.ReasonProto},
		{"tunnel", decode.Packet{Data: frame, Tunnel: 1}, tcpKey, bypass.ReasonTunnel},
		{"outer", decode.Packet{Data: frame, Outer: decode.Outer{IPVersion: 4}}, tcpKey, bypass.ReasonTunnel},
		{"defragmented", decode.Packet{Data: make([]byte, 60)}, tcpKey, bypass.ReasonFragment},
		{"v6 extension headers", decode.Packet{Data: frame, IPVersion: 6, L3Offset: 14, L4Offset: 62}, tcpKey, bypass.ReasonProto},
	}
	f := &capture.Frame{Data: frame}
	for _, tt := range tests {
		fl := &flow.Flow{Key: tt.k}
		if got := eligible(f, &tt.p, fl); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestNoAllocsBypassed: packets of a bypassed flow, local or in flight
// after a capture bypass, cost no allocation.
func TestNoAllocsBypassed(t *testing.T) {
	for _, capture := range []bool{false, true} {
		cfg := testConfig()
		cfg.EVE.Stats = false
		var tab *bypasstest.Table
		if capture {
			tab = &bypasstest.Table{}
			cfg.Bypass.Grace = time.Hour
		}
		r := newBypassRig(t, "bypass.rules", cfg, tab)
		c := bulkConn(r.tr, "40000")
		c.send(clientToServer, "BULK one", "BULK two")
		r.run()
		last := r.tr.frames[len(r.tr.frames)-2]
		before := r.w.byp.c
		if a := testing.AllocsPerRun(1000, func() { r.w.handleFrame(&last) }); a != 0 {
			t.Errorf("capture=%v: %.2f allocations per bypassed packet", capture, a)
		}
		if r.w.byp.c == before {
			t.Errorf("capture=%v: packets not counted as bypassed", capture)
		}
		r.finish()
	}
}

// BenchmarkBypassedPacket measures a locally bypassed packet end to end
// (decode, flow lookup, count, drop).
func BenchmarkBypassedPacket(b *testing.B) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	tr := newTraffic(b)
	c := tr.connect(addrClient+":40000", addrServer+":8080")
	c.send(clientToServer, "BULK one", strings.Repeat("y", 1400))
	out, err := newOutput(cfg, Options{LogDir: b.TempDir()}, "wire/pcap")
	if err != nil {
		b.Fatal(err)
	}
	defer out.close()
	w := newWorker(cfg, out)
	res, err := LoadRules(RuleConfig{Files: []string{filepath.Join("testdata", "rules", "bypass.rules")}})
	if err != nil {
		b.Fatal(err)
	}
	sh, _ := res.Engine.NewShared(nil)
	w.det = detect.NewThread(res.Engine, sh)
	for i := range tr.frames {
		w.handleFrame(&tr.frames[i])
	}
	f := tr.frames[len(tr.frames)-2]
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	for b.Loop() {
		w.handleFrame(&f)
	}
	if w.byp.c.localPkts == 0 {
		b.Fatal("not bypassed")
	}
}

// bypassTarget is a control target with bypass statistics.
type bypassTarget struct {
	fakeTarget
	run *bypassRun
}

func (b *bypassTarget) bypassStats() ControlBypassStats { return b.run.stats() }

// TestControlBypassStats: bypass-stats answers with the run's counters,
// and NOK where there are none.
func TestControlBypassStats(t *testing.T) {
	run := newBypassRun(&BypassConfig{Mode: config.BypassAuto})
	tab := &bypasstest.Table{Capacity: 8}
	if err := run.live(&BypassConfig{Mode: config.BypassXDP}, tab, nil, nil2discard(), nil); err != nil {
		t.Fatal(err)
	}
	_ = tab.Insert(&flow.Key{Proto: 6})
	run.inserts.Add(3)
	run.failed[bypass.ReasonTunnel].Add(2)
	s := newFakeServer(t, &fakeTarget{}, ControlOptions{})
	s.t = &bypassTarget{run: run}
	rep := s.do(ControlRequest{Command: "bypass-stats"})
	var got ControlBypassStats
	if !rep.OK() || json.Unmarshal(rep.Message, &got) != nil {
		t.Fatalf("reply %s", rep.Message)
	}
	if got.Mode != config.BypassXDP || got.Entries != 1 || got.Capacity != 8 || got.Inserted != 3 ||
		got.InsertFailed["tunnel"] != 2 || got.InsertFailed["table_full"] != 0 || len(got.InsertFailed) != int(bypass.NumReasons)-1 {
		t.Errorf("bypass-stats %+v", got)
	}
	s.t = &fakeTarget{}
	if rep := s.do(ControlRequest{Command: "bypass-stats"}); rep.OK() {
		t.Error("bypass-stats answered without bypass")
	}
	// A live run without a table bypasses locally and says so.
	local := newBypassRun(&BypassConfig{Mode: config.BypassSocketFilter})
	if err := local.live(&BypassConfig{Mode: config.BypassSocketFilter}, nil, nil, nil2discard(), nil); err != nil || local.stats().Mode != config.BypassLocal {
		t.Errorf("no table: %v %+v", err, local.stats())
	}
}

// TestBypassTableCounters: the counters bypass-stats reports are the ones
// stats events carry as bypass_table.* when outputs.eve.types.stats.
// bypass-table is on, insert failures by reason included.
func TestBypassTableCounters(t *testing.T) {
	cfg := testConfig()
	cfg.EVE.Stats = false
	tab := &bypasstest.Table{Capacity: 1}
	r := newBypassRig(t, "bypass.rules", cfg, tab)
	for _, port := range []string{"40000", "40001"} { // the second finds the table full
		c := bulkConn(r.tr, port)
		c.send(clientToServer, "BULK one")
		r.run()
	}
	got := map[string]uint64{}
	r.out.byp.eachTableCounter(func(n string, v uint64) { got[n] = v })
	want := map[string]uint64{
		"bypass_table.entries": 1, "bypass_table.capacity": 1, "bypass_table.inserted": 1,
		"bypass_table.insert_failed.table_full": 1, "bypass_table.downgraded": 0,
	}
	for n, v := range want {
		if got[n] != v {
			t.Errorf("%s = %d, want %d (all: %v)", n, got[n], v, got)
		}
	}
	st := r.out.byp.stats()
	if int(got["bypass_table.entries"]) != st.Entries || got["bypass_table.insert_failed.table_full"] != st.InsertFailed["table_full"] {
		t.Errorf("stats events and bypass-stats disagree: %v vs %+v", got, st)
	}
}
