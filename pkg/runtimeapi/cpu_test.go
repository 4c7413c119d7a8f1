package runtimeapi_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/runtimeapi"
)

// A process's CPU time grows by at least the time it spends computing.
func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU is measured on Linux only")
	}
	before, err := runtimeapi.ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	after, err := runtimeapi.ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 40*time.Millisecond || d > 5*time.Second {
		t.Fatalf("50 ms of computing (%d turns) counted as %v", x, d)
	}
}
