// Command invoke runs one function's real bootstrap binary once, against the
// local stack that `make run` started:
//
//	go run ./scripts/invoke -fn get-me -event events/get-me.json
//
// It builds ./functions/<fn> for the host into .build/host/<fn> (the tags and
// flags of the Lambda build), serves it a local Lambda Runtime API
// (pkg/runtimeapi), gives it the environment the CDK stack would, pointed at
// the local stack, invokes it with the event and prints the response JSON on
// stdout. The function's own log lines go to stderr. It exits non-zero if the
// invocation failed: an error the function reported, a crash, a timeout. An
// API error response (a 4xx or 5xx proxy response) is a successful invocation.
//
// The local stack's ports come from DYNAMODB_PORT (8000), SES_PORT (8005) and
// PORT (3000, the dev server, for links in emails), as for `make run`;
// TABLE_NAME defaults to the local stack's table. EMAIL_FROM, CORS_ORIGINS,
// LOG_LEVEL, PRODUCT_NAME, SES_CONFIGURATION_SET, INVITATION_URL and
// PASSWORD_RESET_URL are passed through when set.
//
// The sample events carry a placeholder token. Unless TOKEN gives one, a
// placeholder is replaced by a fresh session of the admin that make run
// seeded (ADMIN_EMAIL, with ADMIN_PASSWORD or the password make run kept in
// .local/admin-password), so `make invoke FN=get-me` works at once. ID
// replaces the {id} of the event's path; without it, a /users/{id} route
// acts on that admin.
//
// A scheduled job (expire-invitations, purge-deleted-users) runs at the
// time of its EventBridge event, so -at sets the event's time: "+8d",
// "+36h", "-90m" (from now), "now", an RFC 3339 time, or "event" for the
// event's own. Without -at, the job's sample event is set ahead of now by
// the job's default: +8d for expire-invitations (a day past the default
// invitation_ttl_hours, 168, so the invitations sent today are past due)
// and +31d for purge-deleted-users (a day past the default
// deletion_grace_days, 30, so the users deleted today are due); an event
// of another file keeps its time.
//
//	go run ./scripts/invoke -fn expire-invitations -at +8d
//
// With -n N it invokes the function N times more, warm, and prints the CPU
// each invocation cost the function's own process (what Lambda bills, the
// Runtime API's requests included): the median of ten rounds. With
// -against REV it builds the function at that git revision too and gives
// the two processes their rounds in turn, so that a change's effect on CPU
// is read against the same machine's drift; -env gives this tree's
// function more environment, to weigh a setting the same way:
//
//	go run ./scripts/invoke -fn get-me -n 2000 -against HEAD~1
//	go run ./scripts/invoke -fn get-me -n 2000 -against HEAD -env GOMAXPROCS=2
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/runtimeapi"
	"github.com/usermgmt/ums/pkg/schema"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run() error {
	fn := flag.String("fn", "", "the function to invoke: one of routes.Functions()")
	eventPath := flag.String("event", "", "the event file (default events/<fn>.json)")
	timeout := flag.Duration("timeout", 30*time.Second, "the function's timeout, as in AWS")
	n := flag.Int("n", 1, "invocations; past one, the warm ones after the first are timed and the CPU each costs the function's process is printed")
	against := flag.String("against", "", "a git revision: the function built there too, each invoked -n times in turn, and both CPU figures printed with their ratio")
	extraEnv := flag.String("env", "", "environment for this tree's function beyond the stack's, as K=V separated by spaces: to compare a setting against -against's function without it")
	at := flag.String("at", "", `a scheduled job's time: +8d, +36h, -90m (from now), now, an RFC 3339 time, or "event" for the event's own (default: the job's sample event at now + its default ahead, +8d for expire-invitations, +31d for purge-deleted-users)`)
	flag.Parse()
	if *fn == "" {
		return errors.New("-fn is required: one of " + strings.Join(routes.Functions(), ", "))
	}
	if !slices.Contains(routes.Functions(), *fn) {
		return fmt.Errorf("no function %q: one of %s", *fn, strings.Join(routes.Functions(), ", "))
	}
	root, err := localstack.ModuleRoot()
	if err != nil {
		return err
	}
	samplePath := filepath.Join(root, "events", *fn+".json")
	if *eventPath == "" {
		*eventPath = samplePath
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		return err
	}
	if !json.Valid(event) {
		return fmt.Errorf("%s is not JSON", *eventPath)
	}
	var scheduled string
	if event, scheduled, err = scheduleAt(*fn, *at, samePath(*eventPath, samplePath), event, time.Now()); err != nil {
		return err
	}
	if scheduled != "" {
		fmt.Fprintf(os.Stderr, "invoke: %s runs at %s (AT=event keeps the event's time)\n", *fn, scheduled)
	}
	// A CloudFormation custom resource's event (a deploy job's): its
	// answer goes to a local stand-in for CloudFormation's pre-signed URL,
	// which prints it.
	if answered, ok, err := answerHere(&event); err != nil {
		return err
	} else if ok {
		defer answered()
	}

	ddbPort := envOr("DYNAMODB_PORT", "8000")
	sesPort := envOr("SES_PORT", "8005")
	webPort := envOr("PORT", "3000")
	// Checked before building: the build takes a while and would be wasted.
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+ddbPort, time.Second)
	if err != nil {
		return fmt.Errorf("nothing listens on 127.0.0.1:%s (DYNAMODB_PORT): start the local stack with make run first", ddbPort)
	}
	_ = c.Close()

	if event, err = signIn(root, ddbPort, event); err != nil {
		return err
	}

	bin, err := build(root, *fn, root, "")
	if err != nil {
		return err
	}
	env := functionEnv(*fn, ddbPort, sesPort, webPort)
	if *n <= 1 && *against == "" {
		return invokeOnce(*fn, bin, env, event, *timeout)
	}
	fns := []*function{{label: "this tree", bin: bin, env: strings.Fields(*extraEnv)}}
	if *extraEnv != "" {
		fns[0].label += " with " + *extraEnv
	}
	if *against != "" {
		old, err := buildAt(root, *against, *fn)
		if err != nil {
			return err
		}
		fns = append(fns, &function{label: *against, bin: old})
	}
	return compareCPU(*fn, fns, env, event, *timeout, max(*n, cpuRounds))
}

// functionEnv is only what Lambda and the CDK stack would set, the Go
// runtime's tuning to the function's memory included: the caller's own
// environment (AWS_PROFILE and the like) must not make a function work
// here that would fail in AWS.
func functionEnv(fn, ddbPort, sesPort, webPort string) []string {
	memoryMB := routes.JobMemory
	if r, ok := routes.ByName(fn); ok {
		memoryMB = r.MemoryMB()
	}
	var env []string
	for k, v := range routes.GoEnv(memoryMB) {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+fn,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"TZ=:UTC",
		config.EnvTableName+"="+envOr(config.EnvTableName, schema.DefaultTableName),
		config.EnvRegion+"="+envOr(config.EnvRegion, "us-east-1"),
		config.EnvDynamoDBEndpoint+"=http://127.0.0.1:"+ddbPort,
		config.EnvSESEndpoint+"=http://127.0.0.1:"+sesPort,
		config.EnvPublicBaseURL+"=http://127.0.0.1:"+webPort,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	)
	for _, k := range []string{config.EnvEmailFrom, config.EnvCORSOrigins, config.EnvLogLevel, config.EnvProductName,
		config.EnvSESConfigSet, config.EnvInvitationURL, config.EnvPasswordResetURL} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// invokeOnce invokes the function once, a cold start, and prints its answer.
func invokeOnce(fn, bin string, env []string, event []byte, timeout time.Duration) error {
	f := &function{label: fn, bin: bin}
	began := time.Now()
	if err := f.start(fn, env, timeout); err != nil {
		return err
	}
	defer f.stop()
	resp, err := f.invoke(event)
	took := time.Since(began).Round(time.Millisecond)
	var fe *runtimeapi.FunctionError
	switch {
	case errors.As(err, &fe):
		if len(fe.Payload) > 0 {
			printJSON(fe.Payload)
		}
		return fmt.Errorf("%s failed after %s: %w", fn, took, err)
	case err != nil:
		return err
	}
	printJSON(resp)
	fmt.Fprintf(os.Stderr, "invoke: %s answered in %s (cold start included)\n", fn, took)
	return nil
}

// function is one built function running against its own Runtime API.
type function struct {
	label, bin string
	env        []string // beyond the stack's; later entries win
	srv        *runtimeapi.Server
	cmd        *exec.Cmd
	ctx        context.Context
	exited     chan struct{}
}

func (f *function) start(fn string, env []string, timeout time.Duration) error {
	srv, err := runtimeapi.New(runtimeapi.WithFunctionName(fn), runtimeapi.WithTimeout(timeout))
	if err != nil {
		return err
	}
	f.srv = srv
	f.cmd = exec.Command(f.bin)
	f.cmd.Env = append(append([]string{"AWS_LAMBDA_RUNTIME_API=" + srv.Addr()}, env...), f.env...)
	f.cmd.Stdout = os.Stderr // stdout is for the response alone
	f.cmd.Stderr = os.Stderr
	if err := f.cmd.Start(); err != nil {
		_ = srv.Close()
		return err
	}
	// A function that fails at cold start exits (log.Fatal) rather than
	// posting an init error; its exit must end the wait.
	ctx, cancel := context.WithCancelCause(context.Background())
	f.ctx, f.exited = ctx, make(chan struct{})
	go func() {
		err := f.cmd.Wait()
		if err == nil {
			err = errors.New("exit status 0")
		}
		cancel(fmt.Errorf("%s (%s) exited before answering: %w", fn, f.label, err))
		close(f.exited)
	}()
	return nil
}

func (f *function) invoke(event []byte) ([]byte, error) { return f.srv.Invoke(f.ctx, event) }

func (f *function) stop() {
	_ = f.cmd.Process.Kill()
	<-f.exited
	_ = f.srv.Close()
}

// cpu is the CPU time the function's process has used.
func (f *function) cpu() (time.Duration, error) { return runtimeapi.ProcessCPU(f.cmd.Process.Pid) }

// cpuRounds is how many rounds the -n invocations are split into; each
// function's figure is the median of its rounds, and the functions take
// their rounds in turn, so that the machine's drift falls on both alike.
const cpuRounds = 10

// compareCPU invokes each function n times after a warm-up, in rounds
// taken in turn, and prints each one's CPU per invocation and, for two,
// their ratio.
func compareCPU(fn string, fns []*function, env []string, event []byte, timeout time.Duration, n int) error {
	for _, f := range fns {
		if err := f.start(fn, env, timeout); err != nil {
			return err
		}
		defer f.stop()
		for range 20 {
			if _, err := f.invoke(event); err != nil {
				return fmt.Errorf("%s (%s): %w", fn, f.label, err)
			}
		}
	}
	per := n / cpuRounds
	ms := make([][]float64, len(fns))
	for range cpuRounds {
		for i, f := range fns {
			t0, err := f.cpu()
			if err != nil {
				return err
			}
			for range per {
				if _, err := f.invoke(event); err != nil {
					return fmt.Errorf("%s (%s): %w", fn, f.label, err)
				}
			}
			t1, err := f.cpu()
			if err != nil {
				return err
			}
			ms[i] = append(ms[i], float64(t1-t0)/float64(time.Millisecond)/float64(per))
		}
	}
	for i, f := range fns {
		slices.Sort(ms[i])
		fmt.Printf("%s (%s): %.3f ms of CPU per invocation (median of %d rounds of %d; %.3f to %.3f)\n",
			fn, f.label, ms[i][len(ms[i])/2], cpuRounds, per, ms[i][0], ms[i][len(ms[i])-1])
	}
	if len(fns) == 2 {
		fmt.Printf("ratio (%s / %s): %.2f\n", fns[0].label, fns[1].label, ms[0][len(ms[0])/2]/ms[1][len(ms[1])/2])
	}
	return nil
}

// buildAt builds the function as it is at a git revision, from that
// revision's files exported to a temporary directory.
func buildAt(root, rev, fn string) (string, error) {
	dir, err := os.MkdirTemp("", "invoke-at-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, rev, dir)
	archive.Stderr = os.Stderr
	if err := archive.Run(); err != nil {
		return "", fmt.Errorf("export %s: %w", rev, err)
	}
	return build(root, fn, dir, "@"+strings.NewReplacer("/", "_", "~", "_", "^", "_").Replace(rev))
}

// build compiles the function of the module in src for the host, with the
// Lambda build's tags and flags, so that what runs here is the code that
// runs in AWS, into .build/host/<fn><suffix>.
func build(root, fn, src, suffix string) (string, error) {
	out := filepath.Join(root, ".build", "host", fn+suffix)
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", out, "./functions/"+fn)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ./functions/%s: %w", fn, err)
	}
	return out, nil
}

// printJSON prints b indented, or as it is if it is not JSON.
func printJSON(b []byte) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		out.Reset()
		out.Write(b)
	}
	out.WriteByte('\n')
	_, _ = os.Stdout.Write(out.Bytes())
}

func envOr(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// jobAhead is how far ahead of now each scheduled job's sample event runs
// by default: a day past what makes today's work due with the default
// settings (invitation_ttl_hours 168, deletion_grace_days 30).
var jobAhead = map[string]time.Duration{
	"expire-invitations":  8 * 24 * time.Hour,
	"purge-deleted-users": 31 * 24 * time.Hour,
}

// scheduleAt sets the time of a scheduled job's event (see the command's
// doc): at as -at gives it, sample when the event is the job's sample. It
// returns the event and, when it set the time, the time and why.
func scheduleAt(fn, at string, sample bool, event []byte, now time.Time) ([]byte, string, error) {
	ahead, isJob := jobAhead[fn]
	if !isJob {
		if at != "" {
			return nil, "", fmt.Errorf("-at is for the scheduled jobs (%s): %s is not one", strings.Join(slices.Sorted(maps.Keys(jobAhead)), ", "), fn)
		}
		return event, "", nil
	}
	if at == "event" || (at == "" && !sample) {
		return event, "", nil
	}
	when := now.Add(ahead)
	if at != "" {
		var err error
		if when, err = parseAt(at, now); err != nil {
			return nil, "", err
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, "", err
	}
	stamp := when.UTC().Truncate(time.Second).Format(time.RFC3339)
	ev["time"] = stamp
	out, err := json.Marshal(ev)
	return out, stamp + ", -at " + cmp.Or(at, "+"+days(ahead)), err
}

// parseAt reads -at: now, an RFC 3339 time, or an offset from now, a sign
// then days ("8d") and or a Go duration ("36h", "1d12h", "-90m").
func parseAt(at string, now time.Time) (time.Time, error) {
	if at == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		return t, nil
	}
	bad := fmt.Errorf("-at %q: want +8d, +36h, -90m, now, an RFC 3339 time or event", at)
	if len(at) < 3 || (at[0] != '+' && at[0] != '-') {
		return time.Time{}, bad
	}
	sign, rest := at[0], at[1:]
	var d time.Duration
	if n, tail, ok := strings.Cut(rest, "d"); ok {
		nd, err := strconv.Atoi(n)
		if err != nil || nd < 0 || nd > 3650 {
			return time.Time{}, bad
		}
		d, rest = time.Duration(nd)*24*time.Hour, tail
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || more < 0 {
			return time.Time{}, bad
		}
		d += more
	}
	if sign == '-' {
		d = -d
	}
	return now.Add(d), nil
}

// days writes a whole number of days as "8d".
func days(d time.Duration) string { return strconv.Itoa(int(d/(24*time.Hour))) + "d" }

// samePath reports whether two paths name the same file.
func samePath(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && a == b
}

// placeholder is the token of every sample event.
const placeholder = "ums_usr_aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// signIn gives the event a real token and path id (see the command's doc).
func signIn(root, ddbPort string, event []byte) ([]byte, error) {
	token, id := os.Getenv("TOKEN"), os.Getenv("ID")
	if token == "" && bytes.Contains(event, []byte(placeholder)) {
		email := envOr("ADMIN_EMAIL", "admin@example.com")
		password := os.Getenv("ADMIN_PASSWORD")
		if password == "" {
			b, err := os.ReadFile(filepath.Join(root, ".local", "admin-password"))
			if err != nil {
				return nil, errors.New("the event's token is a placeholder: set TOKEN, or ADMIN_PASSWORD (the admin make run seeded)")
			}
			password = strings.TrimSpace(string(b))
		}
		res, err := login(ddbPort, email, password)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s for the event's token: %w", email, err)
		}
		token = res.Token
		if id == "" {
			id = res.User.ID
		}
		fmt.Fprintf(os.Stderr, "invoke: signed in as %s (set TOKEN to use another token)\n", email)
	}
	return rewrite(event, token, id)
}

// login signs in through the auth service, against the local stack.
func login(ddbPort, email, password string) (*auth.LoginResult, error) {
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{
			config.EnvTableName:        envOr(config.EnvTableName, schema.DefaultTableName),
			config.EnvDynamoDBEndpoint: "http://127.0.0.1:" + ddbPort,
			config.EnvRegion:           "us-east-1",
		}[k]
	})
	if err != nil {
		return nil, err
	}
	os.Setenv("AWS_ACCESS_KEY_ID", "local")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	ctx := access.WithRequest(context.Background(), access.Request{ID: "make-invoke", IP: "127.0.0.1", UserAgent: "make invoke", Now: time.Now()})
	return a.Auth.Login(ctx, auth.LoginInput{Login: email, Password: password})
}

// rewrite puts token in the event's Authorization header (if token is set)
// and id in its path (if id is set and the route's path has an {id}).
func rewrite(event []byte, token, id string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	if headers, _ := ev["headers"].(map[string]any); token != "" && headers != nil {
		headers["authorization"] = "Bearer " + token
	}
	params, _ := ev["pathParameters"].(map[string]any)
	if old, ok := params["id"].(string); ok && id != "" {
		params["id"] = id
		for _, field := range []string{"rawPath"} {
			if p, ok := ev[field].(string); ok {
				ev[field] = strings.ReplaceAll(p, old, id)
			}
		}
		if rc, _ := ev["requestContext"].(map[string]any); rc != nil {
			if h, _ := rc["http"].(map[string]any); h != nil {
				if p, ok := h["path"].(string); ok {
					h["path"] = strings.ReplaceAll(p, old, id)
				}
			}
		}
	}
	return json.Marshal(ev)
}

// answerHere points a CloudFormation custom resource event's ResponseURL
// at a local server that prints the answer the function sends there, as
// CloudFormation would take it; ok is false for any other event. done
// stops the server, after the invocation.
func answerHere(event *[]byte) (done func(), ok bool, err error) {
	var ev map[string]any
	if json.Unmarshal(*event, &ev) != nil || ev["RequestType"] == nil || ev["ResponseURL"] == nil {
		return nil, false, nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(os.Stderr, "invoke: the answer to CloudFormation: %s\n", b)
	}))
	ev["ResponseURL"] = srv.URL + "/cloudformation-response"
	if *event, err = json.Marshal(ev); err != nil {
		srv.Close()
		return nil, false, err
	}
	return srv.Close, true, nil
}
