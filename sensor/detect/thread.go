package detect

import (
	"net/netip"
	"slices"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect/inspect"
	"github.com/polder-nsm/polder/sensor/detect/mpm"
	"github.com/polder-nsm/polder/sensor/detect/threshold"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/rules"
)

// Input is what one inspection is about.
type Input struct {
	Packet *decode.Packet // the packet being processed (stream data arrives while one is)
	Flow   *flow.Flow     // nil when the flow table had no room
	State  *FlowState     // the flow's detection state; nil with Flow
	Dir    flow.Direction // direction of the packet or data within the flow
	App    applayer.Proto // the flow's application protocol
	Now    time.Time      // packet time offline, for thresholds and bit expiry
	// Swapped says the flow's key is oriented the other way round from
	// Dir (the app layer found the client to be the key's destination and
	// the swap is still pending while the stream is being processed).
	Swapped bool
	// Seq numbers the packet being processed (0: unknown). The stream
	// chunks delivered while a packet is processed and the packet itself
	// carry the same Seq, which lets a chunk that is the packet's payload
	// be prefiltered once for stream and packet signatures.
	Seq uint64
}

// Alert is one signature match to report. Its slices are valid until the
// next call on the Thread.
type Alert struct {
	Sig              *Sig
	Blocked          bool // EVE action "blocked": a reject rule, or a drop rule in IPS mode
	Time             time.Time
	Src, Dst         netip.Addr // of the packet or data that matched
	SrcPort, DstPort uint16
	Dir              flow.Direction
	Stream           bool   // matched on reassembled stream data
	Payload          []byte // the packet payload or stream chunk inspected; nil for transactions
	HasTx            bool
	TxID             uint64
	HTTP             *http.Transaction
	DNS              *dns.Message
	TLS              *tls.Session
}

// Counters are a Thread's detection counters (Suricata's detect.* stats).
type Counters struct {
	Alerts         uint64
	Suppressed     uint64 // matches a threshold or suppression kept quiet
	Inspections    uint64
	Candidates     uint64 // signatures evaluated exactly after the prefilter
	Bypass         uint64 // bypass keyword matches
	PassedFlows    uint64
	AlertQueueFull uint64
}

// maxAlerts bounds the alerts one inspection reports, as Suricata's
// packet alert queue does.
const maxAlerts = 15

// Thread is one worker's detection state. It is used by one goroutine.
type Thread struct {
	eng     *Engine
	sh      *Shared
	scratch []*mpm.Scratch
	insp    *inspect.Scratch
	vars    inspect.Vars
	hits    []uint32
	seen    []uint32
	epoch   uint32
	alerts  []Alert

	// The transaction being inspected and its buffers, fetched once.
	cur       txSource
	txEpoch   uint32
	viewEpoch []uint32
	viewData  [][][]byte
	viewOwn   [][][]byte // copies of transformed instances
	headerBuf []byte     // storage of composed header instances
	win       []byte     // stream tail + chunk being inspected
	edge      []byte     // stream tail + the start of the chunk: patterns across the boundary
	// pktHits are the TCP packet signatures the stream prefilter found in
	// a chunk equal to the payload of packet pktSeq travelling in pktDir;
	// Packet uses them instead of scanning the payload again.
	pktHits []uint32
	pktSeq  uint64
	pktDir  flow.Direction

	drop Drop // IPS verdict of the matches since the last TakeDrop; see verdict.go

	txLogOff bool // a config rule disabled logging of the transaction inspected last

	Counters Counters
}

// NewThread returns a Thread running e with the run's shared state.
func NewThread(e *Engine, sh *Shared) *Thread {
	t := &Thread{insp: inspect.NewScratch()}
	t.SetEngine(e, sh)
	return t
}

// Engine returns the engine the Thread runs.
func (t *Thread) Engine() *Engine { return t.eng }

// SetEngine switches the Thread to e (a reload); the caller does it
// between two packets so that each packet sees exactly one ruleset.
func (t *Thread) SetEngine(e *Engine, sh *Shared) {
	t.eng, t.sh = e, sh
	t.scratch = make([]*mpm.Scratch, e.slots)
	for cx := range e.pkt {
		for _, g := range e.pkt[cx] {
			if g.mpm != nil {
				t.scratch[g.slot] = g.mpm.NewScratch()
			}
		}
	}
	for a := range e.tx {
		for _, tg := range e.tx[a] {
			if tg == nil {
				continue
			}
			for _, sc := range tg.scans {
				t.scratch[sc.slot] = sc.mpm.NewScratch()
			}
		}
	}
	t.seen = make([]uint32, len(e.sigs))
	t.epoch = 0
	t.viewEpoch = make([]uint32, len(e.views))
	t.viewData = make([][][]byte, len(e.views))
	t.viewOwn = make([][][]byte, len(e.views))
	t.txEpoch = 0
}

// Alerts returns the alerts of the last call, in evaluation order.
func (t *Thread) Alerts() []Alert { return t.alerts }

// newEpoch starts a candidate set.
func (t *Thread) newEpoch() {
	t.epoch++
	if t.epoch == 0 {
		clear(t.seen)
		t.epoch = 1
	}
}

// dedupe sorts ids and drops those seen in this epoch.
func (t *Thread) dedupe(ids []uint32) []uint32 {
	out := ids[:0]
	for _, id := range ids {
		if t.seen[id] != t.epoch {
			t.seen[id] = t.epoch
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// packetAddrs returns the packet's own addresses and ports.
func packetAddrs(p *decode.Packet) (src, dst netip.Addr, sp, dp uint16) {
	src, dst = netip.AddrFrom16(p.Src), netip.AddrFrom16(p.Dst)
	if p.IPVersion == 4 {
		src, dst = src.Unmap(), dst.Unmap()
	}
	return src, dst, p.SrcPort, p.DstPort
}

// flowAddrs returns the addresses of data travelling in dir.
func flowAddrs(in *Input) (src, dst netip.Addr, sp, dp uint16) {
	if in.Flow == nil {
		return packetAddrs(in.Packet)
	}
	k := &in.Flow.Key
	src, dst = netip.AddrFrom16(k.Src), netip.AddrFrom16(k.Dst)
	if k.IPVersion == 4 {
		src, dst = src.Unmap(), dst.Unmap()
	}
	sp, dp = k.SrcPort, k.DstPort
	if (in.Dir == flow.ToClient) != in.Swapped {
		return dst, src, dp, sp
	}
	return src, dst, sp, dp
}

func pktCtxOf(proto uint8) ctx {
	switch proto {
	case decode.IPProtoTCP:
		return ctxTCPPkt
	case decode.IPProtoUDP:
		return ctxUDP
	case decode.IPProtoICMP:
		return ctxICMP
	case decode.IPProtoICMPv6:
		return ctxICMP6
	}
	return ctxOther
}

// Packet inspects one decoded packet: IP-only signatures on the first
// packet of each flow direction, then the packet signatures of its
// protocol. TCP payload is inspected by Stream.
func (t *Thread) Packet(in *Input) {
	t.alerts = t.alerts[:0]
	t.cur = txSource{}
	p := in.Packet
	if in.State != nil {
		if p.IPProto == decode.IPProtoTCP {
			in.State.payload[in.Dir] += uint64(len(p.Payload))
		}
		if in.State.passed {
			return
		}
	}
	if bypassed(in) {
		return
	}
	e := t.eng
	src, dst, sp, dp := packetAddrs(p)
	if e.ipOnly.n > 0 && (in.State == nil || !in.State.ipOnlyDone[in.Dir]) {
		if in.State != nil {
			in.State.ipOnlyDone[in.Dir] = true
		}
		t.newEpoch()
		ids := t.dedupe(e.ipOnly.candidates(src, dst, t.hits[:0]))
		t.hits = ids
		for _, id := range ids {
			s := e.sigs[id]
			if s.protoFits(p.IPProto) && s.matchHeader(src, dst, sp, dp) && t.sh.checkBits(s, in.State, src, dst, in.Now) {
				t.matched(s, in, src, dst, sp, dp, p.Payload, false)
			}
		}
	}
	cx := pktCtxOf(p.IPProto)
	g := e.pkt[cx][in.Dir]
	if cx == ctxTCPPkt && in.Seq != 0 && t.pktSeq == in.Seq && t.pktDir == in.Dir {
		t.pktSeq = 0
		t.hits = append(append(t.hits[:0], t.pktHits...), g.always...)
		t.evaluate(in, src, dst, sp, dp, p.Payload, 0, false, t.hits)
		return
	}
	t.run(g, in, src, dst, sp, dp, p.Payload)
}

// streamTail is how many bytes of a direction's earlier stream data are
// inspected again in front of each new chunk, so a pattern split across
// two segments is found. A signature that already matches on the tail
// alone is not reported again. It costs up to twice this much memory per
// TCP flow, allocated once the flow carries data.
const streamTail = 256

// Stream inspects a chunk of reassembled TCP data travelling in in.Dir.
//
// The chunk is prefiltered once for the stream signatures and the TCP
// packet signatures together; when it is the payload of the packet being
// processed, the packet signatures' candidates are kept for Packet. The
// earlier tail and the first bytes of the chunk are prefiltered again for
// stream signatures whose patterns lie in the tail or across the boundary.
func (t *Thread) Stream(in *Input, data []byte) {
	t.alerts = t.alerts[:0]
	t.cur = txSource{}
	if in.State != nil && in.State.passed || bypassed(in) {
		return
	}
	g := t.eng.pkt[ctxTCPStream][in.Dir]
	if g == nil || (g.mpm == nil && len(g.always) == 0) {
		return
	}
	st := in.State
	var ts *tailState
	if st != nil {
		if ts = st.tail[in.Dir]; ts == nil {
			ts = new(tailState) // once per flow direction with data
			st.tail[in.Dir] = ts
		}
	}
	var tl []byte
	if ts != nil {
		tl = ts.bytes()
	}
	t.hits = t.hits[:0]
	if g.mpm != nil && len(data) > 0 {
		t.newEpoch()
		t.hits = t.dedupe(g.mpm.Scan(t.scratch[g.slot], data, t.hits))
		t.splitPacketHits(in, data)
		nChunk := len(t.hits)
		if len(tl) > 0 {
			// Patterns across the boundary lie within maxPat-1 bytes of
			// it; those wholly in the tail were found in the data the
			// tail was cut from, and were kept as its candidates (else
			// the whole tail is scanned again).
			from := 0
			if ts.ncand >= 0 {
				from = max(len(tl)-(g.maxPat-1), 0)
			}
			edge := append(append(t.edge[:0], tl[from:]...), data[:min(len(data), max(g.maxPat-1, 0))]...)
			t.edge = edge
			n := len(t.hits)
			t.hits = g.mpm.Scan(t.scratch[g.slot], edge, t.hits)
			if ts.ncand > 0 {
				t.hits = append(t.hits, ts.cands[:ts.ncand]...)
			}
			t.hits = append(t.hits[:n], t.dedupe(t.hits[n:])...)
			t.hits = t.keepKind(t.hits, n, kindStream)
		}
		if ts != nil {
			// The next tail: within data when it is that long, else it
			// keeps part of this tail.
			keep := t.hits
			if len(data) >= streamTail {
				keep = t.hits[:nChunk]
			}
			ts.setCands(keep)
		}
	}
	t.hits = append(t.hits, g.always...)
	if len(t.hits) > 0 {
		src, dst, sp, dp := flowAddrs(in)
		window := data
		if len(tl) > 0 {
			t.win = append(append(t.win[:0], tl...), data...)
			window = t.win
		}
		t.evaluate(in, src, dst, sp, dp, window, len(tl), true, t.hits)
	}
	if ts != nil {
		ts.push(data)
	}
}

// splitPacketHits moves the TCP packet signatures out of t.hits, found by
// the stream prefilter in data; when data is the payload of the packet
// being processed they are kept for Packet.
func (t *Thread) splitPacketHits(in *Input, data []byte) {
	t.pktSeq = 0
	p := in.Packet
	keep := in.Seq != 0 && !in.Swapped && p != nil && p.IPProto == decode.IPProtoTCP &&
		len(p.Payload) == len(data) && string(p.Payload) == string(data)
	t.pktHits = t.pktHits[:0]
	out := t.hits[:0]
	for _, id := range t.hits {
		if t.eng.sigs[id].kind == kindStream {
			out = append(out, id)
		} else if keep {
			t.pktHits = append(t.pktHits, id)
		}
	}
	t.hits = out
	if keep {
		t.pktSeq, t.pktDir = in.Seq, in.Dir
	}
}

// keepKind drops the ids after hits[from] whose signature is not of kind k.
func (t *Thread) keepKind(hits []uint32, from int, k kind) []uint32 {
	out := hits[:from]
	for _, id := range hits[from:] {
		if t.eng.sigs[id].kind == k {
			out = append(out, id)
		}
	}
	return out
}

// run prefilters and evaluates a packet group on a packet's payload.
func (t *Thread) run(g *group, in *Input, src, dst netip.Addr, sp, dp uint16, data []byte) {
	if g == nil || (g.mpm == nil && len(g.always) == 0) {
		return
	}
	t.hits = t.hits[:0]
	if g.mpm != nil && len(data) > 0 {
		t.hits = g.mpm.Scan(t.scratch[g.slot], data, t.hits)
	}
	t.hits = append(t.hits, g.always...)
	t.evaluate(in, src, dst, sp, dp, data, 0, false, t.hits)
}

// evaluate checks the candidate signatures hits exactly on data, whose
// first tail bytes were inspected before (see streamTail).
func (t *Thread) evaluate(in *Input, src, dst netip.Addr, sp, dp uint16, data []byte, tail int, stream bool, hits []uint32) {
	t.Counters.Inspections++
	if len(hits) == 0 {
		return
	}
	slices.Sort(hits)
	e := t.eng
	for _, id := range hits {
		t.Counters.Candidates++
		if !e.hulls[id].may(sp, dp) {
			continue
		}
		s := e.sigs[id]
		// The new data alone first: offset and depth count from the start
		// of the chunk, which is where a message of a chunked protocol
		// starts. Then across the boundary with the earlier tail, unless
		// the tail alone matches (reported when it was new).
		if !t.matchPacketSig(s, in, src, dst, sp, dp, data[tail:]) {
			if tail == 0 || !t.matchPacketSig(s, in, src, dst, sp, dp, data) ||
				t.matchPacketSig(s, in, src, dst, sp, dp, data[:tail]) {
				continue
			}
		}
		if t.matched(s, in, src, dst, sp, dp, data[tail:], stream) {
			return // a pass rule: nothing after it
		}
	}
}

// matchHeader checks addresses and ports, both ways for <> rules. Ports
// first: they are cheaper to test and reject most prefilter candidates
// (a pattern found in traffic to a port other than the rule's).
func (s *Sig) matchHeader(src, dst netip.Addr, sp, dp uint16) bool {
	if s.sp.Contains(sp) && s.dp.Contains(dp) && s.src.Contains(src) && s.dst.Contains(dst) {
		return true
	}
	return s.bidir && s.sp.Contains(dp) && s.dp.Contains(sp) && s.src.Contains(dst) && s.dst.Contains(src)
}

// matchFlow checks the flow keyword and the application protocol.
func (s *Sig) matchFlow(in *Input) bool {
	if s.toServer && in.Dir != flow.ToServer || s.toClient && in.Dir != flow.ToClient {
		return false
	}
	if (s.toServer || s.toClient || s.established) && in.Flow == nil {
		return false
	}
	if s.established && in.Flow.State == flow.StateNew {
		return false
	}
	if s.notEstablished && in.Flow != nil && in.Flow.State != flow.StateNew {
		return false
	}
	if s.app != applayer.ProtoUnknown && s.app != in.App {
		return false
	}
	return true
}

func (t *Thread) matchPacketSig(s *Sig, in *Input, src, dst netip.Addr, sp, dp uint16, data []byte) bool {
	p := in.Packet
	if p != nil && !s.protoFits(p.IPProto) && s.kind == kindPacket {
		return false
	}
	if !s.matchFlow(in) || !s.matchHeader(src, dst, sp, dp) {
		return false
	}
	if len(s.conds) > 0 && !s.packetConds(p, in.App, in.State, len(data)) {
		return false
	}
	if !t.sh.checkBits(s, in.State, src, dst, in.Now) {
		return false
	}
	t.vars = inspect.Vars{}
	for i := range s.bufs {
		b := &s.bufs[i]
		d := data
		if b.name == "base64_data" {
			d = t.insp.Base64Data()
		} else if b.prog.HasTransforms() {
			d = b.prog.Transform(t.insp, d)
		}
		if !b.prog.Match(t.insp, &t.vars, d) {
			return false
		}
	}
	return true
}

// matched handles a signature that matched: its bit operations, pass,
// noalert, thresholds, and the alert. It reports whether evaluation of
// the current inspection must stop (a pass rule).
func (t *Thread) matched(s *Sig, in *Input, src, dst netip.Addr, sp, dp uint16, payload []byte, stream bool) bool {
	e := t.eng
	t.sh.applyBits(s, in.State, src, dst, in.Now)
	if s.bypass && in.Flow != nil {
		t.Counters.Bypass++
		in.Flow.SetFlag(flow.FlagWantBypass) // the pipeline bypasses the flow (pipeline/bypass.go)
	}
	if s.Rule.Action == rules.ActionPass {
		if in.State != nil {
			in.State.passed = true
			t.Counters.PassedFlows++
		}
		return true
	}
	if s.logTxOff && t.cur != (txSource{}) {
		t.txLogOff = true
	}
	if s.noalert || s.Rule.Action == rules.ActionConfig {
		t.noteAction(s, 0, stream)
		return false
	}
	v, act := t.sh.thresh.Check(&s.thr, threshold.Event{Now: in.Now, Src: src, Dst: dst, FlowID: flowID(in.Flow)})
	if v != threshold.Ignore {
		t.noteAction(s, act, stream) // a suppressed match still drops
	}
	if v != threshold.Alert {
		t.Counters.Suppressed++
		return false
	}
	if len(t.alerts) >= maxAlerts {
		t.Counters.AlertQueueFull++
		return false
	}
	t.Counters.Alerts++
	if in.State != nil {
		in.State.alerted = true
	}
	if in.Flow != nil {
		in.Flow.Alerted = true
	}
	a := Alert{
		Sig: s, Time: in.Now, Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Dir: in.Dir,
		Stream: stream, Payload: payload,
	}
	if act == 0 {
		act = s.Rule.Action // rate_filter did not change it
	}
	a.Blocked = blocked(act, e.opts.IPS)
	t.cur.fill(&a)
	t.alerts = append(t.alerts, a)
	return false
}

func flowID(f *flow.Flow) uint64 {
	if f == nil {
		return 0
	}
	return f.ID
}

// bypassed reports whether the flow no longer needs inspection: a rule
// with the bypass keyword matched it (or the sensor bypassed it for
// another reason).
func bypassed(in *Input) bool {
	return in.Flow != nil && in.Flow.HasFlag(flow.FlagBypassed)
}
