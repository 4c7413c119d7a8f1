package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The sample events' placeholder token and id are replaced, so that an
// event invokes as a real caller on a real user.
func TestRewrite(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "get-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), placeholder) {
		t.Fatal("the sample event no longer carries the placeholder token")
	}
	out, err := rewrite(raw, "ums_real", "usr_realrealrealrealrealrealre")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		RawPath        string            `json:"rawPath"`
		Headers        map[string]string `json:"headers"`
		PathParameters map[string]string `json:"pathParameters"`
		RequestContext struct {
			HTTP struct {
				Path string `json:"path"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	want := "/users/usr_realrealrealrealrealrealre"
	if ev.Headers["authorization"] != "Bearer ums_real" || ev.PathParameters["id"] != "usr_realrealrealrealrealrealre" ||
		ev.RawPath != want || ev.RequestContext.HTTP.Path != want {
		t.Fatalf("rewritten event %s", out)
	}
}
