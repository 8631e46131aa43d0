package eve

import "time"

// Netflow is one direction of an ended flow: what a "netflow" event
// reports (Suricata's uni-directional flow record,
// src/output-json-netflow.c). The pipeline fills it from its flow table, as
// it does FlowRecord; counters are packets and bytes on the wire in that
// direction only.
type Netflow struct {
	Pkts, Bytes uint64
	Start, End  time.Time // first and last packet of the whole flow; age is End−Start in whole seconds

	// MinTTL and MaxTTL are the lowest and highest IPv4 TTL or IPv6 hop
	// limit seen in this direction; written when HasTTL.
	MinTTL, MaxTTL uint8
	HasTTL         bool

	// TxCnt is the flow's number of app-layer transactions (both
	// directions, as Suricata writes it); 0 omits it.
	TxCnt uint64

	// IsTCP writes the "tcp" object with TCPFlags, the OR of the TCP flags
	// this direction sent.
	IsTCP    bool
	TCPFlags uint8
}

// AppendNetflow appends one complete "netflow" event line (with '\n') to
// dst and returns the extended buffer. It allocates only when dst must
// grow.
//
// h is oriented in the record's direction: for the record of the packets
// from server to client, Src is the server. h.Timestamp is when the record
// is written (Suricata's TimeGet(): packet time offline); h.AppProto is the
// protocol of that direction, written as "unknown" when empty, as
// Suricata's AppProtoToString does; h.PcapCnt, PktSrc, TxID and the
// response ICMP fields are not written.
//
// Members and their order follow Suricata 8.0's JsonNetFlowLogger: the
// header, app_proto, "netflow":{pkts, bytes, start, end, age, min_ttl,
// max_ttl, tx_cnt}, "tcp":{tcp_flags, syn, fin, rst, psh, ack, urg, ecn,
// cwr}.
func AppendNetflow(dst []byte, h *Header, n *Netflow) []byte {
	b := Builder{B: dst}
	hd := *h
	hd.PcapCnt, hd.PktSrc, hd.HasRespICMP = 0, "", false
	b.headerTuple(&hd, "netflow")
	if h.AppProto != "" {
		b.KeyString("app_proto", h.AppProto)
	} else {
		b.KeyString("app_proto", "unknown")
	}
	b.Key("netflow")
	b.BeginObject()
	b.KeyUint("pkts", n.Pkts)
	b.KeyUint("bytes", n.Bytes)
	b.KeyTime("start", n.Start)
	b.KeyTime("end", n.End)
	b.KeyInt("age", max(n.End.Unix()-n.Start.Unix(), 0))
	if n.HasTTL {
		b.KeyUint("min_ttl", uint64(n.MinTTL))
		b.KeyUint("max_ttl", uint64(n.MaxTTL))
	}
	if n.TxCnt != 0 {
		b.KeyUint("tx_cnt", n.TxCnt)
	}
	b.EndObject()
	if n.IsTCP {
		b.Key("tcp")
		b.BeginObject()
		b.keyHexByte("tcp_flags", n.TCPFlags)
		b.tcpFlagMembers(n.TCPFlags)
		b.EndObject()
	}
	return b.end()
}
