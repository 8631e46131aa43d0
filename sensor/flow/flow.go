package flow

import "time"

// State is the flow state EVE reports as flow.state.
type State uint8

const (
	StateNew         State = iota // no reply yet (TCP: handshake not complete)
	StateEstablished              // both directions seen (TCP: 3-way handshake complete)
	StateClosed                   // TCP: last_ack, time_wait or closed; RST seen
)

var stateNames = [...]string{"new", "established", "closed"}

// String returns the EVE name: "new", "established" or "closed".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// TCPState is the TCP connection state as Suricata's stream engine names it
// (EVE tcp.state and stats flow.end.tcp_state.*). Like Suricata, the states
// are seen from the server: a FIN from the client moves established to
// close_wait, a FIN from the server moves it to fin_wait1.
type TCPState uint8

const (
	TCPNone TCPState = iota // no SYN seen (mid-stream, unless TableOptions.Midstream)
	TCPSynSent
	TCPSynRecv
	TCPEstablished
	TCPFinWait1
	TCPFinWait2
	TCPTimeWait
	TCPLastAck
	TCPCloseWait
	TCPClosing
	TCPClosed
	numTCPStates
)

var tcpStateNames = [...]string{"none", "syn_sent", "syn_recv", "established", "fin_wait1",
	"fin_wait2", "time_wait", "last_ack", "close_wait", "closing", "closed"}

// String returns Suricata's name for s.
func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return "unknown"
}

// Flags are per-flow marks set by later stages. They are the hooks a bypass
// feature reads: a flow with FlagNoInspection needs only counting.
type Flags uint8

const (
	FlagNoInspection Flags = 1 << iota // no stage needs the payload any more
	FlagDepthReached                   // stream depth reached in both directions
	FlagEncrypted                      // app layer saw encryption start (TLS application data, SSH NEWKEYS both ways)
	FlagBypassed                       // packets are bypassed (Flow.Bypass is set); set by Table.SetBypass only
	FlagMidstream                      // picked up without a handshake
	// FlagWantBypass asks for the flow to be bypassed: a rule's bypass
	// keyword matched, or another stage decided the flow needs no more
	// inspection. The pipeline decides when and how (Table.SetBypass);
	// until then inspection goes on as before.
	FlagWantBypass
)

// Bypass is how a flow's packets are kept away from inspection once the
// sensor decided the flow needs none: EVE flow.bypass, and flow.state
// "bypassed". Bypassed flows stay in the Table on their own timeout
// (ProtoTimeouts.Bypassed) so their final record carries every packet.
type Bypass uint8

const (
	BypassNone Bypass = iota
	// BypassLocal: packets still reach the sensor, which counts them in
	// the flow and drops them before stream, app-layer and detection
	// (Suricata's local bypass).
	BypassLocal
	// BypassCapture: the capture layer below the sensor (an eBPF socket
	// filter or XDP program) drops the flow's packets and counts them;
	// the pipeline adds those counts to the flow. Packets that still
	// arrive (in flight when the bypass was installed) are handled as
	// local bypass.
	BypassCapture
)

var bypassNames = [...]string{"", "local", "capture"}

// String returns the EVE flow.bypass value: "local", "capture", or "" for
// BypassNone.
func (b Bypass) String() string {
	if int(b) < len(bypassNames) {
		return bypassNames[b]
	}
	return "unknown"
}

// EndReason says why a flow ended: EVE flow.reason.
type EndReason uint8

const (
	ReasonTimeout  EndReason = iota // idle past its timeout (or TCP port reuse)
	ReasonForced                    // evicted to make room for a new flow
	ReasonShutdown                  // end of input (Flush)
)

var reasonNames = [...]string{"timeout", "forced", "shutdown"}

// String returns the EVE flow.reason value.
func (r EndReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Flow is one tracked bidirectional flow. It lives in a Table's preallocated
// slab: a *Flow is valid until the Table emits it (Expire, Flush), after
// which the slot is reused. Only the worker that owns the Table may touch it.
//
// Key is oriented client → server. The client is the sender of the first
// packet, except that a TCP flow whose first packet is a SYN/ACK takes the
// SYN/ACK's receiver as client (the SYN was missed). Swap reverses the
// orientation when a later stage learns better.
type Flow struct {
	// Fields are grouped by use: first what a lookup compares and the small
	// state it updates (64 bytes), then the counters and TCP sequence marks
	// every packet updates (64 bytes), then what is written once or rarely.
	// Padding slots to 192 bytes for cache-line alignment measured slower
	// (more memory per flow), so the slab is packed at 176 bytes.

	hash  uint32 // upper hash bits, compared before the key
	hnext int32  // next flow in the hash bucket, or in the free list

	Key Key

	TCPFlags [2]uint8 // OR of TCP flags seen per Direction (once a session exists, as Suricata)
	TCPState TCPState
	State    State
	Flags    Flags
	Alerted  bool
	AppProto uint8 // set by the pipeline; opaque here

	lowIsClient bool // normalized Key.Src is the client
	class       uint8
	list        uint8 // which timeout list the flow is on (listNone when free)
	endReason   EndReason

	// Bypass says whether and how the flow is bypassed; change it with
	// Table.SetBypass, which moves the flow to the bypassed timeout. It
	// fills what was padding, so Flow stays 176 bytes.
	Bypass Bypass

	// Last is the packet time of the latest packet, Unix ns. The owner may
	// move it forward for packets the sensor did not see (a capture
	// bypass's kernel counters), never back.
	Last int64

	Pkts  [2]uint64 // packets per Direction
	Bytes [2]uint64 // captured frame bytes per Direction, as Suricata's flow bytes

	// finSeq is each side's ISN during the handshake, then its FIN's
	// sequence number; seqEnd is the sequence number after the highest
	// segment each side sent (Suricata's next_seq), for RST validation.
	finSeq [2]uint32
	seqEnd [2]uint32

	queued int64 // Last when the flow was put on its timeout list

	// ID is the EVE flow_id: unique within the Table, below 2^53 so
	// JavaScript consumers of EVE read it exactly. See TableOptions.Seed.
	ID uint64

	Start int64 // packet time of the first packet, Unix ns

	// Ext is the owner's handle on its per-flow state (the pipeline's
	// stream session, parsers...): an index into the owner's own table, 0
	// for none. The Table never reads it; it is still set when the flow is
	// emitted so the owner can flush and recycle the state, and cleared
	// when the slot is reused. An index rather than a pointer keeps Flow
	// free of pointers, so the garbage collector never scans the table's
	// slots (hundreds of thousands, preallocated).
	Ext uint32

	// ICMPType and ICMPCode are the type/code of the first ICMP message per
	// Direction (EVE icmp_type/response_icmp_type).
	ICMPType, ICMPCode [2]uint8

	prev, next int32 // timeout list links
}

// SetFlag sets f's flag bits.
func (f *Flow) SetFlag(fl Flags) { f.Flags |= fl }

// HasFlag reports whether all bits of fl are set.
func (f *Flow) HasFlag(fl Flags) bool { return f.Flags&fl == fl }

// StartTime and LastTime return Start and Last as time.Time (UTC).
func (f *Flow) StartTime() time.Time { return time.Unix(0, f.Start).UTC() }

// LastTime returns the time of the latest packet.
func (f *Flow) LastTime() time.Time { return time.Unix(0, f.Last).UTC() }

// Swap reverses f's orientation: the server becomes the client. Key,
// per-direction counters, flags and ICMP types trade places, and the
// server-relative TCP states fin_wait1 and close_wait are exchanged. Call
// it when the app layer finds it picked the flow up from the wrong end; later
// Lookups return directions relative to the new orientation.
func (f *Flow) Swap() {
	f.Key = f.Key.reversed()
	f.lowIsClient = !f.lowIsClient
	f.Pkts[0], f.Pkts[1] = f.Pkts[1], f.Pkts[0]
	f.Bytes[0], f.Bytes[1] = f.Bytes[1], f.Bytes[0]
	f.TCPFlags[0], f.TCPFlags[1] = f.TCPFlags[1], f.TCPFlags[0]
	f.ICMPType[0], f.ICMPType[1] = f.ICMPType[1], f.ICMPType[0]
	f.ICMPCode[0], f.ICMPCode[1] = f.ICMPCode[1], f.ICMPCode[0]
	f.finSeq[0], f.finSeq[1] = f.finSeq[1], f.finSeq[0]
	f.seqEnd[0], f.seqEnd[1] = f.seqEnd[1], f.seqEnd[0]
	switch f.TCPState {
	case TCPFinWait1:
		f.TCPState = TCPCloseWait
	case TCPCloseWait:
		f.TCPState = TCPFinWait1
	}
}
