//go:build cgo && !nopcre2

package pcre

/*
#cgo LDFLAGS: -lpcre2-8
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdlib.h>
#include <pcre2.h>

// polder_compile compiles pat and, when jit is non-zero, JIT-compiles it;
// *jitok is set to 1 when the JIT code is in use. On failure it returns NULL
// with *err and *off set.
static pcre2_code *polder_compile(const char *pat, size_t len, uint32_t opts,
		int jit, int *jitok, int *err, size_t *off) {
	PCRE2_SIZE eo = 0;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, len, opts, err, &eo, NULL);
	*off = eo;
	*jitok = 0;
	if (c != NULL && jit && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) {
		*jitok = 1;
	}
	return c;
}

static pcre2_match_context *polder_mctx(uint32_t match_limit, uint32_t depth_limit) {
	pcre2_match_context *m = pcre2_match_context_create(NULL);
	if (m != NULL) {
		pcre2_set_match_limit(m, match_limit);
		pcre2_set_depth_limit(m, depth_limit);
	}
	return m;
}

static uint32_t polder_capture_count(const pcre2_code *c) {
	uint32_t n = 0;
	pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
	return n;
}

// polder_match runs one match and copies up to 2*npairs offsets of the
// ovector into out (so Go reads a plain array, not a C pointer).
static int polder_match(const pcre2_code *c, const unsigned char *buf, size_t len,
		size_t start, uint32_t opts, pcre2_match_data *md, pcre2_match_context *mc,
		size_t *out, uint32_t npairs) {
	int rc = pcre2_match(c, (PCRE2_SPTR)buf, len, start, opts, md, mc);
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		uint32_t n = pcre2_get_ovector_count(md);
		if (n > npairs) n = npairs;
		for (uint32_t i = 0; i < 2*n; i++) out[i] = ov[i];
		for (uint32_t i = 2*n; i < 2*npairs; i++) out[i] = PCRE2_UNSET;
	}
	return rc;
}

static int polder_errmsg(int code, unsigned char *buf, size_t n) {
	return pcre2_get_error_message(code, buf, n);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// havePCRE2 reports whether this build links libpcre2-8.
const havePCRE2 = true

// pcre2 error codes (pcre2.h) the matcher maps to a Limit.
const (
	p2ErrNoMatch       = -1
	p2ErrJITStackLimit = -46
	p2ErrMatchLimit    = -47
	p2ErrDepthLimit    = -53
	p2ErrHeapLimit     = -63
	p2ErrNoSuchGroup   = 115 // compile: "reference to non-existent subpattern"
	p2OptNoAutoCapture = C.PCRE2_NO_AUTO_CAPTURE
	p2OptCaseless      = C.PCRE2_CASELESS
	p2OptDotall        = C.PCRE2_DOTALL
	p2OptMultiline     = C.PCRE2_MULTILINE
	p2OptExtended      = C.PCRE2_EXTENDED
	p2OptAnchored      = C.PCRE2_ANCHORED
	p2OptDollarEndOnly = C.PCRE2_DOLLAR_ENDONLY
	p2OptUngreedy      = C.PCRE2_UNGREEDY
	unsetOffset        = ^C.size_t(0)
	maxScratchPairs    = 64
)

// p2Code is a compiled PCRE2 pattern with its match context. Both are
// read-only after compile and shared by every goroutine (pcre2_match and
// JIT code are thread-safe given per-thread match data).
type p2Code struct {
	code *C.pcre2_code
	mctx *C.pcre2_match_context
	jit  bool
}

// p2Scratch is the per-worker PCRE2 state: match data and a Go-side copy
// of the offsets.
type p2Scratch struct {
	md    *C.pcre2_match_data
	pairs uint32
	ov    [2 * maxScratchPairs]C.size_t
}

func p2Errmsg(code C.int) string {
	var buf [256]C.uchar
	if C.polder_errmsg(code, &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("pcre2 error %d", int(code))
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
}

func compilePCRE2(expr string, f Flags, o Options) (*p2Code, int, error) {
	var opts C.uint32_t
	if f.Caseless {
		opts |= p2OptCaseless
	}
	if f.Dotall {
		opts |= p2OptDotall
	}
	if f.Multiline {
		opts |= p2OptMultiline
	}
	if f.Extended {
		opts |= p2OptExtended
	}
	if f.Anchored {
		opts |= p2OptAnchored
	}
	if f.DollarEndOnly {
		opts |= p2OptDollarEndOnly
	}
	if f.Ungreedy {
		opts |= p2OptUngreedy
	}
	cpat := C.CString(expr) // pcre2_compile takes the length, so NULs inside are kept
	defer C.free(unsafe.Pointer(cpat))
	jit := C.int(0)
	if !o.NoJIT {
		jit = 1
	}
	var jitok, ec C.int
	var off C.size_t
	// As Suricata: try without numbered captures first (cheaper), and
	// recompile with them when a backreference needs one.
	var code *C.pcre2_code
	if !o.Captures {
		code = C.polder_compile(cpat, C.size_t(len(expr)), opts|p2OptNoAutoCapture, jit, &jitok, &ec, &off)
		if code == nil && ec != p2ErrNoSuchGroup {
			return nil, 0, &SyntaxError{Expr: expr, Offset: int(off), Msg: p2Errmsg(ec)}
		}
	}
	if code == nil {
		code = C.polder_compile(cpat, C.size_t(len(expr)), opts, jit, &jitok, &ec, &off)
		if code == nil {
			return nil, 0, &SyntaxError{Expr: expr, Offset: int(off), Msg: p2Errmsg(ec)}
		}
	}
	mctx := C.polder_mctx(C.uint32_t(o.matchLimit()), C.uint32_t(o.recursionLimit()))
	if mctx == nil {
		C.pcre2_code_free_8(code)
		return nil, 0, fmt.Errorf("compile %q: out of memory for the match context", expr)
	}
	p := &p2Code{code: code, mctx: mctx, jit: jitok == 1}
	runtime.SetFinalizer(p, (*p2Code).free)
	return p, int(C.polder_capture_count(code)), nil
}

func (p *p2Code) free() {
	if p.code != nil {
		C.pcre2_code_free_8(p.code)
		p.code = nil
	}
	if p.mctx != nil {
		C.pcre2_match_context_free_8(p.mctx)
		p.mctx = nil
	}
}

func newP2Scratch(groups int) *p2Scratch {
	pairs := groups + 1
	if pairs > maxScratchPairs {
		pairs = maxScratchPairs
	}
	md := C.pcre2_match_data_create_8(C.uint32_t(pairs), nil)
	if md == nil {
		return nil
	}
	s := &p2Scratch{md: md, pairs: uint32(pairs)}
	runtime.SetFinalizer(s, (*p2Scratch).free)
	return s
}

func (s *p2Scratch) free() {
	if s != nil && s.md != nil {
		C.pcre2_match_data_free_8(s.md)
		s.md = nil
	}
}

// zero is passed as the subject pointer for an empty buffer: PCRE2 wants a
// non-NULL pointer even for length 0.
var zero [1]byte

// match runs p over buf from start. It reports the number of pairs set (0
// for no match) or a Limit.
func (p *p2Code) match(s *p2Scratch, buf []byte, start int) (int, Limit) {
	ptr := (*C.uchar)(unsafe.Pointer(&zero[0]))
	if len(buf) > 0 {
		ptr = (*C.uchar)(unsafe.Pointer(&buf[0]))
	}
	rc := C.polder_match(p.code, ptr, C.size_t(len(buf)), C.size_t(start), 0, s.md, p.mctx, &s.ov[0], C.uint32_t(s.pairs))
	runtime.KeepAlive(p)
	switch {
	case rc > 0:
		return int(rc), LimitNone
	case rc == 0: // ovector too small: group 0 and the first pairs are set
		return int(s.pairs), LimitNone
	case rc == p2ErrNoMatch:
		return 0, LimitNone
	case rc == p2ErrMatchLimit:
		return 0, LimitMatch
	case rc == p2ErrDepthLimit:
		return 0, LimitDepth
	case rc == p2ErrJITStackLimit:
		return 0, LimitStack
	case rc == p2ErrHeapLimit:
		return 0, LimitHeap
	default:
		return 0, LimitInternal
	}
}

// pair returns the offsets of pair i after a successful match, or -1, -1
// when the group did not participate.
func (s *p2Scratch) pair(i int) (int, int) {
	if i >= int(s.pairs) || s.ov[2*i] == unsetOffset {
		return -1, -1
	}
	return int(s.ov[2*i]), int(s.ov[2*i+1])
}
