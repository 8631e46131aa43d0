package pipeline

import (
	"math/rand/v2"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/ssh"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/defrag"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
	"github.com/polder-nsm/polder/sensor/stream"
)

// detectLimit bounds the bytes buffered per direction while the protocol of
// a TCP flow is still unknown. Past it, detection gives up ("failed").
const detectLimit = 4096

// flowState is the pipeline's per-flow state, hung off flow.Flow.Ext. It is
// recycled through the worker's free list so creating a flow does not
// allocate in steady state; parsers are allocated only once a protocol is
// detected.
type flowState struct {
	sess     stream.Session
	proto    applayer.Proto
	detect   [2][]byte  // bytes seen so far per direction while proto is unknown
	detected [2]bool    // direction has produced a final detection verdict
	gaps     [2]bool    // a reassembly gap was reported per direction
	swap     bool       // app layer found the flow's client is the other side; swap after Process returns
	ips      flowIPS    // dropped in IPS mode (ips.go)
	ttl      flowTTL    // TTL range per direction, for netflow events (netflow.go)
	byp      flowBypass // flow bypass (bypass.go)

	http   *http.Parser
	tls    *tls.Parser
	tlsLog bool // tls event written
	dnsTCP *dns.StreamParser
	ssh    *ssh.Parser
	dnsTx  uint64 // tx_id of the next DNS-over-UDP message
	txCnt  uint64 // app-layer transactions logged (EVE flow.tx_cnt)
	// reqPend holds the HTTP requests complete but not inspected yet (IDS
	// timing, see requestHTTP); nil until the flow's first one, kept with
	// the recycled state after.
	reqPend *requestQueue

	det detect.FlowState // flowbits, flowints, inspection progress
}

func (s *flowState) reset() {
	s.sess = stream.Session{}
	s.proto = applayer.ProtoUnknown
	for d := range s.detect {
		if cap(s.detect[d]) > 512 {
			s.detect[d] = nil // do not pin large buffers in the free list
		} else {
			s.detect[d] = s.detect[d][:0]
		}
	}
	s.detected = [2]bool{}
	s.gaps = [2]bool{}
	s.swap = false
	s.http, s.tls, s.dnsTCP = nil, nil, nil
	s.tlsLog = false
	s.dnsTx = 0
	s.txCnt = 0
	if q := s.reqPend; q != nil {
		clear(q.reqs)
		q.reqs = q.reqs[:0]
		if cap(q.reqs) > 16 {
			q.reqs = nil // do not pin a pipelining burst's slice in the free list
		}
	}
	s.det.Reset()
	s.ssh = nil
	s.byp = flowBypass{}
	s.ips = flowIPS{}
	s.ttl = flowTTL{}
}

// worker owns one shard of the traffic: its decoder, defrag table, flow
// table, reassembler and parsers. It is used by one goroutine.
type worker struct {
	cfg   *Config
	out   *output
	dec   decode.Decoder
	frag  *defrag.Table
	flows *flow.Table
	reasm *stream.Reassembler

	pkt     decode.Packet
	outer   decode.Packet // scratch for countOuter
	now     time.Time     // packet time of the current packet (offline) or wall time (live)
	pcapCnt uint64
	// reasmSeq is pcapCnt while the packet's own segment is reassembled,
	// else 0: stream chunks delivered then may be the packet's payload.
	reasmSeq uint64

	lastExpire time.Time

	// states are the flows' pipeline states by flow.Ext (states[0] is
	// unused: Ext 0 means none); free are the indexes of recycled ones.
	states []*flowState
	free   []uint32
	h      streamHandler

	// det is the rule engine's per-worker state; nil when no rules are
	// loaded. rules is where a reload publishes a new engine.
	det   *detect.Thread
	rules *ruleSwitch
	din   detect.Input // reused per inspection

	httpOpts http.Options // cfg.HTTP with this worker's hooks

	alert     eve.Alert // alert event being built, and its reused slices
	alertFlow eve.AlertFlow
	alertMeta []eve.MetaKV
	alertBits []string

	// bound method values, created once so passing them per packet does not allocate
	emitHTTP func(*http.Transaction)
	emitDNS  func(*dns.Message)
	endFlow  func(*flow.Flow, flow.EndReason)

	dnsMsg dns.Message

	counters workerCounters
	byp      workerBypass // flow bypass (bypass.go)
	ips      ipsVerdict   // the current packet's IPS verdict and the IPS counters (ips.go)

	iface       string // live interface name; "" when reading a file
	hdr         eve.Header
	rec         eve.FlowRecord
	line        []byte // EVE line being built; reused
	snap        snapshot
	lastPublish time.Time
}

type workerCounters struct {
	packets, bytes     uint64
	invalid            uint64
	appFlow            [applayer.ProtoFailed + 1]uint64 // TCP flows per detected protocol
	dnsUDPFlows        uint64
	txHTTP             uint64
	txDNSTCP, txDNSUDP uint64
	dnsParseErrors     uint64
}

func newWorker(cfg *Config, out *output) *worker {
	fo := cfg.Flow
	if fo.Seed == 0 {
		// flow_id must stay unique across runs and workers: events of many
		// pcaps and sensors end up in one store, keyed by flow_id. A random
		// seed also keeps hash placement unpredictable to an attacker.
		fo.Seed = rand.Uint64()
	}
	w := &worker{
		cfg:    cfg,
		out:    out,
		frag:   defrag.NewTable(cfg.Defrag),
		flows:  flow.NewTable(fo),
		reasm:  stream.NewReassembler(cfg.Stream),
		states: make([]*flowState, 1, 1024), // flow.Ext 0: no state
	}
	w.h.w = w
	w.dec.NoGTPU = cfg.NoGTPU
	w.httpOpts = cfg.HTTP
	w.httpOpts.OnRequest = w.requestHTTP
	w.emitHTTP = w.logHTTP
	w.emitDNS = w.logDNS
	w.endFlow = w.flowEnd
	w.byp.run = out.byp
	return w
}

// handleFrame runs one frame through every stage. It does not allocate on
// the path of a packet of an existing flow.
func (w *worker) handleFrame(f *capture.Frame) {
	p := &w.pkt
	w.pcapCnt++
	w.counters.packets++
	w.counters.bytes += uint64(len(f.Data))
	w.now = f.Timestamp
	if w.cfg.Rules.IPS {
		defer w.endPacket()
	}
	w.tick(f.Timestamp)

	if r := w.dec.Decode(p, f); r != decode.ReasonNone {
		w.counters.invalid++
		w.out.anomalyDecode(w, p, r)
		return
	}
	if p.IPVersion == 0 {
		return // ARP, LLDP, ...: counted by the decoder
	}
	if p.Fragment {
		before := p.Events
		dgram, done := w.frag.Add(p, f.Timestamp)
		if p.Events != before {
			w.dec.CountAdded(before, p.Events)
		}
		if !done {
			return
		}
		if r := w.dec.DecodeDatagram(p, dgram); r != decode.ReasonNone {
			w.counters.invalid++
			w.out.anomalyDecode(w, p, r)
			return
		}
	}

	if p.Outer.IPVersion != 0 {
		w.countOuter(p)
	}
	if w.rules != nil {
		w.checkReload()
	}
	fl, dir := w.flows.Lookup(p)
	if fl == nil {
		// Table full: counted by the table as flow.get_used_failed. The
		// packet is still inspected by the flowless rules.
		if w.det != nil {
			w.detectPacket(p, nil, nil, flow.ToServer)
		}
		return
	}
	if fl.Bypass != flow.BypassNone {
		w.bypassedPacket(fl, len(f.Data)) // counted in its flow; dropped before stream, app layer and detection
		return
	}
	st := w.state(fl)
	if w.cfg.EVE.Netflow {
		st.ttl[dir].add(p.TTL)
	}
	if st.ips.dropped {
		w.dropFlowPacket(fl) // not reassembled, parsed or inspected any more
		return
	}
	switch p.IPProto {
	case decode.IPProtoTCP:
		if fl.TCPState == flow.TCPNone && !w.cfg.Flow.Midstream {
			// No handshake seen and mid-stream pickup is off (Suricata's
			// default): the session is not tracked, so neither reassembled
			// nor parsed; packet rules still see its packets.
			break
		}
		w.h.fl, w.h.st = fl, st
		w.reasmSeq = w.pcapCnt
		w.reasm.Process(&st.sess, dir, p, &w.h)
		w.reasmSeq = 0
		if st.swap {
			st.swap = false
			fl.Swap()
			st.sess.Swap()
			st.ttl.swap()
		}
		if st.sess.DepthReached(flow.ToServer) && st.sess.DepthReached(flow.ToClient) {
			fl.SetFlag(flow.FlagDepthReached)
		}
	case decode.IPProtoUDP:
		if len(p.Payload) > 0 {
			w.udp(fl, st, dir, p)
		}
	}
	if w.det != nil {
		w.detectPacket(p, fl, st, dir)
	}
	if fl.Flags&flow.FlagWantBypass != 0 || w.byp.run.depth {
		w.bypassCheck(f, fl, st, p)
	}
}

// countOuter counts a tunnelled packet in the flow of its outer tunnel
// (the VXLAN/Geneve/GTP-U UDP flow, the GRE or IP-in-IP flow) as Suricata
// does; that flow carries no app layer of its own.
func (w *worker) countOuter(p *decode.Packet) {
	o := &p.Outer
	q := &w.outer
	*q = decode.Packet{
		Timestamp: p.Timestamp, Data: p.Data, WireLen: p.WireLen,
		LinkType: p.LinkType, Iface: p.Iface,
		VLAN: o.VLAN, VLANCount: o.VLANCount,
		IPVersion: o.IPVersion, Src: o.Src, Dst: o.Dst, IPProto: o.IPProto,
		SrcPort: o.SrcPort, DstPort: o.DstPort, TCPWScale: -1,
	}
	w.flows.Lookup(q)
}

// state returns the pipeline state of fl, attaching a recycled one to a new flow.
func (w *worker) state(fl *flow.Flow) *flowState {
	if fl.Ext != 0 {
		return w.states[fl.Ext]
	}
	var i uint32
	if n := len(w.free); n > 0 {
		i = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		w.states = append(w.states, new(flowState))
		i = uint32(len(w.states) - 1)
	}
	fl.Ext = i
	return w.states[i]
}

// stateOf returns the pipeline state of fl, nil when it has none.
func (w *worker) stateOf(fl *flow.Flow) *flowState {
	if fl == nil || fl.Ext == 0 {
		return nil
	}
	return w.states[fl.Ext]
}

// countTx counts a transaction of fl for flow.tx_cnt, whether or not its
// event type is logged.
func (w *worker) countTx(fl *flow.Flow) {
	if st := w.stateOf(fl); st != nil {
		st.txCnt++
	}
}

// tick runs flow expiry, driven by packet time (offline) or by packet and
// wall time (live). Stats are written on wall time by the caller.
func (w *worker) tick(now time.Time) {
	if now.Sub(w.lastExpire) >= 100*time.Millisecond || now.Before(w.lastExpire) {
		w.lastExpire = now
		if len(w.byp.flows) > 0 {
			w.bypassSweep(now)
		}
		w.flows.Expire(now, w.endFlow)
	}
}

// flowEnd finishes a flow: flush the stream and parsers so pending
// transactions are logged, write the flow record, recycle the state.
func (w *worker) flowEnd(fl *flow.Flow, why flow.EndReason) {
	st := w.stateOf(fl)
	w.bypassEnd(fl)
	if st != nil && st.ips.dropped {
		w.reasm.Release(&st.sess) // a dropped flow is neither reassembled nor parsed any more
	} else if st != nil {
		w.h.fl, w.h.st = fl, st
		w.reasm.Close(&st.sess, &w.h)
		w.closeApp(fl, st)
	}
	if st != nil && st.det.Alerted() {
		fl.Alerted = true
	}
	w.out.flow(w, fl, st, why)
	if st != nil {
		w.free = append(w.free, fl.Ext)
		fl.Ext = 0
		st.reset()
	}
}

// finish flushes every flow at the end of input.
func (w *worker) finish() {
	w.flows.Flush(w.endFlow)
}
