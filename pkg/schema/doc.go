// Package schema describes the single DynamoDB table as data: its key
// attributes, its global secondary indexes and its TTL attribute. The store
// (pkg/dynamo), the local stack (scripts/) and the CDK stack (infra/) build the
// table from this one definition, so the local table is the deployed one.
//
// It imports only the standard library.
package schema
