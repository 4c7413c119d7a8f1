package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// NewClient builds the SES v2 client of a function. Like pkg/dynamo's, it
// does not use the SDK's configuration loader (shared config files,
// profiles, SSO, instance metadata): a Lambda function has its credentials
// in its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), and the loader would add its packages to every binary
// and its work to every cold start. With an endpoint (the local SES
// emulator) it uses static dummy credentials, which the emulator accepts.
// ctx is unused; it keeps the signature of pkg/dynamo's NewClient.
func NewClient(ctx context.Context, region, endpoint string) (*sesv2.Client, error) {
	if region == "" {
		return nil, errors.New("email: no AWS region")
	}
	var creds aws.CredentialsProvider
	switch id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); {
	case endpoint != "":
		creds = credentials.NewStaticCredentialsProvider("local", "local", "")
	case id != "" && secret != "":
		creds = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	default:
		return nil, errors.New("email: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	cfg := aws.Config{Region: region, Credentials: aws.NewCredentialsCache(creds)}
	if bundle := os.Getenv("AWS_CA_BUNDLE"); bundle != "" && endpoint == "" {
		hc, err := caBundleClient(bundle)
		if err != nil {
			return nil, err
		}
		cfg.HTTPClient = hc
	}
	return newClient(cfg, endpoint), nil
}

// newClient builds the client on cfg; tests pass optFns to swap the HTTP
// client and keep everything else as in production. The HTTP client is the
// SDK's default. The retryer is the SDK's standard one without its
// client-side retry quota (which fails calls outright during a throttling
// burst), with few attempts, retrying only a connection that broke:
// throttling and SES's 5xx come straight back to Send's loop, which knows
// the caller's deadline, where the SDK's backoff (a second or more for
// throttling) would spend it blindly.
func newClient(cfg aws.Config, endpoint string, optFns ...func(*sesv2.Options)) *sesv2.Client {
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.None
			o.MaxAttempts = 2
			o.MaxBackoff = 200 * time.Millisecond
			o.Retryables = []retry.IsErrorRetryable{
				retry.NoRetryCanceledError{},
				retry.RetryableConnectionError{},
			}
		})
	}
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		for _, fn := range optFns {
			fn(o)
		}
	})
}

// caBundleClient is the SDK's default HTTP client trusting the certificates
// of AWS_CA_BUNDLE too, which the configuration loader would have honoured
// (a proxy that inspects TLS, say); pkg/dynamo honours it as well.
func caBundleClient(bundle string) (*awshttp.BuildableClient, error) {
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("email: AWS_CA_BUNDLE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("email: AWS_CA_BUNDLE %s holds no certificate", bundle)
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = pool
	}), nil
}
