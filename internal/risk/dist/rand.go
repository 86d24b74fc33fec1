package dist

import (
	"math/bits"
	"math/rand/v2"
)

// Rand is the generator samplers draw from: xoshiro256++ (Blackman and
// Vigna), whose uniform draw is a handful of shifts and adds that inline
// into sampling loops, which matters when a simulation makes tens of
// millions of draws. The embedded *rand.Rand reads the same state for the
// other variates (normal, exponential), so one seed fixes the whole stream.
type Rand struct {
	src xoshiro
	*rand.Rand
}

// NewRand returns a generator seeded from (seed1, seed2) through SplitMix64,
// so nearby seeds give unrelated streams.
func NewRand(seed1, seed2 uint64) *Rand {
	r := &Rand{}
	sm := seed1 ^ bits.RotateLeft64(seed2, 32) ^ 0x5851f42d4c957f2d*seed2
	for i := range r.src.s {
		sm += 0x9e3779b97f4a7c15
		z := sm
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		r.src.s[i] = z ^ (z >> 31)
	}
	r.Rand = rand.New(&r.src)
	return r
}

// Float64 is uniform on [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 {
	return float64(r.src.Uint64()>>11) * (1.0 / (1 << 53))
}

// xoshiro is xoshiro256++ (period 2^256 − 1; passes BigCrush).
type xoshiro struct{ s [4]uint64 }

func (x *xoshiro) Uint64() uint64 {
	s0, s1, s2, s3 := x.s[0], x.s[1], x.s[2], x.s[3]
	out := bits.RotateLeft64(s0+s3, 23) + s0
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	x.s = [4]uint64{s0, s1, s2, bits.RotateLeft64(s3, 45)}
	return out
}
