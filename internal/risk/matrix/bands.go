package matrix

import (
	"fmt"
	"math"
)

// Band maps scores in [Min, Max] (inclusive) to a rating ID.
type Band struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Rating string  `json:"rating"`
}

// Bands are score bands in ascending, non-overlapping order.
type Bands []Band

// Validate checks that bands are ordered and do not overlap.
func (bs Bands) Validate() error {
	if len(bs) == 0 {
		return fieldErr("bands", "missing")
	}
	for i, b := range bs {
		f := fmt.Sprintf("bands[%d]", i)
		if math.IsNaN(b.Min) || math.IsNaN(b.Max) || b.Min > b.Max {
			return fieldErr(f+".max", "must be >= min (%g), got %g", b.Min, b.Max)
		}
		if b.Rating == "" {
			return fieldErr(f+".rating", "missing")
		}
		if i > 0 && b.Min <= bs[i-1].Max {
			return fieldErr(f+".min", "overlaps the previous band (max %g)", bs[i-1].Max)
		}
	}
	return nil
}

// Classify returns the band holding score: the first band whose Max is at
// least score. Bands read as "up to and including Max", so with integer
// bands 1–60 and 61–175 a real-valued 60.5 rates in the upper band.
func (bs Bands) Classify(score float64) (Band, error) {
	if math.IsNaN(score) || score < bs[0].Min || score > bs[len(bs)-1].Max {
		return Band{}, fieldErr("score", "%g lies outside the bands [%g, %g]", score, bs[0].Min, bs[len(bs)-1].Max)
	}
	for _, b := range bs {
		if score <= b.Max {
			return b, nil
		}
	}
	return bs[len(bs)-1], nil
}
