// Package auth signs users in and out and authenticates requests.
//
// A session token is "ums_<user id>.<secret>": 256 random bits, shown once.
// The session's id is derived from the secret's SHA-256 and is the session's
// key, so only a hash is stored. Because the token names its user,
// authenticating a request is one strongly consistent read of the user, the
// session and the settings together, and a role change, deactivation or
// revocation bites on the very next request. Ending every session of a user
// is one write: sessions carry the user's session generation, and bumping it
// voids them all.
//
// It imports the standard library and the domain packages access, apperr,
// audit, ids, passwords, settings and users.
package auth
