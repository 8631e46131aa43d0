package rules

import (
	"github.com/polder-nsm/polder/internal/corpus"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadClassificationsAndReferences(t *testing.T) {
	dir := corpus.Path(t, "rules", "config")
	if _, err := os.Stat(dir); err != nil {
		corpus.Glob(t, "rules/config/classification.config") // fails when the corpus is missing
	}
	classes, errs := LoadClassifications(filepath.Join(dir, "classification.config"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if c := classes["trojan-activity"]; c.Priority != 1 || c.Description == "" {
		t.Errorf("trojan-activity: %+v", c)
	}
	refs, errs := LoadReferences(filepath.Join(dir, "reference.config"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if r := refs["cve"]; !strings.HasPrefix(r.URL, "https://cve.mitre.org") {
		t.Errorf("cve: %+v", r)
	}
	if _, errs := LoadThresholds(filepath.Join(dir, "threshold.config")); len(errs) > 0 {
		t.Fatal(errs)
	}
	// Every classtype ET Open uses is in its classification.config.
	files := corpus.Glob(t, "rules/et-open-suricata-5.0-20240421/*.rules")
	set, _ := LoadFiles(files, LoadOptions{Vars: DefaultVars()})
	etClasses, errs := LoadClassifications(corpus.Path(t, "rules", "et-open-suricata-5.0-20240421", "classification.config"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if errs := CheckClasstypes(set, etClasses); len(errs) > 0 {
		t.Errorf("%d rules with unknown classtype, first: %v", len(errs), errs[0])
	}
}

func TestBadConfigLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, errs := LoadClassifications(write("c.config", "# c\nconfig classification: a,A,1\nconfig classification: b,B\nconfig classification: c,C,x\nconfig classification: a,A2,2\nclassification: d,D,1\n"))
	wantLines(t, "classification", errs, map[int]string{3: "want name,description,priority", 4: "bad priority", 5: "given twice", 6: "want \"config classification"})
	_, errs = LoadReferences(write("r.config", "config reference: cve http://x/\nconfig reference: nourl\n"))
	wantLines(t, "reference", errs, map[int]string{2: "want system url"})
}

func TestThresholdConfig(t *testing.T) {
	src := `# comment
suppress gen_id 1, sig_id 2000001
suppress gen_id 1, sig_id 2000002, track by_src, ip 10.0.0.0/8
threshold gen_id 1, sig_id 2000003, type limit, track by_dst, count 1, seconds 60
event_filter gen_id 0, sig_id 0, type both, track by_src, count 5, seconds 10
rate_filter gen_id 1, sig_id 2000004, track by_rule, count 10, seconds 1, new_action drop, timeout 30
threshold gen_id 1, sig_id 2000005, type limit, track by_src, count 1
suppress gen_id 1, sig_id 2000006, track by_src
rate_filter gen_id 1, sig_id 2000007, track by_rule, count 10, seconds 1, new_action explode, timeout 30
supress gen_id 1, sig_id 1
threshold gen_id 1, sig_id x, type limit, track by_src, count 1, seconds 1
suppress gen_id 1, sig_id 2000009, track by_src, ip 300.0.0.1
threshold gen_id 1, sig_id 99, type limit, track by_src, count 1, seconds 1
suppress gen_id 1, sig_id 2000010, track by_either, ip [10.0.0.0/8, ![10.0.0.1, 10.0.0.2]]
suppress gen_id 1, sig_id 2000011, track by_src, ip [10.0.0.1, 10.0.0.2
`
	entries, errs := ReadThresholds(strings.NewReader(src), "threshold.config")
	wantLines(t, "threshold", errs, map[int]string{
		7: "threshold: missing seconds", 8: "track and ip go together", 9: "bad new_action", 10: "unknown command \"supress\"",
		11: "bad sig_id", 12: "bad address", 15: "suppress:",
	})
	if len(entries) != 7 {
		t.Fatalf("want 7 good entries, got %d: %+v", len(entries), entries)
	}
	if e := entries[6]; e.SID != 2000010 || e.Track != "by_either" || e.IP != "[10.0.0.0/8, ![10.0.0.1, 10.0.0.2]]" {
		t.Errorf("suppress with an ip list: %+v", e)
	}
	if e := entries[4]; e.Kind != ThresholdRateFilter || e.NewAction != "drop" || e.Timeout != 30 || e.Track != "by_rule" {
		t.Errorf("rate_filter: %+v", e)
	}
	s := NewSet()
	s.Load(strings.NewReader("alert tcp any any -> any any (sid:2000001;)\nalert tcp any any -> any any (sid:2000002;)\n"), "r", LoadOptions{})
	unknown := CheckThresholdSIDs(entries, s, "threshold.config")
	var sids []uint32
	for _, e := range unknown {
		sids = append(sids, e.SID)
	}
	if len(sids) != 4 || sids[0] != 2000003 || sids[1] != 2000004 || sids[2] != 99 || sids[3] != 2000010 {
		t.Errorf("unknown sids %v, want [2000003 2000004 99 2000010]", sids)
	}
	if e := unknown[0]; e.Line != 4 || e.Keyword != "threshold" || !strings.Contains(e.Msg, "no loaded rule has gid 1 sid 2000003") {
		t.Errorf("got %v", e)
	}
}

// wantLines checks that errs has exactly one error per line of want, each
// containing the given text.
func wantLines(t *testing.T, what string, errs ErrorList, want map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, e := range errs {
		got[e.Line] = e.Error()
	}
	for line, msg := range want {
		if !strings.Contains(got[line], msg) {
			t.Errorf("%s line %d: got %q, want an error containing %q", what, line, got[line], msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d errors, want %d: %v", what, len(errs), len(want), errs)
	}
}
