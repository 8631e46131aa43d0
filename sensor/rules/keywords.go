package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// stickyBuffers maps every sticky buffer keyword (Suricata 7/8 names and
// their legacy underscore aliases) to its canonical name.
var stickyBuffers = map[string]string{}

// legacyModifiers maps the content modifiers that move the preceding
// content into an HTTP buffer to that buffer's canonical name.
var legacyModifiers = map[string]string{
	"http_uri": "http.uri", "http_raw_uri": "http.uri.raw", "http_host": "http.host",
	"http_raw_host": "http.host.raw", "http_header": "http.header", "http_raw_header": "http.header.raw",
	"http_method": "http.method", "http_client_body": "http.request_body",
	"http_server_body": "http.response_body", "http_user_agent": "http.user_agent",
	"http_cookie": "http.cookie", "http_raw_cookie": "http.cookie", "http_stat_code": "http.stat_code",
	"http_stat_msg": "http.stat_msg",
}

// pcreBuffers maps Suricata's pcre buffer-selecting flags to buffers.
var pcreBuffers = map[byte]string{
	'U': "http.uri", 'I': "http.uri.raw", 'P': "http.request_body", 'Q': "http.response_body",
	'H': "http.header", 'D': "http.header.raw", 'M': "http.method", 'C': "http.cookie",
	'S': "http.stat_code", 'Y': "http.stat_msg", 'V': "http.user_agent", 'W': "http.host",
	'Z': "http.host.raw",
}

// transforms are the buffer transforms; true means the value is required.
var transforms = map[string]bool{
	"to_lowercase": false, "to_uppercase": false, "to_md5": false, "to_sha1": false, "to_sha256": false,
	"strip_whitespace": false, "compress_whitespace": false, "url_decode": false, "dotprefix": false,
	"header_lowercase": false, "strip_pseudo_headers": false, "xor": true, "pcrexform": true,
	"luaxform": true, "from_base64": false, "domain": false, "tld": false,
}

func init() {
	for _, l := range strings.Split(`pkt_data
file.data file_data
http.uri
http.uri.raw
http.host
http.host.raw
http.method
http.header
http.header.raw
http.cookie
http.user_agent
http.request_body
http.response_body
http.stat_code
http.stat_msg
http.content_type http_content_type
http.content_len http_content_len
http.start http_start
http.protocol http_protocol
http.header_names http_header_names
http.referer http_referer
http.accept http_accept
http.accept_enc http_accept_enc
http.accept_lang http_accept_lang
http.connection http_connection
http.location
http.server
http.request_line http_request_line
http.response_line http_response_line
http.request_header
http.response_header
http2.header_name
http2.header
dns.query dns_query
dns.answer.name
dns.query.name
dns.response.name
tls.sni tls_sni
tls.cert_subject tls_cert_subject
tls.cert_issuer tls_cert_issuer
tls.cert_serial tls_cert_serial
tls.cert_fingerprint tls_cert_fingerprint
tls.certs
tls.subjectaltname
tls.alpn
tls.random
tls.random_time
tls.random_bytes
ja3.hash ja3_hash
ja3.string ja3_string
ja3s.hash ja3s_hash
ja3s.string ja3s_string
ja4.hash
ssh.proto ssh_proto
ssh.software ssh_software
ssh.hassh
ssh.hassh.string
ssh.hassh.server
ssh.hassh.server.string
base64_data
dce_stub_data
dnp3_data dnp3.data
smb.named_pipe smb_named_pipe
smb.share smb_share
smb.ntlmssp_user
smb.ntlmssp_domain
krb5.cname krb5_cname
krb5.sname krb5_sname
file.name
file.magic
sip.method
sip.uri
sip.protocol
sip.stat_code
sip.stat_msg
sip.request_line
sip.response_line
smtp.helo
smtp.mail_from
smtp.rcpt_to
email.from
email.subject
email.to
email.cc
email.date
email.message_id
email.x_mailer
email.url
imap.request
pop3.command
ftp.command
ftp.command_data
quic.sni
quic.ua
quic.version
quic.cyu.hash
quic.cyu.string
snmp.community
snmp.usm
rfb.name
mqtt.connect.clientid
mqtt.connect.username
mqtt.connect.password
mqtt.connect.willtopic
mqtt.connect.willmessage
mqtt.publish.topic
mqtt.publish.message
mqtt.subscribe.topic
mqtt.unsubscribe.topic
ike.vendor
ike.key_exchange_payload
ike.nonce_payload
ike.init_spi
ike.resp_spi
ldap.request.dn
ldap.responses.dn
ldap.responses.message
websocket.payload
tcp.hdr
udp.hdr
ipv4.hdr
ipv6.hdr
icmpv4.hdr
icmpv6.hdr
sdp.origin
sdp.session_name
dhcp.hostname
dhcp.vendor_class
`, "\n") {
		f := strings.Fields(l)
		for _, n := range f {
			stickyBuffers[n] = f[0]
		}
	}
	for _, n := range strings.Fields(`ttl itype icode icmp_id icmp_seq id dsize tcp.mss window seq ack
		flow.age icmpv6.mtu
		dhcp.leasetime dhcp.rebinding_time dhcp.renewal_time snmp.version mqtt.protocol_version
		tcp.window tls.cert_chain_len nfs.version`) {
		packetCompares[n] = true
	}
	for _, n := range strings.Fields(`fragbits fragoffset ipopts
		app-layer-event decode-event stream-event engine-event ssl_version
		ssl_state tls.version tls.subject tls.issuerdn tls.fingerprint tls.store asn1 filemagic
		filename fileext filemd5 filesha1 filesha256 filesize filestore dns.opcode dns.rrtype iprep
		geoip datarep lua luajit requires config rpc http2.frametype http2.errorcode
		http2.priority http2.window http2.size_update http2.settings ssh.protoversion
		ssh.softwareversion nfs_procedure krb5_err_code krb5_msg_type snmp.pdu_type
		mqtt.type mqtt.flags mqtt.qos mqtt.reason_code mqtt.connect.flags rfb.secresult rfb.sectype
		modbus dnp3_func dnp3_ind dnp3_obj enip_command cip_service flow.pkts flow.bytes
		flow.pkts_toserver flow.pkts_toclient flow.bytes_toserver flow.bytes_toclient tos
		ike.exchtype ike.chosen_sa_attribute ike.key_exchange_payload_length ike.nonce_payload_length
		tls.cert_notbefore tls.cert_notafter ipv4-csum tcpv4-csum
		tcpv6-csum udpv4-csum udpv6-csum icmpv4-csum icmpv6-csum app-layer-state
		ftpdata_command dcerpc.iface dcerpc.opnum dce_iface dce_opnum
		`) {
		packetKeywords[n] = true
	}
	for _, n := range strings.Fields(`sameip ftpbounce tls.cert_expired tls.cert_valid`) {
		bareKeywords[n] = true
	}
}

// packetCompares are integer keywords decoded into a Compare in Rule.Packet.
var packetCompares = map[string]bool{}

// packetKeywords are known keywords kept as a Keyword in Rule.Packet.
var packetKeywords = map[string]bool{}

// bareKeywords take no value and are kept as a Keyword in Rule.Packet.
var bareKeywords = map[string]bool{}

// IsKeyword reports whether name is a rule keyword this package knows.
func IsKeyword(name string) bool {
	if _, ok := stickyBuffers[name]; ok {
		return true
	}
	if _, ok := legacyModifiers[name]; ok {
		return true
	}
	if _, ok := transforms[name]; ok {
		return true
	}
	if _, ok := decoders[name]; ok {
		return true
	}
	return packetCompares[name] || packetKeywords[name] || bareKeywords[name]
}

type decoder func(p *ruleParser, v string) error

// decoders hold the keywords with their own decoding; filled in init to
// break the initialisation cycle through decode.
var decoders map[string]decoder

func init() {
	decoders = map[string]decoder{
		"msg": decodeMsg, "sid": decodeSID, "rev": decodeRev, "gid": decodeGID,
		"classtype": decodeClasstype, "priority": decodePriority, "reference": decodeReference,
		"metadata": decodeMetadata, "target": decodeTarget,
		"content": decodeContent, "uricontent": decodeURIContent,
		"nocase": modNocase, "rawbytes": modRawbytes, "offset": modOffset, "depth": modDepth,
		"distance": modDistance, "within": modWithin, "startswith": modStartswith,
		"endswith": modEndswith, "fast_pattern": modFastPattern, "replace": modReplace,
		"prefilter": modPrefilter,
		"pcre":      decodePCRE, "byte_test": decodeByteTest, "byte_jump": decodeByteJump,
		"byte_extract": decodeByteExtract, "byte_math": decodeByteMath, "isdataat": decodeIsDataAt,
		"bsize": decodeBsize, "urilen": decodeUrilen, "base64_decode": decodeBase64Decode,
		"dataset": decodeBufferKeyword, "entropy": decodeBufferKeyword,
		"flow": decodeFlow, "flowbits": decodeBits, "xbits": decodeBits, "hostbits": decodeBits,
		"flowint": decodeFlowint, "threshold": decodeThreshold, "detection_filter": decodeThreshold,
		"noalert": decodeNoalert, "bypass": decodeBypass, "tag": decodeTag,
		"stream_size": decodeStreamSize,
		"flags":       decodeTCPFlags, "tcp.flags": decodeTCPFlags,
		"ip_proto": decodeIPProto, "app-layer-protocol": decodeAppLayerProtocol,
	}
}

func (p *ruleParser) decode(o *Option) error {
	n := o.Name
	if d, ok := decoders[n]; ok {
		return d(p, o.Value)
	}
	if b, ok := stickyBuffers[n]; ok {
		if o.Value != "" {
			return errors.New("sticky buffer takes no value")
		}
		p.cur = &Buffer{Name: b, Pos: o.Pos}
		p.r.Buffers = append(p.r.Buffers, p.cur)
		return nil
	}
	if b, ok := legacyModifiers[n]; ok {
		return p.legacyModifier(b, o.Value)
	}
	if needs, ok := transforms[n]; ok {
		if p.cur == nil {
			return errors.New("transform needs a sticky buffer before it")
		}
		if needs && o.Value == "" {
			return errors.New("missing value")
		}
		if !needs && o.Value != "" && n != "from_base64" {
			return errors.New("transform takes no value")
		}
		// Suricata applies a buffer's transforms before any of its
		// matches wherever they are written (ET Open sid 2044076 puts
		// dotprefix after a content), so order against matches is free.
		p.cur.Transforms = append(p.cur.Transforms, Transform{Name: n, Value: o.Value, Pos: o.Pos})
		return nil
	}
	if packetCompares[n] {
		c, err := parseCompare(n, o.Value)
		if err != nil {
			return err
		}
		c.Pos = o.Pos
		p.r.Packet = append(p.r.Packet, c)
		return nil
	}
	if packetKeywords[n] {
		if o.Value == "" && n != "filestore" && n != "tls.store" {
			return errors.New("missing value")
		}
		p.r.Packet = append(p.r.Packet, &Keyword{Pos: o.Pos, Name: n, Value: o.Value})
		return nil
	}
	if bareKeywords[n] {
		if o.Value != "" {
			return errors.New("takes no value")
		}
		p.r.Packet = append(p.r.Packet, &Keyword{Pos: o.Pos, Name: n})
		return nil
	}
	return errors.New("unknown keyword")
}

// --- meta keywords ---

func noValue(v string) error {
	if v != "" {
		return fmt.Errorf("takes no value, got %q", v)
	}
	return nil
}

func needValue(v string) error {
	if v == "" {
		return errors.New("missing value")
	}
	return nil
}

// unquote strips one pair of double quotes, if present, and resolves the
// escapes Suricata allows in quoted values: \" \; \\ \: . Other escapes
// are kept (msg tolerates them).
func unquote(v string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !escapedAt(v, len(v)-1) {
		v = v[1 : len(v)-1]
	} else if strings.HasPrefix(v, `"`) {
		return "", errors.New("missing closing '\"'")
	}
	if !strings.Contains(v, `\`) {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte(`";\:`, v[i+1]) >= 0 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

// escapedAt reports whether s[i] is preceded by an odd number of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// once refuses a second msg, sid, rev or gid, as Suricata does
// ("duplicated 'sid' keyword detected").
func (p *ruleParser) once() error {
	for i := range p.r.Options {
		o := &p.r.Options[i]
		if o == p.opt {
			return nil
		}
		if o.Name == p.opt.Name {
			return fmt.Errorf("%s given twice (first at %s)", o.Name, o.Pos)
		}
	}
	return nil
}

func decodeMsg(p *ruleParser, v string) error {
	if err := needValue(v); err != nil {
		return err
	}
	if err := p.once(); err != nil {
		return err
	}
	s, err := unquote(v)
	if err != nil {
		return err
	}
	p.r.Msg = s
	return nil
}

func parseUint32(v string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("want an unsigned 32-bit integer, got %q", v)
	}
	return uint32(n), nil
}

func decodeSID(p *ruleParser, v string) error {
	n, err := parseUint32(v)
	if err == nil {
		err = p.once()
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("sid must be greater than 0")
	}
	p.r.SID = n
	return nil
}

func decodeRev(p *ruleParser, v string) error {
	if err := p.once(); err != nil {
		return err
	}
	n, err := parseUint32(v)
	p.r.Rev = n
	return err
}

func decodeGID(p *ruleParser, v string) error {
	if err := p.once(); err != nil {
		return err
	}
	n, err := parseUint32(v)
	p.r.GID = n
	return err
}

func decodeClasstype(p *ruleParser, v string) error {
	if err := needValue(v); err != nil {
		return err
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("bad classtype name %q", v)
		}
	}
	if p.r.Classtype != "" {
		return errors.New("classtype given twice")
	}
	p.r.Classtype = v
	return nil
}

func decodePriority(p *ruleParser, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 255 {
		return fmt.Errorf("want an integer 1-255, got %q", v)
	}
	p.r.Priority = n
	return nil
}

func decodeReference(p *ruleParser, v string) error {
	sys, id, ok := strings.Cut(v, ",")
	sys, id = strings.TrimSpace(sys), strings.TrimSpace(id)
	if !ok || sys == "" || id == "" {
		return fmt.Errorf("want \"system,id\", got %q", v)
	}
	p.r.References = append(p.r.References, Reference{System: sys, ID: id})
	return nil
}

func decodeMetadata(p *ruleParser, v string) error {
	if err := needValue(v); err != nil {
		return err
	}
	if p.r.Metadata == nil {
		p.r.Metadata = make([]Metadata, 0, strings.Count(v, ",")+1)
	}
	for v != "" {
		var kv string
		kv, v, _ = strings.Cut(v, ",")
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, " ")
		p.r.Metadata = append(p.r.Metadata, Metadata{Key: k, Value: strings.TrimSpace(val)})
	}
	return nil
}

func decodeTarget(p *ruleParser, v string) error {
	if v != "src_ip" && v != "dest_ip" {
		return fmt.Errorf("want src_ip or dest_ip, got %q", v)
	}
	p.r.Target = v
	return nil
}

// --- buffers and payload matches ---

func (p *ruleParser) implicitBuffer() *Buffer {
	if p.implicit == nil {
		p.implicit = &Buffer{Name: "pkt_data", Implicit: true, Pos: p.opt.Pos}
		p.r.Buffers = append(p.r.Buffers, p.implicit)
	}
	return p.implicit
}

// target returns the buffer a new match goes to: the sticky buffer if one
// is selected; else, for relative matches, the buffer of the previous
// match (Suricata attaches relative keywords to the last match's list);
// else the implicit payload buffer.
func (p *ruleParser) target(relative bool) *Buffer {
	if p.cur != nil {
		return p.cur
	}
	if relative && p.lastBuf != nil {
		return p.lastBuf
	}
	return p.implicitBuffer()
}

func (p *ruleParser) add(b *Buffer, m Match) {
	b.Matches = append(b.Matches, m)
	p.lastBuf = b
	p.lastMatch = m
}

// namedBuffer returns the last buffer called name selected by a legacy
// modifier or pcre flag, creating it.
func (p *ruleParser) namedBuffer(name string) *Buffer {
	for i := len(p.r.Buffers) - 1; i >= 0; i-- {
		if b := p.r.Buffers[i]; b.Name == name && b.Implicit {
			return b
		}
	}
	b := &Buffer{Name: name, Implicit: true, Pos: p.opt.Pos}
	p.r.Buffers = append(p.r.Buffers, b)
	return b
}

func (p *ruleParser) legacyModifier(buf, v string) error {
	if err := noValue(v); err != nil {
		return err
	}
	c := p.lastContent
	if c == nil {
		return errors.New("no content before this modifier")
	}
	from := p.bufferOf(c)
	switch {
	case from == nil:
		return errors.New("no content before this modifier")
	case from.Name == buf && from != p.implicit:
		return nil // already there: "content; http_uri; http_uri;" is harmless
	case from.Implicit && from != p.implicit:
		return fmt.Errorf("content already moved to %s by an earlier modifier", from.Name)
	case from != p.implicit:
		return fmt.Errorf("content is in sticky buffer %s: legacy modifiers apply to payload contents only", from.Name)
	}
	from.Matches = removeMatch(from.Matches, c)
	to := p.namedBuffer(buf)
	to.Matches = append(to.Matches, c)
	p.lastBuf = to
	return nil
}

func (p *ruleParser) bufferOf(m Match) *Buffer {
	for _, b := range p.r.Buffers {
		for _, x := range b.Matches {
			if x == m {
				return b
			}
		}
	}
	return nil
}

func removeMatch(ms []Match, m Match) []Match {
	for i, x := range ms {
		if x == m {
			return append(ms[:i], ms[i+1:]...)
		}
	}
	return ms
}

// decodeBufferKeyword keeps keywords that inspect the current buffer
// without being decoded (dataset, entropy) as a Keyword match.
func decodeBufferKeyword(p *ruleParser, v string) error {
	if err := needValue(v); err != nil {
		return err
	}
	if p.cur == nil {
		return errors.New("needs a sticky buffer before it")
	}
	p.add(p.cur, &Keyword{Pos: p.opt.Pos, Name: p.opt.Name, Value: v})
	return nil
}

// packetKeyword appends the current option to Rule.Packet as a Keyword.
func (p *ruleParser) packetKeyword(v string) {
	p.r.Packet = append(p.r.Packet, &Keyword{Pos: p.opt.Pos, Name: p.opt.Name, Value: v})
}

// decodeTCPFlags checks flags:[!+*]FLAGS[,MASK] with Suricata's letters
// F S R P A U C E 0 (1 and 2 are the old names of C and E).
func decodeTCPFlags(p *ruleParser, v string) error {
	set, mask, hasMask := strings.Cut(strings.ReplaceAll(v, " ", ""), ",")
	if set != "" && strings.IndexByte("!+*", set[0]) >= 0 {
		set = set[1:]
	}
	if set == "" {
		return fmt.Errorf("want [!+*]flags[,mask] with flags from FSRPAUCE0, got %q", v)
	}
	for i := 0; i < len(set); i++ {
		if strings.IndexByte("FSRPAUCE012", set[i]) < 0 {
			return fmt.Errorf("unknown flag %q in %q: want F S R P A U C E or 0", set[i], v)
		}
	}
	if hasMask {
		if mask == "" {
			return errors.New("empty mask after ','")
		}
		for i := 0; i < len(mask); i++ {
			if strings.IndexByte("FSRPAUCE12", mask[i]) < 0 {
				return fmt.Errorf("unknown flag %q in mask %q", mask[i], mask)
			}
		}
	}
	p.packetKeyword(v)
	return nil
}

// decodeIPProto checks ip_proto:[!<>]N or a protocol name.
func decodeIPProto(p *ruleParser, v string) error {
	s := strings.TrimLeft(v, "!<> ")
	if s == "" {
		return errors.New("missing protocol")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 255 {
			return fmt.Errorf("protocol number %d out of range 0-255", n)
		}
	} else if !isIdent(strings.ReplaceAll(s, "-", "_")) {
		return fmt.Errorf("bad protocol %q: want a number or a name like tcp", s)
	}
	p.packetKeyword(v)
	return nil
}

// decodeAppLayerProtocol checks app-layer-protocol:[!]name[,final|original|either|to_server|to_client|direction].
func decodeAppLayerProtocol(p *ruleParser, v string) error {
	name, mode, _ := strings.Cut(v, ",")
	name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "!"))
	if !protocols[name] && name != "unknown" && name != "failed" {
		return fmt.Errorf("unknown app-layer protocol %q", name)
	}
	switch strings.TrimSpace(mode) {
	case "", "final", "original", "either", "to_server", "to_client", "direction":
	default:
		return fmt.Errorf("bad mode %q", mode)
	}
	p.packetKeyword(v)
	return nil
}
