package oracle

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// FlowRec is one EVE flow event reduced to what flow comparison needs.
type FlowRec struct {
	Proto            string // "TCP", "UDP", "ICMP", "IPv6-ICMP", ... as in EVE
	SrcIP, DstIP     netip.Addr
	SrcPort, DstPort uint16 // 0 for protocols without ports
	VLAN             []int  // outermost first; nil when untagged
	PktsToServer     uint64
	PktsToClient     uint64
	BytesToServer    uint64
	BytesToClient    uint64
	AppProto         string // "" when EVE says "failed" or has none
	Start            time.Time
}

// Pkts is the packet total of both directions.
func (f FlowRec) Pkts() uint64 { return f.PktsToServer + f.PktsToClient }

// Bytes is the byte total of both directions.
func (f FlowRec) Bytes() uint64 { return f.BytesToServer + f.BytesToClient }

// String formats f on one line for reports.
func (f FlowRec) String() string {
	return fmt.Sprintf("%s %s -> %s vlan%v pkts %d bytes %d app %q start %s",
		f.Proto, netip.AddrPortFrom(f.SrcIP, f.SrcPort), netip.AddrPortFrom(f.DstIP, f.DstPort),
		f.VLAN, f.Pkts(), f.Bytes(), f.AppProto, f.Start.UTC().Format("15:04:05.000000"))
}

// FlowKey identifies a flow regardless of direction: protocol, the
// address/port pair in canonical order, and the VLAN stack.
type FlowKey struct {
	Proto string
	A, B  netip.AddrPort // A ≤ B
	VLAN  string
}

// Key returns f's direction-independent key.
func (f FlowRec) Key() FlowKey {
	a := netip.AddrPortFrom(f.SrcIP, f.SrcPort)
	b := netip.AddrPortFrom(f.DstIP, f.DstPort)
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return FlowKey{Proto: f.Proto, A: a, B: b, VLAN: fmt.Sprint(f.VLAN)}
}

// eveTime is EVE's timestamp layout ("2015-10-01T20:56:17.727740+0000").
const eveTime = "2006-01-02T15:04:05.999999-0700"

// FlowRecords reads the flow events of an EVE file.
func FlowRecords(evePath string) ([]FlowRec, error) {
	var out []FlowRec
	var bad error
	err := readEVE(evePath, func(e *eveEvent) {
		if e.EventType != "flow" || e.Flow == nil || bad != nil {
			return
		}
		src, err1 := netip.ParseAddr(e.SrcIP)
		dst, err2 := netip.ParseAddr(e.DestIP)
		if err1 != nil || err2 != nil {
			bad = fmt.Errorf("read flows %s: bad address in flow %d: %q %q", evePath, e.FlowID, e.SrcIP, e.DestIP)
			return
		}
		r := FlowRec{
			Proto: e.Proto, SrcIP: src.Unmap(), DstIP: dst.Unmap(), SrcPort: e.SrcPort, DstPort: e.DestPort,
			VLAN:         e.VLAN,
			PktsToServer: e.Flow.PktsToServer, PktsToClient: e.Flow.PktsToClient,
			BytesToServer: e.Flow.BytesToServer, BytesToClient: e.Flow.BytesToClient,
			AppProto: e.AppProto,
		}
		if r.AppProto == "failed" {
			r.AppProto = ""
		}
		if e.Flow.Start != "" {
			t, err := time.Parse(eveTime, e.Flow.Start)
			if err != nil {
				bad = fmt.Errorf("read flows %s: flow %d start: %w", evePath, e.FlowID, err)
				return
			}
			r.Start = t
		}
		out = append(out, r)
	})
	if err != nil {
		return out, err
	}
	return out, bad
}

// FlowMismatch pairs two flows matched by key whose totals differ.
type FlowMismatch struct {
	Ours, Ref FlowRec
}

// FlowResult compares two flow lists.
type FlowResult struct {
	Ours, Ref, Matched int
	OnlyOurs, OnlyRef  []FlowRec
	// Mismatches are matched flows whose packet or byte totals (both
	// directions summed, so a flipped direction is not a mismatch) differ.
	Mismatches []FlowMismatch
	// AppProtoDiffs are matched flows whose app_proto differs.
	AppProtoDiffs []FlowMismatch
}

// CompareFlows matches ours against ref by FlowKey. Flows sharing a key
// (port reuse, timeouts splitting a flow) are matched in start-time order.
func CompareFlows(ours, ref []FlowRec) FlowResult {
	r := FlowResult{Ours: len(ours), Ref: len(ref)}
	group := func(fs []FlowRec) map[FlowKey][]FlowRec {
		m := map[FlowKey][]FlowRec{}
		for _, f := range fs {
			k := f.Key()
			m[k] = append(m[k], f)
		}
		for _, g := range m {
			sort.SliceStable(g, func(i, j int) bool { return g[i].Start.Before(g[j].Start) })
		}
		return m
	}
	mo, mr := group(ours), group(ref)
	keys := make([]FlowKey, 0, len(mo)+len(mr))
	for k := range mo {
		keys = append(keys, k)
	}
	for k := range mr {
		if _, ok := mo[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	for _, k := range keys {
		o, f := mo[k], mr[k]
		n := min(len(o), len(f))
		for i := range n {
			r.Matched++
			if o[i].Pkts() != f[i].Pkts() || o[i].Bytes() != f[i].Bytes() {
				r.Mismatches = append(r.Mismatches, FlowMismatch{o[i], f[i]})
			}
			if o[i].AppProto != f[i].AppProto {
				r.AppProtoDiffs = append(r.AppProtoDiffs, FlowMismatch{o[i], f[i]})
			}
		}
		r.OnlyOurs = append(r.OnlyOurs, o[n:]...)
		r.OnlyRef = append(r.OnlyRef, f[n:]...)
	}
	return r
}

// Add accumulates o into r, for corpus-wide totals.
func (r *FlowResult) Add(o FlowResult) {
	r.Ours += o.Ours
	r.Ref += o.Ref
	r.Matched += o.Matched
	r.OnlyOurs = append(r.OnlyOurs, o.OnlyOurs...)
	r.OnlyRef = append(r.OnlyRef, o.OnlyRef...)
	r.Mismatches = append(r.Mismatches, o.Mismatches...)
	r.AppProtoDiffs = append(r.AppProtoDiffs, o.AppProtoDiffs...)
}

func keyLess(a, b FlowKey) bool {
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	if c := a.A.Compare(b.A); c != 0 {
		return c < 0
	}
	if c := a.B.Compare(b.B); c != 0 {
		return c < 0
	}
	return a.VLAN < b.VLAN
}

// Print writes counts and every unmatched or mismatching flow.
func (r FlowResult) Print(w io.Writer) {
	fmt.Fprintf(w, "flows: ours %d, ref %d, matched %d, only ours %d, only ref %d, pkts/bytes mismatches %d, app_proto diffs %d\n",
		r.Ours, r.Ref, r.Matched, len(r.OnlyOurs), len(r.OnlyRef), len(r.Mismatches), len(r.AppProtoDiffs))
	var b strings.Builder
	for _, f := range r.OnlyOurs {
		fmt.Fprintf(&b, "  only ours: %s\n", f)
	}
	for _, f := range r.OnlyRef {
		fmt.Fprintf(&b, "  only ref:  %s\n", f)
	}
	for _, m := range r.Mismatches {
		fmt.Fprintf(&b, "  totals differ: ours %s\n                 ref  %s\n", m.Ours, m.Ref)
	}
	for _, m := range r.AppProtoDiffs {
		fmt.Fprintf(&b, "  app_proto differs: ours %q ref %q: %s\n", m.Ours.AppProto, m.Ref.AppProto, m.Ref)
	}
	io.WriteString(w, b.String())
}
