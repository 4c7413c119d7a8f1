package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Every handler is one of two shapes: decode a body, call one service
// method, encode its result; or the same without a body. Everything else a
// route shares is in Wrap.

// noBody is a route without a request body.
func noBody[Out any](status int, call func(r *http.Request) (Out, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := call(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respond(w, status, out)
	})
}

// withBody is a route that takes a JSON object, decoded strictly into In.
func withBody[In, Out any](status int, call func(r *http.Request, in In) (Out, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := decode(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		out, err := call(r, in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respond(w, status, out)
	})
}

// none is the result of a route that answers without a body (204, 202).
type none struct{}

// revisioned is a result with a version a client can send back in If-Match.
type revisioned interface{ Revision() string }

// located is a result that names where the created resource lives.
type located[T any] struct {
	value T
	path  string
}

func at[T any](v T, path string) located[T] { return located[T]{v, path} }

// respond writes a result: its ETag, its Location, and JSON unless the
// result is none.
func respond(w http.ResponseWriter, status int, out any) {
	if l, ok := out.(interface{ location() (any, string) }); ok {
		var path string
		out, path = l.location()
		w.Header().Set("Location", path)
	}
	if v, ok := out.(revisioned); ok {
		if rev := v.Revision(); rev != "" {
			w.Header().Set("ETag", `"`+rev+`"`)
		}
	}
	if _, empty := out.(none); empty {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

func (l located[T]) location() (any, string) { return l.value, l.path }

// ifMatch reads If-Match as the revisions the client accepts: nil when the
// header is absent or "*" (any revision will do), otherwise the revisions of
// its strong entity tags. A weak tag (W/"3") never matches, as RFC 9110
// requires of If-Match; a header that lists only weak or malformed tags
// gets a list no revision matches.
func ifMatch(r *http.Request) []string {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil
	}
	revs := []string{}
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
			revs = append(revs, tag[1:len(tag)-1])
		}
	}
	if len(revs) == 0 {
		revs = append(revs, "\x00") // matches nothing
	}
	return revs
}

// query reads the query parameters a route knows: an unknown parameter, a
// repeated one or one that is not UTF-8 is refused, so that a typo in a
// filter is an error rather than a silently wider list.
func query(r *http.Request, known ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, apperr.Validation(apperr.FieldError{Field: "query", Message: "is not a valid query string"})
	}
	var bad apperr.Fields
	for name, values := range q {
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		switch {
		case !utf8.ValidString(name):
			bad.Add("query", "has a parameter name that is not UTF-8")
		case !ok:
			bad.Add(name, "is not a parameter of this route")
		case len(values) > 1:
			bad.Add(name, "appears more than once")
		case !utf8.ValidString(values[0]):
			bad.Add(name, "must be valid UTF-8")
		}
	}
	return q, bad.Err()
}

// limitParam reads ?limit= (1..100, default 50).
func limitParam(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, apperr.Validation(apperr.FieldError{Field: "limit", Message: "must be a whole number from 1 to 100"})
	}
	return n, nil
}
