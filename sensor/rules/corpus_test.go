package rules

import (
	"fmt"
	"github.com/polder-nsm/polder/internal/corpus"
	"net/netip"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// etOpenEnabled is the number of enabled rules in the ET Open snapshot;
// Suricata 7.0.4 loads all of them.
const etOpenEnabled = 24827

func TestETOpenLoads(t *testing.T) {
	files := corpus.Glob(t, "rules/et-open-suricata-5.0-20240421/*.rules")
	set, errs := LoadFiles(files, LoadOptions{Vars: DefaultVars()})
	byKeyword := map[string]int{}
	for _, e := range errs {
		byKeyword[e.Keyword]++
		t.Errorf("refused sid %d keyword %q: %v", e.SID, e.Keyword, e)
	}
	t.Logf("ET Open: loaded %d, refused %d, commented %d (want %d loaded)", len(set.Rules), len(errs), set.Commented, etOpenEnabled)
	for k, n := range byKeyword {
		t.Logf("  refused by %q: %d", k, n)
	}
	// What the detection engine has to compile: buffers and match kinds.
	use := map[string]int{}
	for _, r := range set.Rules {
		for _, b := range r.Buffers {
			use["buffer "+b.Name]++
			for _, m := range b.Matches {
				use[fmt.Sprintf("match %T", m)]++
			}
			for _, x := range b.Transforms {
				use["transform "+x.Name]++
			}
		}
		for _, m := range r.Packet {
			if k, ok := m.(*Keyword); ok {
				use["packet "+k.Name]++
			} else if c, ok := m.(*Compare); ok {
				use["packet "+c.Name]++
			}
		}
	}
	keys := make([]string, 0, len(use))
	for k := range use {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %-40s %6d", k, use[k])
	}
	if len(set.Rules) != etOpenEnabled {
		t.Errorf("loaded %d rules, want %d", len(set.Rules), etOpenEnabled)
	}
}

// ignorePos compares ASTs without positions and the loader-set File.
var astOpts = cmp.Options{
	cmpopts.IgnoreTypes(Pos{}),
	cmpopts.IgnoreFields(Rule{}, "File"),
	cmpopts.IgnoreUnexported(Rule{}),
	cmpopts.EquateEmpty(),
	cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{}),
}

func TestETOpenRoundTrip(t *testing.T) {
	files := corpus.Glob(t, "rules/et-open-suricata-5.0-20240421/*.rules")
	set, _ := LoadFiles(files, LoadOptions{Vars: DefaultVars()})
	roundTrip(t, set.Rules)
}

func TestOtherCorporaRoundTrip(t *testing.T) {
	var all []*Rule
	for _, pattern := range []string{"rules/oisf-suricata-8.0.6/*.rules", "suricata-verify/*/*.rules"} {
		for _, f := range corpus.Glob(t, pattern) {
			set, _ := LoadFile(f, DefaultVars())
			all = append(all, set.Rules...)
		}
	}
	roundTrip(t, all)
}

// roundTrip checks print → parse gives an equal AST for every rule, and
// that every content survives EncodeContent → DecodeContent.
func roundTrip(t *testing.T, rules []*Rule) {
	t.Helper()
	bad := 0
	for _, r := range rules {
		text := r.String()
		r2, err := Parse(text)
		if err != nil {
			t.Errorf("sid %d: reparse printed rule: %v\n%s", r.SID, err, text)
			bad++
		} else if !equalAST(r, r2) {
			t.Errorf("sid %d: round trip changed the AST (-parsed +reparsed):\n%s", r.SID, cmp.Diff(r, r2, astOpts))
			bad++
		}
		for _, b := range r.Buffers {
			for _, m := range b.Matches {
				c, ok := m.(*Content)
				if !ok {
					continue
				}
				got, neg, err := DecodeContent(EncodeContent(c.Pattern, c.Negated))
				if err != nil || neg != c.Negated || string(got) != string(c.Pattern) {
					t.Errorf("sid %d: content %q does not survive EncodeContent: %q %v", r.SID, c.Pattern, got, err)
					bad++
				}
			}
		}
		if bad > 20 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("round trip: %d rules", len(rules))
}

func TestOISFEventRulesLoad(t *testing.T) {
	files := corpus.Glob(t, "rules/oisf-suricata-8.0.6/*.rules")
	set, errs := LoadFiles(files, LoadOptions{Vars: DefaultVars()})
	for _, e := range errs {
		t.Errorf("%v", e)
	}
	t.Logf("oisf event rules: loaded %d, refused %d", len(set.Rules), len(errs))
}

// verifyExpectedRefusals are suricata-verify tests whose rules Suricata
// must refuse, with the gist of its message.
var verifyExpectedRefusals = map[string]string{
	"test-bad-offset-distance-rule-1": "can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content.",
}

func TestSuricataVerifyRulesLoad(t *testing.T) {
	files := corpus.Glob(t, "suricata-verify/*/*.rules")
	loaded, refused := 0, 0
	for _, f := range files {
		// Each test is its own ruleset: sids repeat across tests.
		set, errs := LoadFile(f, DefaultVars())
		loaded += len(set.Rules)
		refused += len(errs)
		for _, e := range errs {
			if want := verifyExpectedRefusals[filepath.Base(filepath.Dir(f))]; want != "" && strings.Contains(e.Msg, want) {
				continue
			}
			t.Errorf("%v", e)
		}
	}
	t.Logf("suricata-verify: %d files, loaded %d, refused %d", len(files), loaded, refused)
}

// equalAST reports whether a and b are equal but for positions and File.
// It is the fast path of the round trip test; cmp.Diff explains failures.
func equalAST(a, b *Rule) bool {
	return reflect.DeepEqual(withoutPos(a), withoutPos(b))
}

// withoutPos returns a deep copy of r (via reparse of nothing: by hand)
// with every Pos zeroed.
func withoutPos(r *Rule) *Rule {
	c := *r
	c.File, c.Pos, c.hdrPos = "", Pos{}, [4]Pos{}
	c.Options = append([]Option(nil), r.Options...)
	for i := range c.Options {
		c.Options[i].Pos = Pos{}
	}
	c.Buffers = nil
	for _, b := range r.Buffers {
		nb := *b
		nb.Pos = Pos{}
		nb.Transforms = append([]Transform(nil), b.Transforms...)
		for i := range nb.Transforms {
			nb.Transforms[i].Pos = Pos{}
		}
		nb.Matches = nil
		for _, m := range b.Matches {
			nb.Matches = append(nb.Matches, matchWithoutPos(m))
		}
		c.Buffers = append(c.Buffers, &nb)
	}
	c.Packet = nil
	for _, m := range r.Packet {
		c.Packet = append(c.Packet, matchWithoutPos(m))
	}
	c.Bits = nil
	for _, b := range r.Bits {
		x := *b
		x.Pos = Pos{}
		c.Bits = append(c.Bits, &x)
	}
	c.Flowints = nil
	for _, b := range r.Flowints {
		x := *b
		x.Pos = Pos{}
		c.Flowints = append(c.Flowints, &x)
	}
	if r.Threshold != nil {
		x := *r.Threshold
		x.Pos = Pos{}
		c.Threshold = &x
	}
	if r.DetectionFilter != nil {
		x := *r.DetectionFilter
		x.Pos = Pos{}
		c.DetectionFilter = &x
	}
	if r.Tag != nil {
		x := *r.Tag
		x.Pos = Pos{}
		c.Tag = &x
	}
	return &c
}

func matchWithoutPos(m Match) Match {
	v := reflect.New(reflect.TypeOf(m).Elem())
	v.Elem().Set(reflect.ValueOf(m).Elem())
	v.Elem().FieldByName("Pos").Set(reflect.ValueOf(Pos{}))
	return v.Interface().(Match)
}
