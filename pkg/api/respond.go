package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/usermgmt/ums/pkg/apperr"
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as problem details. Internal errors are logged with
// their cause; the client sees only "internal" and the request id.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
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
