package dynamo

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/schema"
	"github.com/usermgmt/ums/pkg/users"
)

// keyItem is an API key as stored: a personal key in its owner's partition
// (so that the user, their sessions and keys are one query), a system key
// in its own, listed in gsi1 APIKEYS. Its key is the secret's hash.
type keyItem struct {
	indexKeys
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	Prefix      string `dynamodbav:"prefix"`
	OwnerUserID string `dynamodbav:"owner_user_id,omitempty"`
	Role        string `dynamodbav:"role,omitempty"`
	TeamID      string `dynamodbav:"team_id,omitempty"`
	CreatedAt   string `dynamodbav:"created_at"`
	ExpiresAt   string `dynamodbav:"expires_at,omitempty"`
	LastUsedAt  string `dynamodbav:"last_used_at,omitempty"`
	Gen         int    `dynamodbav:"gen"`
	// TTL removes an expired key a week after it stopped working.
	TTL int64 `dynamodbav:"ttl,omitempty"`
}

func toKeyItem(k *auth.APIKey) keyItem {
	it := keyItem{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: fmtTime(k.CreatedAt),
		ExpiresAt: fmtTimePtr(k.ExpiresAt), LastUsedAt: fmtTimePtr(k.LastUsedAt), Gen: k.Gen}
	kk := systemKeyKey(k.ID)
	if k.OwnerUserID != nil {
		kk, it.OwnerUserID = userKeyKey(*k.OwnerUserID, k.ID), *k.OwnerUserID
	} else {
		it.GSI1PK, it.GSI1SK = gsiKeys, sortKey(k.CreatedAt, k.ID)
	}
	it.PK, it.SK = kk.pk, kk.sk
	if k.Role != nil {
		it.Role = string(*k.Role)
	}
	if k.TeamID != nil {
		// Listed under its team, whose deletion ends it.
		it.TeamID = *k.TeamID
		it.GSI3PK, it.GSI3SK = gsiKeysOfTeam(*k.TeamID), sortKey(k.CreatedAt, k.ID)
	}
	if k.ExpiresAt != nil {
		it.TTL = k.ExpiresAt.Add(7 * 24 * time.Hour).Unix()
	}
	return it
}

// decodeKey decodes a key item, by hand as the user is: every request
// with a key reads one.
func decodeKey(item map[string]types.AttributeValue) (*auth.APIKey, error) {
	k := &auth.APIKey{
		ID: stringAttr(item, "id"), Name: stringAttr(item, "name"), Prefix: stringAttr(item, "prefix"),
		OwnerUserID: strPtr(stringAttr(item, "owner_user_id")), TeamID: strPtr(stringAttr(item, "team_id")),
		CreatedAt: parseTime(stringAttr(item, "created_at")), ExpiresAt: timePtr(stringAttr(item, "expires_at")),
		LastUsedAt: timePtr(stringAttr(item, "last_used_at")), Gen: intAttr(item, "gen"),
	}
	if r := stringAttr(item, "role"); r != "" {
		role := access.Role(r)
		k.Role = &role
	}
	return k, nil
}

// keyOfToken is where the key a token names is stored.
func keyOfToken(owner, keyID string) key {
	if owner == "" {
		return systemKeyKey(keyID)
	}
	return userKeyKey(owner, keyID)
}

// TouchKey records the key's use, and its owner's last-seen time, in one
// transaction, while the key exists.
func (s *Store) TouchKey(ctx context.Context, owner, keyID string, at time.Time) error {
	t := s.txn()
	e := newExpr()
	e.set(schema.LastUsedAt, str(fmtTime(at))).where("attribute_exists(pk)")
	t.update(keyOfToken(owner, keyID), e.build(), failWith(apperr.ErrUnauthorized))
	if owner != "" {
		u := newExpr()
		u.set(schema.LastSeenAt, str(fmtTime(at))).where("attribute_exists(pk)")
		t.update(userKey(owner), u.build(), failWith(apperr.ErrUnauthorized))
	}
	return t.run(ctx, s.client)
}

// UserKeys reads a user's personal keys, newest first: one strongly
// consistent query of their partition.
func (s *Store) UserKeys(ctx context.Context, userID string) ([]*auth.APIKey, error) {
	var out []*auth.APIKey
	err := s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :k)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(userKey(userID).pk), ":k": str(skAPIKey),
		},
		ConsistentRead: aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		k, err := decodeKey(item)
		out = append(out, k)
		return err
	})
	// The partition sorts them by id, which is random.
	slices.SortFunc(out, func(a, b *auth.APIKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, err
}

// SystemKeys reads a page of system keys from gsi1, newest first.
func (s *Store) SystemKeys(ctx context.Context, limit int, cursor string) (paging.Page[*auth.APIKey], error) {
	items, next, err := s.query(ctx, page{index: "gsi1", partition: gsiKeys, limit: limit, cursor: cursor, base: isSystemKeyKey})
	if err != nil {
		return paging.Page[*auth.APIKey]{}, err
	}
	out := paging.Page[*auth.APIKey]{Items: make([]*auth.APIKey, 0, len(items)), NextCursor: next}
	for _, item := range items {
		k, err := decodeKey(item)
		if err != nil {
			return paging.Page[*auth.APIKey]{}, err
		}
		out.Items = append(out.Items, k)
	}
	return out, nil
}

func isSystemKeyKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, schema.KeyPartition)
	return ok && sk == "APIKEY" && ids.Valid("key", id)
}

// rateScopeKeys counts the keys a caller made in a window.
const rateScopeKeys = "keys"

// CreateKey writes a new key with its event, counting it toward the
// caller's limit (auth.KeysPerWindow). A personal key's owner must
// still be at the session generation the key carries (else the caller's
// own credential has just ended: unauthorized); a manager-role system
// key's team must exist and not be in deletion.
func (s *Store) CreateKey(ctx context.Context, k *auth.APIKey, limit auth.KeyLimit, ev audit.Event) error {
	t := s.txn()
	t.putNew(marshal(toKeyItem(k)), apperr.ErrInternal)
	t.countBelow(rateKey(rateScopeKeys, limit.Caller, limit.Window), auth.KeysPerWindow, limit.Window.Add(auth.KeyWindow), auth.ErrKeyLimited)
	if k.OwnerUserID != nil {
		e := newExpr()
		e.where("attribute_exists(pk)").where(e.n("session_gen") + " = " + e.v(num(k.Gen)))
		t.check(userKey(*k.OwnerUserID), e.build(), failWith(apperr.ErrUnauthorized))
	}
	if k.TeamID != nil {
		t.check(teamKey(*k.TeamID), teamUsable(), failWith(users.ErrTeamNotFound))
	}
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// teamUsable is the condition that a team exists and is not being deleted.
func teamUsable() expr {
	e := newExpr()
	e.where("attribute_exists(pk)").where("attribute_not_exists(" + e.n("deleting") + ")")
	return e.build()
}

// DeleteKey removes a key (owner "" for a system key) with its event.
// Errors: auth.ErrNoKey when there is none.
func (s *Store) DeleteKey(ctx context.Context, owner, keyID string, ev audit.Event) error {
	t := s.txn()
	t.delete(keyOfToken(owner, keyID), "attribute_exists(pk)", nil, failWith(auth.ErrNoKey))
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// HeldBy returns the ids of the user's sessions and personal keys: one
// strongly consistent query of their partition, keys only.
func (s *Store) HeldBy(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKey(id).pk)},
		ProjectionExpression:      aws.String("sk"),
		ConsistentRead:            aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		switch sk := stringAttr(item, "sk"); {
		case strings.HasPrefix(sk, skSession):
			out = append(out, strings.TrimPrefix(sk, skSession))
		case strings.HasPrefix(sk, skAPIKey):
			out = append(out, strings.TrimPrefix(sk, skAPIKey))
		}
		return nil
	})
	return out, err
}
