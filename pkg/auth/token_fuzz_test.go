package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// tokenSeeds are tokens of every kind, well formed and not.
func tokenSeeds() []string {
	uid := ids.New("usr")
	session, _ := newSessionToken(uid)
	personal, _, _ := newKeyToken(uid)
	system, _, _ := newKeyToken(systemOwner)
	reset, _ := newResetToken(uid)
	return []string{session, personal, system, reset, "", "ums_", "umk_", "umr_", "ums_" + uid, "ums_" + uid + ".",
		"ums_" + uid + "." + strings.Repeat("A", 42), "umk_" + strings.Repeat("A", 43) + ".usr_" + strings.Repeat("!", 26),
		"umk_" + strings.Repeat("A", 43) + "." + "USR_" + strings.Repeat("A", 26), session + "\x00", " " + reset + "\n",
		"ums_usr_aaaaaaaaaaaaaaaaaaaaaaaaaa." + strings.Repeat("é", 21) + "a", "Bearer " + session, "ums_USR_" + strings.Repeat("A", 26) + "." + strings.Repeat("A", 43)}
}

// keyStoreSpy is the store behind Authenticate: it records what a token
// made the service look up, and knows no one.
type keyStoreSpy struct {
	Store
	userID, sessionID, owner, keyID string
	calls                           int
}

func (s *keyStoreSpy) Authenticate(_ context.Context, userID, sessionID string, _ Along) (*users.User, *Session, settings.Snapshot, users.Read, error) {
	s.calls++
	s.userID, s.sessionID = userID, sessionID
	return nil, nil, settings.Snapshot{}, users.Read{}, apperr.ErrUnauthorized
}

func (s *keyStoreSpy) AuthenticateKey(_ context.Context, owner, keyID string, _ Along) (*users.User, *APIKey, settings.Snapshot, users.Read, error) {
	s.calls++
	s.owner, s.keyID = owner, keyID
	return nil, nil, settings.Snapshot{}, users.Read{}, apperr.ErrUnauthorized
}

// FuzzAuthenticate gives Authenticate any bearer token. None panics or
// fails with anything but unauthorized; a token reaches the store only as
// well-formed ids (a malformed one would reach DynamoDB as a key it
// refuses, a 500), and only if it is exactly a token of its kind, rebuilt
// from its parts.
func FuzzAuthenticate(f *testing.F) {
	for _, s := range tokenSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		spy := &keyStoreSpy{}
		svc := NewService(spy)
		ctx := access.WithRequest(context.Background(), access.Request{ID: "fuzz", Now: time.Now()})
		_, _, _, err := svc.Authenticate(ctx, token, Along{})
		if !errors.Is(err, apperr.ErrUnauthorized) {
			t.Fatalf("Authenticate(%q): %v, want unauthorized", token, err)
		}
		switch {
		case spy.calls == 0:
			return
		case spy.calls > 1:
			t.Fatalf("%q: %d lookups", token, spy.calls)
		case spy.keyID != "":
			if !ids.Valid("key", spy.keyID) || spy.owner != "" && !ids.Valid("usr", spy.owner) {
				t.Fatalf("%q looked up key %q of %q", token, spy.keyID, spy.owner)
			}
			owner := spy.owner
			if owner == "" {
				owner = systemOwner
			}
			secret := strings.TrimSuffix(strings.TrimPrefix(token, KeyPrefix), "."+owner)
			if token != KeyPrefix+secret+"."+owner || ids.FromHash("key", secret) != spy.keyID {
				t.Fatalf("%q is not the key it was taken for (%s of %s)", token, spy.keyID, owner)
			}
		default:
			if !ids.Valid("usr", spy.userID) || !ids.Valid("ses", spy.sessionID) {
				t.Fatalf("%q looked up session %q of %q", token, spy.sessionID, spy.userID)
			}
			secret := strings.TrimPrefix(token, SessionPrefix+spy.userID+".")
			if token != SessionPrefix+spy.userID+"."+secret || ids.FromHash("ses", secret) != spy.sessionID {
				t.Fatalf("%q is not the session it was taken for (%s of %s)", token, spy.sessionID, spy.userID)
			}
		}
	})
}

// FuzzTokensRoundTrip makes tokens for any user id and checks that each
// parses back to what it was made of, and that no token of one kind is
// taken for another's.
func FuzzTokensRoundTrip(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(1<<63), uint64(42))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		uid := ids.FromHash("usr", string(rune(a))+string(rune(b)))
		session, sid := newSessionToken(uid)
		if u, s, ok := parseSessionToken(session); !ok || u != uid || s != sid {
			t.Fatalf("session %q parsed to %q %q %v", session, u, s, ok)
		}
		for _, owner := range []string{uid, systemOwner} {
			key, kid, prefix := newKeyToken(owner)
			want := owner
			if owner == systemOwner {
				want = ""
			}
			if o, k, ok := parseKeyToken(key); !ok || o != want || k != kid || !strings.HasPrefix(key, prefix) {
				t.Fatalf("key %q parsed to %q %q %v", key, o, k, ok)
			}
			if _, _, ok := parseSessionToken(key); ok {
				t.Fatalf("the key %q passes for a session", key)
			}
		}
		reset, hash := newResetToken(uid)
		if u, h, ok := parseResetToken(reset); !ok || u != uid || h != hash {
			t.Fatalf("reset %q parsed to %q %q %v", reset, u, h, ok)
		}
		if _, _, ok := parseSessionToken(reset); ok {
			t.Fatalf("the reset token %q passes for a session", reset)
		}
		if _, _, ok := parseKeyToken(session); ok {
			t.Fatalf("the session %q passes for a key", session)
		}
	})
}

// FuzzParseResetToken: any text is a reset token only if it is one,
// rebuilt exactly from the user and secret it names (around white space,
// which the form may add); the hash is the secret's.
func FuzzParseResetToken(f *testing.F) {
	for _, s := range tokenSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		uid, hash, ok := parseResetToken(token)
		if !ok {
			return
		}
		trimmed := strings.TrimSpace(token)
		secret := strings.TrimPrefix(trimmed, ResetPrefix+uid+".")
		if !ids.Valid("usr", uid) || trimmed != ResetPrefix+uid+"."+secret || len(secret) != 43 || hashSecret(secret) != hash {
			t.Fatalf("%q parsed to %q %q", token, uid, hash)
		}
	})
}
