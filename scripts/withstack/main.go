// Command withstack runs a command against a fresh, in-memory local stack:
//
//	go run ./scripts/withstack -- go test -count=1 ./...
//
// It starts DynamoDB Local and the SES emulator on free ports, runs the
// command with DYNAMODB_ENDPOINT, SES_ENDPOINT, AWS_REGION and dummy
// credentials added to its environment, stops the stack (on SIGINT and
// SIGTERM too) and exits with the command's exit code. A fresh stack per run
// means no test depends on what an earlier run or `make run` left behind, and
// free ports mean it never collides with a stack `make run` keeps open.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/usermgmt/ums/pkg/localstack"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("withstack", flag.ExitOnError)
	ddbPort := fs.Int("dynamodb-port", 0, "DynamoDB Local's port (0: a free port)")
	sesPort := fs.Int("ses-port", 0, "the SES emulator's port (0: a free port)")
	logDir := fs.String("logs", "", "write the stack's output to dynamodb.log and ses.log in this directory")
	verbose := fs.Bool("v", false, "stream the stack's output to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: withstack [flags] -- command [args...]")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	args := fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return 2
	}

	// Signals are caught from here on, so that a Ctrl-C while the stack
	// starts still stops it: a signal during Start cancels it, one after is
	// passed to the command. The stack's processes are in their own process
	// groups, so the terminal's Ctrl-C reaches only this process and the
	// command, and the stack outlives the command long enough to be stopped.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stopStartSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)

	root, err := localstack.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	opts := localstack.Options{Dir: root, DynamoDBPort: *ddbPort, SESPort: *sesPort, LogDir: *logDir}
	if *verbose {
		opts.Output = os.Stderr
	}
	began := time.Now()
	stack, err := localstack.Start(ctx, opts)
	stopStartSignals()
	if err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
	defer stack.Stop()
	fmt.Fprintf(os.Stderr, "withstack: DynamoDB Local at %s, SES emulator at %s (ready in %s)\n",
		stack.DynamoDBEndpoint, stack.SESEndpoint, time.Since(began).Round(time.Millisecond))

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), stack.Env()...)
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 127
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	signals := 0
	for {
		select {
		case err := <-waited:
			return exitCode(err)
		case sig := <-sigs:
			// Pass the first on and keep waiting, so the command ends its own
			// way (go test reports what failed); kill it on the second.
			if signals++; signals == 1 {
				_ = cmd.Process.Signal(sig)
			} else {
				_ = cmd.Process.Kill()
			}
		case <-stack.Done():
			// The command would now fail in confusing ways; say why instead.
			fmt.Fprintln(os.Stderr, "withstack:", stack.Err())
			_ = cmd.Process.Kill()
			<-waited
			return 1
		}
	}
}

// exitCode is the command's exit code, or 128+signal as a shell reports it.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, "withstack:", err)
		return 1
	}
}
