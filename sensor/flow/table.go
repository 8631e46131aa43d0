package flow

import (
	"time"
	"unsafe"

	"github.com/polder-nsm/polder/sensor/decode"
)

// ProtoTimeouts are the idle timeouts of one protocol class per flow state,
// in normal and in emergency mode (Suricata flow-timeouts.<proto>). A flow
// ends when no packet was seen for the timeout of its current state.
//
// Bypassed applies to a flow whatever its state once it is bypassed
// (Flow.Bypass); 0 means Suricata's 100 s, and EmergencyBypassed 0 means
// 50 s.
type ProtoTimeouts struct {
	New, Established, Closed                            time.Duration
	EmergencyNew, EmergencyEstablished, EmergencyClosed time.Duration
	Bypassed, EmergencyBypassed                         time.Duration
}

// Timeouts holds ProtoTimeouts per protocol class. ICMP covers ICMPv4 and
// ICMPv6; Default covers every other IP protocol. A class whose New is zero
// takes DefaultTimeouts' values as a whole (Closed may legitimately be zero).
type Timeouts struct {
	TCP, UDP, ICMP, Default ProtoTimeouts
}

// DefaultTimeouts returns Suricata 7.0's built-in flow-timeouts (the values
// of its default suricata.yaml).
func DefaultTimeouts() Timeouts {
	const s = time.Second
	return Timeouts{
		TCP:     ProtoTimeouts{60 * s, 600 * s, 60 * s, 5 * s, 100 * s, 10 * s, defaultBypassed, defaultEmergencyBypassed},
		UDP:     ProtoTimeouts{30 * s, 300 * s, 0, 10 * s, 100 * s, 0, defaultBypassed, defaultEmergencyBypassed},
		ICMP:    ProtoTimeouts{30 * s, 300 * s, 0, 10 * s, 100 * s, 0, defaultBypassed, defaultEmergencyBypassed},
		Default: ProtoTimeouts{30 * s, 300 * s, 0, 10 * s, 100 * s, 0, defaultBypassed, defaultEmergencyBypassed},
	}
}

// Suricata's FLOW_DEFAULT_BYPASSED_TIMEOUT and its emergency value.
const (
	defaultBypassed          = 100 * time.Second
	defaultEmergencyBypassed = 50 * time.Second
)

// TableOptions configures a Table. Every zero field means its documented
// default.
type TableOptions struct {
	// MaxFlows is the number of flows tracked at once; 0 = 65536. It plays
	// the role of Suricata's flow.memcap (32 MiB default): at the project
	// budget of 512 bytes per flow (Flow plus the pipeline's state) 65536
	// flows are 32 MiB. The Flow slab is allocated up front.
	MaxFlows int

	// HashSize is the number of hash buckets, rounded up to a power of two;
	// 0 = MaxFlows (load factor ≤ 1).
	HashSize int

	// Reserve is the number of extra slots holding flows that Lookup evicted
	// (reason "forced") or retired (TCP port reuse) until the next Expire or
	// Flush emits them; 0 = 1024. When all are in use Lookup cannot create a
	// flow and returns nil (counted as flow.get_used_failed): call Expire
	// when Pending is non-zero to keep them free.
	Reserve int

	// Seed makes flow IDs and bucket placement reproducible. Flow IDs are a
	// bijection of Seed+n (n = 1, 2, ... per created flow) onto [1, 2^53), so
	// workers whose Seeds are at least 2^40 apart never share an ID. Live
	// sensors should use a random Seed so bucket placement cannot be
	// predicted by an attacker.
	Seed uint64

	// Timeouts per protocol and state; zero classes take DefaultTimeouts().
	Timeouts Timeouts

	// EmergencyRecovery is the percentage of MaxFlows that must be free again
	// before emergency mode ends (Suricata flow.emergency-recovery); 0 = 30.
	EmergencyRecovery int

	// Midstream starts the TCP state machine as established on a flow first
	// seen without a SYN (Suricata stream.midstream). The default false
	// matches Suricata's default: such flows stay state none / flow new. The
	// stream package picks up mid-stream data either way.
	Midstream bool
}

// protocol classes and lru lists: one list per class and State, plus one
// per class for bypassed flows (slot numStates), ordered by the time a flow
// was queued, so the head of each is the next to time out.
const (
	classTCP = iota
	classUDP
	classICMP
	classOther
	numClasses
	numStates    = 3
	slotBypassed = numStates
	numSlots     = numStates + 1
	numLists     = numClasses * numSlots
	listNone     = 0xff
	listRetired  = numLists
)

// listOf returns the timeout list f belongs on.
func listOf(f *Flow) uint8 {
	if f.Bypass != BypassNone {
		return f.class*numSlots + slotBypassed
	}
	return f.class*numSlots + uint8(f.State)
}

type lru struct{ head, tail int32 }

// Table tracks flows for one worker. It is not safe for concurrent use: the
// worker that owns it is the only caller, so it needs no locks. All memory is
// allocated by NewTable; Lookup, Expire and Flush do not allocate.
//
// Bounds and eviction: at most MaxFlows flows are tracked. When a new flow
// does not fit, the table enters emergency mode (shorter timeouts, counted
// flow.emerg_mode_entered) and evicts the flow nearest to its emergency
// timeout, which the next Expire emits with reason "forced". Emergency mode
// ends once EmergencyRecovery percent of MaxFlows is free again.
type Table struct {
	flows   []Flow
	buckets []int32
	mask    uint32
	seed    uint64

	free      int32 // free slots, linked through hnext
	nfree     int
	fresh     int32 // slots at and above fresh were never used
	active    int   // flows in the hash
	maxFlows  int
	recoverAt int // leave emergency when active ≤ recoverAt

	lists     [numLists + 1]lru // + retired
	timeouts  [2][numLists]int64
	emergency bool
	midstream bool

	idBase, idNext uint64

	ctr counters
}

type counters struct {
	total, tcp, udp, icmpv4, icmpv6 uint64
	tcpReuse                        uint64
	getUsed, getUsedFailed          uint64
	timeout                         uint64
	emergEntered, emergOver         uint64
	endState                        [numStates]uint64
	endBypassed                     [BypassCapture + 1]uint64
	endTCP                          [numTCPStates]uint64
}

// NewTable returns an empty table with every slot preallocated.
func NewTable(opts TableOptions) *Table {
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = 65536
	}
	if opts.HashSize <= 0 {
		opts.HashSize = opts.MaxFlows
	}
	if opts.Reserve <= 0 {
		opts.Reserve = 1024
	}
	if opts.EmergencyRecovery <= 0 || opts.EmergencyRecovery > 100 {
		opts.EmergencyRecovery = 30
	}
	nb := 1
	for nb < opts.HashSize && nb < 1<<30 {
		nb <<= 1
	}
	n := opts.MaxFlows + opts.Reserve
	t := &Table{
		flows:     make([]Flow, n),
		buckets:   make([]int32, nb),
		mask:      uint32(nb - 1),
		seed:      mix(opts.Seed ^ 0x5bd1e9955bd1e995),
		maxFlows:  opts.MaxFlows,
		recoverAt: opts.MaxFlows - opts.MaxFlows*opts.EmergencyRecovery/100,
		midstream: opts.Midstream,
		idBase:    opts.Seed,
	}
	for i := range t.buckets {
		t.buckets[i] = -1
	}
	for i := range t.lists {
		t.lists[i] = lru{-1, -1}
	}
	// Slots are handed out from the free list, then from the never-used
	// tail (fresh): building the table touches no flow memory, so a large
	// MaxFlows costs address space, not time, until flows arrive.
	t.free = -1
	t.nfree = n
	to := opts.Timeouts
	dt := DefaultTimeouts()
	def := [numClasses]ProtoTimeouts{dt.TCP, dt.UDP, dt.ICMP, dt.Default}
	for c, pt := range [numClasses]ProtoTimeouts{to.TCP, to.UDP, to.ICMP, to.Default} {
		if pt.New == 0 {
			pt = def[c]
		}
		if pt.Bypassed == 0 {
			pt.Bypassed = defaultBypassed
		}
		if pt.EmergencyBypassed == 0 {
			pt.EmergencyBypassed = defaultEmergencyBypassed
		}
		t.timeouts[0][c*numSlots+int(StateNew)] = int64(pt.New)
		t.timeouts[0][c*numSlots+int(StateEstablished)] = int64(pt.Established)
		t.timeouts[0][c*numSlots+int(StateClosed)] = int64(pt.Closed)
		t.timeouts[0][c*numSlots+slotBypassed] = int64(pt.Bypassed)
		t.timeouts[1][c*numSlots+int(StateNew)] = int64(pt.EmergencyNew)
		t.timeouts[1][c*numSlots+int(StateEstablished)] = int64(pt.EmergencyEstablished)
		t.timeouts[1][c*numSlots+int(StateClosed)] = int64(pt.EmergencyClosed)
		t.timeouts[1][c*numSlots+slotBypassed] = int64(pt.EmergencyBypassed)
	}
	return t
}

func classOf(proto uint8) uint8 {
	switch proto {
	case decode.IPProtoTCP:
		return classTCP
	case decode.IPProtoUDP:
		return classUDP
	case decode.IPProtoICMP, decode.IPProtoICMPv6:
		return classICMP
	}
	return classOther
}

// Lookup finds the flow of p or creates it, and accounts p to it: packet and
// byte counters, TCP flags and state, flow state and Last (from
// p.Timestamp). dir is p's direction relative to the flow's orientation.
//
// It returns nil when p has no flow key (see KeyOf) or the table is full and
// no evicted slot is free, i.e. Expire has not run since Reserve flows were
// evicted (counted as flow.get_used_failed).
//
// A packet for a flow that is idle past its timeout, but not yet expired,
// retires the old flow (reason "timeout") and starts a new one, so results
// do not depend on how often Expire runs. A TCP SYN (without ACK) on a
// closed TCP flow retires the old flow (emitted
// by the next Expire with reason "timeout", counted flow.tcp_reuse) and starts
// a new one, as Suricata does for port reuse.
func (t *Table) Lookup(p *decode.Packet) (f *Flow, dir Direction) {
	k, high, ok := keyOf(p)
	if !ok {
		return nil, ToServer
	}
	now := p.Timestamp.UnixNano()
	if ek, ehigh, ok := embeddedKey(p); ok {
		// An ICMP error about a tracked flow is counted in that flow.
		if i := t.find(&ek); i >= 0 {
			f = &t.flows[i]
			dir = ToClient
			if !ehigh == f.lowIsClient {
				dir = ToServer
			}
			t.update(i, dir, p, now)
			return f, dir
		}
	}
	h := k.Hash(t.seed)
	b := uint32(h) & t.mask
	h32 := uint32(h >> 32)
	for i := t.buckets[b]; i >= 0; i = t.flows[i].hnext {
		f = &t.flows[i]
		if f.hash != h32 || !f.matches(&k) {
			continue
		}
		if k.Proto == decode.IPProtoTCP && f.State == StateClosed &&
			p.TCPFlags&(decode.TCPSyn|decode.TCPAck|decode.TCPRst) == decode.TCPSyn {
			t.ctr.tcpReuse++
			t.retire(i, ReasonTimeout)
			break
		}
		if to := t.timeout(f); now-f.Last >= to {
			// Timed out but not yet expired (Expire runs less often than
			// packets arrive): end it and start afresh, as Suricata does.
			t.retire(i, ReasonTimeout)
			t.ctr.timeout++
			break
		}
		dir = ToClient
		if !high == f.lowIsClient {
			dir = ToServer
		}
		t.update(i, dir, p, now)
		return f, dir
	}

	// New flow.
	if t.active >= t.maxFlows {
		if !t.emergency {
			t.emergency = true
			t.ctr.emergEntered++
		}
		if !t.hasFree() || !t.evict() {
			t.ctr.getUsedFailed++
			return nil, ToServer
		}
	}
	if !t.hasFree() {
		t.ctr.getUsedFailed++
		return nil, ToServer
	}
	var i int32
	if t.free >= 0 {
		i = t.free
		t.free = t.flows[i].hnext
	} else {
		i = t.fresh
		t.fresh++
	}
	f = &t.flows[i]
	t.nfree--
	*f = Flow{}
	f.lowIsClient = !high
	if k.Proto == decode.IPProtoTCP && p.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck {
		f.lowIsClient = high // the SYN/ACK's receiver is the client
	}
	f.Key = k
	if !f.lowIsClient {
		f.Key = k.reversed()
	}
	f.ID = t.newID()
	f.Start, f.Last = now, now
	f.class = classOf(k.Proto)
	f.hash = h32
	f.list = listNone
	f.prev, f.next = -1, -1
	f.hnext = t.buckets[b]
	t.buckets[b] = i
	t.active++
	t.ctr.total++
	switch {
	case k.Proto == decode.IPProtoTCP:
		t.ctr.tcp++
	case k.Proto == decode.IPProtoUDP:
		t.ctr.udp++
	case k.Proto == decode.IPProtoICMP:
		t.ctr.icmpv4++
	case k.Proto == decode.IPProtoICMPv6:
		t.ctr.icmpv6++
	}
	dir = ToServer
	if f.lowIsClient == high {
		dir = ToClient
	}
	t.update(i, dir, p, now)
	return f, dir
}

// matches compares f's key, in either orientation, with the normalized k.
// find returns the slot of the live flow with key k, or -1.
func (t *Table) find(k *Key) int32 {
	h := k.Hash(t.seed)
	h32 := uint32(h >> 32)
	for i := t.buckets[uint32(h)&t.mask]; i >= 0; i = t.flows[i].hnext {
		if f := &t.flows[i]; f.hash == h32 && f.matches(k) {
			return i
		}
	}
	return -1
}

func (f *Flow) matches(k *Key) bool {
	if f.lowIsClient {
		return f.Key == *k
	}
	sp, dp := k.DstPort, k.SrcPort // as Key.reversed
	if k.Proto == ipProtoESP {
		sp, dp = k.SrcPort, k.DstPort
	}
	return f.Key.Src == k.Dst && f.Key.Dst == k.Src && f.Key.SrcPort == sp &&
		f.Key.DstPort == dp && f.Key.Proto == k.Proto && f.Key.IPVersion == k.IPVersion &&
		f.Key.VLAN == k.VLAN
}

func (t *Table) update(i int32, dir Direction, p *decode.Packet, now int64) {
	f := &t.flows[i]
	if f.Pkts[dir] == 0 && f.class == classICMP {
		f.ICMPType[dir], f.ICMPCode[dir] = p.ICMPType, p.ICMPCode
	}
	f.Pkts[dir]++
	if p.InnerOffset > 0 && p.InnerOffset <= len(p.Data) {
		// Suricata counts a tunnelled packet by the tunnel's payload,
		// which it decodes as a packet of its own.
		f.Bytes[dir] += uint64(len(p.Data) - p.InnerOffset)
	} else {
		f.Bytes[dir] += uint64(len(p.Data))
	}
	if now > f.Last {
		f.Last = now // keep lru lists ordered when capture time steps back
	}
	if f.class == classTCP && p.IPProto == decode.IPProtoTCP { // not for a counted ICMP error
		f.updateTCP(dir, p, t.midstream)
	} else if f.State == StateNew && f.Pkts[0] != 0 && f.Pkts[1] != 0 {
		f.State = StateEstablished
	}
	// Relink only on a state change: activity within a list is picked up
	// lazily by Expire (see there), which saves three cache misses here.
	if l := listOf(f); l != f.list {
		if f.list != listNone {
			t.unlink(i)
		}
		t.push(i, l)
	}
}

func (t *Table) push(i int32, l uint8) {
	f := &t.flows[i]
	ls := &t.lists[l]
	f.list = l
	f.queued = f.Last
	f.next = -1
	f.prev = ls.tail
	if ls.tail >= 0 {
		t.flows[ls.tail].next = i
	} else {
		ls.head = i
	}
	ls.tail = i
}

func (t *Table) unlink(i int32) {
	f := &t.flows[i]
	ls := &t.lists[f.list]
	if f.prev >= 0 {
		t.flows[f.prev].next = f.next
	} else {
		ls.head = f.next
	}
	if f.next >= 0 {
		t.flows[f.next].prev = f.prev
	} else {
		ls.tail = f.prev
	}
	f.list = listNone
	f.prev, f.next = -1, -1
}

// unhash removes flow i from its bucket.
func (t *Table) unhash(i int32) {
	f := &t.flows[i]
	k := f.Key
	if !f.lowIsClient {
		k = k.reversed()
	}
	b := uint32(k.Hash(t.seed)) & t.mask
	for p := &t.buckets[b]; *p >= 0; p = &t.flows[*p].hnext {
		if *p == i {
			*p = f.hnext
			f.hnext = -1
			t.active--
			return
		}
	}
}

// retire takes flow i out of the hash and queues it for the next Expire.
func (t *Table) retire(i int32, r EndReason) {
	t.unhash(i)
	t.unlink(i)
	t.flows[i].endReason = r
	t.push(i, listRetired)
}

// timeout returns f's current idle timeout in ns.
func (t *Table) timeout(f *Flow) int64 {
	if t.emergency {
		return t.timeouts[1][f.list]
	}
	return t.timeouts[0][f.list]
}

// evict retires the flow closest to its emergency timeout (reason "forced").
// Closed and new flows, with their short timeouts, go first.
func (t *Table) evict() bool {
	best, bestAt := int32(-1), int64(0)
	for l := 0; l < numLists; l++ {
		i := t.lists[l].head
		// Requeue a few heads that saw packets since they were queued, so
		// the victim is close to the least recently used.
		for range 8 {
			if i < 0 || t.flows[i].Last == t.flows[i].queued {
				break
			}
			t.unlink(i)
			t.push(i, uint8(l))
			i = t.lists[l].head
		}
		if i < 0 {
			continue
		}
		at := t.flows[i].Last + t.timeouts[1][l]
		if best < 0 || at < bestAt {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		return false
	}
	t.ctr.getUsed++
	t.retire(best, ReasonForced)
	return true
}

// SetBypass marks f bypassed as b (BypassNone clears it) and moves it to
// the timeout list of its protocol class for bypassed flows: from now on it
// ends after ProtoTimeouts.Bypassed without packets, whatever its TCP state,
// as Suricata's bypassed flow states do. FlagBypassed follows b. f must
// come from this table's Lookup and not have been emitted yet; a flow
// already retired or evicted only records b (its end is decided). It does
// not allocate.
func (t *Table) SetBypass(f *Flow, b Bypass) {
	f.Bypass = b
	if b != BypassNone {
		f.Flags |= FlagBypassed
	} else {
		f.Flags &^= FlagBypassed
	}
	i := t.index(f)
	if i < 0 || f.list == listNone || f.list == listRetired {
		return
	}
	if l := listOf(f); l != f.list {
		t.unlink(i)
		t.push(i, l)
	}
}

// index returns the slab slot of f, or -1 when f is not one of t's flows.
func (t *Table) index(f *Flow) int32 {
	if len(t.flows) == 0 || f == nil {
		return -1
	}
	size := unsafe.Sizeof(Flow{})
	base := uintptr(unsafe.Pointer(&t.flows[0]))
	p := uintptr(unsafe.Pointer(f))
	if p < base || p >= base+uintptr(len(t.flows))*size || (p-base)%size != 0 {
		return -1
	}
	return int32((p - base) / size)
}

// hasFree reports whether a slot is available without eviction.
func (t *Table) hasFree() bool { return t.free >= 0 || int(t.fresh) < len(t.flows) }

// release returns slot i to the free list after its flow was emitted.
func (t *Table) release(i int32) {
	f := &t.flows[i]
	if f.Bypass != BypassNone && int(f.Bypass) < len(t.ctr.endBypassed) {
		t.ctr.endBypassed[f.Bypass]++ // Suricata's flow states local_bypassed, capture_bypassed
	} else {
		t.ctr.endState[f.State]++
	}
	if f.class == classTCP {
		t.ctr.endTCP[f.TCPState]++
	}
	f.Ext = 0
	f.list = listNone
	f.hnext = t.free
	t.free = i
	t.nfree++
}

// newID returns the next flow ID: a bijection of idBase+n onto 53 bits, so
// IDs look random (like Suricata's) yet never repeat within a table.
func (t *Table) newID() uint64 {
	for {
		t.idNext++
		x := (t.idBase + t.idNext) & (1<<53 - 1)
		x = (x * 0x9e3779b97f4a7c15) & (1<<53 - 1) // odd multiplier: bijective mod 2^53
		x ^= x >> 29
		x = (x * 0xbf58476d1ce4e5b9) & (1<<53 - 1)
		x ^= x >> 32
		if x != 0 {
			return x
		}
	}
}

// Expire emits, then frees, every flow that was evicted or retired since
// the last call and every flow idle past its timeout at now. Timeouts depend
// on the protocol class and flow state, and are the emergency ones while the
// table is in emergency mode.
//
// Cost is amortized O(lists + flows emitted), so Expire may run on every
// packet: each list is ordered by the time a flow was queued on it (on
// creation or state change; Lookup does not relink on every packet), so
// only heads are examined. A head that saw packets since it was queued is
// requeued at the tail, at most once per timeout period of activity.
// Capture time that steps backwards can delay a timeout slightly, never
// lose a flow.
//
// emit receives each flow with its reason; the *Flow (and f.Ext, which the
// table then clears) is valid only during the call. emit must not call
// back into the table.
func (t *Table) Expire(now time.Time, emit func(*Flow, EndReason)) {
	t.emitRetired(emit)
	n := now.UnixNano()
	tm := &t.timeouts[0]
	if t.emergency {
		tm = &t.timeouts[1]
	}
	for l := 0; l < numLists; l++ {
		to := tm[l]
		for {
			i := t.lists[l].head
			if i < 0 || n-t.flows[i].queued < to {
				break // every later flow was queued later still
			}
			if n-t.flows[i].Last < to {
				t.unlink(i) // active since queued: requeue
				t.push(i, uint8(l))
				continue
			}
			t.unhash(i)
			t.unlink(i)
			t.ctr.timeout++
			emit(&t.flows[i], ReasonTimeout)
			t.release(i)
		}
	}
	if t.emergency && t.active <= t.recoverAt {
		t.emergency = false
		t.ctr.emergOver++
	}
}

func (t *Table) emitRetired(emit func(*Flow, EndReason)) {
	for {
		i := t.lists[listRetired].head
		if i < 0 {
			return
		}
		t.unlink(i)
		emit(&t.flows[i], t.flows[i].endReason)
		t.release(i)
	}
}

// Flush emits and frees every flow at the end of input: retired and evicted
// flows with their own reason, all others with reason "shutdown". The table
// is empty and reusable afterwards. emit follows Expire's rules.
func (t *Table) Flush(emit func(*Flow, EndReason)) {
	t.emitRetired(emit)
	for l := 0; l < numLists; l++ {
		for {
			i := t.lists[l].head
			if i < 0 {
				break
			}
			t.unhash(i)
			t.unlink(i)
			emit(&t.flows[i], ReasonShutdown)
			t.release(i)
		}
	}
	if t.emergency {
		t.emergency = false
		t.ctr.emergOver++
	}
}

// Len returns the number of flows tracked (flow.active).
func (t *Table) Len() int { return t.active }

// Pending returns how many evicted or retired flows wait for the next
// Expire or Flush to emit them. Cheap; a caller that runs Expire only
// periodically should also run it when Pending is non-zero.
func (t *Table) Pending() int {
	return len(t.flows) - t.nfree - t.active
}

// Emergency reports whether the table is in emergency mode.
func (t *Table) Emergency() bool { return t.emergency }

var endTCPNames = [numTCPStates]string{
	"flow.end.tcp_state.none", "flow.end.tcp_state.syn_sent", "flow.end.tcp_state.syn_recv",
	"flow.end.tcp_state.established", "flow.end.tcp_state.fin_wait1", "flow.end.tcp_state.fin_wait2",
	"flow.end.tcp_state.time_wait", "flow.end.tcp_state.last_ack", "flow.end.tcp_state.close_wait",
	"flow.end.tcp_state.closing", "flow.end.tcp_state.closed",
}

// Each calls fn with every counter under its Suricata stats name (EVE
// stats.flow.*). Counters are cumulative except flow.active, flow.spare and
// flow.memuse, which are gauges. Forced evictions are flow.get_used, as
// Suricata counts flows taken over when no spare flow is left.
func (t *Table) Each(fn func(name string, v uint64)) {
	c := &t.ctr
	fn("flow.total", c.total)
	fn("flow.active", uint64(t.active))
	fn("flow.tcp", c.tcp)
	fn("flow.udp", c.udp)
	fn("flow.icmpv4", c.icmpv4)
	fn("flow.icmpv6", c.icmpv6)
	fn("flow.tcp_reuse", c.tcpReuse)
	fn("flow.get_used", c.getUsed)
	fn("flow.get_used_failed", c.getUsedFailed)
	fn("flow.spare", uint64(t.nfree))
	fn("flow.emerg_mode_entered", c.emergEntered)
	fn("flow.emerg_mode_over", c.emergOver)
	fn("flow.mgr.flows_timeout", c.timeout)
	fn("flow.mgr.flows_evicted", c.timeout)
	fn("flow.end.state.new", c.endState[StateNew])
	fn("flow.end.state.established", c.endState[StateEstablished])
	fn("flow.end.state.closed", c.endState[StateClosed])
	fn("flow.end.state.local_bypassed", c.endBypassed[BypassLocal])
	fn("flow.end.state.capture_bypassed", c.endBypassed[BypassCapture])
	for s, name := range endTCPNames {
		fn(name, c.endTCP[s])
	}
	// Slots above fresh were never touched: address space, not memory.
	fn("flow.memuse", uint64(t.fresh)*uint64(unsafe.Sizeof(Flow{}))+uint64(len(t.buckets))*4)
}
