// Package reference checks the service against its API reference,
// openapi.yaml: that the document is valid OpenAPI 3.1 with every example
// valid against its schema, that it describes exactly the routes of the
// table with their security, and that a response a test saw is one the
// document promises (status, headers, body). Tests use it; no function
// links it.
//
// It imports the standard library, pkg/routes and kin-openapi.
package reference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/usermgmt/ums/pkg/routes"
)

// Doc is the loaded reference.
type Doc struct {
	T *openapi3.T
}

var (
	loadOnce sync.Once
	loaded   *Doc
	loadErr  error
)

// Load reads and validates openapi.yaml at the repository root (root), once
// per process: the document, its references, and every example against its
// schema.
func Load(root string) (*Doc, error) {
	loadOnce.Do(func() {
		l := openapi3.NewLoader()
		t, err := l.LoadFromFile(filepath.Join(root, "openapi.yaml"))
		if err != nil {
			loadErr = fmt.Errorf("reference: load: %w", err)
			return
		}
		if err := t.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
			loadErr = fmt.Errorf("reference: invalid: %w", err)
			return
		}
		loaded = &Doc{T: t}
	})
	return loaded, loadErr
}

// Operation returns the operation of a route.
func (d *Doc) Operation(r routes.Route) (*openapi3.Operation, *openapi3.PathItem) {
	item := d.T.Paths.Value(r.Path)
	if item == nil {
		return nil, nil
	}
	return item.GetOperation(r.Method), item
}

// Statuses returns the statuses a route's operation documents, sorted.
func (d *Doc) Statuses(r routes.Route) []int {
	op, _ := d.Operation(r)
	if op == nil || op.Responses == nil {
		return nil
	}
	var out []int
	for code := range op.Responses.Map() {
		if n, err := strconv.Atoi(code); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Public reports whether a route's operation needs no credentials: its own
// security is the empty list.
func (d *Doc) Public(r routes.Route) bool {
	op, _ := d.Operation(r)
	return op != nil && op.Security != nil && len(*op.Security) == 0
}

// Exchange is one request a test made and the response it got.
type Exchange struct {
	Route   routes.Route
	Request *http.Request
	Status  int
	Header  http.Header
	Body    []byte
}

// Check returns what is wrong with a response by the reference: a status it
// does not document for the route, or headers or a body its schemas refuse.
func (d *Doc) Check(x Exchange) error {
	op, item := d.Operation(x.Route)
	if op == nil {
		return fmt.Errorf("%s: no operation in openapi.yaml", x.Route.Pattern())
	}
	req := x.Request.Clone(context.Background())
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: d.T, Path: x.Route.Path, PathItem: item, Method: x.Route.Method, Operation: op},
		},
		Status: x.Status,
		Header: x.Header,
		Body:   io.NopCloser(bytes.NewReader(x.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s -> %d: %s\nbody: %s", x.Route.Method, x.Request.URL.RequestURI(), x.Status,
			strings.ReplaceAll(err.Error(), "\n", "\n  "), truncate(x.Body, 600))
	}
	// A problem's code is one its response documents (x-codes).
	if ct := x.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/problem+json") {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(x.Body, &p)
		codes := responseCodes(op, x.Status)
		if !slices.Contains(codes, p.Code) {
			return fmt.Errorf("%s %s -> %d: code %q is not in the response's x-codes %v", x.Route.Method,
				x.Request.URL.RequestURI(), x.Status, p.Code, codes)
		}
	}
	return nil
}

// responseCodes returns the x-codes of an operation's response.
func responseCodes(op *openapi3.Operation, status int) []string {
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	list, _ := ref.Value.Extensions["x-codes"].([]any)
	var out []string
	for _, c := range list {
		if s, ok := c.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
