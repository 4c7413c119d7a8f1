package email

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestNewClient(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	if _, err := NewClient(ctx, "eu-west-1", ""); err == nil {
		t.Error("NewClient without credentials nor endpoint: no error")
	}
	if _, err := NewClient(ctx, "", "http://127.0.0.1:1"); err == nil {
		t.Error("NewClient without a region: no error")
	}

	// The emulator: dummy credentials, its endpoint.
	c, err := NewClient(ctx, "eu-west-1", "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if aws.ToString(o.BaseEndpoint) != "http://127.0.0.1:1" || o.Region != "eu-west-1" {
		t.Errorf("endpoint %q, region %q", aws.ToString(o.BaseEndpoint), o.Region)
	}
	if creds, err := o.Credentials.Retrieve(ctx); err != nil || creds.AccessKeyID != "local" {
		t.Errorf("emulator credentials %q, %v", creds.AccessKeyID, err)
	}
	if n := o.Retryer.MaxAttempts(); n != 2 {
		t.Errorf("the SDK makes %d attempts, want 2: Send's loop retries throttling", n)
	}

	// AWS: the function's credentials from its environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	c, err = NewClient(ctx, "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	o = c.Options()
	if o.BaseEndpoint != nil {
		t.Errorf("endpoint %q set without one asked", *o.BaseEndpoint)
	}
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials %+v, %v", creds, err)
	}

	t.Setenv("AWS_CA_BUNDLE", t.TempDir()+"/missing.pem")
	if _, err := NewClient(ctx, "eu-west-1", ""); err == nil {
		t.Error("NewClient with a missing AWS_CA_BUNDLE: no error")
	}
}
