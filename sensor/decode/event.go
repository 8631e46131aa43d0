package decode

// Reason names why a frame could not be fully decoded, or a non-fatal anomaly
// seen in it. Each maps to a Suricata decoder event name (String) and an EVE
// decoder.event.* stats counter. ReasonNone means the frame decoded cleanly.
type Reason uint8

const ReasonNone Reason = 0

// EventSet is a bitset of Reasons seen in one packet.
type EventSet [2]uint64

// Add records r.
func (s *EventSet) Add(r Reason) { s[r>>6] |= 1 << (r & 63) }

// Has reports whether r was recorded.
func (s *EventSet) Has(r Reason) bool { return s[r>>6]&(1<<(r&63)) != 0 }
