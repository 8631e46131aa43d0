package pcre

import (
	"errors"
	"fmt"
	"time"
)

// Suricata's defaults for pcre.match-limit and pcre.match-limit-recursion
// (SC_MATCH_LIMIT_DEFAULT, SC_MATCH_LIMIT_RECURSION_DEFAULT), used for every
// pcre without the O modifier.
const (
	DefaultMatchLimit     = 3500
	DefaultRecursionLimit = 1500
	// DefaultTimeout bounds one fallback (regexp2) match, which has no
	// step counter that Suricata's limits map onto.
	DefaultTimeout = 50 * time.Millisecond
)

// Engine selects the regex implementation.
type Engine uint8

const (
	// EngineAuto is PCRE2 when the build links it, else the fallback.
	EngineAuto Engine = iota
	// EnginePCRE2 is libpcre2-8 through cgo: Suricata's own engine. Compile
	// returns ErrNotSupported in builds without it (CGO_ENABLED=0 or the
	// nopcre2 tag).
	EnginePCRE2
	// EngineFallback is github.com/dlclark/regexp2 over bytes mapped 1:1 to
	// runes (Latin-1), behind a translator that rewrites PCRE syntax into
	// the .NET syntax regexp2 reads and refuses what it cannot render
	// exactly (see Compile).
	EngineFallback
)

func (e Engine) String() string {
	switch e {
	case EngineAuto:
		return "auto"
	case EnginePCRE2:
		return "pcre2"
	case EngineFallback:
		return "regexp2"
	}
	return fmt.Sprintf("Engine(%d)", uint8(e))
}

// HavePCRE2 reports whether this binary links libpcre2-8 (cgo build without
// the nopcre2 tag).
func HavePCRE2() bool { return havePCRE2 }

// Options are the per-pattern compile options. The zero value is Suricata's
// default for a pcre without the O modifier, with JIT.
type Options struct {
	// MatchLimit is PCRE2's match limit (pcre2_set_match_limit): the number
	// of times the internal match function may be called, a bound on
	// backtracking. 0 means DefaultMatchLimit (3500).
	MatchLimit uint32
	// RecursionLimit is PCRE2's depth limit (pcre2_set_depth_limit, named
	// match-limit-recursion in suricata.yaml). The JIT ignores it. 0 means
	// DefaultRecursionLimit (1500).
	RecursionLimit uint32
	// NoJIT disables pcre2_jit_compile. The zero value uses the JIT when
	// the library supports it for the pattern, else the interpreter.
	NoJIT bool
	// Captures makes numbered groups capture, for callers of Submatch.
	// The zero value compiles with PCRE2_NO_AUTO_CAPTURE as Suricata does
	// (named groups still capture; a pattern with a numbered backreference
	// is recompiled with captures). The fallback always captures.
	Captures bool
	// Timeout bounds one fallback match (regexp2's MatchTimeout); PCRE2
	// ignores it. 0 means DefaultTimeout (50 ms). regexp2 reads a clock
	// that ticks every 100 ms, so a runaway match ends after Timeout plus
	// up to about 100 ms (the ReDoS test measures 180–490 ms on a loaded
	// 2-core machine).
	Timeout time.Duration
	// Engine picks the implementation; the zero value is EngineAuto.
	Engine Engine
}

func (o Options) matchLimit() uint32 {
	if o.MatchLimit == 0 {
		return DefaultMatchLimit
	}
	return o.MatchLimit
}

func (o Options) recursionLimit() uint32 {
	if o.RecursionLimit == 0 {
		return DefaultRecursionLimit
	}
	return o.RecursionLimit
}

func (o Options) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// Limit is why a match gave up before deciding. Suricata treats every one
// as "no match" and counts it; Match returns it as its error so callers
// can errors.Is it against the Err values or use it as a counter index.
// Returning a Limit does not allocate.
type Limit uint8

const (
	LimitNone     Limit = iota
	LimitMatch          // PCRE2_ERROR_MATCHLIMIT: MatchLimit exceeded
	LimitDepth          // PCRE2_ERROR_DEPTHLIMIT: RecursionLimit exceeded
	LimitStack          // PCRE2_ERROR_JITSTACKLIMIT: the 32 KiB default JIT stack is full
	LimitHeap           // PCRE2_ERROR_HEAPLIMIT
	LimitTimeout        // fallback: Options.Timeout exceeded
	LimitInternal       // any other engine error (a bug; counted, never a panic)
	NumLimits           // the number of Limit values, for counter arrays
)

var limitNames = [NumLimits]string{"none", "match_limit", "depth_limit", "jit_stack_limit", "heap_limit", "timeout", "internal"}

// String returns the counter name of l ("match_limit").
func (l Limit) String() string {
	if l < NumLimits {
		return limitNames[l]
	}
	return fmt.Sprintf("Limit(%d)", uint8(l))
}

func (l Limit) Error() string { return "pcre match gave up: " + l.String() }

// The errors Match returns; each is a Limit.
var (
	ErrMatchLimit error = LimitMatch
	ErrDepthLimit error = LimitDepth
	ErrStackLimit error = LimitStack
	ErrHeapLimit  error = LimitHeap
	ErrTimeout    error = LimitTimeout
	ErrInternal   error = LimitInternal
)

// ErrNotSupported is returned by Compile for EnginePCRE2 in a build
// without libpcre2, and (wrapped in a SyntaxError) for PCRE syntax the
// fallback cannot render exactly.
var ErrNotSupported = errors.New("not supported by this build")

// SyntaxError is a pattern Compile refused. Offset is the byte offset in
// Expr where the engine stopped, or -1 when unknown.
type SyntaxError struct {
	Expr   string
	Offset int
	Msg    string
	// Unsupported is set when the pattern may be valid PCRE but the
	// fallback cannot evaluate it exactly; Unwrap then returns
	// ErrNotSupported.
	Unsupported bool
}

func (e *SyntaxError) Error() string {
	hint := ""
	if e.Unsupported {
		hint = " (the pure-Go fallback refuses it; build with cgo and libpcre2-dev)"
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("compile pcre %q at offset %d: %s%s", e.Expr, e.Offset, e.Msg, hint)
	}
	return fmt.Sprintf("compile pcre %q: %s%s", e.Expr, e.Msg, hint)
}

func (e *SyntaxError) Unwrap() error {
	if e.Unsupported {
		return ErrNotSupported
	}
	return nil
}

// Regexp is a compiled pcre. It is immutable and safe for concurrent use
// by any number of goroutines, each with its own Scratch. Its C memory is
// freed by a finalizer, or at once by Close.
type Regexp struct {
	expr   string
	flags  Flags
	engine Engine // EnginePCRE2 or EngineFallback
	groups int    // capture groups (not counting group 0)
	p2     *p2Code
	fb     *fbCode
}

// Compile compiles expr, the text between the slashes of a Suricata pcre,
// with the semantic flags f. Matching is bytewise: PCRE2 is used without
// PCRE2_UTF, so \xff is the byte 0xff, . matches one byte, and \w, \d, \s,
// POSIX classes and caseless matching follow PCRE2's default C-locale
// tables (ASCII only).
//
// The fallback engine (regexp2) gets PCRE syntax through a translator
// that spells out every table- and option-dependent item as explicit byte
// sets and assertions (POSIX classes included). It refuses, with a
// *SyntaxError whose Unsupported is set (errors.Is ErrNotSupported), what
// it cannot evaluate exactly: \K, recursion and subroutine calls, (?| ),
// backtracking verbs, callouts, \X \C \p \P, relative or multi-digit
// backreferences and multi-digit octal escapes without a leading 0, inline
// x/U/J/n/^ options, negated POSIX classes and \D \W \S \H \V inside a
// class, references to groups not yet defined, and a caseless
// backreference to a group that may capture a Latin-1 letter (regexp2
// folds 0xc0-0xfe, PCRE2 without UTF does not). It accepts a few patterns
// PCRE2 refuses, such as variable-length lookbehind.
func Compile(expr string, f Flags, o Options) (*Regexp, error) {
	re := &Regexp{expr: expr, flags: f}
	eng := o.Engine
	if eng == EngineAuto {
		eng = EngineFallback
		if havePCRE2 {
			eng = EnginePCRE2
		}
	}
	re.engine = eng
	switch eng {
	case EnginePCRE2:
		p, n, err := compilePCRE2(expr, f, o)
		if errors.Is(err, ErrNotSupported) {
			return nil, fmt.Errorf("compile pcre %q with pcre2: %w (build with cgo, without the nopcre2 tag, and libpcre2-dev installed)", expr, err)
		}
		if err != nil {
			return nil, err
		}
		re.p2, re.groups = p, n
	case EngineFallback:
		c, err := compileFallback(expr, f, o)
		if err != nil {
			return nil, err
		}
		re.fb, re.groups = c, c.groups
	default:
		return nil, fmt.Errorf("compile pcre %q: unknown engine %v", expr, eng)
	}
	return re, nil
}

// String returns the pattern as given to Compile.
func (re *Regexp) String() string { return re.expr }

// Flags returns the flags given to Compile.
func (re *Regexp) Flags() Flags { return re.flags }

// Engine returns the engine in use: EnginePCRE2 or EngineFallback.
func (re *Regexp) Engine() Engine { return re.engine }

// JIT reports whether PCRE2 JIT code is in use.
func (re *Regexp) JIT() bool { return re.p2 != nil && re.p2.jit }

// NumGroups returns the number of capture groups in the compiled pattern
// (0 for numbered groups compiled without Options.Captures).
func (re *Regexp) NumGroups() int { return re.groups }

// Close frees the C memory now instead of at garbage collection. The
// Regexp must not be used afterwards, nor concurrently with Close.
func (re *Regexp) Close() {
	if re.p2 != nil {
		re.p2.free()
	}
}

// Scratch is the per-worker match state: PCRE2 match data and the
// fallback's rune buffer. A Scratch is used by one goroutine at a time,
// and may be shared by every Regexp of that worker: offsets of groups
// beyond its capacity are simply not recorded.
type Scratch struct {
	groups int
	p2     *p2Scratch
	fb     fbScratch
	set    int  // pairs set by the last successful match
	lastP2 bool // the last match ran on PCRE2
}

// MaxScratchGroups is the most capture groups a Scratch records.
const MaxScratchGroups = 63

// NewScratch returns a Scratch recording up to groups capture groups
// (0: match offsets only; capped at MaxScratchGroups). It is nil-safe
// only in the sense that Match reports LimitInternal for a nil Scratch.
func NewScratch(groups int) *Scratch {
	if groups < 0 {
		groups = 0
	}
	if groups > MaxScratchGroups {
		groups = MaxScratchGroups
	}
	s := &Scratch{groups: groups}
	if havePCRE2 {
		s.p2 = newP2Scratch(groups)
	}
	return s
}

// NewScratch returns a Scratch with room for every group of re.
func (re *Regexp) NewScratch() *Scratch { return NewScratch(re.groups) }

// Close frees the Scratch's C memory now instead of at garbage collection.
func (s *Scratch) Close() {
	if s.p2 != nil {
		s.p2.free()
	}
}

// Match searches buf from byte offset start, as pcre2_match with a start
// offset: lookbehinds and \b see the bytes before start, ^ and \A match
// only at offset 0 (Suricata's relative pcre slices the buffer instead,
// so its ^ anchors at the previous match). It returns the offsets of the
// whole match, buf[matchStart:matchEnd].
//
// err is nil or a Limit (ErrMatchLimit, ErrDepthLimit, ErrStackLimit,
// ErrHeapLimit, ErrTimeout, ErrInternal): the engine gave up, which
// Suricata counts and treats as no match. Match never panics. On the PCRE2
// path it does not allocate. buf is only read, and not retained.
func (re *Regexp) Match(s *Scratch, buf []byte, start int) (matchStart, matchEnd int, ok bool, err error) {
	if s == nil || start < 0 || start > len(buf) {
		return 0, 0, false, ErrInternal
	}
	s.set = 0
	if re.p2 != nil {
		if s.p2 == nil {
			return 0, 0, false, ErrInternal
		}
		n, lim := re.p2.match(s.p2, buf, start)
		if lim != LimitNone {
			return 0, 0, false, lim
		}
		if n == 0 {
			return 0, 0, false, nil
		}
		s.set, s.lastP2 = n, true
		a, b := s.p2.pair(0)
		return a, b, true, nil
	}
	if re.fb == nil {
		return 0, 0, false, ErrInternal
	}
	a, b, n, lim := re.fb.match(&s.fb, buf, start, s.groups)
	if lim != LimitNone {
		return 0, 0, false, lim
	}
	if n == 0 {
		return 0, 0, false, nil
	}
	s.set, s.lastP2 = n, false
	return a, b, true, nil
}

// Submatch returns the offsets of capture group i (1-based; 0 is the whole
// match) of the last successful Match with s, or -1, -1 when the group did
// not participate or lies beyond the Scratch's capacity. The bytes are
// buf[start:end] of the buffer given to that Match.
func (s *Scratch) Submatch(i int) (start, end int) {
	if i < 0 || i >= s.set {
		return -1, -1
	}
	if s.lastP2 {
		return s.p2.pair(i)
	}
	if 2*i+1 < len(s.fb.pairs) {
		return s.fb.pairs[2*i], s.fb.pairs[2*i+1]
	}
	return -1, -1
}
