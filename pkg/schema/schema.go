package schema

// Attribute names of the table's keys. Every attribute is a string.
const (
	PK  = "pk"
	SK  = "sk"
	TTL = "ttl" // epoch seconds; DynamoDB removes the item some time after
)

// Index is a global secondary index with a string partition and sort key and
// every attribute projected.
type Index struct {
	Name string
	PK   string
	SK   string
}

// Indexes are overloaded: each entity writes the index attributes it is listed
// by, and an item without them is not in the index (a sparse index).
//
//	gsi1: a collection newest first (all users, all sessions, all audit events)
//	gsi2..gsi5: the same collection narrowed by one filter (users by status,
//	      role, team, usage; sessions by user; audit events by actor, target, ...)
//	gsi6: what the scheduled jobs must do, by when it is due (pending
//	      invitations by expiry, deleted users by purge date)
var Indexes = []Index{
	{Name: "gsi1", PK: "gsi1pk", SK: "gsi1sk"},
	{Name: "gsi2", PK: "gsi2pk", SK: "gsi2sk"},
	{Name: "gsi3", PK: "gsi3pk", SK: "gsi3sk"},
	{Name: "gsi4", PK: "gsi4pk", SK: "gsi4sk"},
	{Name: "gsi5", PK: "gsi5pk", SK: "gsi5sk"},
	{Name: "gsi6", PK: "gsi6pk", SK: "gsi6sk"},
}

// StreamView is what the table's stream carries of each change: the item as
// it became. The stream jobs (pkg/routes) read it: the outbox's mail is sent
// from it, after the request that queued it has answered.
const StreamView = "NEW_IMAGE"

// DefaultTableName is the table's name in the local stack. The CDK stack lets
// CloudFormation name it and passes the name to each function as TABLE_NAME.
const DefaultTableName = "ums"

// KeyAttributes lists every attribute used in a key of the table or an index.
func KeyAttributes() []string {
	attrs := []string{PK, SK}
	for _, ix := range Indexes {
		attrs = append(attrs, ix.PK, ix.SK)
	}
	return attrs
}

// Partitions that IAM grants name by prefix (dynamodb:LeadingKeys); the keys
// themselves are spelled in pkg/dynamo/keys.go, from these.
const (
	// UserPartition starts the partition of a user: the user, their sessions
	// and their personal API keys.
	UserPartition = "USER#"
	// IdempotencyPartition starts the partition of an Idempotency-Key record.
	IdempotencyPartition = "IDEMPOTENCY#"
	// RatePartition starts the partition of a source IP's failure count in
	// a window, whose count is RateCount.
	RatePartition = "RATE#"
	// KeyPartition starts the partition of a system API key.
	KeyPartition = "APIKEY#"
	// OutboxPartition starts the partition of a mail queued to be sent
	// after the request that queued it has answered (see StreamView).
	OutboxPartition = "OUTBOX#"
	RateCount       = "n"
)

// Activity attributes: written by every signed-in request at most every few
// minutes, outside the versioned updates of the items they are on.
const (
	// LastActiveAt is on a session.
	LastActiveAt = "last_active_at"
	// LastSeenAt is on a user.
	LastSeenAt = "last_seen_at"
	// LastUsedAt is on an API key.
	LastUsedAt = "last_used_at"
)

// ActivityAttributes are all of them: what a read-only function may write.
var ActivityAttributes = []string{LastActiveAt, LastSeenAt, LastUsedAt}
