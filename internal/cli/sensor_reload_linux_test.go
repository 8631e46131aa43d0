package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/netnstest"
)

// TestSensorRunControlSocket runs `polder sensor run` in-process and drives
// it with `sensor reload-rules` and `sensor ctl` through the default socket
// in its log directory.
func TestSensorRunControlSocket(t *testing.T) {
	netnstest.NeedRoot(t)
	v := netnstest.NewVethPair(t, "cs", 0)
	v.Up(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "local.rules")
	if err := os.WriteFile(rules, []byte(`alert udp any any -> any any (msg:"x"; content:"polder"; sid:1; rev:1;)`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	old := stderr
	stderr = io.Discard // the sensor's log; set before it starts, restored after it stops
	defer func() { stderr = old }()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		app := New()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		done <- app.RunContext(ctx, []string{"polder", "sensor", "run", "-i", v.Outer, "-l", dir, "-S", rules})
	}()
	sock := filepath.Join(dir, controlSocketName)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no control socket after 10 s")
		}
		select {
		case err := <-done:
			t.Fatalf("sensor run stopped: %v", err)
		default:
		}
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode: %v, %v", fi.Mode(), err)
	}

	out, err := runClient("sensor", "reload-rules", "-l", dir)
	if err != nil || !strings.Contains(out, "1 loaded, 0 refused, 0 inactive") {
		t.Errorf("reload-rules: %q, %v", out, err)
	}
	if out, err := runClient("sensor", "ctl", "-l", dir, "version"); err != nil || out != Version+"\n" {
		t.Errorf("ctl version: %q, %v", out, err)
	}
	// A second sensor with the same log directory must not take the socket.
	app := New()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	err = app.RunContext(ctx, []string{"polder", "sensor", "run", "-i", v.Outer, "-l", dir, "-S", rules})
	if err == nil || !strings.Contains(err.Error(), "another process listens on it") {
		t.Errorf("second sensor on the same socket: %v", err)
	}

	if err := os.Remove(rules); err != nil {
		t.Fatal(err)
	}
	_, err = runClient("sensor", "reload-rules", "-l", dir)
	var ue *UsageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "keeping the running ruleset") {
		t.Errorf("reload-rules of a missing rule file: %v (want a runtime error)", err)
	}
	if out, err := runClient("sensor", "ctl", "-l", dir, "ruleset-stats"); err != nil || !strings.Contains(out, `"loaded": 1`) {
		t.Errorf("ruleset-stats after a failed reload: %q, %v", out, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket left behind: %v", err)
	}
}
