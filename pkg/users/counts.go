package users

import "github.com/usermgmt/ums/pkg/access"

// Counts are the counters behind the summary, kept exact by applying a Delta
// in the same transaction as every change of a user.
type Counts struct {
	Invited          int
	Active           int
	Deactivated      int
	InDeletion       int
	Anonymized       int
	ActiveRegistered int // active, never signed in
	ActiveConnected  int // active, signed in, no reported use
	ActiveUsed       int // active, reported use
	ActiveAdmins     int // active admins: never below one
}

// Seats is what licenses count: invited and active users.
func (c Counts) Seats() int { return c.Invited + c.Active }

// Delta is the change of Counts that one change of a user makes.
type Delta Counts

// IsZero reports whether the delta changes nothing.
func (d Delta) IsZero() bool { return d == Delta{} }

// Seats is the change in seats taken.
func (d Delta) Seats() int { return d.Invited + d.Active }

// Plus is the change of d and o together.
func (d Delta) Plus(o Delta) Delta {
	return Delta{
		Invited: d.Invited + o.Invited, Active: d.Active + o.Active, Deactivated: d.Deactivated + o.Deactivated,
		InDeletion: d.InDeletion + o.InDeletion, Anonymized: d.Anonymized + o.Anonymized,
		ActiveRegistered: d.ActiveRegistered + o.ActiveRegistered, ActiveConnected: d.ActiveConnected + o.ActiveConnected,
		ActiveUsed: d.ActiveUsed + o.ActiveUsed, ActiveAdmins: d.ActiveAdmins + o.ActiveAdmins,
	}
}

// DeltaOf returns the change of the counts when before becomes after; a nil
// before is a new user, a nil after a removed one.
func DeltaOf(before, after *User) Delta {
	var d Delta
	add := func(u *User, sign int) {
		if u == nil {
			return
		}
		switch u.Status {
		case StatusInvited:
			d.Invited += sign
		case StatusActive:
			d.Active += sign
			if u.Role == access.Admin {
				d.ActiveAdmins += sign
			}
			switch {
			case u.Usage == nil || *u.Usage == UsageRegistered:
				d.ActiveRegistered += sign
			case *u.Usage == UsageConnected:
				d.ActiveConnected += sign
			case *u.Usage == UsageUsed:
				d.ActiveUsed += sign
			}
		case StatusDeactivated:
			d.Deactivated += sign
		case StatusInDeletion:
			d.InDeletion += sign
		case StatusAnonymized:
			d.Anonymized += sign
		}
	}
	add(before, -1)
	add(after, +1)
	return d
}

// Summary is the usage summary against licenses.
type Summary struct {
	Licenses               int      `json:"licenses"`
	Registered             int      `json:"registered"`
	Used                   int      `json:"used"`
	RegisteredPct          *float64 `json:"registered_pct"`
	UsedPct                *float64 `json:"used_pct"`
	InvitedNotRegistered   int      `json:"invited_not_registered"`
	RegisteredNotConnected int      `json:"registered_not_connected"`
	ConnectedNotUsed       int      `json:"connected_not_used"`
	ByStatus               ByStatus `json:"by_status"`
}

// ByStatus counts users in each status.
type ByStatus struct {
	Invited     int `json:"invited"`
	Active      int `json:"active"`
	Deactivated int `json:"deactivated"`
	InDeletion  int `json:"in_deletion"`
	Anonymized  int `json:"anonymized"`
}

// SummaryOf builds the summary. The percentages are of the licenses, rounded
// to one decimal, and null when licenses are unlimited (0).
func SummaryOf(c Counts, licenses int) Summary {
	s := Summary{
		Licenses:               licenses,
		Registered:             c.Active,
		Used:                   c.ActiveUsed,
		InvitedNotRegistered:   c.Invited,
		RegisteredNotConnected: c.ActiveRegistered,
		ConnectedNotUsed:       c.ActiveConnected,
		ByStatus: ByStatus{
			Invited: c.Invited, Active: c.Active, Deactivated: c.Deactivated,
			InDeletion: c.InDeletion, Anonymized: c.Anonymized,
		},
	}
	if licenses > 0 {
		pct := func(n int) *float64 {
			v := float64(int(float64(n)*1000/float64(licenses)+0.5)) / 10
			return &v
		}
		s.RegisteredPct, s.UsedPct = pct(c.Active), pct(c.ActiveUsed)
	}
	return s
}
