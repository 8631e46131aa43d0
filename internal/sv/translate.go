package sv

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// Translation is a test's Suricata configuration (its suricata.yaml or
// Suricata 8's default one, then its args) expressed for polder.
type Translation struct {
	// Config is the polder sensor configuration. The caller converts it
	// with pipeline.FromConfig and then applies HTTP.
	Config *config.Config
	// HTTP holds eve-log http options that sensor/config has no key for
	// (dump-all-headers, http-body); they go to pipeline.EVEConfig.
	HTTP eve.HTTPOptions

	// ThresholdFile is the --set threshold-file= value, for the rule
	// engine ("" when none).
	ThresholdFile string
	// SimulateIPS is set by --simulate-ips or an "ips" test name.
	SimulateIPS bool

	// Untranslated lists every setting or argument polder cannot honour,
	// each as "where: what" ("--set stream.inline=true", "suricata.yaml:
	// eve-log type netflow"). The test still runs; its result carries
	// these as "translated partially".
	Untranslated []string
	// Blocker, when set, is why running polder would be meaningless (the
	// test asks Suricata for something that is not a pcap replay, such as
	// --engine-analysis); the test is skipped with this reason.
	Blocker string

	statsOff bool // stats.enabled: no (wins over an eve-log stats type)
}

func (tr *Translation) untranslated(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	for _, u := range tr.Untranslated {
		if u == s {
			return
		}
	}
	tr.Untranslated = append(tr.Untranslated, s)
}

// SuricataDefaults returns the polder configuration equivalent to running
// Suricata 8.0 with its default suricata.yaml (what run.py uses when a test
// has none): every EVE type polder writes is on, stats every 8 s of wall
// time, and, unlike polder's own defaults, stream.midstream off and DNS over
// UDP detected on port 53 only, and no GTP-U decoder (Suricata has none).
func SuricataDefaults() *config.Config {
	c := config.Default()
	c.Stream.Midstream = false
	c.AppLayer.DNS.UDPDetectionPorts = []uint16{53}
	c.Decoder.GTPU.Enabled = false
	c.Workers = 1
	return c
}

// Translate builds the polder configuration for t. args are the test's
// arguments with ${VAR}s already substituted (Test.SubstituteArgs).
func Translate(t *Test, args []string) (*Translation, error) {
	tr := &Translation{Config: SuricataDefaults()}
	if t.SuricataYAML != "" {
		root, err := loadSuricataYAML(t.SuricataYAML, 0)
		if err != nil {
			return nil, err
		}
		if err := tr.applySuricataYAML(root); err != nil {
			return nil, fmt.Errorf("suricata.yaml: %w", err)
		}
	}
	if strings.Contains(t.Base, "ips") {
		tr.SimulateIPS = true
		tr.untranslated("test name contains \"ips\": --simulate-ips")
	}
	if err := tr.applyArgs(args); err != nil {
		return nil, err
	}
	return tr, nil
}

// loadSuricataYAML reads a Suricata configuration file, resolving
// include: (relative to the file) by merging the included mappings under
// the including file's keys.
func loadSuricataYAML(path string, depth int) (map[string]any, error) {
	if depth > 8 {
		return nil, fmt.Errorf("read %s: include nested too deep", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	v, err := yamlValue(&doc)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	inc, ok := m["include"]
	if !ok {
		return m, nil
	}
	delete(m, "include")
	base := map[string]any{}
	for _, f := range stringList(inc) {
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(path), f)
		}
		im, err := loadSuricataYAML(f, depth+1)
		if err != nil {
			return nil, err
		}
		deepMerge(base, im)
	}
	deepMerge(base, m)
	return base, nil
}

// deepMerge overlays src onto dst: mappings merge key by key, anything else
// replaces. (Suricata merges sequences by index; no test relies on that.)
func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// suricataBool is Suricata's ConfValIsTrue / ConfValIsFalse.
func suricataBool(v any) (val, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case int64:
		return v != 0, v == 0 || v == 1
	case string:
		switch strings.ToLower(v) {
		case "1", "yes", "true", "on":
			return true, true
		case "0", "no", "false", "off":
			return false, true
		}
	}
	return false, false
}

func truthy(v any) bool {
	b, ok := suricataBool(v)
	return ok && b
}

// Top-level suricata.yaml sections that configure Suricata's own process
// or rule loading (which the harness does itself) and have no effect on a
// polder pcap replay's EVE output.
var ignoredSections = map[string]bool{
	"logging": true, "default-log-dir": true, "default-rule-path": true, "rule-files": true,
	"classification-file": true, "reference-config-file": true, "pid-file": true,
	"unix-command": true, "coredump": true, "run-as": true, "max-pending-packets": true,
	"runmode": true, "autofp-scheduler": true, "threading": true, "profiling": true,
	"cuda": true, "napatech": true, "mpipe": true, "pfring": true, "netmap": true,
	"nflog": true, "nfq": true, "ipfw": true, "af-packet": true, "af-xdp": true, "dpdk": true,
	"pcap": true, "legacy": true, "plugins": true, "heartbeat": true, "security": true,
	"host-mode": true, "engine-analysis": true, "mpm-algo": true, "spm-algo": true,
	"luajit": true, "pcap-file": true, "geoip-database": true,
}

func (tr *Translation) applySuricataYAML(root map[string]any) error {
	keys := sortedKeys(root)
	c := tr.Config
	// A test's own suricata.yaml replaces Suricata's default one: EVE types
	// not listed are off.
	c.Outputs.EVE.Enabled = false
	c.Outputs.EVE.Types = config.EVETypes{Stats: config.EVEStats{Interval: c.Outputs.EVE.Types.Stats.Interval}}
	for _, k := range keys {
		v := root[k]
		switch k {
		case "outputs":
			if err := tr.applyOutputs(v); err != nil {
				return err
			}
		case "stats":
			m, _ := v.(map[string]any)
			if e, ok := m["enabled"]; ok && !truthy(e) {
				c.Outputs.EVE.Types.Stats.Enabled = false
				tr.statsOff = true
			}
			if iv, ok := m["interval"]; ok {
				d, err := seconds(iv)
				if err != nil {
					return fmt.Errorf("stats.interval: %w", err)
				}
				c.Outputs.EVE.Types.Stats.Interval = d
			}
			for _, sk := range sortedKeys(m) {
				if sk != "enabled" && sk != "interval" {
					tr.untranslated("suricata.yaml: stats.%s", sk)
				}
			}
		case "stream":
			m, _ := v.(map[string]any)
			flat := flatten(m, "stream")
			for _, sk := range sortedKeys(flat) {
				if err := tr.setKey(sk, fmt.Sprint(flat[sk]), "suricata.yaml"); err != nil {
					return err
				}
			}
		case "app-layer":
			m, _ := v.(map[string]any)
			flat := flatten(m, "app-layer")
			for _, sk := range sortedKeys(flat) {
				if err := tr.setKey(sk, fmt.Sprint(flat[sk]), "suricata.yaml"); err != nil {
					return err
				}
			}
		case "vars":
			m, _ := v.(map[string]any)
			for group, dst := range map[string]map[string]string{"address-groups": c.Vars.AddressGroups, "port-groups": c.Vars.PortGroups} {
				g, _ := m[group].(map[string]any)
				for name, val := range g {
					dst[name] = fmt.Sprint(val)
				}
			}
		default:
			if !ignoredSections[k] {
				tr.untranslated("suricata.yaml: %s", k)
			}
		}
	}
	if tr.statsOff {
		c.Outputs.EVE.Types.Stats.Enabled = false
	}
	return nil
}

// flatten turns nested mappings into dotted keys ("stream.reassembly.depth").
func flatten(m map[string]any, prefix string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		key := prefix + "." + k
		if v == nil {
			continue // an empty section: nothing set
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			for fk, fv := range flatten(sub, key) {
				out[fk] = fv
			}
			continue
		}
		out[key] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func seconds(v any) (time.Duration, error) {
	switch v := v.(type) {
	case int64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of seconds", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%v is not a number of seconds", v)
}

// outputs: is a list of one-key mappings ({eve-log: {...}}, {fast: {...}}).
func (tr *Translation) applyOutputs(v any) error {
	list, _ := v.([]any)
	eveSeen := false
	for _, item := range list {
		m, _ := item.(map[string]any)
		for _, name := range sortedKeys(m) {
			body, _ := m[name].(map[string]any)
			enabled := true
			if e, ok := body["enabled"]; ok {
				enabled = truthy(e)
			}
			if name != "eve-log" {
				if enabled {
					tr.untranslated("suricata.yaml: output %s", name)
				}
				continue
			}
			if eveSeen {
				tr.untranslated("suricata.yaml: second eve-log output")
				continue
			}
			eveSeen = true
			if !enabled {
				continue
			}
			if err := tr.applyEVELog(body); err != nil {
				return err
			}
		}
	}
	return nil
}

// eveKeysHarmless are eve-log keys with no bearing on what polder writes
// into OUT/<test>/eve.json (the file name is always eve.json there).
var eveKeysHarmless = map[string]bool{"enabled": true, "filename": true, "types": true}

func (tr *Translation) applyEVELog(body map[string]any) error {
	c := tr.Config
	c.Outputs.EVE.Enabled = true
	for _, k := range sortedKeys(body) {
		switch {
		case eveKeysHarmless[k]:
		case k == "filetype":
			if s := fmt.Sprint(body[k]); s != "regular" {
				tr.untranslated("suricata.yaml: eve-log filetype %s (written as a regular file)", s)
			}
		default:
			if sub, ok := body[k].(map[string]any); ok {
				if e, ok := sub["enabled"]; ok && !truthy(e) {
					continue
				}
			} else if b, ok := suricataBool(body[k]); ok && !b {
				continue
			}
			tr.untranslated("suricata.yaml: eve-log %s", k)
		}
	}
	types, _ := body["types"].([]any)
	for _, item := range types {
		var (
			name string
			opts map[string]any
		)
		switch it := item.(type) {
		case string:
			name = it
		case map[string]any:
			for k, v := range it {
				name = k
				opts, _ = v.(map[string]any)
			}
		}
		if e, ok := opts["enabled"]; ok && !truthy(e) {
			continue
		}
		tr.applyEVEType(name, opts)
	}
	return nil
}

func (tr *Translation) applyEVEType(name string, opts map[string]any) {
	t := &tr.Config.Outputs.EVE.Types
	unknownOpts := func(known map[string]func(v any) bool) {
		for _, k := range sortedKeys(opts) {
			if k == "enabled" {
				continue
			}
			if ok, found := known[k]; found && ok(opts[k]) {
				continue
			}
			tr.untranslated("suricata.yaml: eve-log %s.%s: %v", name, k, pyRepr(opts[k]))
		}
	}
	isTrue := func(v any) bool { return truthy(v) }
	isFalse := func(v any) bool { b, ok := suricataBool(v); return ok && !b }
	switch name {
	case "alert":
		t.Alert = config.EVEAlert{Enabled: true, Metadata: true}
		var set []string
		for _, k := range sortedKeys(opts) {
			v := opts[k]
			if m, ok := v.(map[string]any); ok {
				v = m["enabled"]
			}
			b, isBool := suricataBool(v)
			switch k {
			case "enabled", "payload-buffer-size":
			case "payload":
				t.Alert.Payload = truthy(v)
			case "payload-printable":
				t.Alert.PayloadPrintable = truthy(v)
			case "packet":
				t.Alert.Packet = truthy(v)
			case "metadata":
				t.Alert.Metadata = !isBool || b
			case "http", "tls", "dns":
				// polder always adds the transaction's object
			default:
				if k == "tagged-packets" && isBool && !b {
					continue
				}
				if truthy(v) {
					set = append(set, k)
				}
			}
		}
		if len(set) > 0 {
			tr.untranslated("suricata.yaml: eve-log alert options %s", strings.Join(set, ", "))
		}
	case "flow":
		t.Flow = true
		unknownOpts(nil)
	case "anomaly":
		t.Anomaly = true
		unknownOpts(nil)
	case "http":
		t.HTTP = true
		if v, ok := opts["dump-all-headers"]; ok {
			switch s := fmt.Sprint(v); s {
			case "both":
				tr.HTTP.DumpAllHeaders = true
			case "none", "false", "no":
			default:
				tr.untranslated("suricata.yaml: eve-log http.dump-all-headers: %s (polder dumps both or none)", s)
			}
		}
		if truthy(opts["http-body"]) || truthy(opts["http-body-printable"]) {
			tr.HTTP.Bodies = true
		}
		unknownOpts(map[string]func(any) bool{
			"extended":         isTrue, // polder always writes the extended set
			"dump-all-headers": func(any) bool { return true },
			"http-body":        func(any) bool { return true }, "http-body-printable": func(any) bool { return true },
		})
	case "dns":
		t.DNS = config.EVEDNS{Enabled: true, Requests: true, Responses: true}
		if b, ok := suricataBool(opts["requests"]); ok {
			t.DNS.Requests = b
		}
		if b, ok := suricataBool(opts["responses"]); ok {
			t.DNS.Responses = b
		}
		unknownOpts(map[string]func(any) bool{
			"requests": func(any) bool { return true }, "responses": func(any) bool { return true },
			"version": func(v any) bool { return pyEqual(v, int64(3)) },
		})
	case "tls":
		t.TLS = true
		unknownOpts(map[string]func(any) bool{"extended": isTrue, "session-resumption": isFalse})
	case "stats":
		t.Stats.Enabled = true
		t.Stats.NullValues = true // Suricata's EVE default
		if b, ok := suricataBool(opts["null-values"]); ok {
			t.Stats.NullValues = b
		}
		unknownOpts(map[string]func(any) bool{"totals": isTrue, "threads": isFalse, "deltas": isFalse, "null-values": func(any) bool { return true }})
	default:
		tr.untranslated("suricata.yaml: eve-log type %s (polder does not write it)", name)
	}
}

// setKey applies one dotted Suricata setting (from --set or a flattened
// suricata.yaml section).
func (tr *Translation) setKey(key, val, from string) error {
	c := tr.Config
	where := from + ": " + key + "=" + val
	if from == "--set" {
		where = "--set " + key + "=" + val
	}
	boolVal := func() (bool, error) {
		b, ok := suricataBool(val)
		if !ok {
			return false, fmt.Errorf("%s: %q is not a boolean", key, val)
		}
		return b, nil
	}
	size := func() (config.Size, error) {
		s, err := config.ParseSize(val)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return s, nil
	}
	var err error
	switch key {
	case "stream.midstream":
		c.Stream.Midstream, err = boolVal()
	case "stream.reassembly.depth":
		c.Stream.Reassembly.Depth, err = size()
	case "stream.reassembly.memcap":
		c.Stream.Reassembly.Memcap, err = size()
	case "stream.memcap":
		c.Stream.Memcap, err = size()
	case "stream.bypass", "stream.inline", "stream.drop-invalid", "stream.async-oneside":
		// polder never bypasses, is never inline, drops nothing and
		// follows one-sided sessions anyway; "false" (or inline "auto"
		// outside IPS mode) is what it does.
		var b bool
		if b, err = boolVal(); err != nil && key == "stream.inline" && val == "auto" {
			b, err = tr.SimulateIPS, nil
		}
		if err == nil && b && key != "stream.async-oneside" {
			tr.untranslated("%s", where)
		}
	case "stream.checksum-validation":
		// Suricata validates TCP checksums unless -k none / "auto" decides
		// the capture has offloaded checksums; polder never drops packets
		// for bad checksums (capture.checksum-validation is not wired to
		// the pipeline), which is what -k none does.
		if truthy(val) {
			tr.untranslated("%s (polder does not validate checksums)", where)
		}
	case "app-layer.protocols.http.enabled", "app-layer.protocols.dns.enabled", "app-layer.protocols.tls.enabled":
		proto := strings.Split(key, ".")[2]
		var on bool
		if val == "detection-only" {
			tr.untranslated("%s (parsed and logged)", where)
			on = true
		} else if on, err = boolVal(); err != nil {
			break
		}
		switch proto {
		case "http":
			c.AppLayer.HTTP.Enabled = on
		case "dns":
			c.AppLayer.DNS.Enabled = on
		case "tls":
			c.AppLayer.TLS.Enabled = on
		}
	case "app-layer.protocols.http.libhtp.default-config.request-body-limit":
		c.AppLayer.HTTP.RequestBodyLimit, err = size()
	case "app-layer.protocols.http.libhtp.default-config.response-body-limit":
		c.AppLayer.HTTP.ResponseBodyLimit, err = size()
	case "app-layer.protocols.tls.ja3-fingerprints", "app-layer.protocols.tls.ja4-fingerprints":
		if val != "auto" && !truthy(val) {
			tr.untranslated("%s (polder always computes JA3/JA4)", where)
		}
	case "app-layer.protocols.dns.tcp.enabled", "app-layer.protocols.dns.udp.enabled":
		if b, e := boolVal(); e != nil || !b {
			tr.untranslated("%s (polder has one switch for DNS over UDP and TCP)", where)
		}
	case "app-layer.protocols.dns.udp.detection-ports.dp":
		var n int
		if n, err = strconv.Atoi(val); err == nil && n > 0 && n < 65536 {
			c.AppLayer.DNS.UDPDetectionPorts = []uint16{uint16(n)}
		} else {
			tr.untranslated("%s", where)
			err = nil
		}
	case "app-layer.protocols.dns.tcp.detection-ports.dp", "app-layer.protocols.tls.detection-ports.dp":
		// polder detects DNS over TCP and TLS by content on any port, which
		// includes the listed one.
	case "threshold-file":
		tr.ThresholdFile = val
	case "classification-file", "reference-config-file":
		// Rule metadata files; the harness provides none, as run.py
		// provides Suricata's own.
	default:
		if p := strings.Split(key, "."); len(p) > 2 && p[0] == "app-layer" && p[1] == "protocols" &&
			p[2] != "http" && p[2] != "dns" && p[2] != "tls" {
			// Parsers polder does not have: their settings change nothing;
			// the event types they would log are noted at eve-log.
			return nil
		}
		tr.untranslated("%s", where)
	}
	return err
}

// applyArgs handles the command-line arguments run.py passes through.
func (tr *Translation) applyArgs(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s: missing value", a)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "-k":
			v, err := next()
			if err != nil {
				return err
			}
			if v != "none" {
				tr.untranslated("-k %s (polder does not validate checksums)", v)
			}
		case a == "--set" || strings.HasPrefix(a, "--set="):
			v := strings.TrimPrefix(a, "--set=")
			if a == "--set" {
				var err error
				if v, err = next(); err != nil {
					return err
				}
			}
			key, val, ok := strings.Cut(v, "=")
			if !ok {
				return fmt.Errorf("--set %s: want key=value", v)
			}
			if err := tr.setKey(key, val, "--set"); err != nil {
				return err
			}
		case a == "--simulate-ips":
			tr.SimulateIPS = true
			tr.untranslated("--simulate-ips (polder has no IPS mode)")
		case a == "--engine-analysis":
			tr.Blocker = "needs --engine-analysis (rule analysis report, not a pcap run)"
		case a == "-v" || a == "-vv" || a == "-vvv" || a == "-vvvv":
		case a == "--runmode":
			if _, err := next(); err != nil {
				return err
			}
		case a == "--disable-detection":
		default:
			tr.untranslated("argument %s", a)
		}
	}
	return nil
}
