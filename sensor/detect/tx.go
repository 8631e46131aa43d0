package detect

import (
	"bytes"
	"slices"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/detect/inspect"
	"github.com/polder-nsm/polder/sensor/flow"
)

// txSource is the transaction being inspected: exactly one field is set.
type txSource struct {
	http *http.Transaction
	dns  *dns.Message
	tls  *tls.Session
}

func (c *txSource) fill(a *Alert) {
	switch {
	case c.http != nil:
		a.HTTP, a.HasTx, a.TxID = c.http, true, c.http.ID
	case c.dns != nil:
		a.DNS, a.HasTx, a.TxID = c.dns, true, c.dns.TxID
	case c.tls != nil:
		a.TLS, a.HasTx = c.tls, true
	}
}

// HTTPRequest inspects the request side of a transaction as soon as the
// request is complete.
func (t *Thread) HTTPRequest(in *Input, tx *http.Transaction) {
	if in.State != nil {
		in.State.httpReqs = max(in.State.httpReqs, tx.ID+1)
	}
	t.txInspect(in, applayer.ProtoHTTP, txSource{http: tx}, dirServer)
}

// HTTP inspects a finished transaction: the request side unless
// HTTPRequest did already, and the response side when there is one.
func (t *Thread) HTTP(in *Input, tx *http.Transaction) {
	reqDone := in.State != nil && tx.ID < in.State.httpReqs
	resp := tx.Status != 0 || len(tx.ResponseLine) > 0
	req := !reqDone && (len(tx.Method) > 0 || len(tx.RequestLine) > 0)
	var dirs []flow.Direction
	switch {
	case req && resp:
		dirs = dirBoth
	case req:
		dirs = dirServer
	case resp:
		dirs = dirClient
	default:
		t.alerts = t.alerts[:0]
		return
	}
	t.txInspect(in, applayer.ProtoHTTP, txSource{http: tx}, dirs)
}

// DNS inspects one DNS message: a query in the to-server direction, a
// response in the to-client one.
func (t *Thread) DNS(in *Input, m *dns.Message) {
	dirs := dirServer
	if m.Response() {
		dirs = dirClient
	}
	t.txInspect(in, applayer.ProtoDNS, txSource{dns: m}, dirs)
}

// TLS inspects a handshake: the client side (SNI, JA3/JA4) and the server
// side (certificate, JA3S) as far as they were seen.
func (t *Thread) TLS(in *Input, s *tls.Session) {
	var dirs []flow.Direction
	switch {
	case s.HasClientHello && s.HasServerHello:
		dirs = dirBoth
	case s.HasClientHello:
		dirs = dirServer
	case s.HasServerHello:
		dirs = dirClient
	default:
		return
	}
	t.txInspect(in, applayer.ProtoTLS, txSource{tls: s}, dirs)
}

// TxLogDisabled reports whether a signature with config:logging disable,
// type tx, scope tx matched the transaction of the last HTTPRequest, HTTP,
// DNS or TLS call: the caller then does not log that transaction, as
// Suricata's conditional logging.
func (t *Thread) TxLogDisabled() bool { return t.txLogOff }

func (t *Thread) txInspect(in *Input, app applayer.Proto, src txSource, dirs []flow.Direction) {
	t.alerts = t.alerts[:0]
	t.txLogOff = false
	if in.State != nil && in.State.passed || bypassed(in) {
		return
	}
	e := t.eng
	t.cur = src
	defer func() { t.cur = txSource{} }()
	t.headerBuf = t.headerBuf[:0]
	t.txEpoch++
	if t.txEpoch == 0 {
		clear(t.viewEpoch)
		t.txEpoch = 1
	}
	for _, d := range dirs {
		tg := e.tx[app][d]
		if tg == nil {
			continue
		}
		t.Counters.Inspections++
		t.newEpoch()
		t.hits = t.hits[:0]
		for _, sc := range tg.scans {
			for _, b := range t.view(sc.view) {
				if len(b) > 0 {
					t.hits = sc.mpm.Scan(t.scratch[sc.slot], b, t.hits)
				}
			}
		}
		t.hits = append(t.hits, tg.always...)
		ids := t.dedupe(t.hits)
		t.hits = ids
		din := *in
		din.Dir = d
		srcA, dstA, sp, dp := flowAddrs(&din)
		for _, id := range ids {
			t.Counters.Candidates++
			if !e.hulls[id].may(sp, dp) {
				continue
			}
			s := e.sigs[id]
			if !t.matchTxSig(s, &din, d) {
				continue
			}
			if t.matched(s, &din, srcA, dstA, sp, dp, nil, false) {
				return
			}
		}
	}
}

func (t *Thread) matchTxSig(s *Sig, in *Input, d flow.Direction) bool {
	if !s.matchFlow(in) {
		return false
	}
	src, dst, sp, dp := flowAddrs(in)
	if !s.matchHeader(src, dst, sp, dp) {
		return false
	}
	if len(s.conds) > 0 && (!s.packetConds(nil, in.App, in.State, 0) || !s.txConds(&t.cur)) {
		return false
	}
	if !t.sh.checkBits(s, in.State, src, dst, in.Now) {
		return false
	}
	t.vars = inspect.Vars{}
	for i := range s.bufs {
		b := &s.bufs[i]
		switch b.name {
		case "base64_data":
			if !b.prog.Match(t.insp, &t.vars, t.insp.Base64Data()) {
				return false
			}
			continue
		case "pkt_data":
			var data []byte
			if in.Packet != nil {
				data = in.Packet.Payload
			}
			if b.prog.HasTransforms() {
				data = b.prog.Transform(t.insp, data)
			}
			if !b.prog.Match(t.insp, &t.vars, data) {
				return false
			}
			continue
		}
		ok := false
		for _, data := range t.view(b.viewDir[d]) {
			if b.prog.Match(t.insp, &t.vars, data) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// txConds evaluates the conditions that read the transaction.
func (s *Sig) txConds(src *txSource) bool {
	for i := range s.conds {
		c := &s.conds[i]
		switch c.op {
		case condTLSVersion:
			if src.tls == nil || uint64(src.tls.Version) != c.a {
				return false
			}
		case condTLSSubject, condTLSIssuer, condTLSFingerprint:
			if src.tls == nil {
				return false
			}
			var ok bool
			switch c.op {
			case condTLSSubject:
				ok = len(src.tls.Subject) > 0 && bytes.Contains(src.tls.Subject, c.str)
			case condTLSIssuer:
				ok = len(src.tls.Issuer) > 0 && bytes.Contains(src.tls.Issuer, c.str)
			default:
				ok = len(src.tls.Fingerprint) > 0 && bytes.EqualFold(src.tls.Fingerprint, c.str)
			}
			if ok == c.neg {
				return false
			}
		case condDNSRRType:
			if src.dns == nil {
				return false
			}
			ok := false
			for _, q := range src.dns.Questions {
				if c.cmp.Match(uint64(q.Type), c.a, c.b) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// view returns the instances of view vi for the current transaction,
// fetched (and transformed) once per transaction.
func (t *Thread) view(vi int) [][]byte {
	if t.viewEpoch[vi] == t.txEpoch {
		return t.viewData[vi]
	}
	t.viewEpoch[vi] = t.txEpoch
	v := &t.eng.views[vi]
	out := t.fetch(v, t.viewData[vi][:0])
	if v.xform != nil {
		own := t.viewOwn[vi]
		for i, b := range out {
			x := v.xform.Transform(t.insp, b)
			if i < len(own) {
				own[i] = append(own[i][:0], x...)
			} else {
				own = append(own, append([]byte(nil), x...))
			}
			out[i] = own[i]
		}
		t.viewOwn[vi] = own
	}
	t.viewData[vi] = out
	return out
}

// fetch appends the raw instances of a view from the current transaction.
func (t *Thread) fetch(v *view, out [][]byte) [][]byte {
	c := &t.cur
	switch {
	case c.http != nil:
		switch v.name {
		case "http.request_header", "http.response_header":
			hs := c.http.RequestHeaders
			if v.name == "http.response_header" {
				hs = c.http.ResponseHeaders
			}
			own := t.headerBuf
			for _, h := range hs {
				start := len(own)
				own = append(append(append(own, h.Name...), ": "...), h.Value...)
				out = append(out, own[start:len(own):len(own)])
			}
			t.headerBuf = own
			return out
		}
		var b []byte
		if b, t.headerBuf = httpBuffer(c.http, v.name, v.side, t.headerBuf); b != nil {
			out = append(out, b)
		}
	case c.dns != nil:
		out = dnsBuffer(c.dns, v.name, out)
	case c.tls != nil:
		switch v.name {
		case "tls.certs":
			return append(out, c.tls.CertDER...)
		case "tls.alpn":
			if v.side == flow.ToClient {
				if len(c.tls.ALPNServer) == 0 {
					return out
				}
				return append(out, c.tls.ALPNServer)
			}
			return append(out, c.tls.ALPNClient...)
		case "tls.subjectaltname":
			return append(out, c.tls.SANs...)
		}
		if b := c.tls.Buffer(v.name); b != nil {
			out = append(out, b)
		}
	}
	return out
}

// httpBuffer returns an HTTP buffer, including those the parser does not
// compose itself; those it composes are appended to own, returned
// extended, so that the Thread reuses their memory.
func httpBuffer(tx *http.Transaction, name string, side flow.Direction, own []byte) ([]byte, []byte) {
	if name == "http.header_names" {
		hs := tx.RequestHeaders
		if side == flow.ToClient {
			hs = tx.ResponseHeaders
		}
		if len(hs) == 0 {
			return nil, own
		}
		start := len(own)
		own = append(own, "\r\n"...)
		for _, h := range hs {
			own = append(append(own, h.Name...), "\r\n"...)
		}
		own = append(own, "\r\n"...)
		return own[start:len(own):len(own)], own
	}
	switch name {
	case "http.header", "http.start", "http.stat_code":
		return tx.AppendBufferDir(own, name, side)
	}
	return httpField(tx, name, side), own
}

// httpField returns an HTTP buffer that needs no composing here.
func httpField(tx *http.Transaction, name string, side flow.Direction) []byte {
	hs := tx.RequestHeaders
	if side == flow.ToClient {
		hs = tx.ResponseHeaders
	}
	switch name {
	case "file.data":
		if side == flow.ToServer {
			return nilIfEmpty(tx.RequestBody)
		}
		return nilIfEmpty(tx.ResponseBody)
	case "http.accept":
		return header(hs, "accept")
	case "http.accept_enc":
		return header(hs, "accept-encoding")
	case "http.accept_lang":
		return header(hs, "accept-language")
	case "http.connection":
		return header(hs, "connection")
	case "http.content_len":
		return header(hs, "content-length")
	case "http.server":
		return header(tx.ResponseHeaders, "server")
	case "http.location":
		return header(tx.ResponseHeaders, "location")
	case "http.request_header", "http.response_header":
		return nil // multi-instance "name: value" buffers: not composed here
	case "http.cookie":
		if side == flow.ToClient {
			return header(hs, "set-cookie")
		}
	}
	return tx.BufferDir(name, side)
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// header returns the value of the first header named name (lower case).
func header(hs []http.Header, name string) []byte {
	for i := range hs {
		if len(hs[i].Name) == len(name) && bytes.EqualFold(hs[i].Name, []byte(name)) {
			return hs[i].Value
		}
	}
	return nil
}

// dnsBuffer appends a DNS buffer's instances: one per question name for
// dns.query, one per record name of the response for dns.answer.name.
func dnsBuffer(m *dns.Message, name string, out [][]byte) [][]byte {
	switch name {
	case "dns.query", "dns.query.name":
		if m.Response() && name == "dns.query" {
			return out
		}
		for i := range m.Questions {
			out = append(out, m.Questions[i].Name)
		}
	case "dns.answer.name", "dns.response.name":
		for i := range m.Answers {
			if !slices.ContainsFunc(out, func(b []byte) bool { return bytes.Equal(b, m.Answers[i].Name) }) {
				out = append(out, m.Answers[i].Name)
			}
		}
	}
	return out
}
