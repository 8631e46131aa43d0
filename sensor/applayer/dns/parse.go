package dns

import (
	"errors"
	"time"
)

// Errors Parse returns. They are sentinels so the caller can count them
// without building an error per packet; anything past the header that does
// not parse sets Message.Truncated instead of failing, because Suricata
// still logs what it could read.
var (
	// ErrShort means fewer than the 12 header bytes were present.
	ErrShort = errors.New("dns: message shorter than header")
	// ErrNoQuestion means the question section could not be read at all
	// (count not zero but the first question is malformed): most likely not
	// DNS, so the caller should not log it.
	ErrNoQuestion = errors.New("dns: malformed question section")
)

// Limits that bound the work and memory one message can cost.
const (
	// HeaderLen is the fixed DNS header length.
	HeaderLen = 12
	// MaxNameLen caps a rendered name (bytes). RFC 1035 allows 255 wire
	// bytes; we keep a little more so odd names still log, and cut the rest
	// (the message is then marked Truncated).
	MaxNameLen = 1025
	// MaxPointers caps compression pointers followed for one name: a
	// loop is cut there instead of spinning.
	MaxPointers = 64
	// MaxRecords caps questions plus records kept per message; counts in
	// the header larger than that (or than the bytes could hold) are not
	// trusted.
	MaxRecords = 512
)

// Parse decodes one DNS message b (without the TCP length prefix) into m,
// reusing m's storage. m's previous contents are overwritten; Timestamp
// and TxID are left to the caller. b is not retained: every slice in m
// points into m's own storage.
//
// Parse returns ErrShort if the header is incomplete and ErrNoQuestion if
// the first question cannot be read. Any later inconsistency (a section
// cut short, a bad name, a huge count) keeps what parsed so far and sets
// m.Truncated, as Suricata does.
func Parse(b []byte, m *Message) error {
	m.Questions = m.Questions[:0]
	m.Answers = m.Answers[:0]
	m.Authorities = m.Authorities[:0]
	m.Additionals = m.Additionals[:0]
	m.Truncated = false
	m.end = 0
	m.arena = m.arena[:0]
	m.txts, m.soas, m.srvs, m.fps = m.txts[:0], m.soas[:0], m.srvs[:0], m.fps[:0]
	if len(b) < HeaderLen {
		return ErrShort
	}
	m.ID = be16(b)
	m.Flags = be16(b[2:])
	qd, an, ns, ar := int(be16(b[4:])), int(be16(b[6:])), int(be16(b[8:])), int(be16(b[10:]))
	off := HeaderLen
	budget := MaxRecords

	for i := 0; i < qd; i++ {
		if budget == 0 {
			m.Truncated = true
			return nil
		}
		budget--
		start := len(m.arena)
		next, ok := m.name(b, off)
		if !ok || next+4 > len(b) {
			m.arena = m.arena[:start]
			m.Truncated = true
			if i == 0 {
				return ErrNoQuestion
			}
			return nil
		}
		m.Questions = append(m.Questions, Question{
			Name:  m.arena[start:len(m.arena):len(m.arena)],
			Type:  be16(b[next:]),
			Class: be16(b[next+2:]),
		})
		off = next + 4
	}
	var ok bool
	if m.Answers, off, ok = m.records(b, off, an, m.Answers, &budget); !ok {
		m.Truncated = true
		return nil
	}
	if m.Authorities, off, ok = m.records(b, off, ns, m.Authorities, &budget); !ok {
		m.Truncated = true
		return nil
	}
	if m.Additionals, off, ok = m.records(b, off, ar, m.Additionals, &budget); !ok {
		m.Truncated = true
	}
	m.end = off
	return nil
}

// Probe reports whether b is, beyond reasonable doubt, one whole DNS
// message, so a flow on a port not registered for DNS can be handed to
// this parser (tshark does the same for, e.g., DNSCrypt certificate
// queries on UDP 443). It is strict: a standard opcode, exactly one
// question, rcode ≤ 10, a query carrying no answers, every section
// parsing to exactly the end of b, and not a NetBIOS name (NBNS uses the
// same format). m is scratch storage (reused, so
// probing does not allocate once m has grown).
func Probe(b []byte, m *Message) bool {
	if len(b) < HeaderLen+5 || be16(b[4:]) != 1 {
		return false
	}
	switch op := (b[2] >> 3) & 0xf; op {
	case 0, 2, 4, 5:
	default:
		return false
	}
	if b[3]&0x40 != 0 || b[3]&0xf > 10 { // Z bit, rcode
		return false
	}
	if b[2]&0x80 == 0 && (be16(b[6:]) != 0 || be16(b[8:]) > 16) {
		return false
	}
	if Parse(b, m) != nil || m.Truncated || m.end != len(b) || netbiosName(m.Questions[0].Name) {
		return false
	}
	return true
}

// netbiosName reports the first-level encoding of a NetBIOS name (RFC
// 1001 §14.1: 32 letters A–P as the first label): NBNS shares the DNS
// wire format and must not be taken for DNS.
func netbiosName(name []byte) bool {
	if len(name) < 32 || len(name) > 32 && name[32] != '.' {
		return false
	}
	for _, c := range name[:32] {
		if c|0x20 < 'a' || c|0x20 > 'p' {
			return false
		}
	}
	return true
}

// records reads n resource records at off, appending to dst. ok is false
// when the section was cut short.
func (m *Message) records(b []byte, off, n int, dst []Record, budget *int) ([]Record, int, bool) {
	for i := 0; i < n; i++ {
		if *budget == 0 || off >= len(b) {
			return dst, off, false
		}
		*budget--
		start := len(m.arena)
		next, ok := m.name(b, off)
		if !ok || next+10 > len(b) {
			m.arena = m.arena[:start]
			return dst, off, false
		}
		r := Record{
			Name:  m.arena[start:len(m.arena):len(m.arena)],
			Type:  be16(b[next:]),
			Class: be16(b[next+2:]),
			TTL:   uint32(be16(b[next+4:]))<<16 | uint32(be16(b[next+6:])),
		}
		rdlen := int(be16(b[next+8:]))
		rd := next + 10
		if rd+rdlen > len(b) {
			return dst, off, false
		}
		r.Raw = b[rd : rd+rdlen : rd+rdlen]
		m.rdata(b, rd, &r)
		// Raw must not alias the caller's b: copy it into the arena.
		s := len(m.arena)
		m.arena = append(m.arena, r.Raw...)
		r.Raw = m.arena[s:len(m.arena):len(m.arena)]
		if r.Type == TypeNULL {
			r.Data = r.Raw
		}
		dst = append(dst, r)
		off = rd + rdlen
	}
	return dst, off, true
}

// TypeNULL is the NULL record type (RFC 1035), logged by Suricata as raw
// bytes.
const TypeNULL = 10

// rdata renders r.Raw (found at rd in b, for name decompression) into r as
// Suricata logs it. Malformed rdata leaves Data empty: Suricata then logs
// the record without rdata.
func (m *Message) rdata(b []byte, rd int, r *Record) {
	raw := r.Raw
	switch r.Type {
	case TypeA:
		if len(raw) == 4 {
			s := len(m.arena)
			for i, v := range raw {
				if i > 0 {
					m.arena = append(m.arena, '.')
				}
				m.arena = appendUint(m.arena, uint64(v))
			}
			r.Data = m.arena[s:len(m.arena):len(m.arena)]
		}
	case TypeAAAA:
		if len(raw) == 16 {
			s := len(m.arena)
			for i := 0; i < 16; i += 2 {
				if i > 0 {
					m.arena = append(m.arena, ':')
				}
				m.arena = append(m.arena, hexLower[raw[i]>>4], hexLower[raw[i]&15], hexLower[raw[i+1]>>4], hexLower[raw[i+1]&15])
			}
			r.Data = m.arena[s:len(m.arena):len(m.arena)]
		}
	case TypeCNAME, TypeNS, TypePTR, TypeMX:
		p := rd
		if r.Type == TypeMX {
			if len(raw) < 2 {
				return
			}
			p += 2
		}
		if p >= rd+len(raw) {
			return
		}
		s := len(m.arena)
		if _, ok := m.name(b, p); ok {
			r.Data = m.arena[s:len(m.arena):len(m.arena)]
		} else {
			m.arena = m.arena[:s]
		}
	case TypeTXT:
		first := len(m.txts)
		defer func() { r.TXT = m.txts[first:len(m.txts):len(m.txts)] }()
		for p := 0; p < len(raw); {
			n := int(raw[p])
			if p+1+n > len(raw) {
				break
			}
			s := len(m.arena)
			m.arena = append(m.arena, raw[p+1:p+1+n]...)
			m.txts = append(m.txts, m.arena[s:len(m.arena):len(m.arena)])
			p += 1 + n
		}
		if len(m.txts) > first {
			r.Data = m.txts[first]
		}
	case TypeSOA:
		var soa SOA
		s := len(m.arena)
		p, ok := m.name(b, rd)
		if !ok {
			m.arena = m.arena[:s]
			return
		}
		soa.MName = m.arena[s:len(m.arena):len(m.arena)]
		s = len(m.arena)
		if p, ok = m.name(b, p); !ok || p+20 > rd+len(raw) {
			m.arena = m.arena[:s]
			return
		}
		soa.RName = m.arena[s:len(m.arena):len(m.arena)]
		soa.Serial = be32(b[p:])
		soa.Refresh = be32(b[p+4:])
		soa.Retry = be32(b[p+8:])
		soa.Expire = be32(b[p+12:])
		soa.Minimum = be32(b[p+16:])
		m.soas = append(m.soas, soa)
		r.SOA = &m.soas[len(m.soas)-1]
	case TypeSRV:
		if len(raw) < 7 {
			return
		}
		srv := SRV{Priority: be16(raw), Weight: be16(raw[2:]), Port: be16(raw[4:])}
		s := len(m.arena)
		if _, ok := m.name(b, rd+6); !ok {
			m.arena = m.arena[:s]
			return
		}
		srv.Target = m.arena[s:len(m.arena):len(m.arena)]
		m.srvs = append(m.srvs, srv)
		r.SRV = &m.srvs[len(m.srvs)-1]
	case TypeSSHFP:
		if len(raw) < 2 {
			return
		}
		fp := SSHFP{Algo: raw[0], FPType: raw[1]}
		s := len(m.arena)
		m.arena = appendColonHex(m.arena, raw[2:], hexLower)
		fp.Fingerprint = m.arena[s:len(m.arena):len(m.arena)]
		m.fps = append(m.fps, fp)
		r.SSHFP = &m.fps[len(m.fps)-1]
	}
}

// name decodes the possibly compressed name at off in b, appending the
// dotted label bytes (no trailing dot) to m.arena. It returns the offset
// just past the name's wire form (after the first pointer, if any).
// Pointers may go anywhere inside b, as Suricata accepts, but at most
// MaxPointers are followed, which cuts loops. A name longer than
// MaxNameLen is rejected.
func (m *Message) name(b []byte, off int) (next int, ok bool) {
	start := len(m.arena)
	next = -1
	jumps := 0
	for {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if next < 0 {
					next = off + 1
				}
				return next, true
			}
			if off+1+l > len(b) {
				return 0, false
			}
			if len(m.arena) > start {
				m.arena = append(m.arena, '.')
			}
			m.arena = append(m.arena, b[off+1:off+1+l]...)
			if len(m.arena)-start > MaxNameLen {
				return 0, false
			}
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return 0, false
			}
			if next < 0 {
				next = off + 2
			}
			jumps++
			if jumps > MaxPointers {
				return 0, false
			}
			off = int(be16(b[off:]) & 0x3fff)
		default:
			// 0x40 and 0x80 label types (RFC 6891 obsoleted extended
			// labels): not decodable.
			return 0, false
		}
	}
}

// ParseDatagram parses one UDP payload into m and stamps it with now and
// txID (the flow's running transaction counter, which the caller advances
// when the result is logged). See Parse for errors.
func ParseDatagram(b []byte, now time.Time, txID uint64, m *Message) error {
	err := Parse(b, m)
	m.Timestamp = now
	m.TxID = txID
	return err
}

const hexLower = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func appendUint(dst []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
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
