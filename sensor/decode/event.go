package decode

import "strings"

// Reason names why a frame could not be fully decoded, or a non-fatal anomaly
// seen in it. Each maps to a Suricata decoder event name (String) and an EVE
// decoder.event.* stats counter. ReasonNone means the frame decoded cleanly.
//
// Decode returns a non-zero Reason only when the frame is invalid and must be
// dropped (Suricata's ENGINE_SET_INVALID_EVENT, counted in decoder.invalid);
// anomalies that leave the packet usable are only added to Packet.Events
// (Suricata's ENGINE_SET_EVENT). Both are counted in Counters.
type Reason uint8

// ReasonNone is the zero Reason: nothing to report.
const ReasonNone Reason = 0

// NumReasons is one past the largest Reason; arrays indexed by Reason use it.
const NumReasons = int(numReasons)

// String returns Suricata's decoder event name, such as "ipv4.pkt_too_small",
// as used by decode-event rule keywords and EVE anomaly events.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Layer returns the protocol layer of the event ("ipv4" for
// ipv4.pkt_too_small), the EVE anomaly "layer"; it is "" for events that
// belong to no layer (too_many_layers) and for ReasonNone.
func (r Reason) Layer() string {
	if r == ReasonNone {
		return ""
	}
	s := r.String()
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return ""
}

// EventSet is a bitset of Reasons seen in one packet. It is a value type so
// that Packet stays pointer-free and is reset by assignment.
type EventSet [2]uint64

// Add records r.
func (s *EventSet) Add(r Reason) { s[r>>6] |= 1 << (r & 63) }

// Has reports whether r was recorded.
func (s *EventSet) Has(r Reason) bool { return s[r>>6]&(1<<(r&63)) != 0 }

// Empty reports whether no Reason was recorded.
func (s *EventSet) Empty() bool { return s[0]|s[1] == 0 }

// Each calls fn for every recorded Reason in ascending order.
func (s *EventSet) Each(fn func(Reason)) {
	for r := Reason(1); r < numReasons; r++ {
		if s.Has(r) {
			fn(r)
		}
	}
}

// eventNames holds "decoder.event.<name>" for Counters.Each, built once so
// that iterating stats does not allocate.
var eventNames = func() (n [numReasons]string) {
	for r := Reason(1); r < numReasons; r++ {
		if r.Layer() == "" {
			// Events of no layer are top-level decoder counters in
			// Suricata (decoder.too_many_layers).
			n[r] = "decoder." + r.String()
			continue
		}
		n[r] = "decoder.event." + r.String()
	}
	return n
}()

// Compile-time guard: EventSet holds 128 bits, so Reasons must stay below 128.
var _ [128 - int(numReasons)]struct{}
