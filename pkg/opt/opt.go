// Package opt has Field, a JSON field that tells "absent" from "null" from a
// value, which PATCH bodies need: {"team_id": null} unassigns, while a body
// without team_id leaves it alone. It imports only the standard library.
package opt

import "encoding/json"

// Field is one optional JSON field.
type Field[T any] struct {
	Set   bool // the field was in the body
	Null  bool // it was null
	Value T
}

// UnmarshalJSON records that the field was present, and whether it was null.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}
