// Package bypass is the kernel side of flow bypass: a flow table shared by
// an XDP program and AF_PACKET socket filters (bpf/bypass.c), which count
// and drop the packets of flows the sensor has finished inspecting, and a
// typed loader for it. It is what Suricata calls capture bypass; local
// bypass (ModeLocal) needs no kernel and lives in the sensor.
//
// # Use
//
//	b, err := bypass.Open(bypass.Config{Mode: bypass.ModeSocket})
//	// ModeXDP: bypass.Config{Mode: bypass.ModeXDP, Interfaces: []string{"eth1"}}
//	if err != nil { ... fall back to ModeLocal, log err (it has a hint) ... }
//	defer b.Close()
//	for _, src := range sources { // ModeSocket: every AF_PACKET socket of the fanout group
//		if err := b.AttachSocket(src.FD()); err != nil { ... }
//	}
//
//	// A worker decides to bypass a flow:
//	if bypass.Supported(key) {
//		switch err := b.Insert(key); {
//		case err == nil: // capture-bypassed: its packets stop coming, soon
//		case errors.Is(err, bypass.ErrTableFull): // bypass locally (counted in Stats)
//		default: // bypass locally, count err
//		}
//	}
//
//	// The sweeper goroutine, every 10 s:
//	b.Sweep(bypass.Monotonic(), bypassedTimeout, func(k flow.Key, c bypass.Counters, expired bool) {
//		// add c to the flow's record (totals, not deltas); emit and
//		// forget the flow when expired; delete orphans with b.Delete.
//	})
//
//	// The flow ends otherwise (e.g. the sensor's own timeout, or a TCP
//	// FIN passed with PassTCPControl): final counters, entry gone.
//	c, ok, err := b.Remove(key)
//
// Open, AttachSocket, Insert, Lookup, Remove, Delete, Read, Sweep, Stats
// and Close are safe for concurrent use. Insert and Remove are one system
// call each (~1.3 µs); the programs see an inserted flow at once, but
// packets already in the capture ring still reach the sensor (Suricata's
// local_capture_pkts), so keep bypassing locally what still arrives.
//
// # Keys and directions
//
// The table is keyed by the sensor's flow.Key, normalized as flow.KeyOf
// normalizes it (the lower address, then port, is Src), with the VLAN ids.
// Insert, Lookup and Remove take a key in either orientation and return
// Counters oriented to the key given: FromSrc counts the packets its Src
// sent. Read and Sweep give normalized keys. One entry holds both
// directions.
//
// Only TCP, UDP and SCTP flows over IPv4 or IPv6 are keyed in the kernel
// (Supported); ICMP, ESP and other protocols are bypassed locally. The
// programs key the outermost IP header after up to three 802.1Q/802.1ad
// tags, so never insert a flow whose packets arrive in a tunnel, MPLS or
// PPPoE (decode.Packet.Tunnel or an outer flow): it would never match, or
// would match and drop the carrier. IP fragments, truncated or invalid
// headers, more than three VLAN tags and IPv6 packets with more than six
// extension headers always go to the sensor. bpf/bypass.c says exactly
// what is parsed.
//
// # Counters and time
//
// Counters start at zero at Insert, so a flow's totals are what the sensor
// counted itself plus the kernel's counters. Bytes are frame lengths
// without FCS, VLAN tags included (AF_PACKET's tp_len plus the tag it puts
// back), as the sensor counts them. LastSeen is CLOCK_MONOTONIC_COARSE
// (bpf_ktime_get_coarse_ns: since boot, tick resolution); compare it with
// Monotonic(), and convert to wall time with
// time.Now().Add(c.LastSeen - bypass.Monotonic()).
//
// # Table size and a full table
//
// The table is a preallocated BPF hash map (not LRU: an LRU map would
// evict bypassed flows silently and lose their counters) of
// Config.TableSize flows, ~165 bytes of kernel memory each (measured: 33 MB
// for 200 000). When it is full Insert fails with ErrTableFull and
// Stats.InsertTableFull counts it; the flow is then bypassed locally.
//
// # Modes, privileges and kernels
//
// ModeSocket (the default for AF_PACKET capture) filters the sensor's own
// sockets only. ModeXDP drops before skb allocation, for every user of
// the interface: dedicated capture ports only. Open never falls back from
// driver to generic XDP by itself (Config.XDPGeneric); when it fails with
// ErrNotSupported, reopen in ModeSocket. NICs that strip VLAN tags in
// hardware hide them from XDP: disable it (ethtool -K IF rxvlan off) or use
// ModeSocket. Disable GRO/LRO on capture interfaces, or the programs count
// merged super-packets as the sensor would see them.
//
// Loading needs CAP_BPF and CAP_NET_ADMIN (or root) and Linux 5.11
// (bpf_ktime_get_coarse_ns); batched reads need 5.6, exact final counters
// in Remove 5.14, with fallbacks below. Errors say which is missing, and
// include the verifier's log when the kernel refuses a program.
//
// # Pinning
//
// With Config.PinDir the table and the XDP links are pinned on a bpf
// filesystem so that bypass survives a crash or restart of the sensor;
// the next Open adopts the table's flows (Read them and adopt or Delete
// them) and removes every other pin there, detaching stale XDP programs.
// Socket filters die with their sockets.
//
// # Building
//
// bypass_bpfel.go and bypass_bpfel.o are generated by bpf2go from
// ../bypass.c and committed; go build and go test need no clang. make
// generate rebuilds them, and make test fails when they are stale.
package bypass
