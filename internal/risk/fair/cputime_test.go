//go:build unix

package fair

import (
	"syscall"
	"time"
)

// cpuTime is this process's user+system CPU time. Benchmarks report it
// beside wall time because the shared CI machine's wall time includes
// waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
