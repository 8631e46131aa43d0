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
	// EngineAnalysis is --engine-analysis: load the rules, report what is
	// wrong with them and stop (pipeline.AnalyzeRules).
	EngineAnalysis bool
	// InitErrorsFatal is --init-errors-fatal: a rule that is refused (or,
	// in polder, can never match) fails the run with exit status 1.
	InitErrorsFatal bool

	// From a command: line's arguments (see CommandArgs); run.py's own
	// command line sets these itself. RuleFiles are -S and -s files in
	// order (RulesGiven: -S replaced the test's rule files), ReadPath is
	// -r (a capture file or a directory of them), ConfigFile is -c.
	RuleFiles  []string
	RulesGiven bool
	ReadPath   string
	ConfigFile string
	LogDir     string // -l

	// Untranslated lists every setting or argument polder cannot honour,
	// each as "where: what" ("--set stream.inline=true", "suricata.yaml:
	// eve-log type netflow"). The test still runs; its result carries
	// these as "translated partially".
	Untranslated []string

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
	c.Outputs.EVE.Types.Drop.Enabled = false // commented out in Suricata's suricata.yaml
	c.Outputs.Fast = config.Fast{Enabled: true, Filename: "fast.log", Append: true}
	c.Workers = 1
	return c
}

// Translate builds the polder configuration for t. args are the test's
// arguments with ${VAR}s already substituted (Test.SubstituteArgs), or the
// arguments of its command (CommandArgs); a -c among them replaces the
// test's suricata.yaml.
func Translate(t *Test, args []string) (*Translation, error) {
	tr := &Translation{Config: SuricataDefaults()}
	yamlFile := t.SuricataYAML
	for i, a := range args {
		if a == "-c" && i+1 < len(args) {
			yamlFile = args[i+1]
		}
	}
	if yamlFile != "" {
		root, err := loadSuricataYAML(yamlFile, 0)
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
	tr.Config.IPS.Simulate = tr.SimulateIPS
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
	"default-log-dir": true, "default-rule-path": true, "rule-files": true,
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
	c.Outputs.Fast.Enabled = false
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
		case "logging":
			if err := tr.applyLogging(v); err != nil {
				return fmt.Errorf("logging: %w", err)
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

// applyLogging reads Suricata's logging: section. A file output of type
// json named like the EVE file (eve.json) is how Suricata 7+ puts its own
// log messages into EVE as "engine" events: polder's engine event type, at
// the output's level (else default-log-level, else notice). Console,
// syslog and plain-text file outputs change nothing in OUT/<test>: the
// harness always writes polder's log to suricata.log there.
func (tr *Translation) applyLogging(v any) error {
	m, _ := v.(map[string]any)
	level := "notice"
	if l, ok := m["default-log-level"]; ok && l != nil {
		level = fmt.Sprint(l)
	}
	outs, _ := m["outputs"].([]any)
	for _, item := range outs {
		om, _ := item.(map[string]any)
		for _, kind := range sortedKeys(om) {
			body, _ := om[kind].(map[string]any)
			if e, ok := body["enabled"]; ok && !truthy(e) {
				continue
			}
			if kind != "file" || fmt.Sprint(body["type"]) != "json" {
				continue
			}
			name := "suricata.log"
			if f, ok := body["filename"]; ok {
				name = fmt.Sprint(f)
			}
			if name != "eve.json" {
				tr.untranslated("suricata.yaml: logging file output %s of type json (polder writes engine events into eve.json only)", name)
				continue
			}
			lv := level
			if l, ok := body["level"]; ok && l != nil {
				lv = fmt.Sprint(l)
			}
			l, err := eve.ParseLevel(lv)
			if err != nil {
				return err
			}
			c := tr.Config
			c.Outputs.EVE.Enabled = true
			c.Outputs.EVE.Types.Engine = config.EVEEngine{Enabled: true, Level: strings.ToLower(eve.LevelName(l))}
		}
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
			if name == "fast" {
				if enabled {
					tr.applyFast(body)
				}
				continue
			}
			if name != "eve-log" {
				if enabled {
					what := ""
					if name == "file-store" {
						what = " (polder does not extract files)"
					}
					tr.untranslated("suricata.yaml: output %s%s", name, what)
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

// applyFast turns on fast.log with the output's filename and append.
func (tr *Translation) applyFast(body map[string]any) {
	f := &tr.Config.Outputs.Fast
	*f = config.Fast{Enabled: true, Filename: "fast.log", Append: true}
	for _, k := range sortedKeys(body) {
		v := body[k]
		switch k {
		case "enabled":
		case "filename":
			if s := fmt.Sprint(v); s != "" {
				f.Filename = s
			}
		case "append":
			if b, ok := suricataBool(v); ok {
				f.Append = b
			}
		case "filetype":
			if s := fmt.Sprint(v); s != "regular" {
				tr.untranslated("suricata.yaml: fast filetype %s (written as a regular file)", s)
			}
		default:
			tr.untranslated("suricata.yaml: fast %s: %v", k, pyRepr(v))
		}
	}
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
	case "ssh":
		t.SSH = true
		unknownOpts(nil)
	case "drop":
		t.Drop = config.EVEDrop{Enabled: true, Alerts: truthy(opts["alerts"]), Flows: config.DropFlowsStart}
		if f, ok := opts["flows"].(string); ok && (f == config.DropFlowsStart || f == config.DropFlowsAll) {
			t.Drop.Flows = f
		}
		unknownOpts(map[string]func(any) bool{
			"alerts": func(any) bool { return true },
			"flows":  func(v any) bool { return v == config.DropFlowsStart || v == config.DropFlowsAll },
		})
	case "netflow":
		t.Netflow = true
		unknownOpts(nil)
	case "files":
		t.Files = config.EVEFiles{Enabled: true}
		hashes := map[string]bool{}
		for _, h := range stringList(opts["force-hash"]) {
			hashes[strings.ToLower(h)] = true
		}
		if truthy(opts["force-md5"]) { // Suricata 4's spelling
			hashes[config.HashMD5] = true
		}
		for _, h := range []string{config.HashMD5, config.HashSHA1, config.HashSHA256} {
			if hashes[h] {
				t.Files.ForceHash = append(t.Files.ForceHash, h)
				delete(hashes, h)
			}
		}
		if len(hashes) > 0 {
			tr.untranslated("suricata.yaml: eve-log files.force-hash %s", strings.Join(sortedKeys(hashes), ", "))
		}
		unknownOpts(map[string]func(any) bool{
			"force-hash": func(any) bool { return true }, "force-md5": func(any) bool { return true },
			"force-magic": isFalse, // polder has no libmagic
		})
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
	case "stream.inline":
		// "auto" is inline in IPS mode, which polder's pipeline does by
		// itself.
		if val != "auto" {
			c.Stream.Inline, err = boolVal()
		}
	case "stream.bypass":
		c.Stream.Bypass, err = boolVal()
	case "app-layer.protocols.tls.encryption-handling", "app-layer.protocols.ssh.encryption-handling",
		"app-layer.protocols.tls.encrypt-handling": // the name before Suricata 5, still read when the new one is absent
		switch val {
		case config.EncryptionTrackOnly, config.EncryptionDefault, config.EncryptionFull, config.EncryptionBypass:
		default:
			return fmt.Errorf("%s: %q is not an encryption handling (Suricata takes default, track-only, full or bypass)", key, val)
		}
		if strings.Split(key, ".")[2] == "tls" {
			c.AppLayer.TLS.EncryptionHandling = val
		} else {
			c.AppLayer.SSH.EncryptionHandling = val
		}
	case "app-layer.protocols.ssh.hassh":
		if truthy(val) {
			tr.untranslated("%s (polder writes no hassh)", where)
		}
	case "stream.drop-invalid", "stream.async-oneside":
		// polder drops nothing and follows one-sided sessions anyway;
		// "false" is what it does.
		var b bool
		if b, err = boolVal(); err == nil && b && key != "stream.async-oneside" {
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
	case "app-layer.protocols.http.enabled", "app-layer.protocols.dns.enabled", "app-layer.protocols.tls.enabled",
		"app-layer.protocols.ssh.enabled":
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
		case "ssh":
			c.AppLayer.SSH.Enabled = on
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
			p[2] != "http" && p[2] != "dns" && p[2] != "tls" && p[2] != "ssh" {
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
		case a == "--engine-analysis":
			tr.EngineAnalysis = true
		case a == "--init-errors-fatal":
			tr.InitErrorsFatal = true
		case a == "-S" || a == "-s":
			v, err := next()
			if err != nil {
				return err
			}
			if a == "-S" && !tr.RulesGiven {
				tr.RuleFiles, tr.RulesGiven = nil, true
			}
			tr.RuleFiles = append(tr.RuleFiles, v)
		case a == "-r":
			v, err := next()
			if err != nil {
				return err
			}
			tr.ReadPath = v
		case a == "-c":
			v, err := next()
			if err != nil {
				return err
			}
			tr.ConfigFile = v // read by Translate before the arguments
		case a == "-l":
			v, err := next()
			if err != nil {
				return err
			}
			tr.LogDir = v // RunTest compares it with the output directory
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
