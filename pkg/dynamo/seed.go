package dynamo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/users"
)

// SeedUsers fills the table with users through batch writes, for measuring
// it at size (the bench, the capacity test): each user's item, its
// uniqueness items and search items, exactly as the transactions write
// them, then the counters and team member counts they add, in one update
// each. It is not the way users are created: it checks no uniqueness, no
// seat and writes no audit event, so it is only for a table the caller
// owns. workers batches run at once.
func (s *Store) SeedUsers(ctx context.Context, us []*users.User, workers int) error {
	var items []map[string]types.AttributeValue
	var total users.Delta
	teams := map[string]int{}
	for _, u := range us {
		items = append(items, marshal(toUserItem(u)), uniqueEmail(u))
		if u.Username != nil {
			items = append(items, uniqueUsername(u))
		}
		t := &txn{table: s.table}
		t.searchIndex(nil, u)
		for _, w := range t.items {
			items = append(items, w.Put.Item)
		}
		total = total.Plus(users.DeltaOf(nil, u))
		if u.TeamID != nil {
			teams[*u.TeamID]++
		}
	}
	if err := s.batchWrite(ctx, items, workers); err != nil {
		return err
	}
	if len(teams) >= maxActions {
		return fmt.Errorf("dynamo: seed: %d teams, at most %d", len(teams), maxActions-1)
	}
	t := s.txn()
	if !total.IsZero() {
		t.update(metaKey(), addCounts(newExpr(), total).build(), onFail{})
	}
	for team, n := range teams {
		t.teamMembers(team, n)
	}
	return t.run(ctx, s.client)
}

// batchWrite puts items in batches of 25, workers at a time, retrying what
// DynamoDB leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, items []map[string]types.AttributeValue, workers int) error {
	batches := make(chan []map[string]types.AttributeValue)
	errs := make(chan error, max(workers, 1))
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for b := range batches {
				if err := s.putBatch(ctx, b); err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
		})
	}
	for len(items) > 0 {
		n := min(len(items), 25)
		batches <- items[:n]
		items = items[n:]
	}
	close(batches)
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *Store) putBatch(ctx context.Context, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	backoff := 10 * time.Millisecond
	for len(reqs) > 0 {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
		if err != nil {
			return fmt.Errorf("dynamo: seed: %w", translate(err))
		}
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) > 0 {
			// A context that ended meanwhile fails the next call.
			_ = s.pause(ctx, backoff)
			backoff = min(2*backoff, time.Second)
		}
	}
	return nil
}
