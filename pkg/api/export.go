package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/usermgmt/ums/pkg/users"
)

type exporter interface {
	Check(ctx context.Context, id string) (*users.User, error)
	Write(ctx context.Context, w io.Writer, u *users.User) error
}

// ExportUser is GET /users/{id}/export: the document is written as it is
// read. What may go wrong before the first byte (who asks, which user) is
// a problem answer; a read that fails after it leaves the document without
// its closing "complete": true, and the log has the cause.
func ExportUser(svc exporter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := query(r); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := svc.Check(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+u.ID+`.json"`)
		w.WriteHeader(http.StatusOK)
		if err := svc.Write(r.Context(), w, u); err != nil {
			loggerFrom(r.Context()).Error("export cut short", slog.String("error", err.Error()))
		}
	})
}
