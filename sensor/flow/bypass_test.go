package flow

import (
	"testing"
	"time"
	"unsafe"
)

// TestBypassTimeout: a bypassed flow leaves its state's timeout for the
// bypassed one (Suricata's flow-timeouts.<proto>.bypassed), keeps counting
// the packets that still reach the table, and ends counted under its bypass
// kind instead of its state.
func TestBypassTimeout(t *testing.T) {
	tests := []struct {
		name        string
		to          Timeouts
		kind        Bypass
		alive, dead time.Duration // since the last packet
		endName     string
	}{
		{"local default 100s", Timeouts{}, BypassLocal, 99 * time.Second, 100 * time.Second, "flow.end.state.local_bypassed"},
		{"capture default 100s", Timeouts{}, BypassCapture, 99 * time.Second, 100 * time.Second, "flow.end.state.capture_bypassed"},
		{"configured", Timeouts{TCP: ProtoTimeouts{New: time.Minute, Established: time.Hour, Bypassed: 5 * time.Second}},
			BypassLocal, 4 * time.Second, 5 * time.Second, "flow.end.state.local_bypassed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(TableOptions{MaxFlows: 4, Timeouts: tt.to})
			c, s := "10.0.0.1", "10.0.0.2"
			tb.Lookup(tcp(c, 1000, s, 80, syn, 0))
			tb.Lookup(tcp(s, 80, c, 1000, synack, 0))
			f, _ := tb.Lookup(tcp(c, 1000, s, 80, ack, 0)) // established: 600 s
			tb.SetBypass(f, tt.kind)
			if f.Bypass != tt.kind || !f.HasFlag(FlagBypassed) {
				t.Fatalf("bypass %v flags %b", f.Bypass, f.Flags)
			}
			// A packet that still arrives is counted and keeps the
			// flow alive; its TCP state still follows.
			f, _ = tb.Lookup(tcp(s, 80, c, 1000, ack, time.Second))
			if f.Pkts != [2]uint64{2, 2} || f.Bypass != tt.kind {
				t.Fatalf("pkts %v bypass %v", f.Pkts, f.Bypass)
			}
			last := t0.Add(time.Second)
			var out []ended
			tb.Expire(last.Add(tt.alive), collect(&out))
			if len(out) != 0 {
				t.Fatalf("ended after %v", tt.alive)
			}
			tb.Expire(last.Add(tt.dead), collect(&out))
			if len(out) != 1 || out[0].f.Bypass != tt.kind {
				t.Fatalf("after %v: %d ended", tt.dead, len(out))
			}
			st := stats(tb)
			if st[tt.endName] != 1 || st["flow.end.state.established"] != 0 {
				t.Errorf("end counters: %s=%d established=%d", tt.endName, st[tt.endName], st["flow.end.state.established"])
			}
		})
	}
}

// TestBypassMovesForward: the owner advances Last for packets the kernel
// counted; the table then keeps the flow.
func TestBypassMovesForward(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f, _ := tb.Lookup(udp("10.0.0.1", 5000, "10.0.0.2", 53, 0))
	tb.SetBypass(f, BypassCapture)
	f.Pkts[ToServer] += 1000
	f.Last = t0.Add(90 * time.Second).UnixNano()
	var out []ended
	tb.Expire(t0.Add(150*time.Second), collect(&out))
	if len(out) != 0 {
		t.Fatal("flow ended although the kernel saw it 60 s ago")
	}
	tb.Expire(t0.Add(190*time.Second), collect(&out))
	if len(out) != 1 || out[0].f.Pkts[ToServer] != 1001 {
		t.Fatalf("ended %v", out)
	}
}

// TestSetBypassEdges: downgrade capture → local, clearing, a flow already
// retired, and a pointer that is not the table's.
func TestSetBypassEdges(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f, _ := tb.Lookup(udp("10.0.0.1", 5000, "10.0.0.2", 53, 0))
	tb.SetBypass(f, BypassCapture)
	tb.SetBypass(f, BypassLocal)
	if f.Bypass != BypassLocal || !f.HasFlag(FlagBypassed) {
		t.Errorf("downgrade: %v %b", f.Bypass, f.Flags)
	}
	tb.SetBypass(f, BypassNone)
	if f.Bypass != BypassNone || f.HasFlag(FlagBypassed) {
		t.Errorf("clear: %v %b", f.Bypass, f.Flags)
	}
	var out []ended
	tb.Expire(t0.Add(30*time.Second), collect(&out)) // udp new: 30 s again
	if len(out) != 1 {
		t.Fatalf("cleared flow not back on its state's timeout: %d ended", len(out))
	}

	var other Flow
	tb.SetBypass(&other, BypassLocal) // not a table flow: recorded, nothing relinked
	if other.Bypass != BypassLocal || tb.index(&other) != -1 {
		t.Error("foreign flow")
	}
	// A misaligned pointer inside the slab is not a flow either.
	g, _ := tb.Lookup(udp("10.0.0.1", 5001, "10.0.0.2", 53, 0))
	mis := (*Flow)(unsafe.Add(unsafe.Pointer(g), 8))
	if tb.index(mis) != -1 || tb.index(g) < 0 || tb.index(nil) != -1 {
		t.Error("index of a misaligned, live or nil pointer")
	}
}

func TestBypassString(t *testing.T) {
	for b, want := range map[Bypass]string{BypassNone: "", BypassLocal: "local", BypassCapture: "capture", 9: "unknown"} {
		if got := b.String(); got != want {
			t.Errorf("%d: %q, want %q", b, got, want)
		}
	}
}

// TestSetBypassAllocs: bypassing on the packet path allocates nothing.
func TestSetBypassAllocs(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f, _ := tb.Lookup(udp("10.0.0.1", 5000, "10.0.0.2", 53, 0))
	if a := testing.AllocsPerRun(100, func() {
		tb.SetBypass(f, BypassLocal)
		tb.SetBypass(f, BypassNone)
	}); a != 0 {
		t.Errorf("%v allocs", a)
	}
}
