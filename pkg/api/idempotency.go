package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/idempotency"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/routes"
)

// IdempotencyStore keeps Idempotency-Key records.
type IdempotencyStore interface {
	GetIdempotency(ctx context.Context, key string) (*idempotency.Record, error)
	// subject is the user the response shows, if any (see subjectOf).
	SaveIdempotency(ctx context.Context, c *idempotency.Claim, status int, header http.Header, body []byte, secret bool, subject string) error
}

// IdempotencyHeader is the request header of the convention.
const IdempotencyHeader = "Idempotency-Key"

// replayedHeader marks a replayed response.
const replayedHeader = "Idempotent-Replayed"

// withIdempotency serves a POST that carries an Idempotency-Key, signed in or
// not: the same key and body within 24 hours get the first response and
// apply nothing twice; the same key with another body gets
// idempotency_conflict. Keys are the caller's own (a signed-in caller's, or
// everyone's on a public route). A route whose response carries a secret
// keeps only the fact that it succeeded: a retry gets idempotency_conflict
// saying so, never the secret again.
func withIdempotency(store IdempotencyStore, route routes.Route, w http.ResponseWriter, r *http.Request, next http.Handler) {
	key := r.Header.Get(IdempotencyHeader)
	if key == "" || r.Method != http.MethodPost || store == nil {
		next.ServeHTTP(w, r)
		return
	}
	if len(key) > 255 || !printable(key) {
		writeError(w, r, apperr.Validation(apperr.FieldError{Field: IdempotencyHeader, Message: "must be 1 to 255 printable ASCII characters"}))
		return
	}
	a, _ := access.ActorFrom(r.Context())
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// The body's hash is keyed with the Idempotency-Key, which the table
	// never holds: a body with a password in it (a sign-in, a reset) is no
	// cheaper to guess from a copy of the table than the key itself.
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	sum := mac.Sum(nil)
	scope := sha256.Sum256([]byte(a.ID + "\x00" + route.Name + "\x00" + key))
	claim := &idempotency.Claim{Key: hex.EncodeToString(scope[:]), BodyHash: hex.EncodeToString(sum), At: access.RequestFrom(r.Context()).Now}

	if done, err := replay(store, w, r, claim); done || err != nil {
		if err != nil {
			writeError(w, r, err)
		}
		return
	}
	buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(buf, r.WithContext(idempotency.WithClaim(r.Context(), claim)))
	if buf.status == http.StatusConflict && buf.problemCode() == idempotency.ErrInFlight.Code {
		// A racing request with this key committed first: answer as it did.
		if done, err := replay(store, w, r, claim); done || err != nil {
			if err != nil {
				writeError(w, r, err)
			}
			return
		}
	}
	if buf.status < 300 {
		stored := http.Header{}
		for _, h := range []string{"Content-Type", "Location"} {
			if v := buf.header.Get(h); v != "" {
				stored.Set(h, v)
			}
		}
		if err := store.SaveIdempotency(r.Context(), claim, buf.status, stored, buf.body.Bytes(), route.Secret, subjectOf(buf.body.Bytes())); err != nil && !errors.Is(err, idempotency.ErrInFlight) {
			// The change is applied; only its replay is lost. Say so in the
			// log and still answer the client truthfully.
			loggerFrom(r.Context()).Error("idempotency: response not saved", "error", err.Error())
		}
	}
	buf.flush(w)
}

// replay answers from the key's record, if there is one.
func replay(store IdempotencyStore, w http.ResponseWriter, r *http.Request, c *idempotency.Claim) (bool, error) {
	rec, err := store.GetIdempotency(r.Context(), c.Key)
	switch {
	case err != nil:
		return false, err
	case rec == nil:
		return false, nil
	case rec.BodyHash != c.BodyHash:
		return false, idempotency.ErrConflict
	case !rec.Done:
		return false, idempotency.ErrInFlight
	case rec.Secret:
		return false, idempotency.ErrSecretNotKept
	}
	for k, v := range rec.Header {
		w.Header()[k] = v
	}
	w.Header().Set(replayedHeader, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
	return true, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// bufferedWriter holds a response until it is known whether to keep it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) { b.status = status }

// problemCode returns the code of a problem details response.
func (b *bufferedWriter) problemCode() string {
	var p Problem
	_ = json.Unmarshal(b.body.Bytes(), &p)
	return p.Code
}

func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedWriter) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// subjectOf names the user a kept response shows, so that anonymizing or
// purging them removes it too: a user ({"id": "usr_..."}), what belongs to
// one ({"user_id": ...}), or a sign-in's answer ({"user": {"id": ...}}).
func subjectOf(body []byte) string {
	var top struct {
		ID     string `json:"id"`
		UserID string `json:"user_id"`
		User   struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	for _, id := range []string{top.ID, top.UserID, top.User.ID} {
		if ids.Valid("usr", id) {
			return id
		}
	}
	return ""
}
