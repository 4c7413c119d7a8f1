package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

type loginer interface {
	Login(ctx context.Context, in auth.LoginInput) (*auth.LoginResult, error)
}

// Login is POST /auth/login.
func Login(svc loginer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in auth.LoginInput
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		res, err := svc.Login(r.Context(), in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

type logouter interface {
	Logout(ctx context.Context) error
}

// Logout is POST /auth/logout.
func Logout(svc logouter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Logout(r.Context()); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type meGetter interface {
	Me(ctx context.Context) (*users.User, error)
}

// GetMe is GET /me.
func GetMe(svc meGetter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.Me(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
}

type meUpdater interface {
	UpdateMe(ctx context.Context, p users.MePatch) (*users.User, error)
}

// UpdateMe is PATCH /me.
func UpdateMe(svc meUpdater) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p users.MePatch
		if err := decode(r, &p); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := svc.UpdateMe(r.Context(), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
}

type userLister interface {
	List(ctx context.Context, q users.ListQuery) (users.Page, error)
}

// ListUsers is GET /users.
func ListUsers(svc userLister) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := onlyParams(q, "limit", "cursor", "status", "role", "team_id", "usage"); err != nil {
			writeError(w, r, err)
			return
		}
		limit, err := limitParam(q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		page, err := svc.List(r.Context(), users.ListQuery{
			Status: users.Status(q.Get("status")),
			Role:   access.Role(q.Get("role")),
			TeamID: q.Get("team_id"),
			Usage:  users.Usage(q.Get("usage")),
			Limit:  limit,
			Cursor: q.Get("cursor"),
		})
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// onlyParams refuses query parameters a route does not know, and repeated
// ones, so a typo in a filter is an error rather than a silently wider list.
func onlyParams(q url.Values, known ...string) error {
	var bad apperr.Fields
	for name, values := range q {
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		switch {
		case !ok:
			bad.Add(name, "is not a parameter of this route")
		case len(values) > 1:
			bad.Add(name, "appears more than once")
		}
	}
	return bad.Err()
}

// limitParam reads ?limit= (1..100, default 50).
func limitParam(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, apperr.Validation(apperr.FieldError{Field: "limit", Message: "must be a whole number from 1 to 100"})
	}
	return n, nil
}

type userCreator interface {
	Create(ctx context.Context, in users.CreateInput) (*users.User, error)
}

// CreateUser is POST /users.
func CreateUser(svc userCreator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in users.CreateInput
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := svc.Create(r.Context(), in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/users/"+u.ID)
		writeJSON(w, http.StatusCreated, u)
	})
}

type userGetter interface {
	Get(ctx context.Context, id string) (*users.User, error)
}

// GetUser is GET /users/{id}.
func GetUser(svc userGetter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
}

type userUpdater interface {
	Update(ctx context.Context, id string, p users.Patch) (*users.User, error)
}

// UpdateUser is PATCH /users/{id}.
func UpdateUser(svc userUpdater) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p users.Patch
		if err := decode(r, &p); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := svc.Update(r.Context(), r.PathValue("id"), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
}

type settingsGetter interface {
	Get(ctx context.Context) (settings.Settings, error)
}

// GetSettings is GET /settings.
func GetSettings(svc settingsGetter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := svc.Get(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}

type settingsUpdater interface {
	Update(ctx context.Context, p settings.Patch) (settings.Settings, error)
}

// UpdateSettings is PATCH /settings.
func UpdateSettings(svc settingsUpdater) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p settings.Patch
		if err := decode(r, &p); err != nil {
			writeError(w, r, err)
			return
		}
		s, err := svc.Update(r.Context(), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}

type summarizer interface {
	Summary(ctx context.Context) (users.Summary, error)
}

// GetSummary is GET /summary.
func GetSummary(svc summarizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := svc.Summary(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}
