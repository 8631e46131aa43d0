package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/internal/corpus"
)

// run executes the app in-process and returns its error and combined output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := New()
	app.Writer, app.ErrWriter = &out, &out
	old := stderr
	stderr = &out
	defer func() { stderr = old }()
	err := app.Run(append([]string{"polder"}, args...))
	return out.String(), err
}

// TestHelpEverywhere: every command and subcommand answers --help.
func TestHelpEverywhere(t *testing.T) {
	var walk func(prefix []string, cmds []*ucli.Command)
	walk = func(prefix []string, cmds []*ucli.Command) {
		for _, c := range cmds {
			args := append(append([]string{}, prefix...), c.Name)
			out, err := run(t, append(args, "--help")...)
			if err != nil {
				t.Errorf("%v --help: %v", args, err)
			}
			if !strings.Contains(out, c.Usage) {
				t.Errorf("%v --help does not show the usage %q:\n%s", args, c.Usage, out)
			}
			walk(args, c.Subcommands)
		}
	}
	walk(nil, New().Commands)
}

func TestSensorReadWritesEVE(t *testing.T) {
	dir := t.TempDir()
	pcap := corpus.Path(t, "pcaps", "chrissanders-packets", "http_google.pcapng")
	if _, err := run(t, "sensor", "read", "-q", "-l", dir, pcap); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event_type":"http"`, `"hostname":"www.google.com"`, `"event_type":"flow"`, `"event_type":"stats"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("eve.json lacks %s", want)
		}
	}
}

func TestSensorReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "sensor.yaml")
	if err := os.WriteFile(bad, []byte("flow:\n  timeouts:\n    tcp:\n      established: ten\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.pcap")
	full, err := os.ReadFile(corpus.Path(t, "pcaps", "chrissanders-packets", "http_google.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trunc, full[:len(full)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	// A classic pcap of link type 147 (LINKTYPE_USER0) with one record.
	user0 := filepath.Join(dir, "user0.pcap")
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 147, 0, 0, 0}
	rec := []byte{1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}
	if err := os.WriteFile(user0, append(hdr, rec...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool     // exit status 2
		want  []string // substrings of the error
	}{
		{"no file", []string{"sensor", "read"}, true, []string{"want exactly one capture file"}},
		{"flags after the file", []string{"sensor", "read", trunc, "-l", dir}, true, []string{"flags go before the capture file", "sensor read -l " + dir + " " + trunc}},
		{"missing file", []string{"sensor", "read", "-q", "-l", dir, filepath.Join(dir, "nope.pcap")}, false, []string{"nope.pcap", "no such file"}},
		{"bad config", []string{"sensor", "read", "-q", "-l", dir, "--config", bad, trunc}, true, []string{"sensor.yaml:4", "flow.timeouts.tcp.established"}},
		{"truncated pcap", []string{"sensor", "read", "-q", "-l", dir, trunc}, false, []string{"offset", "trunc.pcap"}},
		{"not a pcap", []string{"sensor", "read", "-q", "-l", dir, bad}, false, []string{"sensor.yaml"}},
		{"unknown link type", []string{"sensor", "read", "-q", "-l", dir, user0}, false, []string{"unsupported link type 147"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			var ue *UsageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error = %v, want %v (%v)", got, tt.usage, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSensorRunMissingInterface(t *testing.T) {
	_, err := run(t, "sensor", "run", "-i", "polder-no-such0", "-l", t.TempDir())
	if err == nil {
		t.Fatal("no error for a missing interface")
	}
	if !strings.Contains(err.Error(), "polder-no-such0") || !strings.Contains(err.Error(), "lo") {
		t.Errorf("error should name the interface and list existing ones: %v", err)
	}
}
