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

// Links go to the hosted pages unless a page of one's own is configured;
// the token is added to the page's own query.
func TestLinks(t *testing.T) {
	local := map[string]string{EnvTableName: "t", EnvDynamoDBEndpoint: "http://127.0.0.1:8000", EnvPublicBaseURL: "https://ums.example/base/"}
	c, err := FromEnv(env(local))
	if err != nil {
		t.Fatal(err)
	}
	if got := Link(c.InvitationURL, "umi_inv_x.y+z"); got != "https://ums.example/base/pages/accept-invitation?token=umi_inv_x.y%2Bz" {
		t.Errorf("hosted invitation link %q", got)
	}
	if got := Link(c.PasswordResetURL, "t"); got != "https://ums.example/base/pages/reset-password?token=t" {
		t.Errorf("hosted reset link %q", got)
	}
	local[EnvInvitationURL] = "https://app.example/join?lang=fr"
	if c, err = FromEnv(env(local)); err != nil {
		t.Fatal(err)
	}
	if got := Link(c.InvitationURL, "t"); got != "https://app.example/join?lang=fr&token=t" {
		t.Errorf("own invitation link %q", got)
	}
	for _, bad := range []string{"/join", "ftp://app.example/join", "https://app.example/join#x", "https://app.example/join?token=1"} {
		local[EnvPasswordResetURL] = bad
		if _, err := FromEnv(env(local)); err == nil || !strings.Contains(err.Error(), EnvPasswordResetURL) {
			t.Errorf("%s=%q: err = %v", EnvPasswordResetURL, bad, err)
		}
	}
}
