package eve

import "time"

// FlowRecord is what a flow event reports: the EVE "flow" object and, for
// TCP, the "tcp" object. It is a plain value the pipeline fills from its
// flow table when a flow ends (timeout, shutdown, forced eviction), so that
// output does not depend on the flow package's internal layout. Counters
// are in packets and bytes on the wire (link layer included, as Suricata
// counts); directions follow the Header: to server = Src → Dst.
type FlowRecord struct {
	Start, End time.Time // first and last packet; age is End−Start in whole seconds

	PktsToServer, PktsToClient   uint64
	BytesToServer, BytesToClient uint64

	// State is the flow state: "new", "established", "closed" or "bypassed".
	State string
	// Reason is why the flow was logged: "timeout", "forced", "shutdown".
	Reason string
	// Alerted reports whether any alert fired on the flow.
	Alerted bool
	// Action is "pass" or "drop" when a rule set the flow's action; "" omits.
	Action string
	// Elephant marks a flow over the elephant-flow threshold (Suricata 8).
	Elephant bool
	// TxCnt is the number of app-layer transactions; 0 omits it.
	TxCnt uint64

	// Bypass placeholder (Suricata's "bypass" and "bypassed"): Bypass is
	// "local" or "capture" when the flow was bypassed, "" otherwise;
	// Bypassed* are the counters seen after the bypass, logged only when
	// Bypass is "capture" (the capture layer counted them).
	Bypass                string
	BypassedPktsToServer  uint64
	BypassedPktsToClient  uint64
	BypassedBytesToServer uint64
	BypassedBytesToClient uint64

	// App-layer protocol names per direction when they differ from the
	// Header's AppProto ("" omits), and the original protocol after a
	// protocol change (e.g. HTTP CONNECT → TLS).
	AppProtoTS, AppProtoTC, AppProtoOrig, AppProtoExpected string

	// TCP: set IsTCP to write the tcp object.
	IsTCP bool
	// TCPFlagsTS and TCPFlagsTC are the OR of all TCP flag bytes seen in each
	// direction (header byte 13: FIN 0x01 ... CWR 0x80); the "tcp_flags"
	// total is their OR.
	TCPFlagsTS, TCPFlagsTC uint8
	// TCPState is the TCP state machine's state name as Suricata prints it:
	// "none", "syn_sent", "syn_recv", "established", "fin_wait1",
	// "fin_wait2", "time_wait", "last_ack", "close_wait", "closing",
	// "closed"; "" omits it (Suricata omits it for flows with no TCP
	// session, e.g. only a SYN seen with stream tracking off).
	TCPState string
	// Reassembly, written only with TCPState: regions (Suricata's
	// max_regions, 1 when unset) and gaps per direction.
	TSMaxRegions, TCMaxRegions uint16
	TSGap, TCGap               bool
	// Urgent out-of-band byte counts (Suricata 8 "ts/tc_urgent_oob_data");
	// 0 omits.
	TSUrgentOOB, TCUrgentOOB uint64
}

// AppendFlow appends a complete "flow" event line (with '\n') for f to buf
// and returns the extended buffer. It allocates only when buf must grow.
func AppendFlow(buf []byte, h *Header, f *FlowRecord) []byte {
	b := Builder{B: buf}
	b.header(h, "flow", true)
	if f.AppProtoTS != "" {
		b.KeyString("app_proto_ts", f.AppProtoTS)
	}
	if f.AppProtoTC != "" {
		b.KeyString("app_proto_tc", f.AppProtoTC)
	}
	if f.AppProtoOrig != "" {
		b.KeyString("app_proto_orig", f.AppProtoOrig)
	}
	if f.AppProtoExpected != "" {
		b.KeyString("app_proto_expected", f.AppProtoExpected)
	}

	b.Key("flow")
	b.BeginObject()
	b.KeyUint("pkts_toserver", f.PktsToServer)
	b.KeyUint("pkts_toclient", f.PktsToClient)
	b.KeyUint("bytes_toserver", f.BytesToServer)
	b.KeyUint("bytes_toclient", f.BytesToClient)
	if f.Bypass == "capture" {
		b.Key("bypassed")
		b.BeginObject()
		b.KeyUint("pkts_toserver", f.BypassedPktsToServer)
		b.KeyUint("pkts_toclient", f.BypassedPktsToClient)
		b.KeyUint("bytes_toserver", f.BypassedBytesToServer)
		b.KeyUint("bytes_toclient", f.BypassedBytesToClient)
		b.EndObject()
	}
	b.KeyTime("start", f.Start)
	b.KeyTime("end", f.End)
	age := f.End.Unix() - f.Start.Unix()
	if age < 0 {
		age = 0
	}
	b.KeyInt("age", age)
	if f.Bypass != "" {
		b.KeyString("bypass", f.Bypass)
	}
	if f.State != "" {
		b.KeyString("state", f.State)
	}
	if f.Reason != "" {
		b.KeyString("reason", f.Reason)
	}
	b.KeyBool("alerted", f.Alerted)
	if f.Action != "" {
		b.KeyString("action", f.Action)
	}
	if f.Elephant {
		b.KeyBool("elephant", true)
	}
	if f.TxCnt != 0 {
		b.KeyUint("tx_cnt", f.TxCnt)
	}
	b.EndObject()

	if f.IsTCP {
		all := f.TCPFlagsTS | f.TCPFlagsTC
		b.Key("tcp")
		b.BeginObject()
		b.keyHexByte("tcp_flags", all)
		b.keyHexByte("tcp_flags_ts", f.TCPFlagsTS)
		b.keyHexByte("tcp_flags_tc", f.TCPFlagsTC)
		b.tcpFlagMembers(all)
		if f.TCPState != "" { // Suricata writes these only when a TCP session exists
			b.KeyString("state", f.TCPState)
			if f.TSGap {
				b.KeyBool("ts_gap", true)
			}
			if f.TCGap {
				b.KeyBool("tc_gap", true)
			}
			b.KeyUint("ts_max_regions", uint64(max(f.TSMaxRegions, 1)))
			b.KeyUint("tc_max_regions", uint64(max(f.TCMaxRegions, 1)))
		}
		if f.TSUrgentOOB != 0 {
			b.KeyUint("ts_urgent_oob_data", f.TSUrgentOOB)
		}
		if f.TCUrgentOOB != 0 {
			b.KeyUint("tc_urgent_oob_data", f.TCUrgentOOB)
		}
		b.EndObject()
	}
	return b.end()
}

// tcpFlagMembers writes "syn":true, ... for each flag set in f, in the
// order of Suricata's EveTcpFlags.
func (b *Builder) tcpFlagMembers(f uint8) {
	for _, fl := range [...]struct {
		bit  uint8
		name string
	}{{0x02, "syn"}, {0x01, "fin"}, {0x04, "rst"}, {0x08, "psh"}, {0x10, "ack"}, {0x20, "urg"}, {0x40, "ecn"}, {0x80, "cwr"}} {
		if f&fl.bit != 0 {
			b.KeyBool(fl.name, true)
		}
	}
}

// keyHexByte writes "k":"1b": two lower-case hex digits, as Suricata prints
// TCP flags.
func (b *Builder) keyHexByte(k string, v uint8) {
	b.Key(k)
	b.sep()
	b.B = append(b.B, '"', hexDigits[v>>4], hexDigits[v&0xf], '"')
}
