package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Error is one problem with a configuration file. Msg is the whole message
// without the position and usually names Key; Line is 1-based, 0 when
// unknown; Key is the dotted path of the key concerned
// ("flow.timeouts.tcp.established", "capture.interfaces[0].name"), "" for
// syntax errors.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ErrorList is every problem found in one file, in line order. Load,
// Parse and Validate return it (as error) when non-empty; use errors.As to
// get at the entries.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Line < l[j].Line })
}

// Load reads the configuration file at path; see Parse. Errors name path
// as given.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load sensor config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data over Default() and validates the result. name is the
// file name used in messages. Every unknown key and bad value is reported
// at once, as an ErrorList; no Config is returned then. An empty document
// yields Default().
func Parse(data []byte, name string) (*Config, error) {
	c := Default()
	c.file = name
	c.lines = map[string]int{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &Error{File: name, Msg: "yaml: " + err.Error()}
		var le *yaml.LoadError
		if errors.As(err, &le) {
			e.Line, e.Msg = le.Mark.Line, "yaml: "+le.Message
		}
		return nil, ErrorList{e}
	}
	d := &decoder{file: name, lines: c.lines}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			root = nil
		}
		if root != nil {
			d.value(root, "", reflect.ValueOf(c).Elem(), 0)
		}
	}
	// Validate even after decode errors, so one run reports everything; a
	// value that failed to decode kept its (valid) default.
	errs := d.errs
	var verrs ErrorList
	if errors.As(c.Validate(), &verrs) {
		errs = append(errs, verrs...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Marshal writes c as YAML (two-space indent, sizes as "32mb", durations
// as "1m0s") that Parse reads back to an equal Config.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("marshal sensor config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal sensor config: %w", err)
	}
	return b.Bytes(), nil
}

// maxDepth bounds nesting (and alias expansion) while decoding.
const maxDepth = 32

type decoder struct {
	file  string
	errs  ErrorList
	lines map[string]int
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	d.errs = append(d.errs, e)
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

type defaulter interface{ setDefaults() }

// value decodes n into v; path is v's dotted key path.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value, depth int) {
	if depth > maxDepth {
		d.errorf(n, path, "%s: nested too deeply", path)
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		d.value(n.Alias, path, v, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value keeps the default
	}
	switch {
	case v.Type() == durationType:
		if s, ok := d.scalar(n, path, "a duration"); ok {
			dur, err := parseDuration(s)
			if err != nil {
				d.errorf(n, path, "%s: %q is not a duration (want seconds or e.g. \"10s\", \"5m\")", path, s)
				return
			}
			v.SetInt(int64(dur))
		}
		return
	case v.Type() == sizeType:
		if s, ok := d.scalar(n, path, "a size"); ok {
			sz, err := ParseSize(s)
			if err != nil {
				d.errorf(n, path, "%s: %v", path, err)
				return
			}
			v.SetUint(uint64(sz))
		}
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "a boolean"); ok {
			b, ok := parseBool(s)
			if !ok {
				d.errorf(n, path, "%s: %q is not a boolean (want yes or no)", path, s)
				return
			}
			v.SetBool(b)
		}
	case reflect.Int:
		if s, ok := d.scalar(n, path, "an integer"); ok {
			i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
			if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
				d.errorf(n, path, "%s: %q is not an integer", path, s)
				return
			}
			v.SetInt(i)
		}
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode {
			// "dns: no" is short for "dns: {enabled: no}" wherever a
			// section has an enabled switch, as in Suricata's yaml.
			if i, ok := fieldsOf(v.Type())["enabled"]; ok {
				d.value(n, joinKey(path, "enabled"), v.Field(i), depth+1)
				return
			}
		}
		d.mapping(n, path, v, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "%s: want a list, have %s", path, kindName(n))
			return
		}
		if len(n.Content) == 0 {
			v.Set(reflect.Zero(v.Type())) // "[]" is "none", as nil
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, el := range n.Content {
			ev := s.Index(i)
			if df, ok := ev.Addr().Interface().(defaulter); ok {
				df.setDefaults()
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = el.Line
			d.value(el, p, ev, depth+1)
		}
		v.Set(s)
	case reflect.Map: // map[string]string: merged over the defaults
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "%s: want a mapping, have %s", path, kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := path + "." + k.Value
			if seen[k.Value] {
				d.errorf(k, p, "duplicate key %q", p)
				continue
			}
			seen[k.Value] = true
			d.lines[p] = k.Line
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				d.errorf(val, p, "%s: empty value", p)
				continue
			}
			if s, ok := d.scalar(val, p, "a string"); ok {
				v.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(s))
			}
		}
	default:
		d.errorf(n, path, "%s: cannot decode into %s", path, v.Type()) // a bug in this package
	}
}

// scalar returns n's text or reports that path wants want.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "%s: want %s, have %s", path, want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// mapping decodes a YAML mapping into struct v by yaml tags.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value, depth int) {
	if n.Kind != yaml.MappingNode {
		what := path
		if what == "" {
			what = "top level"
		}
		d.errorf(n, path, "%s: want a mapping, have %s", what, kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := joinKey(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "%s: keys must be plain strings", nonEmpty(path))
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", p)
			if s := closest(k.Value, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", joinKey(path, s))
			}
			d.errorf(k, p, "%s", msg)
			continue
		}
		if seen[k.Value] {
			d.errorf(k, p, "duplicate key %q", p)
			continue
		}
		seen[k.Value] = true
		d.lines[p] = k.Line
		d.value(val, p, v.Field(idx), depth+1)
	}
}

func nonEmpty(p string) string {
	if p == "" {
		return "top level"
	}
	return p
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// fieldsOf maps yaml key names to field indexes of struct type t.
func fieldsOf(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}

// closest returns the known key nearest to k by edit distance, if near
// enough to be a plausible typo, else "".
func closest(k string, known map[string]int) string {
	best, bestD := "", len(k)/2+2
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if dist := editDistance(strings.ToLower(k), n); dist < bestD {
			best, bestD = n, dist
		}
	}
	if bestD > 3 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, treating '_' and
// '-' as equal.
func editDistance(a, b string) int {
	norm := func(s string) string { return strings.ReplaceAll(s, "_", "-") }
	a, b = norm(a), norm(b)
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // not a typo of any key we have
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseBool accepts Suricata's and YAML's spellings.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "on", "1", "enable", "enabled":
		return true, true
	case "no", "n", "false", "off", "0", "disable", "disabled":
		return false, true
	}
	return false, false
}

// parseDuration accepts a Go duration ("10s", "1m30s") or a non-negative
// number of seconds ("600", "0.5"), as Suricata writes timeouts.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f*float64(time.Second) > math.MaxInt64 || strings.ContainsAny(s, "xXpP_") {
			return 0, errors.New("bad seconds")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("negative")
	}
	return d, nil
}

// File returns the path the Config was read from, "" when it was not read
// from a file. Relative paths in the config (rule files) resolve against
// its directory.
func (c *Config) File() string { return c.file }
