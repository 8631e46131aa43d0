// Package sv runs suricata-verify tests (github.com/OISF/suricata-verify)
// against polder's sensor: it reads each test's test.yaml, translates the
// test's Suricata configuration and arguments into polder's, replays the
// pcap in-process through pipeline.ReadFile into OUT/<test>/eve.json, and
// evaluates the checks exactly as upstream's run.py does (filter counts
// with dotted paths and array indexes, has-key/not-has-key, stats checks,
// version and feature gates), claiming Suricata 8.0.0 behaviour.
//
// Each test ends passed, failed (with the first failing check and what
// was found) or skipped (with the reason). Beyond upstream's rules, a test
// is never reported passed when a check it relies on could not be run: a
// shell check, or — while polder has no detection — a check on alerts of a
// test that has rules ("needs rule engine"). Settings and arguments polder
// cannot honour are listed with every result ("translated partially").
package sv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/polder-nsm/polder/sensor/pipeline"
)

// Status is a test's result.
type Status int

// Test results, as run.py counts them.
const (
	Passed Status = iota
	Failed
	Skipped
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Entry names one test: its category (from dev-tests.tsv, "" otherwise)
// and its directory relative to the tests root.
type Entry struct {
	Category, Name string
}

// RunSpec is everything a Sensor needs to run one test.
type RunSpec struct {
	Pcap   string           // absolute path
	Config *pipeline.Config // translated configuration
	OutDir string           // fresh, empty; EVE goes to OutDir/eve.json
	// RuleFiles are the test's rule files as run.py would pass them with
	// -S (none when the test has no rules: --disable-detection).
	RuleFiles []string
	// ThresholdFile is the --set threshold-file= of the test, "" if none.
	ThresholdFile string
	// SimulateIPS is --simulate-ips (or an "ips" test name).
	SimulateIPS bool
	// RulesOnly runs no traffic (Pcap is ""): the sensor loads the rules,
	// logs what it finds and stops — Suricata's --engine-analysis, or -r
	// on a directory without captures.
	RulesOnly bool
	// InitErrorsFatal is --init-errors-fatal (always on run.py's own
	// command line): in a RulesOnly run, refused rules and rules that can
	// never match (which Suricata refuses) make Run fail. A replay
	// ignores it.
	InitErrorsFatal bool
}

// Sensor runs polder on one test. PipelineSensor is the real one; tests of
// this package substitute fakes.
type Sensor interface {
	// Detects reports whether Run loads RunSpec.RuleFiles, i.e. whether
	// alert events can appear.
	Detects() bool
	// Run replays spec.Pcap and writes spec.OutDir/eve.json. An error is a
	// sensor failure (Suricata exiting non-zero); the test fails.
	Run(ctx context.Context, spec RunSpec) error
}

// PipelineSensor runs pipeline.ReadFile in-process, one test at a time.
type PipelineSensor struct {
	Logger *slog.Logger // nil = discard
}

// Detects reports true: the rule engine runs the tests' rules.
func (PipelineSensor) Detects() bool { return true }

// Run implements Sensor. The test's rules replace any in the config, as
// run.py's -S does. The sensor's log (info and up) goes to
// spec.OutDir/suricata.log, where shell checks look for Suricata's, and
// to Logger.
func (s PipelineSensor) Run(ctx context.Context, spec RunSpec) error {
	cfg := *spec.Config
	cfg.Rules.Files = spec.RuleFiles
	cfg.Rules.ThresholdFile = spec.ThresholdFile
	cfg.Rules.IPS = spec.SimulateIPS
	f, err := os.Create(filepath.Join(spec.OutDir, "suricata.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	var h slog.Handler = slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})
	if s.Logger != nil {
		h = slog.NewMultiHandler(h, s.Logger.Handler())
	}
	opts := pipeline.Options{Config: &cfg, LogDir: spec.OutDir, Logger: slog.New(h)}
	if !spec.RulesOnly {
		_, err = pipeline.ReadFile(ctx, spec.Pcap, opts)
		return err
	}
	res, err := pipeline.AnalyzeRules(opts)
	if err != nil || !spec.InitErrorsFatal {
		return err
	}
	refused := 0
	for _, e := range res.Errors {
		if e.SID != 0 || e.Text != "" {
			refused++
		}
	}
	if refused > 0 || len(res.Warnings) > 0 {
		return fmt.Errorf("--init-errors-fatal: %d rules refused, %d rules can never match (Suricata refuses those too)", refused, len(res.Warnings))
	}
	return nil
}

// Options configures Run.
type Options struct {
	// Root is the tests directory (suricata-verify's tests/ or the
	// corpus copy).
	Root string
	// Out is the output root; test T writes Out/T/ (removed first).
	Out string
	// Tests selects the tests; nil means Root/dev-tests.tsv if present,
	// else every directory under Root holding a test.yaml.
	Tests []Entry
	// Env is what requirements are checked against; the zero value means
	// DefaultVersion and DefaultFeatures with no environment variables.
	Env Env
	// Sensor runs polder; nil means PipelineSensor{}.
	Sensor Sensor
	// EventTypes are the EVE event types the sensor writes besides alert;
	// nil means DefaultEventTypes.
	EventTypes []string
	// Progress, if set, is called after each test.
	Progress func(Result)
}

// Result is one test's outcome.
type Result struct {
	Entry
	Status Status
	// Reason: for failed, the first failing check and what was found; for
	// skipped, why; for passed, empty.
	Reason string
	Checks []CheckResult
	// RulesIgnored is set when the test has rules and the sensor has no
	// detection: the rules were not loaded.
	RulesIgnored bool
	// Untranslated lists the settings and arguments polder could not
	// honour (see Translation.Untranslated).
	Untranslated []string
	OutDir       string
	Elapsed      time.Duration
}

// Notes is the short annotation shown beside a result: "rules ignored",
// "translated partially: ...".
func (r Result) Notes() string {
	var n []string
	if r.RulesIgnored {
		n = append(n, "rules ignored")
	}
	if len(r.Untranslated) > 0 {
		n = append(n, "translated partially: "+strings.Join(r.Untranslated, "; "))
	}
	return strings.Join(n, "; ")
}

// Run runs the selected tests one after another. The error is for harness
// problems only (unreadable index, output directory not writable); test
// failures are results.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Env.Version == (Version{}) {
		opts.Env.Version = DefaultVersion
		if opts.Env.Features == nil {
			opts.Env.Features = DefaultFeatures
		}
	}
	if opts.Sensor == nil {
		opts.Sensor = PipelineSensor{}
	}
	tests := opts.Tests
	if tests == nil {
		var err error
		if tests, err = ListTests(opts.Root); err != nil {
			return nil, err
		}
	}
	rep := &Report{Version: opts.Env.Version, Detection: opts.Sensor.Detects()}
	for _, e := range tests {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r, err := RunTest(ctx, opts, e)
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, r)
		if opts.Progress != nil {
			opts.Progress(r)
		}
	}
	return rep, nil
}

// ListTests reads root/dev-tests.tsv (category<TAB>name per line; # and
// blank lines ignored) or, without it, finds every directory under root
// holding a test.yaml (not descending into it, as run.py), sorted.
func ListTests(root string) ([]Entry, error) {
	f, err := os.Open(filepath.Join(root, "dev-tests.tsv"))
	if err == nil {
		defer f.Close()
		var tests []Entry
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			cat, name, ok := strings.Cut(line, "\t")
			if !ok {
				cat, name = "", line
			}
			name = strings.TrimSpace(name)
			if name == "" || filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
				return nil, fmt.Errorf("read %s: line %d: bad test name %q", f.Name(), n, name)
			}
			tests = append(tests, Entry{Category: strings.TrimSpace(cat), Name: name})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		return tests, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var tests []Entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == root {
			return err
		}
		if _, err := os.Stat(filepath.Join(p, "test.yaml")); err == nil {
			rel, _ := filepath.Rel(root, p)
			tests = append(tests, Entry{Name: filepath.ToSlash(rel)})
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find tests under %s: %w", root, err)
	}
	if len(tests) == 0 {
		return nil, fmt.Errorf("find tests under %s: no dev-tests.tsv and no test.yaml (is it a suricata-verify tests directory?)", root)
	}
	sort.Slice(tests, func(i, j int) bool { return tests[i].Name < tests[j].Name })
	return tests, nil
}

// RunTest runs one test. The error is for harness problems only.
func RunTest(ctx context.Context, opts Options, e Entry) (Result, error) {
	start := time.Now()
	r := Result{Entry: e, OutDir: filepath.Join(opts.Out, filepath.FromSlash(e.Name))}
	done := func(s Status, reason string) (Result, error) {
		r.Status, r.Reason, r.Elapsed = s, reason, time.Since(start)
		return r, nil
	}
	t, err := LoadTest(opts.Root, e.Name)
	if err != nil {
		if t == nil {
			return r, err
		}
		return done(Failed, err.Error())
	}

	// Requirements and skips, in run.py's order.
	why, err := opts.Env.unsatisfied(t.Requires)
	if err != nil {
		return done(Failed, err.Error())
	}
	if why != "" {
		return done(Skipped, why)
	}
	if why := t.skipReason(opts.Env); why != "" {
		return done(Skipped, why)
	}
	// The Suricata command line: run.py's own (-r PCAP -S RULES
	// --init-errors-fatal, then the test's args:), or the test's command:.
	var args []string
	if t.Command != "" {
		var err error
		if args, err = CommandArgs(t.Command, t.ShellEnv(r.OutDir)); err != nil {
			cmd, _, _ := strings.Cut(strings.TrimSpace(t.Command), "\n")
			return done(Skipped, "needs its own command line ("+err.Error()+"): "+cmd)
		}
	} else {
		args = t.SubstituteArgs(r.OutDir)
	}
	tr, err := Translate(t, args)
	if err != nil {
		return done(Failed, "translate configuration: "+err.Error())
	}
	if tr.LogDir != "" && filepath.Clean(tr.LogDir) != filepath.Clean(r.OutDir) {
		tr.untranslated("-l %s (polder writes to the test's output directory)", tr.LogDir)
	}
	r.Untranslated = tr.Untranslated
	var pcap string
	var rules []string
	if t.Command != "" {
		rules = tr.RuleFiles
		switch fi, err := os.Stat(tr.ReadPath); {
		case tr.ReadPath == "" && !tr.EngineAnalysis:
			return done(Skipped, "its command reads no capture (-r)")
		case tr.ReadPath == "":
		case err != nil:
			return done(Failed, "-r "+tr.ReadPath+": "+err.Error())
		case fi.IsDir():
			// Suricata reads every capture in the directory; without
			// any, it loads the rules and stops, as AnalyzeRules does.
			files, err := captureFiles(tr.ReadPath)
			if err != nil {
				return done(Failed, "-r "+tr.ReadPath+": "+err.Error())
			}
			if len(files) > 1 {
				return done(Skipped, fmt.Sprintf("reads %d captures from a directory (the harness replays one)", len(files)))
			}
			if len(files) == 1 {
				pcap = files[0]
			}
		default:
			pcap = tr.ReadPath
		}
	} else {
		if pcap, err = t.ResolvePcap(); err != nil {
			return done(Failed, err.Error())
		}
		if pcap == "" && !t.NoPcap && !tr.EngineAnalysis {
			return done(Skipped, "no pcap file found")
		}
		if pcap == "" && !tr.EngineAnalysis {
			return done(Skipped, "runs without a pcap (needs a Suricata mode other than -r)")
		}
		if rules, err = selectRules(t.RuleFiles, opts.Env.Version); err != nil {
			return done(Failed, err.Error())
		}
		if tr.RulesGiven {
			rules = tr.RuleFiles
		} else {
			rules = append(rules, tr.RuleFiles...)
		}
		tr.InitErrorsFatal = true
	}
	rulesOnly := tr.EngineAnalysis || pcap == ""
	if rulesOnly {
		pcap = ""
	}
	r.RulesIgnored = len(rules) > 0 && !opts.Sensor.Detects()

	pc, err := pipeline.FromConfig(tr.Config)
	if err != nil {
		return done(Failed, "translated configuration is invalid: "+err.Error())
	}
	pc.EVE.HTTPOptions = tr.HTTP
	if err := os.RemoveAll(r.OutDir); err != nil {
		return r, fmt.Errorf("clean %s: %w", r.OutDir, err)
	}
	if err := os.MkdirAll(r.OutDir, 0o755); err != nil {
		return r, fmt.Errorf("create %s: %w", r.OutDir, err)
	}
	if err := writeTranslation(r.OutDir, tr); err != nil {
		return r, err
	}
	spec := RunSpec{Pcap: pcap, Config: pc, OutDir: r.OutDir, RuleFiles: rules, ThresholdFile: tr.ThresholdFile, SimulateIPS: tr.SimulateIPS,
		RulesOnly: rulesOnly, InitErrorsFatal: tr.InitErrorsFatal}
	// The exit status is 1 when the sensor fails, 0 otherwise; run.py
	// fails the test when it is not exit-code: (default 0).
	if err := opts.Sensor.Run(ctx, spec); err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if t.ExitCode != 1 {
			return done(Failed, fmt.Sprintf("polder: %v (exit status 1, want %d)", err, t.ExitCode))
		}
	} else if t.ExitCode != 0 {
		return done(Failed, fmt.Sprintf("polder exited with status 0, want %d", t.ExitCode))
	}

	changes, err := RulesChangeOutput(rules)
	if err != nil {
		return done(Failed, "read rules: "+err.Error())
	}
	r.Checks = Evaluate(r.OutDir, t.Checks, EvalOptions{
		Env:               opts.Env,
		TestMinVersion:    t.Requires.MinVersion,
		Detection:         opts.Sensor.Detects(),
		HasRules:          len(rules) > 0,
		RulesChangeOutput: changes,
		EventTypes:        opts.EventTypes,
		ShellEnv:          t.ShellEnv(r.OutDir),
	})
	s, reason := classify(r.Checks)
	return done(s, reason)
}

// classify turns check outcomes into the test's status: run.py's rules
// (any failure fails; all checks gated skips), plus polder's: a check that
// could not be run keeps the test from passing.
func classify(checks []CheckResult) (Status, string) {
	var pass, gated, needRules, unsupported []CheckResult
	for _, c := range checks {
		switch c.Outcome {
		case Fail:
			return Failed, c.String()
		case Pass:
			pass = append(pass, c)
		case Gated:
			gated = append(gated, c)
		case NeedsRules:
			needRules = append(needRules, c)
		case Unsupported:
			unsupported = append(unsupported, c)
		}
	}
	switch {
	case len(needRules) > 0:
		return Skipped, fmt.Sprintf("needs rule engine: %d check(s) on alerts or rule effects not evaluated; %d other check(s) passed", len(needRules), len(pass))
	case len(unsupported) > 0:
		return Skipped, fmt.Sprintf("needs %s; %d other check(s) passed", unsupported[0].Msg, len(pass))
	case len(pass) == 0 && len(gated) > 0:
		return Skipped, "every check gated: " + gated[0].Msg
	}
	return Passed, ""
}

func (t *Test) skipReason(env Env) string {
	if t.SkipAll {
		return "skipped by default"
	}
	for _, s := range t.Skip {
		if s.UID != nil && os.Getuid() == *s.UID {
			if s.Msg != "" {
				return s.Msg
			}
			return fmt.Sprintf("not for uid %d", *s.UID)
		}
		if s.Feature != "" {
			for _, f := range env.Features {
				if f == s.Feature {
					if s.Msg != "" {
						return s.Msg
					}
					return "not for feature " + f
				}
			}
		}
		// skip: config: patterns match `suricata --dump-config`; polder has
		// no such dump, so they never match.
	}
	return ""
}

// selectRules applies run.py's rule-file rules: none → no detection; one
// → -S it (unless named min<version>.rules for a newer version); two →
// firewall.rules and td.rules; more is an error.
func selectRules(files []string, v Version) ([]string, error) {
	switch len(files) {
	case 0:
		return nil, nil
	case 1:
		base := filepath.Base(files[0])
		if strings.HasPrefix(base, "min") && strings.HasSuffix(base, ".rules") && !strings.HasSuffix(base, "firewall.rules") {
			min, err := ParseVersion(strings.TrimSuffix(strings.TrimPrefix(base, "min"), ".rules"), false)
			if err == nil && !versionGTE(v, min) {
				return nil, nil
			}
		}
		return files, nil
	case 2:
		if !strings.HasSuffix(files[0], "firewall.rules") || !strings.HasSuffix(files[1], "td.rules") {
			return nil, fmt.Errorf("multi rule file should have firewall.rules and td.rules. Got %s %s", filepath.Base(files[0]), filepath.Base(files[1]))
		}
		return files, nil
	}
	return nil, fmt.Errorf("more than 1 rule file found")
}

// writeTranslation leaves the polder configuration used (and what it could
// not express) beside eve.json, so a failure can be replayed with
// `polder sensor read PCAP --config OUT/T/polder.yaml`.
func writeTranslation(dir string, tr *Translation) error {
	y, err := tr.Config.Marshal()
	if err != nil {
		return fmt.Errorf("write translated config: %w", err)
	}
	var b strings.Builder
	b.WriteString("# polder configuration translated from the suricata-verify test by internal/sv.\n")
	if tr.HTTP.DumpAllHeaders || tr.HTTP.Bodies {
		fmt.Fprintf(&b, "# set on pipeline.Config only (no config key): EVE.HTTPOptions = %+v\n", tr.HTTP)
	}
	for _, u := range tr.Untranslated {
		b.WriteString("# not translated: " + u + "\n")
	}
	b.Write(y)
	return os.WriteFile(filepath.Join(dir, "polder.yaml"), []byte(b.String()), 0o644)
}
