package sv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// Values compared by checks follow Python's data model, because upstream's
// run.py loads test.yaml with PyYAML's safe_load (YAML 1.1 resolution) and
// eve.json with the json module, then compares with ==. A value is one of:
//
//	nil            None (a missing field, JSON null, YAML ~)
//	bool           True/False; equal to the integers 1/0 as in Python
//	int64          int (bigInt when it does not fit)
//	bigInt         int too large for int64, kept as its decimal text
//	float64        float
//	string         str
//	[]any          list
//	map[string]any dict (JSON objects; YAML mappings with string keys)
//	timestamp      a YAML 1.1 timestamp, which PyYAML turns into a datetime:
//	               never equal to anything read from JSON
type (
	bigInt    string
	timestamp string
)

// PyYAML's implicit resolvers (yaml/resolver.py), YAML 1.1.
var (
	reBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// yamlValue converts a YAML node as PyYAML's safe_load would: plain
// scalars are resolved with YAML 1.1 rules (yes/no are booleans, 010 is
// octal, 1:30 is sexagesimal, 1e5 is a string), quoted scalars are strings,
// and explicit !!str/!!int/... tags are honoured.
func yamlValue(n *yaml.Node) (any, error) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0])
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := yamlValue(n.Content[i])
			if err != nil {
				return nil, err
			}
			v, err := yamlValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				// A non-string key never equals a JSON object key; keep it
				// distinguishable from the string of the same text.
				ks = fmt.Sprintf("\x00%v", k)
			}
			m[ks] = v
		}
		return m, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node kind %v", n.Line, n.Kind)
}

func yamlScalar(n *yaml.Node) (any, error) {
	s := n.Value
	tag := ""
	switch {
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		tag = "!!str"
	case n.Style&yaml.TaggedStyle != 0:
		tag = n.ShortTag()
	}
	if tag == "" {
		switch {
		case reBool.MatchString(s):
			tag = "!!bool"
		case reFloat.MatchString(s):
			tag = "!!float"
		case reInt.MatchString(s):
			tag = "!!int"
		case reNull.MatchString(s):
			tag = "!!null"
		case reTime.MatchString(s):
			tag = "!!timestamp"
		default:
			tag = "!!str"
		}
	}
	switch tag {
	case "!!str":
		return s, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
	case "!!int":
		if v, ok := parsePyInt(s); ok {
			return v, nil
		}
	case "!!float":
		if v, ok := parsePyFloat(s); ok {
			return v, nil
		}
	case "!!timestamp":
		return timestamp(s), nil
	}
	return nil, fmt.Errorf("line %d: cannot read %q as %s", n.Line, s, tag)
}

// parsePyInt follows PyYAML's construct_yaml_int.
func parsePyInt(s string) (any, bool) {
	s = strings.ReplaceAll(s, "_", "")
	sign := int64(1)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var (
		v   int64
		err error
	)
	switch {
	case s == "0":
		return int64(0), true
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case s[0] == '0':
		v, err = strconv.ParseInt(s[1:], 8, 64)
	case strings.Contains(s, ":"):
		for _, d := range strings.Split(s, ":") {
			x, e := strconv.ParseInt(d, 10, 64)
			if e != nil {
				return nil, false
			}
			v = v*60 + x
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
		if err != nil {
			if sign < 0 {
				s = "-" + s
			}
			return bigInt(s), true
		}
	}
	if err != nil {
		return nil, false
	}
	return sign * v, true
}

// parsePyFloat follows PyYAML's construct_yaml_float.
func parsePyFloat(s string) (float64, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case s == ".inf":
		return sign * math.Inf(1), true
	case s == ".nan":
		return math.NaN(), true
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		v := 0.0
		for i, d := range parts {
			x, err := strconv.ParseFloat(d, 64)
			if err != nil || (i < len(parts)-1 && strings.Contains(d, ".")) {
				return 0, false
			}
			v = v*60 + x
		}
		return sign * v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return sign * v, err == nil
}

// jsonValue decodes one EVE line as Python's json.loads does: integers stay
// integers, numbers with a fraction or exponent are floats.
func jsonValue(line []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("extra data after the JSON value")
	}
	return fromJSON(v), nil
}

func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			f, _ := strconv.ParseFloat(s, 64) // inf on overflow, as Python
			return f
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		return bigInt(s)
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = fromJSON(v[k])
		}
		return v
	}
	return v
}

// pyEqual is Python's == over the values described above.
func pyEqual(a, b any) bool {
	if na, ok := pyNumber(a); ok {
		nb, ok := pyNumber(b)
		return ok && na.equal(nb)
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && a == s
	case timestamp:
		t, ok := b.(timestamp) // a datetime never equals a str, number or None
		return ok && a == t
	case []any:
		l, ok := b.([]any)
		if !ok || len(l) != len(a) {
			return false
		}
		for i := range a {
			if !pyEqual(a[i], l[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		m, ok := b.(map[string]any)
		if !ok || len(m) != len(a) {
			return false
		}
		for k, va := range a {
			vb, ok := m[k]
			if !ok || !pyEqual(va, vb) {
				return false
			}
		}
		return true
	}
	return false
}

// number is a Python int, bool or float reduced to a comparable form.
type number struct {
	isFloat bool
	i       int64
	big     string // set for ints beyond int64
	f       float64
}

func pyNumber(v any) (number, bool) {
	switch v := v.(type) {
	case bool:
		if v {
			return number{i: 1}, true
		}
		return number{}, true
	case int64:
		return number{i: v}, true
	case bigInt:
		return number{big: string(v)}, true
	case float64:
		return number{isFloat: true, f: v}, true
	}
	return number{}, false
}

func (a number) equal(b number) bool {
	switch {
	case a.big != "" || b.big != "":
		if a.isFloat || b.isFloat {
			x, y := a.float(), b.float()
			return x == y
		}
		return a.big == b.big
	case a.isFloat || b.isFloat:
		// Python compares int and float exactly; every int64 that equals a
		// float64 converts to it exactly, so this is exact enough here.
		return a.float() == b.float()
	}
	return a.i == b.i
}

func (a number) float() float64 {
	switch {
	case a.isFloat:
		return a.f
	case a.big != "":
		f, _ := strconv.ParseFloat(a.big, 64)
		return f
	}
	return float64(a.i)
}

var reIndex = regexp.MustCompile(`^(.*)\[(\d+)\]$`)

// special path components that end a lookup (the caller applies them).
var matchOps = []string{"__contains", "__find", "__startswith", "__endswith"}

// findValue resolves a dotted path in obj like run.py's find_value:
// "alert.signature_id", "dns.answers[1].rdata" (one index per component),
// "http.request_headers.__len" (length of a str, list or dict; -1 for other
// values). A missing key or an index out of range yields nil, as do
// lookups through a value that is not a dict (where Python would raise).
func findValue(path string, obj any) any {
	for _, part := range strings.Split(path, ".") {
		if part == "__len" {
			switch o := obj.(type) {
			case string:
				return int64(utf8.RuneCountInString(o))
			case []any:
				return int64(len(o))
			case map[string]any:
				return int64(len(o))
			}
			return int64(-1)
		}
		if isMatchOp(part) {
			break
		}
		name, index := part, -1
		if m := reIndex.FindStringSubmatch(part); m != nil {
			name = m[1]
			i, err := strconv.Atoi(m[2])
			if err != nil {
				return nil
			}
			index = i
		}
		o, ok := obj.(map[string]any)
		if !ok {
			return nil
		}
		if obj, ok = o[name]; !ok {
			return nil
		}
		if index >= 0 {
			switch l := obj.(type) {
			case []any:
				if index >= len(l) {
					return nil
				}
				obj = l[index]
			case string:
				r := []rune(l)
				if index >= len(r) {
					return nil
				}
				obj = string(r[index])
			default:
				return nil
			}
		}
	}
	return obj
}

func isMatchOp(part string) bool {
	for _, op := range matchOps {
		if part == op {
			return true
		}
	}
	return false
}

// pyRepr renders a value for messages, close to Python's repr.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return strconv.Quote(v)
	case timestamp:
		return "datetime(" + string(v) + ")"
	case bigInt:
		return string(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}
