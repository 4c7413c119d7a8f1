package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/users"
)

// maxActions is what one TransactWriteItems takes; the first transaction of
// a request keeps one for its Idempotency-Key record.
const maxActions = 100

// runWithOverflow runs t with as many of the more actions as fit beside
// it, then the rest in transactions of their own. The first holds the
// change and its event; the others only finish it (deleting or rewriting
// what the change already made stale), and each may run again.
func (s *Store) runWithOverflow(ctx context.Context, t *txn, more []func(*txn)) error {
	room := maxActions - 1 - len(t.items)
	for len(more) > 0 && room > 0 {
		more[0](t)
		more, room = more[1:], room-1
	}
	if err := t.run(ctx, s.client); err != nil {
		return err
	}
	return s.inChunks(ctx, more)
}

// inChunks runs actions in transactions of up to maxActions.
func (s *Store) inChunks(ctx context.Context, actions []func(*txn)) error {
	for len(actions) > 0 {
		n := min(len(actions), maxActions)
		t := s.txn()
		for _, a := range actions[:n] {
			a(t)
		}
		if err := t.run(ctx, s.client); err != nil {
			return err
		}
		actions = actions[n:]
	}
	return nil
}

// SessionsOf returns the ids of the user's sessions: one strongly
// consistent query of the user's partition, keys only.
func (s *Store) SessionsOf(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(userKey(id).pk), ":s": str(skSession),
		},
		ProjectionExpression: aws.String("sk"),
		ConsistentRead:       aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		out = append(out, strings.TrimPrefix(stringAttr(item, "sk"), skSession))
		return nil
	})
	return out, err
}

// eachOf calls fn with every item of a query, page after page.
func (s *Store) eachOf(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return translate(err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexed queries one partition of an index, every item.
func (s *Store) indexed(ctx context.Context, index, partition string, fn func(map[string]types.AttributeValue) error) error {
	return s.eachOf(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partition)},
	}, fn)
}

// keyOf is an item's table key.
func keyOf(item map[string]types.AttributeValue) key {
	return key{stringAttr(item, "pk"), stringAttr(item, "sk")}
}

// Forget removes what identifies the user from the items around theirs, in
// steps that may each run again (see users.Store.Forget): it finds them
// with five queries (the user's partition; attempts by the user and under
// each login trace; closed invitations to the email trace and those the
// user sent; audit events the user acted in; answers kept for retries that
// show the user), then writes in transactions of up to 100 actions, the
// last of which clears the user's list of traces, if the user still exists.
func (s *Store) Forget(ctx context.Context, id string, traces []string) error {
	actions, err := s.forgetting(ctx, id, traces)
	if err != nil {
		return err
	}
	// Last, in the last of the transactions: the user's list of traces is
	// cleared only once everything under them is gone.
	actions = append(actions, func(t *txn) {
		e := newExpr()
		e.remove("forget").remove("gsi6pk").remove("gsi6sk").where("attribute_exists(pk)")
		t.update(userKey(id), e.build(), onFail{})
	})
	if err := s.inChunks(ctx, actions); err != nil {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	return nil
}

// forgetting finds what Forget must write, as actions for transactions.
func (s *Store) forgetting(ctx context.Context, id string, traces []string) ([]func(*txn), error) {
	var actions []func(*txn)
	del := func(k key) { actions = append(actions, func(t *txn) { t.delete(k, "", nil, onFail{}) }) }

	// Their sessions, keys and reset link: everything in their partition
	// but their own item.
	err := s.eachOf(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKey(id).pk)},
		ProjectionExpression:      aws.String("pk, sk"), ConsistentRead: aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		if k := keyOf(item); k.sk != skProfile {
			del(k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Sign-in attempts by them, or with a login that named them: what was
	// typed, where from and with what go; when, and how it ended, stay.
	seen := map[key]bool{}
	scrubAttempt := func(item map[string]types.AttributeValue) error {
		k := keyOf(item)
		if seen[k] {
			return nil
		}
		seen[k] = true
		actions = append(actions, func(t *txn) {
			e := newExpr()
			e.set("login", str("")).set("ip", str("")).set("user_agent", str("")).
				remove("login_key").remove("gsi3pk").remove("gsi3sk").where("attribute_exists(pk)")
			t.update(k, e.build(), onFail{})
		})
		return nil
	}
	if err := s.indexed(ctx, "gsi2", gsiAttemptsByUser(id), scrubAttempt); err != nil {
		return nil, err
	}
	for _, tr := range traces {
		switch {
		case strings.HasPrefix(tr, "lgn_"):
			if err := s.indexed(ctx, "gsi3", gsiAttemptsByLogin(tr), scrubAttempt); err != nil {
				return nil, err
			}
			// The throttle of that login, were it typed before the user
			// had it.
			del(throttleKey(tr))
		case strings.HasPrefix(tr, "eml_"):
			// Invitations to their email: closed ones go. A pending one
			// is someone's new invitation to the freed address.
			err := s.indexed(ctx, "gsi4", gsiInvitesBy("EMAIL", tr), func(item map[string]types.AttributeValue) error {
				if stringAttr(item, "status") != string(invitations.StatusPending) {
					k := keyOf(item)
					actions = append(actions, func(t *txn) {
						e := newExpr()
						e.where(e.n("status") + " <> " + e.v(str(string(invitations.StatusPending))))
						t.deleteIf(k, e.build(), onFail{})
					})
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}

	// Their name on the invitations they sent.
	err = s.indexed(ctx, "gsi5", gsiInvitesBy("BY", id), func(item map[string]types.AttributeValue) error {
		k := keyOf(item)
		actions = append(actions, func(t *txn) {
			e := newExpr()
			e.set("inviter_name", str(users.AnonymizedName)).where("attribute_exists(pk)")
			t.update(k, e.build(), onFail{})
		})
		return nil
	})
	if err != nil {
		return nil, err
	}

	// The audit events they acted in, those about their account and those
	// about their invitations (found by their email's trace: an
	// invitation they declined before they had an account, say) keep who,
	// what and when, not where from: the IP, and the device named in a
	// sign-in's details. An event someone else acted in about them (an
	// admin, a key) keeps its actor's IP, which is not theirs. The index
	// by their email's trace goes from every event: no key may name it.
	scrubEvent := func(byIndex string) func(map[string]types.AttributeValue) error {
		return func(item map[string]types.AttributeValue) error {
			k := keyOf(item)
			if seen[k] {
				return nil
			}
			seen[k] = true
			actor := stringAttr(item, "actor_id")
			theirs := byIndex == "actor" || actor == id || stringAttr(item, "actor_type") == string(access.ActorSystem)
			_, device := item["details"].(*types.AttributeValueMemberM)
			if device {
				_, device = item["details"].(*types.AttributeValueMemberM).Value["device"]
			}
			person := strings.HasPrefix(stringAttr(item, "gsi5pk"), gsiAuditBy("PERSON", ""))
			scrub := theirs && (stringAttr(item, "ip") != "" || device)
			if !scrub && !person {
				return nil
			}
			actions = append(actions, func(t *txn) {
				e := newExpr()
				if scrub {
					e.set("ip", str(""))
					if device {
						e.remove("details.device")
					}
				}
				if person {
					e.remove("gsi5pk").remove("gsi5sk")
				}
				e.where("attribute_exists(pk)")
				t.update(k, e.build(), onFail{})
			})
			return nil
		}
	}
	if err := s.indexed(ctx, "gsi2", gsiAuditBy("ACTOR", id), scrubEvent("actor")); err != nil {
		return nil, err
	}
	if err := s.indexed(ctx, "gsi3", gsiAuditBy("TARGET", id), scrubEvent("target")); err != nil {
		return nil, err
	}
	for _, tr := range traces {
		if strings.HasPrefix(tr, "eml_") {
			if err := s.indexed(ctx, "gsi5", gsiAuditBy("PERSON", tr), scrubEvent("person")); err != nil {
				return nil, err
			}
		}
	}

	// Answers kept for Idempotency-Key retries that show them.
	err = s.indexed(ctx, "gsi5", gsiKeptFor(id), func(item map[string]types.AttributeValue) error {
		del(keyOf(item))
		return nil
	})
	return actions, err
}

// DueForPurge reads the index of what is due: users in deletion by purge
// date, anonymized users still to forget by when they were anonymized.
func (s *Store) DueForPurge(ctx context.Context, now time.Time, limit int) ([]*users.User, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi6"),
		KeyConditionExpression: aws.String("gsi6pk = :p AND gsi6sk < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(gsiDue("PURGE")), ":cut": str(fmtTime(now) + "$"),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, translate(err)
	}
	due := make([]*users.User, 0, len(out.Items))
	for _, item := range out.Items {
		u, err := decodeUser(item)
		if err != nil {
			return nil, err
		}
		due = append(due, u)
	}
	return due, nil
}

// Purge forgets the user and removes their item, their uniqueness items,
// their place in the counters and their team's count, with ev, in one
// transaction conditioned on their being in deletion past their purge date;
// what is theirs that does not fit in it is removed first, in transactions
// of its own.
func (s *Store) Purge(ctx context.Context, u *users.User, now time.Time, ev audit.Event) error {
	// Read again, strongly consistent: the index may lag a restore.
	cur, err := s.GetUser(ctx, u.ID)
	if err != nil {
		return err
	}
	if cur.Status != users.StatusInDeletion || cur.PurgeAfter == nil || now.Before(*cur.PurgeAfter) {
		return users.ErrInvalidState
	}
	actions, err := s.forgetting(ctx, cur.ID, users.Traces(cur.Email, derefStr(cur.Username)))
	if err != nil {
		return err
	}
	t := s.txn()
	e := newExpr()
	// The user as read: a change since (a team deletion unassigning them)
	// would make the counts this removes wrong.
	e.where(e.n("status") + " = " + e.v(str(string(users.StatusInDeletion)))).
		where(e.n("purge_after") + " <= " + e.v(str(fmtTime(now)))).
		where(e.n("version") + " = " + e.v(num(cur.Version)))
	t.deleteIf(userKey(cur.ID), e.build(), failWith(users.ErrChanged))
	if n := users.NormalizeEmail(cur.Email); n != "" {
		t.deleteUnique(emailKey(n), cur.ID)
	}
	if cur.Username != nil {
		t.deleteUnique(usernameKey(users.NormalizeUsername(*cur.Username)), cur.ID)
	}
	t.applyDelta(users.DeltaOf(cur, nil))
	if cur.TeamID != nil {
		t.teamMembers(*cur.TeamID, -1)
	}
	t.searchIndex(cur, nil)
	t.putAudit(ev)
	if len(t.items)+len(actions) <= maxActions {
		// What is theirs goes in the same transaction, most often.
		for _, a := range actions {
			a(t)
		}
		return t.run(ctx, s.client)
	}
	// Otherwise first, in transactions that may each run again: the user
	// goes last, so that a purge cut short is resumed by the next run.
	if err := s.inChunks(ctx, actions); err != nil {
		return fmt.Errorf("purge %s: %w", cur.ID, err)
	}
	return t.run(ctx, s.client)
}
