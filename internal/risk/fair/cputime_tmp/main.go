package main

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"vigil/internal/risk/dist"
	"vigil/internal/risk/fair"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	for _, agg := range []fair.Aggregation{fair.PerEvent, fair.PerYear} {
		m := &fair.Model{
			TEF:           &dist.Spec{Dist: "pert", Min: dist.F(2), Mode: dist.F(10), Max: dist.F(30)},
			Vulnerability: &fair.Vulnerability{Value: dist.F(0.6)},
			Magnitude:     &dist.Spec{Dist: "pert", Min: dist.F(1000), Mode: dist.F(20000), Max: dist.F(500000)},
			Aggregation:   agg,
		}
		best := time.Hour
		for range 5 {
			c0 := cpu()
			fair.Simulate(context.Background(), m, fair.Options{Iterations: 1_000_000, Seed: 42, Workers: 1})
			best = min(best, cpu()-c0)
		}
		fmt.Println(agg, "cpu", best)
	}
}
