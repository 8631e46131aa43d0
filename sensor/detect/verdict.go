package detect

import (
	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/rules"
)

// Drop is what the drop and reject actions of the signatures that matched
// ask of the packet being processed, in IPS mode (Options.IPS). The
// pipeline takes it after each inspection (Thread.TakeDrop) and acts on it:
// the packet is dropped, and with Flow the rest of its flow too.
//
// As in Suricata (PacketAlertFinalize, PacketApplySignatureActions), a
// signature's action applies when it alerts and also when thresholding or
// suppression keeps the alert quiet or the rule has noalert; a threshold
// that ignores the match (threshold, both and detection_filter below their
// count) applies nothing. A rate_filter's new action replaces the rule's.
type Drop struct {
	// Sig is the first signature whose action dropped the packet
	// (Suricata's p->alerts.drop); nil when nothing asks for a drop.
	Sig *Sig
	// Action is Sig's effective action: ActionDrop or an ActionReject*.
	Action rules.Action
	// Reject is set when any of the actions was a reject (Suricata counts
	// the packet as ips.rejected rather than ips.blocked).
	Reject bool
	// Flow is set when one of the signatures applies its action to the
	// whole flow (see Sig.DropsFlow).
	Flow bool
}

// TakeDrop returns the drop verdict gathered since the previous call and
// clears it. The pipeline calls it after every inspection of a packet
// (packet, stream chunk, transaction) and merges the results.
func (t *Thread) TakeDrop() Drop {
	d := t.drop
	t.drop = Drop{}
	return d
}

// noteAction records the action of a signature that took effect (alerted,
// or stayed quiet through noalert, suppression or a threshold). act is the
// action a rate_filter substituted, 0 for the rule's own.
func (t *Thread) noteAction(s *Sig, act rules.Action, stream bool) {
	if !t.eng.opts.IPS {
		return
	}
	if act == 0 {
		act = s.Rule.Action
	}
	if !drops(act) {
		return
	}
	d := &t.drop
	if d.Sig == nil {
		d.Sig, d.Action = s, act
	}
	if act != rules.ActionDrop {
		d.Reject = true
	}
	if s.DropsFlow(stream) {
		d.Flow = true
	}
}

// drops reports whether an action drops the packet in IPS mode.
func drops(a rules.Action) bool {
	switch a {
	case rules.ActionDrop, rules.ActionReject, rules.ActionRejectSrc, rules.ActionRejectDst, rules.ActionRejectBoth:
		return true
	}
	return false
}

// blocked is the EVE alert.action of an alert with effective action a:
// Suricata's AlertJsonHeader writes "blocked" for reject actions in any
// mode and for drop in IPS mode.
func blocked(a rules.Action, ips bool) bool {
	switch a {
	case rules.ActionDrop:
		return ips
	case rules.ActionReject, rules.ActionRejectSrc, rules.ActionRejectDst, rules.ActionRejectBoth:
		return true
	}
	return false
}

// DropsFlow reports whether the signature's drop (or pass) action applies
// to the rest of the flow rather than to the one packet, following
// Suricata's signature_properties table (detect-engine.c): IP-only,
// transaction and stream-only signatures act on the flow, and so do
// signatures naming an app-layer protocol with no other condition
// (SIG_TYPE_APPLAYER); signatures that inspect packet fields act on the
// packet; content signatures that may match either the packet or the
// stream (SIG_TYPE_PKT_STREAM) act on the flow when they matched on the
// reassembled stream (stream true).
func (s *Sig) DropsFlow(stream bool) bool {
	return s.actsOnFlow || (stream && s.kind == kindStream)
}

// flowScoped computes Sig.actsOnFlow once the signature is compiled, from
// its rule r (which slim then drops).
func (s *Sig) flowScoped(r *rules.Rule) bool {
	switch s.kind {
	case kindIPOnly, kindTx:
		return true
	case kindStream:
		return r.Flow != nil && r.Flow.OnlyStream
	case kindPacket:
		return s.app != applayer.ProtoUnknown && r.Flow == nil && len(s.conds) == 0 &&
			len(s.bufs) == 0 && len(s.bitChecks) == 0 && len(s.intOps) == 0
	}
	return false
}
