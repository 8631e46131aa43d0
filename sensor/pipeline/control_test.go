package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/rules"
)

// fakeTarget stands in for a Live sensor.
type fakeTarget struct {
	mu        sync.Mutex
	cur       *rulesetInfo
	next      rulesetInfo
	reloadErr error
	reopenErr error
	reloads   int
	reopens   int
}

func (f *fakeTarget) reloadRules() (rulesetInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	if f.reloadErr != nil {
		return rulesetInfo{}, f.reloadErr
	}
	n := f.next
	f.cur = &n
	return n, nil
}

func (f *fakeTarget) running() (rulesetInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		return rulesetInfo{}, false
	}
	return *f.cur, true
}

func (f *fakeTarget) reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reopens++
	return f.reopenErr
}

func (f *fakeTarget) uptime() time.Duration { return 42*time.Second + 900*time.Millisecond }

func newFakeServer(t *testing.T, f *fakeTarget, o ControlOptions) *ControlServer {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "polder.socket")
	}
	s, err := ListenControl(o)
	if err != nil {
		t.Fatal(err)
	}
	s.t = f // as serve does
	t.Cleanup(func() { s.Close() })
	return s
}

func threeErrors() rules.ErrorList {
	return rules.ErrorList{
		{File: "a.rules", Line: 3, SID: 7, Keyword: "content", Msg: "bad hex"},
		{File: "a.rules", Line: 9, Msg: "unterminated option list"},
		{File: "b.rules", Line: 1, SID: 9, Keyword: "flowbits", Msg: "unknown command"},
	}
}

// TestControlDo runs every command through the dispatcher against a fake
// sensor, with the reply as JSON text so the wire shape is what is tested.
func TestControlDo(t *testing.T) {
	f := &fakeTarget{next: rulesetInfo{stats: detect.Stats{Loaded: 10, Refused: 2, Inactive: 1}, errs: threeErrors()}}
	s := newFakeServer(t, f, ControlOptions{Version: "1.2.3", MaxErrors: 2})

	tests := []struct {
		name string
		req  ControlRequest
		want string // the reply as JSON; took_ms is zeroed
	}{
		{"handshake", ControlRequest{Version: "0.2"}, `{"return":"OK"}`},
		{"no command", ControlRequest{}, `{"return":"NOK","message":"request has no command (send {\"command\": \"command-list\"} for the list)"}`},
		{"unknown", ControlRequest{Command: "shutdown"}, `{"return":"NOK","message":"unknown command \"shutdown\" (send command-list for the list)"}`},
		{"stats before rules", ControlRequest{Command: "ruleset-stats"}, `{"return":"NOK","message":"no ruleset: the sensor was started without rules"}`},
		{"reload", ControlRequest{Command: "reload-rules"}, `{"return":"OK","message":{"loaded":10,"refused":2,"inactive":1,"errors":["a.rules:3: sid 7: content: bad hex","a.rules:9: unterminated option list"],"error_count":3,"took_ms":0}}`},
		{"stats", ControlRequest{Command: "ruleset-stats"}, `{"return":"OK","message":{"loaded":10,"refused":2,"inactive":1}}`},
		{"failed rules", ControlRequest{Command: "ruleset-failed-rules"}, `{"return":"OK","message":["a.rules:3: sid 7: content: bad hex","a.rules:9: unterminated option list","b.rules:1: sid 9: flowbits: unknown command"]}`},
		{"reopen", ControlRequest{Command: "reopen-log-files"}, `{"return":"OK","message":"done"}`},
		{"uptime", ControlRequest{Command: "uptime"}, `{"return":"OK","message":42}`},
		{"version", ControlRequest{Command: "version", Arguments: json.RawMessage(`{"ignored":true}`)}, `{"return":"OK","message":"1.2.3"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := replyJSON(t, s.do(tc.req))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}

	// A failed reload says why, and keeps the running ruleset.
	f.reloadErr = errors.New("reload rules (keeping the running ruleset): load rules: stat x.rules: no such file or directory")
	if got, want := replyJSON(t, s.do(ControlRequest{Command: "reload-rules"})), `{"return":"NOK","message":"reload rules (keeping the running ruleset): load rules: stat x.rules: no such file or directory"}`; got != want {
		t.Errorf("failed reload: got %s, want %s", got, want)
	}
	if got, want := replyJSON(t, s.do(ControlRequest{Command: "ruleset-stats"})), `{"return":"OK","message":{"loaded":10,"refused":2,"inactive":1}}`; got != want {
		t.Errorf("stats after a failed reload: got %s, want %s", got, want)
	}
	f.reopenErr = errors.New("permission denied")
	if got, want := replyJSON(t, s.do(ControlRequest{Command: "reopen-log-files"})), `{"return":"NOK","message":"reopen eve output: permission denied"}`; got != want {
		t.Errorf("failed reopen: got %s, want %s", got, want)
	}
	// Errors of a ruleset loaded elsewhere are unknown, not stale.
	f.cur.errsUnknown = true
	if rep := s.do(ControlRequest{Command: "ruleset-failed-rules"}); rep.OK() || !strings.Contains(rep.Text(), "not known") {
		t.Errorf("failed rules of a ruleset loaded elsewhere: %s", replyJSON(t, rep))
	}
	// command-list names every command.
	rep := s.do(ControlRequest{Command: "command-list"})
	for _, c := range controlCommands {
		if !strings.Contains(string(rep.Message), `"`+c.name+`"`) {
			t.Errorf("command-list lacks %s: %s", c.name, rep.Message)
		}
	}
}

// replyJSON encodes rep as it goes on the wire, with took_ms zeroed.
func replyJSON(t *testing.T, rep ControlReply) string {
	t.Helper()
	var r ControlReload
	if json.Unmarshal(rep.Message, &r) == nil && r.Errors != nil {
		r.TookMS = 0
		rep.Message, _ = json.Marshal(r)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestControlSocket drives the server over its socket: several requests on
// one connection, newline-delimited or not, a bad request, the client,
// and the socket file's mode and removal.
func TestControlSocket(t *testing.T) {
	f := &fakeTarget{next: rulesetInfo{stats: detect.Stats{Loaded: 1}}}
	path := filepath.Join(t.TempDir(), "polder.socket")
	s := newFakeServer(t, f, ControlOptions{Path: path, Version: "v9"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, f) }()

	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".ctl*")); len(m) > 0 {
		t.Errorf("temporary directory left behind: %v", m)
	}

	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Suricata's handshake, then two requests in one write without a
	// newline between them, then a type error, then a syntax error.
	if _, err := c.Write([]byte(`{"version":"0.2"}` + "\n" + `{"command":"version"}{"command":"uptime"}` + "\n" + `{"command":5}` + "\n" + `{"command":` + "\n}\n")); err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	want := []string{
		`{"return":"OK"}`,
		`{"return":"OK","message":"v9"}`,
		`{"return":"OK","message":42}`,
		`{"return":"NOK","message":"bad request: json: cannot unmarshal number into Go struct field ControlRequest.command of type string"}`,
		`{"return":"NOK","message":"bad request (want one JSON object per line, {\"command\": NAME}): invalid character '}' looking for beginning of value"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}

	// An oversized request is refused and the connection closed.
	c2, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	go c2.Write([]byte(`{"command":"` + strings.Repeat("x", controlMaxRequest) + `"}`))
	line, _ := bufio.NewReader(c2).ReadString('\n')
	if !strings.Contains(line, "request longer than") {
		t.Errorf("oversized request: %q", line)
	}

	// Connections beyond the limit are refused with a reason.
	c.Close()
	c2.Close()
	waitConns(t, s, 0)
	var held []net.Conn
	for range controlMaxConns {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if err := writeRequest(c, ControlRequest{Command: "version"}); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.Contains(line, `"OK"`) {
			t.Fatalf("connection %d of %d: %q", len(held), controlMaxConns, line)
		}
	}
	extra, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	line, _ = bufio.NewReader(extra).ReadString('\n')
	if !strings.Contains(line, "too many control connections") {
		t.Errorf("connection over the limit: %q", line)
	}
	extra.Close()
	for _, c := range held {
		c.Close()
	}
	waitConns(t, s, 0)

	rep, err := Control(t.Context(), path, "reload-rules")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !strings.Contains(rep.Text(), `"loaded": 1`) {
		t.Errorf("reload-rules through Control: %+v", rep)
	}
	rep, err = Control(t.Context(), path, "no-such")
	if err != nil || rep.OK() || rep.Text() != `unknown command "no-such" (send command-list for the list)` {
		t.Errorf("unknown command through Control: %+v, %v", rep, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file not removed at exit: %v", err)
	}
	if _, err := Control(t.Context(), path, "uptime"); err == nil || !strings.Contains(err.Error(), "is the sensor running") {
		t.Errorf("Control to a stopped sensor: %v", err)
	}
}

// TestControlSocketInTheWay: a stale socket is replaced, a live one or a
// file that is not a socket is not, and each refusal says why.
func TestControlSocketInTheWay(t *testing.T) {
	dir := t.TempDir()

	stale := filepath.Join(dir, "stale.socket")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // a sensor that died: the file stays, nobody listens
	s, err := ListenControl(ControlOptions{Path: stale})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer s.Close()

	// s listens on stale now: a second server must refuse.
	if _, err := ListenControl(ControlOptions{Path: stale}); err == nil || !strings.Contains(err.Error(), "another process listens on it") {
		t.Errorf("second server on a live socket: %v", err)
	}
	if _, err := os.Lstat(stale); err != nil {
		t.Errorf("the live socket was removed by the refused server: %v", err)
	}

	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenControl(ControlOptions{Path: plain}); err == nil || !strings.Contains(err.Error(), "not a socket is in the way") {
		t.Errorf("server on a regular file: %v", err)
	}
	if b, _ := os.ReadFile(plain); string(b) != "keep me" {
		t.Error("regular file in the way was changed")
	}

	long := filepath.Join(dir, strings.Repeat("d", 120), "polder.socket")
	if _, err := ListenControl(ControlOptions{Path: long}); err == nil || !strings.Contains(err.Error(), "choose a shorter path") {
		t.Errorf("overlong path: %v", err)
	}
	if _, err := ListenControl(ControlOptions{Path: filepath.Join(dir, "missing", "polder.socket")}); err == nil {
		t.Error("socket in a missing directory: no error")
	}

	// A socket replaced behind the server's back is not removed by it.
	other := filepath.Join(dir, "other.socket")
	s2, err := ListenControl(ControlOptions{Path: other})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(other)
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := os.Lstat(other); err != nil {
		t.Errorf("server removed a file it did not make: %v", err)
	}
}

// waitConns waits until s serves n connections.
func waitConns(t *testing.T, s *ControlServer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		got := len(s.conns)
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d control connections, want %d", got, n)
		}
	}
}
