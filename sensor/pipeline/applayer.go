package pipeline

import (
	"slices"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
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
	h.appData(dir, b)
	if w := h.w; w.det != nil {
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
	if st.proto == applayer.ProtoFailed || st.proto == applayer.ProtoSSH {
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
	case applayer.ProtoHTTP:
		st.http = http.NewParser(&h.w.httpOpts)
	}
	h.feed(dir, b)
	return true
}

// Gap implements stream.Handler.
func (h *streamHandler) Gap(dir flow.Direction, n uint32) {
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
	case applayer.ProtoDNS:
		st.dnsTCP = new(dns.StreamParser)
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
		if st.tls.Session().Encrypted {
			h.fl.SetFlag(flow.FlagEncrypted)
		}
	case applayer.ProtoDNS:
		st.dnsTCP.Parse(ad, b, w.now, w.emitDNS)
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
	w.out.dns(w, fl, m)
	if w.det != nil {
		w.detectDNS(fl, st, m)
	}
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
	}
}

// requestHTTP runs when a request is complete, inside the stream handler.
func (w *worker) requestHTTP(tx *http.Transaction) {
	if w.det != nil {
		w.detectHTTPRequest(w.h.fl, w.h.st, tx)
	}
}

// logHTTP and logDNS run inside the stream handler (or flowEnd), which has
// aimed w.h at the flow.
func (w *worker) logHTTP(tx *http.Transaction) {
	w.counters.txHTTP++
	w.out.http(w, w.h.fl, tx)
	if w.det != nil {
		w.detectHTTP(w.h.fl, w.h.st, tx)
	}
}

// logDNS logs a message of DNS over TCP; the stream parser numbers them.
func (w *worker) logDNS(m *dns.Message) {
	w.counters.txDNSTCP++
	w.out.dns(w, w.h.fl, m)
	if w.det != nil {
		w.detectDNS(w.h.fl, w.h.st, m)
	}
}

func (w *worker) logTLS(fl *flow.Flow, s *tls.Session) {
	w.counters.txTLS++
	w.out.tls(w, fl, s)
	if w.det != nil {
		st, _ := fl.Ext.(*flowState)
		w.detectTLS(fl, st, s)
	}
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
