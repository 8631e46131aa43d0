package store_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/polder-nsm/polder/ingest"
	"github.com/polder-nsm/polder/internal/evetest"
	"github.com/polder-nsm/polder/store"
)

// corpusEvents returns n events cycled from the reference EVE corpus,
// spread evenly over 24 hours before t0 with distinct flow ids.
func corpusEvents(tb testing.TB, n int) []store.Event {
	return corpusRange(tb, n, 0, n)
}

// corpusRange returns events from..to-1 of corpusEvents(tb, n).
func corpusRange(tb testing.TB, n, from, to int) []store.Event {
	tb.Helper()
	var base []store.Event
	for _, l := range evetest.Lines(tb) {
		if e, bad := ingest.Parse(l); bad == ingest.BadNone {
			base = append(base, e)
		}
	}
	out := make([]store.Event, 0, to-from)
	step := 24 * time.Hour / time.Duration(n)
	for i := from; i < to; i++ {
		e := base[i%len(base)]
		e.Time = t0.Add(-24*time.Hour + time.Duration(i)*step)
		e.FlowID = int64(i + 1)
		out = append(out, e)
	}
	return out
}

// BenchmarkInsert measures store inserts of real EVE events in batches of
// 10,000 (the ingest default), indexes included; parsing is not included
// (see ingest's BenchmarkIngest for the whole path).
func BenchmarkInsert(b *testing.B) {
	events := corpusEvents(b, 100000)
	s := open(b)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i := 0; i < len(events); i += 10000 {
			if err := s.Insert(b.Context(), events[i:i+10000], []store.Offset{{Source: "1:1", Path: "x", Offset: int64(n)}}); err != nil {
				b.Fatal(err)
			}
		}
		n += len(events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkQuery fills a store with POLDER_STORE_BENCH_EVENTS events
// (default 1,000,000) over 24 h and measures dashboard and search queries.
// It reports p95 per query over the benchmark's iterations; run with
// -benchtime=20x or more. The database is kept in POLDER_STORE_BENCH_DB
// when set, so a large one is built once.
func BenchmarkQuery(b *testing.B) {
	n := 1000000
	if v := os.Getenv("POLDER_STORE_BENCH_EVENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	path := os.Getenv("POLDER_STORE_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "events.db")
	}
	s, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	if have, _ := s.Count(ctx, store.Filter{}); have < int64(n) {
		start := time.Now()
		const chunk = 200000
		for i := int(have); i < n; i += chunk {
			evs := corpusRange(b, n, i, min(n, i+chunk))
			if err := s.Insert(ctx, evs, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("filled %d events in %v", n-int(have), time.Since(start))
	}
	used, _ := s.UsedBytes(ctx)
	b.Logf("%d events, %d MB", n, used>>20)
	day := store.Filter{From: t0.Add(-24 * time.Hour), To: t0}
	hour := store.Filter{From: t0.Add(-time.Hour), To: t0}
	queries := []struct {
		name string
		run  func() error
	}{
		{"inbox_latest_100_alerts", func() error {
			_, err := s.Search(ctx, store.Filter{EventType: "alert", From: day.From, To: day.To}, 100)
			return err
		}},
		{"flow_events", func() error {
			_, err := s.Search(ctx, store.Filter{FlowID: int64(n / 2)}, 100)
			return err
		}},
		{"search_ip_1h", func() error {
			_, err := s.Search(ctx, store.Filter{IP: "10.2.2.104", From: hour.From, To: hour.To}, 100)
			return err
		}},
		{"top10_signatures_24h", func() error {
			_, err := s.Top(ctx, store.FieldSignature, store.Filter{EventType: "alert", From: day.From, To: day.To}, 10)
			return err
		}},
		{"alerts_per_hour_24h", func() error {
			f := day
			f.EventType = "alert"
			_, err := s.Histogram(ctx, f, time.Hour)
			return err
		}},
		{"types_per_5min_1h", func() error {
			_, err := s.Histogram(ctx, hour, 5*time.Minute)
			return err
		}},
		{"top10_src_ip_1h", func() error {
			_, err := s.Top(ctx, store.FieldSrcIP, hour, 10)
			return err
		}},
		{"top10_src_ip_24h", func() error {
			_, err := s.Top(ctx, store.FieldSrcIP, day, 10)
			return err
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
