package pdf

import "unicode"

// Arabic shaping and a minimal bidirectional reordering.
//
// PDF text is drawn glyph after glyph, left to right, so Arabic must be
// (1) shaped: each letter replaced by its isolated, initial, medial or
// final presentation form (Unicode Arabic Presentation Forms-B), with the
// mandatory lam-alef ligatures; and (2) reordered: an Arabic run is drawn
// reversed. This covers the Arabic alphabet as used for names and short
// text. It does not implement the full Unicode Bidirectional Algorithm
// (nested embeddings, mirrored brackets), Persian/Urdu extra letters beyond
// those listed, or optional ligatures and diacritic positioning.

// forms holds isolated, final, initial, medial; initial/medial are 0 for
// letters that join only to the right (alef, dal, reh, waw, …).
var forms = map[rune][4]rune{
	0x0621: {0xFE80, 0, 0, 0},
	0x0622: {0xFE81, 0xFE82, 0, 0},
	0x0623: {0xFE83, 0xFE84, 0, 0},
	0x0624: {0xFE85, 0xFE86, 0, 0},
	0x0625: {0xFE87, 0xFE88, 0, 0},
	0x0626: {0xFE89, 0xFE8A, 0xFE8B, 0xFE8C},
	0x0627: {0xFE8D, 0xFE8E, 0, 0},
	0x0628: {0xFE8F, 0xFE90, 0xFE91, 0xFE92},
	0x0629: {0xFE93, 0xFE94, 0, 0},
	0x062A: {0xFE95, 0xFE96, 0xFE97, 0xFE98},
	0x062B: {0xFE99, 0xFE9A, 0xFE9B, 0xFE9C},
	0x062C: {0xFE9D, 0xFE9E, 0xFE9F, 0xFEA0},
	0x062D: {0xFEA1, 0xFEA2, 0xFEA3, 0xFEA4},
	0x062E: {0xFEA5, 0xFEA6, 0xFEA7, 0xFEA8},
	0x062F: {0xFEA9, 0xFEAA, 0, 0},
	0x0630: {0xFEAB, 0xFEAC, 0, 0},
	0x0631: {0xFEAD, 0xFEAE, 0, 0},
	0x0632: {0xFEAF, 0xFEB0, 0, 0},
	0x0633: {0xFEB1, 0xFEB2, 0xFEB3, 0xFEB4},
	0x0634: {0xFEB5, 0xFEB6, 0xFEB7, 0xFEB8},
	0x0635: {0xFEB9, 0xFEBA, 0xFEBB, 0xFEBC},
	0x0636: {0xFEBD, 0xFEBE, 0xFEBF, 0xFEC0},
	0x0637: {0xFEC1, 0xFEC2, 0xFEC3, 0xFEC4},
	0x0638: {0xFEC5, 0xFEC6, 0xFEC7, 0xFEC8},
	0x0639: {0xFEC9, 0xFECA, 0xFECB, 0xFECC},
	0x063A: {0xFECD, 0xFECE, 0xFECF, 0xFED0},
	0x0641: {0xFED1, 0xFED2, 0xFED3, 0xFED4},
	0x0642: {0xFED5, 0xFED6, 0xFED7, 0xFED8},
	0x0643: {0xFED9, 0xFEDA, 0xFEDB, 0xFEDC},
	0x0644: {0xFEDD, 0xFEDE, 0xFEDF, 0xFEE0},
	0x0645: {0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4},
	0x0646: {0xFEE5, 0xFEE6, 0xFEE7, 0xFEE8},
	0x0647: {0xFEE9, 0xFEEA, 0xFEEB, 0xFEEC},
	0x0648: {0xFEED, 0xFEEE, 0, 0},
	0x0649: {0xFEEF, 0xFEF0, 0, 0},
	0x064A: {0xFEF1, 0xFEF2, 0xFEF3, 0xFEF4},
	0x067E: {0xFB56, 0xFB57, 0xFB58, 0xFB59}, // peh
	0x0686: {0xFB7A, 0xFB7B, 0xFB7C, 0xFB7D}, // tcheh
	0x0698: {0xFB8A, 0xFB8B, 0, 0},           // jeh
	0x06A9: {0xFB8E, 0xFB8F, 0xFB90, 0xFB91}, // keheh
	0x06AF: {0xFB92, 0xFB93, 0xFB94, 0xFB95}, // gaf
	0x06CC: {0xFBFC, 0xFBFD, 0xFBFE, 0xFBFF}, // farsi yeh
}

// lamAlef maps the alef that follows a lam to the ligature's isolated form
// (the final form is one more).
var lamAlef = map[rune]rune{0x0622: 0xFEF5, 0x0623: 0xFEF7, 0x0625: 0xFEF9, 0x0627: 0xFEFB}

func isTransparent(r rune) bool { return r >= 0x064B && r <= 0x065F || r == 0x0670 }

func joinsLeft(r rune) bool {
	f, ok := forms[r]
	return ok && f[2] != 0
}

func joinsRight(r rune) bool {
	_, ok := forms[r]
	return ok && r != 0x0621
}

// Shape replaces Arabic letters in s (logical order) by their contextual
// presentation forms. Other characters pass through.
func Shape(s []rune) []rune {
	out := make([]rune, 0, len(s))
	prevJoin := func(i int) bool { // does the letter before i join towards i?
		for j := i - 1; j >= 0; j-- {
			if isTransparent(s[j]) {
				continue
			}
			return joinsLeft(s[j])
		}
		return false
	}
	nextJoin := func(i int) (rune, bool) {
		for j := i + 1; j < len(s); j++ {
			if isTransparent(s[j]) {
				continue
			}
			return s[j], joinsRight(s[j])
		}
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		r := s[i]
		f, ok := forms[r]
		if !ok {
			out = append(out, r)
			continue
		}
		before := prevJoin(i)
		if r == 0x0644 { // lam + alef ligature
			if n, _ := nextJoin(i); lamAlef[n] != 0 && i+1 < len(s) && s[i+1] == n {
				lig := lamAlef[n]
				if before {
					lig++
				}
				out = append(out, lig)
				i++
				continue
			}
		}
		_, after := nextJoin(i)
		after = after && f[2] != 0
		switch {
		case before && after:
			out = append(out, f[3])
		case before:
			out = append(out, f[1])
		case after:
			out = append(out, f[2])
		default:
			out = append(out, f[0])
		}
	}
	return out
}

// IsRTL reports whether r is a strong right-to-left character.
func IsRTL(r rune) bool {
	return r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

func isStrongLTR(r rune) bool { return unicode.IsLetter(r) && !IsRTL(r) }

// ParagraphRTL reports whether a paragraph's first strong character is
// right-to-left (the paragraph is then right-aligned and read from the right).
func ParagraphRTL(s string) bool {
	for _, r := range s {
		if IsRTL(r) {
			return true
		}
		if isStrongLTR(r) {
			return false
		}
	}
	return false
}

// Visual reorders one line (logical order, already shaped) for drawing left
// to right: runs of RTL characters (with the spaces and punctuation between
// them) are reversed; in an RTL paragraph the whole line is reversed and
// embedded LTR runs (Latin words, numbers) are put back in reading order.
func Visual(line []rune, rtl bool) []rune {
	n := len(line)
	out := make([]rune, n)
	copy(out, line)
	// level: true for characters drawn right to left.
	lv := make([]bool, n)
	for i, r := range out {
		switch {
		case IsRTL(r):
			lv[i] = true
		case isStrongLTR(r) || unicode.IsDigit(r):
			lv[i] = false
		default:
			lv[i] = rtl // neutral: resolved below
		}
	}
	// A neutral between two characters of the same direction takes it.
	for i := 0; i < n; i++ {
		r := out[i]
		if IsRTL(r) || isStrongLTR(r) || unicode.IsDigit(r) {
			continue
		}
		j := i
		for j < n && !(IsRTL(out[j]) || isStrongLTR(out[j]) || unicode.IsDigit(out[j])) {
			j++
		}
		var left, right bool = rtl, rtl
		if i > 0 {
			left = lv[i-1]
		}
		if j < n {
			right = lv[j]
		}
		d := rtl
		if left == right {
			d = left
		}
		for k := i; k < j; k++ {
			lv[k] = d
		}
		i = j - 1
	}
	reverse := func(a []rune) {
		for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
			a[i], a[j] = a[j], a[i]
		}
	}
	if rtl {
		reverse(out)
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			lv[i], lv[j] = lv[j], lv[i]
		}
		for i := 0; i < n; {
			if lv[i] {
				i++
				continue
			}
			j := i
			for j < n && !lv[j] {
				j++
			}
			reverse(out[i:j])
			i = j
		}
		return out
	}
	for i := 0; i < n; {
		if !lv[i] {
			i++
			continue
		}
		j := i
		for j < n && lv[j] {
			j++
		}
		reverse(out[i:j])
		i = j
	}
	return out
}
