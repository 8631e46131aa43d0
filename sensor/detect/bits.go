package detect

import (
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/polder-nsm/polder/sensor/detect/hostbits"
	"github.com/polder-nsm/polder/sensor/rules"
)

// FlowState is the detection state of one flow: its flowbits and
// flowints, and what has been inspected. The pipeline keeps one per flow
// and calls Reset when the flow ends; the zero value is ready.
type FlowState struct {
	bits       []uint32 // interned flowbit names that are set, unsorted (a flow has few)
	ints       []flowInt
	ipOnlyDone [2]bool
	passed     bool          // a pass rule matched: no further inspection
	payload    [2]uint64     // TCP payload bytes seen per direction (stream_size)
	httpReqs   uint64        // HTTP requests whose request side was inspected (ids below)
	tail       [2]*tailState // per direction, allocated once the direction carries stream data
	alerted    bool
}

// tailState is what stream inspection keeps of a direction's past: its
// last bytes and the candidates found in them.
type tailState struct {
	n int // bytes in b
	b [streamTail]byte
	// cands are the stream signatures whose fast pattern was found in
	// the data the tail was cut from: the candidates for a match that
	// starts in the tail and ends in the next chunk. Without them
	// (ncand -1: more than fit) the tail is prefiltered again.
	ncand int
	cands [maxTailCands]uint32
}

const maxTailCands = 8

func (ts *tailState) bytes() []byte { return ts.b[:ts.n] }

func (ts *tailState) setCands(ids []uint32) {
	if len(ids) > maxTailCands {
		ts.ncand = -1
		return
	}
	ts.ncand = copy(ts.cands[:], ids)
}

// push makes the tail the last streamTail bytes of tail + data.
func (ts *tailState) push(data []byte) {
	keep := min(ts.n, max(streamTail-len(data), 0))
	copy(ts.b[:], ts.b[ts.n-keep:ts.n])
	ts.n = keep + copy(ts.b[keep:], data[max(len(data)-streamTail, 0):])
}

type flowInt struct {
	id  uint32
	val int64
}

// Reset clears s for reuse by another flow, keeping its slices' memory.
func (s *FlowState) Reset() {
	s.bits = s.bits[:0]
	s.ints = s.ints[:0]
	tail := s.tail
	for _, ts := range tail {
		if ts != nil {
			ts.n, ts.ncand = 0, 0
		}
	}
	*s = FlowState{bits: s.bits, ints: s.ints, tail: tail}
}

// Alerted reports whether any signature alerted on the flow.
func (s *FlowState) Alerted() bool { return s.alerted }

// Passed reports whether a pass rule matched the flow.
func (s *FlowState) Passed() bool { return s.passed }

func (s *FlowState) isSet(id uint32) bool {
	for _, b := range s.bits {
		if b == id {
			return true
		}
	}
	return false
}

func (s *FlowState) set(id uint32) {
	if !s.isSet(id) {
		s.bits = append(s.bits, id)
	}
}

func (s *FlowState) unset(id uint32) {
	for i, b := range s.bits {
		if b == id {
			s.bits[i] = s.bits[len(s.bits)-1]
			s.bits = s.bits[:len(s.bits)-1]
			return
		}
	}
}

// FlowbitNames appends the names of the flowbits set on the flow, for the
// alert's metadata.
func (s *FlowState) FlowbitNames(dst []string) []string {
	for _, b := range s.bits {
		dst = append(dst, names.name(b))
	}
	return dst
}

// names interns flowbit and flowint names process-wide, so the ids kept in
// FlowStates stay valid when a reload brings a new Engine.
var names = &internTable{ids: map[string]uint32{}}

type internTable struct {
	mu    sync.RWMutex
	ids   map[string]uint32
	names []string
}

func (t *internTable) id(name string) uint32 {
	t.mu.RLock()
	id, ok := t.ids[name]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[name]; ok {
		return id
	}
	id = uint32(len(t.names))
	t.names = append(t.names, name)
	t.ids[name] = id
	return id
}

func (t *internTable) name(id uint32) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if int(id) < len(t.names) {
		return t.names[id]
	}
	return "?"
}

// bitScope is where a bit lives.
type bitScope uint8

const (
	scopeFlow bitScope = iota
	scopeSrc           // the packet's source host
	scopeDst           // the packet's destination host
	scopePair          // the (source, destination) pair
)

// bitOp is one compiled flowbits/xbits/hostbits operation.
type bitOp struct {
	cmd    string   // set unset toggle isset isnotset
	ids    []uint32 // flowbits: ids in the process-wide intern table; host bits: the Store's ids
	or     bool
	scope  bitScope
	expire time.Duration
}

func (c *compiler) compileBits(s *Sig) *compileError {
	for _, b := range s.rule.Bits {
		if b.Cmd == "noalert" {
			s.noalert = true
			continue
		}
		op := bitOp{cmd: b.Cmd, or: b.Or, expire: time.Duration(b.Expire) * time.Second}
		for _, n := range b.Names {
			if b.Kind == "flowbits" {
				op.ids = append(op.ids, names.id(n))
			} else {
				// xbits and hostbits of one name are one bit, as in
				// Suricata. Ids come from the process-wide table (+1: the
				// store reserves 0) so any Store serves any Engine.
				op.ids = append(op.ids, names.id("hostbit:"+n)+1)
			}
		}
		switch b.Kind {
		case "flowbits":
			op.scope = scopeFlow
		case "xbits", "hostbits":
			switch b.Track {
			case "ip_src", "src", "", "to_src":
				op.scope = scopeSrc
			case "ip_dst", "dst", "to_dst":
				op.scope = scopeDst
			case "ip_pair", "both":
				op.scope = scopePair
			default:
				return refuse(b.Kind, b.Pos, "unsupported track %q", b.Track)
			}
		}
		switch b.Cmd {
		case "isset", "isnotset":
			s.bitChecks = append(s.bitChecks, op)
		default:
			s.bitSets = append(s.bitSets, op)
		}
	}
	for _, fi := range s.rule.Flowints {
		op, err := compileFlowint(fi)
		if err != nil {
			return refuse("flowint", fi.Pos, "%v", err)
		}
		s.intOps = append(s.intOps, op)
	}
	return nil
}

// hostKey returns the hostbits key of a scope for a packet's addresses.
func hostKey(scope bitScope, src, dst netip.Addr) hostbits.Key {
	switch scope {
	case scopeDst:
		return hostbits.HostKey(dst)
	case scopePair:
		return hostbits.PairKey(src, dst)
	}
	return hostbits.HostKey(src)
}

// checkBits evaluates the isset/isnotset operations.
func (sh *Shared) checkBits(s *Sig, fs *FlowState, src, dst netip.Addr, now time.Time) bool {
	for i := range s.bitChecks {
		op := &s.bitChecks[i]
		want := op.cmd == "isset"
		any := false
		all := true
		for _, id := range op.ids {
			var set bool
			if op.scope == scopeFlow {
				set = fs != nil && fs.isSet(id)
			} else {
				set = sh.hostBits.IsSet(hostKey(op.scope, src, dst), id, now)
			}
			if set == want {
				any = true
			} else {
				all = false
			}
		}
		if op.or {
			if !any {
				return false
			}
		} else if !all {
			return false
		}
	}
	for i := range s.intOps {
		if op := &s.intOps[i]; op.isCheck() && !op.check(fs) {
			return false
		}
	}
	return true
}

// applyBits runs the set/unset/toggle operations of a matched signature.
func (sh *Shared) applyBits(s *Sig, fs *FlowState, src, dst netip.Addr, now time.Time) {
	for i := range s.bitSets {
		op := &s.bitSets[i]
		for _, id := range op.ids {
			if op.scope == scopeFlow {
				if fs == nil {
					continue
				}
				switch op.cmd {
				case "set":
					fs.set(id)
				case "unset":
					fs.unset(id)
				case "toggle":
					if fs.isSet(id) {
						fs.unset(id)
					} else {
						fs.set(id)
					}
				}
				continue
			}
			k := hostKey(op.scope, src, dst)
			switch op.cmd {
			case "set":
				sh.hostBits.Set(k, id, now, op.expire)
			case "unset":
				sh.hostBits.Unset(k, id, now)
			case "toggle":
				sh.hostBits.Toggle(k, id, now, op.expire)
			}
		}
	}
	for i := range s.intOps {
		if op := &s.intOps[i]; !op.isCheck() {
			op.apply(fs)
		}
	}
}

// intOp is one compiled flowint operation.
type intOp struct {
	cmd   string
	id    uint32
	val   int64
	ref   uint32 // another flowint's id when byRef
	byRef bool
}

func compileFlowint(f *rules.Flowint) (intOp, error) {
	op := intOp{cmd: f.Cmd, id: names.id("flowint:" + f.Name)}
	if f.Value != "" {
		n, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil {
			op.byRef, op.ref = true, names.id("flowint:"+f.Value)
		} else {
			op.val = n
		}
	}
	return op, nil
}

func (op *intOp) isCheck() bool {
	switch op.cmd {
	case "=", "+", "-", "add", "sub":
		return false
	}
	return true
}

func (fs *FlowState) flowint(id uint32) (int64, bool) {
	if fs == nil {
		return 0, false
	}
	for _, v := range fs.ints {
		if v.id == id {
			return v.val, true
		}
	}
	return 0, false
}

func (op *intOp) operand(fs *FlowState) (int64, bool) {
	if op.byRef {
		return fs.flowint(op.ref)
	}
	return op.val, true
}

func (op *intOp) check(fs *FlowState) bool {
	v, ok := fs.flowint(op.id)
	switch op.cmd {
	case "isset":
		return ok
	case "notset", "isnotset":
		return !ok
	}
	if !ok {
		return false
	}
	w, ok := op.operand(fs)
	if !ok {
		return false
	}
	switch op.cmd {
	case "==":
		return v == w
	case "!=":
		return v != w
	case "<":
		return v < w
	case "<=":
		return v <= w
	case ">":
		return v > w
	case ">=":
		return v >= w
	}
	return false
}

func (op *intOp) apply(fs *FlowState) {
	if fs == nil {
		return
	}
	w, ok := op.operand(fs)
	if !ok {
		return
	}
	for i := range fs.ints {
		if fs.ints[i].id == op.id {
			switch op.cmd {
			case "=":
				fs.ints[i].val = w
			case "+", "add":
				fs.ints[i].val += w
			case "-", "sub":
				fs.ints[i].val -= w
			}
			return
		}
	}
	if op.cmd == "=" {
		fs.ints = append(fs.ints, flowInt{id: op.id, val: w})
	}
}
