package pipeline

import (
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// Simulated IPS mode (RuleConfig.IPS, Suricata's --simulate-ips).
//
// polder never forwards packets, so "dropping" one means what Suricata does
// to a packet it will not forward, minus the forwarding: the rule engine's
// drop and reject actions mark the packet being processed as dropped; a
// rule that acts on the whole flow (detect.Sig.DropsFlow) also marks the
// flow, and every later packet of the flow is dropped on arrival with
// reason "flow drop" (counted in the flow record, otherwise neither
// reassembled, parsed nor inspected, as Suricata's FLOW_ACTION_DROP). Each
// packet ends with one verdict, counted in stats ips.accepted, ips.blocked
// or ips.rejected and, when dropped, in ips.drop_reason.*, and a dropped
// packet is logged as an EVE drop event. No TCP reset or ICMP error is sent
// for reject rules.

// dropReason is why a packet was dropped: Suricata's PacketDropReason, of
// which polder produces rules and flow drop. The first reason set for a
// packet stays, as in Suricata's PacketDrop.
type dropReason uint8

const (
	dropNone dropReason = iota
	dropDecodeError
	dropDefragError
	dropDefragMemcap
	dropFlowMemcap
	dropFlowDrop
	dropAppLayerError
	dropAppLayerMemcap
	dropRules
	dropRulesThreshold
	dropStreamError
	dropStreamMemcap
	dropStreamMidstream
	dropStreamReassembly
	dropStreamUrgent
	dropNFQError
	dropInnerPacket
	numDropReasons
)

// dropReasonStats are the stats counter names of the reasons, in
// Suricata 8's registration order (the PacketDropReason enum).
var dropReasonStats = [numDropReasons]string{
	dropDecodeError:      "ips.drop_reason.decode_error",
	dropDefragError:      "ips.drop_reason.defrag_error",
	dropDefragMemcap:     "ips.drop_reason.defrag_memcap",
	dropFlowMemcap:       "ips.drop_reason.flow_memcap",
	dropFlowDrop:         "ips.drop_reason.flow_drop",
	dropAppLayerError:    "ips.drop_reason.applayer_error",
	dropAppLayerMemcap:   "ips.drop_reason.applayer_memcap",
	dropRules:            "ips.drop_reason.rules",
	dropRulesThreshold:   "ips.drop_reason.threshold_detection_filter",
	dropStreamError:      "ips.drop_reason.stream_error",
	dropStreamMemcap:     "ips.drop_reason.stream_memcap",
	dropStreamMidstream:  "ips.drop_reason.stream_midstream",
	dropStreamReassembly: "ips.drop_reason.stream_reassembly",
	dropStreamUrgent:     "ips.drop_reason.stream_urgent",
	dropNFQError:         "ips.drop_reason.nfq_error",
	dropInnerPacket:      "ips.drop_reason.tunnel_packet_drop",
}

// String returns the EVE drop.reason text (Suricata's
// PacketDropReasonToString); "" for dropNone.
func (r dropReason) String() string {
	switch r {
	case dropRules:
		return eve.DropReasonRules
	case dropFlowDrop:
		return eve.DropReasonFlowDrop
	}
	return ""
}

// ipsVerdict is the IPS state of the packet being processed and the
// worker's IPS counters.
type ipsVerdict struct {
	reason dropReason
	reject bool        // a reject rule dropped the packet
	sig    *detect.Sig // the first signature that dropped it (Suricata's p->alerts.drop)
	alert  *detect.Sig // the first "blocked" alert raised on it
	fl     *flow.Flow  // the packet's flow, nil without one

	accepted, blocked, rejected uint64
	reasons                     [numDropReasons]uint64
}

// flowIPS is the IPS state of a flow, part of flowState.
type flowIPS struct {
	dropped bool    // a rule dropped the flow: its packets are dropped on arrival
	logged  [2]bool // a drop event was written for the flow in this direction (drop flows: start)
}

// noteDrop merges the drop verdict of the inspection just done into the
// packet's; emitAlerts calls it in IPS mode.
func (w *worker) noteDrop(fl *flow.Flow) {
	v := &w.ips
	if v.alert == nil {
		for i, as := 0, w.det.Alerts(); i < len(as); i++ {
			if as[i].Blocked {
				v.alert = as[i].Sig
				break
			}
		}
	}
	d := w.det.TakeDrop()
	if d.Sig == nil {
		return
	}
	if v.reason == dropNone {
		v.reason = dropRules
	}
	if v.sig == nil {
		v.sig = d.Sig
	}
	v.reject = v.reject || d.Reject
	v.fl = fl
	if d.Flow {
		if st := w.stateOf(fl); st != nil {
			st.ips.dropped = true
		}
	}
}

// dropFlowPacket drops a packet of a flow a rule dropped earlier.
func (w *worker) dropFlowPacket(fl *flow.Flow) {
	v := &w.ips
	if v.reason == dropNone {
		v.reason = dropFlowDrop
	}
	v.fl = fl
}

// endPacket counts the verdict of the packet just processed, logs it when
// dropped and resets the packet state. handleFrame defers it in IPS mode.
func (w *worker) endPacket() {
	v := &w.ips
	switch {
	case v.reason == dropNone:
		v.accepted++
	case v.reject:
		v.rejected++
	default:
		v.blocked++
	}
	if v.reason != dropNone {
		v.reasons[v.reason]++
		w.out.drop(w, v)
	}
	v.reason, v.reject, v.sig, v.alert, v.fl = dropNone, false, nil, nil, nil
}

// eachIPSCounter yields the stats.ips counters, registered in IPS mode
// only, as Suricata does.
func (w *worker) eachIPSCounter(fn func(name string, v uint64)) {
	if !w.cfg.Rules.IPS {
		return
	}
	v := &w.ips
	fn("ips.accepted", v.accepted)
	fn("ips.blocked", v.blocked)
	fn("ips.rejected", v.rejected)
	fn("ips.replaced", 0) // polder never rewrites packets
	for r := dropReason(1); r < numDropReasons; r++ {
		fn(dropReasonStats[r], v.reasons[r])
	}
}

// drop writes the drop event of the packet just processed, as Suricata's
// drop logger decides: with drop flows "start", a packet dropped only
// because its flow was is logged once per flow direction.
func (o *output) drop(w *worker, v *ipsVerdict) {
	if !o.cfg.EVE.Drop {
		return
	}
	p := &w.pkt
	fl := v.fl
	dir := flow.ToServer
	if fl != nil {
		dir = pktDirection(p, fl)
		if st := w.stateOf(fl); st != nil && !o.cfg.EVE.DropAllFlows {
			if v.sig == nil && (!st.ips.dropped || st.ips.logged[dir]) {
				return
			}
			if st.ips.dropped {
				st.ips.logged[dir] = true
			}
		}
	}
	h := &w.hdr
	*h = eve.Header{
		Timestamp: w.now, InIface: w.iface, PktSrc: o.pktSrc,
		SrcIP: p.SrcAddr(), DstIP: p.DstAddr(), SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.IPProto,
		VLAN: p.VLAN, VLANCount: min(p.VLANCount, decode.MaxVLAN),
	}
	if o.pktSrc == "wire/pcap" && w.iface == "" {
		h.PcapCnt = w.pcapCnt
	}
	if p.IPProto == decode.IPProtoICMP || p.IPProto == decode.IPProtoICMPv6 {
		h.SrcPort, h.DstPort = 0, 0
		h.ICMPType, h.ICMPCode = p.ICMPType, p.ICMPCode
	}
	direction := ""
	if fl != nil {
		h.FlowID = fl.ID
		direction = eve.ToServer
		if dir == flow.ToClient {
			direction = eve.ToClient
		}
	}
	d := eve.DropOf(p)
	d.Reason = v.reason.String()
	var a *eve.Alert
	if o.cfg.EVE.DropAlerts {
		s := v.alert
		if s == nil {
			s = v.sig
		}
		if s != nil {
			a = &w.alert
			*a = dropAlert(s)
		}
	}
	w.line = eve.AppendDrop(w.line[:0], h, direction, &d, a)
	o.write(w.line)
}

// dropAlert is the alert object of a drop event for signature s: Suricata
// writes the rule's identity with action "blocked", without metadata.
func dropAlert(s *detect.Sig) eve.Alert {
	r := s.Rule
	a := eve.Alert{
		Action: eve.ActionBlocked, GID: r.GID, SID: r.SID, Rev: r.Rev,
		Signature: r.Msg, Category: s.Category, Severity: s.Severity,
	}
	switch r.Target {
	case "dest_ip":
		a.Target = eve.TargetDest
	case "src_ip":
		a.Target = eve.TargetSrc
	}
	return a
}

// pktDirection returns the direction of p in fl: its source is the flow's
// client (to server) or its server (to client).
func pktDirection(p *decode.Packet, fl *flow.Flow) flow.Direction {
	if p.IPProto == decode.IPProtoICMP || p.IPProto == decode.IPProtoICMPv6 {
		if p.Src == fl.Key.Src {
			return flow.ToServer
		}
		return flow.ToClient
	}
	return packetDir(p, fl)
}
