package dynamo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// The META item holds the settings (a map, attribute "settings", versioned by
// "settings_version") and the summary counters. Keeping them in one item lets
// one condition compare the seats taken with the licenses, and lets the
// summary be one read.
const (
	attrSettings        = "settings"
	attrSettingsVersion = "settings_version"
	cInvited            = "n_invited"
	cActive             = "n_active"
	cDeactivated        = "n_deactivated"
	cInDeletion         = "n_in_deletion"
	cAnonymized         = "n_anonymized"
	cActiveRegistered   = "n_active_registered"
	cActiveConnected    = "n_active_connected"
	cActiveUsed         = "n_active_used"
	cActiveAdmins       = "n_active_admins"
	cSeats              = "n_seats"
	// attrCursorKey is the secret that signs list cursors (see
	// PrepareTable): never in an answer.
	attrCursorKey = "cursor_key"
)

// cursorKeyBytes is the cursor key's size: 256 bits, HMAC-SHA-256's.
const cursorKeyBytes = 32

// PrepareTable gives the table what it needs before the first request: the
// key that signs list cursors, made here from crypto/rand if the table has
// none (a key that exists is kept, so preparing again changes nothing and
// the cursors in flight stay good). The prepare-table job runs it when the
// stack is deployed, and EnsureTable when it creates a local table.
func PrepareTable(ctx context.Context, client *dynamodb.Client, table string) error {
	secret := make([]byte, cursorKeyBytes)
	_, _ = rand.Read(secret)
	e := newExpr()
	e.setIfAbsent(attrCursorKey, &types.AttributeValueMemberB{Value: secret})
	u := e.build()
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: metaKey().av(), UpdateExpression: aws.String(u.update),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	})
	if err != nil {
		return fmt.Errorf("dynamo: prepare table %s: %w", table, translate(err))
	}
	return nil
}

// Prepare is PrepareTable on the store's table.
func (s *Store) Prepare(ctx context.Context) error { return PrepareTable(ctx, s.client, s.table) }

var errDuplicateEvent = errors.New("dynamo: an audit event or attempt with this id exists")

// cursorKey returns the cursor key the META item holds (nil: none).
func cursorKey(item map[string]types.AttributeValue) []byte {
	if b, ok := item[attrCursorKey].(*types.AttributeValueMemberB); ok {
		return b.Value
	}
	return nil
}

// decodeMeta reads settings and counters from the META item (nil: none yet).
// Settings never saved are the defaults; a setting added to the code after
// they were saved takes its default.
func decodeMeta(item map[string]types.AttributeValue) (settings.Settings, int, users.Counts, error) {
	if item == nil {
		return settings.Defaults(), 0, users.Counts{}, nil
	}
	st := settings.Defaults()
	if m, ok := item[attrSettings].(*types.AttributeValueMemberM); ok {
		st = decodeSettings(m.Value)
	}
	c := users.Counts{
		Invited: intAttr(item, cInvited), Active: intAttr(item, cActive), Deactivated: intAttr(item, cDeactivated),
		InDeletion: intAttr(item, cInDeletion), Anonymized: intAttr(item, cAnonymized),
		ActiveRegistered: intAttr(item, cActiveRegistered), ActiveConnected: intAttr(item, cActiveConnected),
		ActiveUsed: intAttr(item, cActiveUsed), ActiveAdmins: intAttr(item, cActiveAdmins),
	}
	return st, intAttr(item, attrSettingsVersion), c, nil
}

// GetSettings returns the settings and their version.
func (s *Store) GetSettings(ctx context.Context) (settings.Settings, int, error) {
	item, err := s.get(ctx, metaKey())
	if err != nil {
		return settings.Settings{}, 0, err
	}
	st, v, _, err := decodeMeta(item)
	return st, v, err
}

// GetCounts returns the settings and the counters in one read.
func (s *Store) GetCounts(ctx context.Context) (settings.Settings, users.Counts, error) {
	item, err := s.get(ctx, metaKey())
	if err != nil {
		return settings.Settings{}, users.Counts{}, err
	}
	st, _, c, err := decodeMeta(item)
	return st, c, err
}

// SaveSettings replaces the settings if their version is still version.
func (s *Store) SaveSettings(ctx context.Context, st settings.Settings, version int, ev audit.Event) error {
	av, err := attributevalue.MarshalWithOptions(st, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	if err != nil {
		return fmt.Errorf("dynamo: encode settings: %w", err)
	}
	e := newExpr()
	e.set(attrSettings, av).set(attrSettingsVersion, num(version+1))
	if version == 0 {
		e.where("attribute_not_exists(" + e.n(attrSettingsVersion) + ")")
	} else {
		e.where(e.n(attrSettingsVersion) + " = " + e.v(num(version)))
	}
	t := s.txn()
	t.update(metaKey(), e.build(), failWith(settings.ErrChanged))
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// applyDelta adds the update of the counters by d to t, with the conditions
// that keep the invariants: a seat may be taken only while seats are below
// the licenses (0 = unlimited), and an active admin may be removed only while
// another remains. Which condition failed is told from the item as it was.
func (t *txn) applyDelta(d users.Delta) {
	if d.IsZero() {
		return
	}
	if d.Seats() > 1 || d.ActiveAdmins < -1 {
		panic("dynamo: one change moves at most one seat and one admin")
	}
	e := addCounts(newExpr(), d)
	if d.Seats() > 0 {
		lic, seats := e.n(attrSettings+".license_count"), e.n(cSeats)
		e.where(fmt.Sprintf("attribute_not_exists(%s) OR %s = %s OR attribute_not_exists(%s) OR %s < %s",
			lic, lic, e.v(num(0)), seats, seats, lic))
	}
	if d.ActiveAdmins < 0 {
		e.where(e.n(cActiveAdmins) + " > " + e.v(num(1)))
	}
	t.update(metaKey(), e.build(), fromOld(func(old map[string]types.AttributeValue) error {
		if d.ActiveAdmins < 0 && intAttr(old, cActiveAdmins) <= 1 {
			return users.ErrLastAdmin
		}
		if d.Seats() > 0 {
			return users.ErrNoSeats
		}
		return apperr.ErrInternal
	}))
}

// addCounts adds d to the counters, in e.
func addCounts(e *expr, d users.Delta) *expr {
	for _, c := range []struct {
		attr string
		n    int
	}{
		{cInvited, d.Invited}, {cActive, d.Active}, {cDeactivated, d.Deactivated},
		{cInDeletion, d.InDeletion}, {cAnonymized, d.Anonymized},
		{cActiveRegistered, d.ActiveRegistered}, {cActiveConnected, d.ActiveConnected},
		{cActiveUsed, d.ActiveUsed}, {cActiveAdmins, d.ActiveAdmins}, {cSeats, d.Seats()},
	} {
		if c.n != 0 {
			e.add(c.attr, c.n)
		}
	}
	return e
}
