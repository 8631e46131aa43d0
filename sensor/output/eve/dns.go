package eve

import (
	"strconv"

	"github.com/polder-nsm/polder/sensor/applayer/dns"
)

// DNSFormat selects how answers are logged, as Suricata's dns "formats"
// option does.
type DNSFormat uint8

const (
	DNSDetailed   DNSFormat                  = 1 << iota // "answers": one object per record
	DNSGrouped                                           // "grouped": rdata grouped by rrtype
	DNSAllFormats = DNSDetailed | DNSGrouped             // Suricata's default
)

// AppendDNS appends a complete "dns" event line (with '\n') for m to buf in
// Suricata 8's v3 format with both answer formats (Suricata's default). It
// allocates only when buf must grow.
func AppendDNS(buf []byte, h *Header, m *dns.Message) []byte {
	return AppendDNSWith(buf, h, m, DNSAllFormats)
}

// AppendDNSWith is AppendDNS with a choice of answer formats.
//
// The layout follows Suricata 8.0 rust/src/dns/log.rs (log_json, v3):
// version 3, type request|response, tx_id, id, flags as unpadded lower-case
// hex, qr/aa/tc/rd/ra/z only when set, opcode, rcode (name or number),
// queries[{rrname, rrtype}], answers, grouped, authorities, additionals.
// Arrays are left out when empty (the schema wants minItems 1). OPT
// pseudo-records are left out of additionals: dns.Record does not carry
// EDNS options, and Suricata skips an OPT record without options; grouped
// holds only the rrtypes the 8.0.6 schema allows there.
func AppendDNSWith(buf []byte, h *Header, m *dns.Message, f DNSFormat) []byte {
	b := Builder{B: buf}
	b.header(h, "dns", true)
	b.dnsObject(m, f)
	return b.end()
}

// dnsObject writes the member "dns":{...} for m, as dns events and alerts
// share it.
func (b *Builder) dnsObject(m *dns.Message, f DNSFormat) {
	b.Key("dns")
	b.BeginObject()
	b.KeyInt("version", 3)
	if m.Response() {
		b.KeyString("type", "response")
	} else {
		b.KeyString("type", "request")
	}
	b.KeyUint("tx_id", m.TxID)
	b.KeyUint("id", uint64(m.ID))
	b.Key("flags")
	b.sep()
	b.B = append(b.B, '"')
	b.B = strconv.AppendUint(b.B, uint64(m.Flags), 16)
	b.B = append(b.B, '"')
	for _, fl := range [...]struct {
		bit  uint16
		name string
	}{{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"}, {0x0080, "ra"}, {0x0040, "z"}} {
		if m.Flags&fl.bit != 0 {
			b.KeyBool(fl.name, true)
		}
	}
	b.KeyUint("opcode", uint64(m.Opcode()))
	b.Key("rcode")
	b.rcode(m.Rcode())

	if len(m.Questions) > 0 {
		b.Key("queries")
		b.BeginArray()
		for i := range m.Questions {
			q := &m.Questions[i]
			b.BeginObject()
			b.KeyBytes("rrname", q.Name)
			b.Key("rrtype")
			b.rrtype(q.Type)
			b.EndObject()
		}
		b.EndArray()
	}
	if f&DNSDetailed != 0 {
		b.records("answers", m.Answers)
	}
	if f&DNSGrouped != 0 {
		b.grouped(m.Answers)
	}
	b.records("authorities", m.Authorities)
	b.records("additionals", m.Additionals)
	b.EndObject()
}

// records writes one section. The 8.0.6 schema allows soa in answers and
// authorities and srv only in answers; where it does not, the record is
// logged without its structured rdata.
func (b *Builder) records(k string, rs []dns.Record) {
	open := false
	for i := range rs {
		r := &rs[i]
		if r.Type == dns.TypeOPT {
			continue
		}
		if !open {
			b.Key(k)
			b.BeginArray()
			open = true
		}
		b.BeginObject()
		b.KeyBytes("rrname", r.Name)
		b.Key("rrtype")
		b.rrtype(r.Type)
		b.KeyUint("ttl", uint64(r.TTL))
		switch {
		case r.SOA != nil:
			if k != "additionals" {
				b.Key("soa")
				b.soa(r.SOA)
			}
		case r.SRV != nil:
			if k == "answers" {
				b.Key("srv")
				b.srv(r.SRV)
			}
		case len(r.Data) > 0:
			b.KeyBytes("rdata", r.Data)
		}
		b.EndObject()
	}
	if open {
		b.EndArray()
	}
}

func (b *Builder) soa(s *dns.SOA) {
	b.BeginObject()
	b.KeyBytes("mname", s.MName)
	b.KeyBytes("rname", s.RName)
	b.KeyUint("serial", uint64(s.Serial))
	b.KeyUint("refresh", uint64(s.Refresh))
	b.KeyUint("retry", uint64(s.Retry))
	b.KeyUint("expire", uint64(s.Expire))
	b.KeyUint("minimum", uint64(s.Minimum))
	b.EndObject()
}

func (b *Builder) srv(s *dns.SRV) {
	b.BeginObject()
	b.KeyUint("priority", uint64(s.Priority))
	b.KeyUint("weight", uint64(s.Weight))
	b.KeyUint("port", uint64(s.Port))
	b.KeyBytes("name", s.Target)
	b.EndObject()
}

// groupedTypes are the rrtypes the 8.0.6 schema allows in "grouped", in the
// order polder writes them (Suricata's order is a HashMap's: unspecified).
var groupedTypes = [...]uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, 10, /* NULL */
	dns.TypePTR, dns.TypeSOA, dns.TypeSRV, dns.TypeTXT,
}

// grouped writes "grouped":{"A":["1.2.3.4",...],...}. It scans the answers
// once per type: answers are few and this keeps it allocation-free.
func (b *Builder) grouped(rs []dns.Record) {
	open := false
	for _, t := range groupedTypes {
		n := 0
		for i := range rs {
			r := &rs[i]
			if r.Type != t {
				continue
			}
			switch t {
			case dns.TypeSOA:
				if r.SOA == nil {
					continue
				}
			case dns.TypeSRV:
				if r.SRV == nil {
					continue
				}
			default:
				if len(r.Data) == 0 {
					continue
				}
			}
			if !open {
				b.Key("grouped")
				b.BeginObject()
				open = true
			}
			if n == 0 {
				b.Key(rrtypeName(t))
				b.BeginArray()
			}
			n++
			switch t {
			case dns.TypeSOA:
				b.soa(r.SOA)
			case dns.TypeSRV:
				b.srv(r.SRV)
			default:
				b.Bytes(r.Data)
			}
		}
		if n > 0 {
			b.EndArray()
		}
	}
	if open {
		b.EndObject()
	}
}

// rrtypeNames are the upper-case names Suricata's DNSRecordType prints;
// other types are printed as decimal numbers.
var rrtypeNames = [257]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
	10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
	17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAPPTR",
	24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
	33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME",
	41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC",
	48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 55: "HIP",
	59: "CDS", 60: "CDNSKEY", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
	254: "MAILA", 255: "ANY", 256: "URI",
}

func rrtypeName(t uint16) string {
	if int(t) < len(rrtypeNames) {
		return rrtypeNames[t]
	}
	return ""
}

func (b *Builder) rrtype(t uint16) {
	if name := rrtypeName(t); name != "" {
		b.String(name)
		return
	}
	b.sep()
	b.B = append(b.B, '"')
	b.B = strconv.AppendUint(b.B, uint64(t), 10)
	b.B = append(b.B, '"')
}

// rcodeNames are RFC 1035/2136 names as Suricata prints them; 11–15 are
// printed as numbers.
var rcodeNames = [16]string{
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
}

func (b *Builder) rcode(rc uint8) {
	if name := rcodeNames[rc&0xf]; name != "" {
		b.String(name)
		return
	}
	b.sep()
	b.B = append(b.B, '"')
	b.B = strconv.AppendUint(b.B, uint64(rc&0xf), 10)
	b.B = append(b.B, '"')
}
