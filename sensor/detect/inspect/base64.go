package inspect

// b64mode is how a base64 decoder treats bytes outside the alphabet.
type b64mode uint8

const (
	// b64RFC4648 stops at the first byte outside the alphabet (padding
	// included): Suricata's base64_decode default and from_base64's.
	b64RFC4648 b64mode = iota
	// b64RFC2045 skips bytes outside the alphabet (line breaks of MIME
	// bodies) and stops at padding.
	b64RFC2045
	// b64Strict decodes nothing when a byte outside the alphabet comes
	// before the end or the padding.
	b64Strict
)

var b64val [256]int8

func init() {
	for i := range b64val {
		b64val[i] = -1
	}
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alpha); i++ {
		b64val[alpha[i]] = int8(i)
	}
}

// decodeB64 appends to dst the decoding of src in mode, at most max
// bytes. A final group of 2 or 3 characters without padding gives 1 or 2
// bytes; a lone final character is dropped.
func decodeB64(dst, src []byte, mode b64mode, max int) []byte {
	start := len(dst)
	var acc uint32
	n := 0
	for _, c := range src {
		if len(dst)-start >= max {
			break
		}
		d := b64val[c]
		if d < 0 {
			if c == '=' {
				break
			}
			switch mode {
			case b64RFC2045:
				continue
			case b64Strict:
				return dst[:start]
			}
			break
		}
		acc = acc<<6 | uint32(d)
		n++
		if n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	if len(dst)-start > max {
		dst = dst[:start+max]
	}
	return dst
}

// decodeBase64 runs base64_decode on data at relative position pos into
// the Scratch and returns the number of bytes decoded (0: no match).
func (s *Scratch) decodeBase64(o *base64Op, data []byte, pos int, relative bool) int {
	buf := data
	if relative {
		if pos < 0 || pos > len(buf) {
			return 0
		}
		buf = buf[pos:]
	}
	if o.offset > 0 {
		if o.offset >= int64(len(buf)) {
			return 0
		}
		buf = buf[o.offset:]
	}
	if o.bytes > 0 && o.bytes < int64(len(buf)) {
		buf = buf[:o.bytes]
	}
	s.b64 = decodeB64(s.b64[:0], buf, b64RFC4648, maxBase64)
	s.b64ok = len(s.b64) > 0
	return len(s.b64)
}
