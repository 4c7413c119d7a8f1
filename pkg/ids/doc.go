// Package ids makes random identifiers and secrets from crypto/rand.
// It imports only the standard library.
package ids
