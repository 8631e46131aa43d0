package dns

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/polder-nsm/polder/sensor/flow"
)

// FuzzDNSParse checks Parse never panics, never keeps more records than
// MaxRecords, and that every name respects MaxNameLen.
func FuzzDNSParse(f *testing.F) {
	for _, s := range [][]byte{txtQuery, txtResponse, nullResponse, aaaaResponse, sshfpResponse} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := Parse(b, &m)
		if err != nil && len(m.Answers) > 0 {
			t.Fatal("error with answers")
		}
		n := len(m.Questions) + len(m.Answers) + len(m.Authorities) + len(m.Additionals)
		if n > MaxRecords {
			t.Fatalf("%d records", n)
		}
		for _, q := range m.Questions {
			if len(q.Name) > MaxNameLen {
				t.Fatalf("name of %d bytes", len(q.Name))
			}
		}
		// Parsing again into the same Message gives the same result.
		first := summary(m.Answers)
		Parse(b, &m)
		if diff := cmp.Diff(first, summary(m.Answers)); diff != "" {
			t.Fatal(diff)
		}
	})
}

// FuzzDNSStream checks the TCP stream parser on arbitrary bytes split at
// an arbitrary offset: no panic, bounded buffer, and the same messages as
// the unsplit stream.
func FuzzDNSStream(f *testing.F) {
	f.Add(prefixed(txtQuery, txtResponse), uint16(7))
	f.Add(prefixed(aaaaResponse), uint16(1))
	f.Add([]byte{0, 0, 0, 12}, uint16(2))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		i := int(cut) % (len(b) + 1)
		want := runStream([][]byte{b}, flow.ToServer)
		got := runStream([][]byte{b[:i], b[i:]}, flow.ToServer)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("split at %d:\n%s", i, diff)
		}
		var p StreamParser
		p.Parse(flow.ToClient, b, time.Time{}, func(*Message) {})
		if p.Buffered(flow.ToClient) > MaxStreamBuffer {
			t.Fatal("buffer over limit")
		}
	})
}
