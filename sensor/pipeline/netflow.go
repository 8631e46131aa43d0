package pipeline

import (
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// ttlRange is the lowest and highest TTL (hop limit) one side sent.
type ttlRange struct {
	min, max uint8
	seen     bool
}

func (r *ttlRange) add(ttl uint8) {
	if !r.seen {
		r.min, r.max, r.seen = ttl, ttl, true
		return
	}
	r.min, r.max = min(r.min, ttl), max(r.max, ttl)
}

// flowTTL is the TTL range of each direction of a flow, for netflow
// events (Suricata's min_ttl/max_ttl per direction), indexed by
// flow.Direction; swap it when the flow's orientation is swapped.
type flowTTL [2]ttlRange

func (t *flowTTL) swap() { t[0], t[1] = t[1], t[0] }

// netflow writes the netflow events of an ended flow: the client's
// packets, then, if the server sent any, the server's (Suricata's
// JsonNetFlowLogger).
func (o *output) netflow(w *worker, fl *flow.Flow, st *flowState) {
	for _, dir := range [...]flow.Direction{flow.ToServer, flow.ToClient} {
		if dir == flow.ToClient && fl.Pkts[flow.ToClient] == 0 {
			return
		}
		h := o.header(w, fl, w.now)
		h.PcapCnt, h.PktSrc = 0, ""
		if dir == flow.ToClient {
			h.SrcIP, h.DstIP = h.DstIP, h.SrcIP
			h.SrcPort, h.DstPort = h.DstPort, h.SrcPort
			h.ICMPType, h.ICMPCode = fl.ICMPType[flow.ToClient], fl.ICMPCode[flow.ToClient]
		}
		n := eve.Netflow{
			Pkts: fl.Pkts[dir], Bytes: fl.Bytes[dir],
			Start: fl.StartTime(), End: fl.LastTime(),
			HasTTL: true,
		}
		if st != nil {
			r := st.ttl[dir]
			n.MinTTL, n.MaxTTL = r.min, r.max
			n.TxCnt = st.txCnt
		}
		if fl.Key.Proto == decode.IPProtoTCP {
			n.IsTCP, n.TCPFlags = true, fl.TCPFlags[dir]
		}
		w.line = eve.AppendNetflow(w.line[:0], h, &n)
		o.write(w.line)
	}
}
