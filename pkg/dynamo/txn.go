package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/retry"
)

// onFail turns a failed condition of one transaction item into a domain
// error. Most failures mean one thing (failWith); those that must look at
// the item as it was (fromOld) ask DynamoDB to return it, which costs a
// larger answer, so only they do.
type onFail struct {
	fn      func(old map[string]types.AttributeValue) error
	needOld bool
}

// failWith is an onFail that always returns err.
func failWith(err error) onFail {
	return onFail{fn: func(map[string]types.AttributeValue) error { return err }}
}

// fromOld is an onFail decided by the item as it was (nil if it did not
// exist).
func fromOld(fn func(old map[string]types.AttributeValue) error) onFail {
	return onFail{fn: fn, needOld: true}
}

func (f onFail) returnValues() types.ReturnValuesOnConditionCheckFailure {
	if f.needOld {
		return types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return ""
}

// txn collects the items of one TransactWriteItems and what each failed
// condition means.
type txn struct {
	table string
	items []types.TransactWriteItem
	fails []onFail
	// changes is set by putAudit: the transaction is a change, with its
	// audit event, and commits the request's Idempotency-Key claim.
	changes bool
	// sleep waits out the backoff before a retry: the Store's (nil is
	// retry.Sleep).
	sleep func(ctx context.Context, d time.Duration) error
}

func (s *Store) txn() *txn { return &txn{table: s.table, sleep: s.sleep} }

// put adds a Put of item under cond (empty for none).
func (t *txn) put(item map[string]types.AttributeValue, cond string, fail onFail) {
	p := &types.Put{TableName: aws.String(t.table), Item: item}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		p.ReturnValuesOnConditionCheckFailure = fail.returnValues()
	}
	t.items = append(t.items, types.TransactWriteItem{Put: p})
	t.fails = append(t.fails, fail)
}

// putIf adds a Put of item under the condition of c, whose placeholders it
// carries.
func (t *txn) putIf(item map[string]types.AttributeValue, c expr, fail onFail) {
	t.put(item, c.cond, fail)
	p := t.items[len(t.items)-1].Put
	p.ExpressionAttributeNames, p.ExpressionAttributeValues = c.names, c.values
}

// deleteIf adds a Delete of k under the condition of c.
func (t *txn) deleteIf(k key, c expr, fail onFail) {
	t.delete(k, c.cond, c.values, fail)
	t.items[len(t.items)-1].Delete.ExpressionAttributeNames = c.names
}

// putNew adds a Put that fails with err if the item exists.
func (t *txn) putNew(item map[string]types.AttributeValue, err error) {
	t.put(item, "attribute_not_exists(pk)", failWith(err))
}

// update adds an Update of k.
func (t *txn) update(k key, u expr, fail onFail) {
	up := &types.Update{
		TableName:                 aws.String(t.table),
		Key:                       k.av(),
		UpdateExpression:          aws.String(u.update),
		ExpressionAttributeNames:  u.names,
		ExpressionAttributeValues: u.values,
	}
	if u.cond != "" {
		up.ConditionExpression = aws.String(u.cond)
		up.ReturnValuesOnConditionCheckFailure = fail.returnValues()
	}
	t.items = append(t.items, types.TransactWriteItem{Update: up})
	t.fails = append(t.fails, fail)
}

// check adds a ConditionCheck of k.
func (t *txn) check(k key, c expr, fail onFail) {
	t.items = append(t.items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(t.table),
		Key:                                 k.av(),
		ConditionExpression:                 aws.String(c.cond),
		ExpressionAttributeNames:            c.names,
		ExpressionAttributeValues:           c.values,
		ReturnValuesOnConditionCheckFailure: fail.returnValues(),
	}})
	t.fails = append(t.fails, fail)
}

// delete adds a Delete of k under cond.
func (t *txn) delete(k key, cond string, values map[string]types.AttributeValue, fail onFail) {
	d := &types.Delete{TableName: aws.String(t.table), Key: k.av()}
	if cond != "" {
		d.ConditionExpression = aws.String(cond)
		d.ExpressionAttributeValues = values
		d.ReturnValuesOnConditionCheckFailure = fail.returnValues()
	}
	t.items = append(t.items, types.TransactWriteItem{Delete: d})
	t.fails = append(t.fails, fail)
}

// conflictRetries bounds retries of a transaction cancelled only because
// another transaction held one of its items; the store's invariants live in
// conditions, so retrying is always safe.
const conflictRetries = 12

// run executes the transaction. A failed condition returns its item's domain
// error (the first, in item order); conflicts with other transactions are
// retried with jittered backoff; throttling is unavailable.
func (t *txn) run(ctx context.Context, c *dynamodb.Client) error {
	if len(t.items) == 0 {
		return nil
	}
	claim := t.claim(ctx)
	backoff := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
		if err == nil {
			if claim != nil {
				claim.Commit()
			}
			return nil
		}
		var cancelled *types.TransactionCanceledException
		if !errors.As(err, &cancelled) {
			return translate(err)
		}
		conflict := false
		for i, r := range cancelled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(t.fails) && t.fails[i].fn != nil {
					return t.fails[i].fn(r.Item)
				}
				return fmt.Errorf("dynamo: unexpected failed condition on item %d: %w", i, err)
			case "TransactionConflict":
				conflict = true
			case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				return apperr.Unavailable(err, time.Second)
			}
		}
		if !conflict || attempt >= conflictRetries {
			return translate(err)
		}
		sleep := t.sleep
		if sleep == nil {
			sleep = retry.Sleep
		}
		if err := sleep(ctx, backoff/2+rand.N(backoff)); err != nil {
			return translate(err)
		}
		backoff = min(backoff*2, 400*time.Millisecond)
	}
}

// translate turns SDK errors that are not the domain's into the service's
// kinds: throttling and timeouts are retryable unavailability; everything
// else stays internal (the client sees "internal"; the log sees the cause).
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Unavailable(err, time.Second)
	}
	// DynamoDB could not be reached, or its answer never arrived, through
	// every retry: it is down as far as this request can tell, which the
	// client may retry (a change that did commit is found by its
	// Idempotency-Key, or by its conditions).
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return apperr.Unavailable(err, time.Second)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionInProgressException", "TransactionCanceledException":
			return apperr.Unavailable(err, time.Second)
		}
	}
	return fmt.Errorf("dynamo: %w", err)
}
