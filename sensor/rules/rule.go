// Package rules implements the Suricata rule language: a lexer and parser
// turning rule text into a Rule AST with positions, typed decoding of the
// keywords the detection engine compiles, a printer, and loaders for rule
// files and the classification, reference and threshold configs.
//
// The package follows Suricata 7/8 rule syntax (docs.suricata.io, "Rules"):
// what Suricata refuses at load time is refused here with a positioned
// Error, and every rule of ET Open (Suricata 5.0 edition) loads. It imports
// no other polder package: the detect stage compiles its output.
//
// Parse and the loaders may run concurrently (package tables are read-only
// after init); a Set is built by one goroutine and read-only afterwards.
// Rule loading is not on the packet path: it allocates freely, and every
// input is bounded (maxRuleLen per rule, maxExprDepth for address and port
// nesting and variable expansion).
package rules

import "strconv"

// Pos is a position in rule text: 1-based line and byte column. The zero
// Pos means "unknown".
type Pos struct {
	Line, Col int
}

// String formats p as "line:col".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// Action is what a rule does when it matches.
type Action uint8

// Actions, as in Suricata's rule header.
const (
	ActionAlert Action = iota + 1
	ActionPass
	ActionDrop
	ActionReject
	ActionRejectSrc
	ActionRejectDst
	ActionRejectBoth
	ActionConfig
)

var actionNames = [...]string{"", "alert", "pass", "drop", "reject", "rejectsrc", "rejectdst", "rejectboth", "config"}

// String returns the action word as written in rules.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Direction is the arrow between source and destination.
type Direction uint8

// Directions. DirTransaction (=>) is Suricata 8's transactional rule: the
// source side matches the request and the destination side the response.
const (
	DirForward     Direction = iota + 1 // ->
	DirBoth                             // <>
	DirTransaction                      // =>
)

// String returns the arrow as written in rules.
func (d Direction) String() string {
	switch d {
	case DirForward:
		return "->"
	case DirBoth:
		return "<>"
	case DirTransaction:
		return "=>"
	}
	return "?"
}

// Rule is one parsed rule. Options holds every option in source order with
// its raw value; the typed fields below are decoded from Options and are
// what the detection engine compiles. A Rule is immutable once returned.
type Rule struct {
	File     string // set by the loaders, "" from Parse
	Pos      Pos    // start of the action word
	Action   Action
	Protocol string // lower case as written: "tcp", "http", "tcp-pkt", ...
	Src      Address
	SrcPort  Port
	Dir      Direction
	Dst      Address
	DstPort  Port
	Options  []Option

	// Meta keywords.
	Msg        string // unescaped, without quotes
	SID        uint32
	Rev        uint32
	GID        uint32 // 1 unless gid: says otherwise
	Classtype  string
	Priority   int // 0 when not given
	References []Reference
	Metadata   []Metadata
	Target     string // "src_ip", "dest_ip" or ""

	// Buffers holds the payload matches grouped by the buffer they inspect,
	// in the order the rule selects them. Contents written before any sticky
	// buffer go to the implicit "pkt_data" buffer (Implicit set); legacy
	// modifiers (http_uri, ...) and pcre buffer flags (/U, ...) move their
	// match into the named buffer, appending to an earlier buffer of that
	// name as Suricata does. Selecting a sticky buffer again starts a new
	// Buffer entry with the same Name.
	Buffers []*Buffer
	// Packet holds the non-payload conditions (dsize, ttl, flags, itype,
	// app-layer-protocol, ...) in source order.
	Packet []Match

	Flow            *Flow
	Bits            []*Bits // flowbits, xbits, hostbits in source order
	Flowints        []*Flowint
	Threshold       *Threshold
	DetectionFilter *Threshold
	Tag             *Tag
	Noalert         bool
	Bypass          bool

	hdrPos [4]Pos // of Src, SrcPort, Dst, DstPort, for variable errors
}

// Option is one "name:value;" (or "name;") as written. Value is the raw
// text between ':' and the terminating ';', trimmed of surrounding blanks,
// with escapes (\; \" \\) left in place: decoders unescape per keyword.
type Option struct {
	Name  string
	Value string
	Pos   Pos // of the keyword name
}

// Reference is one "reference:system,id;".
type Reference struct {
	System, ID string
}

// Metadata is one key/value pair of a metadata option ("metadata: key
// value, key value;"); Value keeps inner blanks as written.
type Metadata struct {
	Key, Value string
}

// Buffer is one inspection buffer with its ordered matches. Name is the
// canonical Suricata 7 name (http.uri, file.data, dns.query, pkt_data ...).
type Buffer struct {
	Name       string
	Pos        Pos // of the keyword that selected it (the first content for Implicit)
	Implicit   bool
	Transforms []Transform
	Matches    []Match
}

// Transform is a buffer transform (to_lowercase, dotprefix, pcrexform, ...)
// applied, in order, to the buffer before its matches.
type Transform struct {
	Name  string
	Value string // raw argument, "" for most
	Pos   Pos
}

// Match is one condition in a Buffer or in Rule.Packet: *Content, *PCRE,
// *ByteTest, *ByteJump, *ByteExtract, *ByteMath, *IsDataAt, *Compare,
// *Base64Decode or *Keyword.
type Match interface {
	Position() Pos
}

// Num is an integer operand that may instead name a byte_extract or
// byte_math variable. Set is false when the option was not given.
type Num struct {
	Value int64
	Var   string
	Set   bool
}

// String returns the variable name or the decimal value.
func (n Num) String() string {
	if n.Var != "" {
		return n.Var
	}
	return strconv.FormatInt(n.Value, 10)
}

// Content is a content match with its modifiers. Pattern holds the decoded
// bytes (hex and escapes resolved). Offset and Depth are absolute,
// Distance and Within relative to the previous match in the same buffer.
type Content struct {
	Pos              Pos
	Pattern          []byte
	Negated          bool
	Nocase           bool
	Rawbytes         bool
	Offset, Depth    Num
	Distance, Within Num
	Startswith       bool
	Endswith         bool
	FastPattern      bool
	FastPatternOnly  bool
	FastPatternChop  bool
	ChopOffset       int
	ChopLen          int
	Replace          []byte // IPS replace; nil when absent
}

// Relative reports whether the content is anchored to the previous match.
func (c *Content) Relative() bool { return c.Distance.Set || c.Within.Set }

// PCRE is a pcre match. Pattern is the regex between the delimiters as
// written (escapes untouched); Flags the letters after the closing
// delimiter. Compile flags map to PCRE2 options; Suricata's own letters are
// decoded into Relative, Buffer (the buffer selector) and the others below.
type PCRE struct {
	Pos      Pos
	Negated  bool
	Pattern  string
	Flags    string
	Relative bool   // R
	Buffer   string // canonical buffer selected by U I P Q H D M C S Y V W Z, "" if none
	Rawbytes bool   // B
	NoLimit  bool   // O: override the configured match limit
	Caseless bool   // i
	// Compiled is set by a compile hook (see Options.CompilePCRE) and is
	// opaque to this package.
	Compiled any
}

// Endian is the byte order for byte_* keywords.
type Endian uint8

// Byte orders. EndianDefault is big endian unless dce applies.
const (
	EndianDefault Endian = iota
	EndianBig
	EndianLittle
	EndianDCE
)

// ByteBase is the number base of a string-encoded byte_* field; 0 means
// the bytes are binary.
type ByteBase uint8

// Bases for the "string" byte_* option.
const (
	BaseNone ByteBase = iota
	BaseHex
	BaseDec
	BaseOct
)

// ByteTest is a byte_test match.
type ByteTest struct {
	Pos      Pos
	Bytes    Num
	Negated  bool
	Op       string // < > = <= >= & ^
	Value    Num
	Offset   Num
	Relative bool
	Endian   Endian
	Base     ByteBase
	Bitmask  uint64 // 0 when absent
}

// ByteJump is a byte_jump match.
type ByteJump struct {
	Pos           Pos
	Bytes         Num
	Offset        Num
	Relative      bool
	Multiplier    int64 // 0 when absent
	Endian        Endian
	Base          ByteBase
	Align         bool
	FromBeginning bool
	FromEnd       bool
	PostOffset    int64
	Bitmask       uint64
}

// ByteExtract is a byte_extract: it stores a value in Var for later
// keywords of the same rule.
type ByteExtract struct {
	Pos        Pos
	Bytes      int
	Offset     int64
	Var        string
	Relative   bool
	Multiplier int64
	Endian     Endian
	Base       ByteBase
	Align      int
}

// ByteMath is a byte_math: Result = extracted Op Rvalue.
type ByteMath struct {
	Pos      Pos
	Bytes    Num
	Offset   int64
	Op       string // + - * / << >>
	Rvalue   Num
	Result   string
	Relative bool
	Endian   Endian
	Base     ByteBase
	Bitmask  uint64
}

// IsDataAt is an isdataat match.
type IsDataAt struct {
	Pos      Pos
	Negated  bool
	Offset   Num
	Relative bool
	Rawbytes bool
}

// CmpOp is the operator of a Compare.
type CmpOp uint8

// Comparison operators of Suricata's integer keywords.
const (
	CmpEQ    CmpOp = iota + 1 // N
	CmpNE                     // !N
	CmpLT                     // <N
	CmpLE                     // <=N
	CmpGT                     // >N
	CmpGE                     // >=N
	CmpRange                  // A<>B or A-B: A < x < B
)

// Match reports whether x satisfies the operator with operands a (and b
// for CmpRange).
func (op CmpOp) Match(x, a, b uint64) bool {
	switch op {
	case CmpEQ:
		return x == a
	case CmpNE:
		return x != a
	case CmpLT:
		return x < a
	case CmpLE:
		return x <= a
	case CmpGT:
		return x > a
	case CmpGE:
		return x >= a
	case CmpRange:
		return a < x && x < b
	}
	return false
}

// Compare is an integer condition: bsize, dsize, urilen, ttl, itype,
// icode, icmp_id, icmp_seq, id, tcp.mss, stream_size, ... Arg holds a
// keyword-specific extra argument ("raw" for urilen, "server" for
// stream_size).
type Compare struct {
	Pos  Pos
	Name string
	Op   CmpOp
	A, B uint64
	Arg  string
}

// Base64Decode is a base64_decode match.
type Base64Decode struct {
	Pos      Pos
	Bytes    int64
	Offset   int64
	Relative bool
}

// Keyword is any other known keyword, validated for shape but not decoded
// further (app-layer-protocol, flags, ip_proto, ssl_state, ...).
type Keyword struct {
	Pos   Pos
	Name  string
	Value string
}

// Position returns where the match keyword starts; likewise for the
// other Match types below.
func (m *Content) Position() Pos      { return m.Pos }
func (m *PCRE) Position() Pos         { return m.Pos }
func (m *ByteTest) Position() Pos     { return m.Pos }
func (m *ByteJump) Position() Pos     { return m.Pos }
func (m *ByteExtract) Position() Pos  { return m.Pos }
func (m *ByteMath) Position() Pos     { return m.Pos }
func (m *IsDataAt) Position() Pos     { return m.Pos }
func (m *Compare) Position() Pos      { return m.Pos }
func (m *Base64Decode) Position() Pos { return m.Pos }
func (m *Keyword) Position() Pos      { return m.Pos }

// Flow is the flow keyword. FromServer is the same as ToClient and
// FromClient as ToServer; they are folded on parse.
type Flow struct {
	Established    bool
	NotEstablished bool
	Stateless      bool
	ToServer       bool
	ToClient       bool
	OnlyStream     bool
	NoStream       bool
	OnlyFrag       bool
	NoFrag         bool
}

// Bits is a flowbits, xbits or hostbits operation.
type Bits struct {
	Pos    Pos
	Kind   string // "flowbits", "xbits", "hostbits"
	Cmd    string // set unset isset isnotset toggle noalert
	Names  []string
	Or     bool   // names joined with | (isset/isnotset only)
	Track  string // ip_src ip_dst ip_pair (xbits, hostbits)
	Expire int    // seconds, 0 when absent
}

// Flowint is a flowint operation: Cmd is one of = + - == != < <= > >=
// isset notset isnotset.
type Flowint struct {
	Pos   Pos
	Name  string
	Cmd   string
	Value string // integer or another flowint's name; "" for isset/notset
}

// Threshold is a threshold or detection_filter option.
type Threshold struct {
	Pos        Pos
	Type       string // limit, threshold, both, backoff; "" for detection_filter
	Track      string // by_src, by_dst, by_rule, by_both, by_flow
	Count      int
	Seconds    int
	Multiplier int // backoff only
}

// Tag is the tag keyword.
type Tag struct {
	Pos       Pos
	Type      string // session, host
	Count     int    // 0 when absent
	Metric    string // packets, seconds, bytes
	Direction string // src, dst (host only)
}

// String returns the operator as written in rules.
func (o CmpOp) String() string {
	switch o {
	case CmpEQ:
		return "="
	case CmpNE:
		return "!="
	case CmpLT:
		return "<"
	case CmpLE:
		return "<="
	case CmpGT:
		return ">"
	case CmpGE:
		return ">="
	case CmpRange:
		return "<>"
	}
	return "?"
}

// String names the byte order.
func (e Endian) String() string {
	return [...]string{"default", "big", "little", "dce", "?"}[min(int(e), 4)]
}

// String names the base.
func (b ByteBase) String() string {
	return [...]string{"none", "hex", "dec", "oct", "?"}[min(int(b), 4)]
}
