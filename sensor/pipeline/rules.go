package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/detect/mpm"
	"github.com/polder-nsm/polder/sensor/rules"
)

// RuleConfig says which rules the sensor runs. Paths are absolute or
// relative to the current directory (FromConfig resolves the config's
// relative paths against the config file's directory).
type RuleConfig struct {
	Files              []string // rule files in load order; globs allowed
	ClassificationFile string   // "" = classification.config beside the first rule file, if any
	ThresholdFile      string   // "" = none
	Vars               rules.Vars
	// IPS is simulated IPS mode (config ips.simulate, Suricata's
	// --simulate-ips): drop and reject rules drop packets and flows, and
	// the pipeline writes drop events and stats.ips counters.
	IPS bool
	// MPM is the prefilter engine: mpm.EngineAuto (""), EngineAC or
	// EngineHyperscan (config mpm-algo).
	MPM string
}

func ruleConfig(c *config.Config) RuleConfig {
	base := ""
	if f := c.File(); f != "" {
		base = filepath.Dir(f)
	}
	rulePath := resolve(base, c.DefaultRulePath)
	rc := RuleConfig{
		ClassificationFile: resolve(base, c.ClassificationFile),
		ThresholdFile:      resolve(base, c.ThresholdFile),
		Vars:               rules.Vars{AddressGroups: c.Vars.AddressGroups, PortGroups: c.Vars.PortGroups},
		IPS:                c.IPS.Simulate,
		MPM:                mpmEngine(c.MPMAlgo),
	}
	for _, f := range c.RuleFiles {
		rc.Files = append(rc.Files, resolve(rulePath, f))
	}
	return rc
}

// mpmEngine maps suricata.yaml's mpm-algo values to the mpm package's
// engine names.
func mpmEngine(algo string) string {
	switch algo {
	case "hs":
		return mpm.EngineHyperscan
	case "ac", "ac-bs", "ac-ks":
		return mpm.EngineAC
	}
	return mpm.EngineAuto
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}

// RuleLoad is the outcome of loading and compiling a ruleset.
type RuleLoad struct {
	Engine *detect.Engine
	Files  []string        // rule files read, globs expanded
	Errors rules.ErrorList // rules refused (by the parser or the engine), bad config lines
	// Warnings are rules.AnalyzeRule's findings: rules that loaded but can
	// never match (Suricata refuses them).
	Warnings []*rules.Warning
}

// gcPercentWithRules is the GC percent a sensor runs with once a ruleset
// is loaded, from the one it had before. A compiled ruleset is about
// 100 MB of heap that lives as long as the sensor; at Go's default of 100
// the garbage of packet processing could grow as large again before a
// collection, which would make the ruleset cost twice its size. Packet
// processing allocates little, so collecting at half the live heap costs
// little CPU. A GOGC the user set is kept.
func gcPercentWithRules(prev int) int {
	if _, set := os.LookupEnv("GOGC"); set || prev < 0 {
		return prev
	}
	return min(prev, 50)
}

// LoadRules reads and compiles the ruleset rc describes. Bad rules are
// reported in RuleLoad.Errors and left out; the error return is for
// problems that leave nothing to run (no file matched a pattern, a
// threshold.config that cannot be read).
func LoadRules(rc RuleConfig) (*RuleLoad, error) {
	// Parsing a ruleset allocates about twice what the compiled engine
	// keeps: collect often while loading so the garbage does not set the
	// sensor's peak memory, and hand it back to the OS afterwards.
	defer debug.FreeOSMemory()
	prev := debug.SetGCPercent(25)
	defer func() { debug.SetGCPercent(gcPercentWithRules(prev)) }()
	var files []string
	for _, pat := range rc.Files {
		m, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("rule file pattern %s: %w", pat, err)
		}
		if len(m) == 0 {
			if _, err := os.Stat(pat); err != nil {
				return nil, fmt.Errorf("load rules: %w", err)
			}
			m = []string{pat}
		}
		files = append(files, m...)
	}
	res := &RuleLoad{Files: files}
	opts := detect.Options{Vars: rc.Vars, IPS: rc.IPS, Consume: true, MPM: mpm.Options{Engine: rc.MPM}}
	if opts.Vars.AddressGroups == nil && opts.Vars.PortGroups == nil {
		opts.Vars = rules.DefaultVars()
	}
	cf := rc.ClassificationFile
	if cf == "" && len(files) > 0 {
		if p := filepath.Join(filepath.Dir(files[0]), "classification.config"); fileExists(p) {
			cf = p
		}
	}
	if cf != "" {
		classes, errs := rules.LoadClassifications(cf)
		res.Errors = append(res.Errors, errs...)
		opts.Classifications = classes
	}
	set, errs := rules.LoadFiles(files, rules.LoadOptions{Vars: opts.Vars, CompilePCRE: detect.CompilePCRE})
	res.Errors = append(res.Errors, errs...)
	for _, e := range errs {
		if e.Line > 0 { // a rule, not an unreadable file
			opts.ParseRefused++
		}
	}
	if rc.ThresholdFile != "" {
		entries, errs := rules.LoadThresholds(rc.ThresholdFile)
		if len(entries) == 0 && len(errs) > 0 && errs[0].Line == 0 {
			return nil, errs[0]
		}
		res.Errors = append(res.Errors, errs...)
		res.Errors = append(res.Errors, rules.CheckThresholdSIDs(entries, set, rc.ThresholdFile)...)
		opts.Thresholds = entries
	}
	res.Warnings = set.Analyze()
	eng, errs := detect.Compile(set, opts)
	res.Errors = append(res.Errors, errs...)
	res.Engine = eng
	return res, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
