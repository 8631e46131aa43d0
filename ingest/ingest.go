// Package ingest tails EVE JSON files (the instance's own eve.json and its
// rotated siblings, and any JSON-lines file dropped into the ingest folder)
// into the event store, exactly once.
//
// Files are identified by device and inode, not by name, so a file renamed
// by rotation (eve.json → eve.json.1) is read on to its end under its new
// name while the new eve.json starts at offset 0. A file shorter than its
// stored offset was truncated in place (copytruncate) and is read again
// from the start. The first bytes of each file are stored with its offset
// so that an inode reused by a new file is not mistaken for the old one.
//
// Every batch of events is committed together with the offsets it reached
// (store.Store.Insert), so after a crash or kill -9 the ingest resumes at
// the first line not stored: no event is lost and none is stored twice.
//
// Memory is bounded to three batches (one being read, one queued, one being
// written): when the store falls behind, the reader blocks and the unread
// lines wait on disk (back-pressure).
//
// Retention (Options.Retention) runs in the writer between batches, so
// pruning and inserting never contend for SQLite's write lock.
//
// Known limit: a file deleted before it was read to its end loses its
// unread lines (files are opened per pass, not held open).
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/polder-nsm/polder/store"
)

// Options configures an Ingester. Zero values pick the documented defaults.
type Options struct {
	// Globs are the files to tail (filepath.Match patterns), for example
	// "DIR/log/eve.json*" and "DIR/ingest/*". Compressed files (.gz, .bz2,
	// .xz, .zst) are skipped.
	Globs []string
	// BatchEvents is the number of events per store transaction; 0 means
	// 10,000. It also bounds memory: at most three batches are held.
	BatchEvents int
	// Poll is how long to wait after a pass that found nothing new; 0 means
	// 250 ms.
	Poll time.Duration
	// MaxLineBytes is the longest line accepted; longer lines are skipped as
	// BadTooLong. 0 means 1 MiB.
	MaxLineBytes int
	// Retention is applied by the writer between batches, every
	// PruneInterval (0 means one minute) and once at start; the zero value
	// keeps everything.
	Retention     store.Retention
	PruneInterval time.Duration
	// Now is the clock retention by age uses; nil means time.Now.
	Now func() time.Time
	// Logger receives one record per file with bad lines (the first one, with
	// its offset) and per rotation or truncation; nil discards.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.BatchEvents <= 0 {
		o.BatchEvents = 10000
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 1 << 20
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are the ingest counters since New. Safe to read while Run runs.
type Stats struct {
	Events   int64                    // events committed
	Batches  int64                    // transactions committed
	Pruned   int64                    // events deleted by retention
	BadLines [numBadLineReasons]int64 // lines skipped, by reason
}

// Ingester moves events from files into a store. Create it with New and
// call Run once.
type Ingester struct {
	st   *store.Store
	opts Options

	files  map[string]*file // by source (device:inode)
	events atomic.Int64
	batchN atomic.Int64
	pruned atomic.Int64
	bad    [numBadLineReasons]atomic.Int64
}

// headLen is how many leading bytes of a file identify it beside its inode.
const headLen = 64

type file struct {
	off       store.Offset
	loggedBad bool
	seen      bool // matched a glob in the current pass
}

type batch struct {
	events  []store.Event
	offsets []store.Offset
	deletes []string
}

// New returns an Ingester writing into st.
func New(st *store.Store, opts Options) *Ingester {
	opts.defaults()
	return &Ingester{st: st, opts: opts, files: map[string]*file{}}
}

// Stats returns a snapshot of the counters.
func (in *Ingester) Stats() Stats {
	s := Stats{Events: in.events.Load(), Batches: in.batchN.Load(), Pruned: in.pruned.Load()}
	for i := range s.BadLines {
		s.BadLines[i] = in.bad[i].Load()
	}
	return s
}

// Run tails the files until ctx is cancelled or a store write fails. On
// cancellation it commits what it has read and returns nil.
func (in *Ingester) Run(ctx context.Context) error {
	saved, err := in.st.Offsets(ctx)
	if err != nil {
		return err
	}
	for src, o := range saved {
		in.files[src] = &file{off: o}
	}
	ch := make(chan batch, 1)
	werr := make(chan error, 1)
	// rctx stops the reader when the writer fails; ctx (the caller's) only
	// decides whether the writer still commits.
	rctx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	go func() {
		var err error
		var lastPrune time.Time
		prune := func() {
			r := in.opts.Retention
			if r == (store.Retention{}) || time.Since(lastPrune) < in.opts.PruneInterval {
				return
			}
			lastPrune = time.Now()
			n, perr := in.st.Prune(context.WithoutCancel(ctx), r, in.opts.Now())
			in.pruned.Add(n)
			if perr != nil {
				in.opts.Logger.Error("ingest: retention", "err", perr)
			}
		}
		prune()
		for b := range ch {
			if err != nil {
				continue // drain so the reader never blocks forever
			}
			// Commit even when ctx is cancelled: what was read is written.
			if err = in.st.Insert(context.WithoutCancel(ctx), b.events, b.offsets); err == nil && len(b.deletes) > 0 {
				err = in.st.DeleteOffsets(context.WithoutCancel(ctx), b.deletes)
			}
			if err != nil {
				stopReader()
				continue
			}
			in.events.Add(int64(len(b.events)))
			in.batchN.Add(1)
			prune()
		}
		werr <- err
	}()
	rerr := in.read(rctx, ch)
	close(ch)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}

func (in *Ingester) read(ctx context.Context, ch chan<- batch) error {
	cur := batch{}
	dirty := map[string]bool{} // sources whose offset changed since the last send
	send := func() error {
		if len(cur.events) == 0 && len(dirty) == 0 && len(cur.deletes) == 0 {
			return nil
		}
		for src := range dirty {
			cur.offsets = append(cur.offsets, in.files[src].off)
		}
		clear(dirty)
		select {
		case ch <- cur:
		case <-ctx.Done():
			// Still hand it over: the writer commits it before Run returns.
			ch <- cur
		}
		cur = batch{events: make([]store.Event, 0, in.opts.BatchEvents)}
		return nil
	}
	buf := bufio.NewReaderSize(nil, in.opts.MaxLineBytes+1)
	for {
		progressed := false
		paths, err := in.match()
		if err != nil {
			return err
		}
		for _, f := range in.files {
			f.seen = false
		}
		for _, p := range paths {
			if ctx.Err() != nil {
				break
			}
			n, err := in.readFile(p, buf, &cur, dirty, send)
			if err != nil {
				return err
			}
			progressed = progressed || n > 0
		}
		if ctx.Err() == nil {
			for src, f := range in.files {
				if !f.seen {
					// Gone from every glob (deleted, or rotated out of reach).
					cur.deletes = append(cur.deletes, src)
					delete(dirty, src)
					delete(in.files, src)
				}
			}
		}
		if err := send(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if !progressed {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(in.opts.Poll):
			}
		}
	}
}

func (in *Ingester) match() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, g := range in.opts.Globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("ingest: bad glob %q: %w", g, err)
		}
		for _, p := range m {
			switch strings.ToLower(filepath.Ext(p)) {
			case ".gz", ".bz2", ".xz", ".zst":
				continue
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// readFile reads the complete lines of path beyond its offset into cur,
// handing full batches to send. It returns the number of bytes consumed.
func (in *Ingester) readFile(path string, buf *bufio.Reader, cur *batch, dirty map[string]bool, send func() error) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, nil // vanished between glob and stat, or a directory
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("ingest %s: no inode information on this platform", path)
	}
	src := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	f := in.files[src]
	if f == nil {
		f = &file{off: store.Offset{Source: src, Path: path}}
		in.files[src] = f
		dirty[src] = true
	}
	f.seen = true
	if f.off.Path != path {
		in.opts.Logger.Info("ingest: file renamed, reading on", "from", f.off.Path, "to", path, "offset", f.off.Offset)
		f.off.Path = path
		dirty[src] = true
	}
	if fi.Size() == f.off.Offset && len(f.off.Head) == min(headLen, int(fi.Size())) {
		return 0, nil
	}
	fd, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("ingest %s: %w", path, err)
	}
	defer fd.Close()
	head := make([]byte, headLen)
	hn, err := io.ReadFull(fd, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("ingest %s: %w", path, err)
	}
	head = head[:hn]
	switch {
	case fi.Size() < f.off.Offset:
		in.opts.Logger.Warn("ingest: file truncated, reading from the start", "path", path, "offset", f.off.Offset, "size", fi.Size())
		f.off.Offset, f.off.BadLines, f.loggedBad = 0, 0, false
	case len(f.off.Head) > 0 && !bytesPrefix(head, f.off.Head):
		in.opts.Logger.Warn("ingest: new file with a reused inode, reading from the start", "path", path)
		f.off.Offset, f.off.BadLines, f.loggedBad = 0, 0, false
	}
	if len(head) != len(f.off.Head) {
		f.off.Head = head
		dirty[src] = true
	}
	if _, err := fd.Seek(f.off.Offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("ingest %s: seek to %d: %w", path, f.off.Offset, err)
	}
	buf.Reset(fd)
	var consumed int64
	longStart := int64(-1) // offset of the over-long line being skipped, or -1
	pos := f.off.Offset
	for {
		line, err := buf.ReadSlice('\n')
		pos += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) {
			if longStart < 0 {
				longStart = pos - int64(len(line))
			}
			continue
		}
		if err != nil {
			// EOF: a partial last line stays for the next pass (the offset
			// still points at its start); or a read error.
			if errors.Is(err, io.EOF) {
				return consumed, nil
			}
			return consumed, fmt.Errorf("ingest %s at offset %d: %w", path, f.off.Offset, err)
		}
		start := f.off.Offset
		consumed += pos - start
		f.off.Offset = pos
		dirty[src] = true
		if longStart >= 0 {
			in.skip(f, path, BadTooLong, longStart)
			longStart = -1
			continue
		}
		body := bytes.TrimSpace(line)
		if len(body) == 0 {
			continue // blank lines are not events
		}
		e, bad := Parse(body)
		if bad != BadNone {
			in.skip(f, path, bad, start)
			continue
		}
		e.Raw = append([]byte(nil), e.Raw...)
		cur.events = append(cur.events, e)
		if len(cur.events) >= in.opts.BatchEvents {
			if err := send(); err != nil {
				return consumed, err
			}
		}
	}
}

func (in *Ingester) skip(f *file, path string, why BadLine, offset int64) {
	in.bad[why].Add(1)
	f.off.BadLines++
	if !f.loggedBad {
		f.loggedBad = true
		in.opts.Logger.Warn("ingest: skipping bad lines (logged once per file, counted in stats)", "path", path, "offset", offset, "reason", why.String())
	}
}

func bytesPrefix(b, prefix []byte) bool {
	n := min(len(b), len(prefix))
	return string(b[:n]) == string(prefix[:n])
}
