package dynamo

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr builds an update with its condition, naming every attribute and value
// through placeholders so no reserved word or user input reaches the
// expression text.
type expr struct {
	update, cond string
	names        map[string]string
	values       map[string]types.AttributeValue
	sets, adds   []string
	removes      []string
	conds        []string
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// n returns the placeholder of an attribute path ("settings.license_count").
func (e *expr) n(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		ph := "#" + p
		e.names[ph] = p
		parts[i] = ph
	}
	return strings.Join(parts, ".")
}

// v returns the placeholder of a value.
func (e *expr) v(av types.AttributeValue) string {
	ph := ":v" + strconv.Itoa(len(e.values))
	e.values[ph] = av
	return ph
}

func (e *expr) set(attr string, av types.AttributeValue) *expr {
	e.sets = append(e.sets, e.n(attr)+" = "+e.v(av))
	return e
}

// setIfAbsent sets attr to av unless the item has it already.
func (e *expr) setIfAbsent(attr string, av types.AttributeValue) *expr {
	n := e.n(attr)
	e.sets = append(e.sets, n+" = if_not_exists("+n+", "+e.v(av)+")")
	return e
}

// copy sets attr to the value the item holds in from.
func (e *expr) copy(attr, from string) *expr {
	e.sets = append(e.sets, e.n(attr)+" = "+e.n(from))
	return e
}

func (e *expr) add(attr string, n int) *expr {
	e.adds = append(e.adds, e.n(attr)+" "+e.v(num(n)))
	return e
}

func (e *expr) remove(attr string) *expr {
	e.removes = append(e.removes, e.n(attr))
	return e
}

// where adds a condition; conditions are joined with AND. The text may use
// placeholders made with n and v.
func (e *expr) where(cond string) *expr {
	e.conds = append(e.conds, "("+cond+")")
	return e
}

// build finishes the expression for a txn item or an UpdateItem call.
func (e *expr) build() expr {
	var parts []string
	if len(e.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(e.sets, ", "))
	}
	if len(e.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(e.adds, ", "))
	}
	if len(e.removes) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(e.removes, ", "))
	}
	out := *e
	out.update = strings.Join(parts, " ")
	out.cond = strings.Join(e.conds, " AND ")
	if len(out.values) == 0 {
		out.values = nil
	}
	if len(out.names) == 0 {
		out.names = nil
	}
	return out
}

func num(n int) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
}
