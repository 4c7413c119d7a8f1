package api

import (
	"context"
	"net/http"

	"github.com/usermgmt/ums/pkg/audit"
)

type auditLister interface {
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}

// ListAuditEvents is GET /audit-events.
func ListAuditEvents(svc auditLister) http.Handler {
	return noBody(http.StatusOK, func(r *http.Request) (audit.Page, error) {
		q, err := query(r, "limit", "cursor", "actor_id", "target_id", "action", "since")
		if err != nil {
			return audit.Page{}, err
		}
		limit, err := limitParam(q)
		if err != nil {
			return audit.Page{}, err
		}
		_, since, err := attemptFilters(q)
		if err != nil {
			return audit.Page{}, err
		}
		return svc.List(r.Context(), audit.Query{
			ActorID: q.Get("actor_id"), TargetID: q.Get("target_id"), Action: q.Get("action"),
			Since: since, Limit: limit, Cursor: q.Get("cursor"),
		})
	})
}
