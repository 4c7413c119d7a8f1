package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/usermgmt/ums/pkg/paging"
)

// FilterWindow caps how many index items one page evaluates when filters
// narrow the index it reads (ten times the page, at most this): a page is
// always one Query, so a page of a rare combination can be short, even
// empty, with a cursor to continue, and costs the same at any table size.
const FilterWindow = 500

// page is one page of a collection: one Query of one index partition, newest
// first.
type page struct {
	index     string // "gsi1".."gsi6"
	partition string
	// filters are equality conditions on attributes the index does not
	// serve, applied to what the page reads.
	filters map[string]string
	// flags are equality conditions on boolean attributes, alike.
	flags map[string]bool
	// not are inequality conditions, alike: what the caller may not see.
	not map[string]string
	// contains are conditions that an attribute holds a substring, alike.
	contains []contains
	// since, if set, keeps only items sorted at or after it (a fmtTime).
	since string
	limit int
	// cursor is a next_cursor this list issued, or "".
	cursor string
	// base says whether a table key may be one of this list's items: a
	// cursor naming anything else is refused.
	base func(pk, sk string) bool
	// sortKey, if set, says whether an index sort key has the shape of this
	// list's (validSortKey when nil: "<time>#<id>").
	sortKey func(string) bool
	// ascending reads the index in sort key order (A to Z) rather than
	// newest first.
	ascending bool
	// errBadCursor is the list's error for a cursor it did not issue
	// (paging.ErrBadCursor when nil).
	errBadCursor error
	// window overrides FilterWindow (tests).
	window int
}

// contains is the condition that attr holds value.
type contains struct{ attr, value string }

// cursor is a position in a list: the index sort key and the table key of
// the last item read. The partition is never in it, but always rebuilt from
// the query, so a cursor can only move within what the caller may list.
type cursor struct {
	S  string `json:"s"`
	PK string `json:"p"`
	SK string `json:"k"`
}

func encodeCursor(c cursor) *string {
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeCursor reads a cursor and checks that it could have been issued by
// the list: its sort key has the shape of the index's (sortKey, or
// "<time>#<id>" when nil) and its table key is one of the list's items.
// Anything else would reach DynamoDB as an invalid key.
func decodeCursor(s string, base func(pk, sk string) bool, sortKey func(string) bool) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || len(b) > 1024 || json.Unmarshal(b, &c) != nil {
		return cursor{}, false
	}
	if sortKey == nil {
		sortKey = validSortKey
	}
	if !utf8.ValidString(c.S) || !sortKey(c.S) || !utf8.ValidString(c.PK) || !utf8.ValidString(c.SK) || !base(c.PK, c.SK) {
		return cursor{}, false
	}
	return c, true
}

// validSortKey reports whether s has the shape sortKey makes.
func validSortKey(s string) bool {
	ts, id, ok := strings.Cut(s, "#")
	if !ok || len(ts) != len(timeFormat) || id == "" || len(id) > 64 {
		return false
	}
	_, err := time.Parse(timeFormat, ts)
	return err == nil
}

// query reads one page and returns its items, newest first, and the cursor
// of the next page (nil when nothing follows).
func (s *Store) query(ctx context.Context, p page) ([]map[string]types.AttributeValue, *string, error) {
	pkAttr, skAttr := p.index+"pk", p.index+"sk"
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(p.index),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(p.partition)},
		ScanIndexForward:          aws.Bool(p.ascending),
		// One more than the page, so that a full page knows whether more follow.
		Limit: aws.Int32(int32(p.limit + 1)),
	}
	if p.since != "" {
		in.KeyConditionExpression = aws.String("#p = :p AND #s >= :since")
		in.ExpressionAttributeNames["#s"] = skAttr
		in.ExpressionAttributeValues[":since"] = str(p.since)
	}
	var conds []string
	for attr, value := range p.filters {
		in.ExpressionAttributeNames["#f_"+attr] = attr
		in.ExpressionAttributeValues[":f_"+attr] = str(value)
		conds = append(conds, "#f_"+attr+" = :f_"+attr)
	}
	for attr, value := range p.flags {
		in.ExpressionAttributeNames["#f_"+attr] = attr
		in.ExpressionAttributeValues[":f_"+attr] = &types.AttributeValueMemberBOOL{Value: value}
		conds = append(conds, "#f_"+attr+" = :f_"+attr)
	}
	for attr, value := range p.not {
		in.ExpressionAttributeNames["#f_"+attr] = attr
		in.ExpressionAttributeValues[":n_"+attr] = str(value)
		conds = append(conds, "#f_"+attr+" <> :n_"+attr)
	}
	for i, c := range p.contains {
		in.ExpressionAttributeNames["#c_"+c.attr] = c.attr
		v := fmt.Sprintf(":c_%s_%d", c.attr, i)
		in.ExpressionAttributeValues[v] = str(c.value)
		conds = append(conds, "contains(#c_"+c.attr+", "+v+")")
	}
	if len(conds) > 0 {
		window := p.window
		if window == 0 {
			window = FilterWindow
		}
		slices.Sort(conds)
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
		in.Limit = aws.Int32(int32(max(p.limit+1, min(window, 10*(p.limit+1)))))
	}
	if p.cursor != "" {
		c, ok := decodeCursor(p.cursor, p.base, p.sortKey)
		if !ok {
			if p.errBadCursor == nil {
				return nil, nil, paging.ErrBadCursor
			}
			return nil, nil, p.errBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			pkAttr: str(p.partition), skAttr: str(c.S), "pk": str(c.PK), "sk": str(c.SK),
		}
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, nil, translate(err)
	}
	items := out.Items
	if len(items) > p.limit {
		// More follow: continue after the last item of this page.
		items = items[:p.limit]
		last := items[len(items)-1]
		return items, encodeCursor(cursor{S: stringAttr(last, skAttr), PK: stringAttr(last, "pk"), SK: stringAttr(last, "sk")}), nil
	}
	if out.LastEvaluatedKey != nil {
		// The window ended before the page filled: continue where it ended.
		k := out.LastEvaluatedKey
		return items, encodeCursor(cursor{S: stringAttr(k, skAttr), PK: stringAttr(k, "pk"), SK: stringAttr(k, "sk")}), nil
	}
	return items, nil, nil
}
