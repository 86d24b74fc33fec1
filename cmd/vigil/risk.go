package main

import (
	"context"

	"vigil/internal/risk/riskcli"
)

// runRisk is `vigil risk`: the risk engines, JSON in and JSON out.
func runRisk(ctx context.Context, args []string, s stdio) int {
	return riskcli.Run(ctx, args, s.in, s.out, s.err)
}
