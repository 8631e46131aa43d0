package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/detect/hostbits"
	"github.com/polder-nsm/polder/sensor/detect/inspect"
	"github.com/polder-nsm/polder/sensor/detect/ipset"
	"github.com/polder-nsm/polder/sensor/detect/mpm"
	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/detect/threshold"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/rules"
)

// Options configure Compile.
type Options struct {
	// Vars resolve the rules' $VARs (the sensor config's vars section).
	Vars rules.Vars
	// Classifications give each classtype its description (alert
	// category) and default priority (severity).
	Classifications map[string]rules.Classification
	// Thresholds are the entries of threshold.config.
	Thresholds []rules.ThresholdEntry
	MPM        mpm.Options
	PCRE       pcre.Options
	// IPS is simulated IPS mode (Suricata's --simulate-ips): drop rules
	// report "blocked" and the actions of drop and reject rules are
	// handed to the pipeline (Thread.TakeDrop), which drops packets and
	// flows.
	IPS bool
	// ParseRefused is how many rules the loader refused before Compile;
	// Stats.Refused includes them.
	ParseRefused int
	// Consume lets Compile empty the set (rules.Set.TakeRules) and drop
	// each rule's syntax tree once compiled, which lowers the peak memory
	// of loading a large ruleset.
	Consume bool
}

func (o *Options) inspect() inspect.Options { return inspect.Options{PCRE: o.PCRE} }

// defaultDenseBytes is the dense-row budget of each of the engine's
// Aho-Corasick matchers. mpm's default (16 MiB) is sized for one matcher
// holding every pattern; the engine builds dozens of smaller ones, and
// their scans spend their time on hits, not transitions.
const defaultDenseBytes = 1 << 20

// Stats describe a compiled ruleset.
type Stats struct {
	Loaded   int            // signatures compiled
	Refused  int            // rules refused by the parser or the engine (see the ErrorLists)
	Inactive int            // loaded but unable to match here (see Engine.Inactive)
	ByKind   map[string]int // "ip-only", "packet", "stream", "transaction"
	Matchers int            // multi-pattern matchers built
	Patterns int            // fast patterns in them
	Always   int            // signatures without a fast pattern (evaluated on every inspection of their group)
	Compile  time.Duration
}

// Engine is a compiled ruleset, immutable and shared by every Thread.
type Engine struct {
	sigs     []*Sig
	hulls    []portHull // by signature ID: a first port test that stays in cache
	ipOnly   ipOnlyIndex
	pkt      [numCtx][2]*group
	tx       [applayer.ProtoFailed + 1][2]*txGroup
	views    []view
	opts     Options
	stats    Stats
	slots    int // mpm scratch slots a Thread needs
	inactive []*Sig
}

// ctx is a packet-level inspection context.
type ctx uint8

const (
	ctxTCPPkt ctx = iota
	ctxTCPStream
	ctxUDP
	ctxICMP
	ctxICMP6
	ctxOther
	numCtx
)

// group is the signatures of one packet context and direction with their
// prefilter.
type group struct {
	always []uint32
	mpm    mpm.Matcher
	slot   int
	// maxPat is the length of the longest fast pattern in mpm: a pattern
	// split between two stream chunks lies within maxPat-1 bytes of the
	// boundary.
	maxPat int
}

// view is one transaction buffer as signatures see it: name, the side of
// the transaction it is taken from, and a transform chain.
type view struct {
	name  string
	side  flow.Direction
	xform *inspect.Program // nil: untransformed
	key   string
}

// scan is one view a transaction group prefilters.
type scan struct {
	view int
	mpm  mpm.Matcher
	slot int
}

// txGroup is the transaction signatures of one protocol and direction.
type txGroup struct {
	scans  []scan
	always []uint32
}

// Sigs returns the compiled signatures in evaluation order.
func (e *Engine) Sigs() []*Sig { return e.sigs }

// Inactive returns the signatures that loaded but cannot match here.
func (e *Engine) Inactive() []*Sig { return e.inactive }

// Stats returns what Compile built.
func (e *Engine) Stats() Stats { return e.stats }

// Shared is the detection state every Thread of one sensor run shares:
// thresholds and suppressions, xbits and hostbits. It is safe for
// concurrent use. A run makes one with NewShared; a reload keeps the
// host bits and starts the thresholds of the new ruleset.
type Shared struct {
	thresh   *threshold.Table
	hostBits *hostbits.Store
}

// NewShared returns fresh shared state for e. keep, when not nil, is the
// state of the ruleset e replaces: its host bits carry over.
func (e *Engine) NewShared(keep *Shared) (*Shared, error) {
	sh := &Shared{}
	if keep != nil {
		sh.hostBits = keep.hostBits
	} else {
		sh.hostBits = hostbits.New(hostbits.Options{})
	}
	var err error
	sh.thresh, err = threshold.New(e.opts.Thresholds, threshold.Options{Vars: e.opts.Vars})
	if err != nil {
		err = fmt.Errorf("threshold.config: %w", err)
	}
	return sh, err
}

// Thresholds returns the threshold table (for its counters).
func (sh *Shared) Thresholds() *threshold.Table { return sh.thresh }

// HostBits returns the xbits/hostbits store.
func (sh *Shared) HostBits() *hostbits.Store { return sh.hostBits }

type compiler struct {
	opts  Options
	addrs map[string]*ipset.Set
	ports map[string]*ipset.PortSet
	strs  map[string]string // one copy of each meta string (metadata repeats across rules)
}

// str returns the compiler's copy of s, which does not pin the rule text.
func (c *compiler) str(s string) string {
	if v, ok := c.strs[s]; ok {
		return v
	}
	if c.strs == nil {
		c.strs = map[string]string{}
	}
	v := strings.Clone(s)
	c.strs[v] = v
	return v
}

// Compile compiles the rules of set. Rules the engine cannot evaluate are
// refused with a positioned error naming the keyword; the rest compile.
// Threshold entries naming unknown rules are reported too.
func Compile(set *rules.Set, opts Options) (*Engine, rules.ErrorList) {
	start := time.Now()
	if opts.MPM.DenseBytes == 0 {
		opts.MPM.DenseBytes = defaultDenseBytes
	}
	e := &Engine{opts: opts}
	c := &compiler{opts: opts, addrs: map[string]*ipset.Set{}, ports: map[string]*ipset.PortSet{}}
	var errs rules.ErrorList
	rs := set.Rules
	if opts.Consume {
		rs = set.TakeRules()
	}
	for i, r := range rs {
		if opts.Consume {
			rs[i] = nil // the compiled signature keeps what it needs
		}
		s, ce := c.compileSig(r)
		if ce != nil {
			pos := ce.pos
			if pos.Line == 0 {
				pos = r.Pos
			}
			errs = append(errs, &rules.Error{File: r.File, Line: pos.Line, Col: pos.Col, SID: r.SID, Keyword: ce.kw, Msg: ce.msg})
			continue
		}
		if s.inactive != "" {
			e.inactive = append(e.inactive, s)
			continue
		}
		e.sigs = append(e.sigs, s)
	}
	e.stats.Refused = len(errs) + opts.ParseRefused
	e.stats.Inactive = len(e.inactive)
	e.stats.Loaded = len(e.sigs) + len(e.inactive)
	sortSigs(e.sigs)
	e.hulls = make([]portHull, len(e.sigs))
	for i, s := range e.sigs {
		s.ID = uint32(i)
		e.hulls[i] = hullOf(s)
	}
	if _, err := threshold.New(opts.Thresholds, threshold.Options{Vars: opts.Vars}); err != nil {
		errs = append(errs, &rules.Error{Msg: fmt.Sprintf("threshold.config: %v", err)})
	}
	if err := e.build(); err != nil {
		errs = append(errs, &rules.Error{Msg: err.Error()})
	}
	e.stats.Compile = time.Since(start)
	return e, errs
}

// sortSigs orders signatures as Suricata evaluates them: by action (pass
// first, then drop, reject, alert), then signatures that set flowbits
// before those that only test them, then priority, then load order.
func sortSigs(sigs []*Sig) {
	rank := func(s *Sig) int {
		switch s.Rule.Action {
		case rules.ActionPass:
			return 0
		case rules.ActionDrop:
			return 1
		case rules.ActionReject, rules.ActionRejectSrc, rules.ActionRejectDst, rules.ActionRejectBoth:
			return 2
		}
		return 3
	}
	bits := func(s *Sig) int {
		switch {
		case len(s.bitSets) > 0 && len(s.bitChecks) == 0:
			return 0
		case len(s.bitSets) > 0:
			return 1
		case len(s.bitChecks) == 0:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(sigs, func(a, b *Sig) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(bits(a), bits(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Severity, b.Severity)
	})
}

// pktCtxs returns the packet contexts a packet or stream signature is
// inspected in.
func (s *Sig) pktCtxs() []ctx {
	if s.kind == kindStream {
		return []ctx{ctxTCPStream}
	}
	switch s.l4 {
	case 6:
		return []ctx{ctxTCPPkt}
	case 17:
		return []ctx{ctxUDP}
	case 1:
		return []ctx{ctxICMP}
	case 58:
		return []ctx{ctxICMP6}
	case 0:
		if s.app == applayer.ProtoDNS {
			return []ctx{ctxUDP, ctxTCPPkt}
		}
		return []ctx{ctxTCPPkt, ctxUDP, ctxICMP, ctxICMP6, ctxOther}
	}
	return []ctx{ctxOther}
}

// sigDirs returns the flow directions a packet or stream signature applies to.
func (s *Sig) sigDirs() []flow.Direction {
	switch {
	case s.toServer:
		return dirServer
	case s.toClient:
		return dirClient
	}
	return dirBoth
}

// build groups the signatures and compiles the prefilters.
func (e *Engine) build() error {
	type pending struct {
		b   *mpm.Builder
		set func(mpm.Matcher, int)
	}
	var builders []pending
	newBuilder := func(set func(mpm.Matcher, int)) *mpm.Builder {
		b := mpm.NewBuilder(e.opts.MPM)
		builders = append(builders, pending{b, set})
		return b
	}

	// Packet and stream groups.
	var pktB [numCtx][2]*mpm.Builder
	for cx := range numCtx {
		for d := range 2 {
			g := &group{}
			e.pkt[cx][d] = g
			pktB[cx][d] = newBuilder(func(m mpm.Matcher, slot int) { g.mpm, g.slot = m, slot })
		}
	}
	viewIdx := map[string]int{}
	type txKey struct {
		app applayer.Proto
		dir flow.Direction
	}
	txB := map[txKey]map[int]*mpm.Builder{}
	for _, s := range e.sigs {
		e.stats.ByKind = incr(e.stats.ByKind, s.kind.String())
		switch s.kind {
		case kindIPOnly:
			e.ipOnly.add(s)
		case kindPacket, kindStream:
			for _, cx := range s.pktCtxs() {
				for _, d := range s.sigDirs() {
					g := e.pkt[cx][d]
					if s.fp < 0 || len(s.fpBytes) <= shortPattern {
						g.always = append(g.always, s.ID)
						continue
					}
					pktB[cx][d].Add(mpm.Pattern{ID: s.ID, Bytes: s.fpBytes, Nocase: s.fpNocase})
					g.maxPat = max(g.maxPat, len(s.fpBytes))
					if cx == ctxTCPPkt {
						// The stream prefilter also finds the TCP packet
						// signatures' patterns: a chunk that is the
						// packet's payload is scanned once for both (see
						// Thread.Stream).
						pktB[ctxTCPStream][d].Add(mpm.Pattern{ID: s.ID, Bytes: s.fpBytes, Nocase: s.fpNocase})
						sg := e.pkt[ctxTCPStream][d]
						sg.maxPat = max(sg.maxPat, len(s.fpBytes))
					}
				}
			}
		case kindTx:
			for i := range s.bufs {
				b := &s.bufs[i]
				if b.name == "pkt_data" || b.name == "base64_data" {
					continue
				}
				for _, d := range s.dirs {
					side := d
					switch buffers[b.name].side {
					case sideRequest:
						side = flow.ToServer
					case sideResponse:
						side = flow.ToClient
					}
					name := viewName(s.app, b.name, side)
					key := fmt.Sprintf("%s|%d|%s", name, side, b.prog.TransformKey())
					vi, ok := viewIdx[key]
					if !ok {
						vi = len(e.views)
						viewIdx[key] = vi
						v := view{name: name, side: side, key: key}
						if b.prog.HasTransforms() {
							v.xform = b.prog
						}
						e.views = append(e.views, v)
					}
					b.viewDir[d] = vi
				}
			}
			for _, d := range s.dirs {
				tg := e.tx[s.app][d]
				if tg == nil {
					tg = &txGroup{}
					e.tx[s.app][d] = tg
				}
				if s.fp < 0 {
					tg.always = append(tg.always, s.ID)
					continue
				}
				k := txKey{s.app, d}
				if txB[k] == nil {
					txB[k] = map[int]*mpm.Builder{}
				}
				vi := s.bufs[s.fp].viewDir[d]
				b := txB[k][vi]
				if b == nil {
					tgc, vic := tg, vi
					b = newBuilder(func(m mpm.Matcher, slot int) {
						tgc.scans = append(tgc.scans, scan{view: vic, mpm: m, slot: slot})
					})
					txB[k][vi] = b
				}
				b.Add(mpm.Pattern{ID: s.ID, Bytes: s.fpBytes, Nocase: s.fpNocase})
			}
		}
		if s.fp < 0 && s.kind != kindIPOnly {
			e.stats.Always++
		}
	}
	for _, p := range builders {
		if p.b.Len() == 0 {
			continue
		}
		m, err := p.b.Build()
		if err != nil {
			return fmt.Errorf("build prefilter: %w", err)
		}
		p.set(m, e.slots)
		e.slots++
		e.stats.Matchers++
		e.stats.Patterns += p.b.Len()
	}
	for a := range e.tx {
		for _, tg := range e.tx[a] {
			if tg != nil {
				slices.SortFunc(tg.scans, func(x, y scan) int { return cmp.Compare(x.view, y.view) })
			}
		}
	}
	e.ipOnly.build()
	return nil
}

// shortPattern is the length up to which a packet or stream signature's
// fast pattern is not prefiltered: one or two bytes occur in nearly every
// payload, so scanning for them costs a pass over every byte to select
// signatures that are candidates anyway.
const shortPattern = 2

// portHull bounds a signature's source and destination ports. Most
// prefilter candidates fail on ports (a pattern seen in traffic to another
// service); testing the bounds in a small array first spares loading the
// signature for most of them.
type portHull struct {
	spLo, spHi, dpLo, dpHi uint16
	bidir                  bool
}

func hullOf(s *Sig) portHull {
	h := portHull{bidir: s.bidir}
	h.spLo, h.spHi = s.sp.Hull()
	h.dpLo, h.dpHi = s.dp.Hull()
	return h
}

// may reports whether ports sp, dp may match (false: they cannot).
func (h *portHull) may(sp, dp uint16) bool {
	if sp >= h.spLo && sp <= h.spHi && dp >= h.dpLo && dp <= h.dpHi {
		return true
	}
	return h.bidir && dp >= h.spLo && dp <= h.spHi && sp >= h.dpLo && sp <= h.dpHi
}

// viewName returns the name of the buffer a view fetches: buffers that
// are the same bytes under two names share one view, so they are fetched
// and prefiltered once (HTTP's file.data is the body of its side).
func viewName(app applayer.Proto, name string, side flow.Direction) string {
	if name == "file.data" && app == applayer.ProtoHTTP {
		if side == flow.ToServer {
			return "http.request_body"
		}
		return "http.response_body"
	}
	return name
}

func incr(m map[string]int, k string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k]++
	return m
}
