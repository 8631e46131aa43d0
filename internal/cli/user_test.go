package cli

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/web/auth"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, "-d", dir, "user", "add", "admin")
	if err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`shown once, store it now\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add printed no password: %q", out)
	}
	users := auth.OpenUsers(filepath.Join(dir, auth.UsersFile), auth.UsersOptions{})
	if _, err := users.Authenticate("admin", m[1]); err != nil {
		t.Errorf("printed password does not authenticate: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, auth.UsersFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("users file: %v %v", fi, err)
	}

	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader("my chosen password\n")
	if out, err := run(t, "-d", dir, "user", "passwd", "--password-stdin", "admin"); err != nil || strings.Contains(out, "my chosen") {
		t.Fatalf("passwd: %v %q", err, out)
	}
	if _, err := users.Authenticate("admin", "my chosen password"); err != nil {
		t.Errorf("password from stdin: %v", err)
	}
	stdin = strings.NewReader("short\n")
	var ue *UsageError
	if _, err := run(t, "-d", dir, "user", "add", "--password-stdin", "bob"); !errors.As(err, &ue) {
		t.Errorf("short password: %v, want usage error", err)
	}

	out, err = run(t, "-d", dir, "user", "list", "--json")
	if err != nil || !strings.Contains(out, `"name":"admin"`) || strings.Contains(out, "argon2") {
		t.Errorf("list: %v %q", err, out)
	}
	if _, err := run(t, "-d", dir, "user", "del", "admin"); err != nil {
		t.Errorf("del: %v", err)
	}
	if _, err := run(t, "-d", dir, "user", "del", "admin"); !errors.Is(err, auth.ErrNoSuchUser) {
		t.Errorf("del twice: %v", err)
	}
	if _, err := run(t, "user", "list"); !errors.As(err, &ue) {
		t.Errorf("no -d: %v, want usage error", err)
	}
}
