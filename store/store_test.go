package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/ingest"
	"github.com/polder-nsm/polder/internal/evetest"
	"github.com/polder-nsm/polder/store"
)

func open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "events.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func ev(sec int, typ, src, dst string, port int, sig int64, flow int64) store.Event {
	return store.Event{Time: t0.Add(time.Duration(sec) * time.Second), EventType: typ, SrcIP: src, SrcPort: 40000,
		DestIP: dst, DestPort: port, Proto: "TCP", FlowID: flow, SigID: sig, Raw: []byte(`{"n":` + strconv.Itoa(sec) + `}`)}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	for name, content := range map[string][]byte{
		"text":        []byte("this is not a database, do not overwrite me\n"),
		"otherSQLite": nil, // filled below
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "events.db")
			if content == nil {
				// A SQLite file from something else: a table, no polder schema version.
				s, err := store.Open(p, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				os.Remove(p + "-wal")
				os.Remove(p + "-shm")
				b, _ := os.ReadFile(p)
				// user_version lives at byte 60 of the header: make it foreign.
				b[63] = 99
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				content = b
			} else if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(p, store.Options{})
			if err == nil {
				t.Fatal("Open succeeded on a foreign file")
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the path", err)
			}
			got, _ := os.ReadFile(p)
			if !bytes.Equal(got, content) {
				t.Error("foreign file was modified")
			}
			t.Log(err)
		})
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "events.db")
	_, err := store.Open(p, store.Options{})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("Open(%s) = %v, want an error naming the path", p, err)
	}
}

func TestInsertSearch(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	events := []store.Event{
		ev(0, "flow", "10.0.0.1", "10.0.0.2", 80, 0, 1),
		ev(1, "alert", "10.0.0.1", "10.0.0.2", 80, 2001, 1),
		ev(2, "alert", "10.0.0.3", "10.0.0.2", 443, 2001, 2),
		ev(3, "alert", "10.0.0.3", "10.0.0.4", 53, 2002, 3),
		ev(4, "dns", "10.0.0.3", "10.0.0.4", 53, 0, 3),
	}
	if err := s.Insert(ctx, events, []store.Offset{{Source: "1:2", Path: "/x", Offset: 42, Head: []byte("{"), BadLines: 1}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.Filter
		want []int // seconds of the events, newest first
	}{
		{"all", store.Filter{}, []int{4, 3, 2, 1, 0}},
		{"time range", store.Filter{From: t0.Add(time.Second), To: t0.Add(3 * time.Second)}, []int{2, 1}},
		{"type", store.Filter{EventType: "alert"}, []int{3, 2, 1}},
		{"src", store.Filter{SrcIP: "10.0.0.3"}, []int{4, 3, 2}},
		{"dest", store.Filter{DestIP: "10.0.0.4"}, []int{4, 3}},
		{"either ip", store.Filter{IP: "10.0.0.4"}, []int{4, 3}},
		{"port", store.Filter{Port: 443}, []int{2}},
		{"sig", store.Filter{SigID: 2001}, []int{2, 1}},
		{"flow", store.Filter{FlowID: 3}, []int{4, 3}},
		{"combined", store.Filter{EventType: "alert", SigID: 2001, DestIP: "10.0.0.2", Port: 80}, []int{1}},
		{"none", store.Filter{SigID: 9}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Search(ctx, tt.f, 0)
			if err != nil {
				t.Fatal(err)
			}
			var secs []int
			for _, e := range got {
				secs = append(secs, int(e.Time.Sub(t0)/time.Second))
			}
			if diff := cmp.Diff(tt.want, secs); diff != "" {
				t.Errorf("Search(%+v) (-want +got):\n%s", tt.f, diff)
			}
			n, err := s.Count(ctx, tt.f)
			if err != nil || n != int64(len(tt.want)) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tt.want))
			}
		})
	}
	got, _ := s.Search(ctx, store.Filter{FlowID: 1, EventType: "flow"}, 1)
	want := events[0]
	want.ID = got[0].ID
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	top, err := s.Top(ctx, store.FieldSrcIP, store.Filter{EventType: "alert"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Bucket{{Value: "10.0.0.3", Count: 2}, {Value: "10.0.0.1", Count: 1}}, top); diff != "" {
		t.Errorf("Top (-want +got):\n%s", diff)
	}
	if _, err := s.Top(ctx, store.Field("raw; DROP TABLE events"), store.Filter{}, 1); err == nil {
		t.Error("Top accepted an unknown field")
	}
	h, err := s.Histogram(ctx, store.Filter{From: t0, To: t0.Add(time.Minute)}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantH := []store.Bucket{{t0.Format(time.RFC3339), 2}, {t0.Add(2 * time.Second).Format(time.RFC3339), 2}, {t0.Add(4 * time.Second).Format(time.RFC3339), 1}}
	if diff := cmp.Diff(wantH, h); diff != "" {
		t.Errorf("Histogram (-want +got):\n%s", diff)
	}
	offs, err := s.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]store.Offset{"1:2": {Source: "1:2", Path: "/x", Offset: 42, Head: []byte("{"), BadLines: 1}}, offs); diff != "" {
		t.Errorf("Offsets (-want +got):\n%s", diff)
	}
}

func TestPrune(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	var events []store.Event
	for i := range 50000 {
		e := ev(i, "flow", "10.0.0.1", "10.0.0.2", 80, 0, int64(i+1))
		e.Raw = bytes.Repeat([]byte("x"), 200)
		events = append(events, e)
	}
	if err := s.Insert(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, store.Retention{MaxAge: 40000 * time.Second}, t0.Add(50000*time.Second))
	if err != nil || n != 10000 {
		t.Fatalf("Prune by age = %d, %v; want 10000", n, err)
	}
	oldest, _ := s.Search(ctx, store.Filter{To: t0.Add(10001 * time.Second)}, 5)
	if len(oldest) != 1 || !oldest[0].Time.Equal(t0.Add(10000*time.Second)) {
		t.Errorf("after age pruning, events before 10001s: %v", oldest)
	}
	used, _ := s.UsedBytes(ctx)
	limit := used / 2
	if _, err := s.Prune(ctx, store.Retention{MaxBytes: limit}, t0); err != nil {
		t.Fatal(err)
	}
	if used, _ = s.UsedBytes(ctx); used > limit {
		t.Errorf("used %d bytes after pruning to %d", used, limit)
	}
	left, _ := s.Count(ctx, store.Filter{})
	newest, _ := s.Search(ctx, store.Filter{}, 1)
	if left == 0 || left >= 40000 || !newest[0].Time.Equal(t0.Add(49999*time.Second)) {
		t.Errorf("size pruning kept %d events, newest %v; want the newest ones kept", left, newest)
	}
}

// TestCorpus stores every reference EVE event and checks the counts per
// type against an independent count of the raw lines.
func TestCorpus(t *testing.T) {
	lines := evetest.Lines(t)
	s := open(t)
	want := map[string]int64{}
	var events []store.Event
	for _, l := range lines {
		e, bad := ingest.Parse(l)
		if bad != ingest.BadNone {
			t.Fatalf("reference line rejected (%v): %.200s", bad, l)
		}
		events = append(events, e)
		i := bytes.Index(l, []byte(`"event_type":"`))
		typ := l[i+len(`"event_type":"`):]
		want[string(typ[:bytes.IndexByte(typ, '"')])]++
	}
	if err := s.Insert(t.Context(), events, nil); err != nil {
		t.Fatal(err)
	}
	top, err := s.Top(t.Context(), store.FieldEventType, store.Filter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, b := range top {
		got[b.Value] = b.Count
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events per type (-want +got):\n%s", diff)
	}
	if got["alert"] != 352 {
		t.Errorf("%d alerts, the corpus README says 352", got["alert"])
	}
	sigs, _ := s.Top(t.Context(), store.FieldSignature, store.Filter{EventType: "alert"}, 3)
	hosts, _ := s.Top(t.Context(), store.FieldHost, store.Filter{}, 3)
	t.Logf("%d events; top signatures %v; top hosts %v", len(events), sigs, hosts)
	if len(sigs) == 0 || len(hosts) == 0 {
		t.Error("no signatures or hosts extracted")
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
}
