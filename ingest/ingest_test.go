package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/polder-nsm/polder/ingest"
	"github.com/polder-nsm/polder/internal/evetest"
	"github.com/polder-nsm/polder/store"
)

// The kill -9 test re-executes this test binary as the ingest process.
const helperEnv = "POLDER_INGEST_HELPER"

func TestMain(m *testing.M) {
	if db := os.Getenv(helperEnv); db != "" {
		os.Exit(helper(db, strings.Split(os.Getenv(helperEnv+"_GLOBS"), ",")))
	}
	os.Exit(m.Run())
}

func helper(db string, globs []string) int {
	s, err := store.Open(db, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Small batches so a kill lands between, and during, many commits.
	in := ingest.New(s, ingest.Options{Globs: globs, BatchEvents: 500, Poll: 10 * time.Millisecond})
	if err := in.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func eveLine(i int) string {
	return fmt.Sprintf(`{"timestamp":"2026-11-22T12:00:%02d.%06d+0000","flow_id":%d,"event_type":"flow","src_ip":"10.0.0.1","src_port":1,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","pad":"%s"}`+"\n",
		i%60, i%1000000, i+1, strings.Repeat("x", i%300))
}

// checkExactlyOnce asserts that the store holds flow ids 1..n once each.
func checkExactlyOnce(t *testing.T, s *store.Store, n int) {
	t.Helper()
	got, err := s.Count(t.Context(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Search(t.Context(), store.Filter{}, n+1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[int64]int, n)
	for _, e := range evs {
		seen[e.FlowID]++
	}
	var missing, dup []int64
	for id := int64(1); id <= int64(n); id++ {
		switch seen[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			dup = append(dup, id)
		}
	}
	if got != int64(n) || len(missing) > 0 || len(dup) > 0 {
		t.Fatalf("store holds %d events, want %d; %d missing (first %v), %d duplicated (first %v)",
			got, n, len(missing), head(missing), len(dup), head(dup))
	}
}

func head(v []int64) []int64 { return v[:min(5, len(v))] }

// TestKill9 kills the ingest process with SIGKILL several times while a
// writer appends events (splitting lines across writes and rotating the
// file by rename once), restarts it, and checks every event is stored
// exactly once.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test takes a few seconds")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "events.db")
	eve := filepath.Join(dir, "eve.json")
	const total = 60000
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+db, helperEnv+"_GLOBS="+eve+"*")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	var wg sync.WaitGroup
	wg.Add(1)
	writeErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		f, err := os.OpenFile(eve, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			writeErr <- err
			return
		}
		r := rand.New(rand.NewPCG(1, 2))
		for i := range total {
			if i == total/2 { // rotate like Suricata with logrotate: rename, reopen
				f.Close()
				if err := os.Rename(eve, eve+".1"); err != nil {
					writeErr <- err
					return
				}
				if f, err = os.OpenFile(eve, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
					writeErr <- err
					return
				}
			}
			l := eveLine(i)
			if i%97 == 0 { // a line written in two parts: the reader must wait for its end
				cut := r.IntN(len(l))
				f.WriteString(l[:cut])
				time.Sleep(time.Millisecond)
				l = l[cut:]
			}
			if _, err := f.WriteString(l); err != nil {
				writeErr <- err
				return
			}
			if i%1000 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		f.Close()
		writeErr <- nil
	}()

	r := rand.New(rand.NewPCG(3, 4))
	for k := range 5 {
		cmd := start()
		time.Sleep(time.Duration(150+r.IntN(350)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		stored := int64(-1)
		if s, oerr := store.Open(db, store.Options{ReadOnly: true}); oerr == nil {
			stored, _ = s.Count(t.Context(), store.Filter{})
			s.Close()
		}
		t.Logf("kill %d: %v; %d events stored", k+1, err, stored)
	}
	wg.Wait()
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	// The last run ingests the rest; then stop it (SIGKILL again: nothing
	// depends on a clean shutdown).
	cmd := start()
	s, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := s.Count(t.Context(), store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if n >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let a duplicate, if any, arrive
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	checkExactlyOnce(t, s, total)
}

// run ingests until the store holds want events (or a timeout), then stops.
func run(t testing.TB, s *store.Store, opts ingest.Options, want int64) *ingest.Ingester {
	t.Helper()
	opts.Poll = 5 * time.Millisecond
	in := ingest.New(s, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for in.Stats().Events < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a few more passes: nothing else may arrive
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return in
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "events.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good := eveLine(0) + eveLine(1)
	content := good[:len(eveLine(0))] +
		"not json\n" +
		`{"event_type":"flow"}` + "\n" +
		`{"timestamp":"2026-11-22T12:00:00+0000"}` + "\n" +
		"\n" +
		`{"timestamp":"nope","event_type":"flow"}` + "\n" +
		strings.Repeat("y", 5000) + "\n" +
		eveLine(1)
	ingestDir := filepath.Join(dir, "ingest")
	os.Mkdir(ingestDir, 0o700)
	p := filepath.Join(ingestDir, "dropped.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	in := run(t, s, ingest.Options{Globs: []string{filepath.Join(ingestDir, "*")}, MaxLineBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}, 2)
	checkExactlyOnce(t, s, 2)
	st := in.Stats()
	want := map[ingest.BadLine]int64{ingest.BadJSON: 1, ingest.BadNoTimestamp: 1, ingest.BadNoEventType: 1, ingest.BadTimestamp: 1, ingest.BadTooLong: 1}
	for r, n := range want {
		if st.BadLines[r] != n {
			t.Errorf("BadLines[%v] = %d, want %d", r, st.BadLines[r], n)
		}
	}
	log := logBuf.String()
	if strings.Count(log, "skipping bad lines") != 1 || !strings.Contains(log, fmt.Sprintf("offset=%d", len(eveLine(0)))) || !strings.Contains(log, p) {
		t.Errorf("want one log record naming %s and offset %d, got:\n%s", p, len(eveLine(0)), log)
	}
	offs, _ := s.Offsets(t.Context())
	for _, o := range offs {
		if o.BadLines != 5 || o.Offset != int64(len(content)) {
			t.Errorf("offset %+v, want 5 bad lines and offset %d", o, len(content))
		}
	}
}

func TestTruncateAndRename(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "events.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eve := filepath.Join(dir, "eve.json")
	opts := ingest.Options{Globs: []string{eve + "*"}}
	write := func(from, to int, flag int) {
		f, err := os.OpenFile(eve, flag|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			f.WriteString(eveLine(i))
		}
		f.Close()
	}
	write(0, 100, os.O_APPEND)
	run(t, s, opts, 100)
	// Rotated by rename while more was appended to the old file, then a new
	// eve.json.
	write(100, 150, os.O_APPEND)
	os.Rename(eve, eve+".1")
	write(150, 200, os.O_APPEND)
	run(t, s, opts, 100)
	checkExactlyOnce(t, s, 200)
	// copytruncate: the file is emptied in place and written again.
	write(200, 210, os.O_TRUNC)
	run(t, s, opts, 10)
	checkExactlyOnce(t, s, 210)
	// Deleted files leave the registry.
	os.Remove(eve + ".1")
	run(t, s, opts, 0)
	offs, _ := s.Offsets(t.Context())
	if len(offs) != 1 {
		t.Errorf("registry after deleting eve.json.1: %v", offs)
	}
}

// TestCorpus ingests every reference EVE file from a copy in the ingest
// folder and checks each line is stored once.
func TestCorpus(t *testing.T) {
	src := evetest.Dir(t)
	dir := t.TempDir()
	var want int64
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				want++
			}
		}
		name := strings.ReplaceAll(strings.TrimPrefix(p, src+"/"), "/", "_")
		return os.WriteFile(filepath.Join(dir, name), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(filepath.Join(t.TempDir(), "events.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := run(t, s, ingest.Options{Globs: []string{filepath.Join(dir, "*.json")}}, want)
	st := in.Stats()
	var bad int64
	for _, n := range st.BadLines {
		bad += n
	}
	if n, _ := s.Count(t.Context(), store.Filter{}); n != want || bad != 0 {
		t.Errorf("stored %d of %d reference events, %d bad", n, want, bad)
	}
	if a, _ := s.Count(t.Context(), store.Filter{EventType: "alert"}); a != 352 {
		t.Errorf("%d alerts, the corpus README says 352", a)
	}
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "events.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eve := filepath.Join(dir, "eve.json")
	var b strings.Builder
	for i := range 120 { // eveLine(i) is at 12:00:i%60
		b.WriteString(eveLine(i))
	}
	os.WriteFile(eve, []byte(b.String()), 0o600)
	now := time.Date(2026, 11, 22, 12, 0, 30, 0, time.UTC)
	in := run(t, s, ingest.Options{Globs: []string{eve}, Retention: store.Retention{MaxAge: 10 * time.Second},
		PruneInterval: time.Nanosecond, Now: func() time.Time { return now }}, 120)
	// Events at 12:00:20 and later stay: 2 × 40.
	if n, _ := s.Count(t.Context(), store.Filter{}); n != 80 || in.Stats().Pruned != 40 {
		t.Errorf("kept %d events, pruned %d; want 80 kept, 40 pruned", n, in.Stats().Pruned)
	}
}

// TestStoreFailure checks that a store that refuses writes ends Run with
// its error instead of leaving the reader running.
func TestStoreFailure(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "events.db")
	s, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	eve := filepath.Join(dir, "eve.json")
	os.WriteFile(eve, []byte(eveLine(0)), 0o600)
	done := make(chan error, 1)
	go func() { done <- ingest.New(ro, ingest.Options{Globs: []string{eve}}).Run(t.Context()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), db) {
			t.Errorf("Run = %v, want an error naming %s", err, db)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the store refused a write")
	}
}
