// Package paging is what every list of the API answers with: one page of
// items, newest first, and the cursor of the next page.
//
// It imports the standard library and pkg/apperr.
package paging

import "github.com/usermgmt/ums/pkg/apperr"

// Page is one page of a list. NextCursor is null when nothing follows; a
// page may hold fewer items than asked for, even none, while it is not.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// ErrBadCursor reports a cursor the list did not issue, or issued for
// other filters.
var ErrBadCursor = apperr.Validation(apperr.FieldError{Field: "cursor", Message: "is not a cursor from this list"})
