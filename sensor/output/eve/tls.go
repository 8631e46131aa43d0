package eve

import (
	"strconv"

	"github.com/polder-nsm/polder/sensor/applayer/tls"
)

// AppendTLS appends a complete "tls" event line (with '\n') for s to buf. It
// allocates only when buf must grow.
//
// Fields and order follow Suricata's JsonTlsLogJSONBasic plus the JA
// fingerprints: session_resumed (when resumed, instead of the certificate),
// subject, issuerdn, subjectaltname, serial, fingerprint, sni, version,
// notbefore, notafter, ja3{hash,string}, ja3s{hash,string}, ja4,
// client_alpns, server_alpns.
// Certificate fields appear only when a certificate was seen (TLS ≤ 1.2);
// version is the negotiated version, "UNDETERMINED" before a ServerHello.
func AppendTLS(buf []byte, h *Header, s *tls.Session) []byte {
	b := Builder{B: buf}
	b.header(h, "tls", true)
	b.tlsObject(s)
	return b.end()
}

// tlsObject writes the member "tls":{...} for s, as tls events and alerts
// share it.
func (b *Builder) tlsObject(s *tls.Session) {
	b.Key("tls")
	b.BeginObject()
	if s.SessionResumed {
		b.KeyBool("session_resumed", true)
	}
	b.KeyBytesNonEmpty("subject", s.Subject)
	b.KeyBytesNonEmpty("issuerdn", s.Issuer)
	if len(s.SANs) > 0 {
		b.Key("subjectaltname")
		b.BeginArray()
		for _, n := range s.SANs {
			b.Bytes(n)
		}
		b.EndArray()
	}
	b.KeyBytesNonEmpty("serial", s.Serial)
	b.KeyBytesNonEmpty("fingerprint", s.Fingerprint)
	b.KeyBytesNonEmpty("sni", s.SNI)
	b.Key("version")
	b.tlsVersion(s.Version)
	if !s.NotBefore.IsZero() {
		b.Key("notbefore")
		b.sep()
		b.B = append(b.B, '"')
		b.B = appendCertTime(b.B, s.NotBefore)
		b.B = append(b.B, '"')
	}
	if !s.NotAfter.IsZero() {
		b.Key("notafter")
		b.sep()
		b.B = append(b.B, '"')
		b.B = appendCertTime(b.B, s.NotAfter)
		b.B = append(b.B, '"')
	}
	if s.HasClientHello && len(s.JA3String) > 0 {
		b.Key("ja3")
		b.BeginObject()
		b.Key("hash")
		b.Hex(s.JA3Hash[:])
		b.KeyBytes("string", s.JA3String)
		b.EndObject()
	}
	if s.HasServerHello && len(s.JA3SString) > 0 {
		b.Key("ja3s")
		b.BeginObject()
		b.Key("hash")
		b.Hex(s.JA3SHash[:])
		b.KeyBytes("string", s.JA3SString)
		b.EndObject()
	}
	b.KeyBytesNonEmpty("ja4", s.JA4)
	if len(s.ALPNClient) > 0 {
		b.Key("client_alpns")
		b.BeginArray()
		for _, p := range s.ALPNClient {
			b.Bytes(p)
		}
		b.EndArray()
	}
	if len(s.ALPNServer) > 0 {
		b.Key("server_alpns")
		b.BeginArray()
		b.Bytes(s.ALPNServer)
		b.EndArray()
	}
	b.EndObject()
}

// tlsVersion writes the version as Suricata's SSLVersionToString prints it.
func (b *Builder) tlsVersion(v uint16) {
	var name string
	switch {
	case v == 0:
		name = "UNDETERMINED"
	case v == 0x0200:
		name = "SSLv2"
	case v == 0x0300:
		name = "SSLv3"
	case v == 0x0301:
		name = "TLSv1"
	case v == 0x0302:
		name = "TLS 1.1"
	case v == 0x0303:
		name = "TLS 1.2"
	case v == 0x0304:
		name = "TLS 1.3"
	case v&0xff00 == 0x7f00: // TLS 1.3 drafts (draft-ietf-tls-tls13-NN)
		b.sep()
		b.B = append(b.B, `"TLS 1.3 draft-`...)
		b.B = strconv.AppendUint(b.B, uint64(v&0xff), 10)
		b.B = append(b.B, '"')
		return
	default:
		b.sep()
		b.B = append(b.B, '"', '0', 'x', hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf], '"')
		return
	}
	b.String(name)
}
