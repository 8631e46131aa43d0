package oracle

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Count is an agreement tally: Both values seen by both sides, Either
// values seen by at least one.
type Count struct {
	Both, Either int
}

// Ratio is Both/Either, 1 when neither side saw anything.
func (c Count) Ratio() float64 {
	if c.Either == 0 {
		return 1
	}
	return float64(c.Both) / float64(c.Either)
}

func (c Count) add(d Count) Count { return Count{c.Both + d.Both, c.Either + d.Either} }

// Result compares one pcap's Sets. Side A is the sensor (EVE), side B the
// oracle (tshark) by the convention of Report; Compare itself is symmetric.
type Result struct {
	Count [numKinds]Count
	// OnlyA and OnlyB list, per kind and sorted, the values one side had.
	OnlyA, OnlyB [numKinds][]string
	// DroppedA and DroppedB count the distinct values each side dropped
	// as non-printable or placeholders (see Sets.Dropped).
	DroppedA, DroppedB [numKinds]int
}

// Total sums the counts over all kinds.
func (r Result) Total() Count {
	var c Count
	for _, k := range Kinds {
		c = c.add(r.Count[k])
	}
	return c
}

// Compare compares a and b kind by kind.
func Compare(a, b Sets) Result {
	var r Result
	for _, k := range Kinds {
		sa, sb := a.Values[k], b.Values[k]
		var c Count
		for v := range sa {
			c.Either++
			if sb.Has(v) {
				c.Both++
			} else {
				r.OnlyA[k] = append(r.OnlyA[k], v)
			}
		}
		for v := range sb {
			if !sa.Has(v) {
				c.Either++
				r.OnlyB[k] = append(r.OnlyB[k], v)
			}
		}
		sort.Strings(r.OnlyA[k])
		sort.Strings(r.OnlyB[k])
		r.Count[k] = c
	}
	for _, k := range Kinds {
		r.DroppedA[k], r.DroppedB[k] = len(a.Dropped[k]), len(b.Dropped[k])
	}
	return r
}

// Report aggregates per-file Results. Side A is named SensorName (the EVE
// under test), side B OracleName. Not safe for concurrent Add.
type Report struct {
	SensorName, OracleName string // default "sensor" and "tshark"
	Files                  []FileResult
	// Errors lists files that could not be compared fully, with the reason.
	Errors []FileError
}

// FileResult is one file's Result.
type FileResult struct {
	File string
	Result
}

// FileError is a file the harness had trouble with.
type FileError struct {
	File string
	Err  error
}

// Add appends one file's result.
func (r *Report) Add(file string, res Result) {
	r.Files = append(r.Files, FileResult{file, res})
}

// AddError records a problem with file (the file may still have a result).
func (r *Report) AddError(file string, err error) {
	r.Errors = append(r.Errors, FileError{file, err})
}

// Kind returns the corpus-wide count for k.
func (r *Report) Kind(k Kind) Count {
	var c Count
	for _, f := range r.Files {
		c = c.add(f.Count[k])
	}
	return c
}

// Overall returns the corpus-wide count over all kinds.
func (r *Report) Overall() Count {
	var c Count
	for _, k := range Kinds {
		c = c.add(r.Kind(k))
	}
	return c
}

// Disagreement is one value only one side had.
type Disagreement struct {
	File   string
	Kind   Kind
	Value  string
	Side   string // the side that had it
	Reason string
}

// Disagreements lists every value only one side had, in file, kind, value
// order, each with a reason classifying it as far as the data allows.
func (r *Report) Disagreements() []Disagreement {
	a, b := r.names()
	var out []Disagreement
	for _, f := range r.Files {
		for _, k := range Kinds {
			for _, v := range f.OnlyA[k] {
				out = append(out, Disagreement{f.File, k, v, a, reason(a, k, v, f.OnlyB[k])})
			}
			for _, v := range f.OnlyB[k] {
				out = append(out, Disagreement{f.File, k, v, b, reason(b, k, v, f.OnlyA[k])})
			}
		}
	}
	return out
}

// reason classifies a value only side had, given the values only the
// other side had in the same file and kind.
func reason(side string, k Kind, v string, other []string) string {
	r := side + " only"
	switch k {
	case HTTP:
		host, uri := SplitHTTP(v)
		for _, o := range other {
			oh, ou := SplitHTTP(o)
			switch {
			case ou == uri:
				return r + "; same URI, host differs"
			case oh == host && (strings.HasPrefix(ou, uri) || strings.HasPrefix(uri, ou)):
				return r + "; same host, URI truncated on one side"
			}
		}
		if host == "" {
			return r + "; no host"
		}
	default:
		for _, o := range other {
			if strings.HasPrefix(o, v) || strings.HasPrefix(v, o) {
				return r + "; truncated on one side"
			}
		}
	}
	if len(other) == 0 {
		return r + "; other side has none of this kind here"
	}
	return r
}

func (r *Report) names() (a, b string) {
	a, b = r.SensorName, r.OracleName
	if a == "" {
		a = "sensor"
	}
	if b == "" {
		b = "tshark"
	}
	return a, b
}

// Print writes the overall and per-kind agreement, the values dropped as
// non-printable, every file error and every disagreement.
func (r *Report) Print(w io.Writer) {
	a, b := r.names()
	o := r.Overall()
	fmt.Fprintf(w, "agreement %s vs %s over %d files: %.1f%% (%d/%d)\n", a, b, len(r.Files), 100*o.Ratio(), o.Both, o.Either)
	var npA, npB [numKinds]int
	for _, f := range r.Files {
		for _, k := range Kinds {
			npA[k] += f.DroppedA[k]
			npB[k] += f.DroppedB[k]
		}
	}
	for _, k := range Kinds {
		c := r.Kind(k)
		onlyA, onlyB := 0, 0
		for _, f := range r.Files {
			onlyA += len(f.OnlyA[k])
			onlyB += len(f.OnlyB[k])
		}
		fmt.Fprintf(w, "  %-4s %5.1f%% (%d/%d)  %s only %d, %s only %d, dropped (non-printable/placeholder) %s %d, %s %d\n",
			k, 100*c.Ratio(), c.Both, c.Either, a, onlyA, b, onlyB, a, npA[k], b, npB[k])
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nfile errors (%d):\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %s: %v\n", e.File, e.Err)
		}
	}
	ds := r.Disagreements()
	if len(ds) == 0 {
		return
	}
	fmt.Fprintf(w, "\ndisagreements (%d):\n", len(ds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tkind\treason\tvalue")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%q\n", d.File, d.Kind, d.Reason, d.Value)
	}
	tw.Flush()
}
