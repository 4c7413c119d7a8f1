package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
)

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
		var it auditItem
		if err := unmarshal(item, &it); err != nil {
			return nil, err
		}
		events = append(events, audit.Event{
			ID: it.ID, At: parseTime(it.At), ActorType: access.ActorType(it.ActorType), ActorID: it.ActorID,
			Action: it.Action, TargetType: it.TargetType, TargetID: it.TargetID, IP: it.IP,
			RequestID: it.RequestID, Details: it.Details,
		})
	}
	return events, nil
}
