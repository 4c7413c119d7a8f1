package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
)

// ListAuditEvents reads a page of audit events, newest first, from the
// index of the most selective filter (the target's, the actor's, the
// action's, or every event's), applying the other filters to what it reads:
// one Query per page, at any table size.
func (s *Store) ListAuditEvents(ctx context.Context, q audit.Query) (audit.Page, error) {
	p := page{index: "gsi1", partition: gsiAudit, filters: map[string]string{}, limit: q.Limit, cursor: q.Cursor, base: isAuditKey}
	chosen := false
	for _, f := range []struct{ index, facet, attr, value string }{
		{"gsi3", "TARGET", "target_id", q.TargetID},
		{"gsi2", "ACTOR", "actor_id", q.ActorID},
		{"gsi4", "ACTION", "action", q.Action},
	} {
		switch {
		case f.value == "":
		case !chosen:
			p.index, p.partition, chosen = f.index, gsiAuditBy(f.facet, f.value), true
		default:
			p.filters[f.attr] = f.value
		}
	}
	if !q.Since.IsZero() {
		p.since = fmtTime(q.Since)
	}
	items, next, err := s.query(ctx, p)
	if err != nil {
		return audit.Page{}, err
	}
	out := audit.Page{Items: make([]audit.Event, 0, len(items)), NextCursor: next}
	for _, item := range items {
		ev, err := decodeAudit(item)
		if err != nil {
			return audit.Page{}, err
		}
		out.Items = append(out.Items, ev)
	}
	return out, nil
}

func isAuditKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, "AUDIT#")
	return ok && sk == "AUDIT" && ids.Valid("evt", id)
}

func decodeAudit(item map[string]types.AttributeValue) (audit.Event, error) {
	var it auditItem
	if err := unmarshal(item, &it); err != nil {
		return audit.Event{}, err
	}
	if it.Details == nil {
		it.Details = map[string]any{}
	}
	return audit.Event{
		ID: it.ID, At: parseTime(it.At), ActorType: access.ActorType(it.ActorType), ActorID: it.ActorID,
		Action: it.Action, TargetType: it.TargetType, TargetID: it.TargetID, IP: it.IP,
		RequestID: it.RequestID, Details: it.Details,
	}, nil
}

// RecentAuditEvents returns up to limit audit events, newest first.
func (s *Store) RecentAuditEvents(ctx context.Context, limit int) ([]audit.Event, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(gsiAudit)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, translate(err)
	}
	events := make([]audit.Event, 0, len(out.Items))
	for _, item := range out.Items {
		ev, err := decodeAudit(item)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}
