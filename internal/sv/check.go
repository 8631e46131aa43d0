package sv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env is what requirements are evaluated against: the version and build
// features polder claims, and the environment variables a test may need.
type Env struct {
	Version  Version
	Features []string          // e.g. HAVE_JA3; see DefaultFeatures
	Environ  map[string]string // for requires: env:
}

// DefaultFeatures are the Suricata build features (--build-info
// "Features:") polder has: it always computes JA3/JA3S and JA4. Lua,
// NSS/file hashing extras, Hyperscan and the like are absent.
var DefaultFeatures = []string{"HAVE_JA3", "HAVE_JA4"}

// unsatisfied reports why r is not met by env ("" when it is), with
// run.py's wording. An unknown requires key is an error, as upstream.
func (env Env) unsatisfied(r Requires) (string, error) {
	if len(r.Unknown) > 0 {
		return "", fmt.Errorf("unknown requires types: %s", strings.Join(r.Unknown, ", "))
	}
	type gate struct {
		v      any
		exact  bool
		ok     func(a, b Version) bool
		reason string
	}
	for _, g := range []gate{
		{r.MinVersion, false, versionGTE, "requires at least version %s"},
		{r.LtVersion, false, versionLT, "for version less than %s"},
		{r.GtVersion, false, versionGT, "for version greater than %s"},
		{r.Version, true, versionEqual, "only for version %s"},
	} {
		if g.v == nil {
			continue
		}
		text := versionText(g.v)
		want, err := ParseVersion(text, g.exact)
		if err != nil {
			return "", err
		}
		if !g.ok(env.Version, want) {
			return fmt.Sprintf(g.reason, text), nil
		}
	}
	for _, f := range r.Features {
		if !slices.Contains(env.Features, f) {
			return "requires feature " + f, nil
		}
	}
	for _, e := range r.Env {
		if _, ok := env.Environ[e]; !ok {
			return "requires env var " + e, nil
		}
	}
	for _, f := range r.Files {
		// Upstream resolves these against the Suricata source tree, which
		// polder does not have.
		return "requires file " + f + " (from Suricata's source tree)", nil
	}
	if len(r.Script) > 0 {
		return "requires script (not run by polder's harness)", nil
	}
	if r.Lambda != "" {
		return "requires lambda " + r.Lambda + " (Python expression, not evaluated)", nil
	}
	if r.OS != "" && !strings.HasPrefix(runtime.GOOS, strings.ToLower(r.OS)) {
		return "requires os " + r.OS, nil
	}
	if r.Arch != "" && !strings.HasPrefix(pythonArch(), strings.ToLower(r.Arch)) {
		return "requires arch " + r.Arch, nil
	}
	return "", nil
}

// pythonArch is platform.machine() for the Go architecture.
func pythonArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}

// Outcome is the result of one check.
type Outcome int

// Check outcomes. Gated is upstream's "skipped" sub test (a requirement of
// the check is not met: it neither passes nor fails the test). Unsupported
// and NeedsRules are polder's: the check would run upstream, but the
// harness cannot run it (shell commands, other files) or the sensor has no
// detection yet, so the test cannot be counted as passed.
const (
	Pass Outcome = iota
	Fail
	Gated
	Unsupported
	NeedsRules
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Gated:
		return "gated"
	case Unsupported:
		return "unsupported"
	case NeedsRules:
		return "needs-rules"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// CheckResult is one evaluated check.
type CheckResult struct {
	Num     int
	Kind    CheckKind
	Outcome Outcome
	// Msg says what was found on Fail ("expected 1 matches; got 0 for
	// event_type=alert, alert.signature_id=1"), or why on the others.
	Msg string
}

func (r CheckResult) String() string {
	return fmt.Sprintf("#%d %s: %s", r.Num, r.Kind, r.Msg)
}

// EvalOptions configures Evaluate.
type EvalOptions struct {
	Env Env
	// TestMinVersion is the test's requires: min-version (as written), for
	// run.py's check that a check does not repeat it.
	TestMinVersion any
	// Detection says whether the sensor ran the test's rules. When false,
	// checks that depend on alerts (see DependsOnDetection) are reported
	// NeedsRules instead of being evaluated.
	Detection bool
	// HasRules says the test has rule files (only then do checks depend on
	// detection: a test without rules expects no alerts).
	HasRules bool
	// RulesChangeOutput names a rule keyword of the test that changes
	// non-alert output (conditional logging with config:, bypass,
	// filestore, tag); with detection off, every check then needs rules.
	RulesChangeOutput string
	// EventTypes are the EVE event types the sensor can write besides
	// alert; a filter on another type is Unsupported. nil means
	// DefaultEventTypes.
	EventTypes []string
	// ShellEnv is the environment of shell checks besides PATH and HOME:
	// run.py's TEST_DIR, OUTPUT_DIR, SRCDIR, TZ and the test's env: keys
	// (see Test.ShellEnv). The polder process's other variables are not
	// passed on: the commands come from test data.
	ShellEnv map[string]string
	// ShellTimeout bounds each shell check; 0 means DefaultShellTimeout.
	ShellTimeout time.Duration
}

// DefaultShellTimeout bounds a shell check (run.py has none; a check that
// hangs would hang the whole run there).
const DefaultShellTimeout = time.Minute

// DefaultEventTypes are the EVE event types polder writes (alert aside,
// which needs detection).
var DefaultEventTypes = []string{"flow", "http", "dns", "tls", "anomaly", "stats", "engine", "drop", "netflow", "fileinfo"}

// Evaluate runs checks over the output directory dir (eve.json and any
// other file a filter names), like run.py's check().
func Evaluate(dir string, checks []Check, opts EvalOptions) []CheckResult {
	cache := map[string][]any{}
	res := make([]CheckResult, 0, len(checks))
	for _, c := range checks {
		r := CheckResult{Num: c.Num, Kind: c.Kind}
		r.Outcome, r.Msg = evalCheck(dir, c, opts, cache)
		res = append(res, r)
	}
	return res
}

func evalCheck(dir string, c Check, opts EvalOptions, cache map[string][]any) (Outcome, string) {
	switch c.Kind {
	case KindFilter:
		f := c.Filter
		if err := compatCheck(f.Requires, opts.TestMinVersion); err != nil {
			return Fail, err.Error()
		}
		why, err := opts.Env.unsatisfied(f.Requires)
		if err != nil {
			return Fail, err.Error()
		}
		if why != "" {
			return Gated, why
		}
		if opts.HasRules && !opts.Detection {
			if DependsOnDetection(c) {
				return NeedsRules, "alert-dependent filter " + condsString(f.Match) + " (rules not loaded)"
			}
			if opts.RulesChangeOutput != "" {
				return NeedsRules, "rules use " + opts.RulesChangeOutput + ", which changes " + condsString(f.Match) + " (rules not loaded)"
			}
		}
		if et := eventType(f.Match); et != "" && et != "alert" && et != "drop" {
			types := opts.EventTypes
			if types == nil {
				types = DefaultEventTypes
			}
			if !slices.Contains(types, et) {
				return Unsupported, "EVE type " + et + " (polder does not write it)"
			}
		}
		name := f.Filename
		if name == "" {
			name = "eve.json"
		}
		events, err := loadEvents(dir, name, cache)
		if err != nil {
			return Fail, err.Error()
		}
		n, err := countMatches(events, f.Match)
		if err != nil {
			return Fail, err.Error()
		}
		if f.Count != nil && pyEqual(int64(n), f.Count) {
			return Pass, fmt.Sprintf("%d matches", n)
		}
		if f.Comment != "" {
			return Fail, fmt.Sprintf("%s: expected %s, got %d", f.Comment, pyRepr(f.Count), n)
		}
		return Fail, fmt.Sprintf("expected %s matches; got %d for %s", pyRepr(f.Count), n, condsString(f.Match))
	case KindStats:
		if opts.HasRules && !opts.Detection && (DependsOnDetection(c) || opts.RulesChangeOutput != "") {
			return NeedsRules, "stats " + condsString(c.Stats) + " depend on rules (not loaded)"
		}
		events, err := loadEvents(dir, "eve.json", cache)
		if err != nil {
			return Fail, err.Error()
		}
		var stats any
		found := false
		for _, e := range events {
			if findValue("event_type", e) == "stats" {
				stats, found = findValue("stats", e), true
			}
		}
		if !found {
			return Fail, "no stats event in eve.json"
		}
		for _, cond := range c.Stats {
			if got := findValue(cond.Key, stats); !pyEqual(got, cond.Want) {
				return Fail, fmt.Sprintf("stats.%s: expected %s; got %s", cond.Key, pyRepr(cond.Want), pyRepr(got))
			}
		}
		return Pass, "stats match"
	case KindShell:
		why, err := opts.Env.unsatisfied(c.Shell.Requires)
		if err != nil {
			return Fail, err.Error()
		}
		if why != "" {
			return Gated, why
		}
		if opts.HasRules && !opts.Detection && DependsOnDetection(c) {
			return NeedsRules, fmt.Sprintf("shell check %q reads fast.log (rules not loaded)", c.Shell.Args)
		}
		return runShell(dir, c.Shell, opts)
	case KindFileCompare:
		return Unsupported, "file-compare check not run"
	}
	// run.py prints "FAIL: Unknown check type" but counts nothing.
	return Gated, "unknown check type " + string(c.Kind) + " (ignored, as upstream)"
}

// maxShellOutput bounds what a shell check's output is read into.
const maxShellOutput = 1 << 20

// runShell is run.py's ShellCheck: "sh -c ARGS" in the output directory;
// with expect, the output stripped of surrounding whitespace must equal
// str(expect). A command that exits non-zero (or outlives the timeout)
// fails the check, as the exception it raises upstream fails the test.
func runShell(dir string, s *Shell, opts EvalOptions) (Outcome, string) {
	timeout := opts.ShellTimeout
	if timeout <= 0 {
		timeout = DefaultShellTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.Args)
	cmd.Dir = dir
	cmd.Env = shellEnv(dir, opts.ShellEnv)
	stdout := &limitedBuffer{max: maxShellOutput}
	stderr := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("killed after %v", timeout)
		}
		msg := fmt.Sprintf("shell command %q failed: %v", s.Args, err)
		if e := strings.TrimSpace(stderr.String()); e != "" {
			msg += ": " + e
		}
		return Fail, msg
	}
	got := strings.TrimSpace(stdout.String())
	if s.Expect == nil {
		return Pass, "command succeeded"
	}
	if want := pyStr(s.Expect); got != want {
		return Fail, fmt.Sprintf("shell %q: expected %q; got %q", s.Args, want, got)
	}
	return Pass, fmt.Sprintf("output %q", got)
}

// shellEnv is the environment of a shell check: PATH and HOME from the
// harness, then run.py's variables.
func shellEnv(dir string, vars map[string]string) []string {
	env := map[string]string{"OUTPUT_DIR": dir, "TZ": "UTC"}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range vars {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// limitedBuffer keeps the first max bytes written to it and discards the
// rest (the command still runs to completion).
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// pyStr is Python's str() of a YAML value, which run.py compares a shell
// check's output with.
func pyStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if v == float64(int64(v)) && v < 1e16 && v > -1e16 {
			return strconv.FormatFloat(v, 'f', 1, 64) // str(1.0) == "1.0"
		}
	}
	return pyRepr(v)
}

// compatCheck is run.py's check_filter_test_version_compat: a check that
// repeats the test's min-version is an error there (a lint rule run as
// part of the test), and so is an lt-version below it.
func compatCheck(r Requires, testMin any) error {
	if testMin == nil {
		return nil
	}
	if r.LtVersion != nil {
		lt, err := ParseVersion(versionText(r.LtVersion), false)
		if err != nil {
			return err
		}
		min, err := ParseVersion(versionText(testMin), false)
		if err != nil {
			return err
		}
		if !versionLT(min, lt) {
			return fmt.Errorf("test requires min %s check requires lt-version %s", versionText(testMin), versionText(r.LtVersion))
		}
	}
	if r.MinVersion != nil && pyEqual(r.MinVersion, testMin) {
		return fmt.Errorf("test already requires min %s not needed for the check", versionText(testMin))
	}
	return nil
}

// DependsOnDetection says whether a check's result depends on rules being
// loaded: it counts alert or drop events, reads alert.* or flow.alerted,
// reads a file only the rule engine writes (fast.log), or checks detect/ips
// counters. Such checks cannot pass honestly while rules are ignored.
func DependsOnDetection(c Check) bool {
	keyDepends := func(k string) bool {
		return k == "alert" || strings.HasPrefix(k, "alert.") || strings.HasPrefix(k, "alert[") ||
			k == "flow.alerted" || strings.HasPrefix(k, "drop.") || k == "verdict" || strings.HasPrefix(k, "verdict.")
	}
	switch c.Kind {
	case KindFilter:
		if c.Filter.Filename != "" && c.Filter.Filename != "eve.json" {
			return true
		}
		for _, m := range c.Filter.Match {
			switch m.Key {
			case "event_type":
				if m.Want == "alert" || m.Want == "drop" {
					return true
				}
			case "has-key", "not-has-key":
				if s, ok := m.Want.(string); ok && keyDepends(s) {
					return true
				}
			default:
				if keyDepends(m.Key) {
					return true
				}
			}
		}
	case KindStats:
		for _, s := range c.Stats {
			if strings.HasPrefix(s.Key, "detect.") || strings.HasPrefix(s.Key, "ips.") {
				return true
			}
		}
	case KindShell:
		return strings.Contains(c.Shell.Args, "fast.log")
	}
	return false
}

// eventType is the event_type a filter selects, "" when it does not.
func eventType(conds []Cond) string {
	for _, c := range conds {
		if c.Key == "event_type" {
			if s, ok := c.Want.(string); ok {
				return s
			}
		}
	}
	return ""
}

// reOutputKeyword finds rule keywords whose effect reaches beyond alerts.
var reOutputKeyword = regexp.MustCompile(`(?:^|[;(\s])(config\s*:|bypass\s*;|filestore\b|tag\s*:)`)

var reRuleString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// RulesChangeOutput returns the first keyword in the rule files that
// changes non-alert EVE output ("config:" for conditional logging,
// "bypass;", "filestore", "tag:"), or "" when none does. Commented-out
// rules are ignored.
func RulesChangeOutput(files []string) (string, error) {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = reRuleString.ReplaceAllString(line, `""`) // msg:"... bypass; ..." is text
			if m := reOutputKeyword.FindStringSubmatch(line); m != nil {
				kw := strings.Join(strings.Fields(m[1]), "")
				return kw, nil
			}
		}
	}
	return "", nil
}

// loadEvents reads a JSON-lines file of the output directory once.
func loadEvents(dir, name string, cache map[string][]any) ([]any, error) {
	if ev, ok := cache[name]; ok {
		return ev, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist", name)
	}
	if err != nil {
		return nil, err
	}
	var events []any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			// json.loads("") raises in run.py.
			return nil, fmt.Errorf("%s:%d: empty line", name, line)
		}
		v, err := jsonValue(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		events = append(events, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	cache[name] = events
	return events, nil
}

func countMatches(events []any, conds []Cond) (int, error) {
	n := 0
	for _, e := range events {
		ok, err := matchEvent(e, conds)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// matchEvent is run.py's FilterCheck.match: every condition in order, the
// first that does not hold ends the match. Where Python would raise (a
// string operator on a missing field), the error fails the check, as the
// exception does upstream.
func matchEvent(e any, conds []Cond) (bool, error) {
	for _, c := range conds {
		switch c.Key {
		case "has-key":
			if findValue(fmt.Sprint(c.Want), e) == nil {
				return false, nil
			}
			continue
		case "not-has-key":
			if findValue(fmt.Sprint(c.Want), e) != nil {
				return false, nil
			}
			continue
		}
		got := findValue(c.Key, e)
		var ok bool
		switch {
		case strings.HasSuffix(c.Key, "__find"), strings.HasSuffix(c.Key, "__startswith"), strings.HasSuffix(c.Key, "__endswith"):
			s, isStr := got.(string)
			w, wStr := c.Want.(string)
			if !isStr || !wStr {
				return false, fmt.Errorf("match %s: %s is not a string (Python would raise)", c.Key, pyRepr(got))
			}
			switch {
			case strings.HasSuffix(c.Key, "__find"):
				ok = strings.Contains(s, w)
			case strings.HasSuffix(c.Key, "__startswith"):
				ok = strings.HasPrefix(s, w)
			default:
				ok = strings.HasSuffix(s, w)
			}
		case strings.HasSuffix(c.Key, "__contains"):
			switch g := got.(type) {
			case string:
				w, isStr := c.Want.(string)
				if !isStr {
					return false, fmt.Errorf("match %s: 'in <string>' requires a string, got %s", c.Key, pyRepr(c.Want))
				}
				ok = strings.Contains(g, w)
			case []any:
				ok = slices.ContainsFunc(g, func(x any) bool { return pyEqual(c.Want, x) })
			case map[string]any:
				w, isStr := c.Want.(string)
				_, ok = g[w]
				ok = ok && isStr
			default:
				return false, fmt.Errorf("match %s: %s is not a container (Python would raise)", c.Key, pyRepr(got))
			}
		default:
			ok = pyEqual(got, c.Want)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func condsString(conds []Cond) string {
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = c.Key + "=" + pyRepr(c.Want)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
