package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// enc is lower-case base32 without padding: URL-safe, case-insensitive-safe,
// and free of '.', which tokens use as a separator.
var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a random 128-bit id with a readable type prefix: "usr_5x3k...".
func New(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + "_" + enc.EncodeToString(b[:])
}

// FromHash returns an id derived from a secret: the first 128 bits of its
// SHA-256. A token's record is keyed by it, so the secret itself is never
// stored, and knowing the id gives no way back to the secret.
func FromHash(prefix, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return prefix + "_" + enc.EncodeToString(sum[:16])
}

// Valid reports whether id looks like one New or FromHash made with prefix.
func Valid(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	_, err := enc.DecodeString(rest)
	return err == nil
}

// Secret returns 256 random bits, base64url encoded (43 characters).
func Secret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
