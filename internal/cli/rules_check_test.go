package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rules")
	bad := filepath.Join(dir, "bad.rules")
	if err := os.WriteFile(good, []byte("# header\nalert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"a\"; http.uri; content:\"/x\"; sid:1; rev:1;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("alert tcp any any -> any any (msg:\"b\"; nocase; sid:2;)\nalert tcp any any -> any any (msg:\"c\"; sid:3;)\nalert tcp any any -> any any (msg:\"dup\"; sid:1;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := run(t, "rules", "check", good)
	if err != nil || !strings.Contains(out, "1 rules loaded, 0 invalid") {
		t.Errorf("good file: err %v, output:\n%s", err, out)
	}

	out, err = run(t, "rules", "check", "--json", good, bad)
	var ue *UsageError
	if err == nil || errors.As(err, &ue) {
		t.Errorf("invalid rules: want a runtime error (exit 1), got %v", err)
	}
	type line struct {
		File  string `json:"file"`
		Line  int    `json:"line"`
		SID   uint32 `json:"sid"`
		Valid bool   `json:"valid"`
		Error string `json:"error"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		got = append(got, x)
	}
	want := []line{
		{good, 2, 1, true, ""},
		{bad, 1, 2, false, bad + ":1:40: sid 2: nocase: no content before this modifier"},
		{bad, 2, 3, true, ""},
		{bad, 3, 1, false, bad + ":3:42: sid 1: sid: duplicate sid 1:1, first defined at " + good + ":2"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}

	classes := filepath.Join(dir, "classification.config")
	if err := os.WriteFile(classes, []byte("config classification: trojan-activity,A Network Trojan was detected,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ct := filepath.Join(dir, "ct.rules")
	if err := os.WriteFile(ct, []byte("alert tcp any any -> any any (classtype:trojan-activity; sid:1;)\nalert tcp any any -> any any (classtype:nope; sid:2;)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "rules", "check", "--classification", classes, ct)
	if err == nil || !strings.Contains(out, `ct.rules:2:31: sid 2: classtype: unknown classtype "nope"`) || !strings.Contains(out, "1 rules loaded, 1 invalid") {
		t.Errorf("classtype check: err %v, output:\n%s", err, out)
	}

	if _, err := run(t, "rules", "check"); !errors.As(err, &ue) {
		t.Errorf("no files: want a usage error, got %v", err)
	}
	out, err = run(t, "rules", "check", filepath.Join(dir, "missing.rules"))
	if err == nil || !strings.Contains(out, "open rule file") {
		t.Errorf("missing file: err %v, output %s", err, out)
	}
}

func TestRulesCheckWarnings(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "size.rules")
	if err := os.WriteFile(f, []byte(`alert http any any -> any any (msg:"never"; http.uri; content:"/index.php"; bsize:4; sid:1;)
alert http any any -> any any (msg:"fits"; http.uri; content:"/index.php"; bsize:10; sid:2;)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	want := f + ":1:77: sid 1: bsize: signature can't match as required content length 10 exceeds bsize value: 4"
	out, err := run(t, "rules", "check", f)
	if err != nil || !strings.Contains(out, "warning: "+want+"\n") || !strings.Contains(out, "2 rules loaded, 0 invalid, 0 commented out, 1 with warnings") {
		t.Errorf("warnings are not failures: err %v, output:\n%s", err, out)
	}
	out, err = run(t, "rules", "check", "--strict", f)
	var ue *UsageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "1 rules can never match") {
		t.Errorf("--strict: want a runtime error (exit 1), got %v\n%s", err, out)
	}

	out, err = run(t, "rules", "check", "--json", f)
	if err != nil {
		t.Fatal(err)
	}
	type warning struct {
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Keyword string `json:"keyword"`
		Message string `json:"message"`
	}
	var got []struct {
		SID      uint32    `json:"sid"`
		Valid    bool      `json:"valid"`
		Warnings []warning `json:"warnings"`
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var x struct {
			SID      uint32    `json:"sid"`
			Valid    bool      `json:"valid"`
			Warnings []warning `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		got = append(got, x)
	}
	if len(got) != 2 || !got[0].Valid || len(got[0].Warnings) != 1 || len(got[1].Warnings) != 0 ||
		got[0].Warnings[0] != (warning{1, 77, "bsize", "signature can't match as required content length 10 exceeds bsize value: 4"}) {
		t.Errorf("--json: %+v\n%s", got, out)
	}
	if strings.Contains(strings.Split(out, "\n")[1], "warnings") {
		t.Errorf("a rule without warnings has a warnings key: %s", out)
	}
}
