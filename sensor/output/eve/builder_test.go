package eve

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// suricataText is what AppendString's output must decode to: s itself when
// it is valid UTF-8, else s with every byte ≥ 0x80 replaced by the text
// `\xNN` (Suricata's try_string_from_bytes).
func suricataText(s []byte) string {
	if utf8.Valid(s) {
		return string(s)
	}
	var b strings.Builder
	for _, c := range s {
		if c < 0x80 {
			b.WriteByte(c)
		} else {
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}

func checkString(t *testing.T, in []byte) {
	t.Helper()
	out := AppendString(nil, in)
	if !json.Valid(out) {
		t.Fatalf("AppendString(%q) = %s: invalid JSON", in, out)
	}
	if !utf8.Valid(out) {
		t.Fatalf("AppendString(%q) = %q: invalid UTF-8", in, out)
	}
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("AppendString(%q) = %s: %v", in, out, err)
	}
	if want := suricataText(in); got != want {
		t.Fatalf("AppendString(%q) decodes to %q, want %q", in, got, want)
	}
	// The string and []byte instantiations agree.
	if out2 := AppendString(nil, string(in)); !bytes.Equal(out, out2) {
		t.Fatalf("AppendString string/[]byte differ: %s vs %s", out, out2)
	}
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c/d`, `"a\"b\\c/d"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<script>alert('x')</script>&", `"<script>alert('x')</script>&"`},
		{"héllo wörld ✓ 𝄞", `"héllo wörld ✓ 𝄞"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		// Invalid UTF-8: every high byte, valid sequences included, becomes \xNN text.
		{"\xff", `"\\xff"`},
		{"é\xff", `"\\xc3\\xa9\\xff"`},
		{"a\xc3", `"a\\xc3"`},                 // truncated sequence
		{"\xc0\xaf", `"\\xc0\\xaf"`},          // overlong '/'
		{"\xed\xa0\x80", `"\\xed\\xa0\\x80"`}, // surrogate
		{"\xf4\x90\x80\x80", `"\\xf4\\x90\\x80\\x80"`},
		{"\x00\xff\"", `"\u0000\\xff\""`},
	} {
		if got := string(AppendString(nil, tc.in)); got != tc.want {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		checkString(t, []byte(tc.in))
	}
}

// TestAppendStringAllBytes round-trips every byte and every pair of bytes.
func TestAppendStringAllBytes(t *testing.T) {
	var in [2]byte
	for a := 0; a < 256; a++ {
		in[0] = byte(a)
		checkString(t, in[:1])
		for b := 0; b < 256; b++ {
			in[1] = byte(b)
			checkString(t, in[:])
		}
	}
}

func TestValidUTF8(t *testing.T) {
	var in [4]byte
	// Exhaustive over 3-byte prefixes of interesting lead bytes, plus a tail.
	for a := 0xc0; a < 0x100; a++ {
		for b := 0x70; b < 0xd0; b++ {
			for c := 0x70; c < 0xd0; c += 7 {
				in = [4]byte{byte(a), byte(b), byte(c), 0x85}
				for n := 1; n <= 4; n++ {
					if got, want := validUTF8(in[:n]), utf8.Valid(in[:n]); got != want {
						t.Fatalf("validUTF8(% x) = %v, want %v", in[:n], got, want)
					}
				}
			}
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", "\xff", "é", "\xe2\x82", "<a href=\"x\">", "\\x41", "\u2028", "\xf0\x9f\x98\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkString(t, in)
	})
}

// TestBuilderRoundTrip builds a document with every value kind and checks
// it against encoding/json.
func TestBuilderRoundTrip(t *testing.T) {
	var b Builder
	b.BeginObject()
	b.KeyString("s", "x\"y\x00<>&é")
	b.KeyBytes("b", []byte("bytes\n"))
	b.KeyInt("i", math.MinInt64)
	b.KeyUint("u", math.MaxUint64)
	b.Key("f")
	b.Float(3.25)
	b.Key("fi")
	b.Float(1e300)
	b.Key("nan")
	b.Float(math.NaN())
	b.KeyBool("t", true)
	b.KeyBool("f2", false)
	b.Key("n")
	b.Null()
	b.Key("hex")
	b.Hex([]byte{0x00, 0xab, 0xff})
	b.Key("b64")
	b.Base64([]byte("any carnal pleas"))
	b.Key("arr")
	b.BeginArray()
	b.Int(1)
	b.String("two")
	b.BeginObject()
	b.EndObject()
	b.BeginArray()
	b.EndArray()
	b.BeginObject()
	b.KeyInt("k", -1)
	b.EndObject()
	b.EndArray()
	b.Key("empty")
	b.BeginObject()
	b.EndObject()
	b.KeyTime("ts", time.Date(2016, 1, 6, 21, 58, 35, 652043999, time.UTC))
	b.Key("raw")
	b.Raw([]byte(`{"x":[1]}`))
	b.EndObject()

	if !json.Valid(b.B) {
		t.Fatalf("invalid JSON: %s", b.B)
	}
	var got map[string]any
	d := json.NewDecoder(bytes.NewReader(b.B))
	d.UseNumber()
	if err := d.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "x\"y\x00<>&é", "b": "bytes\n",
		"i": json.Number("-9223372036854775808"), "u": json.Number("18446744073709551615"),
		"f": json.Number("3.25"), "fi": json.Number("1e+300"), "nan": nil,
		"t": true, "f2": false, "n": nil,
		"hex": "00abff", "b64": "YW55IGNhcm5hbCBwbGVhcw==",
		"arr":   []any{json.Number("1"), "two", map[string]any{}, []any{}, map[string]any{"k": json.Number("-1")}},
		"empty": map[string]any{},
		"ts":    "2016-01-06T21:58:35.652043+0000",
		"raw":   map[string]any{"x": []any{json.Number("1")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s\n%s", diff, b.B)
	}
}

// TestStringVsEncodingJSON: for valid UTF-8, AppendString and encoding/json
// encode the same text.
func TestStringVsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "abc", "\x00\x1f\x7f", "\"\\/", "<>&", "日本語", "\u2028", "\U0010ffff", "tab\there"} {
		ours := AppendString(nil, s)
		theirs, _ := json.Marshal(s)
		var a, b string
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(theirs, &b)
		if a != b {
			t.Errorf("%q: ours %s decodes to %q, encoding/json's %s to %q", s, ours, a, theirs, b)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2016, 1, 6, 21, 58, 35, 652043000, time.UTC), "2016-01-06T21:58:35.652043+0000"},
		{time.Date(2016, 1, 6, 21, 58, 35, 0, time.FixedZone("x", -(5*3600+30*60))), "2016-01-06T21:58:35.000000-0530"},
		{time.Date(1, 1, 1, 0, 0, 0, 999, time.UTC), "0001-01-01T00:00:00.000000+0000"},
		{time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), "9999-01-01T00:00:00.000000+0000"},
	} {
		if got := string(AppendTime(nil, tc.t)); got != tc.want {
			t.Errorf("AppendTime(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
	if got := string(appendCertTime(nil, time.Date(2015, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)))); got != "2015-01-01T00:00:00" {
		t.Errorf("appendCertTime = %s", got)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := []byte("Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/63.0.3239.108 Safari/537.36")
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
