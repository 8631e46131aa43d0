package sv

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"go.yaml.in/yaml/v4"
)

// Test is one suricata-verify test directory, parsed from its test.yaml.
// Paths are absolute. Fields mirror what upstream's run.py reads; keys it
// does not know are kept in Unknown so the report can name them.
type Test struct {
	// Name is the directory relative to the tests root, as in
	// dev-tests.tsv ("dns/dns-eve"); Base is its last element, which is
	// what run.py calls the name (and searches for "ips").
	Name, Base string
	Dir        string

	Requires Requires
	Skip     []SkipRule // test.yaml "skip:"; SkipAll for "skip: true"
	SkipAll  bool

	// PcapSpec is the pcap: value as written ("" when absent); NoPcap is
	// set by "pcap: false" or "requires: pcap: false".
	PcapSpec string
	NoPcap   bool

	Args     []string          // args: split on whitespace as run.py does, ${VAR} not yet substituted
	Command  string            // command: (a shell command line replacing suricata's)
	ExitCode int               // exit-code: (default 0)
	Env      map[string]string // env: extra environment for the command
	Count    int               // count: runs (default 1)

	// SuricataYAML is the test's own suricata.yaml, "" when it uses the
	// default configuration.
	SuricataYAML string
	// RuleFiles are the *.rules files, sorted, as run.py globs them.
	RuleFiles []string

	Checks  []Check
	Unknown []string // top-level keys run.py ignores or polder cannot honour
}

// Requires is a requires: block, of the test or of one check. Versions are
// kept as written (YAML value) because run.py compares them as values.
type Requires struct {
	MinVersion, LtVersion, GtVersion, Version any
	Features                                  []string
	Env, Files, Script                        []string
	Pcap                                      *bool
	Lambda, OS, Arch                          string
	Unknown                                   []string
}

// SkipRule is one entry of test.yaml's skip: list.
type SkipRule struct {
	UID     *int
	Feature string
	Config  map[string]any
	Msg     string
}

// CheckKind is the type of a check.
type CheckKind string

// Check kinds, as test.yaml names them.
const (
	KindFilter      CheckKind = "filter"
	KindStats       CheckKind = "stats"
	KindShell       CheckKind = "shell"
	KindFileCompare CheckKind = "file-compare"
)

// Check is one entry of checks:. Num is its 1-based position, as run.py
// numbers sub tests.
type Check struct {
	Num    int
	Kind   CheckKind
	Filter *Filter
	Stats  []Cond // stats: key → expected value, in file order
	Shell  *Shell
	Raw    map[string]any // the whole check, for messages and unknown kinds
}

// Filter is a filter check: count the events of Filename (default
// eve.json) matching every condition and compare with Count.
type Filter struct {
	Count    any // expected count as written (normally an int)
	Match    []Cond
	Filename string
	Comment  string
	Requires Requires // requires: merged with version:, min-version:, lt-version:, feature:
}

// Cond is one match condition. Key is a dotted path, possibly ending in
// __len, __find, __contains, __startswith or __endswith; for the keys
// "has-key" and "not-has-key" Want is the path (a string).
type Cond struct {
	Key  string
	Want any
}

// Shell is a shell check: a command run in the output directory whose
// trimmed output must equal Expect.
type Shell struct {
	Args     string
	Expect   any
	Requires Requires
}

// LoadTest reads root/name/test.yaml. A missing test.yaml yields a Test
// with no checks, as run.py treats it.
func LoadTest(root, name string) (*Test, error) {
	dir, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	t := &Test{Name: name, Base: filepath.Base(dir), Dir: dir, Count: 1}
	if _, err := os.Stat(filepath.Join(dir, "suricata.yaml")); err == nil {
		t.SuricataYAML = filepath.Join(dir, "suricata.yaml")
	}
	if rules, err := filepath.Glob(filepath.Join(dir, "*.rules")); err == nil {
		sort.Strings(rules)
		t.RuleFiles = rules
	}
	data, err := os.ReadFile(filepath.Join(dir, "test.yaml"))
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	if err := t.parse(data); err != nil {
		return t, fmt.Errorf("%s/test.yaml: %w", name, err)
	}
	return t, nil
}

func (t *Test) parse(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = deref(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: top level is not a mapping", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, deref(root.Content[i+1])
		var err error
		switch key {
		case "requires":
			t.Requires, err = parseRequires(val)
			if err == nil && t.Requires.Pcap != nil && !*t.Requires.Pcap {
				t.NoPcap = true
			}
		case "pcap":
			var v any
			if v, err = yamlValue(val); err == nil {
				switch v := v.(type) {
				case bool:
					if !v {
						t.NoPcap = true
					} else {
						err = fmt.Errorf("line %d: pcap: true is not a file name", val.Line)
					}
				case nil:
				default:
					t.PcapSpec = fmt.Sprint(v)
				}
			}
		case "args":
			if val.Kind != yaml.SequenceNode {
				err = fmt.Errorf("line %d: args is not a list", val.Line)
				break
			}
			for _, a := range val.Content {
				// run.py: args += re.split(r"\s", arg) — empty strings
				// between two spaces are kept there; they mean nothing.
				for _, f := range reSpace.Split(deref(a).Value, -1) {
					if f != "" {
						t.Args = append(t.Args, f)
					}
				}
			}
		case "command":
			t.Command = val.Value
		case "exit-code":
			var v any
			if v, err = yamlValue(val); err == nil {
				n, ok := v.(int64)
				if !ok {
					err = fmt.Errorf("line %d: exit-code is not an integer", val.Line)
				}
				t.ExitCode = int(n)
			}
		case "count":
			var v any
			if v, err = yamlValue(val); err == nil {
				if n, ok := v.(int64); ok && n > 0 {
					t.Count = int(n)
				}
			}
		case "env":
			var v any
			if v, err = yamlValue(val); err == nil {
				if m, ok := v.(map[string]any); ok {
					t.Env = map[string]string{}
					for k, x := range m {
						t.Env[k] = fmt.Sprint(x)
					}
				}
			}
		case "skip":
			err = t.parseSkip(val)
		case "checks":
			err = t.parseChecks(val)
		default:
			// setup:, pre-check:, retry:, lambda ... (and comments keys)
			t.Unknown = append(t.Unknown, key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func parseRequires(n *yaml.Node) (Requires, error) {
	var r Requires
	v, err := yamlValue(n)
	if err != nil || v == nil {
		return r, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return r, fmt.Errorf("line %d: requires is not a mapping", n.Line)
	}
	for k, x := range m {
		switch k {
		case "min-version":
			r.MinVersion = x
		case "lt-version":
			r.LtVersion = x
		case "gt-version":
			r.GtVersion = x
		case "version":
			r.Version = x
		case "features":
			r.Features = stringList(x)
		case "env":
			r.Env = stringList(x)
		case "files":
			r.Files = stringList(x)
		case "script":
			r.Script = stringList(x)
		case "pcap":
			b, ok := x.(bool)
			if !ok {
				return r, fmt.Errorf("requires.pcap is not a boolean")
			}
			r.Pcap = &b
		case "lambda":
			r.Lambda = fmt.Sprint(x)
		case "os":
			r.OS = fmt.Sprint(x)
		case "arch":
			r.Arch = fmt.Sprint(x)
		default:
			r.Unknown = append(r.Unknown, k)
		}
	}
	sort.Strings(r.Unknown)
	return r, nil
}

func stringList(v any) []string {
	switch v := v.(type) {
	case []any:
		s := make([]string, 0, len(v))
		for _, e := range v {
			s = append(s, fmt.Sprint(e))
		}
		return s
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

func (t *Test) parseSkip(n *yaml.Node) error {
	v, err := yamlValue(n)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		t.SkipAll = v
		return nil
	case []any:
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return fmt.Errorf("skip entry is not a mapping")
			}
			var s SkipRule
			if u, ok := m["uid"].(int64); ok {
				uid := int(u)
				s.UID = &uid
			}
			if f, ok := m["feature"]; ok {
				s.Feature = fmt.Sprint(f)
			}
			if c, ok := m["config"].(map[string]any); ok {
				s.Config = c
			}
			if msg, ok := m["msg"]; ok {
				s.Msg = fmt.Sprint(msg)
			}
			t.Skip = append(t.Skip, s)
		}
		return nil
	case nil:
		return nil
	}
	return fmt.Errorf("line %d: skip is neither a boolean nor a list", n.Line)
}

func (t *Test) parseChecks(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: checks is not a list", n.Line)
	}
	for i, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: check %d is not a mapping", item.Line, i+1)
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			kind := CheckKind(item.Content[j].Value)
			body := deref(item.Content[j+1])
			raw, err := yamlValue(body)
			if err != nil {
				return fmt.Errorf("check %d: %w", i+1, err)
			}
			c := Check{Num: i + 1, Kind: kind}
			c.Raw, _ = raw.(map[string]any)
			switch kind {
			case KindFilter:
				c.Filter, err = parseFilter(body)
			case KindStats:
				c.Stats, err = orderedConds(body)
			case KindShell:
				c.Shell, err = parseShell(body)
			}
			if err != nil {
				return fmt.Errorf("check %d (%s): %w", i+1, kind, err)
			}
			t.Checks = append(t.Checks, c)
		}
	}
	return nil
}

// orderedConds reads a mapping as conditions in file order: run.py's
// match() stops at the first condition that fails, so order decides which
// failure (or Python exception) is seen.
func orderedConds(n *yaml.Node) ([]Cond, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: not a mapping", n.Line)
	}
	var conds []Cond
	for i := 0; i+1 < len(n.Content); i += 2 {
		v, err := yamlValue(n.Content[i+1])
		if err != nil {
			return nil, err
		}
		conds = append(conds, Cond{Key: n.Content[i].Value, Want: v})
	}
	return conds, nil
}

func parseFilter(n *yaml.Node) (*Filter, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: not a mapping", n.Line)
	}
	f := &Filter{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, deref(n.Content[i+1])
		var err error
		switch key {
		case "match":
			f.Match, err = orderedConds(val)
		case "requires":
			var r Requires
			r, err = parseRequires(val)
			mergeRequires(&f.Requires, r)
		default:
			var v any
			if v, err = yamlValue(val); err != nil {
				break
			}
			switch key {
			case "count":
				f.Count = v
			case "filename":
				f.Filename = fmt.Sprint(v)
			case "comment":
				f.Comment = fmt.Sprint(v)
			case "version":
				f.Requires.Version = v
			case "min-version":
				f.Requires.MinVersion = v
			case "lt-version":
				f.Requires.LtVersion = v
			case "feature":
				f.Requires.Features = []string{fmt.Sprint(v)}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return f, nil
}

// mergeRequires copies the fields set in r into dst.
func mergeRequires(dst *Requires, r Requires) {
	if r.MinVersion != nil {
		dst.MinVersion = r.MinVersion
	}
	if r.LtVersion != nil {
		dst.LtVersion = r.LtVersion
	}
	if r.GtVersion != nil {
		dst.GtVersion = r.GtVersion
	}
	if r.Version != nil {
		dst.Version = r.Version
	}
	dst.Features = append(dst.Features, r.Features...)
	dst.Env = append(dst.Env, r.Env...)
	dst.Files = append(dst.Files, r.Files...)
	dst.Script = append(dst.Script, r.Script...)
	if r.Pcap != nil {
		dst.Pcap = r.Pcap
	}
	if r.Lambda != "" {
		dst.Lambda = r.Lambda
	}
	if r.OS != "" {
		dst.OS = r.OS
	}
	if r.Arch != "" {
		dst.Arch = r.Arch
	}
	dst.Unknown = append(dst.Unknown, r.Unknown...)
}

func parseShell(n *yaml.Node) (*Shell, error) {
	v, err := yamlValue(n)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("line %d: not a mapping", n.Line)
	}
	s := &Shell{Expect: m["expect"]}
	if a, ok := m["args"]; ok {
		s.Args = fmt.Sprint(a)
	}
	s.Requires.Version = m["version"]
	s.Requires.MinVersion = m["min-version"]
	s.Requires.LtVersion = m["lt-version"]
	return s, nil
}

// ResolvePcap returns the pcap run.py would pass with -r: the pcap: path
// relative to the test directory, else the only *.pcap/*.pcapng in it.
// It returns "" with no error when there is none, and an error
// when the named file is missing or the directory holds several pcaps
// (both fail the test upstream).
func (t *Test) ResolvePcap() (string, error) {
	if t.PcapSpec != "" {
		p := filepath.Join(t.Dir, filepath.FromSlash(t.PcapSpec))
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("pcap %s does not exist", t.PcapSpec)
		}
		return filepath.EvalSymlinks(p)
	}
	// Without pcap:, run.py globs the directory even when requires: pcap:
	// false says none is needed.
	var pcaps []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(t.Dir, pat))
		pcaps = append(pcaps, m...)
	}
	switch len(pcaps) {
	case 0:
		return "", nil
	case 1:
		return pcaps[0], nil
	}
	return "", fmt.Errorf("more than 1 pcap file found")
}

// SubstituteArgs replaces ${TEST_DIR}, ${OUTPUT_DIR}, ${SRCDIR} (and the
// test's env: keys) in the args, as run.py's string.Template does.
func (t *Test) SubstituteArgs(outDir string) []string {
	vars := t.ShellEnv(outDir)
	out := make([]string, len(t.Args))
	for i, a := range t.Args {
		out[i] = os.Expand(a, func(k string) string { return vars[k] })
	}
	return out
}

// ShellEnv returns run.py's variables for the test run writing to outDir:
// TEST_DIR, OUTPUT_DIR, SRCDIR (empty: there is no Suricata source tree),
// TZ=UTC and the test's env: keys. Arguments are expanded with them and
// shell checks run with them.
func (t *Test) ShellEnv(outDir string) map[string]string {
	vars := map[string]string{"TEST_DIR": t.Dir, "OUTPUT_DIR": outDir, "SRCDIR": "", "TZ": "UTC"}
	for k, v := range t.Env {
		vars[k] = v
	}
	return vars
}

var reSpace = regexp.MustCompile(`\s`)
