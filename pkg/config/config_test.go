package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocalDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{EnvTableName: "t", EnvDynamoDBEndpoint: "http://127.0.0.1:8000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EmailFrom != "no-reply@example.com" || c.PublicBaseURL.String() != "http://127.0.0.1:3000" || c.Region != "us-east-1" {
		t.Fatalf("defaults %+v", c)
	}
}

// In AWS (no local endpoint) a missing sender or link base fails the cold
// start instead of mailing from example.com with links to localhost.
func TestAWSRequiresTheSenderAndTheLinkBase(t *testing.T) {
	_, err := FromEnv(env(map[string]string{EnvTableName: "t"}))
	for _, name := range []string{EnvEmailFrom, EnvPublicBaseURL} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("missing %s: err = %v", name, err)
		}
	}
	c, err := FromEnv(env(map[string]string{EnvTableName: "t", EnvEmailFrom: "Acme <no-reply@acme.example>",
		EnvPublicBaseURL: "https://accounts.acme.example/", EnvCORSOrigins: " https://a.example , ,https://b.example"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL.String() != "https://accounts.acme.example" || len(c.CORSOrigins) != 2 {
		t.Fatalf("config %+v", c)
	}
}

func TestBadValuesAreAllReported(t *testing.T) {
	_, err := FromEnv(env(map[string]string{EnvPublicBaseURL: "ftp://x", EnvDynamoDBEndpoint: "http://127.0.0.1:8000"}))
	for _, name := range []string{EnvTableName, EnvPublicBaseURL} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
