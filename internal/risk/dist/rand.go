package dist

import (
	"math/rand/v2"
)

// Rand is the generator samplers draw from: a PCG (math/rand/v2) whose
// uniform draws are direct calls, not calls through rand.Source, which
// matters when a simulation makes tens of millions of draws. The embedded
// *rand.Rand shares the same PCG state for the other variates (normal,
// exponential), so one seed fixes the whole stream.
type Rand struct {
	pcg rand.PCG
	*rand.Rand
}

// NewRand returns a generator seeded with (seed1, seed2).
func NewRand(seed1, seed2 uint64) *Rand {
	r := &Rand{pcg: *rand.NewPCG(seed1, seed2)}
	r.Rand = rand.New(&r.pcg)
	return r
}

// Float64 is uniform on [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 {
	return float64(r.pcg.Uint64()>>11) * (1.0 / (1 << 53))
}
