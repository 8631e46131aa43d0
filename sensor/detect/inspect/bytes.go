package inspect

import (
	"math"
)

// Limits of the number of bytes a byte_* keyword reads, as Suricata
// enforces at load time; a variable outside them fails the match.
const (
	maxBinaryBytes = 8
	maxStringBytes = 23 // octal digits of a uint64
	maxMathString  = 10 // byte_math: "bytes 1-10"
)

// start returns where a byte_* keyword reads: offset off from the start
// of data, or from pos when relative.
func start(pos int, off int64, relative bool) int64 {
	if relative {
		return int64(pos) + off
	}
	return off
}

// read extracts nbytes at data[at:] as a binary integer of the given byte
// order or, when base is not 0, as a string number; it returns the value
// and the bytes consumed. ok is false when the bytes are out of the
// buffer or are not a number.
func read(data []byte, at, nbytes int64, little bool, base, maxString int) (val uint64, used int, ok bool) {
	if at < 0 || nbytes <= 0 || at > int64(len(data)) || nbytes > int64(len(data))-at {
		return 0, 0, false
	}
	b := data[at : at+nbytes]
	if base == 0 {
		if nbytes > maxBinaryBytes {
			return 0, 0, false
		}
		for i := range b {
			if little {
				val |= uint64(b[i]) << (8 * i)
			} else {
				val = val<<8 | uint64(b[i])
			}
		}
		return val, len(b), true
	}
	if nbytes > int64(maxString) {
		return 0, 0, false
	}
	return parseUint(b, base)
}

// parseUint reads an unsigned number in base from b as C's strtoull on
// the NUL-terminated copy Suricata makes of the bytes: leading
// whitespace, an optional sign ('-' negates modulo 2^64), "0x" before hex
// digits, then digits up to the first non-digit. No digit or an overflow
// is a failure. used counts the bytes read, whitespace and sign included.
func parseUint(b []byte, base int) (val uint64, used int, ok bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') && digit(b[i+2], 16) >= 0 {
		i += 2
	}
	j := i
	for ; j < len(b); j++ {
		d := digit(b[j], base)
		if d < 0 {
			break
		}
		if val > (math.MaxUint64-uint64(d))/uint64(base) {
			return 0, 0, false
		}
		val = val*uint64(base) + uint64(d)
	}
	if j == i {
		return 0, 0, false
	}
	if neg {
		val = -val
	}
	return val, j, true
}

func digit(c byte, base int) int {
	var d int
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		d = int(c-'A') + 10
	default:
		return -1
	}
	if d >= base {
		return -1
	}
	return d
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func (b *byteOp) mask(val uint64) uint64 {
	if b.bitmask == 0 {
		return val
	}
	val &= b.bitmask
	if val != 0 {
		val >>= b.shift
	}
	return val
}

// test is byte_test: compare the extracted (masked) value with the
// rule's; negation inverts the comparison, not a read failure.
func (b *byteOp) test(v *Vars, data []byte, pos int, relative, negated bool) bool {
	at := start(pos, b.offset.signed(v), relative)
	val, _, ok := read(data, at, b.nbytes.signed(v), b.little, b.base, maxStringBytes)
	if !ok {
		return false
	}
	val = b.mask(val)
	want := b.value.raw(v)
	var r bool
	switch b.cmp {
	case "<":
		r = val < want
	case ">":
		r = val > want
	case "=":
		r = val == want
	case "<=":
		r = val <= want
	case ">=":
		r = val >= want
	case "&":
		r = val&want != 0
	case "^":
		r = val^want != 0
	}
	return r != negated
}

// jump is byte_jump: it returns the new relative position. The value is
// masked, multiplied, aligned up to 4, then post_offset is added; the
// jump counts from the end of the bytes read, or from the start
// (from_beginning) or end (from_end) of the buffer. A jump before the
// buffer start lands on the start; one at or past its end fails.
func (b *byteOp) jump(v *Vars, data []byte, pos int, relative bool) (int, bool) {
	at := start(pos, b.offset.signed(v), relative)
	val, used, ok := read(data, at, b.nbytes.signed(v), b.little, b.base, maxStringBytes)
	if !ok {
		return 0, false
	}
	val = b.mask(val) * b.multiplier
	if b.align != 0 && val%b.align != 0 {
		val += b.align - val%b.align
	}
	val += uint64(b.postOffset)
	d := int64(val)
	switch {
	case d > maxWindow:
		return 0, false // past the end of any buffer
	case d < -maxWindow:
		return 0, true // before the start: clamped
	}
	var to int64
	switch {
	case b.fromBeginning:
		to = d
	case b.fromEnd:
		to = int64(len(data)) + d
	default:
		to = at + int64(used) + d
	}
	if to < 0 {
		to = 0
	}
	if to >= int64(len(data)) {
		return 0, false // Suricata: the jump must land inside the buffer
	}
	return int(to), true
}

// extract is byte_extract: store the value (multiplied, then rounded up
// to align) and move the relative position past the bytes read.
func (b *byteOp) extract(v *Vars, data []byte, pos int, relative bool) (int, bool) {
	at := start(pos, b.offset.signed(v), relative)
	val, used, ok := read(data, at, b.nbytes.signed(v), b.little, b.base, maxStringBytes)
	if !ok {
		return 0, false
	}
	val *= b.multiplier
	if b.align != 0 && val%b.align != 0 {
		val += b.align - val%b.align
	}
	v[b.slot] = val
	return int(at) + used, true
}

// math is byte_math: result = (masked value) oper rvalue. Division by
// zero fails the match. The relative position does not move.
func (b *byteOp) math(v *Vars, data []byte, pos int, relative bool) bool {
	at := start(pos, b.offset.signed(v), relative)
	val, _, ok := read(data, at, b.nbytes.signed(v), b.little, b.base, maxMathString)
	if !ok {
		return false
	}
	val = b.mask(val)
	r := b.rvalue.raw(v)
	switch b.oper {
	case "+":
		val += r
	case "-":
		val -= r
	case "*":
		val *= r
	case "/":
		if r == 0 {
			return false
		}
		val /= r
	case "<<":
		val <<= r
	case ">>":
		val >>= r
	default:
		return false
	}
	v[b.slot] = val
	return true
}
