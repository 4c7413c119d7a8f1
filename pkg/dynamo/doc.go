// Package dynamo is the only importer of the DynamoDB SDK. It spells every key
// (keys.go), maps domain types to unexported item structs, builds the
// transactions that keep the invariants (uniqueness items, counters with
// condition expressions, the audit event beside every change) and translates
// DynamoDB's errors into the domain's sentinels, so no other package knows
// DynamoDB's types.
//
// It may import the standard library, the AWS SDK, pkg/schema, pkg/apperr and
// the domain packages whose store interfaces it satisfies.
package dynamo
