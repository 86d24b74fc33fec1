package matrix

// AS4360 is the common 5×5 matrix of AS/NZS 4360:2004 / HB 436
// (risk-methods.md §4.2), likelihood Rare…Almost certain with the
// probability anchors one organisation uses, consequence
// Insignificant…Catastrophic.
func AS4360() *Matrix {
	p := func(v float64) *float64 { return &v }
	return &Matrix{
		Name: "AS/NZS 4360 5×5",
		Likelihood: []Level{
			{Label: "Rare", Description: "only in exceptional circumstances", MinProbability: p(0), MaxProbability: p(0.02)},
			{Label: "Unlikely", Description: "may occur at some time", MinProbability: p(0.02), MaxProbability: p(0.1)},
			{Label: "Possible", Description: "should occur at some time", MinProbability: p(0.1), MaxProbability: p(0.5)},
			{Label: "Likely", Description: "will probably occur in most circumstances", MinProbability: p(0.5), MaxProbability: p(0.8)},
			{Label: "Almost certain", Description: "expected to occur in most circumstances", MinProbability: p(0.8), MaxProbability: p(1)},
		},
		Consequence: []Level{
			{Label: "Insignificant"}, {Label: "Minor"}, {Label: "Moderate"}, {Label: "Major"}, {Label: "Catastrophic"},
		},
		// Rows from Rare up to Almost certain, columns Insignificant…Catastrophic.
		Cells: [][]string{
			{"low", "low", "moderate", "high", "high"},
			{"low", "low", "moderate", "high", "extreme"},
			{"low", "moderate", "high", "extreme", "extreme"},
			{"moderate", "high", "high", "extreme", "extreme"},
			{"high", "high", "extreme", "extreme", "extreme"},
		},
		Ratings: []Rating{
			{ID: "low", Label: "Low", Colour: "#2e7d32", Priority: 4, Action: "manage by routine procedures"},
			{ID: "moderate", Label: "Moderate", Colour: "#f9a825", Priority: 3, Action: "action plan with responsibility assigned"},
			{ID: "high", Label: "High", Colour: "#ef6c00", Priority: 2, Action: "senior management attention needed"},
			{ID: "extreme", Label: "Extreme", Colour: "#c62828", Priority: 1, Action: "detailed planning; cease the activity until treated"},
		},
	}
}
