package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/users"
)

// Search. Besides their own item, a user is listed under every distinct
// prefix of one to users.MaxIndexedPrefix runes of their search terms
// (users.SearchTerms: the email, the username, up to four name words): one
// small item per prefix, in the base table, partition SEARCH#<hash of the
// prefix>, sort key the user's "<created>#<id>", so that one Query of one
// partition reads the users a word matches, newest first. The item holds
// the user's terms, " term term ...", so that a word longer than an indexed
// prefix, or a second word, is matched by a filter on the partition of the
// longest word's prefix.
//
// The items are written in the transactions that write the user: creation
// (and invitation), every change of the email, username or names,
// anonymization (which removes them all), purge and the end of an
// invitation (which remove them with the user).
//
// A page of a search alone is one Query of its partition and one
// BatchGetItem of the page's users (strongly consistent, like the Query): a
// full page whenever that many match, auth + 2 calls at any table size.
// Copying the users into their search items would save the second call but
// rewrite every one of a user's (up to 36) items at every sign-in, which
// writes last_login_at. A search with status, role or usage reads at most
// searchWindow index items and fetches them all to filter, so its page may
// be short, with a cursor; a search within a team (every manager's) reads
// the team's index instead, filtered on the user items' own terms.

// searchWindow bounds the index items a filtered search page fetches: one
// BatchGetItem of at most 100 keys.
const searchWindow = 100

// searchItem lists a user under one prefix.
type searchItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	ID string `dynamodbav:"id"`
	// T is the user's terms, users.JoinTerms.
	T string `dynamodbav:"t"`
}

// searchPartition is the partition of the users found by a prefix: its hash,
// so that no key spells a part of an email or a name.
func searchPartition(prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return searchPrefix + hex.EncodeToString(sum[:12])
}

const searchPrefix = "SEARCH#"

// searchKey is the key of a user's item under a prefix.
func searchKey(prefix string, u *users.User) key {
	return key{searchPartition(prefix), sortKey(u.CreatedAt, u.ID)}
}

// searchIndex adds what a change of the user (nil before: created; nil
// after: removed) does to their search items: those of prefixes they lose
// are deleted, the others written with the new terms. A change that leaves
// the terms as they were writes nothing.
func (t *txn) searchIndex(before, after *users.User) {
	oldTerms, newTerms := before.SearchTerms(), after.SearchTerms()
	if slices.Equal(oldTerms, newTerms) {
		return
	}
	newPrefixes := users.SearchPrefixes(newTerms)
	for _, p := range users.SearchPrefixes(oldTerms) {
		if !slices.Contains(newPrefixes, p) {
			t.delete(searchKey(p, before), "", nil, onFail{})
		}
	}
	joined := users.JoinTerms(newTerms)
	for _, p := range newPrefixes {
		k := searchKey(p, after)
		t.put(marshal(searchItem{PK: k.pk, SK: k.sk, ID: after.ID, T: joined}), "", onFail{})
	}
}

// searchUsers reads a page of a search not narrowed to a team: the
// partition of its longest word's prefix, filtered on the terms unless the
// partition is exact, then the users of the page in one BatchGetItem,
// filtered by status, role and usage if asked.
func (s *Store) searchUsers(ctx context.Context, q users.ListQuery, window int) (users.Page, error) {
	partition := searchPartition(q.Words.Partition())
	filtered := q.Status != "" || q.Role != "" || q.Usage != "" || q.Hide != ""
	if window == 0 {
		window = searchWindow
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partition)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(q.Limit + 1)),
	}
	if filtered {
		in.Limit = aws.Int32(int32(max(q.Limit+1, window)))
	}
	if !q.Words.Exact() {
		var conds []string
		for i, w := range q.Words.Words {
			v := fmt.Sprintf(":w%d", i)
			in.ExpressionAttributeValues[v] = str(" " + w)
			conds = append(conds, "contains(t, "+v+")")
		}
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
		in.Limit = aws.Int32(max(*in.Limit, int32(min(FilterWindow, 10*(q.Limit+1)))))
	}
	if q.Cursor != "" {
		c, ok := decodeCursor(q.Cursor, func(pk, sk string) bool { return pk == partition && validSortKey(sk) }, nil)
		if !ok {
			return users.Page{}, paging.ErrBadCursor
		}
		in.ExclusiveStartKey = key{c.PK, c.SK}.av()
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return users.Page{}, translate(err)
	}
	// The candidates: as many as the page when nothing else filters, else
	// as many as one BatchGetItem fetches.
	take := q.Limit
	if filtered {
		take = min(window, 100)
	}
	candidates := out.Items[:min(len(out.Items), take)]
	more := len(out.Items) > len(candidates) || out.LastEvaluatedKey != nil
	keys := make([]key, len(candidates))
	for i, it := range candidates {
		keys[i] = userKey(stringAttr(it, "id"))
	}
	found := map[string]map[string]types.AttributeValue{}
	if len(keys) > 0 {
		if found, err = s.batchGet(ctx, keys...); err != nil {
			return users.Page{}, err
		}
	}
	page := users.Page{Items: []*users.User{}}
	for i, it := range candidates {
		item := found[keys[i].id()]
		if item == nil {
			continue
		}
		u, err := decodeUser(item)
		if err != nil {
			return users.Page{}, err
		}
		// Matched against the terms as stored, which the same transaction
		// as the search item wrote: no folding again, per user, per page.
		if !q.Words.Matches(strings.Fields(stringAttr(item, "terms"))) || !q.Admits(u) {
			continue
		}
		page.Items = append(page.Items, u)
		if len(page.Items) == q.Limit {
			if i < len(candidates)-1 || more {
				page.NextCursor = searchCursor(it)
			}
			return page, nil
		}
	}
	switch {
	case len(candidates) > 0 && len(out.Items) > len(candidates):
		page.NextCursor = searchCursor(candidates[len(candidates)-1])
	case out.LastEvaluatedKey != nil:
		page.NextCursor = searchCursor(out.LastEvaluatedKey)
	}
	return page, nil
}

// searchCursor is the cursor that continues after a search item.
func searchCursor(item map[string]types.AttributeValue) *string {
	sk := stringAttr(item, "sk")
	return encodeCursor(cursor{S: sk, PK: stringAttr(item, "pk"), SK: sk})
}
