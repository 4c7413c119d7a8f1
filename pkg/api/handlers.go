package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/pages"
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

type usageMarker interface {
	MarkUsed(ctx context.Context) error
}

// MarkUsed is POST /me/usage.
func MarkUsed(svc usageMarker) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.MarkUsed(r.Context())
	})
}

type userLister interface {
	List(ctx context.Context, q users.ListQuery) (users.Page, error)
}

// ListUsers is GET /users.
func ListUsers(svc userLister) http.Handler {
	return listPage([]string{"search", "status", "role", "team_id", "usage"}, func(r *http.Request, q url.Values, p pageQuery) (users.Page, error) {
		return svc.List(r.Context(), users.ListQuery{
			Status: users.Status(q.Get("status")),
			Role:   access.Role(q.Get("role")),
			TeamID: q.Get("team_id"),
			Usage:  users.Usage(q.Get("usage")),
			Search: q.Get("search"),
			Limit:  p.Limit,
			Cursor: p.Cursor,
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

type registerer interface {
	Register(ctx context.Context, in auth.RegisterInput) (*auth.LoginResult, error)
}

// Register is POST /auth/register.
func Register(svc registerer) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in auth.RegisterInput) (located[*auth.LoginResult], error) {
		res, err := svc.Register(r.Context(), in)
		if err != nil {
			return located[*auth.LoginResult]{}, err
		}
		return at(res, "/me"), nil
	})
}

type invitationCreator interface {
	Create(ctx context.Context, in invitations.CreateInput) (*invitations.Invitation, error)
}

// CreateInvitation is POST /invitations.
func CreateInvitation(svc invitationCreator) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in invitations.CreateInput) (*invitations.Invitation, error) {
		return svc.Create(r.Context(), in)
	})
}

type invitationLister interface {
	List(ctx context.Context, q invitations.ListQuery) (invitations.Page, error)
}

// ListInvitations is GET /invitations.
func ListInvitations(svc invitationLister) http.Handler {
	return listPage([]string{"status", "team_id"}, func(r *http.Request, q url.Values, p pageQuery) (invitations.Page, error) {
		return svc.List(r.Context(), invitations.ListQuery{
			Status: invitations.Status(q.Get("status")), TeamID: q.Get("team_id"), Limit: p.Limit, Cursor: p.Cursor,
		})
	})
}

type invitationResender interface {
	Resend(ctx context.Context, id string) (*invitations.Invitation, error)
}

// ResendInvitation is POST /invitations/{id}/resend.
func ResendInvitation(svc invitationResender) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (*invitations.Invitation, error) {
		return svc.Resend(r.Context(), r.PathValue("id"))
	})
}

type invitationCanceller interface {
	Cancel(ctx context.Context, id string) error
}

// CancelInvitation is DELETE /invitations/{id}.
func CancelInvitation(svc invitationCanceller) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.Cancel(r.Context(), r.PathValue("id"))
	})
}

type invitationLooker interface {
	Lookup(ctx context.Context, token string) (invitations.View, error)
}

// LookupInvitation is GET /invitations/lookup?token=.
func LookupInvitation(svc invitationLooker) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (invitations.View, error) {
		token, err := tokenParam(r)
		if err != nil {
			return invitations.View{}, err
		}
		return svc.Lookup(r.Context(), token)
	})
}

type invitationAccepter interface {
	Accept(ctx context.Context, in invitations.AcceptInput) (*auth.LoginResult, error)
}

// AcceptInvitation is POST /invitations/accept.
func AcceptInvitation(svc invitationAccepter) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in invitations.AcceptInput) (located[*auth.LoginResult], error) {
		res, err := svc.Accept(r.Context(), in)
		if err != nil {
			return located[*auth.LoginResult]{}, err
		}
		return at(res, "/me"), nil
	})
}

type invitationDecliner interface {
	Decline(ctx context.Context, in invitations.DeclineInput) error
}

// DeclineInvitation is POST /invitations/decline.
func DeclineInvitation(svc invitationDecliner) http.Handler {
	return withBody(http.StatusNoContent, func(r *http.Request, in invitations.DeclineInput) (none, error) {
		return none{}, svc.Decline(r.Context(), in)
	})
}

// Page serves a hosted page: its HTML, and the Content-Security-Policy that
// lets only its own inline style and script run. The token stays in the
// query string for the page's script to read; the server never looks at it.
func Page(p pages.Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", p.CSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(p.HTML)
		}
	})
}
