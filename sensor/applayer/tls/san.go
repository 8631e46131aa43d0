package tls

import "net/netip"

// MaxSANs bounds the subjectAltName entries kept in Session.SANs.
const MaxSANs = 128

// oidSubjectAltName is 2.5.29.17, DER-encoded.
const oidSubjectAltName = "\x55\x1d\x11"

// sanFields reads the subjectAltName extension (RFC 5280 §4.2.1.6) from
// the rest of a TBSCertificate after its subject: subjectPublicKeyInfo,
// the optional unique IDs, then [3] EXPLICIT Extensions. DNS names are
// kept as written and IP addresses rendered as text (dotted quad, RFC 5952
// for IPv6), as Suricata's SCX509GetSubjectAltNameAt does; other name
// types (e-mail, URI, directory names, ...) are left out. Anything
// malformed or cut ends the walk with what was read.
func sanFields(s *Session, rest []byte) {
	_, rest, ok := derNext(rest, 0x30) // subjectPublicKeyInfo
	if !ok {
		return
	}
	for len(rest) > 0 {
		var tag byte
		var content []byte
		if tag, content, rest, ok = derAny(rest); !ok {
			return
		}
		if tag != 0xa3 {
			continue // issuerUniqueID [1], subjectUniqueID [2]
		}
		exts, _, ok := derNext(content, 0x30)
		if !ok {
			return
		}
		for len(exts) > 0 {
			var ext []byte
			if ext, exts, ok = derNext(exts, 0x30); !ok {
				return
			}
			oid, ext, ok := derNext(ext, 0x06)
			if !ok || string(oid) != oidSubjectAltName {
				continue
			}
			if len(ext) > 0 && ext[0] == 0x01 { // critical BOOLEAN
				if _, ext, ok = derNext(ext, 0x01); !ok {
					return
				}
			}
			val, _, ok := derNext(ext, 0x04)
			if !ok {
				return
			}
			names, _, ok := derNext(val, 0x30)
			if !ok {
				return
			}
			appendSANs(s, names)
			return
		}
		return
	}
}

// appendSANs adds the DNS and IP entries of a GeneralNames sequence.
func appendSANs(s *Session, names []byte) {
	buf := s.sanBuf[:0]
	var ends [MaxSANs]int
	n := 0
	for len(names) > 0 && n < MaxSANs {
		tag, v, rest, ok := derAny(names)
		if !ok {
			break
		}
		names = rest
		switch tag {
		case 0x82: // dNSName
			buf = append(buf, v...)
		case 0x87: // iPAddress
			if a, ok := netip.AddrFromSlice(v); ok {
				buf = a.AppendTo(buf)
			} else {
				continue
			}
		default:
			continue
		}
		ends[n] = len(buf)
		n++
	}
	s.sanBuf = buf
	start := 0
	for _, end := range ends[:n] {
		s.SANs = append(s.SANs, buf[start:end:end])
		start = end
	}
}
