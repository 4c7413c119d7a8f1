// Package teams is the team concept: a named group of users that scopes what
// a manager sees and manages. It imports the standard library and pkg/apperr.
package teams

import (
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Team is a group of users.
type Team struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	MemberCount int       `json:"member_count"`
	CreatedAt   time.Time `json:"created_at"`
}

// NormalizeName is the form team names are unique in: case-insensitive.
func NormalizeName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// ErrNameTaken reports a team name in use.
var ErrNameTaken = apperr.Conflict("team_name_taken", "A team with this name already exists.")
