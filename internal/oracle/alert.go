package oracle

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// AlertKey identifies an alert for comparison: which rule fired on which
// flow. The flow is direction-independent (FlowKey), so an alert raised on
// the response matches one raised on the request of the same flow; several
// alerts of one rule on one flow count once.
type AlertKey struct {
	GID, SID uint32
	Flow     FlowKey
}

func (k AlertKey) String() string {
	return fmt.Sprintf("%d:%d %s %s <-> %s vlan%s", k.GID, k.SID, k.Flow.Proto, k.Flow.A, k.Flow.B, k.Flow.VLAN)
}

// Alerts reads the alert events of an EVE file into a set of AlertKeys,
// with each rule's message for reports.
func Alerts(evePath string) (map[AlertKey]string, error) {
	out := map[AlertKey]string{}
	var bad error
	err := readEVE(evePath, func(e *eveEvent) {
		if e.EventType != "alert" || e.Alert == nil || bad != nil {
			return
		}
		src, err1 := netip.ParseAddr(e.SrcIP)
		dst, err2 := netip.ParseAddr(e.DestIP)
		if err1 != nil || err2 != nil {
			bad = fmt.Errorf("read alerts %s: bad address in alert sid %d: %q %q", evePath, e.Alert.SID, e.SrcIP, e.DestIP)
			return
		}
		f := FlowRec{Proto: e.Proto, SrcIP: src.Unmap(), DstIP: dst.Unmap(), SrcPort: e.SrcPort, DstPort: e.DestPort, VLAN: e.VLAN}
		gid := e.Alert.GID
		if gid == 0 {
			gid = 1
		}
		out[AlertKey{GID: gid, SID: e.Alert.SID, Flow: f.Key()}] = e.Alert.Signature
	})
	if err != nil {
		return out, err
	}
	return out, bad
}

// AlertResult compares two alert sets: ours and a reference.
type AlertResult struct {
	Both            int
	OnlyOurs        []string // missing from the reference: false positives if it is right
	OnlyRef         []string // missed by us
	Ours, Reference int
}

// CompareAlerts compares alert sets and adds the outcome to r; file
// prefixes the listed differences.
func (r *AlertResult) CompareAlerts(file string, ours, ref map[AlertKey]string) {
	r.Ours += len(ours)
	r.Reference += len(ref)
	for k, msg := range ours {
		if _, ok := ref[k]; ok {
			r.Both++
		} else {
			r.OnlyOurs = append(r.OnlyOurs, file+": "+k.String()+" "+msg)
		}
	}
	for k, msg := range ref {
		if _, ok := ours[k]; !ok {
			r.OnlyRef = append(r.OnlyRef, file+": "+k.String()+" "+msg)
		}
	}
}

// Recall is the share of reference alerts we raised.
func (r *AlertResult) Recall() float64 { return ratio(r.Both, r.Reference) }

// Precision is the share of our alerts the reference raised too.
func (r *AlertResult) Precision() float64 { return ratio(r.Both, r.Ours) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Report formats the comparison: the totals, then every difference.
func (r *AlertResult) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "alerts (sid, flow): ours %d, reference %d, both %d; recall %.4f, precision %.4f\n",
		r.Ours, r.Reference, r.Both, r.Recall(), r.Precision())
	sort.Strings(r.OnlyRef)
	sort.Strings(r.OnlyOurs)
	for _, s := range r.OnlyRef {
		b.WriteString("  missed: " + s + "\n")
	}
	for _, s := range r.OnlyOurs {
		b.WriteString("  extra:  " + s + "\n")
	}
	return b.String()
}
