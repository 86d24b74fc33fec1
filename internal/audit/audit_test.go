package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func seed(t *testing.T, db *store.DB, orgs []string, per int) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC)
	for i := range per {
		for _, org := range orgs {
			err := db.Write(ctx, func(tx *store.Tx) error {
				return audit.Append(ctx, tx, audit.Entry{OrgID: org, At: at.Add(time.Duration(i) * time.Second),
					ActorID: "u1", Actor: "ana@example.com", Action: "site.update", ObjectType: "site",
					ObjectID: "s1", Data: map[string]any{"i": i, "name": "Dock 4 — Ελλάδα"}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  string
		wantOrg string
		wantN   int64
		wantMsg string
	}{
		{"intact", "", "", 0, ""},
		{"altered", `UPDATE audit_log SET actor = 'mallory' WHERE org_id = 'b' AND n = 3`, "b", 3, "altered"},
		{"altered data", `UPDATE audit_log SET data = '{"i":9}' WHERE org_id = 'a' AND n = 2`, "a", 2, "altered"},
		{"removed middle", `DELETE FROM audit_log WHERE org_id = 'a' AND n = 4`, "a", 4, "missing"},
		{"removed tail", `DELETE FROM audit_log WHERE org_id = 'b' AND n = 5`, "b", 5, "removed"},
		{"reordered", `UPDATE audit_log SET n = -1 WHERE org_id = 'a' AND n = 2;
			UPDATE audit_log SET n = 2 WHERE org_id = 'a' AND n = 3;
			UPDATE audit_log SET n = 3 WHERE org_id = 'a' AND n = -1`, "a", 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				seed(t, db, []string{"a", "b"}, 5)
				if c.tamper != "" {
					for _, stmt := range strings.Split(c.tamper, ";") {
						if _, err := db.Exec(context.Background(), stmt); err != nil {
							t.Fatal(err)
						}
					}
				}
				rep, err := audit.Verify(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Chains != 2 {
					t.Fatalf("chains = %d", rep.Chains)
				}
				if c.wantOrg == "" {
					if len(rep.Broken) != 0 || rep.Rows != 10 {
						t.Fatalf("intact chain reported %+v", rep)
					}
					return
				}
				if len(rep.Broken) != 1 {
					t.Fatalf("broken = %+v, want one", rep.Broken)
				}
				b := rep.Broken[0]
				if b.OrgID != c.wantOrg || b.N != c.wantN || !strings.Contains(b.Reason, c.wantMsg) {
					t.Fatalf("got %+v, want org %s row %d (%s)", b, c.wantOrg, c.wantN, c.wantMsg)
				}
			})
		})
	}
}

func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db, []string{"a", "b"}, 3)
		ctx := context.Background()
		rows, err := audit.List(ctx, db, audit.Filter{OrgIDs: []string{"a"}, Action: "site."})
		if err != nil || len(rows) != 3 {
			t.Fatalf("list a: %d %v", len(rows), err)
		}
		if rows[0].N != 3 || rows[0].OrgID != "a" {
			t.Fatalf("not newest first: %+v", rows[0])
		}
		rows, _ = audit.List(ctx, db, audit.Filter{OrgIDs: []string{"a"}, Action: "user."})
		if len(rows) != 0 {
			t.Fatalf("action filter leaked %d rows", len(rows))
		}
		rows, _ = audit.List(ctx, db, audit.Filter{})
		if len(rows) != 0 {
			t.Fatal("empty org scope must return nothing")
		}
	})
}
