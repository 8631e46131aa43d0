package dns

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/polder-nsm/polder/sensor/flow"
)

func prefixed(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, byte(len(m)>>8), byte(len(m)))
		out = append(out, m...)
	}
	return out
}

// streamResult is what the comparison keeps of an emitted message.
type streamResult struct {
	TxID    uint64
	ID      uint16
	Query   string
	Answers []rec
}

func runStream(chunks [][]byte, dir flow.Direction) []streamResult {
	var p StreamParser
	var out []streamResult
	for _, c := range chunks {
		p.Parse(dir, c, time.Unix(0, 0), func(m *Message) {
			out = append(out, streamResult{m.TxID, m.ID, string(m.Buffer("dns.query")), summary(m.Answers)})
		})
	}
	return out
}

// TestStreamSplitEverywhere feeds two messages in one stream split at
// every byte offset (and at every pair of offsets for the first message):
// the emitted messages must not change.
func TestStreamSplitEverywhere(t *testing.T) {
	stream := prefixed(txtResponse, aaaaResponse, txtQuery)
	want := runStream([][]byte{stream}, flow.ToClient)
	if len(want) != 3 {
		t.Fatalf("whole stream gave %d messages", len(want))
	}
	for i := 0; i <= len(stream); i++ {
		got := runStream([][]byte{stream[:i], stream[i:]}, flow.ToClient)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("split at %d (-want +got):\n%s", i, diff)
		}
	}
	for i := 0; i <= 40; i++ {
		for j := i; j <= len(stream); j += 7 {
			got := runStream([][]byte{stream[:i], stream[i:j], stream[j:]}, flow.ToClient)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("split at %d,%d (-want +got):\n%s", i, j, diff)
			}
		}
	}
	// One byte at a time.
	var bytes [][]byte
	for i := range stream {
		bytes = append(bytes, stream[i:i+1])
	}
	if diff := cmp.Diff(want, runStream(bytes, flow.ToClient)); diff != "" {
		t.Fatalf("byte by byte (-want +got):\n%s", diff)
	}
}

func TestStreamBothDirectionsAndTxID(t *testing.T) {
	var p StreamParser
	var ids []uint64
	emit := func(m *Message) { ids = append(ids, m.TxID) }
	q, r := prefixed(txtQuery), prefixed(txtResponse)
	p.Parse(flow.ToServer, q[:5], time.Time{}, emit)
	p.Parse(flow.ToClient, r[:100], time.Time{}, emit)
	p.Parse(flow.ToServer, q[5:], time.Time{}, emit)
	p.Parse(flow.ToClient, r[100:], time.Time{}, emit)
	p.Parse(flow.ToServer, q, time.Time{}, emit)
	if diff := cmp.Diff([]uint64{0, 1, 2}, ids); diff != "" {
		t.Error(diff)
	}
	if p.Buffered(flow.ToServer)+p.Buffered(flow.ToClient) != 0 {
		t.Error("bytes left buffered")
	}
}

func TestStreamGapAndGarbage(t *testing.T) {
	var p StreamParser
	var n int
	emit := func(*Message) { n++ }
	s := prefixed(txtResponse)
	p.Parse(flow.ToClient, s[:50], time.Time{}, emit)
	p.Gap(flow.ToClient, 30)
	p.Parse(flow.ToClient, s[80:], time.Time{}, emit) // rest of the lost message: dropped
	if n != 0 || p.Buffered(flow.ToClient) != 0 {
		t.Fatalf("after gap: %d messages, %d buffered", n, p.Buffered(flow.ToClient))
	}
	p.Parse(flow.ToClient, prefixed(txtQuery, txtQuery), time.Time{}, emit)
	if n != 2 {
		t.Fatalf("resync: %d messages", n)
	}
	// A message that is not DNS is counted, not emitted.
	p.Parse(flow.ToServer, prefixed([]byte("not dns")), time.Time{}, emit)
	if p.Errors != 1 || n != 2 {
		t.Errorf("errors %d messages %d", p.Errors, n)
	}
	// The buffer never exceeds one maximal message.
	big := make([]byte, 70000)
	big[0], big[1] = 0xff, 0xff
	p.Parse(flow.ToServer, big, time.Time{}, emit)
	if b := p.Buffered(flow.ToServer); b > MaxStreamBuffer {
		t.Errorf("buffered %d > %d", b, MaxStreamBuffer)
	}
}

func TestStreamNoAlloc(t *testing.T) {
	var p StreamParser
	s := prefixed(txtResponse, aaaaResponse)
	emit := func(*Message) {}
	p.Parse(flow.ToClient, s, time.Time{}, emit)
	allocs := testing.AllocsPerRun(50, func() {
		p.Parse(flow.ToClient, s[:300], time.Time{}, emit)
		p.Parse(flow.ToClient, s[300:], time.Time{}, emit)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per two messages", allocs)
	}
}

func BenchmarkStream(b *testing.B) {
	s := prefixed(txtResponse, aaaaResponse, txtQuery)
	var p StreamParser
	emit := func(*Message) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		p.Parse(flow.ToClient, s[:100], time.Time{}, emit)
		p.Parse(flow.ToClient, s[100:], time.Time{}, emit)
	}
}

func TestDatagramParser(t *testing.T) {
	var p DatagramParser
	var ids []uint64
	emit := func(m *Message) { ids = append(ids, m.TxID) }
	p.Parse(flow.ToServer, txtQuery, time.Time{}, emit)
	p.Parse(flow.ToServer, []byte("junk"), time.Time{}, emit)
	p.Parse(flow.ToClient, txtResponse, time.Time{}, emit)
	if diff := cmp.Diff([]uint64{0, 1}, ids); diff != "" || p.Errors != 1 {
		t.Errorf("tx ids %v errors %d", ids, p.Errors)
	}
	noop := func(*Message) {}
	if a := testing.AllocsPerRun(100, func() { p.Parse(flow.ToClient, txtResponse, time.Time{}, noop) }); a != 0 {
		t.Errorf("%.1f allocations per datagram", a)
	}
}

func BenchmarkDatagram(b *testing.B) {
	var p DatagramParser
	emit := func(*Message) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(txtResponse)))
	for b.Loop() {
		p.Parse(flow.ToClient, txtResponse, time.Time{}, emit)
	}
}
