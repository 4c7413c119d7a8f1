package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/runtimeapi"
)

// process is one running function binary, served by a local Runtime API,
// with the environment the stack gives it (pointed at the local stack).
type process struct {
	name    string
	rt      *runtimeapi.Server
	cmd     *exec.Cmd
	ctx     context.Context
	started time.Time
	exited  chan struct{}
	// logged counts the bytes the function wrote to stdout and stderr:
	// what CloudWatch Logs would ingest from it.
	logged *counter
}

// counter counts the bytes written to it.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// startFunction runs bin as the named function with env added to the
// stack's environment.
func (b *bench) startFunction(ctx context.Context, name, bin string, env ...string) (*process, error) {
	rt, err := runtimeapi.New(runtimeapi.WithFunctionName(name))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		config.EnvTableName + "=" + b.table,
		config.EnvRegion + "=" + localstack.Region,
		config.EnvDynamoDBEndpoint + "=" + b.rep.DynamoDBEndpoint,
		config.EnvSESEndpoint + "=" + b.app.Config.SESEndpoint,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	p := &process{name: name, rt: rt, cmd: cmd, exited: make(chan struct{}), logged: &counter{}}
	cmd.Stdout, cmd.Stderr = p.logged, p.logged
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		rt.Close()
		return nil, err
	}
	// A function that fails at cold start exits; its exit ends any wait.
	ctx, cancel := context.WithCancelCause(ctx)
	p.ctx = ctx
	go func() {
		err := cmd.Wait()
		cancel(fmt.Errorf("%s exited: %v", name, err))
		close(p.exited)
	}()
	return p, nil
}

// invoke sends one event and checks the proxy response's status (none
// when status is 0).
func (p *process) invoke(event []byte, status int) error {
	ctx, stop := context.WithTimeout(p.ctx, 30*time.Second)
	defer stop()
	out, err := p.rt.Invoke(ctx, event)
	if err != nil {
		return err
	}
	if status == 0 {
		return nil // any answer will do
	}
	var res struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != status {
		return fmt.Errorf("%s answered %s, want status %d", p.name, out, status)
	}
	return nil
}

// cpu returns the CPU time the process has used, from the kernel's
// per-thread run times (nanoseconds; /proc/<pid>/task/*/schedstat).
func (p *process) cpu() (time.Duration, error) { return runtimeapi.ProcessCPU(p.cmd.Process.Pid) }

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.rt.Close()
}
