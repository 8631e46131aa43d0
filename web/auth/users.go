// Package auth is the web UI's authentication and transport security: the
// user store (argon2id hashes in a 0600 file of the instance), server-side
// sessions in __Host- cookies, CSRF protection, login rate limiting, TLS
// certificates and security headers.
//
// Everything here is usable by the web server and the CLI alike; nothing
// reads flags or the environment.
package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

// UsersFile is where an instance keeps its users, relative to the instance
// directory (the secrets directory is 0700, the file 0600).
const UsersFile = "secrets/users.json"

// Sentinel errors callers branch on.
var (
	// ErrInvalidCredentials is returned by Authenticate for an unknown user
	// and for a wrong password alike, so callers cannot tell them apart.
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrUserExists         = errors.New("user already exists")
	ErrNoSuchUser         = errors.New("no such user")
)

// Password length limits in bytes. The maximum bounds the KDF's input, not
// its cost (argon2 pre-hashes the password), and keeps request bodies small.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// User is one account as stored; Hash is the argon2id PHC string.
type User struct {
	Name            string    `json:"name"`
	Hash            string    `json:"hash"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed"`
}

type usersFile struct {
	Version int    `json:"version"`
	Users   []User `json:"users"`
}

const usersFileVersion = 1

// Users is the user store: a JSON file read on every call (so a change made
// by `polder user` is seen by a running web server at once) and replaced
// atomically on every change. Methods are safe for concurrent use within a
// process; across processes, changes are serialised by the instance lock
// (issue 6) that every polder command takes.
type Users struct {
	path   string
	params Params
	now    func() time.Time
	kdf    kdfFunc

	mu        sync.Mutex
	seen      os.FileInfo // the file cache was read from
	cache     usersFile
	dummyOnce sync.Once
	dummy     string // hash verified for unknown users, so they cost the same
}

// UsersOptions configure a Users store.
type UsersOptions struct {
	// Params for new hashes; the zero value means DefaultParams.
	Params Params
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// OpenUsers returns the store kept at path. The file need not exist yet: it
// is created (with its directory, 0700) by the first change.
func OpenUsers(path string, o UsersOptions) *Users {
	u := &Users{path: path, params: o.Params, now: o.Now, kdf: argon2id}
	if u.params == (Params{}) {
		u.params = DefaultParams
	}
	if u.now == nil {
		u.now = time.Now
	}
	return u
}

// Path returns the file the store is kept in.
func (u *Users) Path() string { return u.path }

// ValidateName checks a user name: 1 to 64 characters of letters, digits
// and ._@- not starting with '-' (names appear on command lines and in logs).
func ValidateName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q: want 1 to 64 characters", name)
	}
	if name[0] == '-' {
		return fmt.Errorf("user name %q: must not start with '-'", name)
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '@', c == '-':
		default:
			return fmt.Errorf("user name %q: character %q not allowed (letters, digits and ._@- only)", name, c)
		}
	}
	return nil
}

// ValidatePassword checks a chosen password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return fmt.Errorf("password too short: want at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("password too long: want at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// load reads the file; a missing file is an empty store.
func (u *Users) load() (usersFile, error) {
	var f usersFile
	fi, err := os.Stat(u.path)
	if errors.Is(err, fs.ErrNotExist) {
		return usersFile{Version: usersFileVersion}, nil
	}
	if err != nil {
		return f, fmt.Errorf("read users %s: %w", u.path, err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return f, fmt.Errorf("read users %s: permissions %#o are too open (run chmod 600 %s)", u.path, fi.Mode().Perm(), u.path)
	}
	b, err := os.ReadFile(u.path)
	if err != nil {
		return f, fmt.Errorf("read users %s: %w", u.path, err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read users %s: %w", u.path, err)
	}
	if f.Version != usersFileVersion {
		return f, fmt.Errorf("read users %s: version %d not supported (want %d)", u.path, f.Version, usersFileVersion)
	}
	return f, nil
}

func (u *Users) save(f usersFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("write users %s: %w", u.path, err)
	}
	if err := writeFileAtomic(u.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write users %s: %w", u.path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so readers see the old or the new file, never part
// of one. A missing directory is created 0700.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// List returns the users sorted by name. The hashes are included; do not
// send them to clients.
func (u *Users) List() ([]User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.load()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(f.Users, func(a, b User) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return f.Users, nil
}

// Add creates a user with the given password (checked by ValidatePassword).
func (u *Users) Add(name, password string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := ValidatePassword(password); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.load()
	if err != nil {
		return err
	}
	if slices.ContainsFunc(f.Users, func(x User) bool { return x.Name == name }) {
		return fmt.Errorf("add user %q to %s: %w", name, u.path, ErrUserExists)
	}
	h, err := hashPassword(u.kdf, password, u.params)
	if err != nil {
		return err
	}
	now := u.now().UTC()
	f.Users = append(f.Users, User{Name: name, Hash: h, Created: now, PasswordChanged: now})
	return u.save(f)
}

// SetPassword replaces a user's password. Sessions of that user should be
// ended by the caller (Sessions.DeleteUser) when it runs in the web server.
func (u *Users) SetPassword(name, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.load()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(f.Users, func(x User) bool { return x.Name == name })
	if i < 0 {
		return fmt.Errorf("set password of %q in %s: %w", name, u.path, ErrNoSuchUser)
	}
	h, err := hashPassword(u.kdf, password, u.params)
	if err != nil {
		return err
	}
	f.Users[i].Hash = h
	f.Users[i].PasswordChanged = u.now().UTC()
	return u.save(f)
}

// Remove deletes a user.
func (u *Users) Remove(name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.load()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(f.Users, func(x User) bool { return x.Name == name })
	if i < 0 {
		return fmt.Errorf("remove user %q from %s: %w", name, u.path, ErrNoSuchUser)
	}
	f.Users = slices.Delete(f.Users, i, i+1)
	return u.save(f)
}

// current reports whether s belongs to a user who still exists with the
// password the session was opened with. It runs on every authenticated
// request, so it rereads the file only when it was replaced (every change
// renames a new file in) or modified; an unreadable file ends the session.
func (u *Users) current(s Session) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	fi, err := os.Stat(u.path)
	if err != nil {
		return false
	}
	if u.seen == nil || !os.SameFile(fi, u.seen) || !fi.ModTime().Equal(u.seen.ModTime()) || fi.Size() != u.seen.Size() {
		f, err := u.load()
		if err != nil {
			return false
		}
		u.cache, u.seen = f, fi
	}
	i := slices.IndexFunc(u.cache.Users, func(x User) bool { return x.Name == s.User })
	return i >= 0 && credential(u.cache.Users[i]) == s.cred
}

// credential fingerprints a user's password hash, for sessions to tell a
// changed password without keeping the hash.
func credential(x User) string {
	sum := sha256.Sum256([]byte(x.Hash))
	return hex.EncodeToString(sum[:8])
}

// Get returns one user, or ErrNoSuchUser.
func (u *Users) Get(name string) (User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.load()
	if err != nil {
		return User{}, err
	}
	i := slices.IndexFunc(f.Users, func(x User) bool { return x.Name == name })
	if i < 0 {
		return User{}, fmt.Errorf("user %q in %s: %w", name, u.path, ErrNoSuchUser)
	}
	return f.Users[i], nil
}

// Authenticate checks a name and password and returns the user. An unknown
// user and a wrong password both return ErrInvalidCredentials after running
// the same KDF with the same parameters, so response time does not reveal
// which names exist. Other errors (an unreadable file) are returned as is.
func (u *Users) Authenticate(name, password string) (User, error) {
	if len(password) > MaxPasswordLen {
		return User{}, ErrInvalidCredentials
	}
	u.dummyOnce.Do(func() {
		u.dummy, _ = hashPassword(u.kdf, GeneratePassword(), u.params)
	})
	u.mu.Lock()
	f, err := u.load()
	u.mu.Unlock()
	if err != nil {
		return User{}, err
	}
	i := slices.IndexFunc(f.Users, func(x User) bool { return x.Name == name })
	if i < 0 {
		verifyPassword(u.kdf, u.dummy, password)
		return User{}, ErrInvalidCredentials
	}
	ok, err := verifyPassword(u.kdf, f.Users[i].Hash, password)
	if err != nil {
		return User{}, fmt.Errorf("verify password of %q from %s: %w", name, u.path, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	return f.Users[i], nil
}
