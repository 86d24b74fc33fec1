package fair

import (
	"math"
	"slices"
	"sort"
)

// Percentiles returns Hyndman–Fan type 7 percentiles of xs for each p in ps
// (in [0, 1]), the numpy and R default: h = (n−1)p, linear between order
// statistics ⌊h⌋ and ⌊h⌋+1. It reorders xs in place but does not sort it:
// a multi-rank quickselect finds only the order statistics needed, O(n log k)
// instead of a full O(n log n) sort, which matters at a million iterations.
func Percentiles(xs []float64, ps []float64) []float64 {
	out := make([]float64, len(ps))
	n := len(xs)
	if n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	var ranks []int
	for _, p := range ps {
		h := (float64(n) - 1) * math.Min(math.Max(p, 0), 1)
		k := int(h)
		ranks = append(ranks, k)
		if k+1 < n {
			ranks = append(ranks, k+1)
		}
	}
	sort.Ints(ranks)
	ranks = slices.Compact(ranks)
	multiSelect(xs, 0, n, ranks, 2*bitsLen(n))
	for i, p := range ps {
		h := (float64(n) - 1) * math.Min(math.Max(p, 0), 1)
		k := int(h)
		if k+1 >= n {
			out[i] = xs[n-1]
			continue
		}
		out[i] = xs[k] + (h-float64(k))*(xs[k+1]-xs[k])
	}
	return out
}

func bitsLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

// multiSelect places the order statistics at every index in ranks (sorted,
// within [lo, hi)) as a full sort would. Hoare partitioning keeps it linear
// on the many equal values (zero-loss years) compound simulations produce;
// past the depth budget it sorts the slice outright (introselect).
func multiSelect(a []float64, lo, hi int, ranks []int, depth int) {
	for len(ranks) > 0 {
		if hi-lo <= 16 || depth == 0 {
			slices.Sort(a[lo:hi])
			return
		}
		depth--
		mid := lo + (hi-lo)/2
		// Median of three to a[lo], then Hoare with pivot a[lo]: both parts
		// are non-empty, so every step makes progress.
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi-1] < a[lo] {
			a[hi-1], a[lo] = a[lo], a[hi-1]
		}
		if a[hi-1] < a[mid] {
			a[hi-1], a[mid] = a[mid], a[hi-1]
		}
		a[lo], a[mid] = a[mid], a[lo]
		pivot := a[lo]
		i, j := lo-1, hi
		for {
			for i++; a[i] < pivot; i++ {
			}
			for j--; a[j] > pivot; j-- {
			}
			if i >= j {
				break
			}
			a[i], a[j] = a[j], a[i]
		}
		// a[lo..j] <= pivot <= a[j+1..hi).
		split := sort.SearchInts(ranks, j+1)
		left, right := ranks[:split], ranks[split:]
		if len(left) > 0 && len(right) > 0 {
			multiSelect(a, lo, j+1, left, depth)
			lo, ranks = j+1, right
			continue
		}
		if len(left) > 0 {
			hi, ranks = j+1, left
		} else {
			lo, ranks = j+1, right
		}
	}
}
