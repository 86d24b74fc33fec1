package main

import (
	"context"
	"fmt"
)

// runSchedule is being built in its own package; see the issue tracker.
func runSchedule(ctx context.Context, args []string, s stdio) int {
	fmt.Fprintln(s.err, "vigil schedule: not available in this build")
	return 1
}
