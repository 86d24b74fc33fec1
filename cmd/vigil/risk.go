package main

import (
	"context"
	"fmt"
)

// runRisk is being built in its own package; see the issue tracker.
func runRisk(ctx context.Context, args []string, s stdio) int {
	fmt.Fprintln(s.err, "vigil risk: not available in this build")
	return 1
}
