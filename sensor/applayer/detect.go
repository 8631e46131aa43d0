package applayer

import "github.com/polder-nsm/polder/sensor/flow"

// IP protocol numbers Detect understands (IANA; the same values as
// decode.IPProtoTCP/UDP, repeated so detection does not depend on the
// decoder package).
const (
	ipProtoTCP = 6
	ipProtoUDP = 17
)

// Ports used only as tie-breakers when content alone cannot decide.
const (
	portDNS   = 53
	portMDNS  = 5353
	portLLMNR = 5355
	portSSH   = 22
)

// detectMaxProbe is how many bytes Detect needs at most to decide. A caller
// holding at least this many bytes of one direction always gets final=true.
// Most verdicts need far fewer (a method and a space, "HTTP/1", a 6-byte
// TLS header, a DNS header and question); the bound matters for a request
// line with an unknown method, which is accepted only once its
// "HTTP/x.y" end is seen.
const detectMaxProbe = 512

// Detect says which application protocol the first payload bytes of one
// direction of a flow belong to, and whether they were sent by the client
// (request side) or by the server (response side).
//
// It decides by content; ports only break ties (SSH banners, which both
// sides send, and weak DNS signatures). dir is the direction the pipeline
// currently believes the bytes travel; it is the fallback for fromClient
// when content says nothing about it. When fromClient disagrees with dir the
// flow was picked up mid-stream (or its SYN was missed) and the caller should
// re-orient it.
//
// final=false means "no decision yet, call again with more bytes of this
// direction"; the caller should stop asking after detectMaxProbe (512) bytes,
// when Detect always answers final=true. p=ProtoUnknown with final=true
// means the bytes are not any protocol Detect knows; whether to mark the
// flow ProtoFailed (e.g. after both directions said so) is the caller's
// decision. data is only read during the call. Detect does not allocate.
func Detect(ipProto uint8, dir flow.Direction, data []byte, srcPort, dstPort uint16) (p Proto, fromClient bool, final bool) {
	fallback := dir == flow.ToServer
	switch ipProto {
	case ipProtoTCP:
		return detectTCP(fallback, data, srcPort, dstPort)
	case ipProtoUDP:
		return detectUDP(fallback, data, srcPort, dstPort)
	}
	return ProtoUnknown, fallback, true
}

// verdict is the outcome of one protocol probe.
type verdict uint8

const (
	vNo   verdict = iota // definitely not this protocol
	vMore                // could be, need more bytes
	vYes                 // it is
)

func detectTCP(fallback bool, data []byte, sp, dp uint16) (Proto, bool, bool) {
	more := false
	if v, client := probeHTTP(data); v == vYes {
		return ProtoHTTP, client, true
	} else if v == vMore {
		more = true
	}
	if v, client, known := probeTLS(data); v == vYes {
		if !known {
			client = fallback
		}
		return ProtoTLS, client, true
	} else if v == vMore {
		more = true
	}
	if v := probePrefix(data, "SSH-"); v == vYes {
		// Both sides send an identification string first (RFC 4253 §4.2),
		// so only the port can tell which one this is.
		client := fallback
		switch {
		case dp == portSSH && sp != portSSH:
			client = true
		case sp == portSSH && dp != portSSH:
			client = false
		}
		return ProtoSSH, client, true
	} else if v == vMore {
		more = true
	}
	// DNS over TCP: 2-byte length prefix then a message (RFC 1035 §4.2.2).
	if len(data) >= 2 {
		l := int(data[0])<<8 | int(data[1])
		if l >= dnsHeaderLen {
			msg := data[2:]
			if len(msg) > l {
				msg = msg[:l]
			}
			v, resp := probeDNS(msg, l == len(msg), isDNSPort(sp) || isDNSPort(dp))
			if v == vYes {
				return ProtoDNS, !resp, true
			} else if v == vMore {
				more = true
			}
		}
	} else {
		more = true
	}
	if more && len(data) < detectMaxProbe {
		return ProtoUnknown, fallback, false
	}
	return ProtoUnknown, fallback, true
}

func detectUDP(fallback bool, data []byte, sp, dp uint16) (Proto, bool, bool) {
	// A datagram is complete: there is never "more" to wait for.
	if v, resp := probeDNS(data, true, isDNSPort(sp) || isDNSPort(dp)); v == vYes {
		return ProtoDNS, !resp, true
	}
	return ProtoUnknown, fallback, true
}

func isDNSPort(p uint16) bool { return p == portDNS || p == portMDNS || p == portLLMNR }

// probePrefix compares data with a fixed signature, answering vMore while
// data is a proper prefix of it.
func probePrefix(data []byte, sig string) verdict {
	n := len(data)
	if n > len(sig) {
		n = len(sig)
	}
	if string(data[:n]) != sig[:n] {
		return vNo
	}
	if n < len(sig) {
		return vMore
	}
	return vYes
}

// httpMethods are the request methods recognised without seeing the rest of
// the request line: RFC 9110, WebDAV (RFC 4918, 3253, 3648, 3744, 4791, 5323,
// 5842), PATCH (RFC 5789), and the non-standard ones libhtp and Wireshark
// know (SSDP M-SEARCH, NOTIFY, Exchange B* verbs, PURGE, Cisco CCM_*,
// Outlook RPC_*_DATA, Icecast SOURCE).
var httpMethods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
	"REPORT", "MKACTIVITY", "CHECKOUT", "CHECKIN", "UNCHECKOUT", "MERGE",
	"MKWORKSPACE", "UPDATE", "LABEL", "BASELINE-CONTROL", "VERSION-CONTROL",
	"MKREDIRECTREF", "UPDATEREDIRECTREF", "ORDERPATCH", "ACL", "MKCALENDAR",
	"BIND", "UNBIND", "REBIND", "SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY", "POLL",
	"BMOVE", "BDELETE", "BPROPFIND", "BPROPPATCH", "BCOPY", "M-SEARCH", "PURGE",
	"LINK", "UNLINK", "CCM_POST", "CCM_SSL_TUNNEL", "RPC_IN_DATA", "RPC_OUT_DATA",
	"SOURCE",
}

// IsHTTPMethod reports whether m is one of the request methods Detect and
// the HTTP parser's resynchronisation recognise (case-sensitive, as methods
// are, RFC 9110 §9.1).
func IsHTTPMethod(m []byte) bool {
	for _, k := range httpMethods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// probeHTTP recognises a request line ("METHOD SP") or a status line
// ("HTTP/1." or "HTTP/0.9"/"HTTP/2" style "HTTP/<digit>"). client reports
// which side sent it.
func probeHTTP(data []byte) (v verdict, client bool) {
	switch probePrefix(data, "HTTP/") {
	case vMore:
		// Could still be a response, or a method such as HEAD: fall through.
	case vYes:
		if len(data) < 6 {
			return vMore, false
		}
		if data[5] >= '0' && data[5] <= '9' {
			return vYes, false
		}
		return vNo, false
	}
	// Request: token then a space. The token must be a known method, or
	// the whole first line must look like "TOKEN SP target SP HTTP/x.y".
	const maxMethodLen = 20
	sp := -1
	for i := 0; i < len(data) && i <= maxMethodLen; i++ {
		c := data[i]
		if c == ' ' {
			sp = i
			break
		}
		if !isTokenChar(c) {
			return vNo, false
		}
	}
	if sp < 0 {
		if len(data) <= maxMethodLen {
			return vMore, true
		}
		return vNo, false
	}
	if sp == 0 {
		return v, false
	}
	if string(data[:sp]) == "PRI" {
		// "PRI * HTTP/2.0" is the HTTP/2 preface, which this HTTP/1
		// detector does not claim.
		if v := probePrefix(data, "PRI * HTTP/2.0"); v != vNo {
			return vNo, true
		}
	}
	if IsHTTPMethod(data[:sp]) {
		return vYes, true
	}
	// Unknown token: accept only a complete "TOKEN SP target SP HTTP/" line.
	line := data[sp+1:]
	for i, c := range line {
		if c == '\n' {
			line = line[:i]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if hasHTTPVersionSuffix(line) {
				return vYes, true
			}
			return vNo, false
		}
		if c == 0 {
			return vNo, false
		}
	}
	if len(data) < detectMaxProbe {
		return vMore, true
	}
	return vNo, false
}

// hasHTTPVersionSuffix reports whether s (a request line after the method)
// ends in " HTTP/d.d".
func hasHTTPVersionSuffix(s []byte) bool {
	n := len(s)
	if n < 10 {
		return false
	}
	t := s[n-9:]
	return t[0] == ' ' && string(t[1:6]) == "HTTP/" && isDigit(t[6]) && t[7] == '.' && isDigit(t[8])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// TLS record content types (RFC 8446 §5.1) and handshake types (§4).
const (
	tlsChangeCipherSpec = 20
	tlsAlert            = 21
	tlsHandshake        = 22
	tlsApplicationData  = 23
	tlsClientHello      = 1
	tlsServerHello      = 2
	// tlsMaxRecord is the largest TLSCiphertext length (2^14 + 2048).
	tlsMaxRecord = 1<<14 + 2048
)

// probeTLS recognises a TLS record header (type, version 3.0–3.4, plausible
// length) or an SSLv2-compatible ClientHello (RFC 6101 appendix E.2).
// known reports whether client is decided by content: ClientHello → client,
// ServerHello (and the other server-first handshake messages) → server;
// records picked up mid-stream say nothing.
func probeTLS(data []byte) (v verdict, client, known bool) {
	if len(data) == 0 {
		return vMore, false, false
	}
	c := data[0]
	if c == tlsHandshake || c == tlsChangeCipherSpec || c == tlsAlert || c == tlsApplicationData {
		if len(data) < 3 {
			if len(data) == 2 && data[1] != 3 {
				return vNo, false, false
			}
			return vMore, false, false
		}
		if data[1] != 3 || data[2] > 4 {
			return probeSSLv2(data)
		}
		if len(data) < 5 {
			return vMore, false, false
		}
		l := int(data[3])<<8 | int(data[4])
		if l == 0 || l > tlsMaxRecord {
			return vNo, false, false
		}
		if c != tlsHandshake {
			// Mid-stream records: plausible header, direction unknown.
			if c == tlsChangeCipherSpec && l != 1 {
				return vNo, false, false
			}
			return vYes, false, false
		}
		if len(data) < 6 {
			return vMore, false, false
		}
		if l < 4 {
			return vNo, false, false
		}
		switch data[5] {
		case tlsClientHello:
			return vYes, true, true
		case tlsServerHello, 11 /* certificate */, 12 /* server key exchange */, 13 /* cert request */, 14 /* server hello done */, 4 /* new session ticket */ :
			// Encrypted handshake records look like random types; accept
			// only server-first types for a direction verdict.
			return vYes, false, true
		}
		return vYes, false, false
	}
	return probeSSLv2(data)
}

// probeSSLv2 recognises an SSLv2 record carrying a CLIENT-HELLO (msg type 1)
// offering SSL 2.0 or SSL 3.0/TLS 1.x: the compatibility hello old clients
// send.
func probeSSLv2(data []byte) (v verdict, client, known bool) {
	if data[0]&0x80 == 0 {
		return vNo, false, false
	}
	if len(data) < 5 {
		return vMore, false, false
	}
	l := int(data[0]&0x7f)<<8 | int(data[1])
	if l < 9 || data[2] != 1 {
		return vNo, false, false
	}
	if (data[3] == 0 && data[4] == 2) || (data[3] == 3 && data[4] <= 4) {
		return vYes, true, true
	}
	return vNo, false, false
}

const dnsHeaderLen = 12

// probeDNS checks a DNS message (RFC 1035 §4.1): a header with a standard
// opcode, zero Z bit, sane section counts, and a question section that
// parses. complete says msg is the whole message (UDP datagram, or the TCP
// length prefix is satisfied). portHint relaxes the checks for messages on
// the DNS/mDNS/LLMNR ports: there a valid header alone is enough. resp is
// the QR bit.
func probeDNS(msg []byte, complete, portHint bool) (v verdict, resp bool) {
	if len(msg) < dnsHeaderLen {
		if complete {
			return vNo, false
		}
		return vMore, false
	}
	flags := int(msg[2])<<8 | int(msg[3])
	resp = flags&0x8000 != 0
	opcode := (flags >> 11) & 0xf
	if opcode == 3 || opcode > 6 {
		return vNo, resp
	}
	rcode := flags & 0xf
	if !resp && rcode != 0 && !portHint {
		return vNo, resp
	}
	qd := int(msg[4])<<8 | int(msg[5])
	an := int(msg[6])<<8 | int(msg[7])
	ns := int(msg[8])<<8 | int(msg[9])
	ar := int(msg[10])<<8 | int(msg[11])
	if qd > 16 || an > 512 || ns > 512 || ar > 512 {
		return vNo, resp
	}
	if !resp && (an > 16 || ns > 16) && !portHint {
		return vNo, resp
	}
	if portHint && qd <= 16 {
		if qd == 0 && !resp && !complete {
			return vMore, resp
		}
		return vYes, resp
	}
	if qd == 0 {
		return vNo, resp
	}
	// Without the port hint, demand a parsable first question.
	off := dnsHeaderLen
	total := 0
	for {
		if off >= len(msg) {
			if complete {
				return vNo, resp
			}
			return vMore, resp
		}
		l := int(msg[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 {
			return vNo, resp // compression cannot occur in the first name
		}
		total += l + 1
		if total > 255 {
			return vNo, resp
		}
		if off+l > len(msg) {
			if complete {
				return vNo, resp
			}
			return vMore, resp
		}
		for _, c := range msg[off : off+l] {
			if c < 0x20 || c >= 0x7f {
				return vNo, resp
			}
		}
		off += l
	}
	if off+4 > len(msg) {
		if complete {
			return vNo, resp
		}
		return vMore, resp
	}
	class := (int(msg[off+2])<<8 | int(msg[off+3])) &^ 0x8000 // mDNS unicast-response bit
	switch class {
	case 1, 3, 4, 254, 255:
		return vYes, resp
	}
	return vNo, resp
}
