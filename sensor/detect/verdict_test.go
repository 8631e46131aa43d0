package detect

import (
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

// TestDropsFlow follows Suricata's signature types: which drop rules act
// on the rest of the flow and which on the one packet.
func TestDropsFlow(t *testing.T) {
	for _, tc := range []struct {
		rule               string
		onPacket, onStream bool // DropsFlow(false), DropsFlow(true)
	}{
		{`drop ip 198.51.100.1 any -> any any (sid:1;)`, true, true},                             // IP-only
		{`drop http any any -> any any (http.uri; content:"/x"; sid:1;)`, true, true},            // transaction
		{`drop tls any any -> any any (tls.sni; content:"evil"; sid:1;)`, true, true},            // transaction
		{`drop http any any -> any any (sid:1;)`, true, true},                                    // app-layer only
		{`drop tls any any -> any any (flow:to_server,established; sid:1;)`, false, false},       // packet: flow keyword
		{`drop tcp any any -> any any (dsize:0; sid:1;)`, false, false},                          // packet
		{`drop tcp any any -> any any (flags:S; sid:1;)`, false, false},                          // packet
		{`drop tcp any any -> any 80 (content:"EXPLOIT"; sid:1;)`, false, true},                  // packet or stream
		{`drop tcp any any -> any 80 (flow:only_stream; content:"EXPLOIT"; sid:1;)`, true, true}, // stream only
		{`drop udp any any -> any 53 (content:"x"; sid:1;)`, false, false},                       // packet
	} {
		s := compileOne(t, tc.rule, Options{IPS: true})
		if got := s.DropsFlow(false); got != tc.onPacket {
			t.Errorf("%s (%s): DropsFlow(packet match) = %v, want %v", tc.rule, s.kind, got, tc.onPacket)
		}
		if got := s.DropsFlow(true); got != tc.onStream {
			t.Errorf("%s (%s): DropsFlow(stream match) = %v, want %v", tc.rule, s.kind, got, tc.onStream)
		}
	}
}

func compileOne(t *testing.T, rule string, opts Options) *Sig {
	t.Helper()
	set := rules.NewSet()
	if errs := set.Load(strings.NewReader(rule+"\n"), "test.rules", rules.LoadOptions{}); len(errs) > 0 {
		t.Fatalf("%s: %v", rule, errs)
	}
	opts.Vars = rules.DefaultVars()
	eng, errs := Compile(set, opts)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", rule, errs)
	}
	if len(eng.Sigs()) != 1 {
		t.Fatalf("%s: %d signatures", rule, len(eng.Sigs()))
	}
	return eng.Sigs()[0]
}

func TestBlocked(t *testing.T) {
	for _, tc := range []struct {
		act      rules.Action
		ips, ids bool
	}{
		{rules.ActionAlert, false, false},
		{rules.ActionPass, false, false},
		{rules.ActionDrop, true, false},
		{rules.ActionReject, true, true},
		{rules.ActionRejectSrc, true, true},
		{rules.ActionRejectDst, true, true},
		{rules.ActionRejectBoth, true, true},
	} {
		if got := blocked(tc.act, true); got != tc.ips {
			t.Errorf("blocked(%v, IPS) = %v, want %v", tc.act, got, tc.ips)
		}
		if got := blocked(tc.act, false); got != tc.ids {
			t.Errorf("blocked(%v, IDS) = %v, want %v", tc.act, got, tc.ids)
		}
	}
}

// TestNoteAction: the first dropping signature is kept, rejects are
// remembered, a flow-scoped one marks the flow, and nothing is noted
// outside IPS mode or for non-dropping actions; TakeDrop clears.
func TestNoteAction(t *testing.T) {
	pkt := compileOne(t, `drop tcp any any -> any any (dsize:0; sid:1;)`, Options{IPS: true})
	ipOnly := compileOne(t, `reject ip 198.51.100.1 any -> any any (sid:2;)`, Options{IPS: true})
	alert := compileOne(t, `alert tcp any any -> any any (dsize:0; sid:3;)`, Options{IPS: true})

	th := &Thread{eng: &Engine{opts: Options{IPS: true}}}
	th.noteAction(alert, 0, false)
	if d := th.TakeDrop(); d.Sig != nil {
		t.Fatalf("alert rule dropped: %+v", d)
	}
	th.noteAction(alert, rules.ActionDrop, false) // a rate_filter's new action
	if d := th.TakeDrop(); d.Sig != alert || d.Action != rules.ActionDrop || d.Flow || d.Reject {
		t.Fatalf("rate_filter drop: %+v", d)
	}
	th.noteAction(pkt, 0, false)
	th.noteAction(ipOnly, 0, false)
	d := th.TakeDrop()
	if d.Sig != pkt || d.Action != rules.ActionDrop || !d.Reject || !d.Flow {
		t.Fatalf("drop then reject: %+v", d)
	}
	if d := th.TakeDrop(); d != (Drop{}) {
		t.Fatalf("TakeDrop did not clear: %+v", d)
	}
	th.noteAction(pkt, rules.ActionAlert, false) // rate_filter turned the drop into an alert
	if d := th.TakeDrop(); d.Sig != nil {
		t.Fatalf("rate_filter alert still dropped: %+v", d)
	}
	ids := &Thread{eng: &Engine{opts: Options{}}}
	ids.noteAction(pkt, 0, false)
	if d := ids.TakeDrop(); d.Sig != nil {
		t.Fatalf("IDS mode dropped: %+v", d)
	}
}
