package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/org"
	"vigil/internal/store"
)

// ErrNoSites is returned by Seed when there is nowhere to put incidents.
var ErrNoSites = errors.New("no client sites: load the demo organisations first (vigil demo)")

// seedBatch is how many incidents one transaction writes: large enough
// that commit (fsync) cost is amortised, small enough that other writers
// are not blocked for long.
const seedBatch = 2000

// Seed writes n realistic incidents spread over the client sites in the
// database and the last two years, for load testing (vigil demo
// --incidents N). Statuses are mostly approved or closed, as in a real
// archive. Each batch is one transaction with one audit entry per
// organisation ("incident.seed" with the count), not one per incident,
// and seeded reports carry no revision snapshots: they are bulk imports,
// not edits. Progress goes to progress (may be nil).
func Seed(ctx context.Context, db *store.DB, orgs *org.Service, now time.Time, n int, seed uint64, progress io.Writer) error {
	all, err := orgs.Sites(ctx, allOrgs(ctx, db), org.SiteFilter{}, org.Page{Limit: 500})
	if err != nil {
		return err
	}
	var sites []*org.Site
	for _, s := range all {
		var kind string
		db.QueryRow(ctx, `SELECT kind FROM orgs WHERE id = ?`, s.OrgID).Scan(&kind)
		if kind == "client" {
			sites = append(sites, s)
		}
	}
	if len(sites) == 0 {
		return ErrNoSites
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Now()
	for done := 0; done < n; {
		k := min(seedBatch, n-done)
		if err := db.Write(ctx, func(tx *store.Tx) error { return seedBatchTx(ctx, tx, rng, sites, now, k) }); err != nil {
			return fmt.Errorf("seed incidents: %w", err)
		}
		done += k
		if progress != nil && (done%50_000 == 0 || done == n) {
			el := time.Since(start)
			fmt.Fprintf(progress, "incidents: %d/%d (%.0f/s)\n", done, n, float64(done)/el.Seconds())
		}
	}
	// Refresh the planner's statistics after a bulk load, so that list
	// filters pick their (org_id, column, occurred_at) index.
	analyze := `ANALYZE`
	if db.Dialect == store.Postgres {
		analyze = `ANALYZE incidents`
	}
	if _, err := db.Exec(ctx, analyze); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

func allOrgs(ctx context.Context, db *store.DB) []string {
	rows, err := db.Query(ctx, `SELECT id FROM orgs`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

var (
	seedFirst = []string{"James", "Maria", "Mohammed", "Wei", "Olga", "Γιώργος", "Aisha", "Carlos", "Priya", "Tom", "Fatima", "Hiroshi",
		"Anna", "David", "李娜", "محمد", "Elena", "Kwame", "Sofia", "Liam"}
	seedLast = []string{"Smith", "García", "Chen", "Petrova", "Παπαδόπουλος", "Khan", "Okafor", "Müller", "Rossi", "Nguyen", "Silva",
		"O'Brien", "Kowalski", "王", "عبد الله", "Johnson", "Haddad", "Tanaka", "Novak", "Brown"}
	seedPlaces  = []string{"main gate", "loading dock", "car park level 2", "reception", "north fence", "server room", "staff canteen", "warehouse aisle 14", "roof access", "east stairwell"}
	seedThings  = []string{"laptop", "pallet of stock", "bicycle", "mobile phone", "toolbox", "fuel card", "access badge", "CCTV camera", "fire extinguisher", "delivery parcel"}
	seedActions = []string{"Area secured and CCTV reviewed.", "Police informed; crime reference obtained.", "Site manager notified by phone.",
		"Door re-secured and alarm reset.", "First aid given; ambulance not required.", "Contractor called to repair the damage."}
	seedTitles = map[string]string{
		"theft": "{Thing} stolen from the {place}", "burglary": "Forced entry at the {place}", "trespass": "Trespasser found near the {place}",
		"vandalism": "Damage to the {place}", "assault": "Assault reported at the {place}", "workplace_violence": "Altercation between staff at the {place}",
		"threat": "Verbal threat made at the {place}", "suspicious_person": "Suspicious person loitering at the {place}",
		"suspicious_vehicle": "Suspicious vehicle parked by the {place}", "suspicious_package": "Unattended bag at the {place}",
		"fire": "Small fire at the {place}", "medical": "Medical emergency at the {place}", "hazard": "Spill creating a slip hazard at the {place}",
		"alarm_response": "Intruder alarm activation, {place}", "access_violation": "Tailgating through the {place}",
		"policy_violation": "Smoking in a prohibited area by the {place}", "lost_property": "{Thing} reported lost near the {place}",
		"found_property": "{Thing} found at the {place}", "vehicle_accident": "Vehicle collision in the {place}", "bomb_threat": "Bomb threat received by phone",
		"other": "Unusual occurrence at the {place}",
	}
	seedStatus = []Status{Approved, Approved, Approved, Closed, Closed, Closed, Closed, Submitted, InReview, Draft}
	seedSev    = []string{"low", "low", "low", "moderate", "moderate", "high", "critical"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func seedBatchTx(ctx context.Context, tx *store.Tx, rng *rand.Rand, sites []*org.Site, now time.Time, k int) error {
	// Reserve report numbers per organisation for the whole batch.
	perOrg := map[string][]*Incident{}
	incs := make([]*Incident, k)
	for n := range incs {
		s := sites[rng.IntN(len(sites))]
		t := DefaultTypes[rng.IntN(len(DefaultTypes))]
		place, thing := pick(rng, seedPlaces), pick(rng, seedThings)
		occurred := now.Add(-time.Duration(rng.Int64N(int64(730 * 24 * time.Hour)))).UTC().Truncate(time.Second)
		officer := pick(rng, seedFirst) + " " + pick(rng, seedLast)
		i := &Incident{ID: store.NewID(), OrgID: s.OrgID, SiteID: s.ID, Type: t.Code, Severity: pick(rng, seedSev), Status: pick(rng, seedStatus),
			Title:      strings.NewReplacer("{Thing}", strings.ToUpper(thing[:1])+thing[1:], "{place}", place).Replace(seedTitles[t.Code]),
			OccurredAt: occurred, ReportedAt: occurred.Add(time.Duration(5+rng.IntN(120)) * time.Minute), OfficerName: officer, Revision: 1}
		i.Narrative = fmt.Sprintf("At %s the officer on patrol at the %s observed the following. %s was found to be involved. "+
			"The %s was checked and photographed. %s %s", occurred.Format("15:04"), place, pick(rng, seedFirst)+" "+pick(rng, seedLast), thing,
			pick(rng, seedActions), pick(rng, seedActions))
		i.People = []Person{{Role: pick(rng, PersonRoles).Value, Name: pick(rng, seedFirst) + " " + pick(rng, seedLast), Description: "Seen near the " + place}}
		i.Location = place
		i.normalise()
		if i.Status.Final() {
			at := i.ReportedAt.Add(6 * time.Hour)
			i.SubmittedAt, i.ApprovedAt, i.ApprovedBy = &i.ReportedAt, &at, "Demo Supervisor"
		}
		if i.Status == Submitted || i.Status == InReview {
			i.SubmittedAt = &i.ReportedAt
		}
		incs[n] = i
		perOrg[i.OrgID] = append(perOrg[i.OrgID], i)
	}
	for orgID, list := range perOrg {
		var next int64
		err := tx.QueryRow(ctx, `INSERT INTO incident_counters (org_id, next) VALUES (?, ?)
			ON CONFLICT (org_id) DO UPDATE SET next = incident_counters.next + ? RETURNING next`, orgID, len(list)+1, len(list)).Scan(&next)
		if err != nil {
			return fmt.Errorf("incident numbers: %w", err)
		}
		first := next - int64(len(list))
		for n, i := range list {
			i.Number = first + int64(n)
		}
	}
	now = now.UTC()
	const cols = `(id, org_id, site_id, number, type, severity, status, title, narrative, search_text, occurred_at, reported_at,
		officer_name, details, revision, submitted_at, approved_at, approved_by, created_at, updated_at)`
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// Multi-row inserts: 50 rows (1000 parameters) per statement, well
	// under both engines' parameter limits.
	for lo := 0; lo < len(incs); lo += 50 {
		hi := min(lo+50, len(incs))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO incidents ` + cols + ` VALUES `)
		args := make([]any, 0, (hi-lo)*20)
		for n, i := range incs[lo:hi] {
			if n > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
			details, _ := json.Marshal(i.Details)
			args = append(args, i.ID, i.OrgID, i.SiteID, i.Number, i.Type, i.Severity, i.Status, i.Title, i.Narrative, i.SearchText(nil),
				i.OccurredAt, i.ReportedAt, i.OfficerName, string(details), 1, timeOrNil(i.SubmittedAt), timeOrNil(i.ApprovedAt), i.ApprovedBy, now, now)
		}
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	for orgID, list := range perOrg {
		if err := audit.Append(ctx, tx, audit.Entry{OrgID: orgID, At: now, Actor: "system", Action: "incident.seed", ObjectType: "incident",
			ObjectID: list[0].ID, Data: map[string]any{"count": len(list)}}); err != nil {
			return err
		}
	}
	return nil
}
