package sv

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a Suricata version as suricata-verify compares them. A part
// is -1 when the version text left it out and the comparison is "equal"
// (where "7" means any 7.x.y); otherwise left-out parts are 0.
type Version struct{ Major, Minor, Patch int }

// String writes v as "8.0.0" (left-out parts as "x").
func (v Version) String() string {
	p := func(i int) string {
		if i < 0 {
			return "x"
		}
		return strconv.Itoa(i)
	}
	return p(v.Major) + "." + p(v.Minor) + "." + p(v.Patch)
}

// DefaultVersion is the Suricata version polder claims to behave as: its
// EVE follows Suricata 8.0 (see README), so tests gated on min-version 8
// run and tests gated on lt-version 8 are skipped.
var DefaultVersion = Version{8, 0, 0}

var reVersion = regexp.MustCompile(`(?:Suricata version |^)(\d+)\.?(\d+)?\.?(\d+)?`)

// ParseVersion reads a version the way run.py's parse_suricata_version
// does: "7" is 7.0.0, "6.0" is 6.0.0, "4.1.0-dev" is 4.1.0. With
// exact=true (the "version:" requirement) left-out parts are -1, meaning
// "any".
func ParseVersion(s string, exact bool) (Version, error) {
	m := reVersion.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("parse version %q: no version number", s)
	}
	def := 0
	if exact {
		def = -1
	}
	part := func(x string) int {
		if x == "" {
			return def
		}
		n, err := strconv.Atoi(x)
		if err != nil {
			return def
		}
		return n
	}
	return Version{part(m[1]), part(m[2]), part(m[3])}, nil
}

// versionText turns a YAML value (7, 6.0, "4.1.0") into the text Python's
// str() would give.
func versionText(v any) string {
	switch v := v.(type) {
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// The comparisons below reproduce run.py's Version class, including its
// quirks (is_lt compares minor and patch without checking that the higher
// part was equal); polder's version is fixed, so only the gates written in
// tests matter.

func versionEqual(a, b Version) bool {
	if a.Major != b.Major {
		return false
	}
	if a.Minor >= 0 && b.Minor >= 0 && a.Minor != b.Minor {
		return false
	}
	if a.Patch >= 0 && b.Patch >= 0 && a.Patch != b.Patch {
		return false
	}
	return true
}

func versionGTE(v1, v2 Version) bool {
	if v1.Major != v2.Major {
		return v1.Major > v2.Major
	}
	if v1.Minor != v2.Minor {
		return v1.Minor > v2.Minor
	}
	return v1.Patch >= v2.Patch
}

func versionGT(v1, v2 Version) bool {
	if v1.Major != v2.Major {
		return v1.Major > v2.Major
	}
	if v1.Minor != v2.Minor {
		return v1.Minor > v2.Minor
	}
	return v1.Patch > v2.Patch
}

func versionLT(v1, v2 Version) bool {
	switch {
	case v1.Major > v2.Major:
		return false
	case v1.Major < v2.Major:
		return true
	case v1.Minor < v2.Minor:
		return true
	case v1.Patch < v2.Patch:
		return true
	}
	return false
}
