package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id (RFC 9106) parameters used to hash a password.
// They are stored in every hash (PHC string format), so changing them only
// affects hashes written afterwards; verification always uses the
// parameters a hash was written with.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// DefaultParams are RFC 9106 §4's second recommended option (64 MiB of
// memory, 3 passes) with 2 lanes instead of 4, because polder's target
// machines have 2 cores: about 240 ms and 64 MiB per login on such a
// machine (BenchmarkDefaultParams).
// Login is rate-limited (Limiter), so an attacker cannot use the KDF's cost
// to exhaust memory with parallel logins beyond what the limiter lets
// through.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from a hash, so that a corrupted or
// hostile users file cannot make one verification take gigabytes or minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	minKeyLen  = 16
	maxKeyLen  = 64
	minSaltLen = 8
	maxSaltLen = 64
)

// kdfFunc derives a key; Users carries one so tests can count invocations.
type kdfFunc func(password, salt []byte, p Params) []byte

func argon2id(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

var errBadHash = errors.New("malformed password hash")

// hashPassword returns the PHC string
// $argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$KEY (unpadded base64).
func hashPassword(kdf kdfFunc, password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read random salt: %w", err)
	}
	key := kdf([]byte(password), salt, p)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// parseHash decodes a PHC argon2id string, refusing parameters out of bounds.
func parseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, errBadHash
	}
	p.Threads = uint8(threads)
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime ||
		threads == 0 || threads > 255 || p.Memory < 8*uint32(threads) ||
		p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen || p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the encoded hash. The
// comparison of derived keys is constant-time.
func verifyPassword(kdf kdfFunc, encoded, password string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := kdf([]byte(password), salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// GeneratePassword returns a new random password of 26 base32 characters
// (130 bits from crypto/rand), for setup and `polder user add` to print once.
func GeneratePassword() string { return rand.Text() }
