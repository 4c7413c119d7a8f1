package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/usermgmt/ums/pkg/audit"
)

type auditLister interface {
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}

// ListAuditEvents is GET /audit-events.
func ListAuditEvents(svc auditLister) http.Handler {
	return listPage([]string{"actor_id", "target_id", "action", "since"}, func(r *http.Request, q url.Values, p pageQuery) (audit.Page, error) {
		_, since, err := attemptFilters(q)
		if err != nil {
			return audit.Page{}, err
		}
		return svc.List(r.Context(), audit.Query{
			ActorID: q.Get("actor_id"), TargetID: q.Get("target_id"), Action: q.Get("action"),
			Since: since, Limit: p.Limit, Cursor: p.Cursor,
		})
	})
}
