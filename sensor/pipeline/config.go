package pipeline

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer/http"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/defrag"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
	"github.com/polder-nsm/polder/sensor/stream"
)

// Config is the validated sensor configuration turned into each stage's
// options. Build it with FromConfig; the CLI and the instance manager do,
// then hand it to ReadFile or OpenLive.
type Config struct {
	Live   []capture.LiveOptions
	Defrag defrag.Options
	Flow   flow.TableOptions
	Stream stream.Options
	HTTP   http.Options
	EVE    EVEConfig
	Rules  RuleConfig
	// DNSUDPPorts limits DNS-over-UDP detection to these ports; nil: any.
	DNSUDPPorts []uint16
	// NoGTPU leaves GTP-U undecoded (decoder.gtpu.enabled: no).
	NoGTPU bool
	// Inline inspects a request on the packet that completes it
	// (stream.inline; always so in IPS mode). Otherwise, as Suricata in IDS
	// mode, the request side of an HTTP transaction is inspected on the
	// client's first packet after the server acknowledged the request.
	Inline bool
	// Fast configures fast.log.
	Fast FastConfig
	// Bypass configures flow bypass (bypass.go).
	Bypass BypassConfig
	// NoSSH leaves SSH sessions unparsed (app-layer.ssh.enabled: no).
	NoSSH bool
}

// FastConfig configures fast.log (see package fastlog).
type FastConfig struct {
	Enabled  bool
	Filename string // relative to Options.LogDir unless absolute
	Append   bool   // keep an existing file's lines; false truncates it at start
}

// EVEConfig selects the EVE output and its event types.
type EVEConfig struct {
	Kind          string // eve.SinkFile, eve.SinkUnixStream or eve.SinkUnixDgram
	Filename      string // relative to Options.LogDir unless absolute
	Flow, HTTP    bool
	DNS, TLS      bool
	SSH           bool
	Anomaly       bool
	Alert         bool
	AlertMetadata bool // rule metadata and flowbits in alerts
	Stats         bool
	StatsInterval time.Duration // wall time; 0 = only the final stats event
	StatsZeros    bool          // write counters that are 0 (Suricata's null-values)
	StatsBypass   bool          // add bypass_table.* to live stats (not in Suricata's schema)
	DNSRequests   bool          // log DNS queries
	DNSResponses  bool          // log DNS answers
	HTTPOptions   eve.HTTPOptions
	AlertOptions  eve.AlertOptions
	Files         bool // fileinfo events for HTTP bodies (Config.HTTP.Files tracks them)
	// Drop writes drop events in IPS mode (Rules.IPS); DropAlerts adds the
	// alert that caused the drop; DropAllFlows logs every packet of a
	// dropped flow instead of the first per direction (flows: all).
	Drop, DropAlerts, DropAllFlows bool
	Netflow                        bool // two one-direction netflow events per ended flow
	// Engine writes the sensor's log messages at or above EngineLevel as
	// engine events (see eve.EngineHandler).
	Engine      bool
	EngineLevel slog.Level
}

// DefaultConfig is FromConfig(config.Default()).
func DefaultConfig() *Config {
	c, err := FromConfig(config.Default())
	if err != nil {
		panic("default sensor config does not convert: " + err.Error()) // a bug, caught by tests
	}
	return c
}

// FromConfig validates c and converts it.
func FromConfig(c *config.Config) (*Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	out := &Config{
		Defrag: defrag.Options{
			MaxTrackers: c.Defrag.Trackers,
			MaxBytes:    int64(c.Defrag.Memcap),
			Timeout:     c.Defrag.Timeout,
		},
		Flow: flow.TableOptions{
			MaxFlows:          c.Flow.MaxFlows,
			HashSize:          c.Flow.HashSize,
			EmergencyRecovery: c.Flow.EmergencyRecovery,
			Midstream:         c.Stream.Midstream,
			Timeouts: flow.Timeouts{
				TCP:     protoTimeouts(c.Flow.Timeouts.TCP),
				UDP:     protoTimeouts(c.Flow.Timeouts.UDP),
				ICMP:    protoTimeouts(c.Flow.Timeouts.ICMP),
				Default: protoTimeouts(c.Flow.Timeouts.Default),
			},
		},
		Stream: stream.Options{
			Depth:  int(c.Stream.Reassembly.Depth),
			Memcap: int64(c.Stream.Reassembly.Memcap),
		},
		HTTP: http.Options{
			RequestBodyLimit:  bodyLimit(c.AppLayer.HTTP.RequestBodyLimit),
			ResponseBodyLimit: bodyLimit(c.AppLayer.HTTP.ResponseBodyLimit),
		},
		Inline: c.Stream.Inline,
		Fast:   FastConfig{Enabled: c.Outputs.Fast.Enabled, Filename: c.Outputs.Fast.Filename, Append: c.Outputs.Fast.Append},
	}
	e := c.Outputs.EVE
	t := e.Types
	out.EVE = EVEConfig{
		Kind:          sinkKind(e.Filetype),
		Filename:      e.Filename,
		Flow:          e.Enabled && t.Flow,
		HTTP:          e.Enabled && t.HTTP && c.AppLayer.HTTP.Enabled,
		DNS:           e.Enabled && t.DNS.Enabled && c.AppLayer.DNS.Enabled,
		DNSRequests:   t.DNS.Requests,
		DNSResponses:  t.DNS.Responses,
		TLS:           e.Enabled && t.TLS && c.AppLayer.TLS.Enabled,
		SSH:           e.Enabled && t.SSH && c.AppLayer.SSH.Enabled,
		Anomaly:       e.Enabled && t.Anomaly,
		Alert:         e.Enabled && t.Alert.Enabled,
		AlertMetadata: t.Alert.Metadata,
		AlertOptions: eve.AlertOptions{
			Payload: t.Alert.Payload, PayloadPrintable: t.Alert.PayloadPrintable, Packet: t.Alert.Packet,
		},
		Engine:        e.Enabled && t.Engine.Enabled,
		Stats:         e.Enabled && t.Stats.Enabled,
		StatsInterval: t.Stats.Interval,
		StatsZeros:    t.Stats.NullValues,
		StatsBypass:   t.Stats.BypassTable,
		Drop:          e.Enabled && t.Drop.Enabled,
		DropAlerts:    t.Drop.Alerts,
		DropAllFlows:  t.Drop.Flows == config.DropFlowsAll,
		Netflow:       e.Enabled && t.Netflow,
		Files:         e.Enabled && t.Files.Enabled && c.AppLayer.HTTP.Enabled,
	}
	if out.EVE.Files {
		// File tracking costs a little per body: only when fileinfo is logged.
		out.HTTP.Files = true
		for _, h := range t.Files.ForceHash {
			switch h {
			case config.HashMD5:
				out.HTTP.FileHashes |= http.HashMD5
			case config.HashSHA1:
				out.HTTP.FileHashes |= http.HashSHA1
			case config.HashSHA256:
				out.HTTP.FileHashes |= http.HashSHA256
			}
		}
	}
	if t.Engine.Level != "" {
		lvl, err := eve.ParseLevel(t.Engine.Level)
		if err != nil {
			return nil, fmt.Errorf("outputs.eve.types.engine.level: %w", err) // Validate checked it
		}
		out.EVE.EngineLevel = lvl
	}
	for _, i := range c.Capture.Interfaces {
		out.Live = append(out.Live, liveOptions(i))
	}
	out.Rules = ruleConfig(c)
	out.DNSUDPPorts = c.AppLayer.DNS.UDPDetectionPorts
	out.NoGTPU = !c.Decoder.GTPU.Enabled
	out.Bypass = bypassConfig(c)
	out.NoSSH = !c.AppLayer.SSH.Enabled
	return out, nil
}

// SetInterfaces replaces the live interfaces (the CLI's -i), each with
// workers fanout sockets.
func (c *Config) SetInterfaces(names []string, workers int) {
	c.Live = c.Live[:0]
	for _, n := range names {
		c.Live = append(c.Live, liveOptions(config.Interface{Name: n, Workers: workers}))
	}
}

// InterfaceNames lists the live interfaces.
func (c *Config) InterfaceNames() []string {
	var s []string
	for _, l := range c.Live {
		s = append(s, l.Interface)
	}
	return s
}

func liveOptions(i config.Interface) capture.LiveOptions {
	return capture.LiveOptions{
		Interface:   i.Name,
		Workers:     max(i.Workers, 1),
		FanoutGroup: uint16(i.FanoutGroup), // 0: derived per instance at open (fanoutGroup)
		Snaplen:     i.Snaplen,
		Promisc:     true,
	}
}

// fanoutGroup derives a PACKET_FANOUT group id for an interface whose
// config leaves it 0. Sockets with the same id on one interface share (split)
// its packets, so the id must differ between two sensors on the same
// interface: it hashes the sensor's log directory, which is the instance's
// own, with the interface name. The result is in 1000–60999, away from the
// small ids people configure by hand.
func fanoutGroup(logDir, iface string) uint16 {
	if abs, err := filepath.Abs(logDir); err == nil {
		logDir = abs
	}
	h := fnv.New32a()
	h.Write([]byte(logDir))
	h.Write([]byte{0})
	h.Write([]byte(iface))
	return uint16(h.Sum32()%60000) + 1000
}

func protoTimeouts(t config.FlowTimeout) flow.ProtoTimeouts {
	return flow.ProtoTimeouts{
		New: t.New, Established: t.Established, Closed: t.Closed,
		EmergencyNew: t.EmergencyNew, EmergencyEstablished: t.EmergencyEstablished, EmergencyClosed: t.EmergencyClosed,
		Bypassed: t.Bypassed, EmergencyBypassed: t.EmergencyBypassed,
	}
}

// bodyLimit maps the config's "0 = unlimited" onto the parser's "0 =
// default": unlimited becomes a very large bound.
func bodyLimit(s config.Size) int {
	if s == 0 {
		return 1 << 30
	}
	return int(s)
}

func sinkKind(filetype string) string {
	switch filetype {
	case config.FiletypeUnixStream:
		return eve.SinkUnixStream
	case config.FiletypeUnixDgram:
		return eve.SinkUnixDgram
	}
	return eve.SinkFile
}

func (o Options) config() *Config {
	if o.Config != nil {
		return o.Config
	}
	return DefaultConfig()
}

func (o Options) clock() func() time.Time {
	if o.Clock != nil {
		return o.Clock
	}
	return time.Now
}
