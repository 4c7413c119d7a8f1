package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/routes"
)

// timeArgon2id times one hash and one verification with the production
// parameters, the median of five.
func timeArgon2id() Argon2id {
	const rounds = 5
	p := passwords.DefaultParams
	var hash, verify []float64
	var h string
	for range rounds {
		start := time.Now()
		h = passwords.Hash(password, p)
		hash = append(hash, ms(time.Since(start)))
	}
	for range rounds {
		start := time.Now()
		_, _, _ = passwords.Verify(password, h, p)
		verify = append(verify, ms(time.Since(start)))
	}
	return Argon2id{Params: fmt.Sprintf("m=%d KiB, t=%d, p=%d", p.MemoryKiB, p.Time, p.Threads),
		HashMs: median(hash), VerifyMs: median(verify)}
}

// lambda builds every function for Lambda (its stripped size, against the
// goals: 10 MiB, 12 MiB for the functions that link the SES client) and for
// this machine, and times each one's cold start through a local Runtime
// API: process start to its first poll for an event (init), then to its
// first answer, with a real session for the routes that take one, so the
// first request does its real work; the median of coldStartRuns.
func (b *bench) lambda(ctx context.Context) error {
	root, err := localstack.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-lambda")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	arm, host := filepath.Join(dir, "arm64")+"/", filepath.Join(dir, "host")+"/"
	if err := build(root, arm, "linux", "arm64"); err != nil {
		return err
	}
	if err := build(root, host, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	b.rep.LambdaBuild = "CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w'"

	// The processes run on the wall clock: a session stamped by the bench's
	// clock, behind it, would cost them a touch write.
	b.clock.CatchUp()
	res, err := b.send("POST", "/auth/login", "", loginBody(adminEmail), 200)
	if err != nil {
		return err
	}
	token := res.str("token")
	type fn struct {
		name string
		mail bool
	}
	var fns []fn
	for _, r := range routes.All {
		fns = append(fns, fn{r.Name, r.SendsEmail})
	}
	for _, j := range routes.Jobs {
		fns = append(fns, fn{j.Name, j.SendsEmail})
	}
	for _, f := range fns {
		st, err := os.Stat(arm + f.name)
		if err != nil {
			return err
		}
		event, err := eventWithToken(filepath.Join(root, "events", f.name+".json"), token)
		if err != nil {
			return err
		}
		var polls, cold, warm []float64
		for range coldStartRuns {
			p, c, w, err := b.coldStart(ctx, f.name, host+f.name, event)
			if err != nil {
				return err
			}
			polls, cold, warm = append(polls, p), append(cold, c), append(warm, w)
		}
		limit := int64(10 << 20)
		if f.mail {
			limit = 12 << 20
		}
		b.rep.Functions = append(b.rep.Functions, Function{Name: f.name, Bytes: st.Size(), LimitBytes: limit, SES: f.mail,
			InitMs: median(polls), ColdMs: median(cold), ColdMaxMs: slices.Max(cold), WarmMs: median(warm)})
	}
	return nil
}

// build builds every function into dir (ending in "/") for goos/goarch.
func build(root, dir, goos, goarch string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir, "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the functions for %s/%s: %w\n%s", goos, goarch, err, o)
	}
	return nil
}

// eventWithToken is the function's sample event, signed in (a job's has no
// headers: it is returned as it is).
func eventWithToken(path, token string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	headers, _ := ev["headers"].(map[string]any)
	if headers == nil {
		return raw, nil
	}
	if _, signed := headers["authorization"]; signed {
		headers["authorization"] = "Bearer " + token
	}
	return json.Marshal(ev)
}

// coldStart starts the function's process and returns the time from
// process start to its first poll for an event, to its first answer, and
// the time of a second answer. Whatever the sample event gets (a 404 for
// its placeholder id) is an answer; a function error is not.
func (b *bench) coldStart(ctx context.Context, name, bin string, event []byte) (poll, cold, warm float64, err error) {
	p, err := b.startFunction(ctx, name, bin)
	if err != nil {
		return 0, 0, 0, err
	}
	defer p.stop()
	for {
		if _, nexts := p.rt.Waiting(); nexts > 0 {
			break
		}
		select {
		case <-p.exited:
			return 0, 0, 0, fmt.Errorf("%s exited before its first poll", name)
		case <-time.After(50 * time.Microsecond):
		}
	}
	poll = ms(time.Since(p.started))
	if err := p.invoke(event, 0); err != nil {
		return 0, 0, 0, err
	}
	cold = ms(time.Since(p.started))
	t := time.Now()
	if err := p.invoke(event, 0); err != nil {
		return 0, 0, 0, err
	}
	return poll, cold, ms(time.Since(t)), nil
}
