package dynamotest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/grants"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/schema"
)

// Calls records, by function, what IAM would authorize for every DynamoDB
// call made while serving a route or running a job (the function is the
// request's access.Request.Route; calls outside one, a test's own set-up,
// are not recorded). CheckGrants then evaluates them against the stack's
// grants: DynamoDB Local checks no permission, so this is where a call AWS
// would refuse fails.
type Calls struct {
	mu sync.Mutex
	by map[string][]grants.Call
}

// NewCalls returns an empty record.
func NewCalls() *Calls { return &Calls{by: map[string][]grants.Call{}} }

// Middleware records each call; add it to dynamodb.Options.APIOptions.
func (c *Calls) Middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("TestRecordCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if fn := access.RequestFrom(ctx).Route; fn != "" {
				calls := CallsOf(in.Parameters)
				c.mu.Lock()
				c.by[fn] = append(c.by[fn], calls...)
				c.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// Of returns the calls recorded for one function.
func (c *Calls) Of(name string) []grants.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.by[name])
}

// CheckGrants returns a problem for any recorded call the function's grants
// refuse, for any function that made no call at all (it was never
// exercised), and for any action a function is granted but never used
// (grant no more than is needed). The activity and idempotency statements,
// granted alike to every signed-in or POST route, must each have been used
// by some route, as must the throttle statement of public routes. A
// function granted nothing (a page) must have made no call.
func (c *Calls) CheckGrants(rs []routes.Route, jobs []routes.Job) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	c.mu.Lock()
	defer c.mu.Unlock()
	type fn struct {
		name     string
		declared []routes.Action
		grants   []grants.Statement
	}
	var fns []fn
	for _, r := range rs {
		fns = append(fns, fn{r.Name, r.Dynamo, grants.ForRoute(r)})
	}
	for _, j := range jobs {
		fns = append(fns, fn{j.Name, j.Dynamo, grants.ForJob(j)})
	}
	shared := map[string]bool{}
	for _, f := range fns {
		calls := c.by[f.name]
		if len(f.grants) == 0 {
			// A page: it has no access, so any call at all is refused.
			if len(calls) > 0 {
				errorf("%s has no DynamoDB access, yet made %d calls", f.name, len(calls))
			}
			continue
		}
		if len(calls) == 0 {
			errorf("%s made no DynamoDB call in these tests: its grants are untested", f.name)
			continue
		}
		used := map[routes.Action]bool{}
		refused := map[string]bool{}
		for _, call := range calls {
			if !grants.Allowed(f.grants, call) {
				refused[fmt.Sprintf("%s index=%q attributes=%v keys=%v return=%q", call.Action, call.Index, call.Attributes, kinds(call.LeadingKeys), call.ReturnValues)] = true
				continue
			}
			// Which statement allowed it: the route's own, or a shared one.
			if grants.Allowed(f.grants[:1], call) {
				used[call.Action] = true
			}
			for _, st := range f.grants[1:] {
				if grants.Allowed([]grants.Statement{st}, call) && !grants.Allowed(f.grants[:1], call) {
					shared[st.Sid] = true
				}
			}
		}
		for _, r := range slices.Sorted(maps.Keys(refused)) {
			errorf("%s: AWS would refuse %s", f.name, r)
		}
		for _, a := range f.declared {
			if !used[a] {
				errorf("%s is granted dynamodb:%s but never used it in these tests: drop it from its row, or test the path that needs it", f.name, a)
			}
		}
	}
	if len(rs) > 0 {
		for _, st := range []grants.Statement{grants.Activity, grants.Idempotency, grants.Throttle} {
			if !shared[st.Sid] {
				errorf("no route used its %s grant in these tests", st.Sid)
			}
		}
	}
	return problems
}

// kinds are the distinct prefixes of keys ("AUDIT#…"), so that one refusal
// is reported once, not once per item.
func kinds(keys []string) []string {
	set := map[string]bool{}
	for _, k := range keys {
		prefix, _, _ := strings.Cut(k, "#")
		set[prefix+"#…"] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// CallsOf returns what IAM authorizes for one DynamoDB request: one call,
// or one per item of a transaction.
func CallsOf(input any) []grants.Call {
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		return []grants.Call{{Action: routes.GetItem, LeadingKeys: leading(in.Key)}}
	case *dynamodb.BatchGetItemInput:
		c := grants.Call{Action: routes.BatchGetItem}
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				c.LeadingKeys = append(c.LeadingKeys, leading(k)...)
			}
		}
		return []grants.Call{c}
	case *dynamodb.QueryInput:
		c := grants.Call{Action: routes.Query}
		if in.IndexName != nil {
			c.Index = *in.IndexName
		}
		return []grants.Call{c}
	case *dynamodb.ScanInput:
		return []grants.Call{{Action: "Scan"}}
	case *dynamodb.PutItemInput:
		return []grants.Call{write(routes.PutItem, in.Item, nil, in.ConditionExpression, in.ExpressionAttributeNames, string(in.ReturnValues))}
	case *dynamodb.UpdateItemInput:
		return []grants.Call{write(routes.UpdateItem, in.Key, in.UpdateExpression, in.ConditionExpression, in.ExpressionAttributeNames, string(in.ReturnValues))}
	case *dynamodb.DeleteItemInput:
		return []grants.Call{write(routes.DeleteItem, in.Key, nil, in.ConditionExpression, in.ExpressionAttributeNames, string(in.ReturnValues))}
	case *dynamodb.BatchWriteItemInput:
		c := grants.Call{Action: routes.BatchWriteItem}
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					c.LeadingKeys = append(c.LeadingKeys, leading(r.PutRequest.Item)...)
				case r.DeleteRequest != nil:
					c.LeadingKeys = append(c.LeadingKeys, leading(r.DeleteRequest.Key)...)
				}
			}
		}
		return []grants.Call{c}
	case *dynamodb.TransactWriteItemsInput:
		var out []grants.Call
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				p := it.Put
				out = append(out, write(routes.PutItem, p.Item, nil, p.ConditionExpression, p.ExpressionAttributeNames, string(p.ReturnValuesOnConditionCheckFailure)))
			case it.Update != nil:
				u := it.Update
				out = append(out, write(routes.UpdateItem, u.Key, u.UpdateExpression, u.ConditionExpression, u.ExpressionAttributeNames, string(u.ReturnValuesOnConditionCheckFailure)))
			case it.Delete != nil:
				d := it.Delete
				out = append(out, write(routes.DeleteItem, d.Key, nil, d.ConditionExpression, d.ExpressionAttributeNames, string(d.ReturnValuesOnConditionCheckFailure)))
			case it.ConditionCheck != nil:
				c := it.ConditionCheck
				out = append(out, write(routes.ConditionCheckItem, c.Key, nil, c.ConditionExpression, c.ExpressionAttributeNames, string(c.ReturnValuesOnConditionCheckFailure)))
			}
		}
		return out
	}
	// Table administration (tests' own set-up) is no function's.
	return nil
}

// write is a write's call: the attributes it names, as IAM's
// dynamodb:Attributes counts them, are the top-level ones: those of the item
// or key, and the first element of every document path its expressions
// name ("sessions" for sessions.#id.a), spelled out or through a
// placeholder. A ReturnValuesOnConditionCheckFailure of ALL_OLD returns the
// item, so it counts as asking for it back.
func write(a routes.Action, item map[string]types.AttributeValue, update, cond *string, names map[string]string, returns string) grants.Call {
	attrs := map[string]bool{}
	for name := range item {
		attrs[name] = true
	}
	for _, e := range []*string{update, cond} {
		if e != nil {
			for _, name := range topLevel(*e, names) {
				attrs[name] = true
			}
		}
	}
	return grants.Call{Action: a, Attributes: slices.Sorted(maps.Keys(attrs)), LeadingKeys: leading(item), ReturnValues: returns}
}

func leading(key map[string]types.AttributeValue) []string {
	if v, ok := key[schema.PK].(*types.AttributeValueMemberS); ok {
		return []string{v.Value}
	}
	return nil
}

var word = regexp.MustCompile(`[.]?[#:]?[A-Za-z_][A-Za-z0-9_]*`)

// keywords of the expression language, which are not attributes.
var keywords = map[string]bool{
	"SET": true, "ADD": true, "REMOVE": true, "DELETE": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "BETWEEN": true, "attribute_exists": true, "attribute_not_exists": true,
	"attribute_type": true, "begins_with": true, "contains": true, "size": true,
	"if_not_exists": true, "list_append": true,
}

// topLevel returns the top-level attributes an expression names: every
// word that starts a document path (not a :value, not a keyword, not an
// element after a "."), a #placeholder resolved through names.
func topLevel(expr string, names map[string]string) []string {
	var out []string
	for _, w := range word.FindAllString(expr, -1) {
		switch {
		case w[0] == '.' || w[0] == ':' || keywords[w] || keywords[strings.ToUpper(w)]:
		case w[0] == '#':
			out = append(out, names[w])
		default:
			out = append(out, w)
		}
	}
	return out
}
