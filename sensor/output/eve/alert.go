package eve

import (
	"net/netip"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer/dns"
	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/applayer/tls"
)

// Alert actions (EVE alert.action). Suricata writes "blocked" when the rule
// rejects, or drops in IPS mode, and "allowed" otherwise.
const (
	ActionAllowed = "allowed"
	ActionBlocked = "blocked"
)

// Directions (EVE "direction"): the packet the alert fired on went from the
// flow's client to its server, or back.
const (
	ToServer = "to_server"
	ToClient = "to_client"
)

// Target says which end of the packet a rule's target keyword names; it
// selects the alert.source and alert.target objects.
type Target uint8

const (
	TargetNone Target = iota // no target keyword: no source/target objects
	TargetDest               // target:dest_ip — the packet's destination is the target
	TargetSrc                // target:src_ip — the packet's source is the target
)

// MetaKV is one key/value pair of a rule's metadata keyword
// ("metadata:created_at 2011_06_14, deployment Perimeter;").
type MetaKV struct {
	Key, Value string
}

// Alert is what a matched rule contributes to an alert event. Every string
// is escaped as AppendString describes; the rule text is operator input but
// is treated as hostile all the same. AppendAlert does not keep any of it.
type Alert struct {
	// Action is ActionAllowed or ActionBlocked; "" is written as
	// ActionAllowed.
	Action string

	GID, SID, Rev uint32

	// Signature is the rule's msg.
	Signature string
	// Category is the classtype's description from classification.config.
	// Suricata always writes the member, as "" for a rule without a
	// classtype, and so does AppendAlert.
	Category string
	// Severity is the rule's priority (priority keyword, else the
	// classtype's); Suricata always writes it. 0 (unset) is written as 3,
	// Suricata's default priority.
	Severity int

	// Target selects alert.source and alert.target, which Suricata fills
	// from the packet's addresses (Header.SrcIP/DstIP and, for TCP, UDP and
	// SCTP, the ports).
	Target Target

	// References, when not empty, are written as alert.references (Suricata
	// 8's "reference" rule metadata option, off by default): each is the
	// reference.config URL prefix and the value, "http://" +
	// "www.example.com/x" → "http://www.example.com/x".
	References []string

	// Metadata is the rule's metadata keyword, pairs in rule order; empty
	// leaves alert.metadata out. It is written the way Suricata groups it:
	// keys sorted case-insensitively, each key once, its values in reverse
	// rule order ({"deployment":["alert_only","Perimeter"]} for
	// "deployment Perimeter, deployment alert_only").
	Metadata []MetaKV

	// Rule, when not "", is written as alert.rule: the rule text (Suricata's
	// "metadata.rule.raw" option).
	Rule string

	// Direction is ToServer or ToClient: the packet's direction in its
	// flow. It is written, and it orients the flow object, only when
	// AppendAlert is given a flow; "" is written as ToServer.
	Direction string

	// TxGuessed writes "tx_guessed":true: the rule is not tied to a
	// transaction and the engine picked the one logged (Suricata 8).
	TxGuessed bool

	// Flowbits are the flowbits set on the flow when the alert fired, in
	// the flow's order; Suricata writes them, when its eve "metadata"
	// option is on (the default), as the top-level
	// "metadata":{"flowbits":[...]}. Empty leaves the object out.
	Flowbits []string
}

// AlertFlow is the flow of an alert: the "flow" object Suricata 7 and 8
// embed in alerts (counters so far and start time; src/dest are the flow's
// client and server, which AppendAlert takes from the Header and
// Alert.Direction), and the flow's per-direction app-layer protocols.
// Counters are packets and bytes on the wire, as in FlowRecord.
type AlertFlow struct {
	Start time.Time // first packet of the flow

	PktsToServer, PktsToClient   uint64
	BytesToServer, BytesToClient uint64

	// App-layer protocol names when they differ from Header.AppProto (""
	// omits), as in FlowRecord.
	AppProtoTS, AppProtoTC, AppProtoOrig, AppProtoExpected string
}

// AlertOptions selects the optional parts of an alert, as the options of
// Suricata's eve-log alert output do. The zero value is Suricata's default:
// none of them.
type AlertOptions struct {
	// Payload writes AlertApp.Payload as base64 "payload" ("payload: yes").
	Payload bool
	// PayloadPrintable writes it as "payload_printable": printable ASCII,
	// CR and LF kept, every other byte replaced by '.'
	// ("payload-printable: yes").
	PayloadPrintable bool
	// PayloadLength writes "payload_length" ("payload-length: yes",
	// Suricata 8).
	PayloadLength bool
	// Packet writes AlertApp.Packet as base64 "packet" and "packet_info"
	// ("packet: yes").
	Packet bool
	// HTTPBodyPrintable writes http_request_body_printable and
	// http_response_body_printable in the http object
	// ("http-body-printable: yes").
	HTTPBodyPrintable bool
	// HTTPBody writes http_request_body and http_response_body as base64
	// ("http-body: yes").
	HTTPBody bool
}

// AlertApp is what an alert carries beyond the rule: the app-layer
// transaction it was raised on (at most one of HTTP, DNS and TLS; the
// others nil), the packet or stream payload and the packet. All of it is
// optional; byte slices are only read during the AppendAlert call.
type AlertApp struct {
	HTTP *http.Transaction
	DNS  *dns.Message
	TLS  *tls.Session

	// TSProgress and TCProgress are the transaction's progress in each
	// direction by Suricata's state names (Suricata 8's "ts_progress" and
	// "tc_progress", e.g. "request_complete"); "" omits. They are written
	// only with a transaction.
	TSProgress, TCProgress string

	// Payload is the data to log as payload: the packet's payload, or for
	// a stream match the reassembled stream data of the packet's direction
	// (Suricata writes "[N bytes missing]" where the stream had a gap; the
	// caller puts that text in). Stream marks the latter: "stream":1 for a
	// TCP alert with a flow, else 0. Written only as Options ask.
	Payload []byte
	Stream  bool

	// Packet is the whole packet as captured (link layer included) and
	// LinkType its pcap LINKTYPE, for "packet" and "packet_info".
	Packet   []byte
	LinkType uint32

	Options AlertOptions
}

// AppendAlert appends one complete "alert" event line (with '\n') to dst
// and returns the extended buffer. It allocates only when dst must grow.
//
// h describes the packet the alert fired on, as Suricata's alert header
// does (LOG_DIR_PACKET): Src/Dst are the packet's source and destination,
// not the flow's client and server; h.HasTxID and h.TxID are the
// transaction the rule matched; h.AppProto is the flow's protocol. f is nil
// for an alert on a packet without a flow: Suricata then writes neither the
// app-layer object, app_proto, direction nor flow.
//
// Members and their order follow Suricata 8.0's AlertJson
// (src/output-json-alert.c): the header up to pkt_src, "metadata"
// (flowbits), tx_id, tx_guessed, "alert":{action, gid, signature_id, rev,
// signature, category, severity, source, target, references, metadata,
// rule}, ts_progress, tc_progress, the app-layer object ("http", "dns" or
// "tls"), app_proto, app_proto_ts, app_proto_tc, app_proto_orig,
// app_proto_expected, direction, "flow":{pkts_toserver, pkts_toclient,
// bytes_toserver, bytes_toclient, start, src_ip, dest_ip, src_port,
// dest_port}, payload, payload_length, payload_printable, stream, packet,
// "packet_info":{linktype, linktype_name}.
//
// In alerts Suricata 8 logs DNS in the v3 format with "answers" only (no
// "grouped"), and HTTP with the event's basic and extended fields but never
// the header dumps. Not written: tunnel, files, frame, xff, capture_file,
// verdict, alert.context and tenant_id.
func AppendAlert(dst []byte, h *Header, a *Alert, f *AlertFlow, app AlertApp) []byte {
	b := Builder{B: dst}
	b.headerTuple(h, "alert")
	if len(a.Flowbits) > 0 {
		b.Key("metadata")
		b.BeginObject()
		b.Key("flowbits")
		b.BeginArray()
		for _, fb := range a.Flowbits {
			b.String(fb)
		}
		b.EndArray()
		b.EndObject()
	}
	if h.HasTxID {
		b.KeyUint("tx_id", h.TxID)
	}
	if a.TxGuessed {
		b.KeyBool("tx_guessed", true)
	}
	b.alertObject(h, a)

	if f != nil {
		hasTx := app.HTTP != nil || app.DNS != nil || app.TLS != nil
		if hasTx {
			if app.TSProgress != "" {
				b.KeyString("ts_progress", app.TSProgress)
			}
			if app.TCProgress != "" {
				b.KeyString("tc_progress", app.TCProgress)
			}
		}
		switch {
		case app.HTTP != nil:
			b.Key("http")
			b.BeginObject()
			b.httpFields(app.HTTP)
			if app.Options.HTTPBodyPrintable {
				b.keyPrintASCII("http_request_body_printable", app.HTTP.RequestBody)
				b.keyPrintASCII("http_response_body_printable", app.HTTP.ResponseBody)
			}
			if app.Options.HTTPBody {
				b.keyBase64("http_request_body", app.HTTP.RequestBody)
				b.keyBase64("http_response_body", app.HTTP.ResponseBody)
			}
			b.EndObject()
		case app.DNS != nil:
			b.dnsObject(app.DNS, DNSDetailed)
		case app.TLS != nil:
			b.tlsObject(app.TLS)
		}

		if h.AppProto != "" {
			b.KeyString("app_proto", h.AppProto)
		}
		for _, p := range [...]struct{ k, v string }{
			{"app_proto_ts", f.AppProtoTS}, {"app_proto_tc", f.AppProtoTC},
			{"app_proto_orig", f.AppProtoOrig}, {"app_proto_expected", f.AppProtoExpected},
		} {
			if p.v != "" {
				b.KeyString(p.k, p.v)
			}
		}
		toClient := a.Direction == ToClient
		if a.Direction == "" {
			b.KeyString("direction", ToServer)
		} else {
			b.KeyString("direction", a.Direction)
		}
		b.alertFlow(h, f, toClient)
	}

	o := app.Options
	if o.Payload || o.PayloadPrintable || o.PayloadLength {
		// Suricata counts a match as a stream match for TCP only, and
		// logs stream data only with a flow; with no stream data and no
		// packet payload it logs nothing but "stream".
		stream := app.Stream && h.Proto == 6 && f != nil
		if o.Payload {
			b.keyBase64("payload", app.Payload)
		}
		if o.PayloadLength && !(stream && len(app.Payload) == 0) {
			b.KeyUint("payload_length", uint64(len(app.Payload)))
		}
		if o.PayloadPrintable {
			b.keyPrintASCII("payload_printable", app.Payload)
		}
		if stream {
			b.KeyInt("stream", 1)
		} else {
			b.KeyInt("stream", 0)
		}
	}
	if o.Packet {
		b.keyBase64("packet", app.Packet)
		b.Key("packet_info")
		b.BeginObject()
		b.KeyUint("linktype", uint64(app.LinkType))
		b.KeyString("linktype_name", linkTypeName(app.LinkType))
		b.EndObject()
	}
	return b.end()
}

// alertObject writes "alert":{...} (Suricata's AlertJsonHeader).
func (b *Builder) alertObject(h *Header, a *Alert) {
	b.Key("alert")
	b.BeginObject()
	if a.Action == "" {
		b.KeyString("action", ActionAllowed)
	} else {
		b.KeyString("action", a.Action)
	}
	b.KeyUint("gid", uint64(a.GID))
	b.KeyUint("signature_id", uint64(a.SID))
	b.KeyUint("rev", uint64(a.Rev))
	b.KeyString("signature", a.Signature)
	b.KeyString("category", a.Category)
	sev := a.Severity
	if sev == 0 {
		sev = 3 // DETECT_DEFAULT_PRIO
	}
	b.KeyInt("severity", int64(sev))
	switch a.Target {
	case TargetDest:
		b.endpoint("source", h.SrcIP, h.SrcPort, h.Proto)
		b.endpoint("target", h.DstIP, h.DstPort, h.Proto)
	case TargetSrc:
		b.endpoint("source", h.DstIP, h.DstPort, h.Proto)
		b.endpoint("target", h.SrcIP, h.SrcPort, h.Proto)
	}
	if len(a.References) > 0 {
		b.Key("references")
		b.BeginArray()
		for _, r := range a.References {
			b.String(r)
		}
		b.EndArray()
	}
	if len(a.Metadata) > 0 {
		b.Key("metadata")
		b.ruleMetadata(a.Metadata)
	}
	if a.Rule != "" {
		b.KeyString("rule", a.Rule)
	}
	b.EndObject()
}

// endpoint writes "k":{"ip":...,"port":...} for alert.source/target. As in
// Suricata's AlertJsonSourceTarget the port is written for TCP, UDP and
// SCTP only.
func (b *Builder) endpoint(k string, ip netip.Addr, port uint16, proto uint8) {
	b.Key(k)
	b.BeginObject()
	if ip.IsValid() {
		b.keyAddr("ip", ip)
	}
	if proto == 6 || proto == 17 || proto == 132 {
		b.KeyUint("port", uint64(port))
	}
	b.EndObject()
}

// alertFlow writes the flow object of an alert (Suricata's EveAddFlow plus
// the flow's endpoints). The endpoints are the packet's, swapped for a
// packet to the client; like Suricata, it writes the ports only when the
// packet's source port is not 0, which leaves them out for ICMP.
func (b *Builder) alertFlow(h *Header, f *AlertFlow, toClient bool) {
	b.Key("flow")
	b.BeginObject()
	b.KeyUint("pkts_toserver", f.PktsToServer)
	b.KeyUint("pkts_toclient", f.PktsToClient)
	b.KeyUint("bytes_toserver", f.BytesToServer)
	b.KeyUint("bytes_toclient", f.BytesToClient)
	b.KeyTime("start", f.Start)
	src, dst, sp, dp := h.SrcIP, h.DstIP, h.SrcPort, h.DstPort
	if toClient {
		src, dst, sp, dp = dst, src, dp, sp
	}
	if src.IsValid() {
		b.keyAddr("src_ip", src)
	}
	if dst.IsValid() {
		b.keyAddr("dest_ip", dst)
	}
	if hasPorts(h.Proto) && h.SrcPort != 0 {
		b.KeyUint("src_port", uint64(sp))
		b.KeyUint("dest_port", uint64(dp))
	}
	b.EndObject()
}

// keyBase64 writes "k":"<base64 of v>" when v is not empty; Suricata's
// JsonBuilder skips an empty value (SCJbSetBase64 with length 0).
func (b *Builder) keyBase64(k string, v []byte) {
	if len(v) == 0 {
		return
	}
	b.Key(k)
	b.Base64(v)
}

// keyPrintASCII writes "k":"..." with v rendered as Suricata's
// PrintStringsToBuffer / SCJbSetPrintAsciiString do for payload_printable
// and the alert's http body fields: printable ASCII (0x20–0x7e), CR and LF
// are kept (and JSON-escaped as needed), every other byte, TAB, NUL and
// bytes ≥ 0x80 included, becomes '.'. Empty v writes nothing. The output
// has exactly one character per input byte, so it lines up with the
// payload's offsets.
func (b *Builder) keyPrintASCII(k string, v []byte) {
	if len(v) == 0 {
		return
	}
	b.Key(k)
	b.sep()
	b.B = appendPrintable(b.B, v, false)
}

// ruleMetadata writes a rule's metadata as the object Suricata's
// CraftPreformattedJSON (src/detect-metadata.c) builds once per rule:
// pairs sorted by key, case-insensitively (strcasecmp), each key once with
// its values in an array. Suricata collects the pairs by prepending to a
// list and sorts it with the C library's qsort, which is a stable merge
// sort on glibc: values of one key therefore come out in reverse rule
// order ("deployment Perimeter, deployment alert_only" →
// "deployment":["alert_only","Perimeter"], as Suricata 7.0.4 logs ET rule
// 2033078), and a key that appears in different cases is written as its
// last spelling.
//
// It allocates nothing. Up to maxMetaSort pairs are ordered by an
// insertion sort into an index array on the stack, linear for rules whose
// keys are nearly ascending (ET writes them so); longer lists are grouped
// by repeated scans, O(pairs × keys).
func (b *Builder) ruleMetadata(md []MetaKV) {
	b.BeginObject()
	if len(md) <= maxMetaSort {
		b.metaSorted(md)
	} else {
		b.metaScanned(md)
	}
	b.EndObject()
}

// maxMetaSort bounds the stack index of metaSorted; real rules have about
// a dozen metadata pairs.
const maxMetaSort = 64

// metaSorted writes the members of ruleMetadata for len(md) ≤ maxMetaSort.
func (b *Builder) metaSorted(md []MetaKV) {
	var order [maxMetaSort]uint8
	for i := range md {
		// Insert i before every pair whose key is not smaller: among equal
		// keys the later pair comes first.
		j := i
		for j > 0 && foldCompare(md[order[j-1]].Key, md[i].Key) >= 0 {
			order[j] = order[j-1]
			j--
		}
		order[j] = uint8(i)
	}
	for j := range md {
		m := &md[order[j]]
		if j == 0 || foldCompare(md[order[j-1]].Key, m.Key) != 0 {
			if j > 0 {
				b.EndArray()
			}
			b.EscapedKey(m.Key)
			b.BeginArray()
		}
		b.String(m.Value)
	}
	if len(md) > 0 {
		b.EndArray()
	}
}

// metaScanned writes the members of ruleMetadata for any number of pairs
// without an index: each round finds the next key and writes its values.
func (b *Builder) metaScanned(md []MetaKV) {
	prev := -1 // index of a pair of the last key written
	for {
		next := -1 // a pair with the smallest key greater than prev's
		for i := range md {
			if prev >= 0 && foldCompare(md[i].Key, md[prev].Key) <= 0 {
				continue
			}
			if next < 0 || foldCompare(md[i].Key, md[next].Key) < 0 {
				next = i
			}
		}
		if next < 0 {
			return
		}
		open := false
		for i := len(md) - 1; i >= 0; i-- {
			if foldCompare(md[i].Key, md[next].Key) != 0 {
				continue
			}
			if !open {
				b.EscapedKey(md[i].Key)
				b.BeginArray()
				open = true
			}
			b.String(md[i].Value)
		}
		b.EndArray()
		prev = next
	}
}

// foldCompare compares a and b as C's strcasecmp does in the C locale:
// byte by byte after mapping 'A'–'Z' to lower case, bytes as unsigned.
func foldCompare(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := lower(a[i]), lower(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// linkTypeName returns the name Suricata 8's DatalinkValueToName prints in
// packet_info.linktype_name (libpcap DLT names), "n/a" for others.
func linkTypeName(lt uint32) string {
	switch lt {
	case 0:
		return "NULL"
	case 1:
		return "EN10MB"
	case 9:
		return "PPP"
	case 12:
		return "RAW" // DLT_RAW on Linux; LINKTYPE_RAW (101) in a pcap file reads as this
	case 101:
		return "RAW2"
	case 104:
		return "C_HDLC"
	case 113:
		return "LINUX_SLL"
	case 228:
		return "IPv4"
	case 229:
		return "IPv6"
	case 276:
		return "LINUX_SLL2"
	case 778:
		return "GRE_RAW"
	}
	return "n/a"
}
