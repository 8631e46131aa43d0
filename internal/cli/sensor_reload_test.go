package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSensor answers the control socket in dir with canned replies, one
// per command name, as a running sensor would.
func fakeSensor(t *testing.T, dir string, replies map[string]string) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, controlSocketName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					var req struct{ Command string }
					json.Unmarshal(sc.Bytes(), &req)
					rep, ok := replies[req.Command]
					if !ok {
						rep = `{"return":"NOK","message":"unknown command"}`
					}
					c.Write([]byte(rep + "\n"))
				}
			}()
		}
	}()
}

// runClient runs a client command in-process, without touching the shared
// logger output.
func runClient(args ...string) (string, error) {
	var out bytes.Buffer
	app := New()
	app.Writer, app.ErrWriter = &out, &out
	err := app.Run(append([]string{"polder"}, args...))
	return out.String(), err
}

func TestSensorControlClient(t *testing.T) {
	dir := t.TempDir()
	fakeSensor(t, dir, map[string]string{
		"reload-rules":         `{"return":"OK","message":{"loaded":2,"refused":1,"inactive":0,"errors":["a.rules:3: sid 7: content: bad hex"],"error_count":4,"took_ms":12}}`,
		"uptime":               `{"return":"OK","message":42}`,
		"ruleset-stats":        `{"return":"OK","message":{"loaded":2,"refused":1,"inactive":0}}`,
		"ruleset-failed-rules": `{"return":"NOK","message":"no ruleset: the sensor was started without rules"}`,
	})
	tests := []struct {
		name  string
		args  []string
		out   string // exact output
		err   string // substring of the error; "" = none
		usage bool
	}{
		{"reload", []string{"sensor", "reload-rules", "-l", dir}, "rules reloaded in 12 ms: 2 loaded, 1 refused, 0 inactive\n  a.rules:3: sid 7: content: bad hex\n  and 3 more (polder sensor ctl ruleset-failed-rules lists them all)\n", "", false},
		{"reload by socket", []string{"sensor", "reload-rules", "--socket", filepath.Join(dir, controlSocketName)}, "rules reloaded in 12 ms: 2 loaded, 1 refused, 0 inactive\n  a.rules:3: sid 7: content: bad hex\n  and 3 more (polder sensor ctl ruleset-failed-rules lists them all)\n", "", false},
		{"reload with args", []string{"sensor", "reload-rules", "-l", dir, "now"}, "", "takes no arguments", true},
		{"uptime", []string{"sensor", "ctl", "-l", dir, "uptime"}, "42\n", "", false},
		{"stats", []string{"sensor", "ctl", "-l", dir, "ruleset-stats"}, "{\n  \"inactive\": 0,\n  \"loaded\": 2,\n  \"refused\": 1\n}\n", "", false},
		{"json", []string{"sensor", "ctl", "-l", dir, "--json", "uptime"}, `{"return":"OK","message":42}` + "\n", "", false},
		{"nok", []string{"sensor", "ctl", "-l", dir, "ruleset-failed-rules"}, "", "ruleset-failed-rules: no ruleset: the sensor was started without rules", false},
		{"nok json", []string{"sensor", "ctl", "-l", dir, "--json", "shutdown"}, `{"return":"NOK","message":"unknown command"}` + "\n", "shutdown: unknown command", false},
		{"no command", []string{"sensor", "ctl", "-l", dir}, "", "exactly one COMMAND", true},
		{"no sensor", []string{"sensor", "ctl", "-l", t.TempDir(), "uptime"}, "", "is the sensor running", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runClient(tc.args...)
			if tc.err == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			var ue *UsageError
			if got := errors.As(err, &ue); got != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", got, tc.usage, err)
			}
			if !tc.usage && out != tc.out { // a usage error prints the help
				t.Errorf("output:\n%s\nwant:\n%s", out, tc.out)
			}
		})
	}
}
