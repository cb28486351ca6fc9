//go:build unix

package server_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far, for
// benchmarks whose wall clock a busy machine distorts.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
