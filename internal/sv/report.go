package sv

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of a Run.
type Report struct {
	Version   Version // the Suricata version claimed
	Detection bool    // whether the sensor loaded rules
	Results   []Result
}

// Counts is passed/failed/skipped totals.
type Counts struct{ Passed, Failed, Skipped int }

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Skipped:
		c.Skipped++
	}
}

// String is the summary line: "N passed, N failed, N skipped".
func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.Passed, c.Failed, c.Skipped)
}

// Totals counts every result.
func (r *Report) Totals() Counts {
	var c Counts
	for _, x := range r.Results {
		c.add(x.Status)
	}
	return c
}

// ByCategory counts results per category ("" for tests without one), in
// the order categories first appear.
func (r *Report) ByCategory() ([]string, map[string]Counts) {
	var order []string
	m := map[string]Counts{}
	for _, x := range r.Results {
		c, seen := m[x.Category]
		if !seen {
			order = append(order, x.Category)
		}
		c.add(x.Status)
		m[x.Category] = c
	}
	return order, m
}

// reasonClass reduces a reason to its kind, for TopReasons: numbers,
// quoted strings and the details of a filter are dropped.
var (
	reDigits      = regexp.MustCompile(`\d+`)
	reFilter      = regexp.MustCompile(`\{.*\}`)
	reQuoted      = regexp.MustCompile(`"[^"]*"`)
	reVersionWord = regexp.MustCompile(`version \S+`)
	reEventType   = regexp.MustCompile(`event_type="([a-z_0-9]+)"`)
	reFirstField  = regexp.MustCompile(`for \{([a-z_0-9]+)[.=\[]`)
)

func reasonClass(s Status, reason string) string {
	switch {
	case s == Skipped && strings.HasPrefix(reason, "needs rule engine"):
		return "skipped: needs rule engine (checks on alerts or rule effects)"
	case s == Failed:
		// "#3 filter: expected 1 matches; got 0 for {...}" → by event type.
		if strings.Contains(reason, " stats: ") {
			return "failed: stats check (counters of the last stats event)"
		}
		if strings.Contains(reason, " shell: ") {
			return "failed: shell check (command output in the output directory)"
		}
		if m := reEventType.FindStringSubmatch(reason); m != nil {
			return "failed: filter on " + m[1] + " events"
		}
		// A filter without event_type: name it by its first field.
		if m := reFirstField.FindStringSubmatch(reason); m != nil {
			return "failed: filter on " + m[1] + " events"
		}
	case s == Skipped && strings.HasPrefix(reason, "needs "):
		reason, _, _ = strings.Cut(reason, "; ")
	}
	r := reFilter.ReplaceAllString(reason, "{…}")
	r = reVersionWord.ReplaceAllString(r, "version N")
	r = reQuoted.ReplaceAllString(r, `"…"`)
	r = reDigits.ReplaceAllString(r, "N")
	return s.String() + ": " + r
}

// ReasonCount is one line of TopReasons.
type ReasonCount struct {
	Reason string
	Tests  []string
}

// TopReasons groups failed and skipped results by the kind of reason,
// most frequent first.
func (r *Report) TopReasons() []ReasonCount {
	m := map[string][]string{}
	for _, x := range r.Results {
		if x.Status == Passed {
			continue
		}
		k := reasonClass(x.Status, x.Reason)
		m[k] = append(m[k], x.Name)
	}
	var out []ReasonCount
	for k, v := range m {
		out = append(out, ReasonCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Tests) != len(out[j].Tests) {
			return len(out[i].Tests) > len(out[j].Tests)
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// rulesIgnoredBreakdown counts the tests skipped for the rule engine and,
// among them, those whose other checks ran (and so passed: a failure would
// have failed the test).
func (r *Report) rulesIgnoredBreakdown() (skipped, withOther int) {
	for _, x := range r.Results {
		if x.Status != Skipped || !strings.HasPrefix(x.Reason, "needs rule engine") {
			continue
		}
		skipped++
		for _, c := range x.Checks {
			if c.Outcome == Pass {
				withOther++
				break
			}
		}
	}
	return skipped, withOther
}

// UntranslatedCounts counts how many tests could not honour each setting.
func (r *Report) UntranslatedCounts() []ReasonCount {
	m := map[string][]string{}
	for _, x := range r.Results {
		for _, u := range x.Untranslated {
			m[u] = append(m[u], x.Name)
		}
	}
	var out []ReasonCount
	for k, v := range m {
		out = append(out, ReasonCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Tests) != len(out[j].Tests) {
			return len(out[i].Tests) > len(out[j].Tests)
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// WriteTable writes one line per test (status, category, name, reason,
// notes), then the per-category breakdown, the top reasons and the
// summary line. width bounds the reason and notes columns (0 = 120).
func (r *Report) WriteTable(w io.Writer, width int) error {
	if width <= 0 {
		width = 120
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "STATUS\tCATEGORY\tTEST\tREASON / NOTES\n")
	for _, x := range r.Results {
		detail := x.Reason
		if n := x.Notes(); n != "" {
			if detail != "" {
				detail += " | "
			}
			detail += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Status, x.Category, x.Name, clip(detail, width))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nper category (claimed Suricata %s, detection %v):\n", r.Version, r.Detection)
	order, m := r.ByCategory()
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range order {
		name := c
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, m[c])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ntop reasons:\n")
	for _, rc := range r.TopReasons() {
		fmt.Fprintf(w, "  %3d  %s\n", len(rc.Tests), clip(rc.Reason, width))
	}
	if n, other := r.rulesIgnoredBreakdown(); n > 0 {
		fmt.Fprintf(w, "  (of the tests needing the rule engine, %d have non-alert checks, all passing)\n", other)
	}
	if u := r.UntranslatedCounts(); len(u) > 0 {
		fmt.Fprintf(w, "\nsettings not translated (tests affected):\n")
		for _, rc := range u {
			fmt.Fprintf(w, "  %3d  %s\n", len(rc.Tests), clip(rc.Reason, width))
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Totals())
	return err
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
