package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are argon2id's cost parameters. They are encoded into every hash, so
// raising them later only makes Verify report that old hashes need a rehash.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// OWASP's recommended argon2id configuration: 19 MiB, two passes, one lane.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// Normalize returns the password in Unicode NFKC, the form it is measured,
// hashed and verified in, so that "ﬁ" and "fi" are one password.
func Normalize(password string) string { return norm.NFKC.String(password) }

// Hash returns the PHC-format argon2id hash of the normalized password with a
// fresh random salt: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func Hash(password string, p Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(Normalize(password)), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrMalformedHash is returned for a stored hash Verify cannot read.
var ErrMalformedHash = errors.New("passwords: malformed hash")

// Verify reports whether password matches the encoded hash, in constant time
// for a given hash, and whether the hash's parameters are below want and it
// should be replaced after a successful sign-in.
func Verify(password, encoded string, want Params) (ok, rehash bool, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		return false, false, ErrMalformedHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false, false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(Normalize(password)), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.MemoryKiB < want.MemoryKiB || p.Time < want.Time || p.Threads < want.Threads
	return ok, rehash, nil
}

// dummyHash is verified against when a login names no account, so that an
// unknown login costs the same time as a wrong password. It is made on first
// use: hashing at package init would add an argon2id run to the cold start
// of every function, though only sign-in needs it.
var dummyHash = sync.OnceValue(func() string {
	return Hash("not a real password: only spends the time a real check would", DefaultParams)
})

// VerifyDummy spends the time of one Verify and always fails.
func VerifyDummy(password string) {
	_, _, _ = Verify(password, dummyHash(), DefaultParams)
}
