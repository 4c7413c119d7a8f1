package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/idempotency"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/reference"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/teams"
	"github.com/usermgmt/ums/pkg/users"
)

// bodyOf is every route that takes a body, with the type its handler
// decodes it into. TestEveryBodyIsFuzzed keeps it equal to the routes whose
// reference documents a request body.
var bodyOf = map[string]func() any{
	"login":                 func() any { return new(auth.LoginInput) },
	"register":              func() any { return new(auth.RegisterInput) },
	"update-me":             func() any { return new(users.MePatch) },
	"create-user":           func() any { return new(users.CreateInput) },
	"update-user":           func() any { return new(users.Patch) },
	"update-settings":       func() any { return new(settings.Patch) },
	"create-invitation":     func() any { return new(invitations.CreateInput) },
	"accept-invitation":     func() any { return new(invitations.AcceptInput) },
	"decline-invitation":    func() any { return new(invitations.DeclineInput) },
	"set-password":          func() any { return new(users.SetPasswordInput) },
	"create-password-reset": func() any { return new(auth.CreateResetInput) },
	"forgot-password":       func() any { return new(auth.ForgotInput) },
	"reset-password":        func() any { return new(auth.ResetInput) },
	"change-password":       func() any { return new(auth.ChangeInput) },
	"create-team":           func() any { return new(teams.Input) },
	"update-team":           func() any { return new(teams.Input) },
	"create-my-api-key":     func() any { return new(auth.PersonalKeyInput) },
	"create-api-key":        func() any { return new(auth.SystemKeyInput) },
}

// bodyRoutes is bodyOf's routes in a stable order, for the fuzzer to pick
// from by number.
var bodyRoutes = func() []routes.Route {
	var out []routes.Route
	for _, r := range routes.All {
		if bodyOf[r.Name] != nil {
			out = append(out, r)
		}
	}
	return out
}()

func TestEveryBodyIsFuzzed(t *testing.T) {
	doc, err := reference.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.All {
		op, _ := doc.Operation(r)
		documented := op != nil && op.RequestBody != nil
		if documented != (bodyOf[r.Name] != nil) {
			t.Errorf("%s: the reference documents a body: %v; the fuzz target decodes one: %v", r.Name, documented, bodyOf[r.Name] != nil)
		}
	}
}

// admitted is the one token fuzzAuth accepts: an admin's session.
const admitted = "ums_fuzz"

type fuzzAuth struct{}

func (fuzzAuth) Authenticate(ctx context.Context, token string, along auth.Along) (access.Actor, settings.Snapshot, users.Read, error) {
	if token != admitted {
		return access.Actor{}, settings.Snapshot{}, users.Read{}, apperr.ErrUnauthorized
	}
	id := "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	return access.Actor{Type: access.ActorUser, ID: id, UserID: id, Role: access.Admin},
		settings.Snapshot{Settings: settings.Defaults()}, users.Read{}, nil
}

// fuzzKeys keeps Idempotency-Key records in memory: what the middleware
// does with them, not how the table stores them, is under test here.
type fuzzKeys struct {
	mu   sync.Mutex
	recs map[string]*idempotency.Record
}

func (k *fuzzKeys) GetIdempotency(_ context.Context, key string) (*idempotency.Record, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.recs[key], nil
}

func (k *fuzzKeys) SaveIdempotency(_ context.Context, c *idempotency.Claim, status int, header http.Header, body []byte, secret bool, _ string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.recs[c.Key] = &idempotency.Record{BodyHash: c.BodyHash, Done: true, Secret: secret, Status: status, Header: header, Body: bytes.Clone(body)}
	return nil
}

// decoding is the handler of a body route with its service cut off: it
// decodes the body as the route does, asks the input for its bad fields as
// the service would, keeps what it decoded in got and answers 200.
func decoding(newIn func() any, got *any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := newIn()
		if err := decode(r, in); err != nil {
			writeError(w, r, err)
			return
		}
		if c, ok := in.(Checker); ok {
			if err := c.Check(r.Context()).Err(); err != nil {
				writeError(w, r, err)
				return
			}
		}
		*got = in
		writeJSON(w, http.StatusOK, map[string]bool{"decoded": true})
	})
}

// clientCodes are the codes an answer to a request's form may carry;
// anything else (internal above all) is a fault of the server.
var clientCodes = []string{"malformed_json", "validation_failed", "payload_too_large", "unsupported_media_type", "unauthorized", "idempotency_conflict"}

// FuzzRequest sends a body route any body, content type, token,
// Idempotency-Key, If-Match and query, through the middleware every route
// shares and the route's own decoder. Whatever the input: no panic, no 5xx,
// every refusal is problem+json with a client code and the status it
// names, every answer carries the security headers; a body that decodes
// decodes again, unchanged, from its own re-encoding; and a request
// repeated with its Idempotency-Key gets the first answer again (or, where
// that answer carried a secret, idempotency_conflict).
func FuzzRequest(f *testing.F) {
	for i, r := range bodyRoutes {
		tok := admitted
		if r.Access == routes.Public {
			tok = ""
		}
		f.Add(uint8(i), "application/json", tok, "", "", "", []byte(`{}`))
		f.Add(uint8(i), "application/json; charset=utf-8", tok, "k-1", `"3"`, "", []byte(`{"email":"a@x.com","role":"member","name":"n","token":"umi_x.y","password":"pw","given_name":"G","family_name":"F"}`))
		f.Add(uint8(i), "application/merge-patch+json", tok, "", "W/\"1\", *", "", []byte(`{"team_id":null,"given_name":"\u202e","username":["a"],"display_name":{"x":1}}`))
		f.Add(uint8(i), "application/json", tok, "k\x01", "", "limit=5", []byte(`{"ROLE":"admin","dup":1,"dup":2,"a":{"b":1,"b":2}}`))
		f.Add(uint8(i), "text/plain", "umk_"+strings.Repeat("A", 43), "", "", "token=ums_x", []byte(`{"send_email":true,"end_sessions":false,"expires_in_days":1e400}`))
		f.Add(uint8(i), "application/json", tok, "", "", "", []byte("{\"a\":\"\xff\"}"))
		f.Add(uint8(i), "text/plain", tok, "", "", "", []byte(`{}`))
		f.Add(uint8(i), "", tok, "", "", "", []byte(strings.Repeat(" ", MaxBody+1)))
		f.Add(uint8(i), "application/json", tok, "", "", "", []byte(`{"license_count":-1,"password_min_length":9007199254740993,"allow_registration":"yes"} trailing`))
	}
	keys := &fuzzKeys{recs: map[string]*idempotency.Record{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, n uint8, contentType, token, idemKey, ifMatch, rawQuery string, body []byte) {
		route := bodyRoutes[int(n)%len(bodyRoutes)]
		var got any
		h := Wrap(route, decoding(bodyOf[route.Name], &got), Options{Auth: fuzzAuth{}, Log: log, Timeout: time.Second, Idempotency: keys})
		send := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(route.Method, "/x", bytes.NewReader(body))
			req.URL.RawQuery = rawQuery
			for k, v := range map[string]string{"Content-Type": contentType, "Authorization": "Bearer " + token, "Idempotency-Key": idemKey, "If-Match": ifMatch} {
				if v != "" && v != "Bearer " {
					req.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w
		}
		w := send()
		checkAnswer(t, w)
		if w.Code == http.StatusOK && got != nil {
			roundTrip(t, bodyOf[route.Name], got)
		}
		if idemKey != "" && route.Method == http.MethodPost && w.Code < 300 {
			again := send()
			if route.Secret {
				// The answer carried a secret, which is never kept: the retry
				// is told so, and given nothing.
				checkAnswer(t, again)
				if again.Code != http.StatusConflict || !strings.Contains(again.Body.String(), "idempotency_conflict") {
					t.Fatalf("the retry of a secret answer got %d %s", again.Code, again.Body)
				}
				return
			}
			if again.Code != w.Code || again.Body.String() != w.Body.String() || again.Header().Get(replayedHeader) != "true" {
				t.Fatalf("the retry with its Idempotency-Key got %d %s (replayed %q), the first %d %s",
					again.Code, again.Body, again.Header().Get(replayedHeader), w.Code, w.Body)
			}
		}
	})
}

// checkAnswer asserts what every answer to a malformed request must be.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, h := range []string{"Cache-Control", "X-Content-Type-Options", "Content-Security-Policy", RequestIDHeader} {
		if w.Header().Get(h) == "" {
			t.Fatalf("no %s: %d %s", h, w.Code, w.Body)
		}
	}
	if w.Code >= 500 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w.Code < 300 {
		return
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("a %d answered as %q: %s", w.Code, ct, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || !slices.Contains(clientCodes, p.Code) {
		t.Fatalf("a %d with the problem %s (%v)", w.Code, w.Body, err)
	}
}

// roundTrip checks that a decoded value decodes again, unchanged, from
// the body a client would write for it: the decoder drops or alters
// nothing it accepted.
func roundTrip(t *testing.T, newIn func() any, first any) {
	t.Helper()
	again, err := json.Marshal(clientForm(reflect.ValueOf(first).Elem()))
	if err != nil {
		t.Fatal(err)
	}
	second := newIn()
	bad, err := decodeObject(again, second)
	if err != nil || len(bad) > 0 {
		t.Fatalf("the re-encoding %s of an accepted body is refused: %v %v", again, err, bad)
	}
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("decoded %#v; its re-encoding %s decodes to %#v", first, again, second)
	}
}

// isOpt reports an opt.Field: a struct of Set, Null and Value.
func isOpt(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() != 3 {
		return false
	}
	_, s := t.FieldByName("Set")
	_, n := t.FieldByName("Null")
	_, val := t.FieldByName("Value")
	return s && n && val
}

// clientForm is the body a client would send for a decoded value: an
// unset optional field or a nil pointer is left out, a null one is null.
func clientForm(v reflect.Value) map[string]any {
	out := map[string]any{}
	for name, idx := range fieldsOf(v.Type()) {
		f := v.FieldByIndex(idx)
		switch {
		case isOpt(f.Type()):
			if !f.FieldByName("Set").Bool() {
				continue
			}
			if f.FieldByName("Null").Bool() {
				out[name] = nil
				continue
			}
			out[name] = f.FieldByName("Value").Interface()
		case f.Kind() == reflect.Pointer && f.IsNil():
		default:
			out[name] = f.Interface()
		}
	}
	return out
}

// FuzzQuery gives the query parser of the list routes any query string and
// If-Match header. Nothing panics; a refusal is always validation_failed
// naming a field; what is taken is UTF-8, known to the route and given
// once, with a limit from 1 to 100; and If-Match yields only the strong
// tags it holds, or a list nothing matches.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5&cursor=abc", "limit=0", "limit=101", "limit=-1", "limit=1e2", "limit=5&limit=6", "LIMIT=5",
		"status=active&role=member&team_id=t", "%zz", "a=%ff", "%ff=1", "search=\x00", "cursor=" + strings.Repeat("A", 3000), "&&==&"} {
		f.Add(s, `"3"`)
		f.Add(s, `W/"1", "2", *, "x`)
	}
	known := []string{"limit", "cursor", "status", "role", "team_id", "usage"}
	f.Fuzz(func(t *testing.T, raw, match string) {
		r := httptest.NewRequest("GET", "/users", nil)
		r.URL.RawQuery = raw
		r.Header.Set("If-Match", match)
		q, err := query(r, known...)
		if err == nil {
			for name, values := range q {
				if !slices.Contains(known, name) || len(values) != 1 || !utf8.ValidString(values[0]) {
					t.Fatalf("%q: took %s=%q", raw, name, values)
				}
			}
			if n, err := limitParam(q); err == nil && (n < 1 || n > 100) {
				t.Fatalf("%q: limit %d", raw, n)
			} else if err != nil {
				checkInvalid(t, raw, err)
			}
		} else {
			checkInvalid(t, raw, err)
		}
		for _, rev := range ifMatch(r) {
			if rev != "\x00" && !strings.Contains(match, `"`+rev+`"`) {
				t.Fatalf("If-Match %q: revision %q", match, rev)
			}
		}
	})
}

// checkInvalid asserts a refusal of a query: 400 validation_failed.
func checkInvalid(t *testing.T, raw string, err error) {
	t.Helper()
	e := apperr.As(err)
	if e.Kind != apperr.KindInvalid || e.Code != "validation_failed" || len(e.Fields) == 0 || StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("%q: refused with %v (kind %d, code %q)", raw, err, e.Kind, e.Code)
	}
}
