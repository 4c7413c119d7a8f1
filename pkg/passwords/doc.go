// Package passwords hashes and verifies passwords with argon2id and checks them
// against the password rules of the contract (rule 6): a length range counted in
// characters after Unicode NFKC normalization, never truncated; not a commonly
// used password; not the user's email, its local part, or username; no
// composition rules.
//
// common.txt.gz holds the passwords of eight characters or more among the
// 100,000 most common of the "10 million passwords" list (SecLists, from the
// dump compiled by Mark Burnett, released to the public domain), lower-cased.
// It is checked offline, so a login never waits on a network call.
//
// It imports the standard library, golang.org/x/crypto/argon2,
// golang.org/x/text/unicode/norm and pkg/apperr.
package passwords
