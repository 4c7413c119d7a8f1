package invitations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/retry"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/teams"
	"github.com/usermgmt/ums/pkg/users"
)

// Store is what the invitations service needs from storage.
type Store interface {
	// CreateInvitation writes the invitation and its invited user, with the
	// user's email reserved, the counters (a seat taken), the team's count
	// and ev, in one transaction. Errors: users.ErrEmailTaken, ErrPending,
	// users.ErrNoSeats, users.ErrTeamNotFound.
	CreateInvitation(ctx context.Context, inv *Invitation, u *users.User, ev audit.Event) error
	// GetInvitation reads an invitation, strongly consistent. Errors:
	// ErrNotFound.
	GetInvitation(ctx context.Context, id string) (*Invitation, error)
	// GetTeam reads a team. Errors: users.ErrTeamNotFound.
	GetTeam(ctx context.Context, id string) (teams.Team, error)
	// UpdateInvitation replaces before with after (a resend) if before's
	// version is current, with ev. Errors: ErrChanged.
	UpdateInvitation(ctx context.Context, before, after *Invitation, ev audit.Event) error
	// SendFailed records that the email of after's last change was not sent,
	// giving back the send after counted (SentCount and LastSentAt of
	// before), if the invitation is still at after's version, which it
	// raises.
	SendFailed(ctx context.Context, before, after *Invitation, reason string) error
	// CloseInvitation moves a pending invitation to status, removing its
	// invited user with everything the user held (the email, the seat, the
	// team count), with ev, in one transaction, if it is still at inv's
	// version; for StatusExpired only if it has expired at now, for
	// StatusDeclined only if its token is still hash. Errors:
	// ErrInvalidState (no longer pending, or the token changed), ErrChanged
	// (still pending, at another version).
	CloseInvitation(ctx context.Context, inv *Invitation, status Status, now time.Time, hash string, ev audit.Event) error
	// AcceptInvitation makes the invitation accepted and its user active and
	// signed in, in one transaction. Errors: ErrInvalidState,
	// users.ErrUsernameTaken.
	AcceptInvitation(ctx context.Context, a Acceptance) error
	// LookupToken reads, in one round trip, the invitation, its user, the
	// settings and the source IP's failures in window. A missing
	// invitation is nil.
	LookupToken(ctx context.Context, invitationID, ip string, window time.Time) (TokenLookup, error)
	// CountFailure counts a failed use of a token toward the source IP's
	// limit. Errors: auth.ErrIPLimited (the limit was reached).
	CountFailure(ctx context.Context, ip string, window time.Time, limit int) error
	// ListInvitations returns a page of invitations, newest first.
	ListInvitations(ctx context.Context, q ListQuery) (Page, error)
	// DueInvitations returns up to limit pending invitations expired at now,
	// soonest first, from the index of what is due.
	DueInvitations(ctx context.Context, now time.Time, limit int) ([]*Invitation, error)
}

// TokenLookup is what using a token reads first.
type TokenLookup struct {
	Invitation *Invitation
	User       *users.User
	Settings   settings.Settings
	IPFailures int
}

// Acceptance is an accepted invitation to write.
type Acceptance struct {
	// Before is the invitation as read, After as accepted; the write is
	// conditioned on Before's token and status.
	Before, After *Invitation
	// User is the invited user as read, Active the user it becomes.
	User, Active *users.User
	Session      *auth.Session
	Attempt      auth.Attempt
	Event        audit.Event
}

// Service holds the rules of invitations.
type Service struct {
	store Store
	auth  *auth.Service
	mail  notices.Sender
	// Log receives the failures to send.
	Log *slog.Logger
	// Link is where an invitation's email points: the page that accepts or
	// declines it, with the token.
	Link func(token string) string
	// Params are argon2id's parameters for new hashes.
	Params passwords.Params
	// Words are what no password may be (passwords.ServiceWords).
	Words []string
}

// NewService returns a Service. mail may be nil in functions that send no
// mail; link builds the email's link from a token.
func NewService(store Store, a *auth.Service, mail notices.Sender, log *slog.Logger, link func(token string) string) *Service {
	return &Service{store: store, auth: a, mail: mail, Log: log, Link: link, Params: passwords.DefaultParams}
}

// maxMessage bounds the personal message.
const maxMessage = 1000

// CreateInput is the body of POST /invitations.
type CreateInput struct {
	Email   string  `json:"email"`
	Role    string  `json:"role"`
	TeamID  *string `json:"team_id"`
	Message *string `json:"message"`
}

// Check names the input's bad fields (see api.Checker).
func (in CreateInput) Check(context.Context) apperr.Fields {
	_, bad := in.clean()
	return bad
}

func (in CreateInput) clean() (CreateInput, apperr.Fields) {
	var bad apperr.Fields
	in.Email = strings.TrimSpace(in.Email)
	if msg := users.CheckEmail(in.Email); msg != "" {
		bad.Add("email", msg)
	}
	if !access.Role(in.Role).Valid() {
		bad.Add("role", "must be one of admin, manager, member")
	}
	if in.TeamID != nil {
		t := strings.TrimSpace(*in.TeamID)
		if !ids.Valid("team", t) {
			bad.Add("team_id", "no such team")
		}
		in.TeamID = &t
	}
	if in.Message != nil {
		m := strings.TrimSpace(*in.Message)
		if msg := users.CheckText(m, maxMessage); msg != "" {
			bad.Add("message", msg)
		}
		in.Message = &m
		if m == "" {
			in.Message = nil
		}
	}
	return in, bad
}

func actorOf(ctx context.Context) (access.Actor, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return access.Actor{}, apperr.ErrUnauthorized
	}
	return a, nil
}

// Create invites someone: the invited user (status invited) and the
// invitation are written together, then the email is sent. A failed send
// loses nothing: the invitation says why in last_send_error, and resend
// tries again. Managers invite members into their own team only.
// Errors: validation_failed, forbidden, email_taken, invitation_pending,
// no_seats.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Invitation, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	in, bad := in.clean()
	if err := bad.Err(); err != nil {
		return nil, err
	}
	role := access.Role(in.Role)
	if a.Role != access.Admin {
		switch {
		case a.Role != access.Manager:
			return nil, apperr.ErrForbidden
		case a.TeamID == "":
			return nil, apperr.Forbidden("forbidden", "A manager without a team cannot invite.")
		case role != access.Member:
			return nil, apperr.Forbidden("forbidden", "Managers invite members only.")
		case in.TeamID != nil && *in.TeamID != a.TeamID:
			return nil, apperr.Forbidden("forbidden", "Managers invite into their own team only.")
		}
		in.TeamID = &a.TeamID
	}
	st, ok := settings.FromContext(ctx)
	if !ok {
		return nil, errors.New("invitations: no settings in the request")
	}
	var teamName *string
	if in.TeamID != nil {
		t, err := s.store.GetTeam(ctx, *in.TeamID)
		if err != nil {
			return nil, err
		}
		teamName = &t.Name
	}
	req := access.RequestFrom(ctx)
	now := req.Now
	inviter := s.inviterName(ctx, a)
	id := ids.New("inv")
	token, hash := newToken(id)
	inv := &Invitation{
		ID: id, Email: in.Email, Role: role, TeamID: in.TeamID, Message: in.Message,
		InvitedBy: a.ID, InviterName: inviter, TeamName: teamName, Status: StatusPending,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(st.InvitationTTLHours) * time.Hour),
		// Counted as sent in the same write: a send that fails gives it back.
		SentCount: 1, LastSentAt: &now,
		UserID: UserIDOf(id), TokenHash: hash, Version: 1,
	}
	u := &users.User{
		ID: inv.UserID, Email: in.Email, GivenName: "", FamilyName: "", DisplayName: in.Email,
		Role: role, TeamID: in.TeamID, Status: users.StatusInvited, InvitationID: &inv.ID,
		CreatedAt: now, UpdatedAt: now, Version: 1, SessionGen: 1,
	}
	ev := audit.New(ctx, "invitation.created", "invitation", id, map[string]any{"role": role, "team_id": in.TeamID, "user_id": u.ID}).About(users.EmailTrace(in.Email))
	if err := s.store.CreateInvitation(ctx, inv, u, ev); err != nil {
		return nil, fmt.Errorf("create invitation: %w", err)
	}
	before := *inv
	before.SentCount, before.LastSentAt = 0, nil
	s.send(ctx, &before, inv, token)
	return inv, nil
}

// inviterName is the name an invitation shows for who invited: the user's
// display name, or "An administrator" for a system API key.
func (s *Service) inviterName(ctx context.Context, a access.Actor) string {
	if a.UserID != "" {
		if r, ok := users.ReadFrom(ctx); ok {
			if u := r.Users[a.UserID]; u != nil {
				return u.DisplayName
			}
		}
	}
	return "An administrator"
}

// send emails the invitation after the change that counted the send was
// written. When the mail cannot be sent, the invitation records why and
// the count is given back; the caller answers with the invitation as it
// now is. The token is never logged.
func (s *Service) send(ctx context.Context, before, inv *Invitation, token string) {
	n := notices.Invitation{
		To: inv.Email, InviterName: inv.InviterName, Role: string(inv.Role), Link: s.Link(token), ExpiresAt: inv.ExpiresAt,
	}
	if inv.TeamName != nil {
		n.TeamName = *inv.TeamName
	}
	if inv.Message != nil {
		n.Message = *inv.Message
	}
	var err error
	if s.mail == nil {
		err = errors.New("invitations: no mail sender configured")
	} else {
		_, err = s.mail.Send(ctx, n)
	}
	if err == nil {
		inv.LastSendError = nil
		return
	}
	reason := "The email could not be sent: " + apperr.As(err).Message
	if apperr.KindOf(err) == apperr.KindInternal {
		reason = "The email could not be sent; retry with resend."
	}
	s.Log.Warn("invitation email not sent", slog.String("invitation_id", inv.ID), slog.String("error", err.Error()))
	if ferr := s.store.SendFailed(ctx, before, inv, reason); ferr != nil {
		s.Log.Error("invitation send failure not recorded", slog.String("invitation_id", inv.ID), slog.String("error", ferr.Error()))
		return
	}
	inv.SentCount, inv.LastSentAt, inv.LastSendError = before.SentCount, before.LastSentAt, &reason
	inv.Version++
}

// managed returns the invitation if the actor may act on it: admins on
// every one, managers on those of their own team that invite a member (what
// they may invite themselves). Errors: not_found (not theirs to see),
// forbidden.
func (s *Service) managed(ctx context.Context, a access.Actor, id string) (*Invitation, error) {
	if !ids.Valid("inv", id) {
		return nil, ErrNotFound
	}
	inv, err := s.read(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !a.Sees(inv.Team(), inv.Role):
		return nil, ErrNotFound
	case a.Role != access.Admin && inv.Role != access.Member:
		return nil, apperr.Forbidden("forbidden", "Managers act on the invitations of members only.")
	}
	return inv, nil
}

// read returns the invitation, strongly consistent.
func (s *Service) read(ctx context.Context, id string) (*Invitation, error) {
	return s.store.GetInvitation(ctx, id)
}

// Resend sends a pending invitation again with a new token (the old one
// stops working at once) and a new expiry. Managers resend their team's.
// Errors: not_found, invalid_state.
func (s *Service) Resend(ctx context.Context, id string) (*Invitation, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	st, _ := settings.FromContext(ctx)
	var before, after *Invitation
	var token string
	err = retry.Optimistic(ctx, ErrChanged, func() error {
		inv, err := s.managed(ctx, a, id)
		if err != nil {
			return err
		}
		if inv.Status != StatusPending {
			return ErrInvalidState
		}
		now := access.RequestFrom(ctx).Now
		next := *inv
		next.LastSendError = nil
		token, next.TokenHash = newToken(inv.ID)
		next.ExpiresAt = now.Add(time.Duration(st.InvitationTTLHours) * time.Hour)
		next.SentCount, next.LastSentAt = inv.SentCount+1, &now
		next.Version = inv.Version + 1
		ev := audit.New(ctx, "invitation.resent", "invitation", inv.ID, map[string]any{"sent_count": next.SentCount}).About(users.EmailTrace(inv.Email))
		if err := s.store.UpdateInvitation(ctx, inv, &next, ev); err != nil {
			return err
		}
		before, after = inv, &next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resend invitation %s: %w", id, err)
	}
	s.send(ctx, before, after, token)
	return after, nil
}

// Cancel cancels a pending invitation: its token stops working, its invited
// user is removed, and the email and the seat are free again.
// Errors: not_found, invalid_state.
func (s *Service) Cancel(ctx context.Context, id string) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	err = retry.Optimistic(ctx, ErrChanged, func() error {
		inv, err := s.managed(ctx, a, id)
		if err != nil {
			return err
		}
		if inv.Status != StatusPending {
			return ErrInvalidState
		}
		ev := audit.New(ctx, "invitation.cancelled", "invitation", inv.ID, map[string]any{"user_id": inv.UserID}).About(users.EmailTrace(inv.Email))
		return s.store.CloseInvitation(ctx, inv, StatusCancelled, access.RequestFrom(ctx).Now, "", ev)
	})
	if err != nil {
		return fmt.Errorf("cancel invitation %s: %w", id, err)
	}
	return nil
}

// ListQuery selects a page of invitations.
type ListQuery struct {
	Status Status
	TeamID string
	// Hide leaves the invitations of this role out: a manager's list has
	// no invitations of admins.
	Hide   access.Role
	Limit  int
	Cursor string
}

// Page is one page of invitations.
type Page = paging.Page[*Invitation]

// List returns a page of invitations, newest first: every one for admins,
// their team's of non-admins for managers (a manager without a team sees
// none).
// Errors: validation_failed, forbidden.
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return Page{}, err
	}
	var bad apperr.Fields
	if q.Status != "" && !q.Status.Valid() {
		bad.Add("status", "must be one of pending, accepted, declined, expired, cancelled")
	}
	if q.TeamID != "" && !ids.Valid("team", q.TeamID) {
		bad.Add("team_id", "no such team")
	}
	if err := bad.Err(); err != nil {
		return Page{}, err
	}
	scope, err := a.ListScope(q.TeamID)
	switch {
	case err != nil:
		return Page{}, err
	case scope.None:
		return Page{Items: []*Invitation{}}, nil
	}
	q.TeamID, q.Hide = scope.TeamID, scope.Hide
	return s.store.ListInvitations(ctx, q)
}

// View is what the accept page shows of an invitation, and what it needs to
// say what a password must be.
type View struct {
	Email             string      `json:"email"`
	Role              access.Role `json:"role"`
	TeamID            *string     `json:"team_id"`
	TeamName          *string     `json:"team_name"`
	InviterName       string      `json:"inviter_name"`
	Message           *string     `json:"message"`
	ExpiresAt         time.Time   `json:"expires_at"`
	PasswordMinLength int         `json:"password_min_length"`
}

// use reads the invitation a token names and checks the token: unknown,
// superseded, used and cancelled tokens are token_invalid, expired ones
// token_expired, whether or not the expiry job has run; each failure counts
// toward the source IP's limit, which a locked-out IP gets throttled for.
func (s *Service) use(ctx context.Context, token string) (TokenLookup, string, error) {
	req := access.RequestFrom(ctx)
	window := auth.IPWindowOf(req.Now)
	id, hash, ok := parseToken(token)
	if !ok {
		return TokenLookup{}, "", s.refuse(ctx, window, ErrTokenInvalid)
	}
	look, err := s.store.LookupToken(ctx, id, req.IP, window)
	if err != nil {
		return TokenLookup{}, "", fmt.Errorf("invitation token: %w", err)
	}
	if look.IPFailures >= auth.IPFailureLimit {
		return TokenLookup{}, "", auth.ThrottledUntil(window, req.Now)
	}
	inv := look.Invitation
	switch {
	case inv == nil || !inv.matches(hash):
		return TokenLookup{}, "", s.refuse(ctx, window, ErrTokenInvalid)
	case inv.Status == StatusExpired || (inv.Status == StatusPending && !req.Now.Before(inv.ExpiresAt)):
		return TokenLookup{}, "", s.refuse(ctx, window, ErrTokenExpired)
	case inv.Status != StatusPending:
		return TokenLookup{}, "", s.refuse(ctx, window, ErrTokenInvalid)
	case look.User == nil || look.User.Status != users.StatusInvited:
		return TokenLookup{}, "", s.refuse(ctx, window, ErrTokenInvalid)
	}
	return look, hash, nil
}

// refuse counts a failed use of a token and returns err, or throttled once
// the source IP has reached its limit.
func (s *Service) refuse(ctx context.Context, window time.Time, err error) error {
	req := access.RequestFrom(ctx)
	cerr := s.store.CountFailure(ctx, req.IP, window, auth.IPFailureLimit)
	switch {
	case errors.Is(cerr, auth.ErrIPLimited):
		return auth.ThrottledUntil(window, req.Now)
	case cerr != nil:
		return fmt.Errorf("invitation token: %w", cerr)
	}
	return err
}

// Lookup returns what the accept page shows of the invitation a token
// names. Errors: token_invalid, token_expired, throttled.
func (s *Service) Lookup(ctx context.Context, token string) (View, error) {
	look, _, err := s.use(ctx, token)
	if err != nil {
		return View{}, err
	}
	inv := look.Invitation
	return View{
		Email: inv.Email, Role: inv.Role, TeamID: inv.TeamID, TeamName: inv.TeamName, InviterName: inv.InviterName,
		Message: inv.Message, ExpiresAt: inv.ExpiresAt, PasswordMinLength: look.Settings.PasswordMinLength,
	}, nil
}

// DeclineInput is the body of POST /invitations/decline.
type DeclineInput struct {
	Token string `json:"token"`
}

// Decline declines the invitation a token names: it ends like a
// cancellation. Errors: token_invalid, token_expired, throttled.
func (s *Service) Decline(ctx context.Context, in DeclineInput) error {
	if strings.TrimSpace(in.Token) == "" {
		return apperr.Validation(apperr.FieldError{Field: "token", Message: "is required"})
	}
	look, hash, err := s.use(ctx, in.Token)
	if err != nil {
		return err
	}
	inv := look.Invitation
	ev := audit.New(ctx, "invitation.declined", "invitation", inv.ID, map[string]any{"user_id": inv.UserID}).About(users.EmailTrace(inv.Email))
	err = s.store.CloseInvitation(ctx, inv, StatusDeclined, access.RequestFrom(ctx).Now, hash, ev)
	if errors.Is(err, ErrInvalidState) || errors.Is(err, ErrChanged) {
		// Used, cancelled or resent between our read and our write.
		return ErrTokenInvalid
	}
	if err != nil {
		return fmt.Errorf("decline invitation %s: %w", inv.ID, err)
	}
	return nil
}

// AcceptInput is the body of POST /invitations/accept.
type AcceptInput struct {
	Token      string  `json:"token"`
	Password   string  `json:"password"`
	GivenName  string  `json:"given_name"`
	FamilyName string  `json:"family_name"`
	Username   *string `json:"username"`
}

// Check names the input's bad fields that need no invitation (see
// api.Checker); the password rules are checked once the invitation is read.
func (in AcceptInput) Check(context.Context) apperr.Fields {
	_, bad := in.clean()
	return bad
}

func (in AcceptInput) clean() (AcceptInput, apperr.Fields) {
	var bad apperr.Fields
	if strings.TrimSpace(in.Token) == "" {
		bad.Add("token", "is required")
	}
	in.GivenName, in.FamilyName = users.CleanName(in.GivenName), users.CleanName(in.FamilyName)
	if msg := users.CheckName(in.GivenName); msg != "" {
		bad.Add("given_name", msg)
	}
	if msg := users.CheckName(in.FamilyName); msg != "" {
		bad.Add("family_name", msg)
	}
	if in.Username != nil {
		un := strings.TrimSpace(*in.Username)
		if msg := users.CheckUsername(un); msg != "" {
			bad.Add("username", msg)
		}
		in.Username = &un
	}
	if in.Password == "" {
		bad.Add("password", "is required")
	}
	return in, bad
}

// Accept accepts the invitation a token names: the invited user sets their
// password and names, becomes active and is signed in, as by a sign-in.
// Of concurrent accepts with one token, exactly one succeeds.
// Errors: validation_failed, token_invalid, token_expired, throttled,
// username_taken.
func (s *Service) Accept(ctx context.Context, in AcceptInput) (*auth.LoginResult, error) {
	in, bad := in.clean()
	if err := bad.Err(); err != nil {
		return nil, err
	}
	look, hash, err := s.use(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	inv, u := look.Invitation, look.User
	un := ""
	if in.Username != nil {
		un = *in.Username
	}
	if err := (passwords.Policy{MinLength: look.Settings.PasswordMinLength, Email: inv.Email, Username: un, Words: s.Words}).Check("password", in.Password); err != nil {
		return nil, err
	}
	req := access.RequestFrom(ctx)
	now := req.Now
	active := u.Clone()
	active.GivenName, active.FamilyName = in.GivenName, in.FamilyName
	active.DisplayName = strings.TrimSpace(in.GivenName + " " + in.FamilyName)
	active.Username = in.Username
	active.Status = users.StatusActive
	connected := users.UsageConnected
	active.Usage = &connected
	active.LastLoginAt = &now
	active.UpdatedAt = now
	active.InvitationID = nil
	active.PasswordHash = passwords.Hash(in.Password, s.Params)
	active.Version = u.Version + 1

	accepted := *inv
	accepted.Status, accepted.AcceptedAt = StatusAccepted, &now
	accepted.TokenHash, accepted.Version = "", inv.Version+1
	_ = hash

	token, sess := s.auth.Mint(ctx, active, look.Settings)
	attempt := auth.Attempt{ID: ids.New("att"), At: now, Login: inv.Email, LoginKey: users.LoginKey("email", users.NormalizeEmail(inv.Email)), UserID: &u.ID, IP: req.IP,
		UserAgent: auth.Truncate(req.UserAgent, 512), Success: true}
	ev := audit.New(ctx, "invitation.accepted", "invitation", inv.ID, map[string]any{"user_id": u.ID, "session_id": sess.ID}).ByUser(u.ID).About(users.EmailTrace(inv.Email))
	err = s.store.AcceptInvitation(ctx, Acceptance{Before: inv, After: &accepted, User: u, Active: active, Session: sess, Attempt: attempt, Event: ev})
	if errors.Is(err, ErrInvalidState) {
		// Another accept (or a decline, a cancel, a resend) won.
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("accept invitation %s: %w", inv.ID, err)
	}
	return &auth.LoginResult{Token: token, Session: sess, User: active}, nil
}

// ExpireDue expires the pending invitations past their expiry at now, as
// the system: each with its invited user removed and its audit event. It
// stops when ctx is about to end, reporting how many it expired and whether
// more are due; the next run continues, as it looks only at what is due.
func (s *Service) ExpireDue(ctx context.Context) (done int, more bool, err error) {
	now := access.RequestFrom(ctx).Now
	const batch = 50
	for {
		if expiring(ctx) {
			return done, true, nil
		}
		due, err := s.store.DueInvitations(ctx, now, batch)
		if err != nil {
			return done, false, err
		}
		progress := done
		// One at a time: every expiry changes the counters' item, which
		// concurrent transactions would only contend for.
		for _, inv := range due {
			if expiring(ctx) {
				return done, true, nil
			}
			ev := audit.New(ctx, "invitation.expired", "invitation", inv.ID, map[string]any{"user_id": inv.UserID}).About(users.EmailTrace(inv.Email))
			err := s.store.CloseInvitation(ctx, inv, StatusExpired, now, "", ev)
			switch {
			case errors.Is(err, ErrInvalidState), errors.Is(err, ErrChanged):
				// Accepted, cancelled or expired by an overlapping run
				// meanwhile, or resent (a new expiry): the index says.
			case err != nil:
				return done, false, fmt.Errorf("expire invitation %s: %w", inv.ID, err)
			default:
				done++
			}
		}
		// A full batch of which none could be expired is what the index has
		// not caught up on yet (or a record that needs an operator): the
		// next run looks again rather than this one spinning.
		if len(due) < batch || done == progress {
			return done, false, nil
		}
	}
}

// expiring reports whether ctx ends within the time one more item takes.
func expiring(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(dl) < 2*time.Second)
}
