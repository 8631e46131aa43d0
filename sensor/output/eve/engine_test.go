package eve

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
)

func TestAppendEngine(t *testing.T) {
	got := string(AppendEngine(nil, &Engine{Time: t0, Level: slog.LevelError, Module: "detect",
		Message: "can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content."}))
	want := `{"timestamp":"2016-01-06T21:58:35.652043+0000","log_level":"Error","event_type":"engine","engine":{"message":"can't use a relative keyword like within/distance with a absolute relative keyword like depth/offset for the same content.","module":"detect"}}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = string(AppendEngine(nil, &Engine{Time: t0, Level: LevelNotice, Thread: "W#01", Message: "m"}))
	want = `{"timestamp":"2016-01-06T21:58:35.652043+0000","log_level":"Notice","event_type":"engine","engine":{"message":"m","thread_name":"W#01"}}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEngineSchema(t *testing.T) {
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range hostile {
		line := AppendEngine(nil, &Engine{Time: t0, Level: slog.LevelWarn, Module: s, Thread: s, Message: s})
		if err := v.Validate(line); err != nil {
			t.Errorf("%v\n%s", err, line)
		}
		var ev struct {
			Engine struct{ Message string } `json:"engine"`
		}
		if err := json.Unmarshal(line, &ev); err != nil || ev.Engine.Message != suricataString(s) {
			t.Errorf("message %q came back as %q (%v)", s, ev.Engine.Message, err)
		}
	}
}

// suricataString is how Suricata renders s in a JSON string: invalid
// UTF-8 bytes become \u00XX escapes, i.e. U+00XX after decoding.
func suricataString(s string) string {
	var v string
	if err := json.Unmarshal(AppendString(nil, s), &v); err != nil {
		panic(err)
	}
	return v
}

type lines []string

func (l *lines) Write(line []byte) error { *l = append(*l, string(line)); return nil }

func TestEngineHandler(t *testing.T) {
	var out lines
	log := slog.New(NewEngineHandler(&out, LevelNotice))
	log.Info("too chatty")
	log.Warn("1 rule files specified, but no rules were loaded!", "module", "detect")
	log.With("module", "detect").Error("error parsing signature \"alert tcp any any -> any any (sid:1;)\" from file a.rules at line 3")
	log.Log(t.Context(), LevelNotice, "rules loaded", "files", 2, "took", "1 s", "empty", "", "err", errors.New("x=y"))
	log.WithGroup("g").With("module", "not the module").Error("grouped", slog.Group("h", "k", 1))
	log.Error("quotes", "q", `a"b`, "nl", "a\nb")

	want := []struct{ level, module, msg string }{
		{"Warning", "detect", "1 rule files specified, but no rules were loaded!"},
		{"Error", "detect", `error parsing signature "alert tcp any any -> any any (sid:1;)" from file a.rules at line 3`},
		{"Notice", "", `rules loaded files=2 took="1 s" empty="" err="x=y"`},
		{"Error", "", "grouped g.module=\"not the module\" g.h.k=1"},
		{"Error", "", `quotes q="a\"b" nl="a\nb"`},
	}
	if len(out) != len(want) {
		t.Fatalf("got %d events, want %d:\n%s", len(out), len(want), strings.Join(out, ""))
	}
	for i, w := range want {
		var ev struct {
			Timestamp string `json:"timestamp"`
			LogLevel  string `json:"log_level"`
			EventType string `json:"event_type"`
			Engine    struct {
				Message, Module string
			} `json:"engine"`
		}
		if err := json.Unmarshal([]byte(out[i]), &ev); err != nil {
			t.Fatalf("%v: %s", err, out[i])
		}
		if ev.EventType != "engine" || ev.Timestamp == "" || ev.LogLevel != w.level || ev.Engine.Module != w.module || ev.Engine.Message != w.msg {
			t.Errorf("event %d:\n got %s want level %s module %q message %q", i, out[i], w.level, w.module, w.msg)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
	}{{"error", slog.LevelError}, {"Warning", slog.LevelWarn}, {" notice ", LevelNotice}, {"INFO", slog.LevelInfo}, {"config", slog.LevelDebug}, {"debug", slog.LevelDebug}} {
		got, err := ParseLevel(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if tc.want != slog.LevelDebug && !strings.EqualFold(LevelName(got), strings.TrimSpace(tc.in)) {
			t.Errorf("LevelName(%v) = %q, want %q", got, LevelName(got), tc.in)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud): no error")
	}
}
