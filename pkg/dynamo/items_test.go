package dynamo

import (
	"reflect"
	"testing"
)

// userAttributes must name every attribute of userItem, or a versioned
// update would leave one stale (an index key left behind by a role change).
func TestUserAttributesNameEveryField(t *testing.T) {
	count := 0
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for i := range tp.NumField() {
			f := tp.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			count++
		}
	}
	walk(reflect.TypeFor[userItem]())
	if len(userAttributes) != count {
		t.Fatalf("userAttributes has %d names, userItem %d fields", len(userAttributes), count)
	}
	for _, want := range []string{"gsi1pk", "gsi3pk", "gsi5sk", "role", "status", "version"} {
		found := false
		for _, n := range userAttributes {
			found = found || n == want
		}
		if !found {
			t.Errorf("userAttributes lacks %q", want)
		}
	}
}
