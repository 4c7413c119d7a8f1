package grants

import (
	"testing"

	"github.com/usermgmt/ums/pkg/routes"
)

func TestLike(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"USER#*", "USER#usr_abc", true},
		{"USER#*", "USER#", true},
		{"USER#*", "USERS", false},
		{"USER#*", "EMAIL#a/b@x.com", false},
		{"*#x", "a/b#x", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
	} {
		if got := like(c.pattern, c.s); got != c.want {
			t.Errorf("like(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestAllowed(t *testing.T) {
	read := routes.Route{Name: "r", Method: "GET", Access: routes.SignedIn, Dynamo: []routes.Action{routes.BatchGetItem, routes.Query}}
	s := ForRoute(read)
	for _, c := range []struct {
		name string
		call Call
		want bool
	}{
		{"its own read", Call{Action: routes.BatchGetItem, LeadingKeys: []string{"USER#u", "META"}}, true},
		{"a query of an index", Call{Action: routes.Query, Index: "gsi1"}, true},
		{"a scan", Call{Action: "Scan"}, false},
		{"the activity touch", Call{Action: routes.UpdateItem, Attributes: []string{"pk", "sk", "last_seen_at"}, LeadingKeys: []string{"USER#u"}}, true},
		{"a touch of another attribute", Call{Action: routes.UpdateItem, Attributes: []string{"pk", "sk", "role"}, LeadingKeys: []string{"USER#u"}}, false},
		{"a touch of another partition", Call{Action: routes.UpdateItem, Attributes: []string{"pk", "sk", "last_seen_at"}, LeadingKeys: []string{"META"}}, false},
		{"a touch that reads the item back", Call{Action: routes.UpdateItem, Attributes: []string{"pk", "last_seen_at"}, LeadingKeys: []string{"USER#u"}, ReturnValues: "ALL_OLD"}, false},
		{"a put", Call{Action: routes.PutItem, LeadingKeys: []string{"USER#u"}}, false},
		{"an idempotency record of a GET", Call{Action: routes.PutItem, LeadingKeys: []string{"IDEMPOTENCY#k"}}, false},
	} {
		if got := Allowed(s, c.call); got != c.want {
			t.Errorf("%s: Allowed = %v, want %v", c.name, got, c.want)
		}
	}
	post := routes.Route{Name: "p", Method: "POST", Access: routes.Public, Dynamo: []routes.Action{routes.BatchGetItem}}
	if !Allowed(ForRoute(post), Call{Action: routes.PutItem, LeadingKeys: []string{"IDEMPOTENCY#k"}}) {
		t.Error("a POST cannot keep its Idempotency-Key record")
	}
	if Allowed(ForRoute(post), Call{Action: routes.UpdateItem, Attributes: []string{"pk", "sk", "last_seen_at"}, LeadingKeys: []string{"USER#u"}}) {
		t.Error("a public route may touch a session")
	}
}
