//go:build hyperscan && cgo && (hyperscan_v52 || hyperscan_v54)

package mpm

/*
#cgo pkg-config: libhs
#cgo noescape polder_mpm_scan
#cgo nocallback polder_mpm_scan
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>
#include <hs.h>

// hits[0] is the number of pattern indexes stored from hits[2], hits[1]
// the room for them. HS_FLAG_SINGLEMATCH makes Hyperscan report each
// pattern at most once per scan, so room for every pattern never fills.
static int polder_mpm_on_match(unsigned int id, unsigned long long from,
		unsigned long long to, unsigned int flags, void *ctx) {
	uint32_t *hits = ctx;
	if (hits[0] < hits[1]) {
		hits[2 + hits[0]] = id;
		hits[0]++;
	}
	return 0;
}

static int polder_mpm_scan(const hs_database_t *db, const char *data,
		unsigned int len, hs_scratch_t *scratch, uint32_t *hits) {
	hits[0] = 0;
	return hs_scan(db, data, len, 0, scratch, polder_mpm_on_match, hits);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/flier/gohs/hyperscan"
)

const hyperscanCompiled = true

// hsMatcher is the Hyperscan engine: one block-mode database of the
// distinct patterns (Hyperscan ID = distinct pattern index,
// HS_FLAG_SINGLEMATCH, HS_FLAG_CASELESS for nocase), shared by all
// workers, and one Hyperscan scratch per Scratch.
//
// Patterns of 1 and 2 bytes take the AC engine's shortPath instead: they
// match in most packets and, measured on the ET Open fast patterns, cost
// Hyperscan more than a separate pass does.
//
// gohs compiles the database (its pure-literal API takes bytes as they
// are, NUL included). Scanning goes through the small C shim above rather
// than gohs's Scan, which allocates a cgo handle per call and re-enters Go
// for every match: here the C callback only records pattern indexes in a
// buffer the Scratch owns, one cgo call per buffer.
type hsMatcher struct {
	t     *table
	short shortPath // 1- and 2-byte patterns, as in the AC engine
	db    *C.hs_database_t
	proto *C.hs_scratch_t // cloned by NewScratch
	size  int64
}

type hsScratch struct {
	p    *C.hs_scratch_t
	hits []uint32 // see polder_mpm_on_match
}

func buildHyperscan(t *table) (Matcher, error) {
	if C.hs_valid_platform() != C.HS_SUCCESS {
		return nil, fmt.Errorf("build mpm: engine %s: %w (the CPU lacks SSSE3)", EngineHyperscan, ErrNotSupported)
	}
	m := &hsMatcher{t: t}
	m.short.build(t)
	var lits hyperscan.Literals
	for u, p := range t.pats {
		if len(p.b) <= 2 {
			continue // shortPath
		}
		flags := hyperscan.SingleMatch
		if p.nocase {
			flags |= hyperscan.Caseless
		}
		lits = append(lits, &hyperscan.Literal{Expression: string(p.b), Flags: flags, Id: u})
	}
	if len(lits) == 0 {
		return m, nil // Hyperscan rejects an empty database
	}
	db, err := lits.Build(hyperscan.BlockMode)
	if err != nil {
		var ce *hyperscan.CompileError
		if errors.As(err, &ce) && ce.Expression >= 0 && ce.Expression < len(lits) {
			u := lits[ce.Expression].Id
			return nil, fmt.Errorf("build mpm: engine %s: pattern %d %q: %w", EngineHyperscan, t.slotID[t.slot[t.idOff[u]]], t.pats[u].b, err)
		}
		return nil, fmt.Errorf("build mpm: engine %s: %w", EngineHyperscan, err)
	}
	ser, err := db.Marshal()
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("build mpm: engine %s: serialize database: %w", EngineHyperscan, err)
	}
	cser := C.CBytes(ser)
	rc := C.hs_deserialize_database((*C.char)(cser), C.size_t(len(ser)), &m.db)
	C.free(cser)
	// Compiling leaves the C heap holding what the compiler freed, which
	// glibc keeps unless told: give it back before the next database is
	// compiled, or a ruleset's prefilters cost their compile memory.
	C.malloc_trim(0)
	if rc != C.HS_SUCCESS {
		return nil, fmt.Errorf("build mpm: engine %s: load database: hyperscan error %d", EngineHyperscan, int(rc))
	}
	if rc := C.hs_alloc_scratch(m.db, &m.proto); rc != C.HS_SUCCESS {
		C.hs_free_database(m.db)
		return nil, fmt.Errorf("build mpm: engine %s: allocate scratch: hyperscan error %d", EngineHyperscan, int(rc))
	}
	var n C.size_t
	if C.hs_database_size(m.db, &n) == C.HS_SUCCESS {
		m.size = int64(n)
	}
	runtime.AddCleanup(m, func(p [2]unsafe.Pointer) {
		C.hs_free_scratch((*C.hs_scratch_t)(p[1]))
		C.hs_free_database((*C.hs_database_t)(p[0]))
	}, [2]unsafe.Pointer{unsafe.Pointer(m.db), unsafe.Pointer(m.proto)})
	return m, nil
}

func (m *hsMatcher) Patterns() int  { return len(m.t.pats) }
func (m *hsMatcher) Engine() string { return EngineHyperscan }
func (m *hsMatcher) MemBytes() int64 {
	return m.t.memBytes() + m.short.memBytes() + m.size
}

// NewScratch clones the matcher's prototype Hyperscan scratch; it panics
// only when Hyperscan cannot allocate memory.
func (m *hsMatcher) NewScratch() *Scratch {
	s := m.t.newScratch()
	if m.db == nil {
		return s
	}
	h := &hsScratch{hits: make([]uint32, 2+len(m.t.pats))}
	h.hits[1] = uint32(len(m.t.pats))
	if rc := C.hs_clone_scratch(m.proto, &h.p); rc != C.HS_SUCCESS {
		panic(fmt.Sprintf("mpm: allocate hyperscan scratch: hyperscan error %d", int(rc)))
	}
	runtime.KeepAlive(m)
	runtime.AddCleanup(s, func(p unsafe.Pointer) { C.hs_free_scratch((*C.hs_scratch_t)(p)) }, unsafe.Pointer(h.p))
	s.hs = h
	return s
}

func (m *hsMatcher) Scan(sc *Scratch, buf []byte, hits []uint32) []uint32 {
	sc.begin(m.t)
	if len(buf) == 0 {
		return hits
	}
	hits = m.short.scan(m.t, sc, buf, hits)
	if m.db == nil {
		return hits
	}
	h := sc.hs
	if uint64(len(buf)) > math.MaxUint32 {
		// hs_scan takes an unsigned int length; the sensor's buffers are
		// bounded far below 4 GiB.
		buf = buf[:math.MaxUint32]
		sc.Failures++
	}
	rc := C.polder_mpm_scan(m.db, (*C.char)(unsafe.Pointer(&buf[0])), C.uint(len(buf)), h.p, (*C.uint32_t)(unsafe.Pointer(&h.hits[0])))
	if rc != C.HS_SUCCESS {
		sc.Failures++
	}
	for _, u := range h.hits[2 : 2+h.hits[0]] {
		if sc.seenPat[u] != sc.epoch {
			hits = m.t.emit(sc, u, hits)
		}
	}
	runtime.KeepAlive(m)
	runtime.KeepAlive(sc)
	return hits
}
