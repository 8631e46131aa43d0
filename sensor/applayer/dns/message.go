// Package dns parses DNS messages (RFC 1035; AAAA RFC 3596, SRV RFC 2782,
// EDNS OPT RFC 6891, DNSSEC types kept opaque) from UDP datagrams
// (Parse, ParseDatagram, DatagramParser) and from TCP streams with their
// two-byte length prefix (StreamParser), the way Suricata's DNS parser
// reads them: names keep their raw label bytes (AppendName renders them
// as Suricata's EVE does), rdata is rendered as Suricata logs it, and a
// message cut short keeps what parsed (Message.Truncated).
//
// Every read is bounds-checked; work per message is bounded by MaxRecords,
// MaxPointers and MaxNameLen, memory per TCP direction by MaxStreamBuffer.
// Parse and the parsers do not allocate once a Message's storage has
// grown. Errors are a few sentinels for the caller to count.
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
	// Name is the dotted name without trailing dot, label bytes as on the
	// wire (case kept, nothing escaped); the root name is empty. This is
	// what the dns.query buffer matches. Use AppendName to render it the
	// way Suricata logs it.
	Name  []byte
	Type  uint16
	Class uint16
}

// SOA is the rdata of an SOA record.
type SOA struct {
	MName, RName                            []byte
	Serial, Refresh, Retry, Expire, Minimum uint32
}

// SSHFP is the rdata of an SSHFP record (RFC 4255), as Suricata logs it.
type SSHFP struct {
	Algo, FPType uint8
	Fingerprint  []byte // lower-case colon-separated hex, "aa:bb:..."
}

// SRV is the rdata of an SRV record.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 []byte
}

// Record is one resource record. Data is the rdata rendered as Suricata logs
// it: address text for A ("1.2.3.4") and AAAA (eight zero-padded groups,
// "2a00:1450:0000:...", Suricata does not compress), the decompressed name
// for CNAME/NS/PTR/MX (MX preference dropped, as Suricata does), the first
// character-string for TXT (all of them in TXT), the raw bytes for NULL.
// Data is nil for types Suricata logs without rdata (OPT, HINFO, HTTPS,
// unknown...). Names and TXT/NULL bytes are raw: render them with
// AppendName. SOA, SRV and SSHFP carry their parts. Raw is always the
// undecoded rdata (for rules and hex output).
type Record struct {
	Name  []byte
	Type  uint16
	Class uint16 // for OPT: the requestor's UDP payload size
	TTL   uint32 // for OPT: extended rcode, version and flags
	Data  []byte
	TXT   [][]byte // every character-string of a TXT record, in order
	Raw   []byte
	SOA   *SOA
	SRV   *SRV
	SSHFP *SSHFP
}

// Message is one DNS message. All slices are owned by the Message and stay
// valid until the Message is passed to Parse again (Parse reuses its
// storage); copy what must outlive that or cross goroutines.
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

	arena []byte   // backing store for names and rendered rdata, reused across Parse
	txts  [][]byte // backing store for Record.TXT
	soas  []SOA    // backing stores for Record.SOA, SRV, SSHFP
	srvs  []SRV
	fps   []SSHFP
	end   int // offset just past the last record parsed (for Probe)
}

// Response reports whether QR is set.
func (m *Message) Response() bool { return m.Flags&0x8000 != 0 }

// Opcode returns the 4-bit opcode.
func (m *Message) Opcode() uint8 { return uint8(m.Flags>>11) & 0xf }

// Rcode returns the 4-bit response code.
func (m *Message) Rcode() uint8 { return uint8(m.Flags & 0xf) }
