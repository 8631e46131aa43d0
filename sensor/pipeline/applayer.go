package pipeline

import (
	"slices"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/ssh"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// streamHandler receives reassembled TCP data for the flow being processed.
// It lives in the worker and is re-aimed at each packet's flow, so handing
// it to the reassembler does not allocate.
type streamHandler struct {
	w  *worker
	fl *flow.Flow
	st *flowState
	// dir and n are the stream direction and length of the chunk (or gap)
	// being handed over, for requestEnd.
	dir flow.Direction
	n   int
}

// appDir maps a stream direction to the app layer's: while a swap is pending
// (detected inside this Process call) the flow's orientation is still the
// old one.
func (h *streamHandler) appDir(dir flow.Direction) flow.Direction {
	if h.st.swap {
		return dir.Reverse()
	}
	return dir
}

// Data implements stream.Handler: the app layer sees the chunk first, then
// the rule engine, as in Suricata (a chunk that reveals the protocol is
// inspected as that protocol).
func (h *streamHandler) Data(dir flow.Direction, b []byte) {
	h.dir, h.n = dir, len(b)
	h.appData(dir, b)
	if w := h.w; w.det != nil && !h.st.byp.noInsp {
		w.detectStream(h.fl, h.st, h.appDir(dir), h.st.swap, b)
	}
}

func (h *streamHandler) appData(dir flow.Direction, b []byte) {
	st := h.st
	if st.proto == applayer.ProtoUnknown {
		data := b
		if len(st.detect[dir]) > 0 {
			if h.startsMessage(dir, b) {
				// The undecided bytes were another protocol's (a
				// STARTTLS command line); a clear opening starts over.
				st.detect[dir] = st.detect[dir][:0]
			} else {
				st.detect[dir] = append(st.detect[dir], b...)
				data = st.detect[dir]
			}
		}
		switch h.detect(dir, data) {
		case detectMore:
			if len(st.detect[dir]) == 0 {
				st.detect[dir] = append(st.detect[dir], b...)
			}
			return
		case detectNo:
			st.detect[dir] = st.detect[dir][:0]
			return
		}
		// Known now: replay what the other side buffered (it arrived
		// earlier), then this side.
		if o := dir.Reverse(); len(st.detect[o]) > 0 {
			h.feed(o, st.detect[o])
			st.detect[o] = st.detect[o][:0]
		}
		h.feed(dir, data)
		st.detect[dir] = st.detect[dir][:0]
		return
	}
	if (st.proto == applayer.ProtoFailed || st.proto == applayer.ProtoHTTP) && h.changeProto(dir, b) {
		return
	}
	if st.proto == applayer.ProtoFailed || st.proto == applayer.ProtoSSH && st.ssh == nil {
		return
	}
	h.feed(dir, b)
}

// ports returns the flow's ports as seen by data travelling in dir.
func (h *streamHandler) ports(dir flow.Direction) (src, dst uint16) {
	k := &h.fl.Key
	if dir == flow.ToClient {
		return k.DstPort, k.SrcPort
	}
	return k.SrcPort, k.DstPort
}

// startsMessage reports whether b alone is recognised as the start of a
// protocol message, without touching any state.
func (h *streamHandler) startsMessage(dir flow.Direction, b []byte) bool {
	sp, dp := h.ports(dir)
	p, _, final := applayer.Detect(decode.IPProtoTCP, dir, b, sp, dp)
	return final && p != applayer.ProtoUnknown && p != applayer.ProtoFailed
}

// changeProto detects a protocol change at the start of a chunk: TLS after
// STARTTLS/STLS/AUTH TLS in a protocol we do not parse (SMTP, POP3, IMAP,
// FTP), TLS inside an HTTP CONNECT tunnel, HTTP or TLS after a SOCKS
// handshake. Only unambiguous client openings count: a TLS ClientHello
// record, or an HTTP request line (not for flows already HTTP). It reports
// whether the chunk went to a new parser.
func (h *streamHandler) changeProto(dir flow.Direction, b []byte) bool {
	st := h.st
	if len(b) < 6 {
		return false
	}
	if st.proto == applayer.ProtoHTTP {
		// A tunnel opens from the client; responses and bodies are not
		// looked at, which keeps this off the bulk-download path.
		if h.appDir(dir) != flow.ToServer || b[0] != 0x16 {
			return false
		}
	} else if b[0] != 0x16 && (b[0] < 'A' || b[0] > 'Z') {
		return false
	}
	sp, dp := h.ports(dir)
	proto, fromClient, final := applayer.Detect(decode.IPProtoTCP, dir, b, sp, dp)
	if !final || !fromClient {
		return false
	}
	switch {
	case proto == applayer.ProtoTLS:
	case proto == applayer.ProtoHTTP && st.proto == applayer.ProtoFailed:
	default:
		return false
	}
	if st.proto == applayer.ProtoHTTP {
		st.http.Close(h.w.now, h.w.emitHTTP)
		st.http = nil
	}
	if dir == flow.ToClient && st.proto == applayer.ProtoFailed {
		st.swap = true // the side that opens the tunnel is the client
	}
	st.proto = proto
	h.fl.AppProto = uint8(proto)
	h.w.counters.appFlow[proto]++
	switch proto {
	case applayer.ProtoTLS:
		st.tls = tls.NewParser()
		st.txCnt = 1 // the TLS state is its own single transaction (Suricata's SSLGetTxCnt)
	case applayer.ProtoHTTP:
		st.http = http.NewParser(&h.w.httpOpts)
	}
	h.feed(dir, b)
	return true
}

// Gap implements stream.Handler.
func (h *streamHandler) Gap(dir flow.Direction, n uint32) {
	h.dir, h.n = dir, int(n)
	st, w := h.st, h.w
	st.gaps[dir] = true
	ad := h.appDir(dir)
	switch st.proto {
	case applayer.ProtoUnknown:
		st.detect[dir] = st.detect[dir][:0] // bytes before a gap cannot start a message
	case applayer.ProtoHTTP:
		st.http.Gap(ad, n, w.now, w.emitHTTP)
	case applayer.ProtoTLS:
		st.tls.Gap(ad, int(n))
	case applayer.ProtoDNS:
		st.dnsTCP.Gap(ad, int(n))
	case applayer.ProtoSSH:
		if st.ssh != nil {
			st.ssh.Gap(ad, int(n))
		}
	}
}

type detectResult uint8

const (
	detectMore detectResult = iota // undecided: buffer and wait for more bytes
	detectNo                       // this direction is not a protocol we parse
	detectYes                      // st.proto is set and its parser exists
)

// detect runs content-based protocol detection on the first bytes of a
// direction (data holds everything seen so far in it).
func (h *streamHandler) detect(dir flow.Direction, data []byte) detectResult {
	st := h.st
	sp, dp := h.ports(dir)
	proto, fromClient, final := applayer.Detect(decode.IPProtoTCP, dir, data, sp, dp)
	switch proto {
	case applayer.ProtoHTTP, applayer.ProtoTLS, applayer.ProtoDNS, applayer.ProtoSSH:
	default:
		if !final && len(data) < detectLimit {
			return detectMore
		}
		st.detected[dir] = true
		if st.detected[dir.Reverse()] {
			// Both sides spoke and neither is a protocol we know.
			h.setProto(applayer.ProtoFailed)
		}
		return detectNo
	}
	if (dir == flow.ToServer) != fromClient {
		// The side we took for the client is the server: we picked the
		// session up mid-stream or see one direction only.
		st.swap = true
	}
	h.setProto(proto)
	switch proto {
	case applayer.ProtoHTTP:
		st.http = http.NewParser(&h.w.httpOpts)
	case applayer.ProtoTLS:
		st.tls = tls.NewParser()
		st.txCnt = 1 // the TLS state is its own single transaction (Suricata's SSLGetTxCnt)
	case applayer.ProtoDNS:
		st.dnsTCP = new(dns.StreamParser)
	case applayer.ProtoSSH:
		if !h.w.cfg.NoSSH {
			st.ssh = ssh.NewParser()
		}
	}
	return detectYes
}

func (h *streamHandler) setProto(p applayer.Proto) {
	h.st.proto = p
	h.fl.AppProto = uint8(p)
	h.w.counters.appFlow[p]++
}

// feed hands stream bytes to the flow's parser.
func (h *streamHandler) feed(dir flow.Direction, b []byte) {
	st, w := h.st, h.w
	ad := h.appDir(dir)
	switch st.proto {
	case applayer.ProtoHTTP:
		st.http.Parse(ad, b, w.now, w.emitHTTP)
	case applayer.ProtoTLS:
		st.tls.Parse(ad, b, w.now)
		if !st.tlsLog && st.tls.Done() {
			st.tlsLog = true
			w.logTLS(h.fl, st.tls.Session())
		}
		if st.tls.Session().AppData && !h.fl.HasFlag(flow.FlagEncrypted) {
			w.encrypted(h.fl, st, w.byp.run.tls)
		}
	case applayer.ProtoDNS:
		st.dnsTCP.Parse(ad, b, w.now, w.emitDNS)
	case applayer.ProtoSSH:
		if st.ssh.Finished() {
			return // both sides encrypted, or given up
		}
		logged := st.ssh.Done() // the event is written when both banners are in
		st.ssh.Parse(ad, b, w.now)
		if !logged && st.ssh.Done() {
			w.out.ssh(w, h.fl, st.ssh.Session())
		}
		if st.ssh.Session().Encrypted && !h.fl.HasFlag(flow.FlagEncrypted) {
			w.encrypted(h.fl, st, w.byp.run.ssh)
		}
	}
}

// encrypted applies the encryption handling of a session that just turned
// encrypted (Suricata 8's app-layer.protocols.{tls,ssh}.encryption-handling):
// track-only stops content inspection, bypass also bypasses the flow, full
// changes nothing.
func (w *worker) encrypted(fl *flow.Flow, st *flowState, eh encHandling) {
	fl.SetFlag(flow.FlagEncrypted)
	switch eh {
	case encTrackOnly:
		st.byp.noInsp = true
	case encBypass:
		st.byp.noInsp = true
		fl.SetFlag(flow.FlagWantBypass)
	}
}

// udp handles one UDP datagram: DNS is detected per datagram by content.
func (w *worker) udp(fl *flow.Flow, st *flowState, dir flow.Direction, p *decode.Packet) {
	if st.proto == applayer.ProtoUnknown {
		if !w.dnsUDPPort(p.SrcPort, p.DstPort) {
			return
		}
		proto, fromClient, _ := applayer.Detect(decode.IPProtoUDP, dir, p.Payload, p.SrcPort, p.DstPort)
		if proto != applayer.ProtoDNS {
			return // keep trying on later datagrams: the first may be junk
		}
		st.proto = proto
		fl.AppProto = uint8(proto)
		w.counters.dnsUDPFlows++
		if (dir == flow.ToServer) != fromClient {
			fl.Swap()
			st.ttl.swap()
			dir = dir.Reverse()
		}
	}
	if st.proto != applayer.ProtoDNS {
		return
	}
	m := &w.dnsMsg
	if err := dns.Parse(p.Payload, m); err != nil && len(m.Questions) == 0 && len(m.Answers) == 0 {
		w.counters.dnsParseErrors++
		return
	}
	w.counters.txDNSUDP++
	m.Timestamp = w.now
	m.TxID = st.dnsTx
	st.dnsTx++
	if w.det != nil && w.detectDNS(fl, st, m) {
		w.countTx(fl) // logging disabled by a rule: still a transaction
		return
	}
	w.out.dns(w, fl, m)
}

// closeApp flushes the parsers of a flow that is ending.
func (w *worker) closeApp(fl *flow.Flow, st *flowState) {
	switch st.proto {
	case applayer.ProtoHTTP:
		st.http.Close(w.now, w.emitHTTP)
	case applayer.ProtoTLS:
		if !st.tlsLog {
			s := st.tls.Session()
			if s.HasClientHello || s.HasServerHello {
				st.tlsLog = true
				w.logTLS(fl, s)
			}
		}
	case applayer.ProtoSSH:
		// One banner only: not logged yet (Done logs both).
		if st.ssh != nil && !st.ssh.Done() {
			if s := st.ssh.Session(); s.Client.HasBanner || s.Server.HasBanner {
				w.out.ssh(w, fl, s)
			}
		}
	}
}

// requestQueue holds a flow's complete HTTP requests waiting for their
// inspection, oldest first: at most the parser's pending transactions,
// since a transaction leaves the queue when it is logged.
type requestQueue struct {
	reqs []pendingRequest
}

// pendingRequest is a complete HTTP request waiting for its inspection:
// end is the stream position (stream.Session.Delivered) just past the
// bytes that completed it.
type pendingRequest struct {
	tx  *http.Transaction
	end uint64
}

// pending reports whether st has requests waiting for inspection.
func (st *flowState) pending() bool { return st.reqPend != nil && len(st.reqPend.reqs) > 0 }

// requestHTTP runs when a request is complete, inside the stream handler.
// Inline (stream.inline, IPS mode) the request is inspected at once, on
// the packet that completed it. Otherwise it is inspected as Suricata does
// in IDS mode, where the app layer gets a direction's bytes only once the
// other side acknowledged them and a transaction's to-server side is
// inspected on a to-server packet: on the client's first packet after the
// server acknowledged the request (inspectAckedRequests), or when the
// transaction is logged, whichever comes first.
func (w *worker) requestHTTP(tx *http.Transaction) {
	if w.det == nil {
		return
	}
	if w.cfg.Inline || w.cfg.Rules.IPS {
		w.detectHTTPRequest(w.h.fl, w.h.st, tx)
		return
	}
	st := w.h.st
	if st.reqPend == nil {
		st.reqPend = new(requestQueue)
	}
	q := st.reqPend
	q.reqs = append(q.reqs, pendingRequest{tx: tx, end: w.h.requestEnd()})
}

// requestEnd is the stream position just past the chunk being delivered
// on the app layer's to-server side (the position reached so far when the
// chunk is the other side's).
func (h *streamHandler) requestEnd() uint64 {
	sd := flow.ToServer
	if h.st.swap {
		sd = flow.ToClient // the halves are swapped after Process returns
	}
	end := h.st.sess.Delivered(sd)
	if h.dir == sd {
		end += uint64(h.n)
	}
	return end
}

// inspectAckedRequests inspects the pending requests the server has
// acknowledged, on a packet from the client (see requestHTTP).
func (w *worker) inspectAckedRequests(fl *flow.Flow, st *flowState) {
	acked, ok := st.sess.Acked(flow.ToServer)
	if !ok {
		return
	}
	q := st.reqPend
	n := 0
	for _, pr := range q.reqs {
		if acked >= pr.end {
			w.detectHTTPRequest(fl, st, pr.tx)
			continue
		}
		q.reqs[n] = pr
		n++
	}
	clear(q.reqs[n:])
	q.reqs = q.reqs[:n]
}

// logHTTP and logDNS run inside the stream handler (or flowEnd), which has
// aimed w.h at the flow. The rule engine sees a transaction before it is
// logged: a rule's config keyword may disable its logging.
func (w *worker) logHTTP(tx *http.Transaction) {
	w.counters.txHTTP++
	st := w.h.st
	if st.pending() {
		q := st.reqPend
		for i, pr := range q.reqs {
			if pr.tx == tx { // not inspected yet: HTTP inspects its request side too
				q.reqs = slices.Delete(q.reqs, i, i+1)
				break
			}
		}
	}
	if w.det != nil {
		w.detectHTTP(w.h.fl, st, tx)
	}
	w.out.http(w, w.h.fl, tx)
}

// logDNS logs a message of DNS over TCP; the stream parser numbers them.
func (w *worker) logDNS(m *dns.Message) {
	w.counters.txDNSTCP++
	if w.det != nil && w.detectDNS(w.h.fl, w.h.st, m) {
		w.countTx(w.h.fl) // logging disabled by a rule: still a transaction
		return
	}
	w.out.dns(w, w.h.fl, m)
}

func (w *worker) logTLS(fl *flow.Flow, s *tls.Session) {
	if w.det != nil {
		st := w.stateOf(fl)
		if w.detectTLS(fl, st, s) {
			return // logging disabled by a rule
		}
	}
	w.out.tls(w, fl, s)
}

// dnsUDPPort reports whether a datagram between these ports may be DNS:
// on the configured detection ports only, when there are any; otherwise
// anywhere but the ports of protocols that reuse DNS's wire format with
// other semantics and are not logged as dns events, as in Suricata:
// NetBIOS name service (137), multicast DNS (5353: Suricata 8 logs it as
// its own "mdns" type) and LLMNR (5355).
func (w *worker) dnsUDPPort(sp, dp uint16) bool {
	if ports := w.cfg.DNSUDPPorts; len(ports) > 0 {
		return slices.Contains(ports, sp) || slices.Contains(ports, dp)
	}
	if sp == 53 || dp == 53 {
		return true
	}
	lookalike := func(p uint16) bool { return p == 137 || p == 5353 || p == 5355 }
	return !lookalike(sp) && !lookalike(dp)
}
