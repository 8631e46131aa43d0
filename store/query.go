package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Filter selects events. Zero-valued fields do not filter. From is
// inclusive, To exclusive.
type Filter struct {
	From, To  time.Time
	EventType string
	SrcIP     string
	DestIP    string
	IP        string // either address
	Port      int    // either port
	SigID     int64
	FlowID    int64
	Host      string
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if !f.From.IsZero() {
		add("ts >= ?", f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		add("ts < ?", f.To.UnixMicro())
	}
	if f.EventType != "" {
		add("event_type = ?", f.EventType)
	}
	if f.SrcIP != "" {
		add("src_ip = ?", f.SrcIP)
	}
	if f.DestIP != "" {
		add("dest_ip = ?", f.DestIP)
	}
	if f.IP != "" {
		add("(src_ip = ? OR dest_ip = ?)", f.IP, f.IP)
	}
	if f.Port != 0 {
		add("(src_port = ? OR dest_port = ?)", f.Port, f.Port)
	}
	if f.SigID != 0 {
		add("sig_id = ?", f.SigID)
	}
	if f.FlowID != 0 {
		add("flow_id = ?", f.FlowID)
	}
	if f.Host != "" {
		add("host = ?", f.Host)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Search returns up to limit events matching f, newest first. limit <= 0
// means 100.
func (s *Store) Search(ctx context.Context, f Filter, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	w, args := f.where()
	rows, err := s.db.QueryContext(ctx, `SELECT id, ts, event_type, coalesce(src_ip,''), coalesce(src_port,0), coalesce(dest_ip,''), coalesce(dest_port,0),
		coalesce(proto,''), coalesce(flow_id,0), coalesce(app_proto,''), coalesce(sig_id,0), coalesce(signature,''), coalesce(severity,0), coalesce(host,''), raw
		FROM events`+w+` ORDER BY ts DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var ts int64
		var raw string
		if err := rows.Scan(&e.ID, &ts, &e.EventType, &e.SrcIP, &e.SrcPort, &e.DestIP, &e.DestPort, &e.Proto,
			&e.FlowID, &e.AppProto, &e.SigID, &e.Signature, &e.Severity, &e.Host, &raw); err != nil {
			return nil, fmt.Errorf("search %s: %w", s.path, err)
		}
		e.Time = time.UnixMicro(ts).UTC()
		e.Raw = []byte(raw)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", s.path, err)
	}
	return out, nil
}

// Count returns the number of events matching f.
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	w, args := f.where()
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events in %s: %w", s.path, err)
	}
	return n, nil
}

// Field names a column that Top can group by.
type Field string

// The fields Top groups by.
const (
	FieldEventType Field = "event_type"
	FieldSrcIP     Field = "src_ip"
	FieldDestIP    Field = "dest_ip"
	FieldDestPort  Field = "dest_port"
	FieldSignature Field = "signature"
	FieldHost      Field = "host"
	FieldProto     Field = "proto"
	FieldAppProto  Field = "app_proto"
)

func (f Field) valid() bool {
	switch f {
	case FieldEventType, FieldSrcIP, FieldDestIP, FieldDestPort, FieldSignature, FieldHost, FieldProto, FieldAppProto:
		return true
	}
	return false
}

// Bucket is one value of a grouped count.
type Bucket struct {
	Value string
	Count int64
}

// Top returns the n most frequent non-null values of field among events
// matching f, most frequent first (ties by value).
func (s *Store) Top(ctx context.Context, field Field, f Filter, n int) ([]Bucket, error) {
	if !field.valid() {
		return nil, fmt.Errorf("top values in %s: unknown field %q", s.path, field)
	}
	w, args := f.where()
	if w == "" {
		w = " WHERE "
	} else {
		w += " AND "
	}
	col := string(field)
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(`+col+` AS TEXT), count(*) AS c FROM events`+w+col+` IS NOT NULL
		GROUP BY `+col+` ORDER BY c DESC, 1 LIMIT ?`, append(args, n)...)
	if err != nil {
		return nil, fmt.Errorf("top %s in %s: %w", field, s.path, err)
	}
	return scanBuckets(rows, s.path)
}

// Histogram counts events matching f per interval of width step starting
// at f.From (which must be set), for a chart of events over time. Value is
// the bucket's start as RFC 3339; empty buckets are omitted.
func (s *Store) Histogram(ctx context.Context, f Filter, step time.Duration) ([]Bucket, error) {
	if f.From.IsZero() || step < time.Second {
		return nil, fmt.Errorf("histogram in %s: need a start time and a step of at least 1s", s.path)
	}
	w, args := f.where()
	from, us := f.From.UnixMicro(), step.Microseconds()
	rows, err := s.db.QueryContext(ctx, `SELECT (ts - ?) / ? AS b, count(*) FROM events`+w+` GROUP BY b ORDER BY b`,
		append([]any{from, us}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("histogram in %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var b, c int64
		if err := rows.Scan(&b, &c); err != nil {
			return nil, fmt.Errorf("histogram in %s: %w", s.path, err)
		}
		out = append(out, Bucket{Value: time.UnixMicro(from + b*us).UTC().Format(time.RFC3339), Count: c})
	}
	return out, rows.Err()
}

type rowScanner interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}

func scanBuckets(rows rowScanner, path string) ([]Bucket, error) {
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var b Bucket
		if err := rows.Scan(&b.Value, &b.Count); err != nil {
			return nil, fmt.Errorf("scan counts from %s: %w", path, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
