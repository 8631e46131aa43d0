package pipeline

import (
	"sync/atomic"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/rules"
)

// ruleSwitch publishes the current rule engine to the workers. A reload
// stores a new engine; each worker picks it up before its next packet, so
// every packet is inspected by exactly one ruleset.
type ruleSwitch struct {
	cur atomic.Pointer[ruleset]
}

// ruleset is a compiled engine with the shared state of its run.
type ruleset struct {
	eng  *detect.Engine
	sh   *detect.Shared
	errs rules.ErrorList // what loading it refused
}

// checkReload switches the worker to a newly published engine.
func (w *worker) checkReload() {
	if r := w.rules.cur.Load(); r != nil && r.eng != w.det.Engine() {
		w.det.SetEngine(r.eng, r.sh)
	}
}

// input aims the reused detect.Input at a flow.
func (w *worker) input(p *decode.Packet, fl *flow.Flow, st *flowState, dir flow.Direction) *detect.Input {
	in := &w.din
	*in = detect.Input{Packet: p, Flow: fl, Dir: dir, Now: w.now}
	if fl != nil {
		in.App = applayer.Proto(fl.AppProto)
	}
	if st != nil {
		in.State = &st.det
	}
	return in
}

// packetDir returns the direction of p in fl, after any swap the app
// layer made while processing it.
func packetDir(p *decode.Packet, fl *flow.Flow) flow.Direction {
	if p.Src == fl.Key.Src && p.SrcPort == fl.Key.SrcPort {
		return flow.ToServer
	}
	if p.Src == fl.Key.Dst && p.SrcPort == fl.Key.DstPort {
		return flow.ToClient
	}
	return flow.ToServer
}

func (w *worker) detectPacket(p *decode.Packet, fl *flow.Flow, st *flowState, dir flow.Direction) {
	if fl != nil && p.IPProto != decode.IPProtoICMP && p.IPProto != decode.IPProtoICMPv6 {
		dir = packetDir(p, fl)
	}
	if st != nil && dir == flow.ToServer && st.pending() {
		w.inspectAckedRequests(fl, st)
	}
	in := w.input(p, fl, st, dir)
	in.Seq = w.pcapCnt
	w.det.Packet(in)
	w.emitAlerts(fl)
}

func (w *worker) detectStream(fl *flow.Flow, st *flowState, dir flow.Direction, swapped bool, b []byte) {
	in := w.input(&w.pkt, fl, st, dir)
	in.Swapped = swapped
	in.Seq = w.reasmSeq // 0 unless the chunk comes from the packet being processed
	w.det.Stream(in, b)
	w.emitAlerts(fl)
}

// detectHTTPRequest, detectHTTP, detectDNS and detectTLS inspect a
// transaction; a rule's config keyword that disables its logging is
// recorded on the HTTP transaction, and reported by detectDNS and
// detectTLS, whose callers log at once.
func (w *worker) detectHTTPRequest(fl *flow.Flow, st *flowState, tx *http.Transaction) {
	w.det.HTTPRequest(w.input(&w.pkt, fl, st, flow.ToServer), tx)
	if w.det.TxLogDisabled() {
		tx.LogDisabled = true
	}
	w.emitAlerts(fl)
}

func (w *worker) detectHTTP(fl *flow.Flow, st *flowState, tx *http.Transaction) {
	w.det.HTTP(w.input(&w.pkt, fl, st, flow.ToServer), tx)
	if w.det.TxLogDisabled() {
		tx.LogDisabled = true
	}
	w.emitAlerts(fl)
}

func (w *worker) detectDNS(fl *flow.Flow, st *flowState, m *dns.Message) (logOff bool) {
	w.det.DNS(w.input(&w.pkt, fl, st, flow.ToServer), m)
	logOff = w.det.TxLogDisabled()
	w.emitAlerts(fl)
	return logOff
}

func (w *worker) detectTLS(fl *flow.Flow, st *flowState, s *tls.Session) (logOff bool) {
	w.det.TLS(w.input(&w.pkt, fl, st, flow.ToServer), s)
	logOff = w.det.TxLogDisabled()
	w.emitAlerts(fl)
	return logOff
}

// emitAlerts writes the alerts of the last inspection.
func (w *worker) emitAlerts(fl *flow.Flow) {
	for i, as := 0, w.det.Alerts(); i < len(as); i++ {
		w.out.alert(w, fl, &as[i])
	}
	if w.cfg.Rules.IPS {
		w.noteDrop(fl)
	}
}
