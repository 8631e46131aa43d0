// Package fastlog formats Suricata's fast.log: one line of text per alert,
// the classic Snort-style alert log that scripts and suricata-verify tests
// count with `wc -l`:
//
//	10/16/2009-16:44:16.109042  [**] [1:100:0] msg [**] [Classification: (null)] [Priority: 3] {TCP} 192.168.2.3:37010 -> 208.69.36.231:80
//
// It follows Suricata's AlertFastLogger (alert-fastlog.c): the packet's
// time as MM/DD/YYYY-HH:MM:SS.uuuuuu in the time's own location, two
// spaces, "[Drop] " for a blocked packet or "[wDrop] " for a drop rule that
// only alerted (IDS mode), gid:sid:rev, the rule's msg, the classtype's
// description ("(null)" without one, as Suricata prints a NULL string), the
// priority, the protocol name and the addresses, with ICMP type and code in
// place of the ports.
//
// Writing is the caller's business: any line writer that keeps lines whole
// will do (the pipeline uses eve.Writer on a plain file).
package fastlog

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/polder-nsm/polder/sensor/output/eve"
)

// Alert is what one fast.log line says. The caller fills it from the
// alert's signature and the packet it fired on; Append does not keep it.
type Alert struct {
	Time time.Time
	// Blocked marks an alert whose packet was dropped (IPS mode);
	// WouldDrop a drop or reject rule that only alerted.
	Blocked, WouldDrop bool
	GID, SID, Rev      uint32
	Msg                string
	// Class is the classtype's description; "" prints "(null)".
	Class    string
	Priority int
	Proto    uint8 // IANA protocol number
	// Src and Dst are the packet's addresses. When Src is not valid (an
	// alert on a packet without an IP layer) the line carries the first 32
	// bytes of Raw in hex instead, and PcapCnt when not 0.
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // for ICMP: the type and code
	Raw              []byte
	PcapCnt          uint64
}

// rawBytes is how much of a packet without addresses a line shows.
const rawBytes = 32

// Append appends the line for a, '\n' included, to dst. It allocates only
// when dst must grow. Msg and Class come from rule and classification
// files; control characters in them are written as \xNN so that a line
// stays one line.
func Append(dst []byte, a *Alert) []byte {
	dst = appendTime(dst, a.Time)
	dst = append(dst, "  "...)
	switch {
	case a.Blocked:
		dst = append(dst, "[Drop] "...)
	case a.WouldDrop:
		dst = append(dst, "[wDrop] "...)
	}
	dst = append(dst, "[**] ["...)
	dst = strconv.AppendUint(dst, uint64(a.GID), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(a.SID), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(a.Rev), 10)
	dst = append(dst, "] "...)
	dst = appendText(dst, a.Msg)
	dst = append(dst, " [**] [Classification: "...)
	if a.Class == "" {
		dst = append(dst, "(null)"...)
	} else {
		dst = appendText(dst, a.Class)
	}
	dst = append(dst, "] [Priority: "...)
	dst = strconv.AppendInt(dst, int64(a.Priority), 10)
	dst = append(dst, ']')
	if !a.Src.IsValid() {
		dst = append(dst, " [**] [Raw pkt: "...)
		for i, c := range a.Raw[:min(len(a.Raw), rawBytes)] {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, hexUpper[c>>4], hexUpper[c&0xf])
		}
		dst = append(dst, ']')
		if a.PcapCnt != 0 {
			dst = append(dst, " [pcap file packet: "...)
			dst = strconv.AppendUint(dst, a.PcapCnt, 10)
			dst = append(dst, ']')
		}
		return append(dst, '\n')
	}
	dst = append(dst, " {"...)
	if name := eve.ProtoName(a.Proto); name != "" {
		dst = append(dst, name...)
	} else {
		dst = append(dst, "PROTO:"...)
		if a.Proto < 100 {
			dst = append(dst, '0')
		}
		if a.Proto < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendUint(dst, uint64(a.Proto), 10)
	}
	dst = append(dst, "} "...)
	dst = a.Src.AppendTo(dst)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(a.SrcPort), 10)
	dst = append(dst, " -> "...)
	dst = a.Dst.AppendTo(dst)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(a.DstPort), 10)
	return append(dst, '\n')
}

const hexUpper = "0123456789ABCDEF"

// appendText appends s with bytes below 0x20 and 0x7f written as \xNN.
func appendText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// appendTime writes Suricata's CreateTimeString format,
// MM/DD/YYYY-HH:MM:SS.uuuuuu.
func appendTime(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	dst = append2(dst, int(month))
	dst = append(dst, '/')
	dst = append2(dst, day)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(year), 10)
	dst = append(dst, '-')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, minute)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	dst = append(dst, '.')
	us := t.Nanosecond() / 1000
	for div := 100000; div > 0; div /= 10 {
		dst = append(dst, byte('0'+us/div%10))
	}
	return dst
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}
