package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/apperr"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

var (
	errMalformed   = apperr.Invalid("malformed_json", "The body is not valid JSON.")
	errNotObject   = apperr.Invalid("malformed_json", "The body must be one JSON object.")
	errNotUTF8     = apperr.Invalid("malformed_json", "The body is not valid UTF-8.")
	errTooLarge    = apperr.New(apperr.KindTooLarge, "payload_too_large", "The body is larger than 64 KiB.")
	errMediaType   = apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Send the body as application/json.")
	errBodyMissing = apperr.Invalid("malformed_json", "A JSON object body is required.")
	errBodyCut     = apperr.Invalid("malformed_json", "The body ended before its declared length.")
)

// Checker is an input that can name its bad fields by itself, without
// storage. When some fields of a body cannot even be decoded (a string where
// a number belongs), the decoder asks the input for the problems of the
// fields it could decode, so that one answer names every bad field.
type Checker interface {
	Check(ctx context.Context) apperr.Fields
}

// decode reads the request's JSON object into dst, strictly:
//   - the media type is JSON and the body valid UTF-8;
//   - the body is one object (not null, not an array) and nothing follows it;
//   - every key is exactly the name of a field of dst (Go's decoder would
//     match "ROLE" to role), and no key appears twice, at any depth;
//   - every bad field is reported at once: unknown, repeated or mistyped
//     ones, and, when there are any, what dst's Check finds in the rest.
func decode(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	bad, err := decodeObject(body, dst)
	if err != nil {
		return err
	}
	if len(bad) == 0 {
		return nil
	}
	if c, ok := dst.(Checker); ok {
		reported := map[string]bool{}
		for _, f := range bad {
			reported[topField(f.Field)] = true
		}
		for _, f := range c.Check(r.Context()) {
			if !reported[topField(f.Field)] {
				bad = append(bad, f)
			}
		}
	}
	return bad.Err()
}

func topField(field string) string {
	name, _, _ := strings.Cut(field, ".")
	return name
}

// decodeObject decodes body into the struct dst points to and returns the
// fields it could not take; an error means the body is no JSON object.
func decodeObject(body []byte, dst any) (apperr.Fields, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errBodyMissing
	}
	if !utf8.Valid(body) {
		return nil, errNotUTF8
	}
	v := reflect.ValueOf(dst).Elem()
	fields := fieldsOf(v.Type())

	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil {
		return nil, errMalformed
	} else if tok != json.Delim('{') {
		return nil, errNotObject
	}
	var bad apperr.Fields
	seen := map[string]bool{}
	type pending struct {
		name string
		raw  json.RawMessage
	}
	var values []pending
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errMalformed
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errMalformed
		}
		_, known := fields[name]
		switch {
		case seen[name]:
			bad.Add(name, "appears more than once")
		case !known:
			bad.Add(name, "is not a field of this request")
		}
		if dup, err := firstDuplicateKey(raw); err != nil {
			return nil, errMalformed
		} else if dup != "" {
			bad.Add(name+"."+dup, "appears more than once")
		}
		if known && !seen[name] {
			values = append(values, pending{name, raw})
		}
		seen[name] = true
	}
	if _, err := dec.Token(); err != nil {
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotObject
	}
	for _, p := range values {
		field := v.FieldByIndex(fields[p.name]).Addr().Interface()
		if err := json.Unmarshal(p.raw, field); err != nil {
			bad.Add(p.name, typeMessage(err))
		}
	}
	return bad, nil
}

// fieldsOf maps each JSON name of a struct's fields to the field's index.
var fieldCache sync.Map // reflect.Type -> map[string][]int

func fieldsOf(t reflect.Type) map[string][]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Index
	}
	fieldCache.Store(t, m)
	return m
}

// typeMessage says what a field's value should have been.
func typeMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return "is not a valid value"
	}
	k := typeErr.Type.Kind()
	switch {
	case k == reflect.String:
		return "must be a string"
	case k == reflect.Bool:
		return "must be true or false"
	case k >= reflect.Int && k <= reflect.Uint64:
		return "must be a whole number"
	case k == reflect.Float32 || k == reflect.Float64:
		return "must be a number"
	case k == reflect.Struct || k == reflect.Map:
		return "must be an object"
	case k == reflect.Slice || k == reflect.Array:
		return "must be an array"
	}
	return "is not a value of the right type"
}

// readBody reads the body within MaxBody and checks its media type.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case errors.Is(err, io.ErrUnexpectedEOF), isTimeout(err):
		// The client sent less than its Content-Length and stopped.
		return nil, errBodyCut
	case err != nil:
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, errMediaType
		}
	}
	return body, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// firstDuplicateKey returns the first key that appears twice in one object
// of a JSON value ("a.b" for nested objects), or an error for invalid JSON.
// Go's decoder would silently keep the last, letting a body say two things
// at once.
func firstDuplicateKey(value []byte) (string, error) {
	if b := bytes.TrimSpace(value); len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var walk func(prefix string) (string, error)
	walk = func(prefix string) (string, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", err
				}
				k, _ := kt.(string)
				if seen[k] {
					return prefix + k, nil
				}
				seen[k] = true
				if dup, err := walk(prefix + k + "."); dup != "" || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return "", err
		case json.Delim('['):
			for dec.More() {
				if dup, err := walk(prefix); dup != "" || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return "", err
		}
		return "", nil
	}
	return walk("")
}
