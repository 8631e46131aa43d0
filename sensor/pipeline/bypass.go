package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/polder-nsm/polder/sensor/bypass"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// Flow bypass (issue 4). Once the sensor decides a flow needs no more
// inspection, its packets stop costing work:
//
//   - Triggers: a rule's bypass keyword (the engine sets
//     flow.FlagWantBypass), stream depth reached on either side with
//     stream.bypass, and an encrypted TLS or SSH session with
//     encryption-handling bypass (applayer.go).
//   - Timing: Suricata's app layer and stream inspection see data in IDS
//     mode only once the peer acknowledged it, and the bypass takes effect
//     from the packet after the one whose processing decided it. polder
//     parses data when it arrives, so without a capture table (a pcap
//     file, mode local) a bypass decided on a packet with payload waits
//     for the peer's ACK of that payload (or, on a one-sided capture, for
//     pendingMaxPkts more packets): the packets a bypass leaves to
//     inspection, and the flow_bypassed counts, are Suricata's. With a
//     capture table the flow goes to the kernel on the packet that decided
//     it: waiting for the ACK would let up to a round trip of the flow
//     into the ring (a window of an elephant at line rate, when the sensor
//     sits far from the acknowledging peer) only to drop it in user space,
//     and a live capture's packet counts are not reproducible anyway.
//     Depth and packets without payload bypass at once.
//   - Kinds: with a capture table (bypass.Table: the eBPF socket filter or
//     XDP program of bpf/) the flow is inserted there; when that cannot
//     be done (no table, mode local, a fragment or tunnel, table full,
//     kernel refused) the flow is bypassed locally. A locally bypassed
//     packet is counted in its flow (flow.Table.Lookup did that) and in
//     flow_bypassed.local_{pkts,bytes}, and dropped right after the flow
//     lookup, before stream, app layer and detection.
//   - Capture bypass: packets in flight when the entry was installed
//     (already in the capture ring: with TPACKET_V3 a block reaches user
//     space when it is full or after the block timeout, so the backlog is
//     up to a ring of packets) still arrive; they count as
//     flow_bypassed.local_capture_{pkts,bytes} and are dropped like local
//     ones. A packet whose capture timestamp is later than the insert's
//     return met the kernel's entry: it was not in flight but missed by
//     the kernel (bypass-stats leaked_pkts). If such
//     packets keep arriving past BypassConfig.Grace after the insert
//     (wrong interface, VLAN offload, XDP that sees one direction only),
//     the flow is downgraded to local bypass and counted.
//   - Expiry: bypassed flows stay in the flow table on the bypassed timeout
//     (flow-timeouts.<proto>.bypassed). Every BypassConfig.Sweep the worker
//     reads the kernel counters of its capture-bypassed flows in one batch
//     and adds what is new to the flow (and to flow_bypassed.{pkts,bytes}),
//     which also keeps active flows from timing out; when the flow ends its
//     entry is removed, the final counters are added and the flow record
//     says bypass "capture" with the kernel's share under "bypassed"
//     (flow_bypassed.closed counts these).

// Encryption handling of one protocol (config.Encryption*).
type encHandling uint8

const (
	encTrackOnly encHandling = iota // keep parsing, stop content inspection
	encFull                         // inspect everything
	encBypass                       // bypass the flow
)

func parseEncHandling(s string) encHandling {
	switch s {
	case config.EncryptionFull:
		return encFull
	case config.EncryptionBypass:
		return encBypass
	}
	return encTrackOnly // "track-only", Suricata 8's deprecated "default", or unset
}

// BypassConfig configures flow bypass (config: capture.bypass,
// stream.bypass, app-layer.{tls,ssh}.encryption-handling).
type BypassConfig struct {
	// Mode is config.BypassAuto, BypassOff, BypassLocal,
	// BypassSocketFilter or BypassXDP. Reading a file always bypasses
	// locally (unless off); a live sensor uses Options.Bypass for the
	// kernel modes and auto.
	Mode string
	// TableSize is how many flows the kernel table holds, for the loader.
	TableSize int
	// StreamDepth bypasses a TCP session once either direction reached
	// the reassembly depth (stream.bypass).
	StreamDepth bool
	// TLS and SSH are the encryption handlings (config.Encryption*).
	TLS, SSH string
	// Grace is how long packets of a capture-bypassed flow may keep
	// reaching the sensor before it is downgraded to local bypass; 0 =
	// 5 s. Suricata waits half the bypassed timeout (50 s); the ring
	// backlog measured in notes/bypass.md drains in well under a second,
	// so 5 s leaves a wide margin and stops wasted work sooner.
	Grace time.Duration
	// Sweep is how often a worker reads the kernel counters of its
	// capture-bypassed flows; 0 = 10 s (Suricata's FLOW_BYPASS_DELAY).
	Sweep time.Duration
}

func bypassConfig(c *config.Config) BypassConfig {
	return BypassConfig{
		Mode:        c.Capture.Bypass.Mode,
		TableSize:   c.Capture.Bypass.TableSize,
		StreamDepth: c.Stream.Bypass,
		TLS:         c.AppLayer.TLS.EncryptionHandling,
		SSH:         c.AppLayer.SSH.EncryptionHandling,
	}
}

// pendingMaxPkts bounds how many further packets of a flow a bypass decided
// on a packet with payload waits for the peer's acknowledgement of it: a
// capture that sees one direction only never shows that ACK.
const pendingMaxPkts = 32

// bypassRun is the bypass state of one run, shared by its workers: the
// capture table and the counters that are not per worker (they change once
// per flow, never per packet, so atomics cost nothing that matters).
type bypassRun struct {
	off   bool
	tab   bypass.Table // nil: local bypass only
	mode  string       // the resolved mode, for bypass-stats
	grace int64        // ns
	sweep int64        // ns
	tls   encHandling
	ssh   encHandling
	depth bool
	// clock is wall time, the clock of live capture timestamps; nil (a
	// replay, or a test driving a worker) uses packet time.
	clock   func() time.Time
	inserts atomic.Uint64
	removes atomic.Uint64
	downs   atomic.Uint64
	leaked  atomic.Uint64 // packets of capture-bypassed flows stamped after their insert: per packet, but only for packets the kernel missed (normally none)
	failed  [bypass.NumReasons]atomic.Uint64
	readErr atomic.Uint64
}

func newBypassRun(c *BypassConfig) *bypassRun {
	r := &bypassRun{
		off:   c.Mode == config.BypassOff,
		mode:  config.BypassLocal,
		grace: int64(c.Grace),
		sweep: int64(c.Sweep),
		tls:   parseEncHandling(c.TLS),
		ssh:   parseEncHandling(c.SSH),
		depth: c.StreamDepth && c.Mode != config.BypassOff,
	}
	if r.off {
		r.mode = config.BypassOff
		// Nothing is bypassed: encrypted sessions are tracked as with
		// track-only.
		if r.tls == encBypass {
			r.tls = encTrackOnly
		}
		if r.ssh == encBypass {
			r.ssh = encTrackOnly
		}
	}
	if r.grace <= 0 {
		r.grace = int64(5 * time.Second)
	}
	if r.sweep <= 0 {
		r.sweep = int64(10 * time.Second)
	}
	return r
}

// live switches a live run to its capture table tab (Options.Bypass) and
// attaches the table's program to each capture socket. Without a table the
// kernel modes fall back to local bypass, which the log says once. clock is
// the wall clock capture timestamps are comparable with (nil: packet time).
func (r *bypassRun) live(c *BypassConfig, tab bypass.Table, clock func() time.Time, log *slog.Logger, srcs []*capture.LiveSource) error {
	if r.off || c.Mode == config.BypassLocal {
		return nil
	}
	mode := c.Mode
	if mode == config.BypassAuto {
		mode = config.BypassSocketFilter
	}
	if tab == nil {
		log.Info("no capture bypass table: bypassed flows are dropped in user space", "mode", mode)
		r.mode = config.BypassLocal
		return nil
	}
	if a, ok := tab.(bypass.Attacher); ok {
		for _, s := range srcs {
			if err := a.Attach(s.Interface(), s.FD()); err != nil {
				return fmt.Errorf("attach %s bypass to %s: %w", mode, s.Interface(), err)
			}
		}
	}
	r.tab, r.mode, r.clock = tab, mode, clock
	return nil
}

// bypassCounters are one worker's flow_bypassed counters (Suricata's names).
type bypassCounters struct {
	localPkts, localBytes               uint64 // packets of locally bypassed flows
	localCapturePkts, localCaptureBytes uint64 // packets of capture-bypassed flows that still arrived
	pkts, bytes                         uint64 // counted by the kernel for this worker's flows
	closed                              uint64 // capture-bypassed flows ended (their entries removed)
}

// workerBypass is a worker's bypass state.
type workerBypass struct {
	run *bypassRun
	c   bypassCounters

	// The worker's capture-bypassed flows, for sweeps: flows[i] has key
	// keys[i] and state caps[i]; index maps a flow to its i. ctrs is the
	// Read buffer. They grow once per capture-bypassed flow, never per
	// packet, and keep their capacity.
	flows []*flow.Flow
	keys  []flow.Key
	caps  []captureBypass
	ctrs  []bypass.Counters
	index map[*flow.Flow]int32

	// ended is the flow flowEnd is finishing with the kernel's final
	// counters, for its flow record (valid during that flowEnd only).
	ended struct {
		fl     *flow.Flow
		kernel bypass.Counters
	}
	lastSweep int64
}

// captureBypass is the state of a flow in the capture table.
type captureBypass struct {
	kernel bypass.Counters // the kernel's counters already added to the flow
	// at is when the entry was installed (ns): wall time read just
	// after Insert returned, comparable with capture timestamps.
	// AF_PACKET stamps a packet after its socket filter (and XDP) ran,
	// so a packet stamped later met the entry and should have been
	// dropped. Read before Insert it would also count packets stamped
	// while the insert was under way (measured: up to 24, with inserts
	// taking 30–90 µs of wall time as softirqs interrupt the worker).
	// Packet time of the deciding packet without bypassRun.clock.
	at int64
}

// flowBypass is the bypass state every flow carries: 8 bytes, as the
// per-flow budget (TestFlowStateSize) is tight; capture-bypassed flows
// have the rest in workerBypass.
type flowBypass struct {
	seq    uint32         // pending: the peer's ACK must reach this
	state  uint8          // bypassNone, bypassPending or bypassDecided
	dir    flow.Direction // pending: direction of the data that decided it
	left   uint8          // pending: packets of the flow still to wait for that ACK
	noInsp bool           // encrypted with track-only or bypass: no more content inspection
}

const (
	bypassNone = iota
	bypassPending
	bypassDecided // bypassed, or the mode says not to
)

// eachBypassCounter yields the flow_bypassed counters (stats.go).
func (w *worker) eachBypassCounter(fn func(name string, v uint64)) {
	c := &w.byp.c
	fn("flow_bypassed.local_pkts", c.localPkts)
	fn("flow_bypassed.local_bytes", c.localBytes)
	fn("flow_bypassed.local_capture_pkts", c.localCapturePkts)
	fn("flow_bypassed.local_capture_bytes", c.localCaptureBytes)
	fn("flow_bypassed.closed", c.closed)
	fn("flow_bypassed.pkts", c.pkts)
	fn("flow_bypassed.bytes", c.bytes)
}

// bypassedPacket handles a packet of a bypassed flow: counted (the flow
// table already added it to the flow) and dropped. n is the frame length.
// It does not allocate.
func (w *worker) bypassedPacket(fl *flow.Flow, n int) {
	c := &w.byp.c
	if fl.Bypass != flow.BypassCapture {
		c.localPkts++
		c.localBytes += uint64(n)
		return
	}
	c.localCapturePkts++
	c.localCaptureBytes += uint64(n)
	i, ok := w.byp.index[fl]
	if !ok {
		return
	}
	if late := w.now.UnixNano() - w.byp.caps[i].at; late > 0 {
		// Not in flight: it reached the ring after the insert.
		w.byp.run.leaked.Add(1)
		if late > w.byp.run.grace {
			w.downgrade(fl)
		}
	}
}

// downgrade turns a capture-bypassed flow whose packets keep reaching the
// sensor into a locally bypassed one: the kernel entry is removed (its
// counts go into the flow) and the flow counts as bypass_ineffective.
func (w *worker) downgrade(fl *flow.Flow) {
	w.removeCapture(fl)
	w.flows.SetBypass(fl, flow.BypassLocal)
	w.byp.run.downs.Add(1)
}

// bypassCheck runs after a packet of fl was processed when a bypass may be
// due: a stage asked for one (flow.FlagWantBypass) or stream.bypass is on.
// f is the packet's frame.
func (w *worker) bypassCheck(f *capture.Frame, fl *flow.Flow, st *flowState, p *decode.Packet) {
	b := &st.byp
	if fl.Flags&flow.FlagWantBypass == 0 {
		if !w.byp.run.depth || p.IPProto != decode.IPProtoTCP ||
			!st.sess.DepthReached(flow.ToServer) && !st.sess.DepthReached(flow.ToClient) {
			return
		}
		// Suricata bypasses when the first side reaches the depth, on
		// the packet that got it there.
		fl.SetFlag(flow.FlagWantBypass)
		w.applyBypass(f, fl, st, p)
		return
	}
	switch b.state {
	case bypassDecided:
		return
	case bypassPending:
		b.left--
		if b.left == 0 || p.TCPFlags&decode.TCPAck != 0 && packetDir(p, fl) != b.dir && int32(p.TCPAck-b.seq) >= 0 {
			w.applyBypass(f, fl, st, p)
		}
		return
	}
	if w.byp.run.off {
		b.state = bypassDecided
		return
	}
	if p.IPProto == decode.IPProtoTCP && len(p.Payload) > 0 && w.byp.run.tab == nil {
		b.state = bypassPending
		b.dir = packetDir(p, fl)
		b.seq = p.TCPSeq + uint32(len(p.Payload))
		b.left = pendingMaxPkts
		return
	}
	w.applyBypass(f, fl, st, p)
}

// applyBypass bypasses fl from its next packet on: in the capture table
// when possible, else locally.
func (w *worker) applyBypass(f *capture.Frame, fl *flow.Flow, st *flowState, p *decode.Packet) {
	st.byp.state = bypassDecided
	run := w.byp.run
	if run.off {
		return
	}
	kind := flow.BypassLocal
	if run.tab != nil {
		r := eligible(f, p, fl)
		if r == bypass.ReasonNone {
			r = bypass.ReasonOf(run.tab.Insert(&fl.Key))
			if r == bypass.ReasonExists {
				// A stale entry of an earlier flow with this tuple: its
				// counts are not this flow's.
				_, _ = run.tab.Remove(&fl.Key)
				r = bypass.ReasonOf(run.tab.Insert(&fl.Key))
			}
		}
		if r == bypass.ReasonNone {
			kind = flow.BypassCapture
			run.inserts.Add(1)
			at := w.now.UnixNano()
			if run.clock != nil {
				at = run.clock().UnixNano()
			}
			w.trackCapture(fl, at)
		} else {
			run.failed[r].Add(1)
		}
	}
	w.flows.SetBypass(fl, kind)
	// Nothing will be reassembled any more: free what waits for a hole.
	w.reasm.Release(&st.sess)
}

// trackCapture adds fl, installed at time at (captureBypass.at), to the
// worker's capture-bypassed flows.
func (w *worker) trackCapture(fl *flow.Flow, at int64) {
	if w.byp.index == nil {
		w.byp.index = map[*flow.Flow]int32{}
	}
	w.byp.index[fl] = int32(len(w.byp.flows))
	w.byp.flows = append(w.byp.flows, fl)
	w.byp.keys = append(w.byp.keys, fl.Key)
	w.byp.caps = append(w.byp.caps, captureBypass{at: at})
}

// eligible says why the kernel program cannot bypass the flow of p, or
// ReasonNone. It decides by the packet that bypasses the flow, as Suricata
// does.
func eligible(f *capture.Frame, p *decode.Packet, fl *flow.Flow) bypass.Reason {
	switch {
	case fl.Key.Proto != decode.IPProtoTCP && fl.Key.Proto != decode.IPProtoUDP:
		return bypass.ReasonProto
	case p.Tunnel != 0 || p.Outer.IPVersion != 0 || p.InnerOffset > 0:
		return bypass.ReasonTunnel
	case len(p.Data) == 0 || len(f.Data) == 0 || unsafe.SliceData(p.Data) != unsafe.SliceData(f.Data):
		return bypass.ReasonFragment // p is a datagram defrag rebuilt
	case p.IPVersion == 6 && p.L4Offset-p.L3Offset != 40:
		return bypass.ReasonProto // IPv6 extension headers
	}
	return bypass.ReasonNone
}

// removeCapture takes fl out of the capture table and the worker's list,
// adds the kernel's last counts to it and leaves its kernel totals in
// w.byp.ended.
func (w *worker) removeCapture(fl *flow.Flow) {
	b := &w.byp
	i, ok := b.index[fl]
	if !ok {
		return
	}
	run := b.run
	c, err := run.tab.Remove(&fl.Key)
	if err == nil {
		w.addKernel(fl, int(i), c)
	} else {
		run.readErr.Add(1)
	}
	run.removes.Add(1)
	b.c.closed++
	b.ended.fl, b.ended.kernel = fl, b.caps[i].kernel
	last := len(b.flows) - 1
	if int(i) != last {
		b.flows[i], b.keys[i], b.caps[i] = b.flows[last], b.keys[last], b.caps[last]
		b.index[b.flows[i]] = i
	}
	b.flows[last] = nil
	b.flows, b.keys, b.caps = b.flows[:last], b.keys[:last], b.caps[:last]
	delete(b.index, fl)
}

// addKernel adds what the kernel counted for the i'th capture-bypassed flow
// fl since the last reading (c is cumulative), and moves fl's last-seen
// time forward.
func (w *worker) addKernel(fl *flow.Flow, i int, c bypass.Counters) {
	cb := &w.byp.caps[i]
	d := c.Sub(cb.kernel)
	cb.kernel = c
	for dir := range d.Pkts {
		fl.Pkts[dir] += d.Pkts[dir]
		fl.Bytes[dir] += d.Bytes[dir]
		w.byp.c.pkts += d.Pkts[dir]
		w.byp.c.bytes += d.Bytes[dir]
	}
	if d.Pkts[0]+d.Pkts[1] == 0 {
		return
	}
	last := w.now.UnixNano() // the kernel saw packets since the last sweep
	if !c.Last.IsZero() && c.Last.UnixNano() < last {
		last = c.Last.UnixNano()
	}
	if last > fl.Last {
		fl.Last = last
	}
}

// bypassSweep reads the kernel counters of the worker's capture-bypassed
// flows, at most once per BypassConfig.Sweep of worker time.
func (w *worker) bypassSweep(now time.Time) {
	n := now.UnixNano()
	if n-w.byp.lastSweep < w.byp.run.sweep && n >= w.byp.lastSweep {
		return
	}
	w.byp.lastSweep = n
	if len(w.byp.flows) == 0 {
		return
	}
	if cap(w.byp.ctrs) < len(w.byp.keys) {
		w.byp.ctrs = make([]bypass.Counters, len(w.byp.keys), cap(w.byp.keys))
	}
	ctrs := w.byp.ctrs[:len(w.byp.keys)]
	if err := w.byp.run.tab.Read(w.byp.keys, ctrs); err != nil {
		w.byp.run.readErr.Add(1)
		return
	}
	for i, fl := range w.byp.flows {
		w.addKernel(fl, i, ctrs[i])
	}
}

// bypassEnd finishes the bypass of a flow that ends: a capture-bypassed
// flow leaves the kernel table with its final counters.
func (w *worker) bypassEnd(fl *flow.Flow) {
	w.byp.ended.fl = nil
	if fl.Bypass == flow.BypassCapture {
		w.removeCapture(fl)
	}
}

// ControlBypassStats is the message of bypass-stats: polder's capture
// bypass counters beyond EVE's flow_bypassed (Suricata's EVE schema has no
// place for them; Suricata reports its eBPF table the same way, through
// its unix socket).
type ControlBypassStats struct {
	Mode          string            `json:"mode"`           // resolved mode: off, local, socket-filter, xdp
	Entries       int               `json:"entries"`        // flows in the kernel table now
	Capacity      int               `json:"capacity"`       // flows it can hold
	Inserted      uint64            `json:"inserted"`       // flows bypassed in the kernel
	Removed       uint64            `json:"removed"`        // kernel entries removed (flow ended or downgraded)
	Downgraded    uint64            `json:"downgraded"`     // capture bypasses that did not stop the packets (bypass_ineffective)
	Leaked        uint64            `json:"leaked_pkts"`    // packets of capture-bypassed flows captured after their insert: missed by the kernel, not in flight (those are in flow_bypassed.local_capture_pkts too)
	InsertFailed  map[string]uint64 `json:"insert_failed"`  // flows bypassed locally instead, by reason
	CounterErrors uint64            `json:"counter_errors"` // failed counter reads or removals
}

func (r *bypassRun) stats() ControlBypassStats {
	s := ControlBypassStats{
		Mode: r.mode, Inserted: r.inserts.Load(), Removed: r.removes.Load(), Downgraded: r.downs.Load(), Leaked: r.leaked.Load(),
		InsertFailed: map[string]uint64{}, CounterErrors: r.readErr.Load(),
	}
	if r.tab != nil {
		s.Entries, s.Capacity = r.tab.Entries()
	}
	for i := bypass.ReasonNone + 1; i < bypass.NumReasons; i++ {
		s.InsertFailed[i.String()] = r.failed[i].Load()
	}
	return s
}

// eachTableCounter yields the bypass-stats counters as stats counter names
// (bypass_table.*), for stats events when outputs.eve.types.stats.
// bypass-table is on.
func (r *bypassRun) eachTableCounter(yield func(string, uint64)) {
	s := r.stats()
	yield("bypass_table.entries", uint64(s.Entries))
	yield("bypass_table.capacity", uint64(s.Capacity))
	yield("bypass_table.inserted", s.Inserted)
	yield("bypass_table.removed", s.Removed)
	yield("bypass_table.downgraded", s.Downgraded)
	yield("bypass_table.leaked_pkts", s.Leaked)
	yield("bypass_table.counter_errors", s.CounterErrors)
	for i := bypass.ReasonNone + 1; i < bypass.NumReasons; i++ {
		yield("bypass_table.insert_failed."+i.String(), r.failed[i].Load())
	}
}

// bypassStats is what bypass-stats answers for a Live sensor.
func (c *liveControl) bypassStats() ControlBypassStats { return c.l.out.byp.stats() }

func (s *ControlServer) cmdBypassStats(json.RawMessage) (any, error) {
	t, ok := s.t.(interface{ bypassStats() ControlBypassStats })
	if !ok {
		return nil, errors.New("bypass-stats: not available on this sensor")
	}
	return t.bypassStats(), nil
}
