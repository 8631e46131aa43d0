package threshold

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/polder-nsm/polder/sensor/rules"
)

// Verdict is what becomes of a signature match; see the package comment.
type Verdict uint8

// Verdicts of Check.
const (
	// Alert: raise the alert and apply the action.
	Alert Verdict = iota + 1
	// Suppressed: apply the action but raise no alert (a silent match).
	Suppressed
	// Ignore: the match takes no effect, neither alert nor action nor tag.
	Ignore
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Alert:
		return "alert"
	case Suppressed:
		return "suppressed"
	case Ignore:
		return "ignore"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Sig is what Check needs of a matched signature: its ids and the rule's
// own threshold and detection_filter keywords (nil when absent). The Table
// works out once per gid:sid which filters apply and keeps that: a Table
// belongs to one ruleset, so build a new one when the rules change.
type Sig struct {
	GID, SID        uint32
	Threshold       *rules.Threshold
	DetectionFilter *rules.Threshold
}

// Event is the packet a signature matched. Now is packet time. Src and Dst
// are the packet's addresses (Src is the packet's source, whatever the
// rule's direction); IPv4-mapped IPv6 addresses count as IPv4. FlowID is
// the flow's id, 0 when the packet has none.
type Event struct {
	Now      time.Time
	Src, Dst netip.Addr
	FlowID   uint64
}

// Options configures a Table. Every zero field means its documented
// default.
type Options struct {
	// MaxEntries bounds the counting state: one entry per filter and
	// tracked key (one per source address for a by_src filter, one per flow
	// for by_flow, ...); 0 = 65536, about 10 MiB. When full, the least
	// recently used entry is evicted and its counting restarts.
	MaxEntries int

	// Vars holds the address groups that suppress entries may name
	// ("ip $HOME_NET"), as suricata.yaml's vars.address-groups. The zero
	// value defines none: an entry naming a variable is then refused.
	Vars rules.Vars

	// BackoffIdle is how long the state of a backoff filter, which has no
	// window, is kept after its last match; 0 = 1 hour. Backoff tracks
	// by_flow, and flows time out long before that.
	BackoffIdle time.Duration
}

// DefaultMaxEntries is the default of Options.MaxEntries.
const DefaultMaxEntries = 65536

// Stats are the Table's counters since New.
type Stats struct {
	Entries     int    // counting entries held now
	Expired     uint64 // entries dropped after their window (and rate_filter timeout) passed
	Evicted     uint64 // live entries dropped to make room: their counting restarted
	Suppressed  uint64 // Check returned Suppressed
	Ignored     uint64 // Check returned Ignore
	RateChanged uint64 // Check returned a rate_filter's new action
}

// entry is one compiled threshold.config line.
type entry struct {
	gid, sid uint32
	sup      *suppressor
	f        *filter
}

// sigFilters is what applies to one signature.
type sigFilters struct {
	sup   []suppressor
	chain []filter
}

// key identifies one counting state.
type key struct {
	sig  uint64 // gid<<32 | sid
	slot int    // index in the signature's chain
	flow uint64
	a, b netip.Addr
}

// slot is a counting state in the slab, linked in LRU order.
type slot struct {
	k          key
	st         state
	exp        int64 // UnixNano when st is no longer needed
	prev, next int32
}

// Table holds the thresholding configuration and the counting state of a
// ruleset. It is safe for concurrent use; see the package comment for its
// locking and memory bounds.
type Table struct {
	entries  []entry          // threshold.config lines that compiled, in file order
	specific map[uint64][]int // gid<<32|sid → indices into entries
	wildcard []int            // entries with sid 0

	maxEntries int
	idle       int64

	mu    sync.Mutex
	sigs  map[uint64]*sigFilters
	idx   map[key]int32
	slab  []slot
	free  int32 // free slots linked through next; -1 = none
	head  int32 // least recently used; -1 = empty
	tail  int32
	stats Stats
}

// New compiles the threshold.config entries (see rules.LoadThresholds).
// Entries that cannot be used (sig_id > 0 with gen_id 0, an undefined or
// malformed ip variable, ...) are left out and reported, each naming its
// line, in the returned error; the Table is usable either way.
func New(entries []rules.ThresholdEntry, o Options) (*Table, error) {
	t := &Table{
		specific:   map[uint64][]int{},
		maxEntries: o.MaxEntries,
		idle:       int64(o.BackoffIdle),
		sigs:       map[uint64]*sigFilters{},
		idx:        map[key]int32{},
		free:       -1,
		head:       -1,
		tail:       -1,
	}
	if t.maxEntries <= 0 {
		t.maxEntries = DefaultMaxEntries
	}
	if t.idle <= 0 {
		t.idle = int64(time.Hour)
	}
	var errs []error
	for i := range entries {
		e := &entries[i]
		c, err := compileEntry(e, o.Vars.AddressGroups)
		if err != nil {
			errs = append(errs, fmt.Errorf("threshold.config line %d: %s gen_id %d, sig_id %d: %w", e.Line, e.Kind, e.GID, e.SID, err))
			continue
		}
		t.entries = append(t.entries, c)
		n := len(t.entries) - 1
		if c.sid == 0 {
			t.wildcard = append(t.wildcard, n)
		} else {
			k := sigKey(c.gid, c.sid)
			t.specific[k] = append(t.specific[k], n)
		}
	}
	return t, errors.Join(errs...)
}

func compileEntry(e *rules.ThresholdEntry, vars map[string]string) (entry, error) {
	c := entry{gid: e.GID, sid: e.SID}
	if e.GID == 0 && e.SID != 0 {
		return c, errors.New("sig_id > 0 needs a gen_id (Suricata refuses gen_id 0 here; rules have gen_id 1 unless gid says otherwise)")
	}
	switch e.Kind {
	case rules.ThresholdSuppress:
		s := &suppressor{track: trackRule}
		if e.Track != "" || e.IP != "" {
			s.track = trackNames[e.Track]
			if s.track != trackSrc && s.track != trackDst && s.track != trackEither {
				return c, fmt.Errorf("bad track %q: want by_src, by_dst or by_either", e.Track)
			}
			a, err := rules.ParseAddress(e.IP)
			if err != nil {
				return c, err
			}
			if s.ip, err = compileAddr(a, vars, 0); err != nil {
				return c, err
			}
		}
		c.sup = s
	case rules.ThresholdThreshold, rules.ThresholdEventFilter, rules.ThresholdRateFilter:
		f, err := entryFilter(e)
		if err != nil {
			return c, err
		}
		c.f = &f
	default:
		return c, fmt.Errorf("unknown kind %d", e.Kind)
	}
	return c, nil
}

func sigKey(gid, sid uint32) uint64 { return uint64(gid)<<32 | uint64(sid) }

// Check decides what becomes of sig's match on the packet of ev, and
// counts the match. The returned action is a rate_filter's new action, 0
// when the rule's own action stands. It does not allocate once the
// signature and key have been seen, except when the state map grows.
func (t *Table) Check(sig *Sig, ev Event) (Verdict, rules.Action) {
	if sig == nil || (len(t.entries) == 0 && sig.Threshold == nil && sig.DetectionFilter == nil) {
		return Alert, 0
	}
	now := ev.Now.UnixNano()
	src, dst := ev.Src.Unmap(), ev.Dst.Unmap()
	sk := sigKey(sig.GID, sig.SID)

	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireSome(now)
	sf := t.sigs[sk]
	if sf == nil {
		sf = t.resolve(sig)
		t.sigs[sk] = sf
	}
	for i := range sf.sup {
		if sf.sup[i].matches(src, dst) {
			t.stats.Suppressed++
			return Suppressed, 0
		}
	}
	var act rules.Action
	for i := range sf.chain {
		f := &sf.chain[i]
		k, ok := trackKey(sk, i, f.track, src, dst, ev.FlowID)
		if !ok {
			continue
		}
		n, fresh := t.lookup(k, now)
		s := &t.slab[n]
		v, a := f.step(&s.st, fresh, now)
		s.exp = s.st.expires(f, t.idle)
		if a != 0 {
			act = a
			t.stats.RateChanged++
		}
		switch v {
		case Suppressed:
			t.stats.Suppressed++
			return v, act
		case Ignore:
			t.stats.Ignored++
			return v, 0
		}
	}
	return Alert, act
}

// resolve works out the suppressors and filters that apply to sig; see the
// package comment.
func (t *Table) resolve(sig *Sig) *sigFilters {
	sf := &sigFilters{}
	var own []filter
	if sig.Threshold != nil {
		own = append(own, ruleFilter(sig.Threshold, false))
	}
	if sig.DetectionFilter != nil {
		df := ruleFilter(sig.DetectionFilter, true)
		if len(own) == 1 && before(df.pos, own[0].pos) {
			own = []filter{df, own[0]}
		} else {
			own = append(own, df)
		}
	}
	cand := slices.Clone(t.specific[sigKey(sig.GID, sig.SID)])
	for _, i := range t.wildcard {
		if g := t.entries[i].gid; g == 0 || g == sig.GID {
			cand = append(cand, i)
		}
	}
	slices.Sort(cand) // file order
	var spec, wild *filter
	var rates []filter
	for _, i := range cand {
		e := &t.entries[i]
		switch {
		case e.sup != nil:
			sf.sup = append(sf.sup, *e.sup)
		case e.sid == 0:
			if wild == nil {
				wild = e.f
			}
		case e.f.kind == kindRate:
			rates = append(rates, *e.f)
		default:
			spec = e.f // the last one wins
		}
	}
	chain := own
	if spec != nil {
		if len(chain) > 0 {
			chain = chain[:len(chain)-1] // the later keyword is replaced
		}
		chain = append(chain, *spec)
	}
	if len(chain) == 0 {
		chain = rates
	}
	if len(chain) == 0 && wild != nil {
		chain = []filter{*wild}
	}
	sf.chain = chain
	return sf
}

// before reports whether a comes before b in rule text; unknown positions
// keep the threshold keyword first.
func before(a, b rules.Pos) bool {
	if a.Line == 0 || b.Line == 0 {
		return false
	}
	return a.Line < b.Line || (a.Line == b.Line && a.Col < b.Col)
}

// trackKey builds the counting key of filter slot i of signature sk; ok is
// false when the packet lacks what the filter tracks.
func trackKey(sk uint64, i int, tr track, src, dst netip.Addr, flow uint64) (key, bool) {
	k := key{sig: sk, slot: i}
	switch tr {
	case trackSrc:
		k.a = src
	case trackDst:
		k.a = dst
	case trackBoth:
		if !src.IsValid() || !dst.IsValid() {
			return k, false
		}
		if src.Compare(dst) <= 0 {
			k.a, k.b = src, dst
		} else {
			k.a, k.b = dst, src
		}
	case trackFlow:
		k.flow = flow
		return k, flow != 0
	default: // by_rule
		return k, true
	}
	return k, k.a.IsValid()
}

// lookup returns the slot of k, creating it (fresh) or resetting it
// (fresh) when it had expired, and marks it most recently used.
func (t *Table) lookup(k key, now int64) (int32, bool) {
	if n, ok := t.idx[k]; ok {
		s := &t.slab[n]
		fresh := s.exp <= now
		if fresh {
			s.st = state{}
		}
		t.unlink(n)
		t.pushTail(n)
		return n, fresh
	}
	if len(t.idx) >= t.maxEntries && t.head >= 0 {
		h := t.head
		if t.slab[h].exp <= now {
			t.stats.Expired++
		} else {
			t.stats.Evicted++
		}
		t.remove(h)
	}
	var n int32
	if t.free >= 0 {
		n = t.free
		t.free = t.slab[n].next
	} else {
		t.slab = append(t.slab, slot{})
		n = int32(len(t.slab) - 1)
	}
	t.slab[n] = slot{k: k}
	t.idx[k] = n
	t.pushTail(n)
	return n, true
}

// expireSome drops up to two expired entries from the LRU end, so state
// shrinks as traffic moves on; Sweep drops them all.
func (t *Table) expireSome(now int64) {
	for range 2 {
		h := t.head
		if h < 0 || t.slab[h].exp > now {
			return
		}
		t.stats.Expired++
		t.remove(h)
	}
}

// Sweep drops every counting entry that has expired at now. Check drops
// expired entries as it meets them; Sweep returns their memory when
// matches stop, e.g. on the engine's flow-expiry ticks.
func (t *Table) Sweep(now time.Time) {
	ns := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := t.head; n >= 0; {
		next := t.slab[n].next
		if t.slab[n].exp <= ns {
			t.stats.Expired++
			t.remove(n)
		}
		n = next
	}
}

// Stats returns the Table's counters.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Entries = len(t.idx)
	return s
}

func (t *Table) remove(n int32) {
	delete(t.idx, t.slab[n].k)
	t.unlink(n)
	t.slab[n] = slot{next: t.free, prev: -1}
	t.free = n
}

func (t *Table) unlink(n int32) {
	s := &t.slab[n]
	if s.prev >= 0 {
		t.slab[s.prev].next = s.next
	} else {
		t.head = s.next
	}
	if s.next >= 0 {
		t.slab[s.next].prev = s.prev
	} else {
		t.tail = s.prev
	}
	s.prev, s.next = -1, -1
}

func (t *Table) pushTail(n int32) {
	s := &t.slab[n]
	s.prev, s.next = t.tail, -1
	if t.tail >= 0 {
		t.slab[t.tail].next = n
	} else {
		t.head = n
	}
	t.tail = n
}
