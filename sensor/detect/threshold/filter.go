package threshold

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/polder-nsm/polder/sensor/rules"
)

// kind is the counting rule of a filter.
type kind uint8

const (
	kindLimit kind = iota + 1
	kindThreshold
	kindBoth
	kindBackoff
	kindDetection // detection_filter
	kindRate      // rate_filter
)

// track says what a filter or a suppress entry keys on.
type track uint8

const (
	trackRule track = iota + 1
	trackSrc
	trackDst
	trackBoth   // unordered address pair
	trackFlow   // Event.FlowID
	trackEither // suppress only: source or destination
)

var trackNames = map[string]track{
	"by_rule": trackRule, "by_src": trackSrc, "by_dst": trackDst,
	"by_both": trackBoth, "by_flow": trackFlow, "by_either": trackEither,
}

// filter is one compiled threshold, detection_filter or rate_filter.
type filter struct {
	kind       kind
	track      track
	count      uint64
	window     int64 // nanoseconds; unused by backoff
	multiplier uint64
	newAction  rules.Action // rate_filter; 0 leaves the action alone
	timeout    int64        // rate_filter, nanoseconds
	pos        rules.Pos    // rule keyword position, to order a rule's two filters
}

// suppressor is one compiled suppress entry.
type suppressor struct {
	track track // trackRule: every match
	ip    addrSet
}

// matches reports whether s suppresses a match with these addresses.
func (s *suppressor) matches(src, dst netip.Addr) bool {
	switch s.track {
	case trackRule:
		return true
	case trackSrc:
		return src.IsValid() && s.ip.contains(src)
	case trackDst:
		return dst.IsValid() && s.ip.contains(dst)
	case trackEither:
		return (src.IsValid() && s.ip.contains(src)) || (dst.IsValid() && s.ip.contains(dst))
	}
	return false
}

var kinds = map[string]kind{"limit": kindLimit, "threshold": kindThreshold, "both": kindBoth, "backoff": kindBackoff}

// ruleFilter compiles a rule's threshold (df false) or detection_filter.
// The rules package has validated it.
func ruleFilter(t *rules.Threshold, df bool) filter {
	f := filter{
		kind:       kinds[t.Type],
		track:      trackNames[t.Track],
		count:      uint64(max(t.Count, 0)),
		window:     int64(t.Seconds) * int64(time.Second),
		multiplier: uint64(max(t.Multiplier, 0)),
		pos:        t.Pos,
	}
	if df {
		f.kind = kindDetection
	}
	if f.kind == 0 {
		f.kind = kindLimit // unreachable for parsed rules
	}
	if f.track == 0 || f.track == trackEither {
		f.track = trackRule
	}
	return f
}

var rateActions = map[string]rules.Action{
	"alert": rules.ActionAlert, "drop": rules.ActionDrop, "pass": rules.ActionPass, "reject": rules.ActionReject,
	// Suricata parses these but does not implement them (Global-Thresholds):
	// the rule keeps its action.
	"log": 0, "sdrop": 0,
}

// entryFilter compiles a threshold, event_filter or rate_filter line.
func entryFilter(e *rules.ThresholdEntry) (filter, error) {
	f := filter{
		track:      trackNames[e.Track],
		count:      uint64(max(e.Count, 0)),
		window:     int64(e.Seconds) * int64(time.Second),
		multiplier: uint64(max(e.Multiplier, 0)),
	}
	if f.track == 0 || f.track == trackEither {
		return f, fmt.Errorf("bad track %q", e.Track)
	}
	if e.Kind == rules.ThresholdRateFilter {
		a, ok := rateActions[e.NewAction]
		if !ok {
			return f, fmt.Errorf("bad new_action %q", e.NewAction)
		}
		f.kind, f.newAction = kindRate, a
		f.timeout = int64(e.Timeout) * int64(time.Second)
		return f, nil
	}
	f.kind = kinds[e.Type]
	switch {
	case f.kind == 0:
		return f, fmt.Errorf("bad type %q", e.Type)
	case e.Count < 1:
		return f, fmt.Errorf("count must be at least 1")
	case f.kind == kindBackoff && e.Multiplier < 2:
		return f, fmt.Errorf("backoff needs a multiplier of at least 2")
	}
	return f, nil
}

// state is the counting state of one filter for one tracked key.
type state struct {
	start    int64  // window opened (backoff: unused)
	n        uint64 // matches counted in the window (backoff: in total)
	next     uint64 // backoff: the match number of the next alert
	rateAt   int64  // rate_filter: new action active since
	rateOn   bool   // rate_filter: new action active
	lastSeen int64  // backoff expiry
}

// expires returns when st, kept for f, is no longer needed: an expired
// state behaves exactly as a missing one. idle is the lifetime of states
// without a window (backoff).
func (st *state) expires(f *filter, idle int64) int64 {
	switch f.kind {
	case kindBackoff:
		return st.lastSeen + idle
	case kindRate:
		if st.rateOn {
			return max(st.start+f.window, st.rateAt+f.timeout+1)
		}
	}
	return st.start + f.window
}

// step counts one match at now in st (fresh: st is new or expired and has
// been zeroed) and returns the verdict and the rate_filter's new action.
func (f *filter) step(st *state, fresh bool, now int64) (Verdict, rules.Action) {
	if f.kind == kindBackoff {
		st.lastSeen = now
		if fresh {
			st.n, st.next = 1, f.count
		} else if st.n < math.MaxUint64 {
			st.n++
		}
		switch {
		case st.n == st.next:
			if f.multiplier < 2 || st.next > math.MaxUint64/f.multiplier {
				st.next = math.MaxUint64
			} else {
				st.next *= f.multiplier
			}
			return Alert, 0
		case st.n == 1:
			return Ignore, 0 // the documented quirk: no action on the first match when count > 1
		}
		return Suppressed, 0
	}
	if f.kind == kindRate && st.rateOn {
		if now-st.rateAt <= f.timeout {
			return Alert, f.newAction
		}
		st.rateOn = false
		if now-st.start >= f.window {
			*st = state{}
			fresh = true
		}
	}
	if fresh || now-st.start >= f.window {
		st.start, st.n = now, 0
	}
	// Saturate past count: no verdict changes beyond count+1.
	if st.n <= f.count {
		st.n++
	}
	n := st.n
	switch f.kind {
	case kindLimit:
		if n <= f.count {
			return Alert, 0
		}
		return Suppressed, 0
	case kindThreshold:
		if n >= f.count {
			st.n = 0
			return Alert, 0
		}
		return Ignore, 0
	case kindBoth:
		switch {
		case n < f.count:
			return Ignore, 0
		case n == f.count:
			return Alert, 0
		}
		return Suppressed, 0
	case kindDetection:
		if n > f.count {
			return Alert, 0
		}
		return Ignore, 0
	case kindRate:
		if n > f.count {
			st.rateOn, st.rateAt = true, now
			return Alert, f.newAction
		}
		return Alert, 0
	}
	return Alert, 0
}
