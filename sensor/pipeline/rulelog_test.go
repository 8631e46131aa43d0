package pipeline

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
)

const (
	mixedRule = `alert udp any any -> any any (msg:"mixed"; content:"AA"; content:"BB"; offset:20; distance:5; sid:1;)`
	neverRule = `alert udp any any -> any any (msg:"never"; dsize:2; content:"abcd"; sid:2;)`
	goodRule  = `alert udp any any -> any 53 (msg:"dns"; content:"|01 00|"; sid:3;)`
	mixedMsg  = "can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content."
)

// engineEvent is an engine EVE line.
type engineEvent struct {
	Timestamp string `json:"timestamp"`
	LogLevel  string `json:"log_level"`
	EventType string `json:"event_type"`
	Engine    struct {
		Message string `json:"message"`
		Module  string `json:"module"`
	} `json:"engine"`
}

// ruleFile writes rules to a temporary rule file and returns its path.
func ruleFile(t *testing.T, rules ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.rules")
	if err := os.WriteFile(p, []byte(strings.Join(rules, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRuleLoadLog: a ruleset load is logged in Suricata's words, all
// with module detect, and the analyzer's warnings are logged with them.
func TestRuleLoadLog(t *testing.T) {
	f := ruleFile(t, mixedRule, neverRule, goodRule)
	res, err := LoadRules(RuleConfig{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res.Log(slog.New(slog.NewJSONHandler(&buf, nil)))
	type rec struct {
		Level, Msg, Module string
	}
	var got []rec
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got = append(got, r)
	}
	want := []rec{
		{"ERROR", mixedMsg, "detect"},
		{"ERROR", `error parsing signature "` + mixedRule + `" from file ` + f + " at line 1", "detect"},
		{"WARN", f + ":2:44: sid 2: dsize: signature can't match as required content length 4 exceeds dsize value 2", "detect"},
	}
	if len(got) != len(want)+1 {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want)+1, buf.String())
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
	if last := got[len(got)-1]; last.Level != "INFO" || last.Module != "detect" ||
		!strings.HasPrefix(last.Msg, "1 rule files processed. 2 rules successfully loaded, 1 rules failed, 0 inactive, 1 can't match (compiled in ") {
		t.Errorf("totals: %+v", last)
	}

	// Nothing loaded: Suricata's warning instead of the totals.
	res, err = LoadRules(RuleConfig{Files: []string{ruleFile(t, mixedRule)}})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	res.Log(slog.New(slog.NewTextHandler(&buf, nil)))
	if !strings.Contains(buf.String(), `level=WARN msg="1 rule files specified, but no rules were loaded!" module=detect`) {
		t.Errorf("no rules loaded:\n%s", buf.String())
	}
}

// TestEngineEvents: with engine events on, a replay's rule load messages
// are EVE events (schema-valid), beside the traffic's; with them off, EVE
// has none.
func TestEngineEvents(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	rules := ruleFile(t, mixedRule, neverRule, goodRule)
	tr := newTraffic(t)
	tr.udp("10.0.0.1:5353", "10.0.0.2:53", "\x12\x34\x01\x00")
	for _, on := range []bool{true, false} {
		dir := t.TempDir()
		pcap := tr.write(filepath.Join(dir, "in.pcap"))
		cfg := testConfig()
		cfg.EVE.Stats = false
		cfg.EVE.Engine = on
		cfg.EVE.EngineLevel = slog.LevelWarn
		cfg.Rules.Files = []string{rules}
		var log bytes.Buffer
		if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "eve.json"))
		if err != nil {
			t.Fatal(err)
		}
		var engine []engineEvent
		alerts := 0
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			var ev engineEvent
			if err := json.Unmarshal(l, &ev); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			switch ev.EventType {
			case "engine":
				if err := v.Validate(l); err != nil {
					t.Errorf("%v\n%s", err, l)
				}
				engine = append(engine, ev)
			case "alert":
				alerts++
			}
		}
		if alerts != 1 {
			t.Errorf("engine events %v: %d alerts, want 1 (sid 3)", on, alerts)
		}
		if !strings.Contains(log.String(), mixedMsg) {
			t.Errorf("engine events %v: the sensor log lacks the refusal:\n%s", on, log.String())
		}
		if !on {
			if len(engine) != 0 {
				t.Errorf("engine events off: got %d", len(engine))
			}
			continue
		}
		// Warning and up: the refusal (2 records) and the warning; the
		// info totals are below the level.
		if len(engine) != 3 || engine[0].Engine.Message != mixedMsg || engine[0].LogLevel != "Error" ||
			!strings.HasPrefix(engine[1].Engine.Message, `error parsing signature "alert udp`) ||
			engine[2].LogLevel != "Warning" || !strings.Contains(engine[2].Engine.Message, "exceeds dsize value 2") {
			t.Errorf("engine events: %+v", engine)
		}
		for _, e := range engine {
			if e.Engine.Module != "detect" || e.Timestamp == "" {
				t.Errorf("engine event %+v", e)
			}
		}
	}
}

// TestAnalyzeRules: the rules-only run logs like a sensor start and writes
// the engine events to EVE when they are on.
func TestAnalyzeRules(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.EVE.Engine = true
	cfg.Rules.Files = []string{ruleFile(t, mixedRule, goodRule)}
	res, err := AnalyzeRules(Options{Config: cfg, LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Keyword != "distance" || res.Errors[0].Msg != mixedMsg || len(res.Warnings) != 0 {
		t.Errorf("errors %v, warnings %v", res.Errors, res.Warnings)
	}
	data, err := os.ReadFile(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte(`"event_type":"engine"`)); n != 3 || bytes.Count(data, []byte("\n")) != 3 {
		t.Errorf("want 3 engine events and nothing else:\n%s", data)
	}

	cfg.EVE.Engine = false
	dir = t.TempDir()
	if _, err := AnalyzeRules(Options{Config: cfg, LogDir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "eve.json")); !os.IsNotExist(err) {
		t.Errorf("engine events off: eve.json written (%v)", err)
	}
	cfg.Rules.Files = []string{filepath.Join(dir, "missing.rules")}
	if _, err := AnalyzeRules(Options{Config: cfg, LogDir: dir}); err == nil {
		t.Error("missing rule file: no error")
	}
}
