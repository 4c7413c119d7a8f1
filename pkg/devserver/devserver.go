package devserver

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/usermgmt/ums/pkg/api"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/routes"
)

// New returns the handler serving every route of the table.
func New(a *app.App) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, r := range routes.All {
		h, err := a.Handler(r.Name)
		if err != nil {
			return nil, err
		}
		mux.Handle(r.Pattern(), h)
	}
	return &server{mux: mux, origins: a.Config.CORSOrigins}, nil
}

type server struct {
	mux     *http.ServeMux
	origins []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Like API Gateway, the server chooses the request id.
	r.Header.Del(api.RequestIDHeader)
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(s.origins, origin) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", api.RequestIDHeader+", Retry-After, Location")
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
			h.Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// noRoute answers a request no route matches: 405 with Allow when the path
// exists under other methods, else 404.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range routes.All {
		probe := r.Clone(r.Context())
		probe.Method = rt.Method
		if _, p := s.mux.Handler(probe); p == rt.Pattern() {
			allow = append(allow, rt.Method)
		}
	}
	status, code, detail := http.StatusNotFound, "not_found", "No route matches this path."
	if len(allow) > 0 {
		status, code, detail = http.StatusMethodNotAllowed, "method_not_allowed", "This path does not accept "+r.Method+"."
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	w.Header().Set(api.RequestIDHeader, strings.TrimPrefix(ids.New("req"), "req_"))
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Problem{
		Type: api.ProblemTypeBase + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code,
	})
}
