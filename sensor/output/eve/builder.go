// Package eve writes Suricata 8.0 EVE JSON events: one JSON object per line,
// built by a hand-written appender into a caller-owned, reused []byte so the
// steady state allocates nothing, and a Writer that hands the lines to a
// file or a unix socket.
//
// Every string field of an event is attacker-controlled (URLs, DNS names,
// certificate subjects, ...). The appender escapes it the way Suricata's
// JsonBuilder does, so polder's output matches Suricata's byte for byte and
// is always valid JSON; see AppendString.
package eve

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
)

// Builder appends one JSON document to B. It only tracks whether the next
// member or element needs a leading comma, so it cannot catch a key written
// inside an array or a value without a key: the event writers in this
// package are its tests. The zero value is ready; B may be preset to append
// after existing bytes.
//
// A Builder is a small value meant to live on the stack of one event writer;
// it is not safe for concurrent use.
type Builder struct {
	B     []byte
	comma bool // the next member/element needs a ',' before it
}

func (b *Builder) sep() {
	if b.comma {
		b.B = append(b.B, ',')
	}
	b.comma = true
}

// BeginObject starts an object ('{') as a value.
func (b *Builder) BeginObject() {
	b.sep()
	b.B = append(b.B, '{')
	b.comma = false
}

// EndObject closes the innermost object.
func (b *Builder) EndObject() {
	b.B = append(b.B, '}')
	b.comma = true
}

// BeginArray starts an array ('[') as a value.
func (b *Builder) BeginArray() {
	b.sep()
	b.B = append(b.B, '[')
	b.comma = false
}

// EndArray closes the innermost array.
func (b *Builder) EndArray() {
	b.B = append(b.B, ']')
	b.comma = true
}

// Key writes an object member name and the colon; a value must follow. k
// is written as is: it must be a name from the code (EVE field names are
// ASCII letters, digits, '_', '-' and '.'), never input. Use EscapedKey for
// a name that might need escaping.
func (b *Builder) Key(k string) {
	b.sep()
	b.B = append(b.B, '"')
	b.B = append(b.B, k...)
	b.B = append(b.B, '"', ':')
	b.comma = false
}

// EscapedKey is Key for a name that may hold any bytes; it is escaped as
// AppendString describes.
func (b *Builder) EscapedKey(k string) {
	b.sep()
	b.B = AppendString(b.B, k)
	b.B = append(b.B, ':')
	b.comma = false
}

// String writes a string value, escaped as AppendString describes.
func (b *Builder) String(s string) {
	b.sep()
	b.B = AppendString(b.B, s)
}

// Bytes writes a byte-slice string value without converting it to a string,
// escaped as AppendString describes.
func (b *Builder) Bytes(s []byte) {
	b.sep()
	b.B = AppendString(b.B, s)
}

// Int writes a signed integer.
func (b *Builder) Int(v int64) {
	b.sep()
	b.B = strconv.AppendInt(b.B, v, 10)
}

// Uint writes an unsigned integer. JSON consumers that parse numbers as
// float64 (JavaScript, Elasticsearch's dynamic mapping) lose precision above
// 2^53; EVE's flow_id stays below that by construction.
func (b *Builder) Uint(v uint64) {
	b.sep()
	b.B = strconv.AppendUint(b.B, v, 10)
}

// Float writes a float the way Suricata does: shortest representation, and
// null for NaN and ±Inf, which JSON cannot express.
func (b *Builder) Float(v float64) {
	b.sep()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		b.B = append(b.B, "null"...)
		return
	}
	b.B = strconv.AppendFloat(b.B, v, 'g', -1, 64)
}

// Bool writes true or false.
func (b *Builder) Bool(v bool) {
	b.sep()
	b.B = strconv.AppendBool(b.B, v)
}

// Null writes null.
func (b *Builder) Null() {
	b.sep()
	b.B = append(b.B, "null"...)
}

// Hex writes v as a string of lower-case hex digits, two per byte, as
// Suricata's set_hex does.
func (b *Builder) Hex(v []byte) {
	b.sep()
	b.B = append(b.B, '"')
	b.B = appendHex(b.B, v)
	b.B = append(b.B, '"')
}

// Base64 writes v as a standard, padded base64 string (RFC 4648 §4), as
// Suricata's set_base64 does.
func (b *Builder) Base64(v []byte) {
	b.sep()
	b.B = append(b.B, '"')
	b.B = base64.StdEncoding.AppendEncode(b.B, v)
	b.B = append(b.B, '"')
}

// Raw writes pre-encoded JSON as a value. The caller vouches that it is
// valid JSON.
func (b *Builder) Raw(v []byte) {
	b.sep()
	b.B = append(b.B, v...)
}

// Convenience members: key and value in one call.

// KeyString writes "k":"v".
func (b *Builder) KeyString(k, v string) { b.Key(k); b.String(v) }

// KeyBytes writes "k":"v" from a byte slice.
func (b *Builder) KeyBytes(k string, v []byte) { b.Key(k); b.Bytes(v) }

// KeyInt writes "k":v.
func (b *Builder) KeyInt(k string, v int64) { b.Key(k); b.Int(v) }

// KeyUint writes "k":v.
func (b *Builder) KeyUint(k string, v uint64) { b.Key(k); b.Uint(v) }

// KeyBool writes "k":true|false.
func (b *Builder) KeyBool(k string, v bool) { b.Key(k); b.Bool(v) }

// KeyBytesNonEmpty writes "k":"v" only when v is not empty, the way
// Suricata skips absent fields.
func (b *Builder) KeyBytesNonEmpty(k string, v []byte) {
	if len(v) > 0 {
		b.Key(k)
		b.Bytes(v)
	}
}

// KeyTime writes "k":"2016-01-06T21:58:35.652043+0000" (see AppendTime).
func (b *Builder) KeyTime(k string, t time.Time) {
	b.Key(k)
	b.sep()
	b.B = append(b.B, '"')
	b.B = AppendTime(b.B, t)
	b.B = append(b.B, '"')
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, v []byte) []byte {
	for _, c := range v {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// escape[c] for c < 0x80: 0 = copy, 'u' = \u00XX, else the letter after '\'.
var escape = [128]byte{
	0x00: 'u', 0x01: 'u', 0x02: 'u', 0x03: 'u', 0x04: 'u', 0x05: 'u', 0x06: 'u', 0x07: 'u',
	0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'u', 0x0c: 'f', 0x0d: 'r', 0x0e: 'u', 0x0f: 'u',
	0x10: 'u', 0x11: 'u', 0x12: 'u', 0x13: 'u', 0x14: 'u', 0x15: 'u', 0x16: 'u', 0x17: 'u',
	0x18: 'u', 0x19: 'u', 0x1a: 'u', 0x1b: 'u', 0x1c: 'u', 0x1d: 'u', 0x1e: 'u', 0x1f: 'u',
	'"': '"', '\\': '\\',
}

// plain[c] reports whether byte c is copied as is whatever the rest of the
// string holds: ASCII except control characters, '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string (RFC 8259 §7) with the escaping
// Suricata's JsonBuilder applies (rust/src/jsonbuilder.rs, encode_string and
// try_string_from_bytes), so that polder and Suricata print the same text:
//
//   - '"' and '\' are backslash-escaped; \b \t \n \f \r use their short
//     forms; other bytes below 0x20 (NUL included) become \u00XX.
//   - If s is valid UTF-8 it is copied through otherwise unchanged
//     (no HTML escaping, U+2028/U+2029 left raw, as Suricata does).
//   - If s is not valid UTF-8, every byte ≥ 0x80, even one that is part of a
//     valid sequence, becomes the four characters `\xNN` (lower-case hex),
//     which in JSON text reads "\\xNN". This is Suricata's lossy rendering:
//     a valid string that contains the literal text `\xff` prints the same
//     as the byte 0xff. It is not the \u00NN escape, which would claim the
//     code point U+00NN.
//
// The result is always valid JSON and always valid UTF-8, whatever s holds.
func AppendString[T ~string | ~[]byte](dst []byte, s T) []byte {
	// Fast path: printable ASCII, the common case, is copied in one go.
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	dst = append(dst, '"')
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	valid := true
	for j := i; j < len(s); j++ {
		if s[j] >= 0x80 {
			valid = validUTF8(s[j:])
			break
		}
	}
	start := 0 // s[start:i] is pending, copied verbatim
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			if valid {
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			start = i + 1
			continue
		}
		e := escape[c]
		if e == 0 {
			continue
		}
		dst = append(dst, s[start:i]...)
		if e == 'u' {
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			dst = append(dst, '\\', e)
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validUTF8 is utf8.Valid for either string or []byte without a conversion
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
func validUTF8[T ~string | ~[]byte](s T) bool {
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		if c < 0x80 {
			i++
			continue
		}
		size := 0
		lo, hi := byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			size = 2
		case c == 0xe0:
			size, lo = 3, 0xa0
		case c == 0xed:
			size, hi = 3, 0x9f
		case c >= 0xe1 && c <= 0xef:
			size = 3
		case c == 0xf0:
			size, lo = 4, 0x90
		case c >= 0xf1 && c <= 0xf3:
			size = 4
		case c == 0xf4:
			size, hi = 4, 0x8f
		default:
			return false
		}
		if n-i < size {
			return false
		}
		if s[i+1] < lo || s[i+1] > hi {
			return false
		}
		for j := 2; j < size; j++ {
			if s[i+j]&0xc0 != 0x80 {
				return false
			}
		}
		i += size
	}
	return true
}

// AppendTime appends t in Suricata's EVE timestamp format,
// "2016-01-06T21:58:35.652043+0000": microseconds and a ±hhmm offset of t's
// location (Suricata uses the sensor's local zone; pass UTC times for
// "+0000"). Years outside 0..9999 are clamped, so the text always matches
// the schema's pattern.
func AppendTime(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	_, off := t.Zone()
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, min)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	dst = append(dst, '.')
	us := t.Nanosecond() / 1000
	dst = append2(dst, us/10000)
	dst = append2(dst, us/100%100)
	dst = append2(dst, us%100)
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	off /= 60
	dst = append2(dst, off/60%100)
	return append2(dst, off%60)
}

// appendCertTime appends t in UTC as "2015-01-01T00:00:00", the format of
// Suricata's tls.notbefore/notafter.
func appendCertTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	if year < 1000 { // the schema wants [12]\d{3}
		year = 1000
	}
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, min)
	dst = append(dst, ':')
	return append2(dst, sec)
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

func append4(dst []byte, v int) []byte {
	if v < 0 {
		v = 0
	} else if v > 9999 {
		v = 9999
	}
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
