package store

import (
	"context"
	"fmt"
	"time"
)

// Retention bounds what the store keeps. An event goes when it is older
// than MaxAge or when the database holds more than MaxBytes, whichever
// comes first. Zero fields do not bound.
type Retention struct {
	MaxAge   time.Duration // events with a timestamp before now-MaxAge are deleted
	MaxBytes int64         // bytes of live database pages (file size minus free pages)
}

// pruneChunk is how many of the oldest events one size-pruning step deletes:
// small enough to keep the write lock short, large enough to converge.
const pruneChunk = 20000

// Prune deletes events outside r, oldest first, and returns how many it
// deleted. Deleted pages go to SQLite's free list and are reused by later
// inserts, so the file stops growing once it reaches MaxBytes; it does not
// shrink (no VACUUM, which would rewrite the whole file).
func (s *Store) Prune(ctx context.Context, r Retention, now time.Time) (int64, error) {
	var total int64
	if r.MaxAge > 0 {
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE ts < ?`, now.Add(-r.MaxAge).UnixMicro())
		if err != nil {
			return total, fmt.Errorf("prune %s by age: %w", s.path, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if r.MaxBytes <= 0 {
		return total, nil
	}
	for {
		used, err := s.UsedBytes(ctx)
		if err != nil {
			return total, err
		}
		if used <= r.MaxBytes {
			return total, nil
		}
		// Delete the share of rows that is over the limit (plus 1 %, since
		// half-empty pages are not freed), at most pruneChunk at a time.
		var rows int64
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&rows); err != nil {
			return total, fmt.Errorf("prune %s by size: %w", s.path, err)
		}
		chunk := min(pruneChunk, max(100, rows*(used-r.MaxBytes)/used+rows/100))
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY ts LIMIT ?)`, chunk)
		if err != nil {
			return total, fmt.Errorf("prune %s by size: %w", s.path, err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n == 0 {
			return total, nil // only the schema and offsets are left
		}
	}
}

// UsedBytes returns the bytes of database pages in use (not on the free
// list), which is what Retention.MaxBytes bounds. The WAL file, at most a
// few checkpoints' worth of pages, comes on top.
func (s *Store) UsedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := s.w.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size)
	if err != nil {
		return 0, fmt.Errorf("measure %s: %w", s.path, err)
	}
	return (pages - free) * size, nil
}
