package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/paging"
)

// API keys: the caller's personal keys, and the system keys.

type keyKeeper interface {
	MyKeys(ctx context.Context) (paging.Page[*auth.APIKey], error)
	CreateMyKey(ctx context.Context, in auth.PersonalKeyInput) (*auth.NewKey, error)
	DeleteMyKey(ctx context.Context, id string) error
	SystemKeys(ctx context.Context, limit int, cursor string) (paging.Page[*auth.APIKey], error)
	CreateSystemKey(ctx context.Context, in auth.SystemKeyInput) (*auth.NewKey, error)
	DeleteSystemKey(ctx context.Context, id string) error
}

// ListMyAPIKeys is GET /me/api-keys: every key of the caller's, in one page.
func ListMyAPIKeys(svc keyKeeper) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (paging.Page[*auth.APIKey], error) {
		if _, err := query(r); err != nil {
			return paging.Page[*auth.APIKey]{}, err
		}
		return svc.MyKeys(r.Context())
	})
}

// CreateMyAPIKey is POST /me/api-keys.
func CreateMyAPIKey(svc keyKeeper) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in auth.PersonalKeyInput) (located[*auth.NewKey], error) {
		k, err := svc.CreateMyKey(r.Context(), in)
		if err != nil {
			return located[*auth.NewKey]{}, err
		}
		return at(k, "/me/api-keys/"+k.ID), nil
	})
}

// DeleteMyAPIKey is DELETE /me/api-keys/{id}.
func DeleteMyAPIKey(svc keyKeeper) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.DeleteMyKey(r.Context(), r.PathValue("id"))
	})
}

// ListAPIKeys is GET /api-keys: the system keys, newest first.
func ListAPIKeys(svc keyKeeper) http.Handler {
	return listPage(nil, func(r *http.Request, _ url.Values, p pageQuery) (paging.Page[*auth.APIKey], error) {
		return svc.SystemKeys(r.Context(), p.Limit, p.Cursor)
	})
}

// CreateAPIKey is POST /api-keys.
func CreateAPIKey(svc keyKeeper) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in auth.SystemKeyInput) (located[*auth.NewKey], error) {
		k, err := svc.CreateSystemKey(r.Context(), in)
		if err != nil {
			return located[*auth.NewKey]{}, err
		}
		return at(k, "/api-keys/"+k.ID), nil
	})
}

// DeleteAPIKey is DELETE /api-keys/{id}.
func DeleteAPIKey(svc keyKeeper) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.DeleteSystemKey(r.Context(), r.PathValue("id"))
	})
}
