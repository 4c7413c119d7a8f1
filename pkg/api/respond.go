package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/routes"
)

// statusOf is the one map from error kind to HTTP status.
var statusOf = map[apperr.Kind]int{
	apperr.KindInternal:     http.StatusInternalServerError,
	apperr.KindInvalid:      http.StatusBadRequest,
	apperr.KindUnauthorized: http.StatusUnauthorized,
	apperr.KindForbidden:    http.StatusForbidden,
	apperr.KindNotFound:     http.StatusNotFound,
	apperr.KindConflict:     http.StatusConflict,
	apperr.KindGone:         http.StatusGone,
	apperr.KindTooLarge:     http.StatusRequestEntityTooLarge,
	apperr.KindThrottled:    http.StatusTooManyRequests,
	apperr.KindUnavailable:  http.StatusServiceUnavailable,
	apperr.KindUnsupported:  http.StatusUnsupportedMediaType,
	apperr.KindPrecondition: http.StatusPreconditionFailed,
}

// StatusOf returns the HTTP status of an error, as the API answers it.
func StatusOf(err error) int {
	if s, ok := statusOf[apperr.As(err).Kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// JSONCSP is the Content-Security-Policy of every response that is not a
// page: nothing may load, nothing may frame it.
const JSONCSP = "default-src 'none'; frame-ancestors 'none'"

// SecurityHeaders sets the headers every response carries, whatever
// answers it (a route, the dev server's 404): nothing is cached, nothing is
// sniffed, nothing frames it, no referrer leaves, and HTTPS is remembered.
// Pages replace the Content-Security-Policy with their own (PageCSP).
func SecurityHeaders(h http.Header, kind routes.Kind) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("Content-Security-Policy", JSONCSP)
	if kind == routes.Page {
		h.Set("X-Frame-Options", "DENY")
	}
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   string              `json:"code"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
}

// ProblemTypeBase prefixes each problem's type URI; the code completes it.
const ProblemTypeBase = "https://usermgmt.dev/problems/"

// WriteProblem writes a problem details body with the given status and code,
// for answers that come from outside a route (the dev server's 404 and 405).
func WriteProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type: ProblemTypeBase + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as problem details. Internal errors are logged with
// their cause; the client sees only "internal" and the request id.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status := StatusOf(err)
	if status >= 500 {
		loggerFrom(r.Context()).Error("request failed", slog.String("code", e.Code), slog.String("error", err.Error()))
	}
	if e.Kind == apperr.KindInternal {
		e = apperr.ErrInternal
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+999_999_999)/1_000_000_000)))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:   ProblemTypeBase + e.Code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: e.Message,
		Code:   e.Code,
		Errors: e.Fields,
	})
}
