// Package detect is the rule engine: it compiles a loaded ruleset
// (sensor/rules) into signatures grouped by where they inspect, prefilters
// each inspection with one multi-pattern matcher per buffer (detect/mpm),
// evaluates the candidates exactly (detect/inspect, with detect/pcre), keeps
// flowbits, xbits, hostbits and thresholds, and hands back alerts.
//
// Where a rule inspects decides which call of a Thread evaluates it:
//
//   - IP-only rules (addresses, no ports, no payload, no flow conditions)
//     once per flow direction, found through an address index;
//   - packet rules (header conditions, dsize, the payload of UDP, ICMP and
//     other IP packets, tcp-pkt rules) on every packet;
//   - stream rules (payload contents of TCP rules) on each chunk of
//     reassembled, in-order stream data, so retransmissions and overlaps
//     are inspected once and as the receiver sees them;
//   - transaction rules (sticky buffers: http.*, dns.*, tls.*, ja3.*,
//     file.data) once per HTTP transaction, DNS message and TLS handshake,
//     with the request and response buffers of the transaction.
//
// In simulated IPS mode (Options.IPS) a Thread also gathers what the
// matches' drop and reject actions ask of the packet (Thread.TakeDrop, see
// Drop and Sig.DropsFlow); the pipeline carries it out.
//
// An Engine is immutable and shared by every worker; each worker owns a
// Thread (scratch space, candidate lists, the alerts of the current call).
// Per-flow state (flowbits, flowints, what has been inspected) is a
// FlowState the pipeline keeps beside its own per-flow state. Live reload
// compiles a new Engine beside the old one; the pipeline hands it to each
// Thread between two packets (Thread.SetEngine), so no packet is inspected
// by both or by neither.
//
// Time is the caller's: packet time offline, so thresholds and bit expiry
// replay deterministically.
package detect
