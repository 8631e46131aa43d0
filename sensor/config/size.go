package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes. In YAML it is written as a plain number of
// bytes or with a unit suffix as in Suricata ("32mb", "1gb", "100kb",
// "1.5gb"); units are powers of 1024.
type Size uint64

// Size units.
const (
	B  Size = 1
	KB Size = 1 << 10
	MB Size = 1 << 20
	GB Size = 1 << 30
	TB Size = 1 << 40
)

var sizeUnits = []struct {
	suffix string
	mult   Size
}{
	// Longest suffixes first so "kib" wins over "b".
	{"kib", KB}, {"mib", MB}, {"gib", GB}, {"tib", TB},
	{"kb", KB}, {"mb", MB}, {"gb", GB}, {"tb", TB},
	{"k", KB}, {"m", MB}, {"g", GB}, {"t", TB},
	{"b", B},
}

// ParseSize parses a byte size: "4096", "32mb", "1gb", "1.5 GB", "64k".
// Units are case-insensitive powers of 1024; fractional values are
// truncated to whole bytes. Negative values and overflow are errors.
func ParseSize(s string) (Size, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := B
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	if t == "" {
		return 0, fmt.Errorf("%q is not a size (want bytes or a number with kb, mb, gb)", s)
	}
	if n, err := strconv.ParseUint(t, 10, 64); err == nil {
		if n > math.MaxUint64/uint64(mult) {
			return 0, fmt.Errorf("%q is too large a size", s)
		}
		return Size(n) * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || t[0] == '+' || strings.ContainsAny(t, "xXpP_") {
		return 0, fmt.Errorf("%q is not a size (want bytes or a number with kb, mb, gb)", s)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return Size(v), nil
}

// String writes s with the largest unit that divides it exactly: "32mb",
// "1gb", "1500". ParseSize(s.String()) == s.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		mult   Size
	}{{"tb", TB}, {"gb", GB}, {"mb", MB}, {"kb", KB}} {
		if s != 0 && s%u.mult == 0 {
			return strconv.FormatUint(uint64(s/u.mult), 10) + u.suffix
		}
	}
	return strconv.FormatUint(uint64(s), 10)
}

// MarshalYAML writes s as String does.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }
