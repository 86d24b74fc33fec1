package incident

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"vigil/internal/store/storetest"
)

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "1,234.56", "12.5", "", "-1", "1.234", "99999999999.99", "1e9", "١٢٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseMoney(s)
		if err != nil {
			return
		}
		if v < 0 || v > 1e13 {
			t.Fatalf("ParseMoney(%q) = %d", s, v)
		}
		// What FormatMoney prints parses back to the same amount.
		back, err := ParseMoney(strings.TrimSuffix(FormatMoney(v, ""), " "))
		if err != nil || back != v {
			t.Fatalf("round trip %q → %d → %q → %d %v", s, v, FormatMoney(v, ""), back, err)
		}
	})
}

func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{"smtp://u:p@h:25?from=a@b.c", "smtps://h?from=a@b.c", "smtp://h", "http://x", "smtp://[::1]:2525?from=a@b.c&tls=none", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSMTPURL(s)
		if err != nil || m == nil {
			return
		}
		if m.Host == "" || m.From == "" || (m.TLS != "tls" && m.TLS != "starttls" && m.TLS != "none") {
			t.Fatalf("accepted an incomplete relay: %+v", m)
		}
		if m.Password != "" && strings.Contains(m.String(), ":"+m.Password+"@") {
			t.Fatal("String() shows the password")
		}
	})
}

// FuzzSearch runs arbitrary search text through the real SQLite FTS5
// query: whatever people type must never become a query syntax error.
func FuzzSearch(f *testing.F) {
	db := storetest.SQLite(f)
	w := newWorld(f, db)
	ctx := context.Background()
	if err := w.S.Create(ctx, w.draft(nil), w.Officer); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"laptop", `"unbalanced`, "a OR b", "NEAR(a b)", "col:val", "*", "^x", "王伟", "-x", "a AND NOT b", strings.Repeat("x ", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, tok := range ftsTokens(q) {
			for _, r := range tok.text {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("token %q holds %q", tok.text, r)
				}
			}
		}
		if _, err := w.S.List(ctx, ScopeOf(w.Officer), Filter{Q: q}, Page{Limit: 5}); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
	})
}

// FuzzValidate feeds arbitrary JSON to the API's incident input and
// validation: no panic, and whatever passes is within the limits.
func FuzzValidate(f *testing.F) {
	f.Add(`{"type":"theft","title":"x","occurred_at":"2026-11-20T10:00:00Z"}`)
	f.Add(`{"type":"fire","title":"y","occurred_at":"2026-11-20T10:00:00Z","custom":{"evacuated":"yes"},"people":[{"role":"victim","name":"王"}]}`)
	f.Add(`{"type":"theft","title":"z","occurred_at":"2026-11-20T10:00:00Z","property":[{"description":"d","status":"stolen","value":-5}]}`)
	f.Add(`{"resources":[{"name":"n","position":"p","assigned_at":"9999-12-31T23:59:59Z"}],"type":"other","title":"t","occurred_at":"2026-01-01T00:00:00Z"}`)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, js string) {
		var i Incident
		if json.Unmarshal([]byte(js), &i) != nil {
			return
		}
		if err := i.Validate(DefaultTypes, now); err != nil {
			return
		}
		if !utf8.ValidString(i.Title) || i.Title == "" || i.OccurredAt.After(now.Add(FutureTolerance)) {
			t.Fatalf("accepted %+v", i)
		}
		if _, err := json.Marshal(&i); err != nil {
			t.Fatalf("a valid report does not marshal: %v", err)
		}
		_ = Changes(&i, &i)
	})
}

func FuzzLineDiff(f *testing.F) {
	f.Add("a\nb\nc", "a\nx\nc")
	f.Add("", "new")
	f.Add("same", "same")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := LineDiff(a, b)
		var old, nw []string
		for _, l := range d {
			switch l.Op {
			case "=":
				old, nw = append(old, l.Text), append(nw, l.Text)
			case "-":
				old = append(old, l.Text)
			case "+":
				nw = append(nw, l.Text)
			default:
				t.Fatalf("op %q", l.Op)
			}
		}
		if strings.Join(old, "\n") != a || strings.Join(nw, "\n") != b {
			t.Fatalf("diff does not rebuild its inputs: %q %q", a, b)
		}
	})
}
