package detect

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/rules"
)

// condOp is a packet (non-payload) condition.
type condOp uint8

const (
	condDsize condOp = iota + 1
	condTTL
	condIType
	condICode
	condICMPID
	condICMPSeq
	condIPID
	condTCPMSS
	condWindow
	condSeq
	condAck
	condFlags
	condIPProto
	condAppProto
	condStreamSize
	condTLSVersion
	condTLSSubject     // tls.subject:"..." (legacy): the subject contains the string
	condTLSIssuer      // tls.issuerdn:"..."
	condTLSFingerprint // tls.fingerprint:"..." equals, case-insensitively
	condDNSRRType      // dns.rrtype: a question's type
)

// cond is one compiled packet condition.
type cond struct {
	op   condOp
	cmp  rules.CmpOp
	a, b uint64
	neg  bool

	// flags: the bits that must be set (Suricata's flags keyword) under
	// mask, with the modifier '+', '*', '!' or 0 for exact.
	flagSet, flagMask uint8
	flagMod           byte

	app applayer.Proto
	// stream_size: which side(s) to measure.
	side string
	// str is the value of string conditions (tls.subject, ...).
	str []byte
}

// txOnly reports whether the condition reads a transaction.
func (c *cond) txOnly() bool {
	switch c.op {
	case condTLSVersion, condTLSSubject, condTLSIssuer, condTLSFingerprint, condDNSRRType:
		return true
	}
	return false
}

// compileConds compiles Rule.Packet. Keywords about inputs polder does
// not produce mark the signature inactive instead of refusing it, so the
// ruleset still loads whole and the reason is reported.
func (c *compiler) compileConds(s *Sig) *compileError {
	for _, m := range s.rule.Packet {
		switch m := m.(type) {
		case *rules.Compare:
			op, ok := compareOps[m.Name]
			if !ok {
				if m.Name == "urilen" {
					continue // compiled as a bsize on the URI buffer
				}
				return refuse(m.Name, m.Pos, "keyword %s is not supported by the engine", m.Name)
			}
			cd := cond{op: op, cmp: m.Op, a: m.A, b: m.B}
			if op == condStreamSize {
				cd.side = m.Arg
			}
			s.conds = append(s.conds, cd)
		case *rules.Keyword:
			if m.Name == "prefilter" {
				continue // a hint to use this keyword as the prefilter; every rule here has one
			}
			if m.Name == "config" {
				if why := s.compileConfig(m.Value); why != "" && s.inactive == "" {
					s.inactive = why
				}
				continue
			}
			cd, inactive, err := compileKeyword(m)
			if err != nil {
				return refuse(m.Name, m.Pos, "%v", err)
			}
			if inactive != "" {
				if s.inactive == "" {
					s.inactive = inactive
				}
				continue
			}
			s.conds = append(s.conds, cd)
		default:
			return refuse("", m.Position(), "unexpected packet match %T", m)
		}
	}
	return nil
}

// compileConfig reads the config keyword (Suricata's conditional
// logging): "logging disable, type tx, scope tx", the one form Suricata
// implements, is kept as Sig.logTxOff; other forms leave the signature
// inactive, with the reason returned.
func (s *Sig) compileConfig(v string) string {
	var subsys, action, typ, scope string
	for i, part := range strings.Split(v, ",") {
		f := strings.Fields(part)
		switch {
		case i == 0 && len(f) == 2:
			subsys, action = f[0], f[1]
		case len(f) == 2 && f[0] == "type":
			typ = f[1]
		case len(f) == 2 && f[0] == "scope":
			scope = f[1]
		default:
			return "config " + strings.TrimSpace(v) + " is not understood"
		}
	}
	if subsys != "logging" || action != "disable" || typ != "tx" || scope != "tx" {
		return "config " + strings.TrimSpace(v) + " is not implemented (only logging disable, type tx, scope tx)"
	}
	s.logTxOff = true
	return ""
}

var compareOps = map[string]condOp{
	"dsize": condDsize, "ttl": condTTL, "itype": condIType, "icode": condICode,
	"icmp_id": condICMPID, "icmp_seq": condICMPSeq, "id": condIPID, "tcp.mss": condTCPMSS,
	"window": condWindow, "seq": condSeq, "ack": condAck, "stream_size": condStreamSize,
}

type errString string

func (e errString) Error() string { return string(e) }

func compileKeyword(k *rules.Keyword) (cond, string, error) {
	v := strings.TrimSpace(k.Value)
	switch k.Name {
	case "flags", "tcp.flags":
		return compileFlags(v)
	case "ip_proto":
		cd := cond{op: condIPProto, cmp: rules.CmpEQ}
		switch {
		case strings.HasPrefix(v, "!"):
			cd.cmp, v = rules.CmpNE, v[1:]
		case strings.HasPrefix(v, "<"):
			cd.cmp, v = rules.CmpLT, v[1:]
		case strings.HasPrefix(v, ">"):
			cd.cmp, v = rules.CmpGT, v[1:]
		}
		v = strings.TrimSpace(v)
		n, err := strconv.Atoi(v)
		if err != nil {
			var ok bool
			if n, ok = ipProtoNames[strings.ToLower(v)]; !ok {
				return cond{}, "", errString("unknown protocol name " + strconv.Quote(v))
			}
		}
		cd.a = uint64(n)
		return cd, "", nil
	case "app-layer-protocol":
		name, _, _ := strings.Cut(v, ",")
		name = strings.TrimSpace(name)
		cd := cond{op: condAppProto}
		if strings.HasPrefix(name, "!") {
			cd.neg, name = true, strings.TrimSpace(name[1:])
		}
		switch name {
		case "http", "http1":
			cd.app = applayer.ProtoHTTP
		case "tls", "ssl":
			cd.app = applayer.ProtoTLS
		case "dns":
			cd.app = applayer.ProtoDNS
		case "ssh":
			cd.app = applayer.ProtoSSH
		case "failed":
			cd.app = applayer.ProtoFailed
		case "unknown":
			cd.app = applayer.ProtoUnknown
		default:
			if cd.neg {
				return cond{}, "", nil // never equal: "not X" always holds
			}
			return cond{}, "app-layer protocol " + name + " is not detected by polder", nil
		}
		return cd, "", nil
	case "tls.version":
		cd := cond{op: condTLSVersion}
		switch strings.ToLower(v) {
		case "1.0":
			cd.a = 0x0301
		case "1.1":
			cd.a = 0x0302
		case "1.2":
			cd.a = 0x0303
		case "1.3":
			cd.a = 0x0304
		case "3.0", "sslv3":
			cd.a = 0x0300
		default:
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(v), "0x"), 16, 16)
			if err != nil {
				return cond{}, "", errString("bad TLS version " + strconv.Quote(v))
			}
			cd.a = n
		}
		return cd, "", nil
	case "tls.subject", "tls.issuerdn", "tls.fingerprint":
		cd := cond{op: condTLSSubject}
		switch k.Name {
		case "tls.issuerdn":
			cd.op = condTLSIssuer
		case "tls.fingerprint":
			cd.op = condTLSFingerprint
		}
		if strings.HasPrefix(v, "!") {
			cd.neg, v = true, strings.TrimSpace(v[1:])
		}
		str, err := strconv.Unquote(v)
		if err != nil {
			str = strings.Trim(v, `"`)
		}
		if cd.op == condTLSFingerprint {
			str = strings.ToLower(str)
		}
		cd.str = []byte(str)
		return cd, "", nil
	case "dns.rrtype":
		cd := cond{op: condDNSRRType}
		op, a, b, err := rules.ParseCompare(v)
		if err != nil {
			return cond{}, "", err
		}
		cd.cmp, cd.a, cd.b = op, a, b
		return cd, "", nil
	case "app-layer-event":
		return cond{}, "app-layer event " + v + " is not raised by polder", nil
	case "ftpbounce":
		return cond{}, "ftpbounce needs the FTP parser, which polder lacks", nil
	case "asn1":
		return cond{}, "asn1 decoding is not implemented", nil
	}
	return cond{}, "keyword " + k.Name + " is not evaluated by polder", nil
}

var ipProtoNames = map[string]int{
	"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47,
	"esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132, "pim": 103, "vrrp": 112,
}

// compileFlags decodes flags:[!+*]FLAGS[,MASK].
func compileFlags(v string) (cond, string, error) {
	v = strings.ReplaceAll(v, " ", "")
	set, mask, _ := strings.Cut(v, ",")
	cd := cond{op: condFlags}
	if set != "" && strings.IndexByte("!+*", set[0]) >= 0 {
		cd.flagMod, set = set[0], set[1:]
	}
	bits := func(s string) (uint8, error) {
		var b uint8
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case 'F':
				b |= decode.TCPFin
			case 'S':
				b |= decode.TCPSyn
			case 'R':
				b |= decode.TCPRst
			case 'P':
				b |= decode.TCPPsh
			case 'A':
				b |= decode.TCPAck
			case 'U':
				b |= 0x20
			case 'C', '1':
				b |= 0x80
			case 'E', '2':
				b |= 0x40
			case '0':
			default:
				return 0, errString("unknown TCP flag " + strconv.QuoteRune(rune(s[i])))
			}
		}
		return b, nil
	}
	var err error
	if cd.flagSet, err = bits(set); err != nil {
		return cond{}, "", err
	}
	var ignore uint8
	if ignore, err = bits(mask); err != nil {
		return cond{}, "", err
	}
	cd.flagMask = ^ignore
	return cd, "", nil
}

// matchFlags evaluates Suricata's flags keyword on a packet's TCP flags.
func (c *cond) matchFlags(f uint8) bool {
	f &= c.flagMask
	switch c.flagMod {
	case '+':
		return f&c.flagSet == c.flagSet
	case '*':
		return f&c.flagSet != 0 || c.flagSet == 0 && f == 0
	case '!':
		return f&c.flagSet == 0
	}
	return f == c.flagSet
}

// packetConds evaluates the packet conditions that concern p. Conditions
// about other inspections (tls.version) are skipped here.
func (s *Sig) packetConds(p *decode.Packet, app applayer.Proto, fs *FlowState, payloadLen int) bool {
	for i := range s.conds {
		c := &s.conds[i]
		var x uint64
		switch c.op {
		case condDsize:
			if p == nil {
				return false
			}
			x = uint64(payloadLen)
		case condTTL:
			if p == nil {
				return false
			}
			x = uint64(p.TTL)
		case condIType, condICode, condICMPID, condICMPSeq:
			if p == nil || (p.IPProto != decode.IPProtoICMP && p.IPProto != decode.IPProtoICMPv6) {
				return false
			}
			switch c.op {
			case condIType:
				x = uint64(p.ICMPType)
			case condICode:
				x = uint64(p.ICMPCode)
			case condICMPID:
				if !icmpEcho(p) {
					return false
				}
				x = uint64(p.ICMPID)
			case condICMPSeq:
				if !icmpEcho(p) || p.L4Offset+8 > len(p.Data) {
					return false
				}
				x = uint64(binary.BigEndian.Uint16(p.Data[p.L4Offset+6:]))
			}
		case condIPID:
			if p == nil || p.IPVersion != 4 {
				return false
			}
			x = uint64(p.IPID)
		case condTCPMSS, condWindow, condSeq, condAck, condFlags:
			if p == nil || p.IPProto != decode.IPProtoTCP {
				return false
			}
			switch c.op {
			case condTCPMSS:
				if p.TCPMSS == 0 {
					return false
				}
				x = uint64(p.TCPMSS)
			case condWindow:
				x = uint64(p.TCPWindow)
			case condSeq:
				x = uint64(p.TCPSeq)
			case condAck:
				x = uint64(p.TCPAck)
			case condFlags:
				if !c.matchFlags(p.TCPFlags) {
					return false
				}
				continue
			}
		case condIPProto:
			if p == nil {
				return false
			}
			x = uint64(p.IPProto)
		case condAppProto:
			if (app == c.app) == c.neg {
				return false
			}
			continue
		case condStreamSize:
			if fs == nil {
				return false
			}
			if !c.matchStreamSize(fs) {
				return false
			}
			continue
		case condTLSVersion, condTLSSubject, condTLSIssuer, condTLSFingerprint, condDNSRRType:
			continue // decided on the transaction (txConds)
		}
		if !c.cmp.Match(x, c.a, c.b) {
			return false
		}
	}
	return true
}

// matchStreamSize compares the payload bytes seen per side: server is
// what the server sent (to_client), client what the client sent.
func (c *cond) matchStreamSize(fs *FlowState) bool {
	srv, cli := fs.payload[1], fs.payload[0]
	switch c.side {
	case "server":
		return c.cmp.Match(srv, c.a, c.b)
	case "client":
		return c.cmp.Match(cli, c.a, c.b)
	case "both":
		return c.cmp.Match(srv, c.a, c.b) && c.cmp.Match(cli, c.a, c.b)
	}
	return c.cmp.Match(srv, c.a, c.b) || c.cmp.Match(cli, c.a, c.b)
}

func icmpEcho(p *decode.Packet) bool {
	if p.IPProto == decode.IPProtoICMP {
		return p.ICMPType == 0 || p.ICMPType == 8
	}
	return p.ICMPType == 128 || p.ICMPType == 129
}
