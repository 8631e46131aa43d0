// Package dns parses DNS messages (RFC 1035) from UDP datagrams and from TCP
// streams with their two-byte length prefix.
package dns

import "time"

// Record types (IANA DNS parameters) the parser renders; others are kept by
// number.
const (
	TypeA     = 1
	TypeNS    = 2
	TypeCNAME = 5
	TypeSOA   = 6
	TypePTR   = 12
	TypeMX    = 15
	TypeTXT   = 16
	TypeAAAA  = 28
	TypeSRV   = 33
	TypeOPT   = 41
	TypeSSHFP = 44
	TypeHTTPS = 65
	TypeANY   = 255
)

// Question is one entry of the question section.
type Question struct {
	Name  []byte // dotted name without trailing dot, as on the wire (case kept, not unescaped)
	Type  uint16
	Class uint16
}

// SOA is the rdata of an SOA record.
type SOA struct {
	MName, RName                            []byte
	Serial, Refresh, Retry, Expire, Minimum uint32
}

// SRV is the rdata of an SRV record.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 []byte
}

// Record is one resource record. Data is the rdata rendered as Suricata logs
// it (address text for A/AAAA, a name for CNAME/NS/PTR/MX, text for TXT);
// SOA and SRV carry their parts.
type Record struct {
	Name  []byte
	Type  uint16
	Class uint16
	TTL   uint32
	Data  []byte
	SOA   *SOA
	SRV   *SRV
}

// Message is one DNS message. All slices are owned by the Message.
type Message struct {
	Timestamp   time.Time
	TxID        uint64 // index in the flow (EVE tx_id)
	ID          uint16 // DNS header id
	Flags       uint16 // the 16 flag bits of the header (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode)
	Questions   []Question
	Answers     []Record
	Authorities []Record
	Additionals []Record
	Truncated   bool // the message ended before all sections were read (still logged)
}

// Response reports whether QR is set.
func (m *Message) Response() bool { return m.Flags&0x8000 != 0 }

// Opcode returns the 4-bit opcode.
func (m *Message) Opcode() uint8 { return uint8(m.Flags>>11) & 0xf }

// Rcode returns the 4-bit response code.
func (m *Message) Rcode() uint8 { return uint8(m.Flags & 0xf) }
