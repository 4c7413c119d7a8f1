package api

import (
	"net/http"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/console"
)

// ErrNoConsoleFile answers a name the console does not serve: a stale hash
// too, since a document that names it is itself stale.
var ErrNoConsoleFile = apperr.NotFound("not_found", "The console has no such file; reload /console.")

// Console is GET /console: the admin console's document. It is never
// cached (the middleware's no-store), since it names the current files.
func Console(b *console.Bundle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", console.CSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b.Index)
	})
}

// ConsoleFile is GET /console/{file}: one of the console's scripts or
// styles, by its content-hashed name. What a name holds never changes, so
// the browser keeps it for a year without asking again; any other name
// is 404.
func ConsoleFile(b *console.Bundle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := b.Lookup(r.PathValue("file"))
		if !ok {
			writeError(w, r, ErrNoConsoleFile)
			return
		}
		w.Header().Set("Content-Security-Policy", console.CSP)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Type", f.Type)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(f.Body)
	})
}
