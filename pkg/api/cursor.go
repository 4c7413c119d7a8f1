package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/settings"
)

// A list's next_cursor is the store's position, sealed: followed by an
// HMAC-SHA-256 (its first 128 bits) over the position, the list (method and
// path), its filters and the caller (who they are, their role and team),
// keyed by the installation's cursor key (read with the settings at
// authentication: no round trip of its own). A cursor is thus good only
// for the list, the filters and the caller it was issued to, and an altered
// or forged one is refused before it reaches the store. Positions carry no
// secret; the seal is about integrity, not secrecy.

// cursorTagBytes is the length of the tag kept: 128 bits.
const cursorTagBytes = 16

// ErrNoCursorKey is the answer when the table has no cursor key: it was
// not prepared (the prepare-table job), a deployment fault.
var ErrNoCursorKey = apperr.ErrInternal

// pageQuery is what a list route reads of paging: the page size and the
// store's position to continue from ("" for the first page).
type pageQuery struct {
	Limit  int
	Cursor string
}

// listPage is a list route: it reads the query (the route's filters, limit
// and cursor, nothing else), checks that the cursor is one this list
// issued to this caller for these filters, calls list with the query and
// the store's position, and seals the next page's cursor the same way.
func listPage[T any](filters []string, list func(r *http.Request, q url.Values, p pageQuery) (paging.Page[T], error)) http.Handler {
	known := append([]string{"limit", "cursor"}, filters...)
	return noBody(http.StatusOK, func(r *http.Request) (paging.Page[T], error) {
		q, err := query(r, known...)
		if err != nil {
			return paging.Page[T]{}, err
		}
		limit, err := limitParam(q)
		if err != nil {
			return paging.Page[T]{}, err
		}
		seal, err := cursorSeal(r, q, filters)
		if err != nil {
			return paging.Page[T]{}, err
		}
		p := pageQuery{Limit: limit}
		if c := q.Get("cursor"); c != "" {
			if p.Cursor, err = seal.open(c); err != nil {
				return paging.Page[T]{}, err
			}
		}
		page, err := list(r, q, p)
		if err != nil {
			return paging.Page[T]{}, err
		}
		if page.NextCursor != nil {
			sealed := seal.close(*page.NextCursor)
			page.NextCursor = &sealed
		}
		return page, nil
	})
}

// sealer seals and opens the cursors of one list, filters and caller.
type sealer struct {
	key     []byte
	binding string
}

// cursorSeal is the sealer of the request's list: its key from the
// settings read at authentication, its binding from the request.
func cursorSeal(r *http.Request, q url.Values, filters []string) (sealer, error) {
	ctx := r.Context()
	st, _ := settings.SnapshotFrom(ctx)
	if len(st.CursorKey) == 0 {
		loggerFrom(ctx).Error("no cursor key: the table was not prepared (run the prepare-table job)")
		return sealer{}, ErrNoCursorKey
	}
	a, _ := access.ActorFrom(ctx)
	var b strings.Builder
	b.WriteString("ums-cursor-1\x00" + r.Method + " " + r.URL.Path + "\x00")
	b.WriteString(string(a.Type) + ":" + a.ID + ":" + a.UserID + ":" + string(a.Role) + ":" + a.TeamID + "\x00")
	for _, f := range slices.Sorted(slices.Values(filters)) {
		b.WriteString(f + "=" + q.Get(f) + "\x00")
	}
	return sealer{key: st.CursorKey, binding: b.String()}, nil
}

func (s sealer) tag(position string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(s.binding))
	m.Write([]byte(position))
	return m.Sum(nil)[:cursorTagBytes]
}

// close seals a position: "<position>.<tag>". A position never holds '.'
// (it is base64url).
func (s sealer) close(position string) string {
	return position + "." + base64.RawURLEncoding.EncodeToString(s.tag(position))
}

// open returns the position of a cursor this sealer sealed, or
// paging.ErrBadCursor.
func (s sealer) open(cursor string) (string, error) {
	i := strings.LastIndexByte(cursor, '.')
	if i < 0 {
		return "", paging.ErrBadCursor
	}
	tag, err := base64.RawURLEncoding.DecodeString(cursor[i+1:])
	if err != nil || !hmac.Equal(tag, s.tag(cursor[:i])) {
		return "", paging.ErrBadCursor
	}
	return cursor[:i], nil
}
