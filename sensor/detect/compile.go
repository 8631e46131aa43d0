package detect

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/detect/inspect"
	"github.com/polder-nsm/polder/sensor/detect/ipset"
	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/detect/threshold"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/rules"
)

// compileError is a rule the engine refuses, with the keyword at fault.
type compileError struct {
	kw  string
	pos rules.Pos
	msg string
}

func (e *compileError) Error() string { return e.msg }

func refuse(kw string, pos rules.Pos, format string, a ...any) *compileError {
	return &compileError{kw: kw, pos: pos, msg: fmt.Sprintf(format, a...)}
}

// headerProto maps a rule header protocol to the IP protocol (0: any) and
// application protocol it requires. unparsed is set for application
// protocols polder does not parse: such rules load but cannot match.
func headerProto(p string) (l4 uint8, app applayer.Proto, unparsed bool) {
	switch p {
	case "ip", "ipv4", "ip4", "ipv6", "ip6", "any", "pkthdr":
		return 0, applayer.ProtoUnknown, false
	case "tcp", "tcp-pkt", "tcp-stream":
		return decode.IPProtoTCP, applayer.ProtoUnknown, false
	case "udp", "udp-pkt":
		return decode.IPProtoUDP, applayer.ProtoUnknown, false
	case "icmp", "icmpv4":
		return decode.IPProtoICMP, applayer.ProtoUnknown, false
	case "icmpv6":
		return decode.IPProtoICMPv6, applayer.ProtoUnknown, false
	case "sctp":
		return 132, applayer.ProtoUnknown, false
	case "http", "http1":
		return decode.IPProtoTCP, applayer.ProtoHTTP, false
	case "tls", "ssl":
		return decode.IPProtoTCP, applayer.ProtoTLS, false
	case "ssh":
		return decode.IPProtoTCP, applayer.ProtoSSH, false
	case "dns":
		return 0, applayer.ProtoDNS, false
	case "failed":
		return 0, applayer.ProtoFailed, false
	}
	return 0, applayer.ProtoUnknown, true
}

// bufSide says in which direction of a transaction a buffer exists.
type bufSide uint8

const (
	sideBoth bufSide = iota
	sideRequest
	sideResponse
)

// buffers lists the transaction buffers the engine can fill, by canonical
// name, with the protocol that produces them and their side.
var buffers = map[string]struct {
	app  applayer.Proto
	side bufSide
}{
	"http.uri": {applayer.ProtoHTTP, sideRequest}, "http.uri.raw": {applayer.ProtoHTTP, sideRequest},
	"http.method": {applayer.ProtoHTTP, sideRequest}, "http.request_line": {applayer.ProtoHTTP, sideRequest},
	"http.host": {applayer.ProtoHTTP, sideRequest}, "http.host.raw": {applayer.ProtoHTTP, sideRequest},
	"http.user_agent": {applayer.ProtoHTTP, sideRequest}, "http.referer": {applayer.ProtoHTTP, sideRequest},
	"http.request_body": {applayer.ProtoHTTP, sideRequest}, "http.accept": {applayer.ProtoHTTP, sideRequest},
	"http.accept_enc": {applayer.ProtoHTTP, sideRequest}, "http.accept_lang": {applayer.ProtoHTTP, sideRequest},
	"http.request_header": {applayer.ProtoHTTP, sideRequest},
	"http.stat_code":      {applayer.ProtoHTTP, sideResponse}, "http.stat_msg": {applayer.ProtoHTTP, sideResponse},
	"http.response_line": {applayer.ProtoHTTP, sideResponse}, "http.response_body": {applayer.ProtoHTTP, sideResponse},
	"http.server": {applayer.ProtoHTTP, sideResponse}, "http.location": {applayer.ProtoHTTP, sideResponse},
	"http.response_header": {applayer.ProtoHTTP, sideResponse},
	"http.header":          {applayer.ProtoHTTP, sideBoth}, "http.header.raw": {applayer.ProtoHTTP, sideBoth},
	"http.cookie": {applayer.ProtoHTTP, sideBoth}, "http.content_type": {applayer.ProtoHTTP, sideBoth},
	"http.content_len": {applayer.ProtoHTTP, sideBoth}, "http.start": {applayer.ProtoHTTP, sideBoth},
	"http.protocol": {applayer.ProtoHTTP, sideBoth}, "http.header_names": {applayer.ProtoHTTP, sideBoth},
	"http.connection": {applayer.ProtoHTTP, sideBoth},
	"file.data":       {applayer.ProtoUnknown, sideBoth}, // HTTP bodies; the header decides the protocol

	"dns.query": {applayer.ProtoDNS, sideRequest}, "dns.query.name": {applayer.ProtoDNS, sideRequest},
	"dns.answer.name": {applayer.ProtoDNS, sideResponse}, "dns.response.name": {applayer.ProtoDNS, sideResponse},

	"tls.sni": {applayer.ProtoTLS, sideRequest}, "ja3.hash": {applayer.ProtoTLS, sideRequest},
	"ja3.string": {applayer.ProtoTLS, sideRequest}, "ja4.hash": {applayer.ProtoTLS, sideRequest},
	"tls.alpn":           {applayer.ProtoTLS, sideBoth}, // the client's offers to server, the server's choice to client
	"tls.subjectaltname": {applayer.ProtoTLS, sideResponse},
	"tls.cert_subject":   {applayer.ProtoTLS, sideResponse}, "tls.cert_issuer": {applayer.ProtoTLS, sideResponse},
	"tls.cert_serial": {applayer.ProtoTLS, sideResponse}, "tls.cert_fingerprint": {applayer.ProtoTLS, sideResponse},
	"tls.certs": {applayer.ProtoTLS, sideResponse}, "ja3s.hash": {applayer.ProtoTLS, sideResponse},
	"ja3s.string": {applayer.ProtoTLS, sideResponse},
}

// CompilePCRE is the rule loader's hook (rules.LoadOptions.CompilePCRE):
// a pcre that does not compile refuses its rule at load time, naming the
// pattern, and the compiled regex is kept for the engine.
func CompilePCRE(p *rules.PCRE) error {
	kw, err := pcre.ParseSuricata(`"/` + p.Pattern + `/` + p.Flags + `"`)
	if err != nil {
		return err
	}
	re, err := pcre.Compile(kw.Expr, kw.Flags, pcre.Options{})
	if err != nil {
		return err
	}
	p.Compiled = re
	return nil
}

// compileSig turns one rule into a signature. An error refuses the rule;
// a Sig with inactive set loads but is never evaluated.
func (c *compiler) compileSig(r *rules.Rule) (*Sig, *compileError) {
	s := &Sig{Rule: c.metaOf(r), rule: r, fp: -1, bidir: r.Dir == rules.DirBoth}
	var unparsed bool
	s.l4, s.app, unparsed = headerProto(r.Protocol)
	if unparsed {
		s.inactive = "app-layer protocol " + r.Protocol + " is not parsed by polder"
	}
	s.Severity = 3
	if r.Classtype != "" {
		if cl, ok := c.opts.Classifications[r.Classtype]; ok {
			s.Category = cl.Description
			if cl.Priority > 0 {
				s.Severity = cl.Priority
			}
		}
	}
	if r.Priority > 0 {
		s.Severity = r.Priority
	}

	var err error
	if s.src, err = c.addr(r.Src); err != nil {
		return nil, refuse("", r.Pos, "source address: %v", err)
	}
	if s.dst, err = c.addr(r.Dst); err != nil {
		return nil, refuse("", r.Pos, "destination address: %v", err)
	}
	if s.sp, err = c.port(r.SrcPort); err != nil {
		return nil, refuse("", r.Pos, "source port: %v", err)
	}
	if s.dp, err = c.port(r.DstPort); err != nil {
		return nil, refuse("", r.Pos, "destination port: %v", err)
	}

	if f := r.Flow; f != nil {
		s.established, s.notEstablished = f.Established, f.NotEstablished
		s.toServer, s.toClient = f.ToServer, f.ToClient
	}
	if e := c.compileConds(s); e != nil {
		return nil, e
	}
	if e := c.compileBufs(s); e != nil {
		return nil, e
	}
	if e := c.compileBits(s); e != nil {
		return nil, e
	}
	s.noalert = s.noalert || r.Noalert
	s.bypass = r.Bypass
	s.thr = threshold.Sig{GID: r.GID, SID: r.SID, Threshold: r.Threshold, DetectionFilter: r.DetectionFilter}
	if e := s.classify(); e != nil {
		return nil, e
	}
	s.pickFastPattern()
	s.actsOnFlow = s.flowScoped(r)
	s.slim()
	return s, nil
}

// slim drops what only compiling needed: the rule's options, match lists
// and raw text (most of a loaded ruleset's memory).
func (s *Sig) slim() {
	s.rule = nil
	for i := range s.bufs {
		s.bufs[i].src = nil
	}
	if s.fpBytes != nil {
		s.fpBytes = bytes.Clone(s.fpBytes)
	}
}

// metaOf copies what a signature keeps of r, so that it does not pin the
// rule's text; repeated strings (metadata keys and values, classtypes)
// are shared.
func (c *compiler) metaOf(r *rules.Rule) *RuleMeta {
	k := &RuleMeta{
		File: r.File, Pos: r.Pos, Action: r.Action, Protocol: c.str(r.Protocol), Dir: r.Dir,
		Msg: strings.Clone(r.Msg), SID: r.SID, Rev: r.Rev, GID: r.GID,
		Classtype: c.str(r.Classtype), Priority: r.Priority, Target: c.str(r.Target),
		Noalert: r.Noalert, Bypass: r.Bypass,
	}
	if len(r.Metadata) > 0 {
		k.Metadata = make([]rules.Metadata, len(r.Metadata))
		for i, m := range r.Metadata {
			k.Metadata[i] = rules.Metadata{Key: c.str(m.Key), Value: c.str(m.Value)}
		}
	}
	if len(r.References) > 0 {
		k.References = make([]rules.Reference, len(r.References))
		for i, ref := range r.References {
			k.References[i] = rules.Reference{System: c.str(ref.System), ID: strings.Clone(ref.ID)}
		}
	}
	return k
}

func (c *compiler) addr(a rules.Address) (*ipset.Set, error) {
	k := a.String()
	if s, ok := c.addrs[k]; ok {
		return s, nil
	}
	s, err := ipset.CompileAddress(a, c.opts.Vars)
	if err != nil {
		return nil, err
	}
	c.addrs[k] = s
	return s, nil
}

func (c *compiler) port(p rules.Port) (*ipset.PortSet, error) {
	k := p.String()
	if s, ok := c.ports[k]; ok {
		return s, nil
	}
	s, err := ipset.CompilePort(p, c.opts.Vars)
	if err != nil {
		return nil, err
	}
	c.ports[k] = s
	return s, nil
}

// compileBufs compiles every buffer's match list. Legacy urilen becomes a
// bsize on the URI buffer it measures.
func (c *compiler) compileBufs(s *Sig) *compileError {
	r := s.rule
	vm := inspect.NewVarMap()
	bufs := r.Buffers
	for _, m := range r.Packet {
		if cm, ok := m.(*rules.Compare); ok && cm.Name == "urilen" {
			name := "http.uri"
			if cm.Arg == "raw" {
				name = "http.uri.raw"
			}
			b := &rules.Buffer{Name: name, Pos: cm.Pos, Matches: []rules.Match{
				&rules.Compare{Pos: cm.Pos, Name: "bsize", Op: cm.Op, A: cm.A, B: cm.B},
			}}
			bufs = append(bufs[:len(bufs):len(bufs)], b)
		}
	}
	for _, b := range bufs {
		if b.Name != "pkt_data" && b.Name != "base64_data" {
			info, ok := buffers[b.Name]
			if !ok {
				if s.inactive == "" {
					s.inactive = "buffer " + b.Name + " is not produced by polder's parsers"
				}
			} else if info.app != applayer.ProtoUnknown {
				if s.app == applayer.ProtoUnknown {
					s.app = info.app
					if s.l4 == 0 && info.app != applayer.ProtoDNS {
						s.l4 = decode.IPProtoTCP
					}
				} else if s.app != info.app && s.inactive == "" {
					return refuse(b.Name, b.Pos, "buffer %s does not belong to protocol %s", b.Name, r.Protocol)
				}
			}
		}
		prog, err := inspect.Compile(b, vm, c.opts.inspect())
		if err != nil {
			return refuse(b.Name, b.Pos, "%v", err)
		}
		s.bufs = append(s.bufs, sigBuf{name: b.Name, prog: prog, src: b})
	}
	return nil
}

// classify decides where the signature is inspected.
func (s *Sig) classify() *compileError {
	r := s.rule
	hasPkt, hasTx := false, false
	for _, b := range s.bufs {
		switch b.name {
		case "pkt_data", "base64_data":
			hasPkt = true
		default:
			hasTx = true
		}
	}
	for i := range s.conds {
		if c := &s.conds[i]; c.txOnly() {
			hasTx = true
			if s.app == applayer.ProtoUnknown {
				s.app = applayer.ProtoTLS
				if c.op == condDNSRRType {
					s.app = applayer.ProtoDNS
				}
			}
		}
	}
	forcePacket := r.Protocol == "tcp-pkt" || r.Protocol == "udp-pkt" || (r.Flow != nil && r.Flow.NoStream)
	for _, c := range s.conds {
		if c.op == condDsize || c.op == condFlags || c.op == condSeq || c.op == condAck || c.op == condWindow {
			forcePacket = true
		}
	}
	switch {
	case hasTx:
		// Contents on pkt_data (written before any sticky buffer in an
		// app-layer rule) match the payload of the packet the transaction
		// is inspected on, as in Suricata.
		if s.app == applayer.ProtoUnknown {
			// file.data alone on a tcp rule: HTTP bodies.
			s.app = applayer.ProtoHTTP
			s.l4 = decode.IPProtoTCP
		}
		if s.app != applayer.ProtoHTTP && s.app != applayer.ProtoDNS && s.app != applayer.ProtoTLS && s.inactive == "" {
			s.inactive = "no transaction buffers for " + s.app.String()
		}
		s.kind = kindTx
		s.dirs = s.txDirs()
	case !hasPkt && len(s.conds) == 0 && r.Flow == nil && s.sp.Any() && s.dp.Any() &&
		len(s.bitChecks) == 0 && len(s.intOps) == 0 && s.app == applayer.ProtoUnknown && r.Protocol != "tcp-stream":
		s.kind = kindIPOnly
	case hasPkt && !forcePacket && (s.l4 == decode.IPProtoTCP || (r.Flow != nil && r.Flow.OnlyStream)):
		s.kind = kindStream
	default:
		s.kind = kindPacket
	}
	return nil
}

// txDirs returns the directions a transaction signature is evaluated in:
// the flow keyword's, else the side of its one-sided buffers, else both.
func (s *Sig) txDirs() []flow.Direction {
	switch {
	case s.toServer:
		return dirServer
	case s.toClient:
		return dirClient
	}
	req, resp := false, false
	for i := range s.conds {
		switch s.conds[i].op {
		case condTLSSubject, condTLSIssuer, condTLSFingerprint:
			resp = true // certificate fields travel to the client
		}
	}
	for _, b := range s.bufs {
		switch buffers[b.name].side {
		case sideRequest:
			req = true
		case sideResponse:
			resp = true
		}
	}
	switch {
	case resp:
		return dirClient
	case req:
		return dirServer
	}
	return dirBoth
}

var (
	dirServer = []flow.Direction{flow.ToServer}
	dirClient = []flow.Direction{flow.ToClient}
	dirBoth   = []flow.Direction{flow.ToServer, flow.ToClient}
)

// pickFastPattern chooses the content the prefilter looks for: the one
// marked fast_pattern, else the longest positive content (the rarest, as a
// rule of thumb), preferring transaction buffers over pkt_data; of it, the
// fast_pattern:chop piece or the first maxFastPattern bytes.
func (s *Sig) pickFastPattern() {
	best, bestLen := -1, 0
	var bestC *rules.Content
	for i, b := range s.bufs {
		if b.name == "base64_data" {
			continue
		}
		if b.prog.HasTransforms() && s.kind != kindTx {
			continue
		}
		if b.name == "pkt_data" && s.kind == kindTx {
			continue // not a transaction buffer: nothing to prefilter it with
		}
		for _, m := range b.src.Matches {
			c, ok := m.(*rules.Content)
			if !ok || c.Negated || len(c.Pattern) == 0 {
				continue
			}
			n := len(c.Pattern)
			if c.FastPattern {
				n = 1 << 30
			}
			if n > bestLen {
				best, bestLen, bestC = i, n, c
			}
		}
	}
	if best < 0 {
		return
	}
	s.fp = best
	p := bestC.Pattern
	if bestC.FastPatternChop && bestC.ChopOffset+bestC.ChopLen <= len(p) && bestC.ChopLen > 0 {
		p = p[bestC.ChopOffset : bestC.ChopOffset+bestC.ChopLen]
	}
	// A piece of the content is enough to select candidates (exact
	// evaluation checks all of it); a bounded pattern length bounds how
	// much of a stream chunk's past Thread.Stream rescans.
	s.fpBytes = p[:min(len(p), maxFastPattern)]
	s.fpNocase = bestC.Nocase
}

// maxFastPattern is the longest fast pattern the prefilters look for.
const maxFastPattern = 32

// protoFits reports whether the signature's IP protocol fits a packet's.
func (s *Sig) protoFits(ipProto uint8) bool {
	if s.l4 == 0 {
		return true
	}
	return s.l4 == ipProto
}

// String is for debugging and errors: "sid:N (kind)".
func (s *Sig) String() string {
	return fmt.Sprintf("%d:%d (%s)", s.Rule.GID, s.Rule.SID, s.kind)
}
