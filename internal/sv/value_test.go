package sv

import (
	"math"
	"testing"

	"go.yaml.in/yaml/v4"
)

func yamlOf(t *testing.T, src string) any {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("unmarshal %q: %v", src, err)
	}
	v, err := yamlValue(&n)
	if err != nil {
		t.Fatalf("yamlValue %q: %v", src, err)
	}
	return v
}

// TestYAMLScalarsLikePyYAML pins the YAML 1.1 resolution run.py gets from
// PyYAML's safe_load, which decides whether an expected value is a str, an
// int or a bool.
func TestYAMLScalarsLikePyYAML(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"yes", true},
		{"No", false},
		{"on", true},
		{"'yes'", "yes"},
		{"true", true},
		{"1e", "1e"},          // tcp.tcp_flags: 1e
		{"81a0", "81a0"},      // dns.flags
		{"8180", int64(8180)}, // also dns.flags: an int, never equal to EVE's "8180"
		{"010", int64(8)},     // octal
		{"0x1f", int64(31)},
		{"1:30", int64(90)}, // sexagesimal
		{"-7", int64(-7)},
		{"6.0", 6.0},
		{"1.0e5", "1.0e5"}, // PyYAML's float needs a signed exponent
		{"1.0e+5", 1.0e5},
		{"~", nil},
		{"null", nil},
		{"2001-12-14", timestamp("2001-12-14")},
		{"2009-10-16T16:44:16.083524+0000", "2009-10-16T16:44:16.083524+0000"}, // +0000 is no YAML tz
		{"00:97:E6:47:09:8E:EA:C9:B4", "00:97:E6:47:09:8E:EA:C9:B4"},
		{"C=FR, ST=IDF", "C=FR, ST=IDF"},
		{"99999999999999999999", bigInt("99999999999999999999")},
		{"[1, 10]", []any{int64(1), int64(10)}},
		{"!!str 12", "12"},
	} {
		got := yamlOf(t, tc.src)
		if !pyEqual(got, tc.want) || !sameType(got, tc.want) {
			t.Errorf("%q = %#v (%T), want %#v (%T)", tc.src, got, got, tc.want, tc.want)
		}
	}
	if v := yamlOf(t, ".nan").(float64); !math.IsNaN(v) {
		t.Errorf(".nan = %v", v)
	}
}

func sameType(a, b any) bool {
	switch a.(type) {
	case nil:
		return b == nil
	case bool:
		_, ok := b.(bool)
		return ok
	case int64:
		_, ok := b.(int64)
		return ok
	case float64:
		_, ok := b.(float64)
		return ok
	case string:
		_, ok := b.(string)
		return ok
	case timestamp:
		_, ok := b.(timestamp)
		return ok
	case bigInt:
		_, ok := b.(bigInt)
		return ok
	case []any:
		_, ok := b.([]any)
		return ok
	}
	return false
}

func TestPyEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{int64(1), 1.0, true},
		{true, int64(1), true}, // Python: True == 1
		{false, int64(0), true},
		{true, "true", false},
		{int64(8180), "8180", false},
		{nil, nil, true},
		{nil, false, false},
		{"a", "a", true},
		{[]any{int64(6)}, []any{int64(6)}, true},
		{[]any{int64(6)}, []any{int64(6), int64(1)}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": 1.0}, true},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(1), "b": nil}, false},
		{timestamp("2001-12-14"), "2001-12-14", false},
		{bigInt("99999999999999999999"), bigInt("99999999999999999999"), true},
		{bigInt("99999999999999999999"), int64(1), false},
	} {
		if got := pyEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("pyEqual(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := pyEqual(tc.b, tc.a); got != tc.want {
			t.Errorf("pyEqual(%#v, %#v) = %v, want %v (reversed)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestFindValue(t *testing.T) {
	ev, err := jsonValue([]byte(`{"event_type":"dns","vlan":[1,10],"dns":{"answers":[{"rrname":"a","ttl":3544},{"rrname":"b"}],"grouped":{"A":["192.0.78.24"]},"flags":"81a0","n":2.5},"http":{"request_headers":[{"name":"Host"}],"url":"/x"},"big":18446744073709551615,"nul":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want any
	}{
		{"event_type", "dns"},
		{"dns.answers[0].rrname", "a"},
		{"dns.answers[0].ttl", int64(3544)},
		{"dns.answers[1].rrname", "b"},
		{"dns.answers[2].rrname", nil}, // out of range
		{"dns.answers[1].ttl", nil},    // missing key
		{"dns.grouped.A[0]", "192.0.78.24"},
		{"vlan", []any{int64(1), int64(10)}},
		{"vlan[1]", int64(10)},
		{"dns.n", 2.5},
		{"dns.flags[1]", "1"}, // indexing a str gives a character, as in Python
		{"dns.answers.__len", int64(2)},
		{"dns.grouped.__len", int64(1)},
		{"http.url.__len", int64(2)},
		{"dns.n.__len", int64(-1)},
		{"missing.__len", nil},
		{"http.request_headers[0].name", "Host"},
		{"event_type.x", nil}, // through a str
		{"big", bigInt("18446744073709551615")},
		{"nul", nil},
		{"http.url.__startswith", "/x"}, // operators return the value itself
	} {
		if got := findValue(tc.path, ev); !pyEqual(got, tc.want) {
			t.Errorf("findValue(%q) = %s, want %s", tc.path, pyRepr(got), pyRepr(tc.want))
		}
	}
}
