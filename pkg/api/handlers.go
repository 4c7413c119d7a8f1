package api

import (
	"context"
	"net/http"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// Each handler takes the smallest interface it needs, declared beside it.

type loginer interface {
	Login(ctx context.Context, in auth.LoginInput) (*auth.LoginResult, error)
}

// Login is POST /auth/login.
func Login(svc loginer) http.Handler {
	return withBody(http.StatusOK, func(r *http.Request, in auth.LoginInput) (*auth.LoginResult, error) {
		return svc.Login(r.Context(), in)
	})
}

type logouter interface {
	Logout(ctx context.Context) error
}

// Logout is POST /auth/logout.
func Logout(svc logouter) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.Logout(r.Context())
	})
}

type meGetter interface {
	Me(ctx context.Context) (*users.User, error)
}

// GetMe is GET /me.
func GetMe(svc meGetter) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (*users.User, error) {
		return svc.Me(r.Context())
	})
}

type meUpdater interface {
	UpdateMe(ctx context.Context, p users.MePatch, ifMatch []string) (*users.User, error)
}

// UpdateMe is PATCH /me.
func UpdateMe(svc meUpdater) http.Handler {
	return withBody(http.StatusOK, func(r *http.Request, p users.MePatch) (*users.User, error) {
		return svc.UpdateMe(r.Context(), p, ifMatch(r))
	})
}

type userLister interface {
	List(ctx context.Context, q users.ListQuery) (users.Page, error)
}

// ListUsers is GET /users.
func ListUsers(svc userLister) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (users.Page, error) {
		q, err := query(r, "limit", "cursor", "status", "role", "team_id", "usage")
		if err != nil {
			return users.Page{}, err
		}
		limit, err := limitParam(q)
		if err != nil {
			return users.Page{}, err
		}
		return svc.List(r.Context(), users.ListQuery{
			Status: users.Status(q.Get("status")),
			Role:   access.Role(q.Get("role")),
			TeamID: q.Get("team_id"),
			Usage:  users.Usage(q.Get("usage")),
			Limit:  limit,
			Cursor: q.Get("cursor"),
		})
	})
}

type userCreator interface {
	Create(ctx context.Context, in users.CreateInput) (*users.User, error)
}

// CreateUser is POST /users.
func CreateUser(svc userCreator) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in users.CreateInput) (located[*users.User], error) {
		u, err := svc.Create(r.Context(), in)
		if err != nil {
			return located[*users.User]{}, err
		}
		return at(u, "/users/"+u.ID), nil
	})
}

type userGetter interface {
	Get(ctx context.Context, id string) (*users.User, error)
}

// GetUser is GET /users/{id}.
func GetUser(svc userGetter) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (*users.User, error) {
		return svc.Get(r.Context(), r.PathValue("id"))
	})
}

type userUpdater interface {
	Update(ctx context.Context, id string, p users.Patch, ifMatch []string) (*users.User, error)
}

// UpdateUser is PATCH /users/{id}.
func UpdateUser(svc userUpdater) http.Handler {
	return withBody(http.StatusOK, func(r *http.Request, p users.Patch) (*users.User, error) {
		return svc.Update(r.Context(), r.PathValue("id"), p, ifMatch(r))
	})
}

type settingsGetter interface {
	Get(ctx context.Context) (settings.Snapshot, error)
}

// GetSettings is GET /settings.
func GetSettings(svc settingsGetter) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (settings.Snapshot, error) {
		return svc.Get(r.Context())
	})
}

type settingsUpdater interface {
	Update(ctx context.Context, p settings.Patch, ifMatch []string) (settings.Snapshot, error)
}

// UpdateSettings is PATCH /settings.
func UpdateSettings(svc settingsUpdater) http.Handler {
	return withBody(http.StatusOK, func(r *http.Request, p settings.Patch) (settings.Snapshot, error) {
		return svc.Update(r.Context(), p, ifMatch(r))
	})
}

type summarizer interface {
	Summary(ctx context.Context) (users.Summary, error)
}

// GetSummary is GET /summary.
func GetSummary(svc summarizer) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (users.Summary, error) {
		return svc.Summary(r.Context())
	})
}
