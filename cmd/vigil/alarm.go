package main

import (
	"context"
	"fmt"
)

// runAlarm is being built in its own package; see the issue tracker.
func runAlarm(ctx context.Context, args []string, s stdio) int {
	fmt.Fprintln(s.err, "vigil alarm: not available in this build")
	return 1
}
