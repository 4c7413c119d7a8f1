package localstack_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/localstack"
)

func start(tb testing.TB, opts localstack.Options) *localstack.Stack {
	tb.Helper()
	opts.Dir = root(tb)
	// Only guards against a process that never answers: the JVMs of the
	// parallel tests start together, on a machine that may be busy.
	opts.Timeout = 5 * time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func TestStartServesAndStopFreesThePorts(t *testing.T) {
	t.Parallel()
	// Start serialises the children's lines on Output, and Stop returns only
	// after their last write, so a plain Builder is safe to read after Stop.
	var out strings.Builder
	s := start(t, localstack.Options{Output: &out})

	for _, ep := range []struct {
		url  string
		port int
	}{{s.DynamoDBEndpoint, s.DynamoDBPort}, {s.SESEndpoint, s.SESPort}} {
		if want := "http://127.0.0.1:" + strconv.Itoa(ep.port); ep.url != want || ep.port == 0 {
			t.Errorf("endpoint %q, want %q", ep.url, want)
		}
	}
	if s.DynamoDBPort == s.SESPort {
		t.Fatalf("both processes on port %d", s.DynamoDBPort)
	}

	ctx := context.Background()
	client, err := dynamo.NewClient(ctx, localstack.Region, s.DynamoDBEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.EnsureTable(ctx, client, "localstack-test", false); err != nil {
		t.Fatal(err)
	}
	tables, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tables.TableNames, []string{"localstack-test"}) {
		t.Errorf("tables %v, want only the one just created in a fresh in-memory database", tables.TableNames)
	}

	resp, err := http.Get(s.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	var store struct {
		Emails []json.RawMessage `json:"emails"`
	}
	err = json.NewDecoder(resp.Body).Decode(&store)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /store: %s, decode: %v", resp.Status, err)
	}
	if store.Emails == nil || len(store.Emails) != 0 {
		t.Errorf("store emails %v, want an empty list", store.Emails)
	}

	env := s.Env()
	for _, kv := range []string{
		"DYNAMODB_ENDPOINT=" + s.DynamoDBEndpoint,
		"SES_ENDPOINT=" + s.SESEndpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	} {
		if !slices.Contains(env, kv) {
			t.Errorf("Env() = %v, missing %s", env, kv)
		}
	}

	// How soon SIGTERM ends them depends on the machine; past the grace
	// period Stop kills them, so it returns in any case: the guard only
	// catches a Stop that hangs.
	stopped, returned := time.Now(), make(chan struct{})
	go func() { s.Stop(); close(returned) }()
	select {
	case <-returned:
		t.Logf("Stop took %s", time.Since(stopped).Round(time.Millisecond))
	case <-time.After(time.Minute):
		t.Fatal("Stop did not return")
	}
	for _, port := range []int{s.DynamoDBPort, s.SESPort} {
		if listening(port) {
			t.Errorf("port %d still accepts connections after Stop", port)
		}
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after Stop = %v, want nil", err)
	}
	s.Stop() // a second Stop must neither block nor panic

	// Output got the children's lines, prefixed with their names.
	got := out.String()
	for _, want := range []string{"dynamodb | Initializing DynamoDB Local", "ses | aws-ses-v2-local"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestDataDirKeepsTablesAcrossRestarts(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	logs := t.TempDir()
	ctx := context.Background()

	s := start(t, localstack.Options{DataDir: data, LogDir: logs})
	client, err := dynamo.NewClient(ctx, localstack.Region, s.DynamoDBEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.EnsureTable(ctx, client, "kept", false); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if log, err := os.ReadFile(filepath.Join(logs, "dynamodb.log")); err != nil || !strings.Contains(string(log), "Initializing DynamoDB Local") {
		t.Errorf("dynamodb.log: %v\n%s", err, log)
	}

	s = start(t, localstack.Options{DataDir: data})
	client, err = dynamo.NewClient(ctx, localstack.Region, s.DynamoDBEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables.TableNames, "kept") {
		t.Errorf("tables after restart %v, want the one created before it", tables.TableNames)
	}
}

func TestStartRefusesAPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	for _, opts := range []localstack.Options{{DynamoDBPort: port}, {SESPort: port}} {
		opts.Dir = root(t)
		// A process started creates its log here first.
		opts.LogDir = t.TempDir()
		s, err := localstack.Start(context.Background(), opts)
		if err == nil {
			s.Stop()
			t.Fatalf("Start(%+v) attached to a port in use", opts)
		}
		if !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
			t.Errorf("error %q should say port %d is in use", err, port)
		}
		if logs, _ := filepath.Glob(filepath.Join(opts.LogDir, "*.log")); len(logs) > 0 {
			t.Errorf("started %v before refusing; it should fail before starting anything", logs)
		}
	}
}

func TestStartWithoutToolsSaysMakeTools(t *testing.T) {
	t.Parallel()
	_, err := localstack.Start(context.Background(), localstack.Options{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("error %v, want one that names `make tools`", err)
	}
}

// root is the repository root, where .tools and functions/ are.
func root(tb testing.TB) string {
	tb.Helper()
	dir, err := localstack.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}
