// Package capacity asks DynamoDB calls for the capacity they consume and
// reads it from their answers (ReturnConsumedCapacity), for the bench and
// the tests that measure what a request costs. The service itself never
// asks: the answer is bigger and the count is of no use to it.
//
// It imports the standard library and the DynamoDB SDK.
package capacity

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Ask sets ReturnConsumedCapacity on a DynamoDB input (a call's
// parameters, as a middleware sees them); other inputs are left alone.
func Ask(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	}
}

// Consumed is the read and write units a call's output reports: a read's
// units are read units, a write's write units, except where DynamoDB
// splits them (a transaction's condition checks read).
func Consumed(op string, result any) (rcu, wcu float64) {
	var cs []types.ConsumedCapacity
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		cs = out.ConsumedCapacity
	case *dynamodb.QueryOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		cs = out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		cs = out.ConsumedCapacity
	}
	read := slices.Contains([]string{"GetItem", "BatchGetItem", "Query", "Scan"}, op)
	for _, c := range cs {
		r, w := aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)
		switch {
		case r+w > 0:
			rcu, wcu = rcu+r, wcu+w
		case read:
			rcu += aws.ToFloat64(c.CapacityUnits)
		default:
			wcu += aws.ToFloat64(c.CapacityUnits)
		}
	}
	return rcu, wcu
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}
