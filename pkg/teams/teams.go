// Package teams is the team concept: a named group of users that scopes what
// a manager sees and manages. It imports the standard library, pkg/access,
// pkg/apperr, pkg/audit, pkg/ids, pkg/paging, pkg/retry and pkg/users (whose
// rules for names team names follow).
package teams

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/users"
)

// Team is a group of users.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// MemberCount is the number of users whose team it is, kept exact: it
	// moves in the same transaction as every user that joins or leaves.
	MemberCount int       `json:"member_count"`
	CreatedAt   time.Time `json:"created_at"`
	// Version increases with every change of the team and guards against
	// lost updates; member counts do not change it.
	Version int `json:"-"`
	// Deleting is set while the team is being deleted: it is listed and
	// found no more, takes no member, and its users are being unassigned.
	Deleting bool `json:"-"`
}

// Revision identifies the team's version: the ETag of its representation,
// which If-Match names to make a change apply only to what the client read.
func (t Team) Revision() string { return strconv.Itoa(t.Version) }

// NormalizeName is the form team names are unique in: case-insensitive.
func NormalizeName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// MaxName is the longest team name, in characters, after trimming and
// folding white space: what a person's name may be, and checked alike
// (users.CheckName).
const MaxName = 100

// Input is the body of POST /teams and PATCH /teams/{id}.
type Input struct {
	Name *string `json:"name"`
}

// Check names the input's bad fields (see api.Checker).
func (in Input) Check(context.Context) apperr.Fields {
	_, bad := in.name()
	return bad
}

// name returns the cleaned name and the bad fields.
func (in Input) name() (string, apperr.Fields) {
	var bad apperr.Fields
	if in.Name == nil {
		bad.Add("name", "is required")
		return "", bad
	}
	n := users.CleanName(*in.Name)
	if msg := users.CheckName(n); msg != "" {
		bad.Add("name", msg)
	}
	return n, bad
}

// ListQuery selects a page of teams.
type ListQuery struct {
	Limit  int
	Cursor string
}

// Page is one page of teams, by name.
type Page = paging.Page[Team]

// Errors of the teams concept.
var (
	ErrNameTaken = apperr.Conflict("team_name_taken", "A team with this name already exists.")
	ErrNotFound  = apperr.NotFound("not_found", "No such team.")
	// ErrChanged reports that the team changed between read and write; the
	// service retries on it, so clients only see it under heavy contention.
	ErrChanged = apperr.Contended("The team")
)
