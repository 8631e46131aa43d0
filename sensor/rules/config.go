package rules

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Classification is one "config classification: name,description,priority"
// line of classification.config.
type Classification struct {
	Name        string
	Description string
	Priority    int
	Line        int
}

// ReferenceSystem is one "config reference: system url" line of
// reference.config.
type ReferenceSystem struct {
	Name string
	URL  string
	Line int
}

// configLines calls fn for every non-blank, non-comment line of the file,
// with surrounding blanks trimmed. Errors from fn are collected.
func configLines(path string, fn func(line int, s string) error) ErrorList {
	f, err := os.Open(path)
	if err != nil {
		return ErrorList{{File: path, Msg: fmt.Sprintf("open config: %v", err)}}
	}
	defer f.Close()
	return readConfigLines(f, path, fn)
}

func readConfigLines(r io.Reader, name string, fn func(line int, s string) error) ErrorList {
	var errs ErrorList
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if err := fn(n, s); err != nil {
			errs = append(errs, &Error{File: name, Line: n, Col: 1, Msg: err.Error()})
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &Error{File: name, Line: n + 1, Msg: fmt.Sprintf("read config: %v", err)})
	}
	return errs
}

// LoadClassifications reads a classification.config. Names are
// case-sensitive as in Suricata; a name given twice keeps the last line
// and is reported.
func LoadClassifications(path string) (map[string]Classification, ErrorList) {
	out := map[string]Classification{}
	errs := configLines(path, func(line int, s string) error {
		rest, ok := strings.CutPrefix(s, "config classification:")
		if !ok {
			return fmt.Errorf("want \"config classification: name,description,priority\", got %q", s)
		}
		f := fields(rest)
		if len(f) != 3 || f[0] == "" {
			return fmt.Errorf("classification %q: want name,description,priority", strings.TrimSpace(rest))
		}
		prio, err := strconv.Atoi(f[2])
		if err != nil || prio < 1 || prio > 255 {
			return fmt.Errorf("classification %s: bad priority %q", f[0], f[2])
		}
		old, dup := out[f[0]]
		out[f[0]] = Classification{Name: f[0], Description: f[1], Priority: prio, Line: line}
		if dup {
			return fmt.Errorf("classification %s given twice (first on line %d)", f[0], old.Line)
		}
		return nil
	})
	return out, errs
}

// LoadReferences reads a reference.config. System names are stored lower
// case: Suricata matches them case-insensitively.
func LoadReferences(path string) (map[string]ReferenceSystem, ErrorList) {
	out := map[string]ReferenceSystem{}
	errs := configLines(path, func(line int, s string) error {
		rest, ok := strings.CutPrefix(s, "config reference:")
		if !ok {
			return fmt.Errorf("want \"config reference: system url\", got %q", s)
		}
		f := strings.Fields(rest)
		if len(f) != 2 {
			return fmt.Errorf("reference %q: want system url", strings.TrimSpace(rest))
		}
		out[strings.ToLower(f[0])] = ReferenceSystem{Name: f[0], URL: f[1], Line: line}
		return nil
	})
	return out, errs
}

// ThresholdKind is the command of a threshold.config line.
type ThresholdKind uint8

// threshold.config commands.
const (
	ThresholdSuppress ThresholdKind = iota + 1
	ThresholdThreshold
	ThresholdEventFilter // Snort spelling of threshold
	ThresholdRateFilter
)

var thresholdKinds = map[string]ThresholdKind{
	"suppress": ThresholdSuppress, "threshold": ThresholdThreshold,
	"event_filter": ThresholdEventFilter, "rate_filter": ThresholdRateFilter,
}

// String returns the threshold.config command word.
func (k ThresholdKind) String() string {
	for s, v := range thresholdKinds {
		if v == k {
			return s
		}
	}
	return "?"
}

// ThresholdEntry is one line of threshold.config. GID or SID 0 means
// "all", as in Suricata.
type ThresholdEntry struct {
	Kind       ThresholdKind
	Line       int
	GID, SID   uint32
	Type       string // threshold, event_filter: limit, threshold, both, backoff
	Track      string // by_src by_dst by_rule by_both by_either
	Count      int
	Seconds    int
	IP         string // suppress: address expression; "" = all
	NewAction  string // rate_filter: alert drop pass reject
	Timeout    int    // rate_filter, seconds
	Multiplier int
}

// LoadThresholds reads a threshold.config: suppress, threshold,
// event_filter and rate_filter lines, each checked for its required
// options. Use CheckThresholdSIDs to find entries naming unknown rules.
func LoadThresholds(path string) ([]ThresholdEntry, ErrorList) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ErrorList{{File: path, Msg: fmt.Sprintf("open config: %v", err)}}
	}
	defer f.Close()
	return ReadThresholds(f, path)
}

// ReadThresholds is LoadThresholds on a reader; name is used in errors.
func ReadThresholds(r io.Reader, name string) ([]ThresholdEntry, ErrorList) {
	var out []ThresholdEntry
	errs := readConfigLines(r, name, func(line int, s string) error {
		e, err := parseThresholdLine(s)
		if err != nil {
			return err
		}
		e.Line = line
		out = append(out, e)
		return nil
	})
	return out, errs
}

func parseThresholdLine(s string) (ThresholdEntry, error) {
	var e ThresholdEntry
	cmd, rest, _ := strings.Cut(s, " ")
	k, ok := thresholdKinds[cmd]
	if !ok {
		return e, fmt.Errorf("unknown command %q: want suppress, threshold, event_filter or rate_filter", cmd)
	}
	e.Kind = k
	seen := map[string]bool{}
	for _, f := range thresholdFields(rest) {
		key, v, _ := strings.Cut(f, " ")
		v = strings.TrimSpace(v)
		if seen[key] {
			return e, fmt.Errorf("%s: %s given twice", cmd, key)
		}
		seen[key] = true
		var err error
		num := func() int {
			n, e2 := strconv.Atoi(v)
			if e2 != nil || n < 0 {
				err = fmt.Errorf("%s: bad %s %q: want a non-negative integer", cmd, key, v)
			}
			return n
		}
		switch key {
		case "gen_id":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			e.GID = uint32(n)
		case "sig_id":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			e.SID = uint32(n)
		case "type":
			if k == ThresholdSuppress || k == ThresholdRateFilter {
				return e, fmt.Errorf("%s takes no type", cmd)
			}
			switch v {
			case "limit", "threshold", "both", "backoff":
				e.Type = v
			default:
				return e, fmt.Errorf("%s: bad type %q: want limit, threshold, both or backoff", cmd, v)
			}
		case "track":
			if !tracks[v] && !(k == ThresholdSuppress && v == "by_either") {
				return e, fmt.Errorf("%s: bad track %q", cmd, v)
			}
			e.Track = v
		case "count":
			e.Count = num()
		case "seconds":
			e.Seconds = num()
		case "timeout":
			e.Timeout = num()
		case "multiplier":
			e.Multiplier = num()
		case "new_action":
			switch v {
			case "alert", "drop", "pass", "reject", "log", "sdrop":
				e.NewAction = v
			default:
				return e, fmt.Errorf("%s: bad new_action %q", cmd, v)
			}
		case "ip":
			if k != ThresholdSuppress {
				return e, fmt.Errorf("%s takes no ip", cmd)
			}
			if _, perr := ParseAddress(v); perr != nil {
				return e, fmt.Errorf("%s: %v", cmd, perr)
			}
			e.IP = v
		default:
			return e, fmt.Errorf("%s: unknown option %q", cmd, key)
		}
		if err != nil {
			if strings.HasPrefix(err.Error(), cmd) {
				return e, err
			}
			return e, fmt.Errorf("%s: bad %s %q", cmd, key, v)
		}
	}
	var need []string
	switch k {
	case ThresholdSuppress:
		need = []string{"gen_id", "sig_id"}
		if seen["ip"] != seen["track"] {
			return e, fmt.Errorf("suppress: track and ip go together")
		}
	case ThresholdThreshold, ThresholdEventFilter:
		need = []string{"gen_id", "sig_id", "type", "track", "count", "seconds"}
		if e.Type == "backoff" {
			need = []string{"gen_id", "sig_id", "type", "track", "count", "multiplier"}
		}
	case ThresholdRateFilter:
		need = []string{"gen_id", "sig_id", "track", "count", "seconds", "new_action", "timeout"}
	}
	for _, n := range need {
		if !seen[n] {
			return e, fmt.Errorf("%s: missing %s", cmd, n)
		}
	}
	return e, nil
}

// thresholdFields splits the options of a threshold.config line at the
// commas outside brackets, trimmed: a suppress line's ip may be a list
// ("ip [10.0.0.0/8, !10.0.0.2]"), as Suricata's parser allows.
func thresholdFields(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// CheckThresholdSIDs reports every entry naming a gid:sid (not 0) that
// set does not hold; file names the config in the errors.
func CheckThresholdSIDs(entries []ThresholdEntry, set *Set, file string) ErrorList {
	var errs ErrorList
	for _, e := range entries {
		if e.SID == 0 || e.GID == 0 {
			continue
		}
		if set.Lookup(e.GID, e.SID) == nil {
			errs = append(errs, &Error{File: file, Line: e.Line, Col: 1, SID: e.SID, Keyword: e.Kind.String(),
				Msg: fmt.Sprintf("no loaded rule has gid %d sid %d", e.GID, e.SID)})
		}
	}
	return errs
}

// CheckClasstypes reports every rule whose classtype is not in classes.
func CheckClasstypes(set *Set, classes map[string]Classification) ErrorList {
	var errs ErrorList
	for _, r := range set.Rules {
		if r.Classtype == "" {
			continue
		}
		if _, ok := classes[r.Classtype]; !ok {
			pos := r.optionPos("classtype")
			errs = append(errs, &Error{File: r.File, Line: pos.Line, Col: pos.Col, SID: r.SID, Keyword: "classtype",
				Msg: fmt.Sprintf("unknown classtype %q (not in classification.config)", r.Classtype)})
		}
	}
	return errs
}
