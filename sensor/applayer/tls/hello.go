package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"strconv"
)

// Protocol versions as they appear on the wire.
const (
	VersionSSLv2 = 0x0002
	VersionSSLv3 = 0x0300
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

// Extension types (IANA TLS ExtensionType registry) the parser reads.
const (
	ExtServerName          = 0
	ExtSupportedGroups     = 10
	ExtECPointFormats      = 11
	ExtSignatureAlgorithms = 13
	ExtALPN                = 16
	ExtSupportedVersions   = 43
)

// maxList bounds every list kept from a hello (ciphers, extensions...).
// A ClientHello fits in 64 KiB, so 2-byte items are at most 32768; real
// ones have under 100. Items past the cap are ignored.
const maxList = 512

// helloRetryRandom is the ServerHello.random that marks a
// HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// IsGREASE reports whether v is one of the RFC 8701 GREASE values
// (0x0a0a, 0x1a1a, ... 0xfafa), which JA3 and JA4 ignore.
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// reader is a bounds-checked cursor over a hello body.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.ok = false
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.ok = false
		r.b = nil
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.ok = false
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }

// u16list appends the big-endian 16-bit items of b to dst, up to maxList.
func u16list(dst []uint16, b []byte) []uint16 {
	for i := 0; i+1 < len(b) && len(dst) < maxList; i += 2 {
		dst = append(dst, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return dst
}

// clientHello parses a ClientHello body (RFC 8446 §4.1.2; RFC 5246 §7.4.1.2
// also allows no extensions) and computes JA3 and JA4. It reports whether
// the fixed part parsed; a cut extension block keeps what was read.
func (p *Parser) clientHello(b []byte) bool {
	s := &p.sess
	r := reader{b: b, ok: true}
	ver := r.u16()
	r.bytes(32) // random
	sid := r.vec8()
	ciphers := r.vec16()
	r.vec8() // compression methods
	if !r.ok {
		return false
	}
	s.HasClientHello = true
	s.SSLv2Hello = false
	s.ClientVersion = ver
	p.clientSID = append(p.clientSID[:0], sid...)
	s.Ciphers = u16list(s.Ciphers[:0], ciphers)
	s.Extensions = s.Extensions[:0]
	s.Groups = s.Groups[:0]
	s.PointFormats = s.PointFormats[:0]
	s.SigAlgs = s.SigAlgs[:0]
	s.ClientSupportedVersions = s.ClientSupportedVersions[:0]
	s.ALPNClient = s.ALPNClient[:0]
	s.SNI = s.SNI[:0]
	exts := reader{b: r.vec16(), ok: true}
	for len(exts.b) >= 4 {
		typ := exts.u16()
		data := exts.vec16()
		if !exts.ok {
			break
		}
		if len(s.Extensions) < maxList {
			s.Extensions = append(s.Extensions, typ)
		}
		e := reader{b: data, ok: true}
		switch typ {
		case ExtServerName:
			list := reader{b: e.vec16(), ok: true}
			for len(list.b) > 0 {
				nt := list.u8()
				name := list.vec16()
				if !list.ok {
					break
				}
				if nt == 0 && len(s.SNI) == 0 {
					s.SNI = append(s.SNI, name...)
				}
			}
		case ExtSupportedGroups:
			s.Groups = u16list(s.Groups, e.vec16())
		case ExtECPointFormats:
			for _, v := range e.vec8() {
				if len(s.PointFormats) < maxList {
					s.PointFormats = append(s.PointFormats, v)
				}
			}
		case ExtSignatureAlgorithms:
			s.SigAlgs = u16list(s.SigAlgs, e.vec16())
		case ExtALPN:
			list := reader{b: e.vec16(), ok: true}
			for len(list.b) > 0 && len(s.ALPNClient) < 32 {
				proto := list.vec8()
				if !list.ok {
					break
				}
				s.ALPNClient = append(s.ALPNClient, append([]byte(nil), proto...))
			}
		case ExtSupportedVersions:
			s.ClientSupportedVersions = u16list(s.ClientSupportedVersions, e.vec8())
		}
	}
	s.JA3String = appendJA3(s.JA3String[:0], s)
	s.JA3Hash = md5.Sum(s.JA3String)
	s.JA4 = appendJA4(s.JA4[:0], s, 't')
	return true
}

// serverHello parses a ServerHello body and computes JA3S. hrr reports a
// HelloRetryRequest (TLS 1.3), after which another ServerHello follows.
func (p *Parser) serverHello(b []byte) (hrr, ok bool) {
	s := &p.sess
	r := reader{b: b, ok: true}
	ver := r.u16()
	random := r.bytes(32)
	var sid []byte
	if !draftBefore22(ver) {
		sid = r.vec8()
	}
	cipher := r.u16()
	if !draftBefore22(ver) {
		r.u8() // compression
	}
	if !r.ok {
		return false, false
	}
	hrr = [32]byte(random) == helloRetryRandom

	s.HasServerHello = true
	s.ServerVersion = ver
	s.Version = ver
	s.Cipher = cipher
	s.ServerExtensions = s.ServerExtensions[:0]
	s.ALPNServer = s.ALPNServer[:0]
	exts := reader{b: r.vec16(), ok: true}
	for len(exts.b) >= 4 {
		typ := exts.u16()
		data := exts.vec16()
		if !exts.ok {
			break
		}
		if len(s.ServerExtensions) < maxList {
			s.ServerExtensions = append(s.ServerExtensions, typ)
		}
		e := reader{b: data, ok: true}
		switch typ {
		case ExtSupportedVersions:
			if v := e.u16(); e.ok {
				s.Version = v
			}
		case ExtALPN:
			list := reader{b: e.vec16(), ok: true}
			if proto := list.vec8(); list.ok {
				s.ALPNServer = append(s.ALPNServer, proto...)
			}
		}
	}
	if len(sid) > 0 && string(sid) == string(p.clientSID) && s.Version < VersionTLS13 {
		// The server echoed the client's session id: an abbreviated
		// handshake (Suricata's session_resumed). TLS 1.3 echoes the id
		// in every handshake (RFC 8446 §4.1.3), so it says nothing there.
		s.SessionResumed = true
	}
	s.JA3SString = appendJA3S(s.JA3SString[:0], s)
	s.JA3SHash = md5.Sum(s.JA3SString)
	return hrr, true
}

// draftBefore22 reports a TLS 1.3 draft version before draft 22, whose
// ServerHello has neither session id nor compression method (the field
// order changed in draft-ietf-tls-tls13-22).
func draftBefore22(v uint16) bool { return v>>8 == 0x7f && v&0xff < 22 }

// appendJA3 renders the Salesforce JA3 string: "version,ciphers,
// extensions,groups,pointformats", decimal, lists joined by '-', GREASE
// dropped from ciphers, extensions and groups.
func appendJA3(dst []byte, s *Session) []byte {
	dst = strconv.AppendUint(dst, uint64(s.ClientVersion), 10)
	dst = append(dst, ',')
	dst = appendDecList(dst, s.Ciphers)
	dst = append(dst, ',')
	dst = appendDecList(dst, s.Extensions)
	dst = append(dst, ',')
	dst = appendDecList(dst, s.Groups)
	dst = append(dst, ',')
	for i, v := range s.PointFormats {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, uint64(v), 10)
	}
	return dst
}

// appendJA3S renders JA3S: "version,cipher,extensions" with the
// ServerHello's legacy version (not supported_versions), as Salesforce
// and Suricata do.
func appendJA3S(dst []byte, s *Session) []byte {
	dst = strconv.AppendUint(dst, uint64(s.ServerVersion), 10)
	dst = append(dst, ',')
	dst = strconv.AppendUint(dst, uint64(s.Cipher), 10)
	dst = append(dst, ',')
	return appendDecList(dst, s.ServerExtensions)
}

func appendDecList(dst []byte, l []uint16) []byte {
	first := true
	for _, v := range l {
		if IsGREASE(v) {
			continue
		}
		if !first {
			dst = append(dst, '-')
		}
		first = false
		dst = strconv.AppendUint(dst, uint64(v), 10)
	}
	return dst
}

// appendJA4 renders the FoxIO JA4 client fingerprint
// (github.com/FoxIO-LLC/ja4, technical_details/JA4.md):
//
//	ja4_a: proto (t TCP, q QUIC, d DTLS), version (highest non-GREASE
//	       supported_versions entry, else legacy_version: "13","12","11",
//	       "10","s3","s2","d1","d2","d3", unknown "00"), "d" when the SNI
//	       extension is present else "i", cipher and extension counts
//	       without GREASE as two digits capped at 99, and the first and
//	       last character of the first ALPN value ("00" without ALPN; the
//	       first and last hex digit of the value when either end is not
//	       alphanumeric; a one-character value gives that character and
//	       '0', as FoxIO's reference code does).
//	ja4_b: first 12 hex digits of SHA-256 over the sorted cipher list as
//	       4-digit hex joined by ',' ("000000000000" when empty).
//	ja4_c: same over the sorted extensions without GREASE, SNI and ALPN,
//	       then '_' and the non-GREASE signature algorithms in wire order
//	       (no '_' when there are none; "000000000000" when both are empty).
//
// Suricata 8's own JA4 differs only in corner cases real clients do not
// hit: it hashes empty lists (e3b0c44298fc), always writes the '_' and
// gives "00" for a one-character ALPN.
func appendJA4(dst []byte, s *Session, proto byte) []byte {
	dst = append(dst, proto)
	ver := s.ClientVersion
	best := -1
	for _, v := range s.ClientSupportedVersions {
		if !IsGREASE(v) && int(v) > best {
			best = int(v)
		}
	}
	if best >= 0 {
		ver = uint16(best)
	}
	dst = append(dst, ja4Version(ver)...)
	sni := byte('i')
	for _, e := range s.Extensions {
		if e == ExtServerName {
			sni = 'd'
		}
	}
	dst = append(dst, sni)
	var ciphers, exts [maxList]uint16
	nc, ne, nx := 0, 0, 0 // ciphers, extensions counted, extensions hashed
	for _, c := range s.Ciphers {
		if !IsGREASE(c) {
			ciphers[nc] = c
			nc++
		}
	}
	for _, e := range s.Extensions {
		if IsGREASE(e) {
			continue
		}
		ne++
		if e != ExtServerName && e != ExtALPN {
			exts[nx] = e
			nx++
		}
	}
	dst = append(dst, byte('0'+min(nc, 99)/10), byte('0'+min(nc, 99)%10))
	dst = append(dst, byte('0'+min(ne, 99)/10), byte('0'+min(ne, 99)%10))
	if len(s.ALPNClient) > 0 && len(s.ALPNClient[0]) > 0 {
		a := s.ALPNClient[0]
		f, l := a[0], a[len(a)-1]
		switch {
		case !alnum(f) || !alnum(l):
			dst = append(dst, hexLower[f>>4], hexLower[l&15])
		case len(a) == 1:
			dst = append(dst, f, '0') // as FoxIO's implementations do
		default:
			dst = append(dst, f, l)
		}
	} else {
		dst = append(dst, '0', '0')
	}
	dst = append(dst, '_')
	sortU16(ciphers[:nc])
	dst = appendHash12(dst, ciphers[:nc], nil)
	dst = append(dst, '_')
	sortU16(exts[:nx])
	var sigs [maxList]uint16
	ns := 0
	for _, v := range s.SigAlgs {
		if !IsGREASE(v) {
			sigs[ns] = v
			ns++
		}
	}
	return appendHash12(dst, exts[:nx], sigs[:ns])
}

func ja4Version(v uint16) string {
	switch v {
	case VersionTLS13:
		return "13"
	case VersionTLS12:
		return "12"
	case VersionTLS11:
		return "11"
	case VersionTLS10:
		return "10"
	case VersionSSLv3:
		return "s3"
	case VersionSSLv2, 0x0200:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// appendHash12 appends the first 12 hex digits of SHA-256 over list (4-digit
// hex joined by ','), followed, if sigs is not empty, by '_' and sigs the
// same way. An empty input gives "000000000000", as the JA4 spec asks.
func appendHash12(dst []byte, list, sigs []uint16) []byte {
	if len(list) == 0 && len(sigs) == 0 {
		return append(dst, "000000000000"...)
	}
	var buf [maxList*5*2 + 1]byte
	t := appendHexList(buf[:0], list)
	if len(sigs) > 0 {
		t = append(t, '_')
		t = appendHexList(t, sigs)
	}
	sum := sha256.Sum256(t)
	for _, v := range sum[:6] {
		dst = append(dst, hexLower[v>>4], hexLower[v&15])
	}
	return dst
}

func appendHexList(dst []byte, l []uint16) []byte {
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, hexLower[v>>12], hexLower[v>>8&15], hexLower[v>>4&15], hexLower[v&15])
	}
	return dst
}

// sortU16 is an insertion sort: lists are short and it does not allocate.
func sortU16(a []uint16) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

const hexLower = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

// VersionString renders a protocol version the way Suricata's EVE tls
// "version" field does: "SSLv2", "SSLv3", "TLSv1", "TLS 1.1", "TLS 1.2",
// "TLS 1.3", TLS 1.3 drafts as "TLS 1.3 draft-NN" ("draft-<16" below 16),
// Facebook's fizz drafts with "-fb", "UNDETERMINED" for 0 and "0x%04x"
// otherwise.
func VersionString(v uint16) string {
	switch v {
	case 0:
		return "UNDETERMINED"
	case VersionSSLv2, 0x0200:
		return "SSLv2"
	case VersionSSLv3:
		return "SSLv3"
	case VersionTLS10:
		return "TLSv1"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case 0xfb17:
		return "TLS 1.3 draft-23-fb"
	case 0xfb1a:
		return "TLS 1.3 draft-26-fb"
	}
	if v>>8 == 0x7f {
		if d := v & 0xff; d < 16 {
			return "TLS 1.3 draft-<16"
		} else if d <= 28 {
			return draftNames[d-16]
		}
	}
	b := []byte("0x0000")
	b[2], b[3], b[4], b[5] = hexLower[v>>12], hexLower[v>>8&15], hexLower[v>>4&15], hexLower[v&15]
	return string(b)
}

var draftNames = func() []string {
	s := make([]string, 13)
	for i := range s {
		s[i] = "TLS 1.3 draft-" + strconv.Itoa(16+i)
	}
	return s
}()
