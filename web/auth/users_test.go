package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fastParams keep tests quick; the format and code paths are the same.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func testUsers(t *testing.T) *Users {
	t.Helper()
	return OpenUsers(filepath.Join(t.TempDir(), UsersFile), UsersOptions{Params: fastParams})
}

func TestUsersLifecycle(t *testing.T) {
	u := testUsers(t)
	if err := u.Add("admin", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := u.Add("alice", "another long password"); err != nil {
		t.Fatal(err)
	}
	if err := u.Add("admin", "whatever whatever"); !errors.Is(err, ErrUserExists) {
		t.Fatalf("Add duplicate: got %v, want ErrUserExists", err)
	}
	list, err := u.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "admin" || list[1].Name != "alice" {
		t.Fatalf("List = %+v", list)
	}
	if !strings.HasPrefix(list[0].Hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string", list[0].Hash)
	}
	if strings.Contains(readFile(t, u.Path()), "correct horse") {
		t.Error("users file contains the password")
	}
	if _, err := u.Authenticate("admin", "correct horse battery"); err != nil {
		t.Errorf("Authenticate: %v", err)
	}
	if _, err := u.Authenticate("admin", "wrong password!!"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: got %v", err)
	}
	if err := u.SetPassword("admin", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate("admin", "correct horse battery"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password after SetPassword: got %v", err)
	}
	if _, err := u.Authenticate("admin", "a brand new password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := u.SetPassword("bob", "a brand new password"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("SetPassword unknown: got %v", err)
	}
	if err := u.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	if err := u.Remove("alice"); !errors.Is(err, ErrNoSuchUser) || !strings.Contains(err.Error(), u.Path()) {
		t.Errorf("Remove twice: got %v, want ErrNoSuchUser naming the path", err)
	}
	if _, err := u.Authenticate("alice", "another long password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("removed user: got %v", err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUsersFilePermissions(t *testing.T) {
	u := testUsers(t)
	if err := u.Add("admin", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(u.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("users file mode = %#o, want 0600", got)
	}
	di, err := os.Stat(filepath.Dir(u.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("secrets dir mode = %#o, want 0700", got)
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(filepath.Dir(u.Path()))
	if len(ents) != 1 {
		t.Errorf("secrets dir holds %d entries, want 1", len(ents))
	}
	// A loosened file is refused with a hint.
	if err := os.Chmod(u.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = u.List()
	if err == nil || !strings.Contains(err.Error(), u.Path()) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("List on 0644 file: got %v, want error naming path and chmod hint", err)
	}
}

func TestUsersCorruptFile(t *testing.T) {
	u := testUsers(t)
	os.MkdirAll(filepath.Dir(u.Path()), 0o700)
	if err := os.WriteFile(u.Path(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := u.Authenticate("admin", "x")
	if err == nil || errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), u.Path()) {
		t.Errorf("corrupt file: got %v, want a read error naming the path", err)
	}
	if err := u.Add("admin", "correct horse battery"); err == nil {
		t.Error("Add over a corrupt file succeeded; it must not overwrite it")
	}
	if got := readFile(t, u.Path()); got != "{not json" {
		t.Errorf("corrupt file was overwritten: %q", got)
	}
}

// TestUnknownUserRunsKDF checks the timing path: an unknown user costs one
// KDF run with the store's parameters, like a wrong password.
func TestUnknownUserRunsKDF(t *testing.T) {
	u := testUsers(t)
	var calls atomic.Int32
	var last Params
	u.kdf = func(pw, salt []byte, p Params) []byte {
		calls.Add(1)
		last = p
		return argon2id(pw, salt, p)
	}
	if err := u.Add("admin", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u.Authenticate("warmup", "x") // computes the dummy hash once
	for _, tc := range []struct{ name, user string }{
		{"unknown user", "mallory"},
		{"wrong password", "admin"},
	} {
		calls.Store(0)
		last = Params{}
		_, err := u.Authenticate(tc.user, "wrong password!!")
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if calls.Load() != 1 || last != fastParams {
			t.Errorf("%s: KDF ran %d times with %+v, want once with %+v", tc.name, calls.Load(), last, fastParams)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"admin", true}, {"a.b_c@d-e", true}, {"", false}, {"-rf", false},
		{"with space", false}, {"<script>", false}, {strings.Repeat("a", 65), false},
	} {
		if err := ValidateName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v", tc.name, err)
		}
	}
	if ValidatePassword("short") == nil || ValidatePassword(strings.Repeat("x", MaxPasswordLen+1)) == nil {
		t.Error("ValidatePassword accepted a bad length")
	}
	if err := ValidatePassword(GeneratePassword()); err != nil {
		t.Errorf("generated password: %v", err)
	}
	if a, b := GeneratePassword(), GeneratePassword(); a == b || len(a) < 20 {
		t.Errorf("GeneratePassword: %q, %q", a, b)
	}
}

func TestParseHashBounds(t *testing.T) {
	good, err := hashPassword(argon2id, "pw", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := parseHash(good); err != nil {
		t.Fatalf("parseHash(%q): %v", good, err)
	}
	salt := strings.Split(good, "$")[4]
	key := strings.Split(good, "$")[5]
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
	} {
		if _, _, _, err := parseHash(bad); err == nil {
			t.Errorf("parseHash(%q) accepted", bad)
		}
	}
}

func BenchmarkDefaultParams(b *testing.B) {
	h, _ := hashPassword(argon2id, "correct horse battery", DefaultParams)
	for b.Loop() {
		verifyPassword(argon2id, h, "correct horse battery")
	}
}
