package devserver

import (
	"context"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/api"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/localstream"
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
	// ServeMux answers a path that is not clean ("//me", "/users/../me")
	// with a bare redirect; API Gateway matches no route for it.
	if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
		s.answer(w, http.StatusNotFound, "not_found", "No route matches this path.")
		return
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
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.answer(w, http.StatusMethodNotAllowed, "method_not_allowed", "This path does not accept "+r.Method+".")
		return
	}
	s.answer(w, http.StatusNotFound, "not_found", "No route matches this path.")
}

// answer writes a problem of the server's own, with the headers every
// response carries.
func (s *server) answer(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set(api.RequestIDHeader, strings.TrimPrefix(ids.New("req"), "req_"))
	api.SecurityHeaders(w.Header(), routes.JSON)
	api.WriteProblem(w, status, code, detail)
}

// Streams opens the app's table's stream in DynamoDB Local for the stream
// jobs (pkg/routes), as their event source mappings do in AWS: make run
// polls it; tests drain it.
func Streams(ctx context.Context, a *app.App) (*localstream.Reader, error) {
	var jobs []*localstream.Job
	for _, j := range routes.Jobs {
		if j.Stream == nil {
			continue
		}
		h, err := a.StreamJob(j.Name)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, &localstream.Job{Name: j.Name, Stream: *j.Stream, Handle: h})
	}
	return localstream.Open(ctx, a.Config.DynamoDBEndpoint, a.Config.Region, a.Config.TableName, jobs...)
}

// Server returns the HTTP server make run serves h with (and the tests):
// requests that stall are cut off, as API Gateway would, and headers are
// limited to API Gateway's 10 KiB.
func Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		// A body shorter than its Content-Length would otherwise hold the
		// handler until the client gives up.
		ReadTimeout:    10 * time.Second,
		WriteTimeout:   35 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 10 << 10,
	}
}
