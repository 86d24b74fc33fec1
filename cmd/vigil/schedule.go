package main

import (
	"context"

	"vigil/internal/schedule/schedcli"
)

// runSchedule is `vigil schedule`: the roster optimiser (solve, check).
func runSchedule(ctx context.Context, args []string, s stdio) int {
	return schedcli.Run(ctx, args, s.in, s.out, s.err)
}
