package sia

// Alarm/restore pairs. The table's restore convention is not uniform (FH
// "alarm restore" and FR "restoral" both exist), so a condition lists every
// code that clears it. Built from the table's naming pattern (XA→XH/XR,
// XT→XJ/XR, XB→XU, XS→XR) for each family, plus the irregular pairs.
var restoredBy = map[string][]string{}

// restores is the inverse: which conditions a restore code clears.
var restores = map[string][]string{}

func init() {
	pair := func(cond string, rs ...string) {
		if _, ok := codes[cond]; !ok {
			return
		}
		for _, r := range rs {
			if _, ok := codes[r]; ok {
				restoredBy[cond] = append(restoredBy[cond], r)
				restores[r] = append(restores[r], cond)
			}
		}
	}
	for _, f := range "BFGHKMPQSUWZ" {
		x := string(f)
		pair(x+"A", x+"H", x+"R")
		pair(x+"T", x+"J", x+"R")
		pair(x+"B", x+"U")
		if x != "F" {
			pair(x+"S", x+"R")
		}
	}
	pair("FS", "FV")
	pair("FW", "FQ")
	pair("TA", "TH", "TR")
	pair("TT", "TJ", "TR")
	pair("TB", "TU")
	pair("AT", "AR")
	pair("BD", "BE")
	pair("DL", "DH")
	pair("DM", "DH")
	pair("DF", "DR")
	pair("ET", "ER")
	pair("ES", "EJ")
	pair("EM", "EN")
	pair("IA", "IR")
	pair("JA", "JC")
	pair("LT", "LR")
	pair("NA", "NS")
	pair("NT", "NR")
	pair("OU", "OV")
	pair("PF", "PO")
	pair("VT", "VR")
	pair("VO", "VI")
	pair("XT", "XR")
	pair("XQ", "XH")
	pair("XS", "XJ")
	pair("YA", "YH")
	pair("YC", "YK")
	pair("YS", "YK")
	pair("YI", "YJ")
	pair("YM", "YR")
	pair("YP", "YQ")
	pair("YT", "YR")
}

// RestoredBy lists the codes that clear the condition code raises (nil if
// it is not a condition with a restore).
func RestoredBy(code string) []string { return restoredBy[code] }

// Restores lists the conditions a restore code clears (nil if code is not a
// restore).
func Restores(code string) []string { return restores[code] }
