package detect

import (
	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/detect/inspect"
	"github.com/polder-nsm/polder/sensor/detect/ipset"
	"github.com/polder-nsm/polder/sensor/detect/threshold"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/rules"
)

// kind is where a signature is inspected; see the package comment.
type kind uint8

const (
	kindIPOnly kind = iota + 1
	kindPacket
	kindStream
	kindTx
)

func (k kind) String() string {
	return [...]string{"?", "ip-only", "packet", "stream", "transaction"}[k]
}

// Sig is one compiled rule. Its exported fields describe the alert; the
// rest is what evaluation needs. A Sig is immutable.
type Sig struct {
	// Rule is what alerts and reports need of the rule; its options and
	// match lists are dropped once compiled.
	Rule     *RuleMeta
	ID       uint32 // position in the Engine's evaluation order
	Category string // classtype description; "" when the rule has none
	Severity int    // priority: the rule's, else its classtype's, else 3

	kind kind
	// l4 is the IP protocol the header names (0: any); app the application
	// protocol (ProtoUnknown: any).
	l4     uint8
	app    applayer.Proto
	appAny bool // header protocol is an app protocol polder does not parse (inactive)

	src, dst *ipset.Set
	sp, dp   *ipset.PortSet
	bidir    bool

	established, notEstablished bool
	toServer, toClient          bool
	// dirs are the directions a transaction rule is evaluated in.
	dirs []flow.Direction

	conds []cond // packet conditions, cheapest first
	bufs  []sigBuf
	nvars int

	bitChecks []bitOp // isset / isnotset, evaluated before the payload
	bitSets   []bitOp // set / unset / toggle, after a match
	intOps    []intOp

	noalert bool
	bypass  bool
	// logTxOff: config:logging disable, type tx, scope tx — a match stops
	// the transaction from being logged (Thread.TxLogDisabled).
	logTxOff bool
	thr      threshold.Sig

	// fp is the index in bufs of the buffer holding the fast pattern, -1
	// when the signature has none (it is then evaluated on every
	// inspection of its group).
	fp       int
	fpBytes  []byte
	fpNocase bool

	inactive string      // why the rule can never match here ("" when it can)
	rule     *rules.Rule // the rule being compiled; nil afterwards

	// actsOnFlow: the signature's drop or pass action applies to the whole
	// flow whatever it matched on (see DropsFlow).
	actsOnFlow bool
}

// RuleMeta is the part of a rule a compiled signature keeps: its header
// words and meta keywords (msg, sid, rev, gid, classtype, priority,
// reference, metadata, target), with the names and types of rules.Rule.
// A whole rules.Rule is about 760 bytes, most of them options and match
// lists; ET Open has 25,000 rules.
type RuleMeta struct {
	File       string
	Pos        rules.Pos
	Action     rules.Action
	Protocol   string
	Dir        rules.Direction
	Msg        string
	SID        uint32
	Rev        uint32
	GID        uint32
	Classtype  string
	Priority   int
	Target     string
	Noalert    bool
	Bypass     bool
	References []rules.Reference
	Metadata   []rules.Metadata
}

// sigBuf is one buffer of a signature with its compiled match program.
type sigBuf struct {
	name string
	prog *inspect.Program
	src  *rules.Buffer
	// viewDir is, per direction of evaluation, the Engine view this
	// buffer reads (transaction signatures).
	viewDir [2]int
}

// SID returns the rule's sid.
func (s *Sig) SID() uint32 { return s.Rule.SID }

// Inactive returns why the signature can never match in this sensor (an
// application protocol or event polder does not produce), or "".
func (s *Sig) Inactive() string { return s.inactive }
