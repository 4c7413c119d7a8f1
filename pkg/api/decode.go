package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/usermgmt/ums/pkg/apperr"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

var (
	errMalformed   = apperr.Invalid("malformed_json", "The body is not valid JSON.")
	errTooLarge    = apperr.New(apperr.KindTooLarge, "payload_too_large", "The body is larger than 64 KiB.")
	errMediaType   = apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Send the body as application/json.")
	errBodyMissing = apperr.Invalid("malformed_json", "A JSON object body is required.")
)

// decode reads the request's JSON object into dst strictly: the media type
// must be JSON, unknown fields and repeated keys are refused, and nothing may
// follow the object.
func decode(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errBodyMissing
	}
	if field, err := firstDuplicateKey(body); err != nil {
		return errMalformed
	} else if field != "" {
		return apperr.Validation(apperr.FieldError{Field: field, Message: "appears more than once"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformed
	}
	return nil
}

// readBody reads the body within MaxBody and checks its media type.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
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

// decodeError names the field a type error is about, or says the JSON is
// malformed.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			return apperr.Invalid("malformed_json", "The body must be a JSON object.")
		}
		return apperr.Validation(apperr.FieldError{Field: field, Message: "must be a " + jsonType(typeErr.Type.Kind().String())})
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ := strconv.Unquote(msg)
		return apperr.Validation(apperr.FieldError{Field: field, Message: "is not a field of this request"})
	}
	return errMalformed
}

func jsonType(kind string) string {
	switch {
	case kind == "string", kind == "ptr":
		return "string"
	case kind == "bool":
		return "boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "struct", kind == "map":
		return "object"
	case kind == "slice":
		return "array"
	}
	return "value of another type"
}

// firstDuplicateKey returns the first key that appears twice in one object
// ("a.b" for nested objects), or an error for invalid JSON. Go's decoder
// would silently keep the last, letting a body say two things at once.
func firstDuplicateKey(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
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
