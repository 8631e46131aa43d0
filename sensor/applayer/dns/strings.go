package dns

import (
	"strconv"
	"unicode/utf8"
)

// TypeString returns the record type mnemonic Suricata logs as rrtype.
// Types Suricata has no name for are logged as their decimal number
// ("65534"), which is what Suricata 7 and 8 write (checked against the
// corpus reference EVE), not RFC 3597's "TYPE65534".
func TypeString(t uint16) string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	switch t {
	case 249:
		return "TKEY"
	case 250:
		return "TSIG"
	case 254:
		return "MAILA"
	case 255:
		return "ANY"
	case 256:
		return "URI"
	}
	if int(t) < len(numStrings) {
		return numStrings[t]
	}
	return strconv.Itoa(int(t))
}

// typeNames follows Suricata's dns_rrtype_string (rust/src/dns/log.rs):
// AXFR, SVCB and CAA, for example, have no name there and log as numbers.
var typeNames = [...]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
	9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO",
	15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN",
	21: "RT", 22: "NSAP", 23: "NSAPPTR", 24: "SIG", 25: "KEY", 26: "PX",
	27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 33: "SRV", 34: "ATMA",
	35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 41: "OPT",
	42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC",
	48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
	55: "HIP", 59: "CDS", 60: "CDNSKEY", 65: "HTTPS", 99: "SPF",
}

// numStrings avoids an allocation per unknown type for small numbers.
var numStrings = func() []string {
	s := make([]string, 256)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// RcodeString returns the response code name Suricata logs as rcode
// (RFC 1035, 2136, 6895); unknown codes are logged as their number.
func RcodeString(r uint8) string {
	switch r {
	case 0:
		return "NOERROR"
	case 1:
		return "FORMERR"
	case 2:
		return "SERVFAIL"
	case 3:
		return "NXDOMAIN"
	case 4:
		return "NOTIMP"
	case 5:
		return "REFUSED"
	case 6:
		return "YXDOMAIN"
	case 7:
		return "YXRRSET"
	case 8:
		return "NXRRSET"
	case 9:
		return "NOTAUTH"
	case 10:
		return "NOTZONE"
	case 11:
		return "DSOTYPENI"
	case 16:
		return "BADVERS"
	case 17:
		return "BADKEY"
	case 18:
		return "BADTIME"
	case 19:
		return "BADMODE"
	case 20:
		return "BADNAME"
	case 21:
		return "BADALG"
	case 22:
		return "BADTRUNC"
	}
	return numStrings[r]
}

// AppendName appends name (raw label bytes as kept in Question.Name,
// Record.Name and name rdata, or TXT/NULL bytes) to dst the way Suricata's
// JSON builder renders bytes (set_string_from_bytes): valid UTF-8 is kept
// as is; otherwise every byte ≥ 0x80 becomes the four characters `\xhh`
// (lower-case hex) and ASCII is kept. Control characters are left for the
// JSON encoder to escape (\u0001), as Suricata does.
func AppendName(dst, name []byte) []byte {
	if utf8.Valid(name) {
		return append(dst, name...)
	}
	for _, c := range name {
		if c < 0x80 {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '\\', 'x', hexLower[c>>4], hexLower[c&15])
	}
	return dst
}

// Buffer returns the named sticky buffer a rule inspects, with Suricata's
// keyword name, or nil if the message has none:
//
//	dns.query    the first question's name, raw bytes (case kept, no escaping)
//
// The slice is owned by m (do not modify it).
func (m *Message) Buffer(name string) []byte {
	switch name {
	case "dns.query", "dns_query":
		if len(m.Questions) > 0 {
			return m.Questions[0].Name
		}
	}
	return nil
}
