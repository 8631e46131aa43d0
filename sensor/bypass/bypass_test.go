package bypass

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

func TestReasonOf(t *testing.T) {
	wrapped := fmt.Errorf("bypass flow: %w", Fail(ReasonTableFull, nil))
	tests := []struct {
		name string
		err  error
		want Reason
	}{
		{"nil", nil, ReasonNone},
		{"unsupported", ErrUnsupported, ReasonUnsupported},
		{"full", ErrTableFull, ReasonTableFull},
		{"exists", ErrExists, ReasonExists},
		{"wrapped", wrapped, ReasonTableFull},
		{"kernel with cause", Fail(ReasonKernel, syscall.EPERM), ReasonKernel},
		{"plain error", errors.New("boom"), ReasonKernel},
		{"out of range", Fail(200, nil), ReasonKernel},
		{"none reason", &InsertError{}, ReasonKernel},
	}
	for _, tt := range tests {
		if got := ReasonOf(tt.err); got != tt.want {
			t.Errorf("%s: ReasonOf = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !errors.Is(Fail(ReasonKernel, syscall.EPERM), syscall.EPERM) {
		t.Error("cause not unwrapped")
	}
	if Fail(ReasonTableFull, nil) != ErrTableFull || Fail(ReasonUnsupported, nil) != ErrUnsupported || Fail(ReasonExists, nil) != ErrExists {
		t.Error("causeless failures are not the preallocated errors")
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrTableFull, "insert bypassed flow: table full"},
		{Fail(ReasonKernel, syscall.EINVAL), "insert bypassed flow: kernel refused: invalid argument"},
		{ErrUnsupported, "insert bypassed flow: capture bypass unsupported (bypass mode local, or run as root / grant CAP_BPF and CAP_NET_ADMIN)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q\nwant %q", got, tt.want)
		}
	}
	for r := range NumReasons + 1 {
		if r.String() == "" && r != ReasonNone {
			t.Errorf("reason %d has no name", r)
		}
	}
	if Reason(250).String() != "unknown" {
		t.Error("out-of-range name")
	}
}

func TestCountersSub(t *testing.T) {
	now := time.Unix(100, 0)
	a := Counters{Pkts: [2]uint64{10, 5}, Bytes: [2]uint64{1000, 500}, Last: now}
	b := Counters{Pkts: [2]uint64{4, 5}, Bytes: [2]uint64{400, 500}}
	want := Counters{Pkts: [2]uint64{6, 0}, Bytes: [2]uint64{600, 0}, Last: now}
	if got := a.Sub(b); got != want {
		t.Errorf("Sub = %+v, want %+v", got, want)
	}
	// A reset entry counts from zero.
	if got := b.Sub(a); got.Pkts != [2]uint64{4, 0} || got.Bytes != [2]uint64{400, 0} {
		t.Errorf("reset: %+v", got)
	}
}

func TestLocal(t *testing.T) {
	var tb Table = Local{}
	k := flow.Key{Proto: 6, IPVersion: 4}
	if ReasonOf(tb.Insert(&k)) != ReasonUnsupported {
		t.Error("Local inserted")
	}
	out := []Counters{{Pkts: [2]uint64{1, 1}}}
	if err := tb.Read([]flow.Key{k}, out); err != nil || out[0] != (Counters{}) {
		t.Errorf("read %v %v", out, err)
	}
	if c, err := tb.Remove(&k); err != nil || c != (Counters{}) {
		t.Error("remove")
	}
	if n, c := tb.Entries(); n != 0 || c != 0 || tb.Close() != nil {
		t.Error("entries/close")
	}
	if a := testing.AllocsPerRun(100, func() { _ = tb.Insert(&k) }); a != 0 {
		t.Errorf("Local.Insert allocates %v", a)
	}
}
