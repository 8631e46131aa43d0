// Package mpm is the detection engine's multi-pattern prefilter: the set of
// literal "fast patterns" of the rules that inspect one buffer, compiled
// into one automaton, and a scan that returns which of them occur.
//
// It follows Suricata's MPM contract (src/util-mpm.h): each rule
// contributes one fast pattern (literal bytes, optionally nocase, i.e.
// ASCII case-insensitive) to the matcher of one buffer; scanning a buffer
// yields the set of pattern IDs that occur anywhere in it, each at most
// once per scan, and the engine then evaluates only those rules exactly.
// Positions are not reported: the exact match re-checks offsets.
//
// Two engines implement Matcher:
//
//   - "ac": a pure-Go Aho-Corasick automaton (always built, the engine of
//     CGO_ENABLED=0 builds and the oracle of the differential tests).
//   - "hyperscan": Intel Hyperscan 5.4 through cgo, compiled in only with
//     -tags hyperscan,hyperscan_v54 and libhyperscan-dev installed.
//
// A Matcher is immutable after Build and shared read-only by every
// worker; each worker owns one Scratch per Matcher. Scan does not allocate
// unless the caller's hits slice must grow.
package mpm

import (
	"errors"
	"fmt"
	"slices"
)

// Pattern is one fast pattern.
type Pattern struct {
	// ID is the caller's identifier, reported by Scan when Bytes occurs
	// (in practice the signature's internal number). Several patterns may
	// share an ID; it is still reported once per scan.
	ID uint32
	// Bytes is the literal, 1 byte or longer; raw bytes, no escapes.
	Bytes []byte
	// Nocase makes ASCII letters match either case (Suricata "nocase";
	// bytes ≥ 0x80 always match exactly, as in Suricata).
	Nocase bool
}

// Engine names accepted by Options.Engine.
const (
	EngineAuto      = "auto"      // Hyperscan when compiled in and supported by the CPU, else AC
	EngineAC        = "ac"        // pure-Go Aho-Corasick
	EngineHyperscan = "hyperscan" // Hyperscan via cgo (build tags hyperscan,hyperscan_v54)
)

// Options configures Build. The zero value is valid.
type Options struct {
	// Engine is EngineAuto (also the meaning of ""), EngineAC or
	// EngineHyperscan.
	Engine string
	// DenseBytes bounds, in bytes, the AC engine's dense transition rows
	// (one full row of 4-byte entries per byte class for each of the
	// shallowest states; deeper states use sparse rows and failure links).
	// Zero means DefaultDenseBytes. Other engines ignore it.
	DenseBytes int64
}

// DefaultDenseBytes is the AC engine's default dense-row budget. With the
// ET Open fast patterns (231 byte classes) 16 MiB gives the shallowest
// 18k of 310k states dense rows, for 26 MB in all; budgets from 1 to 64
// MiB measured within noise of each other on a loaded machine, so this is
// not yet tuned.
const DefaultDenseBytes = 16 << 20

// ErrNotSupported is returned by Build when the requested engine is not
// compiled into this binary or not supported by the CPU.
var ErrNotSupported = errors.New("mpm engine not supported")

// Matcher is a compiled pattern set. It is safe for concurrent use by any
// number of goroutines, each with its own Scratch.
type Matcher interface {
	// NewScratch returns the per-worker scan state for this Matcher. A
	// Scratch must not be used by two goroutines at once, nor with another
	// Matcher (Scan panics on that programming error).
	NewScratch() *Scratch
	// Scan appends to hits the ID of every pattern that occurs in buf,
	// each distinct ID once, in no particular order, and returns the
	// extended slice. buf is only read during the call. Scan allocates
	// only when hits must grow: pass hits[:0] of a slice kept per worker.
	Scan(s *Scratch, buf []byte, hits []uint32) []uint32
	// Patterns is the number of distinct (bytes, nocase) patterns.
	Patterns() int
	// MemBytes is the memory held by the compiled matcher, in bytes,
	// excluding scratches.
	MemBytes() int64
	// Engine is the engine's name: EngineAC or EngineHyperscan.
	Engine() string
}

// Scratch is one worker's scan state for one Matcher: the per-scan
// "already reported" marks (epoch-stamped, so never cleared between
// scans) and the engine's own scratch space. Memory held by a Hyperscan
// scratch is released when the Scratch becomes unreachable.
type Scratch struct {
	owner   *table
	epoch   uint32
	seenPat []uint32 // seenPat[u] == epoch: unique pattern u handled this scan
	seenID  []uint32 // seenID[k] == epoch: ID slot k reported this scan
	seen1   [256]bool
	hs      *hsScratch // Hyperscan engine only
	// Failures counts scans the engine could not complete (Hyperscan
	// errors, which only misuse causes); their hits may be incomplete.
	Failures uint64
}

// begin starts a scan: a new epoch, clearing the marks only when the
// 32-bit epoch wraps.
func (s *Scratch) begin(t *table) {
	if s.owner != t {
		panic("mpm: Scratch used with a Matcher other than the one that made it")
	}
	s.epoch++
	if s.epoch == 0 {
		clear(s.seenPat)
		clear(s.seenID)
		s.epoch = 1
	}
}

// Builder collects patterns for one Matcher. The zero value is not
// usable: call NewBuilder.
type Builder struct {
	opts Options
	pats []Pattern
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts Options) *Builder { return &Builder{opts: opts} }

// Add adds p; p.Bytes is copied. Identical patterns (same bytes and nocase)
// are compiled once and report all their IDs.
func (b *Builder) Add(p Pattern) {
	p.Bytes = slices.Clone(p.Bytes)
	b.pats = append(b.pats, p)
}

// Len is the number of patterns added so far, duplicates included.
func (b *Builder) Len() int { return len(b.pats) }

// Build compiles the patterns added so far. It fails on an empty pattern,
// an unknown engine, or an engine that is not available.
func (b *Builder) Build() (Matcher, error) {
	t, err := newTable(b.pats)
	if err != nil {
		return nil, err
	}
	switch b.opts.Engine {
	case "", EngineAuto:
		if hyperscanCompiled {
			m, err := buildHyperscan(t)
			if err == nil {
				return m, nil
			}
			if !errors.Is(err, ErrNotSupported) {
				return nil, err
			}
		}
		return buildAC(t, b.opts)
	case EngineAC:
		return buildAC(t, b.opts)
	case EngineHyperscan:
		return buildHyperscan(t)
	}
	return nil, fmt.Errorf("build mpm: unknown engine %q (want %q, %q or %q)", b.opts.Engine, EngineAuto, EngineAC, EngineHyperscan)
}

// New builds a Matcher from patterns; see Builder.
func New(patterns []Pattern, opts Options) (Matcher, error) {
	b := NewBuilder(opts)
	for _, p := range patterns {
		b.Add(p)
	}
	return b.Build()
}

// upat is one distinct pattern.
type upat struct {
	b      []byte // as given
	fold   []byte // ASCII-lowercased
	nocase bool
	verify bool // case-sensitive with ASCII letters: a folded match must be re-checked
}

// equal reports whether b, as long as the pattern, is an occurrence of it.
func (p *upat) equal(b []byte) bool {
	if !p.nocase {
		return string(b) == string(p.b)
	}
	for i, c := range b {
		if fold(c) != p.fold[i] {
			return false
		}
	}
	return true
}

// table is what every engine shares: the distinct patterns and the IDs
// each one reports.
type table struct {
	pats   []upat
	idOff  []uint32 // pats[u] reports slots slot[idOff[u]:idOff[u+1]]
	slot   []uint32
	slotID []uint32 // distinct IDs
}

func newTable(in []Pattern) (*table, error) {
	t := &table{}
	type key struct {
		s      string
		nocase bool
	}
	idx := map[key]int{}
	slotOf := map[uint32]uint32{}
	var lists [][]uint32
	for _, p := range in {
		if len(p.Bytes) == 0 {
			return nil, fmt.Errorf("build mpm: pattern %d: empty", p.ID)
		}
		k := key{string(p.Bytes), p.Nocase}
		u, ok := idx[k]
		if !ok {
			u = len(t.pats)
			idx[k] = u
			f := foldBytes(p.Bytes)
			t.pats = append(t.pats, upat{b: p.Bytes, fold: f, nocase: p.Nocase, verify: !p.Nocase && string(f) != string(upperBytes(p.Bytes))})
			lists = append(lists, nil)
		}
		sl, ok := slotOf[p.ID]
		if !ok {
			sl = uint32(len(t.slotID))
			slotOf[p.ID] = sl
			t.slotID = append(t.slotID, p.ID)
		}
		if !slices.Contains(lists[u], sl) {
			lists[u] = append(lists[u], sl)
		}
	}
	t.idOff = make([]uint32, len(t.pats)+1)
	for u, l := range lists {
		t.slot = append(t.slot, l...)
		t.idOff[u+1] = uint32(len(t.slot))
	}
	return t, nil
}

func (t *table) newScratch() *Scratch {
	return &Scratch{owner: t, seenPat: make([]uint32, len(t.pats)), seenID: make([]uint32, len(t.slotID))}
}

// emit marks unique pattern u found and appends its not yet reported IDs.
func (t *table) emit(s *Scratch, u uint32, hits []uint32) []uint32 {
	s.seenPat[u] = s.epoch
	for _, k := range t.slot[t.idOff[u]:t.idOff[u+1]] {
		if s.seenID[k] != s.epoch {
			s.seenID[k] = s.epoch
			hits = append(hits, t.slotID[k])
		}
	}
	return hits
}

func (t *table) memBytes() int64 {
	n := int64(len(t.pats))*(2*24+8) + int64(len(t.idOff)+len(t.slot)+len(t.slotID))*4
	for _, p := range t.pats {
		n += int64(len(p.b) + len(p.fold))
	}
	return n
}

func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func foldBytes(b []byte) []byte {
	f := make([]byte, len(b))
	for i, c := range b {
		f[i] = fold(c)
	}
	return f
}

func upperBytes(b []byte) []byte {
	f := make([]byte, len(b))
	for i, c := range b {
		f[i] = upper(c)
	}
	return f
}
