package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/invitations"
)

// What an export reads: the user's partition and five index partitions,
// page after page (each at most 1 MB), each record handed on as it is read.

// EachHeld calls session and key with the user's sessions and personal
// keys: one strongly consistent query of their partition.
func (s *Store) EachHeld(ctx context.Context, userID string, session func(*auth.Session) error, key func(*auth.APIKey) error) error {
	return s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKey(userID).pk)},
		ConsistentRead:            aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		switch sk := stringAttr(item, "sk"); {
		case strings.HasPrefix(sk, skSession):
			return session(decodeSession(item).session())
		case strings.HasPrefix(sk, skAPIKey):
			k, err := decodeKey(item)
			if err != nil {
				return err
			}
			return key(k)
		}
		return nil
	})
}

// newestOf queries one index partition newest first, every item.
func (s *Store) newestOf(ctx context.Context, index, partition string, fn func(map[string]types.AttributeValue) error) error {
	return s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partition)},
		ScanIndexForward:          aws.Bool(false),
	}, fn)
}

// EachInvitation calls fn with the invitations to the email trace, then
// those the user sent that were not to it.
func (s *Store) EachInvitation(ctx context.Context, userID, emailTrace string, fn func(*invitations.Invitation) error) error {
	seen := map[string]bool{}
	each := func(item map[string]types.AttributeValue) error {
		inv, err := decodeInvitation(item)
		if err != nil || seen[inv.ID] {
			return err
		}
		seen[inv.ID] = true
		return fn(inv)
	}
	if err := s.newestOf(ctx, "gsi4", gsiInvitesBy("EMAIL", emailTrace), each); err != nil {
		return err
	}
	return s.newestOf(ctx, "gsi5", gsiInvitesBy("BY", userID), each)
}

// EachAttempt calls fn with the sign-in attempts that named the user.
func (s *Store) EachAttempt(ctx context.Context, userID string, fn func(*auth.Attempt) error) error {
	return s.newestOf(ctx, "gsi2", gsiAttemptsByUser(userID), func(item map[string]types.AttributeValue) error {
		var it attemptItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		return fn(it.attempt())
	})
}

// EachAuditEvent calls fn with the events the user acted in (by) or that
// are about them.
func (s *Store) EachAuditEvent(ctx context.Context, userID string, by bool, fn func(audit.Event) error) error {
	index, partition := "gsi3", gsiAuditBy("TARGET", userID)
	if by {
		index, partition = "gsi2", gsiAuditBy("ACTOR", userID)
	}
	return s.newestOf(ctx, index, partition, func(item map[string]types.AttributeValue) error {
		ev, err := decodeAudit(item)
		if err != nil {
			return err
		}
		return fn(ev)
	})
}
