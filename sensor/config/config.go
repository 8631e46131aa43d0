// Package config is the sensor's typed YAML configuration: one file, read
// and checked once at the edge (Load/Parse → Validate), then converted by
// the pipeline into per-stage options. Key names follow Suricata's
// suricata.yaml where a Suricata equivalent exists, and Default() is good
// enough to run with no file at all.
//
// Units: sizes are bytes (Size, written "32mb", "1gb", "4096"; k/m/g/t are
// powers of 1024 as in Suricata); durations are time.Duration, written as
// Go durations ("10s", "1m30s") or as plain numbers of seconds ("600")
// like Suricata's flow-timeouts. Booleans accept yes/no, true/false,
// on/off. A key given with an empty value keeps its default.
//
// This package imports no other polder package: stages do not see it.
package config

import "time"

// Config is the whole sensor configuration. The zero value is not useful;
// start from Default(), Load or Parse. A Config remembers the file and line
// of each key it was read from (unexported, for Validate's messages), so
// compare Configs with cmpopts.IgnoreUnexported(Config{}).
// A Config is not safe for concurrent modification; treat a validated one
// as read-only and convert it into per-stage options.
type Config struct {
	Capture  Capture  `yaml:"capture"`
	Vars     Vars     `yaml:"vars"`
	Outputs  Outputs  `yaml:"outputs"`
	Flow     Flow     `yaml:"flow"`
	Stream   Stream   `yaml:"stream"`
	Defrag   Defrag   `yaml:"defrag"`
	AppLayer AppLayer `yaml:"app-layer"`
	Decoder  Decoder  `yaml:"decoder"`
	IPS      IPS      `yaml:"ips"`
	// Workers is the number of packet-processing goroutines for offline
	// (pcap file) runs; 0, the default, means one per usable CPU
	// (GOMAXPROCS), decided by the pipeline. Live capture uses
	// capture.interfaces[].workers instead.
	Workers int `yaml:"workers"`
	// LogDir is the directory EVE and other logs are written to; relative
	// paths are resolved by the caller (the instance directory). Default ".".
	LogDir string `yaml:"log-dir"`

	// DefaultRulePath is the directory relative rule-files entries are
	// read from, as in suricata.yaml; relative to the config file's
	// directory when itself relative. Default "" (the config's directory).
	DefaultRulePath string `yaml:"default-rule-path"`
	// RuleFiles are the rule files to load, in order. Default none: the
	// sensor then logs protocol events only. Each may be a glob.
	RuleFiles []string `yaml:"rule-files"`
	// ClassificationFile gives classtypes their description and priority.
	// Default "" (the built-in Suricata classification.config).
	ClassificationFile string `yaml:"classification-file"`
	// ThresholdFile is a threshold.config (suppress, threshold,
	// event_filter, rate_filter lines). Default "".
	ThresholdFile string `yaml:"threshold-file"`
	// MPMAlgo picks the rules' multi-pattern prefilter, as suricata.yaml's
	// mpm-algo: "auto" (default: Hyperscan when the binary has it and the
	// CPU supports it, else Aho-Corasick), "hs" or "ac" ("ac-bs" and
	// "ac-ks" are accepted as "ac").
	MPMAlgo string `yaml:"mpm-algo"`

	// file and lines remember where each key was set, for Validate's
	// messages. Both are empty for a Config not read from YAML.
	file  string
	lines map[string]int
}

// Capture configures packet sources.
type Capture struct {
	// Interfaces lists live-capture interfaces; empty by default (offline
	// runs name a pcap on the command line instead).
	Interfaces []Interface `yaml:"interfaces"`
	// ChecksumValidation drops packets whose IP/TCP/UDP checksum is wrong
	// before stream and app-layer processing. Default false, like Suricata's
	// `-k none`: captures on the sending host routinely carry offloaded,
	// unfilled checksums.
	ChecksumValidation bool `yaml:"checksum-validation"`
	// Bypass configures how flows that need no more inspection (a rule's
	// bypass keyword, stream.bypass, encryption-handling: bypass) stop
	// costing work.
	Bypass Bypass `yaml:"bypass"`
}

// Bypass configures flow bypass.
type Bypass struct {
	// Mode is where bypassed flows are dropped:
	//   - "auto" (default): "socket-filter" on live AF_PACKET interfaces,
	//     "local" when reading pcap files (as Suricata does offline);
	//   - "off": never bypass; triggers are ignored and every packet is
	//     inspected;
	//   - "local": the sensor counts and drops the flow's packets at the
	//     top of its pipeline, before stream, app-layer and detection;
	//   - "socket-filter": an eBPF filter on the capture sockets drops
	//     them in the kernel before they are copied to the ring;
	//   - "xdp": an XDP program drops them in the driver (dedicated
	//     SPAN/TAP ports only: it affects every user of the interface).
	// Flows the kernel cannot take (fragments, tunnels, a full table, no
	// eBPF permission) fall back to local bypass.
	Mode string `yaml:"mode"`
	// TableSize is how many flows the kernel table of socket-filter and
	// xdp modes holds (one preallocated entry of about 165 bytes per
	// flow, both directions in it); when it is full, further flows are
	// bypassed locally. Default 131072 (about 21 MiB of kernel memory).
	TableSize int `yaml:"table-size"`
}

// Bypass modes.
const (
	BypassAuto         = "auto"
	BypassOff          = "off"
	BypassLocal        = "local"
	BypassSocketFilter = "socket-filter"
	BypassXDP          = "xdp"
)

// Encryption handling values (Suricata 8's
// app-layer.protocols.{tls,ssh}.encryption-handling).
const (
	// EncryptionTrackOnly keeps parsing the session's cleartext framing
	// but stops inspecting payload content once encryption starts.
	// Suricata 8's default ("default" is its deprecated spelling).
	EncryptionTrackOnly = "track-only"
	EncryptionDefault   = "default"
	// EncryptionFull keeps inspecting everything, encrypted or not.
	EncryptionFull = "full"
	// EncryptionBypass bypasses the flow once encryption starts.
	EncryptionBypass = "bypass"
)

// Interface is one live-capture interface.
type Interface struct {
	// Name is the interface name, e.g. "eth0". Required.
	Name string `yaml:"name"`
	// Workers is the number of capture/processing goroutines (and AF_PACKET
	// sockets in one fanout group) for this interface. Default 1.
	Workers int `yaml:"workers"`
	// FanoutGroup is the AF_PACKET fanout group id, 1–65535. Default 0:
	// derived from a hash of the sensor's log directory (the instance's
	// own) and the interface name, so two sensors on one interface never
	// share a group.
	FanoutGroup int `yaml:"fanout-group"`
	// Snaplen is the capture length per packet in bytes. Default 0: the
	// capture derives it from the interface MTU (plus link header).
	Snaplen int `yaml:"snaplen"`
	// RingSize is the AF_PACKET ring size per worker in bytes. Default 0:
	// the capture's own default.
	RingSize Size `yaml:"ring-size"`
}

// DefaultInterface returns an Interface with every default but Name.
func DefaultInterface() Interface { return Interface{Workers: 1} }

func (i *Interface) setDefaults() { *i = DefaultInterface() }

// Vars holds the rule variables, as in Suricata's vars section. Keys given
// in a file replace the default of the same name one by one; defaults not
// mentioned stay.
type Vars struct {
	// AddressGroups maps names (HOME_NET, EXTERNAL_NET, ...) to Suricata
	// address expressions: "any", CIDRs, addresses, "a-b" ranges, "$VAR",
	// "!x" and "[x,y]" lists.
	AddressGroups map[string]string `yaml:"address-groups"`
	// PortGroups maps names (HTTP_PORTS, ...) to Suricata port expressions:
	// "any", ports, "a:b" ranges, "$VAR", "!x" and "[x,y]" lists.
	PortGroups map[string]string `yaml:"port-groups"`
}

// Outputs configures logging outputs.
type Outputs struct {
	EVE  EVE  `yaml:"eve"`
	Fast Fast `yaml:"fast"`
}

// Fast configures fast.log, Suricata's one-line-per-alert text log (its
// "fast" output, with the same keys).
type Fast struct {
	// Enabled writes fast.log. Default false: EVE carries every alert
	// with more context; enable it for tools that read fast.log.
	Enabled bool `yaml:"enabled"`
	// Filename is the file, relative to log-dir unless absolute. Default
	// "fast.log".
	Filename string `yaml:"filename"`
	// Append keeps an existing file's lines and appends; false truncates it
	// when the sensor starts. Default true, as Suricata.
	Append bool `yaml:"append"`
}

// EVE configures the EVE JSON log.
type EVE struct {
	// Enabled turns the EVE log on. Default true.
	Enabled bool `yaml:"enabled"`
	// Filetype is "regular" (a file, the default), "unix_stream" or
	// "unix_dgram" (a Unix socket another process listens on).
	Filetype string `yaml:"filetype"`
	// Filename is the file or socket path, relative to log-dir unless
	// absolute. Default "eve.json".
	Filename string `yaml:"filename"`
	// Types enables event types one by one.
	Types EVETypes `yaml:"types"`
}

// EVE file types.
const (
	FiletypeRegular    = "regular"
	FiletypeUnixStream = "unix_stream"
	FiletypeUnixDgram  = "unix_dgram"
)

// EVETypes enables EVE event types. Every type defaults to enabled, except
// netflow.
type EVETypes struct {
	Alert   EVEAlert `yaml:"alert"`
	Flow    bool     `yaml:"flow"`
	HTTP    bool     `yaml:"http"`
	DNS     EVEDNS   `yaml:"dns"`
	TLS     bool     `yaml:"tls"`
	SSH     bool     `yaml:"ssh"`
	Anomaly bool     `yaml:"anomaly"`
	Stats   EVEStats `yaml:"stats"`
	Files   EVEFiles `yaml:"files"`
	Drop    EVEDrop  `yaml:"drop"`
	// Netflow writes two "netflow" events per ended flow, one per direction
	// (Suricata's uni-directional flow records), besides or instead of the
	// bi-directional flow event. Default false, as in Suricata's
	// suricata.yaml.
	Netflow bool      `yaml:"netflow"`
	Engine  EVEEngine `yaml:"engine"`
}

// EVEEngine configures engine events: the sensor's own log messages (rule
// load errors and warnings, ...) written to EVE with event_type "engine", as
// Suricata writes its log to a logging output of type json. "engine: yes"
// is short for "engine: {enabled: yes}".
type EVEEngine struct {
	// Enabled turns engine events on. Default false (unlike the other
	// types): they are about the sensor, not the traffic.
	Enabled bool `yaml:"enabled"`
	// Level is the least severe message written: error, warning, notice,
	// info or debug (Suricata's level names). Default (and "") info.
	Level string `yaml:"level"`
}

// EVEFiles configures fileinfo events (Suricata's eve-log "files" type):
// one per HTTP message body the parser tracks as a file. "files: no" is
// short for "files: {enabled: no}".
type EVEFiles struct {
	// Enabled turns fileinfo events on. Default true.
	Enabled bool `yaml:"enabled"`
	// ForceHash lists the checksums computed over every file and logged:
	// md5, sha1 and/or sha256. Default none (hashing costs CPU per body
	// byte).
	ForceHash []string `yaml:"force-hash"`
}

// File hash names for EVEFiles.ForceHash.
const (
	HashMD5    = "md5"
	HashSHA1   = "sha1"
	HashSHA256 = "sha256"
)

// EVEDrop configures drop events: one per packet dropped in IPS mode
// (ips.simulate), as Suricata's eve-log "drop" type. "drop: no" is short for
// "drop: {enabled: no}".
type EVEDrop struct {
	// Enabled turns drop events on. Default true; they are written only in
	// IPS mode.
	Enabled bool `yaml:"enabled"`
	// Alerts adds the alert that caused the drop as the event's "alert"
	// object. Default false, as Suricata.
	Alerts bool `yaml:"alerts"`
	// Flows is DropFlowsStart (the default, as Suricata): of the packets
	// dropped because their flow was dropped, log the first in each
	// direction; every packet a rule dropped itself is logged. DropFlowsAll
	// logs every dropped packet.
	Flows string `yaml:"flows"`
}

// EVEDrop.Flows values.
const (
	DropFlowsStart = "start"
	DropFlowsAll   = "all"
)

// IPS configures what drop and reject rules do.
type IPS struct {
	// Simulate runs the sensor as an inline IPS would, without forwarding
	// anything (Suricata's --simulate-ips): a drop or reject rule drops the
	// packet it matched, and the rest of its flow when the rule acts on the
	// flow (IP-only, stream, transaction and app-layer-only rules, as
	// Suricata decides); packets of a dropped flow are not inspected any
	// more. Alerts of such rules say "blocked", drop events are written
	// and stats count ips.accepted/blocked/rejected and the drop reasons.
	// polder sends no TCP resets or ICMP errors for reject rules. Default
	// false: as an IDS, drop rules alert ("allowed").
	Simulate bool `yaml:"simulate"`
}

// EVEStats configures periodic stats events. "stats: no" is short for
// "stats: {enabled: no}".
type EVEStats struct {
	// Enabled turns stats events on. Default true.
	Enabled bool `yaml:"enabled"`
	// Interval between stats events. Default 8s, Suricata's stats.interval.
	Interval time.Duration `yaml:"interval"`
	// NullValues writes counters whose value is 0. Default true, as
	// Suricata's EVE stats; false keeps stats events small.
	NullValues bool `yaml:"null-values"`
	// BypassTable adds the kernel bypass table's counters to live stats
	// events as bypass_table.{entries, capacity, inserted, removed,
	// downgraded, leaked_pkts, counter_errors, insert_failed.<reason>}.
	// Default false: Suricata's EVE schema has no such object (stats
	// events with it do not validate against it); the same counters are
	// always available from `polder sensor ctl bypass-stats`.
	BypassTable bool `yaml:"bypass-table"`
}

// EVEAlert configures alert events. "alert: no" is short for
// "alert: {enabled: no}".
type EVEAlert struct {
	// Enabled turns alert events on. Default true.
	Enabled bool `yaml:"enabled"`
	// Payload adds the inspected payload, base64 ("payload"). Default false.
	Payload bool `yaml:"payload"`
	// PayloadPrintable adds it as printable text ("payload_printable").
	// Default false.
	PayloadPrintable bool `yaml:"payload-printable"`
	// Packet adds the whole packet, base64 ("packet"). Default false.
	Packet bool `yaml:"packet"`
	// Metadata adds the rule's metadata keyword and the flow's flowbits.
	// Default true.
	Metadata bool `yaml:"metadata"`
}

// EVEDNS configures dns events. "dns: no" is short for "dns: {enabled: no}".
type EVEDNS struct {
	// Enabled turns dns events on. Default true.
	Enabled bool `yaml:"enabled"`
	// Requests and Responses log queries and answers. Default true each,
	// as Suricata's requests/responses switches.
	Requests  bool `yaml:"requests"`
	Responses bool `yaml:"responses"`
}

// Flow configures the flow table (Suricata's flow and flow-timeouts).
type Flow struct {
	// Memcap bounds flow-table memory in bytes. Default 128mb.
	Memcap Size `yaml:"memcap"`
	// HashSize is the number of hash buckets. Default 65536.
	HashSize int `yaml:"hash-size"`
	// MaxFlows bounds the number of tracked flows per sensor; beyond it
	// the table enters emergency mode and evicts. Default 500000.
	MaxFlows int `yaml:"max-flows"`
	// EmergencyRecovery is the percentage of free capacity (1–100) at which
	// the table leaves emergency mode. Default 30.
	EmergencyRecovery int `yaml:"emergency-recovery"`
	// Timeouts are the idle timeouts per protocol and state.
	Timeouts FlowTimeouts `yaml:"timeouts"`
}

// FlowTimeouts holds per-protocol timeouts; Default applies to protocols
// other than TCP, UDP and ICMP. Defaults are Suricata 7's flow-timeouts.
type FlowTimeouts struct {
	Default FlowTimeout `yaml:"default"`
	TCP     FlowTimeout `yaml:"tcp"`
	UDP     FlowTimeout `yaml:"udp"`
	ICMP    FlowTimeout `yaml:"icmp"`
}

// FlowTimeout holds idle timeouts per flow state. New applies before the
// flow saw both directions, Established after, Closed after a TCP close,
// Bypassed to bypassed flows; the Emergency* ones apply in emergency mode.
type FlowTimeout struct {
	New                  time.Duration `yaml:"new"`
	Established          time.Duration `yaml:"established"`
	Closed               time.Duration `yaml:"closed"`
	Bypassed             time.Duration `yaml:"bypassed"`
	EmergencyNew         time.Duration `yaml:"emergency-new"`
	EmergencyEstablished time.Duration `yaml:"emergency-established"`
	EmergencyClosed      time.Duration `yaml:"emergency-closed"`
	EmergencyBypassed    time.Duration `yaml:"emergency-bypassed"`
}

// Stream configures TCP tracking and reassembly.
type Stream struct {
	// Memcap bounds TCP session-tracking memory in bytes. Default 64mb.
	Memcap Size `yaml:"memcap"`
	// Reassembly bounds reassembled data.
	Reassembly Reassembly `yaml:"reassembly"`
	// Midstream picks up sessions whose handshake was not seen. Default
	// true (Suricata's default is false): a sensor started on a busy link
	// and pcaps cut from longer captures are mostly mid-stream.
	Midstream bool `yaml:"midstream"`
	// Bypass bypasses a session once either direction reached
	// reassembly.depth (Suricata's stream.bypass: the first side to reach
	// it triggers the bypass). Default false.
	Bypass bool `yaml:"bypass"`
	// Inline inspects a request on the packet that completes it, as
	// Suricata does inline (IPS). Default false: as Suricata in IDS mode,
	// the request side of a transaction is inspected on the first packet
	// from the client after the server acknowledged the request (or when
	// the transaction ends), so alerts carry that packet.
	Inline bool `yaml:"inline"`
}

// Reassembly bounds TCP reassembly.
type Reassembly struct {
	// Depth is how many bytes of each direction of a session are
	// reassembled; 0 means no per-session limit (reassembly.memcap still
	// bounds the total). Default 1mb.
	Depth Size `yaml:"depth"`
	// Memcap bounds all reassembly buffers together, in bytes. Default 256mb.
	Memcap Size `yaml:"memcap"`
}

// Defrag configures IP fragment reassembly.
type Defrag struct {
	// Memcap bounds fragment memory in bytes. Default 32mb.
	Memcap Size `yaml:"memcap"`
	// Trackers bounds datagrams being reassembled at once. Default 65535.
	Trackers int `yaml:"trackers"`
	// MaxFrags bounds fragments held, ≥ trackers. Default 65535.
	MaxFrags int `yaml:"max-frags"`
	// Timeout drops an incomplete datagram this long after its first
	// fragment. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
}

// AppLayer configures application-layer parsers.
type AppLayer struct {
	HTTP HTTPParser      `yaml:"http"`
	DNS  DNSParser       `yaml:"dns"`
	TLS  EncryptedParser `yaml:"tls"`
	SSH  EncryptedParser `yaml:"ssh"`
}

// EncryptedParser configures the parser of a protocol that turns encrypted
// (TLS, SSH).
type EncryptedParser struct {
	// Enabled turns the parser on. Default true.
	Enabled bool `yaml:"enabled"`
	// EncryptionHandling is what happens once the session is encrypted
	// (the first TLS application data record; SSH NEWKEYS from both
	// sides): "track-only" (default) keeps parsing but stops content
	// inspection, "full" inspects everything, "bypass" bypasses the flow
	// (see capture.bypass). Suricata 8's setting of the same name.
	EncryptionHandling string `yaml:"encryption-handling"`
}

// Decoder configures tunnel decoders.
type Decoder struct {
	GTPU Toggle `yaml:"gtpu"`
}

// Toggle turns one feature on or off.
type Toggle struct {
	// Enabled turns the feature on. Default true.
	Enabled bool `yaml:"enabled"`
}

// DNSParser configures DNS.
type DNSParser struct {
	// Enabled turns DNS parsing on. Default true.
	Enabled bool `yaml:"enabled"`
	// UDPDetectionPorts, when not empty, limits DNS-over-UDP detection to
	// datagrams from or to these ports, as Suricata's
	// app-layer.protocols.dns.udp.detection-ports (53) does. Default
	// empty: any UDP datagram that parses as DNS (DNSCrypt certificate
	// queries on 443, DNS on odd ports) is DNS; NetBIOS, mDNS and LLMNR
	// ports are never taken for DNS.
	UDPDetectionPorts []uint16 `yaml:"udp-detection-ports"`
}

// Parser enables one app-layer parser. Default true.
type Parser struct {
	Enabled bool `yaml:"enabled"`
}

// HTTPParser configures the HTTP/1.x parser.
type HTTPParser struct {
	// Enabled turns HTTP parsing on. Default true.
	Enabled bool `yaml:"enabled"`
	// RequestBodyLimit bounds the request body kept per transaction for
	// inspection, in bytes; 0 means unlimited. Default 100kb, as Suricata.
	RequestBodyLimit Size `yaml:"request-body-limit"`
	// ResponseBodyLimit bounds the response body kept per transaction, in
	// bytes; 0 means unlimited. Default 100kb, as Suricata.
	ResponseBodyLimit Size `yaml:"response-body-limit"`
}

// DefaultAddressGroups returns Suricata 7's default address groups.
func DefaultAddressGroups() map[string]string {
	return map[string]string{
		"HOME_NET":       "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]",
		"EXTERNAL_NET":   "!$HOME_NET",
		"HTTP_SERVERS":   "$HOME_NET",
		"SMTP_SERVERS":   "$HOME_NET",
		"SQL_SERVERS":    "$HOME_NET",
		"DNS_SERVERS":    "$HOME_NET",
		"TELNET_SERVERS": "$HOME_NET",
		"AIM_SERVERS":    "$EXTERNAL_NET",
		"DC_SERVERS":     "$HOME_NET",
		"DNP3_SERVER":    "$HOME_NET",
		"DNP3_CLIENT":    "$HOME_NET",
		"MODBUS_CLIENT":  "$HOME_NET",
		"MODBUS_SERVER":  "$HOME_NET",
		"ENIP_CLIENT":    "$HOME_NET",
		"ENIP_SERVER":    "$HOME_NET",
	}
}

// DefaultPortGroups returns Suricata 7's default port groups.
func DefaultPortGroups() map[string]string {
	return map[string]string{
		"HTTP_PORTS":      "80",
		"SHELLCODE_PORTS": "!80",
		"ORACLE_PORTS":    "1521",
		"SSH_PORTS":       "22",
		"DNP3_PORTS":      "20000",
		"MODBUS_PORTS":    "502",
		"FILE_DATA_PORTS": "[$HTTP_PORTS,110,143]",
		"FTP_PORTS":       "21",
		"GENEVE_PORTS":    "6081",
		"VXLAN_PORTS":     "4789",
		"TEREDO_PORTS":    "3544",
	}
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// Default returns the configuration used when no file is given. Each call
// returns a fresh value the caller may modify.
func Default() *Config {
	return &Config{
		Vars:    Vars{AddressGroups: DefaultAddressGroups(), PortGroups: DefaultPortGroups()},
		MPMAlgo: "auto",
		Outputs: Outputs{
			EVE: EVE{
				Enabled:  true,
				Filetype: FiletypeRegular,
				Filename: "eve.json",
				Types: EVETypes{
					Alert: EVEAlert{Enabled: true, Metadata: true}, Flow: true, HTTP: true, DNS: EVEDNS{Enabled: true, Requests: true, Responses: true}, TLS: true, SSH: true, Anomaly: true,
					Stats:  EVEStats{Enabled: true, Interval: 8 * time.Second, NullValues: true},
					Files:  EVEFiles{Enabled: true},
					Drop:   EVEDrop{Enabled: true, Flows: DropFlowsStart},
					Engine: EVEEngine{Level: "info"},
				},
			},
			Fast: Fast{Filename: "fast.log", Append: true},
		},
		Flow: Flow{
			Memcap:            128 * MB,
			HashSize:          65536,
			MaxFlows:          500000,
			EmergencyRecovery: 30,
			Timeouts: FlowTimeouts{
				Default: FlowTimeout{New: secs(30), Established: secs(300), Closed: 0, Bypassed: secs(100),
					EmergencyNew: secs(10), EmergencyEstablished: secs(100), EmergencyClosed: 0, EmergencyBypassed: secs(50)},
				TCP: FlowTimeout{New: secs(60), Established: secs(600), Closed: secs(60), Bypassed: secs(100),
					EmergencyNew: secs(5), EmergencyEstablished: secs(100), EmergencyClosed: secs(10), EmergencyBypassed: secs(50)},
				UDP: FlowTimeout{New: secs(30), Established: secs(300), Bypassed: secs(100),
					EmergencyNew: secs(10), EmergencyEstablished: secs(100), EmergencyBypassed: secs(50)},
				ICMP: FlowTimeout{New: secs(30), Established: secs(300), Bypassed: secs(100),
					EmergencyNew: secs(10), EmergencyEstablished: secs(100), EmergencyBypassed: secs(50)},
			},
		},
		Stream: Stream{
			Memcap:     64 * MB,
			Reassembly: Reassembly{Depth: 1 * MB, Memcap: 256 * MB},
			Midstream:  true,
		},
		Defrag: Defrag{Memcap: 32 * MB, Trackers: 65535, MaxFrags: 65535, Timeout: secs(60)},
		AppLayer: AppLayer{
			HTTP: HTTPParser{Enabled: true, RequestBodyLimit: 100 * KB, ResponseBodyLimit: 100 * KB},
			DNS:  DNSParser{Enabled: true},
			TLS:  EncryptedParser{Enabled: true, EncryptionHandling: EncryptionTrackOnly},
			SSH:  EncryptedParser{Enabled: true, EncryptionHandling: EncryptionTrackOnly},
		},
		Decoder: Decoder{GTPU: Toggle{Enabled: true}},
		Capture: Capture{Bypass: Bypass{Mode: BypassAuto, TableSize: 131072}},
		Workers: 0,
		LogDir:  ".",
	}
}
