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

// lambda builds one function for Lambda (its size) and for this machine, and
// times its cold start: process start to the first response, through a local
// Runtime API, with a real session so the first request does its real work.
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
	lambdaBin, hostBin := filepath.Join(dir, "lambda"), filepath.Join(dir, "host")
	if err := build(root, lambdaBin, "linux", "arm64"); err != nil {
		return err
	}
	st, err := os.Stat(lambdaBin)
	if err != nil {
		return err
	}
	b.rep.Lambda = Lambda{Function: coldStartFunction, Target: "linux/arm64", Bytes: st.Size(),
		Build: "CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w'"}
	if err := build(root, hostBin, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}

	// The processes run on the wall clock: a session stamped by the bench's
	// clock, behind it, would cost them a touch write.
	b.clock.CatchUp()
	res, err := b.send("POST", "/auth/login", "", loginBody(adminEmail), 200)
	if err != nil {
		return err
	}
	event, err := eventWithToken(filepath.Join(root, "events", coldStartFunction+".json"), res.str("token"))
	if err != nil {
		return err
	}
	var cold, warm []float64
	for range coldStartRuns {
		c, w, err := b.coldStart(ctx, hostBin, event)
		if err != nil {
			return err
		}
		cold, warm = append(cold, c), append(warm, w)
	}
	b.rep.ColdStart = ColdStart{Function: coldStartFunction, Target: runtime.GOOS + "/" + runtime.GOARCH, Runs: coldStartRuns,
		MedianMs: median(cold), MinMs: slices.Min(cold), MaxMs: slices.Max(cold), WarmInvokeMs: median(warm)}
	return nil
}

func build(root, out, goos, goarch string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+coldStartFunction)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w\n%s", coldStartFunction, goos, goarch, err, o)
	}
	return nil
}

// eventWithToken is the function's sample event, signed in.
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
		return nil, fmt.Errorf("%s: no headers", path)
	}
	headers["authorization"] = "Bearer " + token
	return json.Marshal(ev)
}

// coldStart starts the function's process, invokes it twice and returns the
// time from process start to the first answer, and the second answer's time.
func (b *bench) coldStart(ctx context.Context, bin string, event []byte) (cold, warm float64, err error) {
	p, err := b.startFunction(ctx, coldStartFunction, bin)
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	if err := p.invoke(event, 200); err != nil {
		return 0, 0, err
	}
	cold = ms(time.Since(p.started))
	t := time.Now()
	if err := p.invoke(event, 200); err != nil {
		return 0, 0, err
	}
	return cold, ms(time.Since(t)), nil
}
