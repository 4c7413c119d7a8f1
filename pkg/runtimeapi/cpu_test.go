package runtimeapi_test

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/runtimeapi"
)

// A process's CPU time grows by at least the time it spends computing:
// the test computes until the kernel's own account of the process
// (getrusage) has grown by 50 ms, however long that takes on a busy
// machine, where the process gets only a share of a CPU.
func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU is measured on Linux only")
	}
	rusage := func() time.Duration {
		var r syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
			t.Fatal(err)
		}
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	before, err := runtimeapi.ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := rusage(); rusage()-start < 50*time.Millisecond; {
		for range 10000 {
			x++
		}
	}
	after, err := runtimeapi.ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 40*time.Millisecond || d > 5*time.Second {
		t.Fatalf("50 ms of computing (%d turns) counted as %v", x, d)
	}
}
