package dynamo

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient builds the DynamoDB client of a function. It does not use the
// SDK's configuration loader (shared config files, profiles, SSO, instance
// metadata): a Lambda function has its credentials in its environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the
// loader would add its packages to every binary and its work to every cold
// start. With an endpoint (DynamoDB Local) it uses static dummy
// credentials, which DynamoDB Local accepts. Tools that run with a person's
// credentials build their aws.Config with the loader and use
// NewClientFromConfig.
func NewClient(ctx context.Context, region, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	var creds aws.CredentialsProvider
	switch id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); {
	case endpoint != "":
		creds = credentials.NewStaticCredentialsProvider("local", "local", "")
	case id != "" && secret != "":
		creds = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	default:
		return nil, errors.New("dynamo: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	return NewClientFromConfig(aws.Config{Region: region, Credentials: aws.NewCredentialsCache(creds)}, endpoint, optFns...)
}

// NewClientFromConfig builds a DynamoDB client on cfg's region and
// credentials. The retryer is the SDK's standard one without its
// client-side retry quota, which otherwise fails calls outright during
// throttling bursts; the HTTP client is conns.
func NewClientFromConfig(cfg aws.Config, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	http := newConns()
	if bundle := os.Getenv("AWS_CA_BUNDLE"); bundle != "" && endpoint == "" {
		pem, err := os.ReadFile(bundle)
		if err != nil {
			return nil, fmt.Errorf("dynamo: AWS_CA_BUNDLE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("dynamo: AWS_CA_BUNDLE %s holds no certificate", bundle)
		}
		http.roots = pool
	}
	cfg.HTTPClient = http
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.None
			o.MaxAttempts = 4
			o.MaxBackoff = 2 * time.Second
		})
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local's x-amz-crc32 does not match some of its error
			// bodies; the real service's does, and keeps the check.
			o.DisableValidateResponseChecksum = true
		}
		for _, fn := range optFns {
			fn(o)
		}
	}), nil
}
