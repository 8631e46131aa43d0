package tls

import (
	"crypto/sha1"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// certificate parses a TLS ≤ 1.2 Certificate message body (RFC 5246
// §7.4.2): a 3-byte list length, then 3-byte-length DER certificates. The
// body may be cut (oversized chain): certificates that fit are kept.
func (p *Parser) certificate(b []byte) {
	s := &p.sess
	if len(b) < 3 {
		p.stats.BadCertificate++
		return
	}
	b = b[3:]
	s.CertDER = s.CertDER[:0]
	s.CertChainLen = 0
	for len(b) >= 3 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if 3+n > len(b) {
			break
		}
		der := b[3 : 3+n]
		b = b[3+n:]
		s.CertChainLen++
		if len(s.CertDER) < MaxCerts {
			s.CertDER = append(s.CertDER, append([]byte(nil), der...))
		}
	}
	if len(s.CertDER) == 0 {
		p.stats.BadCertificate++
		return
	}
	if !certFields(s, s.CertDER[0]) {
		p.stats.BadCertificate++
	}
}

// certFields fills the Session's first-certificate fields from der.
// Subject, issuer, serial and validity come from a minimal DER walk of the
// TBSCertificate, which keeps the serial's exact bytes (Suricata prints the
// encoded INTEGER, leading 00 included) and the RDN order and grouping, and
// logs odd certificates as Suricata does. crypto/x509 is not used: a full
// parse cost ~95% of the handshake (about 200 allocations) on
// attacker-supplied bytes, for nothing the sensor logs.
func certFields(s *Session, der []byte) bool {
	sum := sha1.Sum(der)
	s.Fingerprint = appendColonHex(s.Fingerprint[:0], sum[:], hexLower)
	return tbsFields(s, der, false)
}

// certPrefixFields reads subject, issuer, serial and validity from the
// first bytes of a certificate too large to buffer; the fingerprint is
// left to the caller.
func certPrefixFields(s *Session, prefix []byte) bool {
	s.Fingerprint = s.Fingerprint[:0]
	return tbsFields(s, prefix, true)
}

// tbsFields walks Certificate → TBSCertificate. With cut, the two outer
// SEQUENCEs may extend past the end of der.
func tbsFields(s *Session, der []byte, cut bool) bool {
	s.Subject, s.Issuer, s.Serial = s.Subject[:0], s.Issuer[:0], s.Serial[:0]
	s.SANs = s.SANs[:0]
	s.NotBefore, s.NotAfter = time.Time{}, time.Time{}
	outer := derNext
	if cut {
		outer = derNextCut
	}
	cert, _, ok := outer(der, 0x30)
	if !ok {
		return false
	}
	tbs, _, ok := outer(cert, 0x30)
	if !ok {
		return false
	}
	if len(tbs) > 0 && tbs[0] == 0xa0 { // [0] EXPLICIT version
		if _, tbs, ok = derNext(tbs, 0xa0); !ok {
			return false
		}
	}
	serial, tbs, ok := derNext(tbs, 0x02)
	if !ok {
		return false
	}
	s.Serial = appendColonHex(s.Serial, serial, hexUpper)
	if _, tbs, ok = derNext(tbs, 0x30); !ok { // signature AlgorithmIdentifier
		return false
	}
	issuer, tbs, ok := derNext(tbs, 0x30)
	if !ok {
		return false
	}
	s.Issuer = appendDN(s.Issuer, issuer)
	validity, tbs, ok := derNext(tbs, 0x30)
	if !ok {
		return false
	}
	if t, rest, ok := derTime(validity); ok {
		s.NotBefore = t
		if t, _, ok := derTime(rest); ok {
			s.NotAfter = t
		}
	}
	subject, tbs, ok := derNext(tbs, 0x30)
	if !ok {
		return false
	}
	s.Subject = appendDN(s.Subject, subject)
	sanFields(s, tbs)
	return true
}

// derNext reads one DER TLV with tag want from b, returning its contents
// and the rest. Only definite lengths up to 4 bytes are accepted.
func derNext(b []byte, want byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != want {
		return nil, nil, false
	}
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 || n > len(b)-hdr {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// derNextCut is derNext for a TLV whose contents may be cut short: it
// returns what is there.
func derNextCut(b []byte, want byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != want {
		return nil, nil, false
	}
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 {
		return nil, nil, false
	}
	if n > len(b)-hdr {
		return b[hdr:], nil, true
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// derAny reads one TLV of any tag.
func derAny(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 1 {
		return 0, nil, nil, false
	}
	content, rest, ok = derNext(b, b[0])
	return b[0], content, rest, ok
}

// derTime reads a UTCTime or GeneralizedTime.
func derTime(b []byte) (time.Time, []byte, bool) {
	tag, c, rest, ok := derAny(b)
	if !ok {
		return time.Time{}, nil, false
	}
	var layout string
	switch tag {
	case 0x17:
		layout = "060102150405Z0700"
	case 0x18:
		layout = "20060102150405Z0700"
	default:
		return time.Time{}, rest, false
	}
	t, err := time.Parse(layout, string(c))
	if err != nil {
		// Some certificates omit seconds.
		if tag == 0x17 {
			t, err = time.Parse("0601021504Z0700", string(c))
		}
		if err != nil {
			return time.Time{}, rest, false
		}
	}
	if tag == 0x17 && t.Year() >= 2050 {
		t = t.AddDate(-100, 0, 0) // RFC 5280 §4.1.2.5.1
	}
	return t.UTC(), rest, true
}

// appendDN renders a Name (RDNSequence) as Suricata prints it (the
// x509-parser crate's Display): attributes in certificate order, "SN=value"
// joined by ", ", attributes of one multi-valued RDN joined by " + ".
// Unknown attribute types print as their dotted OID.
func appendDN(dst, name []byte) []byte {
	first := true
	for len(name) > 0 {
		set, rest, ok := derNext(name, 0x31)
		if !ok {
			return dst
		}
		name = rest
		firstInSet := true
		for len(set) > 0 {
			atv, r, ok := derNext(set, 0x30)
			if !ok {
				break
			}
			set = r
			oid, val, ok := derNext(atv, 0x06)
			if !ok {
				continue
			}
			switch {
			case !firstInSet:
				dst = append(dst, " + "...)
			case !first:
				dst = append(dst, ", "...)
			}
			first, firstInSet = false, false
			if sn, ok := attrNames[string(oid)]; ok {
				dst = append(dst, sn...)
			} else {
				dst = appendOID(dst, oid)
			}
			dst = append(dst, '=')
			dst = appendAttrValue(dst, val)
		}
	}
	return dst
}

// appendAttrValue renders an attribute value: string types as text
// (BMPString and UniversalString decoded), anything else as "#" and the
// hex of its DER, like RFC 4514.
func appendAttrValue(dst, v []byte) []byte {
	tag, c, _, ok := derAny(v)
	if !ok {
		return dst
	}
	switch tag {
	case 0x0c, 0x13, 0x14, 0x16, 0x12, 0x1a, 0x15, 0x19, 0x1b:
		// UTF8, Printable, T61, IA5, Numeric, Visible, Videotex, Graphic, General
		if tag == 0x14 && !utf8.Valid(c) {
			for _, r := range c { // T61 treated as Latin-1
				dst = utf8.AppendRune(dst, rune(r))
			}
			return dst
		}
		return append(dst, c...)
	case 0x1e: // BMPString, UTF-16BE
		for i := 0; i+1 < len(c); i += 2 {
			r := rune(c[i])<<8 | rune(c[i+1])
			if utf16.IsSurrogate(r) && i+3 < len(c) {
				r = utf16.DecodeRune(r, rune(c[i+2])<<8|rune(c[i+3]))
				i += 2
			}
			dst = utf8.AppendRune(dst, r)
		}
		return dst
	case 0x1c: // UniversalString, UTF-32BE
		for i := 0; i+3 < len(c); i += 4 {
			dst = utf8.AppendRune(dst, rune(c[i])<<24|rune(c[i+1])<<16|rune(c[i+2])<<8|rune(c[i+3]))
		}
		return dst
	}
	dst = append(dst, '#')
	return appendHex(dst, v)
}

func appendOID(dst, oid []byte) []byte {
	if len(oid) == 0 {
		return dst
	}
	var v uint64
	first := true
	for _, c := range oid {
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			continue
		}
		if first {
			a := min(v/40, 2)
			dst = strconv.AppendUint(dst, a, 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, v-40*a, 10)
			first = false
		} else {
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, v, 10)
		}
		v = 0
	}
	return dst
}

// attrNames maps DER-encoded attribute type OIDs to the short names the
// x509-parser crate (and so Suricata) prints; the set was checked against
// the issuer/subject strings in the corpus reference EVE.
var attrNames = map[string]string{
	"\x55\x04\x03":                         "CN",
	"\x55\x04\x04":                         "SN",
	"\x55\x04\x05":                         "serialNumber",
	"\x55\x04\x06":                         "C",
	"\x55\x04\x07":                         "L",
	"\x55\x04\x08":                         "ST",
	"\x55\x04\x09":                         "streetAddress",
	"\x55\x04\x0a":                         "O",
	"\x55\x04\x0b":                         "OU",
	"\x55\x04\x0c":                         "title",
	"\x55\x04\x0d":                         "description",
	"\x55\x04\x0f":                         "businessCategory",
	"\x55\x04\x11":                         "postalCode",
	"\x55\x04\x29":                         "name",
	"\x55\x04\x2a":                         "givenName",
	"\x55\x04\x2b":                         "initials",
	"\x55\x04\x2c":                         "generationQualifier",
	"\x55\x04\x2e":                         "dnQualifier",
	"\x55\x04\x41":                         "pseudonym",
	"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01": "Email",
	"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19":     "DC",
	"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01":     "UID",
	"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x01": "msJurisdictionLocality",
	"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x02": "msJurisdictionStateOrProvince",
	"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x03": "msJurisdictionCountry",
}

func appendColonHex(dst, b []byte, digits string) []byte {
	for i, v := range b {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, digits[v>>4], digits[v&15])
	}
	return dst
}

func appendHex(dst, b []byte) []byte {
	for _, v := range b {
		dst = append(dst, hexLower[v>>4], hexLower[v&15])
	}
	return dst
}
