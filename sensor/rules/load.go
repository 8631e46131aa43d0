package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Set is a loaded ruleset: the rules that parsed, in load order, indexed
// by gid:sid. A Set is not safe for concurrent mutation; once loaded it may
// be read from any number of goroutines.
type Set struct {
	Rules []*Rule
	// Commented counts commented-out rules ("# alert ...") seen while
	// loading; they are neither loaded nor errors.
	Commented int
	index     map[uint64]*Rule
	checked   *varChecker // memo of variables known good, per Load call
}

// vars returns the variable checker of the current Load.
func (s *Set) vars(v Vars) *varChecker {
	if s.checked == nil {
		s.checked = v.checker()
	}
	return s.checked
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{index: map[uint64]*Rule{}} }

func sidKey(gid, sid uint32) uint64 { return uint64(gid)<<32 | uint64(sid) }

// Lookup returns the rule with gid:sid, or nil.
func (s *Set) Lookup(gid, sid uint32) *Rule { return s.index[sidKey(gid, sid)] }

// LoadOptions control loading. The zero value defines no variables, so
// every $VAR is refused; use DefaultVars or the sensor config's vars.
type LoadOptions struct {
	Vars Vars
	// CompilePCRE, when not nil, is called for every pcre of a rule that
	// otherwise parsed; an error refuses the rule, naming the pcre. It may
	// set PCRE.Compiled. This is the hook for a real PCRE2 binding.
	CompilePCRE func(*PCRE) error
	// Classifications, when not nil, refuses rules whose classtype it
	// lacks, as Suricata does with its classification.config.
	Classifications map[string]Classification
}

// LoadFile loads the rules of one file with vars; see LoadFiles.
func LoadFile(path string, vars Vars) (*Set, ErrorList) {
	return LoadFiles([]string{path}, LoadOptions{Vars: vars})
}

// LoadFiles loads rule files in order into one Set. Every bad rule, and
// every file that can't be read, is reported in the ErrorList; the good
// rules are kept. A gid:sid seen before refuses the later rule.
func LoadFiles(paths []string, opts LoadOptions) (*Set, ErrorList) {
	s := NewSet()
	var errs ErrorList
	for _, p := range paths {
		errs = append(errs, s.LoadFile(p, opts)...)
	}
	return s, errs
}

// LoadFile adds the rules of the file at path to s.
func (s *Set) LoadFile(path string, opts LoadOptions) ErrorList {
	f, err := os.Open(path)
	if err != nil {
		return ErrorList{{File: path, Msg: fmt.Sprintf("open rule file: %v", err)}}
	}
	defer f.Close()
	return s.Load(f, path, opts)
}

// Load adds the rules read from r to s; name is used as Error.File and
// Rule.File. Lines ending in '\' continue on the next line; lines starting
// with '#' are comments.
func (s *Set) Load(r io.Reader, name string, opts LoadOptions) ErrorList {
	s.checked = nil
	defer func() { s.checked = nil }()
	var errs ErrorList
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxRuleLen+1)
	var (
		text   strings.Builder
		lm     lineMap
		lineNo int
	)
	flush := func() {
		t := text.String()
		text.Reset()
		m := lm
		lm = nil
		if strings.TrimSpace(t) == "" {
			return
		}
		if e := s.add(t, m, name, opts); e != nil {
			errs = append(errs, e)
		}
	}
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if text.Len() == 0 {
			trimmed := bytes.TrimLeft(line, " \t")
			if len(trimmed) == 0 {
				continue
			}
			if trimmed[0] == '#' {
				if looksLikeRule(trimmed[1:]) {
					s.Commented++
				}
				continue
			}
		}
		cont := bytes.HasSuffix(bytes.TrimRight(line, " \t"), []byte(`\`))
		if cont {
			line = bytes.TrimRight(line, " \t")
			line = line[:len(line)-1]
		} else if text.Len() == 0 {
			// The common case: a rule on one line.
			lm = nil
			if e := s.add(string(line), lineMap{{0, lineNo, 1}}, name, opts); e != nil {
				errs = append(errs, e)
			}
			continue
		}
		lm = append(lm, seg{off: text.Len(), line: lineNo, col: 1})
		text.Write(line)
		if text.Len() > maxRuleLen {
			errs = append(errs, &Error{File: name, Line: lm[0].line, Col: 1, Msg: fmt.Sprintf("rule longer than %d bytes", maxRuleLen)})
			text.Reset()
			lm = nil
			continue
		}
		if !cont {
			flush()
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &Error{File: name, Line: lineNo + 1, Msg: fmt.Sprintf("read rule file: %v", err)})
	}
	if text.Len() > 0 {
		flush()
	}
	return errs
}

// looksLikeRule reports whether a comment's text starts like a rule.
func looksLikeRule(b []byte) bool {
	b = bytes.TrimLeft(b, " \t#")
	w, rest, ok := bytes.Cut(b, []byte(" "))
	if !ok || len(w) > 10 {
		return false
	}
	if _, isAction := parseAction(string(w)); !isAction {
		return false
	}
	return bytes.IndexByte(rest, '(') >= 0 && bytes.Contains(rest, []byte("sid"))
}

// add parses one logical rule and adds it to s, or returns why not.
func (s *Set) add(text string, lm lineMap, file string, opts LoadOptions) *Error {
	r, e := parseRule(text, lm)
	if e != nil {
		e.File, e.Text = file, text
		return e
	}
	r.File = file
	fail := func(pos Pos, kw, format string, a ...any) *Error {
		return &Error{File: file, Line: pos.Line, Col: pos.Col, SID: r.SID, Keyword: kw, Msg: fmt.Sprintf(format, a...), Text: text}
	}
	if r.Action != ActionConfig || r.Protocol != "" {
		vc := s.vars(opts.Vars)
		for i, c := range []struct {
			what string
			err  error
		}{
			{"source address", vc.addr(r.Src)},
			{"source port", vc.port(r.SrcPort)},
			{"destination address", vc.addr(r.Dst)},
			{"destination port", vc.port(r.DstPort)},
		} {
			if c.err != nil {
				return fail(r.hdrPos[i], "", "%s: %v", c.what, c.err)
			}
		}
	}
	if opts.Classifications != nil && r.Classtype != "" {
		if _, ok := opts.Classifications[r.Classtype]; !ok {
			return fail(r.optionPos("classtype"), "classtype", "unknown classtype %q (not in classification.config)", r.Classtype)
		}
	}
	if opts.CompilePCRE != nil {
		for _, b := range r.Buffers {
			for _, m := range b.Matches {
				if pc, ok := m.(*PCRE); ok {
					if err := opts.CompilePCRE(pc); err != nil {
						return fail(pc.Pos, "pcre", "compile: %v", err)
					}
				}
			}
		}
	}
	if r.SID != 0 {
		k := sidKey(r.GID, r.SID)
		if old := s.index[k]; old != nil {
			return fail(r.optionPos("sid"), "sid", "duplicate sid %d:%d, first defined at %s:%d", r.GID, r.SID, old.File, old.Pos.Line)
		}
		if s.index == nil {
			s.index = map[uint64]*Rule{}
		}
		s.index[k] = r
	}
	s.Rules = append(s.Rules, r)
	return nil
}

// Result is the verdict on one rule, as "suricata -T" would give it.
type Result struct {
	File  string
	Line  int    // first line of the rule; 0 for a file that could not be read
	SID   uint32 // 0 when unknown
	Valid bool
	Err   *Error // nil when Valid
	// Warnings are AnalyzeRule's findings on a valid rule: it loads but
	// can never match.
	Warnings []*Warning
}

// Check loads paths like LoadFiles and returns one Result per rule (and
// per unreadable file), in file order and line order within a file, with
// AnalyzeRule's warnings on the valid ones.
func Check(paths []string, opts LoadOptions) (*Set, []Result) {
	s := NewSet()
	var out []Result
	for _, p := range paths {
		first := len(s.Rules)
		errs := s.LoadFile(p, opts)
		res := make([]Result, 0, len(s.Rules)-first+len(errs))
		for _, r := range s.Rules[first:] {
			res = append(res, Result{File: p, Line: r.Pos.Line, SID: r.SID, Valid: true, Warnings: AnalyzeRule(r)})
		}
		for _, e := range errs {
			res = append(res, Result{File: p, Line: e.Line, SID: e.SID, Err: e})
		}
		sort.SliceStable(res, func(i, j int) bool { return res[i].Line < res[j].Line })
		out = append(out, res...)
	}
	return s, out
}

// optionPos returns the position of r's last option called name, or the
// rule's position.
func (r *Rule) optionPos(name string) Pos {
	pos := r.Pos
	for _, o := range r.Options {
		if o.Name == name {
			pos = o.Pos
		}
	}
	return pos
}
