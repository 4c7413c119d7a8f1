package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/users"
)

// The account lifecycle, passwords, sessions and sign-in records.

// onUser is a route that acts on the user of its path and answers with it.
func onUser(status int, act func(ctx context.Context, id string) (*users.User, error)) http.Handler {
	return noBody(status, func(r *http.Request) (*users.User, error) {
		return act(r.Context(), r.PathValue("id"))
	})
}

type lifecycle interface {
	Deactivate(ctx context.Context, id string) (*users.User, error)
	Activate(ctx context.Context, id string) (*users.User, error)
	Delete(ctx context.Context, id string) (*users.User, error)
	Restore(ctx context.Context, id string) (*users.User, error)
	Anonymize(ctx context.Context, id string) (*users.User, error)
	EndSessions(ctx context.Context, id string) error
	SetPassword(ctx context.Context, id string, in users.SetPasswordInput) error
}

// DeactivateUser is POST /users/{id}/deactivate.
func DeactivateUser(svc lifecycle) http.Handler { return onUser(http.StatusOK, svc.Deactivate) }

// ActivateUser is POST /users/{id}/activate.
func ActivateUser(svc lifecycle) http.Handler { return onUser(http.StatusOK, svc.Activate) }

// DeleteUser is DELETE /users/{id}: 202, as the user is only purged later.
func DeleteUser(svc lifecycle) http.Handler { return onUser(http.StatusAccepted, svc.Delete) }

// RestoreUser is POST /users/{id}/restore.
func RestoreUser(svc lifecycle) http.Handler { return onUser(http.StatusOK, svc.Restore) }

// AnonymizeUser is POST /users/{id}/anonymize.
func AnonymizeUser(svc lifecycle) http.Handler { return onUser(http.StatusOK, svc.Anonymize) }

// EndUserSessions is DELETE /users/{id}/sessions.
func EndUserSessions(svc lifecycle) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.EndSessions(r.Context(), r.PathValue("id"))
	})
}

// SetPassword is PUT /users/{id}/password.
func SetPassword(svc lifecycle) http.Handler {
	return withBody(http.StatusNoContent, func(r *http.Request, in users.SetPasswordInput) (none, error) {
		return none{}, svc.SetPassword(r.Context(), r.PathValue("id"), in)
	})
}

type passwordFlows interface {
	CreateReset(ctx context.Context, id string, in auth.CreateResetInput) (auth.ResetLink, error)
	Forgot(ctx context.Context, in auth.ForgotInput) error
	LookupReset(ctx context.Context, token string) (auth.ResetView, error)
	Reset(ctx context.Context, in auth.ResetInput) error
	ChangePassword(ctx context.Context, in auth.ChangeInput) error
}

// CreatePasswordReset is POST /users/{id}/password-reset.
func CreatePasswordReset(svc passwordFlows) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in auth.CreateResetInput) (auth.ResetLink, error) {
		return svc.CreateReset(r.Context(), r.PathValue("id"), in)
	})
}

// Accepted is the one answer to POST /auth/password/forgot, whatever the
// email: it says nothing about whether an account has it.
type Accepted struct {
	Message string `json:"message"`
}

var forgotAnswer = Accepted{Message: "If an active account has this email, a link to reset its password is on its way."}

// ForgotPassword is POST /auth/password/forgot.
func ForgotPassword(svc passwordFlows) http.Handler {
	return withBody(http.StatusAccepted, func(r *http.Request, in auth.ForgotInput) (Accepted, error) {
		return forgotAnswer, svc.Forgot(r.Context(), in)
	})
}

// LookupPasswordReset is GET /auth/password/reset?token=.
func LookupPasswordReset(svc passwordFlows) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (auth.ResetView, error) {
		token, err := tokenParam(r)
		if err != nil {
			return auth.ResetView{}, err
		}
		return svc.LookupReset(r.Context(), token)
	})
}

// tokenParam reads the ?token= a public lookup takes, and nothing else.
func tokenParam(r *http.Request) (string, error) {
	q, err := query(r, "token")
	if err != nil {
		return "", err
	}
	if q.Get("token") == "" {
		return "", apperr.Validation(apperr.FieldError{Field: "token", Message: "is required"})
	}
	return q.Get("token"), nil
}

// ResetPassword is POST /auth/password/reset.
func ResetPassword(svc passwordFlows) http.Handler {
	return withBody(http.StatusNoContent, func(r *http.Request, in auth.ResetInput) (none, error) {
		return none{}, svc.Reset(r.Context(), in)
	})
}

// ChangePassword is POST /me/password.
func ChangePassword(svc passwordFlows) http.Handler {
	return withBody(http.StatusNoContent, func(r *http.Request, in auth.ChangeInput) (none, error) {
		return none{}, svc.ChangePassword(r.Context(), in)
	})
}

type sessionKeeper interface {
	MySessions(ctx context.Context) (paging.Page[*auth.Session], error)
	EndMySession(ctx context.Context, id string) error
	UserSessions(ctx context.Context, id string) (paging.Page[*auth.Session], error)
	ListSessions(ctx context.Context, q auth.SessionQuery) (paging.Page[*auth.Session], error)
	EndSession(ctx context.Context, id string) error
	ListAttempts(ctx context.Context, q auth.AttemptQuery) (paging.Page[*auth.Attempt], error)
}

// ListMySessions is GET /me/sessions.
func ListMySessions(svc sessionKeeper) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (paging.Page[*auth.Session], error) {
		if _, err := query(r); err != nil {
			return paging.Page[*auth.Session]{}, err
		}
		return svc.MySessions(r.Context())
	})
}

// DeleteMySession is DELETE /me/sessions/{id}.
func DeleteMySession(svc sessionKeeper) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.EndMySession(r.Context(), r.PathValue("id"))
	})
}

// ListUserSessions is GET /users/{id}/sessions.
func ListUserSessions(svc sessionKeeper) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (paging.Page[*auth.Session], error) {
		if _, err := query(r); err != nil {
			return paging.Page[*auth.Session]{}, err
		}
		return svc.UserSessions(r.Context(), r.PathValue("id"))
	})
}

// ListSessions is GET /sessions.
func ListSessions(svc sessionKeeper) http.Handler {
	return listPage([]string{"user_id"}, func(r *http.Request, q url.Values, p pageQuery) (paging.Page[*auth.Session], error) {
		return svc.ListSessions(r.Context(), auth.SessionQuery{UserID: q.Get("user_id"), Limit: p.Limit, Cursor: p.Cursor})
	})
}

// DeleteSession is DELETE /sessions/{id}.
func DeleteSession(svc sessionKeeper) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.EndSession(r.Context(), r.PathValue("id"))
	})
}

// ListLoginAttempts is GET /login-attempts.
func ListLoginAttempts(svc sessionKeeper) http.Handler {
	return listPage([]string{"user_id", "success", "since"}, func(r *http.Request, q url.Values, p pageQuery) (paging.Page[*auth.Attempt], error) {
		aq := auth.AttemptQuery{UserID: q.Get("user_id"), Limit: p.Limit, Cursor: p.Cursor}
		var err error
		if aq.Success, aq.Since, err = attemptFilters(q); err != nil {
			return paging.Page[*auth.Attempt]{}, err
		}
		return svc.ListAttempts(r.Context(), aq)
	})
}

// attemptFilters reads ?success= (true or false) and ?since= (RFC 3339).
func attemptFilters(q url.Values) (*bool, time.Time, error) {
	var bad apperr.Fields
	var success *bool
	if s := q.Get("success"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			bad.Add("success", "must be true or false")
		} else {
			success = &b
		}
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			bad.Add("since", "must be an RFC 3339 time, e.g. 2026-03-02T09:15:27Z")
		}
		since = t
	}
	return success, since, bad.Err()
}
