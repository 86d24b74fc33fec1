package solver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"vigil/internal/schedule/nrp"
	"vigil/internal/schedule/solver"
)

func loadInstance(tb testing.TB, name string) *solver.Problem {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "nrp", "testdata", name+".txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p, err := nrp.Parse(f, name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkSolveIterations measures search throughput on benchmark
// instances with a fixed, reproducible amount of work per op.
func BenchmarkSolveIterations(b *testing.B) {
	for _, name := range []string{"Instance1", "Instance5", "Instance7", "Instance10"} {
		p := loadInstance(b, name)
		b.Run(name, func(b *testing.B) {
			var obj int
			for b.Loop() {
				sol, err := solver.Solve(context.Background(), p, solver.Options{Seed: 1, Threads: 1, MaxIterations: 200})
				if err != nil {
					b.Fatal(err)
				}
				obj = sol.Evaluation.Objective
			}
			b.ReportMetric(float64(obj), "objective")
		})
	}
}
