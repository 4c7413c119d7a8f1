package auth

import (
	"strings"

	"github.com/usermgmt/ums/pkg/ids"
)

// SessionPrefix starts every session token, so secret scanners can spot one.
const SessionPrefix = "ums_"

// newSessionToken returns a token for the user and the session id it maps to.
func newSessionToken(userID string) (token, sessionID string) {
	secret := ids.Secret()
	return SessionPrefix + userID + "." + secret, ids.FromHash("ses", secret)
}

// parseSessionToken returns the user id and session id a token names, or ok
// false for anything that is not a well-formed session token.
func parseSessionToken(token string) (userID, sessionID string, ok bool) {
	rest, ok := strings.CutPrefix(token, SessionPrefix)
	if !ok {
		return "", "", false
	}
	userID, secret, ok := strings.Cut(rest, ".")
	if !ok || !ids.Valid("usr", userID) || len(secret) != 43 {
		return "", "", false
	}
	return userID, ids.FromHash("ses", secret), true
}
