package investigation_test

import (
	"context"
	"fmt"
	"testing"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/investigation"
	"vigil/internal/store/storetest"
)

func principalOf(t *apptest.Tenant, role auth.Role) *auth.Principal {
	u := t.Users[role]
	return &auth.Principal{UserID: u.ID, Email: u.Email, Name: u.Name, OrgID: t.Org.ID, Access: map[string]auth.Role{t.Org.ID: role}}
}

// benchCases fills client A with n cases, the investigator on every tenth.
func benchCases(b *testing.B, n int) (*apptest.Env, *investigation.Service, []*investigation.Case) {
	e := apptest.Start(b, storetest.SQLite(b))
	s := svc(e)
	ctx := context.Background()
	lead := e.A.Users[auth.Manager].ID
	var mine []*investigation.Case
	for i := range n {
		c, err := s.CreateCase(ctx, nil, investigation.CaseInput{OrgID: e.A.Org.ID, Type: investigation.Types[i%len(investigation.Types)].Value,
			Title: fmt.Sprintf("Case %d", i), LeadID: lead})
		if err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			if err := s.AddMember(ctx, nil, c, e.A.Users[auth.Investigator].ID, "investigator"); err != nil {
				b.Fatal(err)
			}
			mine = append(mine, c)
		}
	}
	return e, s, mine
}

// BenchmarkCaseList measures one page of the case list over 2,000 cases,
// for an investigator on 200 of them (need-to-know via case_members) and
// for the owner (case-wide).
func BenchmarkCaseList(b *testing.B) {
	e, s, _ := benchCases(b, 2000)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		p    *auth.Principal
		want int
	}{{"team-member", principalOf(e.A, auth.Investigator), 50}, {"case-wide", principalOf(e.A, auth.Owner), 50}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				cs, err := s.Cases(ctx, tc.p, investigation.Filter{Limit: 50})
				if err != nil || len(cs) != tc.want {
					b.Fatalf("%d cases, %v", len(cs), err)
				}
			}
		})
	}
}

// BenchmarkCaseView measures opening a case file as the API does: the
// need-to-know lookup, the whole file, and the "who looked" audit append
// (one fsync'd SQLite commit).
func BenchmarkCaseView(b *testing.B) {
	e, s, mine := benchCases(b, 200)
	ctx := context.Background()
	p := principalOf(e.A, auth.Investigator)
	i := 0
	for b.Loop() {
		c, err := s.Case(ctx, p, mine[i%len(mine)].ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.File(ctx, c, false); err != nil {
			b.Fatal(err)
		}
		if err := s.Viewed(ctx, p, c, "file"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
