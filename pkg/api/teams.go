package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/usermgmt/ums/pkg/teams"
)

// The teams.

type teamLister interface {
	List(ctx context.Context, q teams.ListQuery) (teams.Page, error)
}

// ListTeams is GET /teams.
func ListTeams(svc teamLister) http.Handler {
	return listPage(nil, func(r *http.Request, _ url.Values, p pageQuery) (teams.Page, error) {
		return svc.List(r.Context(), teams.ListQuery{Limit: p.Limit, Cursor: p.Cursor})
	})
}

type teamCreator interface {
	Create(ctx context.Context, in teams.Input) (teams.Team, error)
}

// CreateTeam is POST /teams.
func CreateTeam(svc teamCreator) http.Handler {
	return withBody(http.StatusCreated, func(r *http.Request, in teams.Input) (located[teams.Team], error) {
		t, err := svc.Create(r.Context(), in)
		if err != nil {
			return located[teams.Team]{}, err
		}
		return at(t, "/teams/"+t.ID), nil
	})
}

type teamUpdater interface {
	Update(ctx context.Context, id string, in teams.Input, ifMatch []string) (teams.Team, error)
}

// UpdateTeam is PATCH /teams/{id}.
func UpdateTeam(svc teamUpdater) http.Handler {
	return withBody(http.StatusOK, func(r *http.Request, in teams.Input) (teams.Team, error) {
		return svc.Update(r.Context(), r.PathValue("id"), in, ifMatch(r))
	})
}

type teamDeleter interface {
	Delete(ctx context.Context, id string) error
}

// DeleteTeam is DELETE /teams/{id}.
func DeleteTeam(svc teamDeleter) http.Handler {
	return noBody(http.StatusNoContent, func(r *http.Request) (none, error) {
		return none{}, svc.Delete(r.Context(), r.PathValue("id"))
	})
}
