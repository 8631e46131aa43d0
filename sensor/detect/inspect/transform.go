package inspect

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/polder-nsm/polder/sensor/detect/pcre"
	"github.com/polder-nsm/polder/sensor/rules"
)

// xform is one compiled transform: it appends the transform of src to
// dst[:0] and returns it. dst never aliases src.
type xform struct {
	name string
	fn   func(s *Scratch, x *xform, dst, src []byte) []byte
	key  []byte       // xor
	re   *pcre.Regexp // pcrexform
	b64  b64mode      // from_base64
	off  int64        // from_base64
	n    int64        // from_base64 bytes, 0: all
}

// Transform applies the buffer's transforms in order and returns the
// result, or in itself when there are none. The result lives in s, in a
// slot named by TransformKey: it stays valid until the next Transform on
// s by a Program with the same key (any Program with that key would
// produce the same bytes), whatever other Programs do meanwhile. in is
// only read, and must not be a result of this key (of an earlier
// Transform by a Program with the same key). It does not allocate once s
// has seen this key and an input as large.
func (p *Program) Transform(s *Scratch, in []byte) []byte {
	if len(p.xf) == 0 {
		return in
	}
	sl := s.slots[p.key]
	if sl == nil {
		sl = &slot{}
		if s.slots == nil {
			s.slots = map[string]*slot{}
		}
		s.slots[p.key] = sl
	}
	cur, w := in, 0
	for i := range p.xf {
		x := &p.xf[i]
		out := x.fn(s, x, sl.buf[w][:0], cur)
		sl.buf[w] = out
		cur, w = out, w^1
	}
	return cur
}

// slot holds the two ping-pong buffers of one transform chain.
type slot struct{ buf [2][]byte }

func compileTransforms(ts []rules.Transform, o Options) ([]xform, string, error) {
	if len(ts) == 0 {
		return nil, "", nil
	}
	var key strings.Builder
	xs := make([]xform, 0, len(ts))
	for _, t := range ts {
		x := xform{name: t.Name}
		v := strings.TrimSpace(t.Value)
		switch t.Name {
		case "to_lowercase":
			x.fn = xfLower
		case "to_uppercase":
			x.fn = xfUpper
		case "strip_whitespace":
			x.fn = xfStripWS
		case "compress_whitespace":
			x.fn = xfCompressWS
		case "dotprefix":
			x.fn = xfDotprefix
		case "url_decode":
			x.fn = xfURLDecode
		case "to_md5":
			x.fn = xfMD5
		case "to_sha1":
			x.fn = xfSHA1
		case "to_sha256":
			x.fn = xfSHA256
		case "header_lowercase":
			x.fn = xfHeaderLower
		case "strip_pseudo_headers":
			x.fn = xfStripPseudo
		case "xor":
			k := strings.Trim(v, `"`)
			b, err := hex.DecodeString(k)
			if err != nil || len(b) == 0 {
				return nil, "", fmt.Errorf("xor: key %q is not an even number of hex digits", t.Value)
			}
			x.key, x.fn = b, xfXor
			v = hex.EncodeToString(b)
		case "from_base64":
			if err := parseFromBase64(&x, v); err != nil {
				return nil, "", err
			}
			x.fn = xfFromBase64
			v = fmt.Sprintf("bytes %d,offset %d,mode %d", x.n, x.off, x.b64)
		case "pcrexform":
			re, err := compileXformPCRE(v, o)
			if err != nil {
				return nil, "", err
			}
			x.re, x.fn = re, xfPCRE
		case "luaxform":
			return nil, "", fmt.Errorf("luaxform: Lua transforms are not supported")
		case "domain", "tld":
			return nil, "", fmt.Errorf("%s: needs the public suffix list, not supported", t.Name)
		default:
			return nil, "", fmt.Errorf("%s: unknown transform", t.Name)
		}
		key.WriteString(t.Name)
		if v != "" {
			key.WriteByte(':')
			key.WriteString(v)
		}
		key.WriteByte(';')
		xs = append(xs, x)
	}
	return xs, key.String(), nil
}

// parseFromBase64 reads "[bytes N][, offset N][, mode rfc4648|rfc2045|strict]".
func parseFromBase64(x *xform, v string) error {
	if v == "" {
		return nil
	}
	for _, f := range strings.Split(v, ",") {
		k, a, _ := strings.Cut(strings.TrimSpace(f), " ")
		a = strings.TrimSpace(a)
		switch k {
		case "bytes", "offset":
			n, err := strconv.ParseUint(a, 10, 32)
			if err != nil {
				return fmt.Errorf("from_base64: %s %q: want a number (variables are not supported)", k, a)
			}
			if k == "bytes" {
				x.n = int64(n)
			} else {
				x.off = int64(n)
			}
		case "mode":
			switch a {
			case "rfc4648":
				x.b64 = b64RFC4648
			case "rfc2045":
				x.b64 = b64RFC2045
			case "strict":
				x.b64 = b64Strict
			default:
				return fmt.Errorf("from_base64: unknown mode %q", a)
			}
		default:
			return fmt.Errorf("from_base64: unknown option %q", f)
		}
	}
	return nil
}

func compileXformPCRE(v string, o Options) (*pcre.Regexp, error) {
	k, err := pcre.ParseSuricata(v)
	if err != nil {
		return nil, fmt.Errorf("pcrexform: %w", err)
	}
	if k.Negated || k.Relative || k.Buffer != 0 || k.Captures != "" {
		return nil, fmt.Errorf("pcrexform: %q: negation, R, buffer flags and capture variables do not apply", v)
	}
	po := o.PCRE
	po.Captures = true
	re, err := pcre.Compile(k.Expr, k.Flags, po)
	if err != nil {
		return nil, fmt.Errorf("pcrexform: %w", err)
	}
	if re.NumGroups() < 1 {
		return nil, fmt.Errorf("pcrexform: %q has no capture group", v)
	}
	return re, nil
}

// grow returns dst resized to n bytes, reallocating (with headroom) only
// when its capacity is short.
func grow(dst []byte, n int) []byte {
	if cap(dst) < n {
		return make([]byte, n, n+n/4+16)
	}
	return dst[:n]
}

func xfLower(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	for i, c := range src {
		dst[i] = lower[c]
	}
	return dst
}

func xfUpper(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	for i, c := range src {
		dst[i] = upper[c]
	}
	return dst
}

// xfStripWS removes every isspace byte.
func xfStripWS(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	w := 0
	for _, c := range src {
		if !isSpace(c) {
			dst[w] = c
			w++
		}
	}
	return dst[:w]
}

// xfCompressWS keeps the first byte of each run of isspace bytes and
// drops the rest of the run.
func xfCompressWS(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	w, prev := 0, false
	for _, c := range src {
		sp := isSpace(c)
		if !sp || !prev {
			dst[w] = c
			w++
		}
		prev = sp
	}
	return dst[:w]
}

func xfDotprefix(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = append(dst, '.')
	return append(dst, src...)
}

// xfURLDecode decodes %XX and '+' (space); a '%' not followed by two hex
// digits is kept as is.
func xfURLDecode(_ *Scratch, _ *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	w := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(src) && digit(src[i+1], 16) >= 0 && digit(src[i+2], 16) >= 0:
			c = byte(digit(src[i+1], 16)<<4 | digit(src[i+2], 16))
			i += 2
		}
		dst[w] = c
		w++
	}
	return dst[:w]
}

func xfMD5(_ *Scratch, _ *xform, dst, src []byte) []byte {
	h := md5.Sum(src)
	return append(dst, h[:]...)
}

func xfSHA1(_ *Scratch, _ *xform, dst, src []byte) []byte {
	h := sha1.Sum(src)
	return append(dst, h[:]...)
}

func xfSHA256(_ *Scratch, _ *xform, dst, src []byte) []byte {
	h := sha256.Sum256(src)
	return append(dst, h[:]...)
}

// xfHeaderLower lower-cases header names: the bytes of each line up to
// its first ':' (lines end with '\n').
func xfHeaderLower(_ *Scratch, _ *xform, dst, src []byte) []byte {
	name := true
	for _, c := range src {
		switch {
		case c == '\n':
			name = true
		case name && c == ':' && len(dst) > 0 && dst[len(dst)-1] != '\n':
			name = false
		case name:
			c = lower[c]
		}
		dst = append(dst, c)
	}
	return dst
}

// xfStripPseudo drops the lines (with their "\n") that start with ':',
// the HTTP/2 pseudo-headers.
func xfStripPseudo(_ *Scratch, _ *xform, dst, src []byte) []byte {
	for len(src) > 0 {
		n := len(src)
		for i, c := range src {
			if c == '\n' {
				n = i + 1
				break
			}
		}
		if src[0] != ':' {
			dst = append(dst, src[:n]...)
		}
		src = src[n:]
	}
	return dst
}

func xfXor(_ *Scratch, x *xform, dst, src []byte) []byte {
	dst = grow(dst, len(src))
	for i, c := range src {
		dst[i] = c ^ x.key[i%len(x.key)]
	}
	return dst
}

func xfFromBase64(_ *Scratch, x *xform, dst, src []byte) []byte {
	if x.off > 0 {
		if x.off >= int64(len(src)) {
			return dst
		}
		src = src[x.off:]
	}
	if x.n > 0 && x.n < int64(len(src)) {
		src = src[:x.n]
	}
	return decodeB64(dst, src, x.b64, len(src))
}

// xfPCRE replaces the buffer with the first capture group of the first
// match; without a match (or when the group did not take part, or the
// engine gave up) the buffer is left unchanged.
func xfPCRE(s *Scratch, x *xform, dst, src []byte) []byte {
	_, _, ok, err := x.re.Match(s.re, src, 0)
	if err != nil {
		s.countPCRE(err)
	}
	if ok {
		if a, b := s.re.Submatch(1); a >= 0 && a <= b && b <= len(src) {
			return append(dst, src[a:b]...)
		}
	}
	return append(dst, src...)
}
