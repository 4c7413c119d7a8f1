package runtimeapi

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProcessCPU is the CPU time a function's process has used, as Lambda
// bills it: the sum over its threads of the scheduler's nanosecond count
// (/proc/<pid>/task/*/schedstat), so Linux only. A thread that has ended
// no longer counts.
func ProcessCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("runtimeapi: no /proc/%d/task/*/schedstat: CPU is measured on Linux only", pid)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		if fields := strings.Fields(string(b)); len(fields) > 0 {
			ns, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0, err
			}
			total += time.Duration(ns)
		}
	}
	return total, nil
}
