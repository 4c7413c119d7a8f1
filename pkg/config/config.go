package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Environment variable names. The CDK stack sets them on every function and the
// local stack sets them for the dev server, so each name is spelled once here.
const (
	EnvTableName        = "TABLE_NAME"
	EnvRegion           = "AWS_REGION"
	EnvDynamoDBEndpoint = "DYNAMODB_ENDPOINT"
	EnvSESEndpoint      = "SES_ENDPOINT"
	EnvEmailFrom        = "EMAIL_FROM"
	EnvPublicBaseURL    = "PUBLIC_BASE_URL"
	EnvCORSOrigins      = "CORS_ORIGINS"
	EnvInvitationURL    = "INVITATION_URL"
	EnvPasswordResetURL = "PASSWORD_RESET_URL"
	EnvProductName      = "PRODUCT_NAME"
	EnvSESConfigSet     = "SES_CONFIGURATION_SET"
	EnvLogLevel         = "LOG_LEVEL"
)

// Config is everything a function needs to start.
type Config struct {
	// TableName is the DynamoDB table.
	TableName string
	// Region is the AWS region; the Lambda runtime sets AWS_REGION.
	Region string
	// DynamoDBEndpoint and SESEndpoint override the AWS endpoints, for the
	// local stack (DynamoDB Local, the SES v2 emulator). Empty in AWS.
	DynamoDBEndpoint string
	SESEndpoint      string
	// EmailFrom is the sender of every email, e.g. "Acme <no-reply@acme.com>".
	EmailFrom string
	// PublicBaseURL is where the hosted pages are served; links in emails are
	// built from it, never from a request's Host header.
	PublicBaseURL *url.URL
	// InvitationURL and PasswordResetURL are the pages the links in emails
	// open, with ?token=... added: by default the hosted pages under
	// PublicBaseURL, or a customer's own frontend.
	InvitationURL    *url.URL
	PasswordResetURL *url.URL
	// ProductName names the product in emails; "" means DefaultProduct.
	ProductName string
	// SESConfigurationSet is the SES configuration set every mail is sent
	// with; "" for none.
	SESConfigurationSet string
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// Debug turns on debug log lines.
	Debug bool
	// RequestTimeout bounds one request's work, below API Gateway's 30 s.
	RequestTimeout time.Duration
}

// DefaultProduct names the product where PRODUCT_NAME does not.
const DefaultProduct = "User management"

// Product is the product's name: ProductName, or DefaultProduct.
func (c Config) Product() string {
	if c.ProductName == "" {
		return DefaultProduct
	}
	return c.ProductName
}

// FromEnv reads the configuration with getenv (os.Getenv in production, a map
// in tests). It returns every problem at once.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:        strings.TrimSpace(getenv(EnvTableName)),
		Region:           strings.TrimSpace(getenv(EnvRegion)),
		DynamoDBEndpoint: strings.TrimSpace(getenv(EnvDynamoDBEndpoint)),
		SESEndpoint:      strings.TrimSpace(getenv(EnvSESEndpoint)),
		EmailFrom:        strings.TrimSpace(getenv(EnvEmailFrom)),
		ProductName:      strings.TrimSpace(getenv(EnvProductName)),
		// Not trimmed: the sender refuses a name SES would refuse.
		SESConfigurationSet: getenv(EnvSESConfigSet),
		Debug:               strings.EqualFold(strings.TrimSpace(getenv(EnvLogLevel)), "debug"),
		RequestTimeout:      25 * time.Second,
	}
	var errs []error
	if c.TableName == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvTableName))
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	// Locally (an endpoint is set) the sender and the links have defaults
	// that fit the local stack. In AWS a missing one is a deployment
	// mistake: mail from example.com or links to localhost must fail the
	// cold start, not reach users.
	local := c.DynamoDBEndpoint != ""
	base := strings.TrimSpace(getenv(EnvPublicBaseURL))
	switch {
	case c.EmailFrom == "" && local:
		c.EmailFrom = "no-reply@example.com"
	case c.EmailFrom == "":
		errs = append(errs, fmt.Errorf("%s is required (the sender of every email)", EnvEmailFrom))
	}
	switch {
	case base == "" && local:
		base = "http://127.0.0.1:3000"
	case base == "":
		errs = append(errs, fmt.Errorf("%s is required (where links in emails point)", EnvPublicBaseURL))
		base = "https://unset.invalid"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL, got %q", EnvPublicBaseURL, base))
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.PublicBaseURL = u
		c.InvitationURL = link(getenv, EnvInvitationURL, u, "/pages/accept-invitation", &errs)
		c.PasswordResetURL = link(getenv, EnvPasswordResetURL, u, "/pages/reset-password", &errs)
	}
	for o := range strings.SplitSeq(getenv(EnvCORSOrigins), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// link reads the page a kind of email links to: the named variable if set,
// else the hosted page at path under base.
func link(getenv func(string) string, name string, base *url.URL, path string, errs *[]error) *url.URL {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return base.JoinPath(path)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.Query().Has("token") {
		*errs = append(*errs, fmt.Errorf("%s must be an absolute http(s) URL without a fragment or a token parameter, got %q", name, v))
		return nil
	}
	return u
}

// Link returns page with the token added to its query: the link an email
// carries.
func Link(page *url.URL, token string) string {
	u := *page
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}
