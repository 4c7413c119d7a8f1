// Command run is `make run`: it starts the local stack (DynamoDB Local and the
// SES v2 emulator), creates the table from pkg/schema (the definition the CDK
// stack deploys), seeds the first admin, and serves every route of the routes
// table on localhost with the handlers the Lambda functions run. It stops
// everything it started on Ctrl-C or SIGTERM.
//
// Settings, from the environment:
//
//	PORT            the API's port (3000)
//	DYNAMODB_PORT   DynamoDB Local's port (8000)
//	SES_PORT        the SES emulator's port (8005)
//	MEMORY=1        an empty in-memory database instead of .local/dynamodb
//	ADMIN_EMAIL     the seeded admin (admin@example.com)
//	ADMIN_PASSWORD  their password; generated and printed when unset
//	TABLE_NAME, CORS_ORIGINS, EMAIL_FROM, LOG_LEVEL as in pkg/config
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/devserver"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/email"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/schema"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("make run: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	port := envInt("PORT", 3000)
	ddbPort := envInt("DYNAMODB_PORT", 8000)
	sesPort := envInt("SES_PORT", 8005)
	memory := os.Getenv("MEMORY") == "1"
	adminEmail := envOr("ADMIN_EMAIL", "admin@example.com")

	if err := portFree(port); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := localstack.Options{DynamoDBPort: ddbPort, SESPort: sesPort, LogDir: ".local/logs"}
	data := "in memory (MEMORY=1)"
	if !memory {
		opts.DataDir = filepath.Join(".local", "dynamodb")
		data = opts.DataDir
	}
	fmt.Println("Starting DynamoDB Local and the SES emulator...")
	stack, err := localstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer stack.Stop()

	env := map[string]string{}
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		os.Setenv(k, v) // the SDK reads the dummy credentials from the environment
	}
	getenv := func(k string) string {
		if v := os.Getenv(k); v != "" && k != config.EnvDynamoDBEndpoint && k != config.EnvSESEndpoint {
			return v
		}
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case config.EnvTableName:
			return schema.DefaultTableName
		case config.EnvPublicBaseURL:
			return fmt.Sprintf("http://127.0.0.1:%d", port)
		}
		return ""
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.WithSender(email.FromConfig))
	if err != nil {
		return err
	}
	client, err := dynamo.NewClient(ctx, cfg.Region, cfg.DynamoDBEndpoint)
	if err != nil {
		return err
	}
	if err := dynamo.EnsureTable(ctx, client, cfg.TableName, true); err != nil {
		return err
	}

	password, note, err := seedAdmin(ctx, a, adminEmail, memory)
	if err != nil {
		return err
	}

	h, err := devserver.New(a)
	if err != nil {
		return err
	}
	// The stream jobs (the mail routes queue) run here, as Lambda runs
	// them from the table's stream in AWS.
	streams, err := devserver.Streams(ctx, a)
	if err != nil {
		return err
	}
	go streams.Run(ctx, 200*time.Millisecond, a.Log)
	srv := devserver.Server(fmt.Sprintf("127.0.0.1:%d", port), h)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	fmt.Printf(`
The user-management API is running.

  API              %s   (reference: openapi.yaml)
  Admin console    %s/console   (sign in as the admin below)
  Sent email       %s/   (the SES emulator's inbox)
  DynamoDB Local   %s   (table %q, data %s)
  Logs             .local/logs/

Sign in as the admin %s:
%s
  curl -s %s/auth/login -H 'Content-Type: application/json' \
    -d '{"login":"%s","password":"%s"}'

Then send the token as "Authorization: Bearer <token>", e.g. curl -s %s/me -H "Authorization: Bearer $TOKEN"
Invitations (POST /invitations) are mailed to the inbox above; their links open the accept page here.
Press Ctrl-C to stop everything.
`, base, base, stack.SESEndpoint, stack.DynamoDBEndpoint, cfg.TableName, data, adminEmail, note, base, adminEmail, shellQuote(password), base)

	select {
	case <-ctx.Done():
		fmt.Println("\nStopping...")
	case <-stack.Done():
		err = fmt.Errorf("the local stack stopped: %w", stack.Err())
	case err = <-serveErr:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// seedAdmin creates the admin unless they exist, and returns the password to
// show in the sign-in line, with a note. A generated password is kept in
// .local/admin-password (git-ignored, mode 0600) so that later runs can show
// it again. An existing admin's password is never changed: the line shows
// the password only if this run can prove it is the admin's current one.
func seedAdmin(ctx context.Context, a *app.App, email string, memory bool) (password, note string, err error) {
	saved := filepath.Join(".local", "admin-password")
	given := os.Getenv("ADMIN_PASSWORD")
	var kept string
	if b, err := os.ReadFile(saved); err == nil && !memory {
		kept = strings.TrimSpace(string(b))
	}
	password = given
	if password == "" {
		password = kept
	}
	generated := password == ""
	if generated {
		password = generatePassword()
	}
	sys := access.WithRequest(ctx, access.Request{ID: "make-run", Now: time.Now()})
	created, err := a.Users.SeedAdmin(sys, email, password)
	if err != nil {
		return "", "", err
	}
	switch {
	case created && generated:
		if err := os.MkdirAll(".local", 0o755); err == nil && !memory {
			_ = os.WriteFile(saved, []byte(password+"\n"), 0o600)
		}
		return password, "  (a new admin with a generated password; set ADMIN_PASSWORD to choose one)", nil
	case created:
		return password, "  (a new admin with this password)", nil
	}
	// The admin existed: find which password we know is theirs.
	for _, c := range []struct{ pw, source string }{{given, "ADMIN_PASSWORD"}, {kept, saved}} {
		if c.pw == "" {
			continue
		}
		ok, err := a.Auth.Knows(sys, email, c.pw)
		if err != nil {
			return "", "", err
		}
		if ok {
			return c.pw, "  (the admin already existed; this is its password, from " + c.source + ")", nil
		}
	}
	note = "  (the admin already existed, with a password this run does not know: make run never changes it.\n" +
		"   Use the password it was created with; to start over, stop make run and delete .local/dynamodb.)"
	if given != "" {
		note = "  (the admin already existed: its password was kept, and ADMIN_PASSWORD is not it. make run never\n" +
			"   changes an existing admin's password; to start over, stop make run and delete .local/dynamodb.)"
	}
	return "<the admin's password>", note, nil
}

// generatePassword returns 20 characters from an alphabet without look-alikes:
// about 113 bits, and never on the common-passwords list.
func generatePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for i := range 20 {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

func shellQuote(s string) string { return strings.ReplaceAll(s, "'", `'"'"'`) }

func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is in use (is make run already running?); choose another with PORT=...", port)
	}
	return l.Close()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 65535 {
		log.Fatalf("%s must be a port number, got %q", k, v)
	}
	return n
}
