package inspect

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/rules"
)

// MaxVars bounds byte_extract/byte_math variables per rule.
const MaxVars = 16

// DefaultRecursionLimit is Suricata's default
// detect.inspection-recursion-limit: the most content/pcre search steps
// one Match call takes before it gives up (no match, counted).
const DefaultRecursionLimit = 3000

// maxBase64 is Suricata's cap on what base64_decode decodes (64 KiB).
const maxBase64 = 64 * 1024

// Vars holds the byte_extract / byte_math values of one rule evaluation.
// Slots are assigned by a VarMap shared by all buffers of one rule; the
// engine passes the same Vars to the Match of every buffer of the rule, in
// rule order, so a later buffer reads what an earlier one extracted.
type Vars [MaxVars]uint64

// VarMap assigns slots to variable names of one rule; create one per rule
// and pass it to Compile for each of its buffers in order. It also links a
// buffer holding base64_decode to the base64_data buffer compiled after
// it (see Program.Base64Data). A VarMap is used by one goroutine.
type VarMap struct {
	names []string
	b64   *Program // last Program with a base64_decode, until its base64_data
}

// NewVarMap returns an empty VarMap.
func NewVarMap() *VarMap { return &VarMap{} }

// Len returns the number of variables defined so far.
func (m *VarMap) Len() int { return len(m.names) }

func (m *VarMap) lookup(name string) (int, bool) {
	for i, n := range m.names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// define returns the slot of name, assigning a new one if needed.
// Redefining a name reuses its slot, as Suricata's byte_extract does.
func (m *VarMap) define(name string) (int, error) {
	if i, ok := m.lookup(name); ok {
		return i, nil
	}
	if len(m.names) == MaxVars {
		return 0, fmt.Errorf("more than %d byte_extract/byte_math variables in one rule", MaxVars)
	}
	m.names = append(m.names, name)
	return len(m.names) - 1, nil
}

// Options tune compilation. The zero value is Suricata's default.
type Options struct {
	// PCRE is used to compile pcre keywords (and pcrexform) that the
	// loader's hook left uncompiled (rules.PCRE.Compiled nil).
	PCRE pcre.Options
	// PCRENoLimit is used instead of PCRE for a pcre with the O modifier
	// (Suricata: the configured pcre.match-limit instead of the
	// defaults). The zero value means PCRE: O then changes nothing.
	PCRENoLimit pcre.Options
	// RecursionLimit bounds the content/pcre search steps of one Match
	// (Suricata's detect.inspection-recursion-limit). 0 means
	// DefaultRecursionLimit (3000).
	RecursionLimit int
}

// kind is the type of one compiled match.
type kind uint8

const (
	kContent kind = iota + 1
	kPCRE
	kByteTest
	kByteJump
	kByteExtract
	kByteMath
	kIsDataAt
	kBsize
	kBase64
)

var kindNames = [...]string{"", "content", "pcre", "byte_test", "byte_jump", "byte_extract", "byte_math", "isdataat", "bsize", "base64_decode"}

func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// num is an operand: a constant, or slot >= 0 naming a variable.
type num struct {
	val  int64
	slot int8
}

func constNum(v int64) num { return num{val: v, slot: -1} }

// maxWindow caps variable values used as offsets and lengths: anything
// larger is past the end of any buffer.
const maxWindow = 1 << 32

// unsigned returns the operand as a non-negative offset or length.
// Variables are unsigned; values past 4 GiB are clamped (they lie beyond
// any buffer either way).
func (n num) unsigned(v *Vars) int64 {
	if n.slot < 0 {
		return n.val
	}
	x := v[n.slot]
	if x > maxWindow {
		return maxWindow
	}
	return int64(x)
}

// signed returns the operand as a signed 32-bit offset, as Suricata reads
// a variable into distance or a byte_* offset (int32_t).
func (n num) signed(v *Vars) int64 {
	if n.slot < 0 {
		return n.val
	}
	return int64(int32(uint32(v[n.slot])))
}

// raw returns the operand as the 64-bit value byte_test and byte_math
// compare and compute with.
func (n num) raw(v *Vars) uint64 {
	if n.slot < 0 {
		return uint64(n.val)
	}
	return v[n.slot]
}

// op is one compiled match. Only the fields of its kind are set.
type op struct {
	kind     kind
	negated  bool
	relative bool
	// relNext is Suricata's RELATIVE_NEXT flag on a content or pcre: a
	// later match is relative to it, so a failure after it retries it at
	// its next occurrence.
	relNext bool
	c       *contentOp
	re      *pcre.Regexp
	b       *byteOp
	dataat  num
	cmp     rules.CmpOp
	a, bval uint64
	b64     *base64Op
}

type contentOp struct {
	pat                    []byte // lower-cased when nocase
	nocase                 bool
	offset, depth          num
	distance, within       num
	hasOffset, hasDepth    bool
	hasDistance, hasWithin bool
	startswith, endswith   bool
	relativeAny/* dist|within */ bool
}

// byteOp is a byte_test, byte_jump, byte_extract or byte_math.
type byteOp struct {
	nbytes  num
	offset  num
	little  bool
	base    int // 0 binary, else 8, 10 or 16
	bitmask uint64
	shift   uint8
	// byte_test
	cmp   string
	value num
	// byte_jump, byte_extract
	multiplier    uint64 // 1 when absent
	align         uint64 // 0 when absent, else 2 or 4
	fromBeginning bool
	fromEnd       bool
	postOffset    int64
	// byte_extract, byte_math
	slot int
	// byte_math
	oper   string
	rvalue num
}

type base64Op struct {
	bytes, offset int64
}

// Program is one compiled buffer: transforms + match list. It is
// immutable after Compile (and after the Compile of the rule's
// base64_data buffer, which links itself to it) and may be shared by any
// number of goroutines.
type Program struct {
	name   string
	ops    []op
	xf     []xform
	key    string
	limit  int
	b64    *Program // the base64_data buffer inspected at base64_decode
	hasB64 bool
}

// Name returns the canonical buffer name ("http.uri").
func (p *Program) Name() string { return p.name }

// HasTransforms reports whether the buffer has transforms.
func (p *Program) HasTransforms() bool { return len(p.xf) > 0 }

// TransformKey returns the canonical text of the transform chain, "" when
// none ("to_lowercase;xor:\"0d0a\";"): two Programs with equal keys
// transform any input to equal bytes, so the engine may share the result
// of one Transform between them.
func (p *Program) TransformKey() string { return p.key }

// Base64Data returns the base64_data buffer that Match of p inspects
// inline at its base64_decode, or nil. Suricata inspects base64_data at
// the point of base64_decode, inside the backtracking of the buffer that
// decodes, and a match there ends the inspection with a match ("base64
// is a terminal list"): Match of p already required the base64_data
// matches, so the engine need not match that buffer again (doing so on
// Scratch.Base64Data gives the same answer).
func (p *Program) Base64Data() *Program { return p.b64 }

// Compile compiles one buffer of a rule. vm is the rule's VarMap: Compile
// assigns slots to the variables the buffer defines and resolves those it
// reads, so compile the rule's buffers in order with one VarMap. The
// error names the keyword; the caller adds sid and line. What this
// package cannot evaluate exactly (dce byte order, luaxform, domain, tld,
// unknown keywords) is refused rather than approximated.
func Compile(b *rules.Buffer, vm *VarMap, o Options) (*Program, error) {
	if b == nil || vm == nil {
		return nil, errors.New("compile buffer: nil buffer or VarMap")
	}
	p := &Program{name: b.Name, limit: o.RecursionLimit}
	if p.limit <= 0 {
		p.limit = DefaultRecursionLimit
	}
	var err error
	if p.xf, p.key, err = compileTransforms(b.Transforms, o); err != nil {
		return nil, err
	}
	for _, m := range b.Matches {
		x, err := compileMatch(m, vm, o)
		if err != nil {
			return nil, err
		}
		if x.kind == kBase64 {
			if b.Name == "base64_data" {
				return nil, errors.New("base64_decode: not allowed on the base64_data buffer")
			}
			p.hasB64 = true
		}
		p.ops = append(p.ops, x)
	}
	markRelNext(p.ops)
	if b.Name == "base64_data" && vm.b64 != nil {
		vm.b64.b64 = p
		vm.b64 = nil
	}
	if p.hasB64 {
		vm.b64 = p
	}
	return p, nil
}

// markRelNext sets relNext as Suricata does when it parses a relative
// keyword: a relative content or pcre flags the nearest content or pcre
// before it; any other relative keyword flags the match just before it
// if that is a content or pcre.
func markRelNext(ops []op) {
	for i := range ops {
		x := &ops[i]
		if !x.relative || i == 0 {
			continue
		}
		if x.kind == kContent || x.kind == kPCRE {
			for j := i - 1; j >= 0; j-- {
				if ops[j].kind == kContent || ops[j].kind == kPCRE {
					ops[j].relNext = true
					break
				}
			}
			continue
		}
		if k := ops[i-1].kind; k == kContent || k == kPCRE {
			ops[i-1].relNext = true
		}
	}
	// A negated content or pcre never backtracks: it sets no position.
	for i := range ops {
		if ops[i].negated {
			ops[i].relNext = false
		}
	}
}

func compileNum(n rules.Num, vm *VarMap, kw, field string) (num, error) {
	if n.Var == "" {
		return constNum(n.Value), nil
	}
	i, ok := vm.lookup(n.Var)
	if !ok {
		return num{}, fmt.Errorf("%s: %s names variable %q, not defined by an earlier byte_extract or byte_math of the rule", kw, field, n.Var)
	}
	return num{slot: int8(i)}, nil
}

func compileEndian(e rules.Endian, kw string) (little bool, err error) {
	switch e {
	case rules.EndianDefault, rules.EndianBig:
		return false, nil
	case rules.EndianLittle:
		return true, nil
	case rules.EndianDCE:
		return false, fmt.Errorf("%s: dce byte order follows the DCE/RPC header's data representation, which a plain buffer does not carry", kw)
	}
	return false, fmt.Errorf("%s: unknown byte order %v", kw, e)
}

func compileBase(b rules.ByteBase, kw string) (int, error) {
	switch b {
	case rules.BaseNone:
		return 0, nil
	case rules.BaseDec:
		return 10, nil
	case rules.BaseHex:
		return 16, nil
	case rules.BaseOct:
		return 8, nil
	}
	return 0, fmt.Errorf("%s: unknown string base %v", kw, b)
}

func (b *byteOp) setBitmask(m uint64) {
	b.bitmask = m
	if m != 0 {
		b.shift = uint8(bits.TrailingZeros64(m))
	}
}

func compileMatch(m rules.Match, vm *VarMap, o Options) (op, error) {
	switch m := m.(type) {
	case *rules.Content:
		return compileContent(m, vm)
	case *rules.PCRE:
		re, err := compilePCRE(m, o)
		if err != nil {
			return op{}, err
		}
		return op{kind: kPCRE, re: re, negated: m.Negated, relative: m.Relative}, nil
	case *rules.ByteTest:
		b := &byteOp{cmp: m.Op, multiplier: 1}
		var err error
		if b.nbytes, err = compileNum(m.Bytes, vm, "byte_test", "bytes"); err != nil {
			return op{}, err
		}
		if b.offset, err = compileNum(m.Offset, vm, "byte_test", "offset"); err != nil {
			return op{}, err
		}
		if b.value, err = compileNum(m.Value, vm, "byte_test", "value"); err != nil {
			return op{}, err
		}
		if b.little, err = compileEndian(m.Endian, "byte_test"); err != nil {
			return op{}, err
		}
		if b.base, err = compileBase(m.Base, "byte_test"); err != nil {
			return op{}, err
		}
		switch m.Op {
		case "<", ">", "=", "<=", ">=", "&", "^":
		default:
			return op{}, fmt.Errorf("byte_test: unknown operator %q", m.Op)
		}
		b.setBitmask(m.Bitmask)
		return op{kind: kByteTest, b: b, negated: m.Negated, relative: m.Relative}, nil
	case *rules.ByteJump:
		b := &byteOp{multiplier: 1, fromBeginning: m.FromBeginning, fromEnd: m.FromEnd, postOffset: m.PostOffset}
		var err error
		if b.nbytes, err = compileNum(m.Bytes, vm, "byte_jump", "bytes"); err != nil {
			return op{}, err
		}
		if b.offset, err = compileNum(m.Offset, vm, "byte_jump", "offset"); err != nil {
			return op{}, err
		}
		if b.little, err = compileEndian(m.Endian, "byte_jump"); err != nil {
			return op{}, err
		}
		if b.base, err = compileBase(m.Base, "byte_jump"); err != nil {
			return op{}, err
		}
		if m.Multiplier > 0 {
			b.multiplier = uint64(m.Multiplier)
		}
		if m.Align {
			b.align = 4
		}
		if m.FromBeginning && m.FromEnd {
			return op{}, errors.New("byte_jump: from_beginning and from_end together")
		}
		b.setBitmask(m.Bitmask)
		return op{kind: kByteJump, b: b, relative: m.Relative}, nil
	case *rules.ByteExtract:
		b := &byteOp{nbytes: constNum(int64(m.Bytes)), offset: constNum(m.Offset), multiplier: 1}
		var err error
		if b.little, err = compileEndian(m.Endian, "byte_extract"); err != nil {
			return op{}, err
		}
		if b.base, err = compileBase(m.Base, "byte_extract"); err != nil {
			return op{}, err
		}
		if m.Multiplier > 0 {
			b.multiplier = uint64(m.Multiplier)
		}
		if m.Align != 0 {
			if m.Align != 2 && m.Align != 4 {
				return op{}, fmt.Errorf("byte_extract: align %d, want 2 or 4", m.Align)
			}
			b.align = uint64(m.Align)
		}
		if b.slot, err = vm.define(m.Var); err != nil {
			return op{}, fmt.Errorf("byte_extract: %w", err)
		}
		return op{kind: kByteExtract, b: b, relative: m.Relative}, nil
	case *rules.ByteMath:
		b := &byteOp{offset: constNum(m.Offset), oper: m.Op, multiplier: 1}
		var err error
		if b.nbytes, err = compileNum(m.Bytes, vm, "byte_math", "bytes"); err != nil {
			return op{}, err
		}
		if b.rvalue, err = compileNum(m.Rvalue, vm, "byte_math", "rvalue"); err != nil {
			return op{}, err
		}
		if b.little, err = compileEndian(m.Endian, "byte_math"); err != nil {
			return op{}, err
		}
		if b.base, err = compileBase(m.Base, "byte_math"); err != nil {
			return op{}, err
		}
		switch m.Op {
		case "+", "-", "*", "/", "<<", ">>":
		default:
			return op{}, fmt.Errorf("byte_math: unknown oper %q", m.Op)
		}
		b.setBitmask(m.Bitmask)
		if b.slot, err = vm.define(m.Result); err != nil {
			return op{}, fmt.Errorf("byte_math: %w", err)
		}
		return op{kind: kByteMath, b: b, relative: m.Relative}, nil
	case *rules.IsDataAt:
		n, err := compileNum(m.Offset, vm, "isdataat", "offset")
		if err != nil {
			return op{}, err
		}
		if n.slot < 0 && n.val < 0 {
			return op{}, fmt.Errorf("isdataat: negative offset %d", n.val)
		}
		return op{kind: kIsDataAt, dataat: n, negated: m.Negated, relative: m.Relative}, nil
	case *rules.Compare:
		if m.Name != "bsize" {
			return op{}, fmt.Errorf("%s: not a buffer keyword (the engine evaluates it on the packet or transaction)", m.Name)
		}
		switch m.Op {
		case rules.CmpEQ, rules.CmpNE, rules.CmpLT, rules.CmpLE, rules.CmpGT, rules.CmpGE, rules.CmpRange:
		default:
			return op{}, fmt.Errorf("bsize: unknown operator %v", m.Op)
		}
		return op{kind: kBsize, cmp: m.Op, a: m.A, bval: m.B}, nil
	case *rules.Base64Decode:
		if m.Bytes < 0 || m.Offset < 0 {
			return op{}, fmt.Errorf("base64_decode: negative bytes %d or offset %d", m.Bytes, m.Offset)
		}
		return op{kind: kBase64, b64: &base64Op{bytes: m.Bytes, offset: m.Offset}, relative: m.Relative}, nil
	case *rules.Keyword:
		return op{}, fmt.Errorf("%s: keyword not supported by the payload inspector", m.Name)
	case nil:
		return op{}, errors.New("nil match")
	}
	return op{}, fmt.Errorf("%T: match type not supported by the payload inspector", m)
}

func compileContent(m *rules.Content, vm *VarMap) (op, error) {
	if len(m.Pattern) == 0 {
		return op{}, errors.New("content: empty pattern")
	}
	c := &contentOp{nocase: m.Nocase, startswith: m.Startswith, endswith: m.Endswith}
	c.pat = append([]byte(nil), m.Pattern...)
	if c.nocase {
		for i, b := range c.pat {
			c.pat[i] = lower[b]
		}
	}
	var err error
	if m.Offset.Set {
		if c.offset, err = compileNum(m.Offset, vm, "content", "offset"); err != nil {
			return op{}, err
		}
		c.hasOffset = true
	}
	if m.Depth.Set {
		if c.depth, err = compileNum(m.Depth, vm, "content", "depth"); err != nil {
			return op{}, err
		}
		c.hasDepth = true
	}
	if m.Distance.Set {
		if c.distance, err = compileNum(m.Distance, vm, "content", "distance"); err != nil {
			return op{}, err
		}
		c.hasDistance = true
	}
	if m.Within.Set {
		if c.within, err = compileNum(m.Within, vm, "content", "within"); err != nil {
			return op{}, err
		}
		c.hasWithin = true
	}
	rel := c.hasDistance || c.hasWithin
	if rel && (c.hasOffset || c.hasDepth) {
		return op{}, errors.New("content: offset/depth with distance/within on one content")
	}
	if c.startswith && (rel || c.hasOffset || c.hasDepth) {
		return op{}, errors.New("content: startswith with offset, depth, distance or within")
	}
	for _, n := range []num{c.offset, c.depth, c.within} {
		if n.slot < 0 && n.val < 0 {
			return op{}, fmt.Errorf("content: negative offset, depth or within %d", n.val)
		}
	}
	c.relativeAny = rel
	return op{kind: kContent, c: c, negated: m.Negated, relative: rel}, nil
}

// compilePCRE returns the regex the loader's hook compiled, or compiles
// it with the pcre package.
func compilePCRE(m *rules.PCRE, o Options) (*pcre.Regexp, error) {
	if re, ok := m.Compiled.(*pcre.Regexp); ok && re != nil {
		return re, nil
	}
	if m.Compiled != nil {
		return nil, fmt.Errorf("pcre: compiled form %T is not a *pcre.Regexp", m.Compiled)
	}
	k, err := pcre.ParseSuricata("/" + m.Pattern + "/" + m.Flags)
	if err != nil {
		return nil, fmt.Errorf("pcre: %w", err)
	}
	if k.Captures != "" {
		return nil, fmt.Errorf("pcre: capture variables %q are not supported", k.Captures)
	}
	po := o.PCRE
	if k.MatchLimit && o.PCRENoLimit != (pcre.Options{}) {
		po = o.PCRENoLimit
	}
	re, err := pcre.Compile(k.Expr, k.Flags, po)
	if err != nil {
		return nil, fmt.Errorf("pcre: %w", err)
	}
	return re, nil
}

// lower and upper are ASCII case tables (Suricata's nocase and the
// to_lowercase/to_uppercase transforms touch A-Z/a-z only).
var lower, upper [256]byte

func init() {
	for i := range lower {
		c := byte(i)
		lower[i], upper[i] = c, c
		if c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
		if c >= 'a' && c <= 'z' {
			upper[i] = c - ('a' - 'A')
		}
	}
}
