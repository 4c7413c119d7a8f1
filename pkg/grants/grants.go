// Package grants is what the CDK stack allows each function to do to the
// table, as data: the statements of the function role's table policy. infra
// builds the policy from it, and a test evaluates every DynamoDB call each
// function made during the tests against it (Allowed), so that a call AWS
// would refuse fails here, where DynamoDB Local checks no permission at all.
//
// It imports the standard library, pkg/routes and pkg/schema.
package grants

import (
	"slices"

	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/schema"
)

// Statement is one Allow statement on the table.
type Statement struct {
	// Sid names the statement in the policy.
	Sid string
	// Actions are DynamoDB actions, without the "dynamodb:" prefix.
	Actions []routes.Action
	// Indexes adds the table's indexes to the resources (the table itself
	// always is one): only Query reads an index.
	Indexes bool
	// Attributes, if set, are the only attributes a request may name
	// (dynamodb:Attributes with ForAllValues:StringEquals), and it may not ask
	// for the item back (dynamodb:ReturnValues).
	Attributes []string
	// LeadingKeys, if set, are patterns (StringLike) that every partition key
	// a request touches must match (dynamodb:LeadingKeys).
	LeadingKeys []string
}

// ReturnValuesAllowed are the dynamodb:ReturnValues of a request a statement
// with Attributes allows: none that return attributes it does not name.
var ReturnValuesAllowed = []string{"NONE", "UPDATED_OLD", "UPDATED_NEW"}

// ForRoute returns the statements of a route's function: the actions its
// row declares; for signed-in routes, writing the activity attributes of a
// user's partition (every request records activity, read-only ones too);
// for POST routes, the Idempotency-Key records.
//
// A page (Kind Page) reads nothing: its function gets no table access.
// Every other public route counts failures toward the source IP's limit
// (Throttle).
func ForRoute(r routes.Route) []Statement {
	if r.Kind == routes.Page {
		return nil
	}
	s := []Statement{table(r.Dynamo)}
	if r.Access != routes.Public {
		s = append(s, Activity)
	} else {
		s = append(s, Throttle)
	}
	if r.Method == "POST" {
		s = append(s, Idempotency)
	}
	return s
}

// ForJob returns the statements of a job's function: the actions it declares.
func ForJob(j routes.Job) []Statement { return []Statement{table(j.Dynamo)} }

func table(actions []routes.Action) Statement {
	return Statement{Sid: "Table", Actions: actions, Indexes: slices.Contains(actions, routes.Query)}
}

// Activity lets a function record a request's activity on the caller's
// session or API key and user, and nothing else.
var Activity = Statement{
	Sid:         "Activity",
	Actions:     []routes.Action{routes.UpdateItem},
	Attributes:  append([]string{schema.PK, schema.SK}, schema.ActivityAttributes...),
	LeadingKeys: []string{schema.UserPartition + "*", schema.KeyPartition + "*"},
}

// Throttle lets a public function count a failure toward the source IP's
// limit, and nothing else: a bad token raises the count even on a GET.
var Throttle = Statement{
	Sid:         "Throttle",
	Actions:     []routes.Action{routes.UpdateItem},
	Attributes:  []string{schema.PK, schema.SK, schema.RateCount, schema.TTL},
	LeadingKeys: []string{schema.RatePartition + "*"},
}

// Idempotency lets a function read and write Idempotency-Key records.
var Idempotency = Statement{
	Sid:         "Idempotency",
	Actions:     []routes.Action{routes.GetItem, routes.PutItem, routes.UpdateItem},
	LeadingKeys: []string{schema.IdempotencyPartition + "*"},
}

// Call is what IAM authorizes for one DynamoDB request, or for one item of a
// transaction.
type Call struct {
	Action routes.Action
	// Index is set for a Query of an index.
	Index string
	// Attributes are the top-level attributes the request names: the key, the
	// attributes it writes and those its expressions refer to.
	Attributes []string
	// LeadingKeys are the partition keys it touches.
	LeadingKeys []string
	// ReturnValues is the request's ReturnValues, if set.
	ReturnValues string
}

// Allowed reports whether one of the statements allows the call.
func Allowed(statements []Statement, c Call) bool {
	return slices.ContainsFunc(statements, func(s Statement) bool { return s.allows(c) })
}

func (s Statement) allows(c Call) bool {
	if !slices.Contains(s.Actions, c.Action) || (c.Index != "" && !s.Indexes) {
		return false
	}
	if s.Attributes != nil {
		for _, a := range c.Attributes {
			if !slices.Contains(s.Attributes, a) {
				return false
			}
		}
		if c.ReturnValues != "" && !slices.Contains(ReturnValuesAllowed, c.ReturnValues) {
			return false
		}
	}
	if s.LeadingKeys != nil {
		for _, k := range c.LeadingKeys {
			if !slices.ContainsFunc(s.LeadingKeys, func(p string) bool { return like(p, k) }) {
				return false
			}
		}
	}
	return true
}

// like is IAM's StringLike: "*" matches any run of characters (slashes
// included) and "?" any one.
func like(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	// star and mark remember the last "*" and where it started matching.
	star, mark := -1, 0
	for i, j := 0, 0; j < len(str); {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == str[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			mark++
			i, j = star+1, mark
		default:
			return false
		}
		if j == len(str) {
			for i < len(p) && p[i] == '*' {
				i++
			}
			return i == len(p)
		}
	}
	for _, r := range p {
		if r != '*' {
			return false
		}
	}
	return true
}
