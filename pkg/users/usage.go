package users

import (
	"context"
	"fmt"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/retry"
)

// MarkUsed records that the product saw the caller use it: their usage
// becomes used, with the summary's counters, in one transaction with its
// event. It is idempotent: for a user already used it writes nothing, and
// no event, since nothing changed. Errors: not_found (no account: a system
// key).
func (s *Service) MarkUsed(ctx context.Context) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if a.UserID == "" {
		return ErrNotFound
	}
	tries := 0
	err = retry.Optimistic(ctx, ErrChanged, func() error {
		tries++
		u, err := s.read(ctx, a.UserID, tries > 1)
		if err != nil {
			return err
		}
		if u.Usage != nil && *u.Usage == UsageUsed {
			return nil
		}
		next := u.Clone()
		used := UsageUsed
		next.Usage, next.UpdatedAt, next.Version = &used, access.RequestFrom(ctx).Now, u.Version+1
		ev := audit.New(ctx, "user.used", "user", u.ID, map[string]any{"usage": map[string]any{"from": u.Usage, "to": used}})
		return s.store.UpdateUser(ctx, Change{Before: u, After: next, Event: ev})
	})
	if err != nil {
		return fmt.Errorf("mark used: %w", err)
	}
	return nil
}
