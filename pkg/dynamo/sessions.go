package dynamo

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/users"
)

// UserSessions reads the user and their sessions: one strongly consistent
// query of the user's partition, newest sessions first.
func (s *Store) UserSessions(ctx context.Context, userID string) (*users.User, []*auth.Session, error) {
	var u *users.User
	var out []*auth.Session
	err := s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKey(userID).pk)},
		ConsistentRead:            aws.Bool(true),
	}, func(item map[string]types.AttributeValue) (err error) {
		switch sk := stringAttr(item, "sk"); {
		case sk == skProfile:
			u, err = decodeUser(item)
		case strings.HasPrefix(sk, skSession):
			out = append(out, decodeSession(item).session())
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if u == nil {
		return nil, nil, users.ErrNotFound
	}
	sortSessions(out)
	return u, out, nil
}

// sortSessions orders sessions newest first (the partition sorts them by
// id, which is random).
func sortSessions(ss []*auth.Session) {
	slices.SortFunc(ss, func(a, b *auth.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

// ListSessions queries the index of every session, or of a team's, newest
// first.
func (s *Store) ListSessions(ctx context.Context, q auth.SessionQuery) (paging.Page[*auth.Session], error) {
	p := page{index: "gsi1", partition: gsiSessions, limit: q.Limit, cursor: q.Cursor, base: isSessionKey}
	if q.TeamID != "" {
		p.index, p.partition = "gsi3", gsiSessionsOfTeam(q.TeamID)
	}
	items, next, err := s.query(ctx, p)
	if err != nil {
		return paging.Page[*auth.Session]{}, err
	}
	out := paging.Page[*auth.Session]{Items: make([]*auth.Session, 0, len(items)), NextCursor: next}
	for _, item := range items {
		out.Items = append(out.Items, decodeSession(item).session())
	}
	return out, nil
}

func isSessionKey(pk, sk string) bool {
	uid, ok := strings.CutPrefix(pk, userPrefix)
	sid, isSession := strings.CutPrefix(sk, skSession)
	return ok && isSession && ids.Valid("usr", uid) && ids.Valid("ses", sid)
}

// SessionByID finds a session by its id, through the index that lists
// each session under its id.
func (s *Store) SessionByID(ctx context.Context, id string) (*auth.Session, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(gsiSessionByID(id))},
	})
	if err != nil {
		return nil, translate(err)
	}
	if len(out.Items) == 0 {
		return nil, auth.ErrNoSession
	}
	return decodeSession(out.Items[0]).session(), nil
}

// ListAttempts queries the index of every attempt, or of a user's, newest
// first, from since on, and filters success.
func (s *Store) ListAttempts(ctx context.Context, q auth.AttemptQuery) (paging.Page[*auth.Attempt], error) {
	p := page{index: "gsi1", partition: gsiAttempts, limit: q.Limit, cursor: q.Cursor, base: isAttemptKey}
	if q.UserID != "" {
		p.index, p.partition = "gsi2", gsiAttemptsByUser(q.UserID)
	}
	if !q.Since.IsZero() {
		p.since = fmtTime(q.Since)
	}
	if q.Success != nil {
		p.flags = map[string]bool{"success": *q.Success}
	}
	items, next, err := s.query(ctx, p)
	if err != nil {
		return paging.Page[*auth.Attempt]{}, err
	}
	out := paging.Page[*auth.Attempt]{Items: make([]*auth.Attempt, 0, len(items)), NextCursor: next}
	for _, item := range items {
		var it attemptItem
		if err := unmarshal(item, &it); err != nil {
			return paging.Page[*auth.Attempt]{}, err
		}
		out.Items = append(out.Items, it.attempt())
	}
	return out, nil
}

func isAttemptKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, "ATTEMPT#")
	return ok && sk == "ATTEMPT" && ids.Valid("att", id)
}

func (it attemptItem) attempt() *auth.Attempt {
	a := &auth.Attempt{ID: it.ID, At: parseTime(it.At), Login: it.Login, UserID: strPtr(it.UserID), IP: it.IP,
		UserAgent: it.UserAgent, Success: it.Success, Reason: strPtr(it.Reason), LoginKey: it.LoginKey}
	return a
}
