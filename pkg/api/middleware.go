package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// Authenticator turns a bearer token into the caller and the settings, and
// reads along what the route will need, in the same round trip.
type Authenticator interface {
	Authenticate(ctx context.Context, token string, along auth.Along) (access.Actor, settings.Snapshot, users.Read, error)
}

// RequestIDHeader carries the request's id on every response and in logs.
const RequestIDHeader = "X-Request-Id"

// requestIDPattern is what a request id set by the gateway adapter may look
// like; anything else is replaced, so no client text reaches the logs as an id.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9=_-]{8,64}$`)

type loggerKey struct{}

// loggerFrom returns the request's logger, which carries its request id.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Options are what Wrap needs besides the route.
type Options struct {
	Auth    Authenticator
	Log     *slog.Logger
	Timeout time.Duration
	// Now is the clock; nil means time.Now. Tests move it to cross expiries.
	Now func() time.Time
	// Idempotency keeps Idempotency-Key records; nil turns the convention off.
	Idempotency IdempotencyStore
}

// Wrap gives a route's handler everything every route shares: a request id,
// the security headers of its kind, panic recovery, one access log line, the
// request's facts for the domain, the route's access level (deny by default:
// a route with no access level refuses everyone) and, on POST, the
// Idempotency-Key convention. The gateway adapter and the dev server have
// already set r.RemoteAddr to the client's address as the gateway saw it,
// and may have set X-Request-Id.
func Wrap(route routes.Route, h http.Handler, o Options) http.Handler {
	authn, log := o.Auth, o.Log
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		id := r.Header.Get(RequestIDHeader)
		if !requestIDPattern.MatchString(id) {
			id = strings.TrimPrefix(ids.New("req"), "req_")
		}
		w.Header().Set(RequestIDHeader, id)
		SecurityHeaders(w.Header(), route.Kind)

		ip := clientIP(r.RemoteAddr)
		rlog := log.With(slog.String("request_id", id))
		ctx, cancel := context.WithTimeout(r.Context(), o.Timeout)
		defer cancel()
		ctx = context.WithValue(ctx, loggerKey{}, rlog)
		calls := new(atomic.Int32)
		ctx = access.WithRequest(ctx, access.Request{ID: id, IP: ip, UserAgent: r.UserAgent(), Route: route.Name, Now: start, Calls: calls})
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		actorID := ""
		defer func() {
			if p := recover(); p != nil {
				rlog.Error("panic", slog.String("panic", fmt.Sprint(p)))
				if !rec.wrote {
					writeError(rec, r.WithContext(ctx), apperr.ErrInternal)
				}
			}
			rlog.Info("request",
				slog.String("route", route.Name),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path), // never the query: it may carry a token
				slog.Int("status", rec.status),
				slog.Int64("duration_ms", now().Sub(start).Milliseconds()),
				slog.String("ip", ip),
				slog.String("actor_id", actorID),
				slog.Int("dynamodb_calls", int(calls.Load())),
			)
		}()

		if credentialInQuery(r) {
			writeError(rec, r.WithContext(ctx), ErrCredentialInQuery)
			return
		}
		if route.Access != routes.Public {
			a, st, read, err := authenticate(ctx, authn, r, alongOf(route, r))
			if err != nil {
				writeError(rec, r.WithContext(ctx), err)
				return
			}
			actorID = a.ID
			if !allowed(route.Access, a.Role) {
				writeError(rec, r.WithContext(ctx), apperr.ErrForbidden)
				return
			}
			if ownAccountRoute(route) && !a.HasAccount() {
				writeError(rec, r.WithContext(ctx), auth.ErrNoAccount)
				return
			}
			ctx = access.WithActor(ctx, a)
			ctx = settings.WithSnapshot(ctx, st)
			ctx = users.WithRead(ctx, read)
		}
		if r.Method == http.MethodPost {
			withIdempotency(o.Idempotency, route, rec, r.WithContext(ctx), h)
			return
		}
		h.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// authenticate reads the bearer token. Only the Authorization header is
// read: a token in the query string would end up in access logs.
func authenticate(ctx context.Context, authn Authenticator, r *http.Request, along auth.Along) (access.Actor, settings.Snapshot, users.Read, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return access.Actor{}, settings.Snapshot{}, users.Read{}, apperr.ErrUnauthorized
	}
	return authn.Authenticate(ctx, strings.TrimSpace(token), along)
}

// ErrCredentialInQuery refuses a request with a session token or an API key
// in its query string, whatever else it carries: URLs end up in logs,
// browser histories and Referer headers, so a secret there counts as
// leaked, and accepting it would teach clients to send it.
var ErrCredentialInQuery = apperr.New(apperr.KindUnauthorized, "unauthorized",
	"Credentials go in the Authorization header, never in the URL; treat this one as leaked.")

// credentialInQuery reports whether a query parameter holds a session token
// or an API key.
func credentialInQuery(r *http.Request) bool {
	q := r.URL.RawQuery
	if !strings.Contains(q, auth.SessionPrefix) && !strings.Contains(q, auth.KeyPrefix) {
		return false
	}
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			if strings.HasPrefix(v, auth.SessionPrefix) || strings.HasPrefix(v, auth.KeyPrefix) {
				return true
			}
		}
	}
	return false
}

// ownAccountRoute reports whether a route is about the caller's own account
// (/me...), which a system key has not.
func ownAccountRoute(route routes.Route) bool {
	return route.Path == "/me" || strings.HasPrefix(route.Path, "/me/")
}

// alongOf is what the authentication reads along for the route: the user its
// path is about (/users/{id}...), and what the route's user holds if it
// answers with stats. What a route reads of its user does not depend on who
// asks, so it costs no round trip of its own; the service decides
// afterwards whether the caller may see it.
func alongOf(route routes.Route, r *http.Request) auth.Along {
	var a auth.Along
	if strings.HasPrefix(route.Path, "/users/{id}") {
		if id := r.PathValue("id"); ids.Valid("usr", id) {
			a.Users = []string{id}
		}
	}
	if route.Stats || route.Holds {
		a.StatsOfUsers, a.StatsOfSelf = len(a.Users) > 0, len(a.Users) == 0
	}
	return a
}

// allowed says whether a role may call a route of the given access level.
func allowed(level routes.Access, role access.Role) bool {
	switch level {
	case routes.Public, routes.SignedIn:
		return role.Valid()
	case routes.Manager:
		return role.AtLeast(access.Manager)
	case routes.Admin:
		return role == access.Admin
	}
	return false
}

func clientIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}
