package incident

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"vigil/internal/auth"
	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// world is a small tenant set for store tests: an operator with clients A
// and B, each with one site (A's has a zone).
type world struct {
	S         *Service
	Now       time.Time
	A, B      *org.Org
	SiteA     *org.Site
	SiteB     *org.Site
	ZoneA     *org.Zone
	Officer   *auth.Principal // writes A's reports
	Super     *auth.Principal // reviews A's reports
	ClientA   *auth.Principal // A's client portal user
	OperatorM *auth.Principal // operator manager: A and B
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	orgs := &org.Service{DB: db, Now: clock}
	w := &world{Now: now, S: &Service{DB: db, Now: clock, Orgs: orgs, Blob: blob.FS{Dir: t.TempDir()}}}
	err := db.Write(ctx, func(tx *store.Tx) error {
		op := &org.Org{Kind: "operator", Name: "Operator", Slug: "op", Timezone: "UTC"}
		if err := orgs.CreateOrg(ctx, tx, op, nil); err != nil {
			return err
		}
		w.A = &org.Org{Kind: "client", Name: "Client A", Slug: "a", Timezone: "Europe/London", ParentID: op.ID}
		w.B = &org.Org{Kind: "client", Name: "Client B", Slug: "b", Timezone: "UTC", ParentID: op.ID}
		for _, o := range []*org.Org{w.A, w.B} {
			if err := orgs.CreateOrg(ctx, tx, o, nil); err != nil {
				return err
			}
		}
		w.SiteA = &org.Site{OrgID: w.A.ID, Name: "A HQ", Timezone: "Europe/London", City: "London"}
		w.SiteB = &org.Site{OrgID: w.B.ID, Name: "B Depot", Timezone: "America/New_York"}
		for _, s := range []*org.Site{w.SiteA, w.SiteB} {
			if err := orgs.CreateSiteTx(ctx, tx, s, nil); err != nil {
				return err
			}
		}
		w.ZoneA = &org.Zone{OrgID: w.A.ID, SiteID: w.SiteA.ID, Name: "Lobby"}
		return orgs.CreateZoneTx(ctx, tx, w.ZoneA, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	pr := func(email string, access map[string]auth.Role) *auth.Principal {
		return &auth.Principal{UserID: "u-" + email, Email: email, Name: strings.Split(email, "@")[0], OrgID: w.A.ID, Access: access}
	}
	w.Officer = pr("officer@a", map[string]auth.Role{w.A.ID: auth.Officer})
	w.Super = pr("super@a", map[string]auth.Role{w.A.ID: auth.Supervisor})
	w.ClientA = pr("client@a", map[string]auth.Role{w.A.ID: auth.Client})
	w.OperatorM = pr("manager@op", map[string]auth.Role{w.A.ID: auth.Manager, w.B.ID: auth.Manager})
	return w
}

func (w *world) draft(mod func(i *Incident)) *Incident {
	i := &Incident{OrgID: w.A.ID, SiteID: w.SiteA.ID, ZoneID: w.ZoneA.ID, Type: "theft", Severity: "high", Title: "Laptop stolen from reception",
		Narrative:  "At about 22:15 a man in a grey hoodie took a laptop from the reception desk and left by the north door.",
		OccurredAt: w.Now.Add(-3 * time.Hour)}
	i.People = []Person{{Role: "witness", Name: "Γιώργος Παπαδόπουλος", Description: "Night porter"}, {Role: "suspect", Description: "Grey hoodie, about 1.80 m"}}
	if mod != nil {
		mod(i)
	}
	return i
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateRejectsBadInputAndWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		for _, c := range []struct {
			name, field string
			mod         func(i *Incident)
		}{
			{"future", "occurred_at", func(i *Incident) { i.OccurredAt = w.Now.Add(time.Hour) }},
			{"unknown type", "type", func(i *Incident) { i.Type = "alien_abduction" }},
			{"unknown site", "site_id", func(i *Incident) { i.SiteID = w.SiteB.ID }},
			{"zone of another site", "zone_id", func(i *Incident) { i.ZoneID = "nope" }},
			{"no title", "title", func(i *Incident) { i.Title = "  " }},
			{"bad severity", "severity", func(i *Incident) { i.Severity = "apocalyptic" }},
			{"reported before occurred", "reported_at", func(i *Incident) { i.ReportedAt = i.OccurredAt.Add(-time.Minute) }},
			{"bad person role", "people", func(i *Incident) { i.People = []Person{{Role: "bystander", Name: "X"}} }},
			{"custom field of another type", "custom.alarm_cause", func(i *Incident) { i.Custom = map[string]string{"alarm_cause": "Unknown"} }},
			{"bad currency", "property", func(i *Incident) {
				i.Property = []Property{{Description: "Laptop", Status: "stolen", Value: 100, Currency: "dollars"}}
			}},
			{"latitude alone", "latitude", func(i *Incident) { lat := 51.5; i.Latitude = &lat }},
		} {
			err := w.S.Create(ctx, w.draft(c.mod), w.Officer)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("%s: %v, want a field error on %s", c.name, err, c.field)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Fatalf("%d incidents written by rejected input", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'incident.%'`); n != 0 {
			t.Fatalf("%d audit rows written by rejected input", n)
		}
	})
}

func TestWorkflowRevisionsAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		i := w.draft(func(i *Incident) { i.Narrative = "Too short" })
		if err := w.S.Create(ctx, i, w.Officer); err != nil {
			t.Fatal(err)
		}
		if i.Number != 1 || i.Status != Draft || i.OfficerName != "officer" {
			t.Fatalf("created %+v", i)
		}
		// Submitting with required content missing is refused and changes nothing.
		err := w.S.Transition(ctx, i, Submit, "", w.Officer)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "narrative" {
			t.Fatalf("submit without narrative: %v", err)
		}
		i.Narrative = "At about 22:15 a man took a laptop from the reception desk and left by the north door."
		if err := w.S.Update(ctx, i, "", w.Officer); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			t       Transition
			comment string
			p       *auth.Principal
			want    Status
		}{
			{Submit, "", w.Officer, Submitted},
			{Review, "", w.Super, InReview},
			{Return, "Add the witness's phone number", w.Super, Draft},
			{Submit, "", w.Officer, Submitted},
			{Approve, "", w.Super, Approved},
		}
		for _, s := range steps {
			if s.want == Submitted && i.Status == Draft && i.ReviewComment != "" {
				i.People[0].Contact = "+44 20 7946 0001"
				if err := w.S.Update(ctx, i, "added phone", w.Officer); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.S.Transition(ctx, i, s.t, s.comment, s.p); err != nil {
				t.Fatalf("%s from %s (narrative %q): %v", s.t, i.Status, i.Narrative, err)
			}
			if i.Status != s.want {
				t.Fatalf("after %s: %s, want %s", s.t, i.Status, s.want)
			}
		}
		if err := w.S.Transition(ctx, i, Return, "", w.Super); err == nil {
			t.Fatal("returning an approved report must fail")
		}
		// An amendment after approval needs a reason and keeps the approved revision.
		approvedRev := i.Revision
		i.Narrative += "\nThe laptop was recovered the next morning."
		if err := w.S.Update(ctx, i, "", w.Super); err == nil {
			t.Fatal("amendment without a reason must fail")
		}
		if err := w.S.Update(ctx, i, "laptop recovered", w.Super); err != nil {
			t.Fatal(err)
		}
		got, err := w.S.Get(ctx, ScopeOf(w.Super), i.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != Approved || got.Revision != approvedRev+1 || !strings.Contains(got.Narrative, "recovered") {
			t.Fatalf("after amendment: status %s revision %d", got.Status, got.Revision)
		}
		revs, err := w.S.Revisions(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != got.Revision {
			t.Fatalf("%d revisions for revision %d", len(revs), got.Revision)
		}
		var approved *Revision
		for _, r := range revs {
			if r.Revision == approvedRev {
				approved = r
			}
		}
		if approved == nil || approved.Status != Approved || strings.Contains(approved.Snapshot.Narrative, "recovered") {
			t.Fatalf("the approved revision was not kept as approved: %+v", approved)
		}
		last := revs[len(revs)-1]
		if !strings.HasPrefix(last.Reason, "amendment: ") {
			t.Fatalf("last revision reason %q", last.Reason)
		}
		ch := Changes(approved.Snapshot, last.Snapshot)
		if len(ch) != 1 || ch[0].Field != "narrative" || len(ch[0].Lines) == 0 || ch[0].Lines[len(ch[0].Lines)-1].Op != "+" {
			t.Fatalf("diff of the amendment: %+v", ch)
		}
		for _, a := range []string{"incident.create", "incident.update", "incident.submit", "incident.review", "incident.return", "incident.approve"} {
			if count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND object_id = ?`, a, i.ID) == 0 {
				t.Errorf("no %s audit row", a)
			}
		}
		// A stale edit is refused.
		stale := *got
		stale.Revision = 1
		stale.Title = "Overwrite"
		if err := w.S.Update(ctx, &stale, "x", w.Super); !errors.Is(err, ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		// The log has the workflow steps.
		log, _ := w.S.Log(ctx, got)
		if len(log) < 5 || !strings.Contains(log[2].Text, "Add the witness") {
			t.Fatalf("log: %d entries", len(log))
		}
	})
}

func TestSearchFiltersAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		mk := func(site *org.Site, p *auth.Principal, st Status, mod func(i *Incident)) *Incident {
			i := w.draft(mod)
			i.OrgID, i.SiteID, i.Status = site.OrgID, site.ID, st
			if site != w.SiteA {
				i.ZoneID = ""
			}
			if err := w.S.Create(ctx, i, p); err != nil {
				t.Fatal(err)
			}
			return i
		}
		a1 := mk(w.SiteA, w.Officer, Approved, func(i *Incident) {
			i.Title = "Forklift collision in dock"
			i.Type = "vehicle_accident"
			i.Severity = "moderate"
		})
		a2 := mk(w.SiteA, w.Officer, Draft, func(i *Incident) { i.People = []Person{{Role: "victim", Name: "王伟"}} })
		a3 := mk(w.SiteA, w.Officer, Closed, func(i *Incident) {
			i.Title, i.Type, i.OccurredAt = "Fire alarm activation", "fire", w.Now.AddDate(0, -2, 0)
			i.People = []Person{{Role: "reporter", Name: "محمد عبد الله"}}
		})
		b1 := mk(w.SiteB, w.OperatorM, Approved, func(i *Incident) { i.Title = "Forklift theft at depot" })
		if err := w.S.AddLog(ctx, a3, &LogEntry{Text: "Fire brigade attended, sprinkler head replaced"}, w.Super); err != nil {
			t.Fatal(err)
		}
		ids := func(is []*Incident) string {
			var s []string
			for _, i := range is {
				s = append(s, i.Title)
			}
			return strings.Join(s, "|")
		}
		for _, c := range []struct {
			name string
			sc   Scope
			f    Filter
			want []*Incident
		}{
			{"title word", ScopeOf(w.OperatorM), Filter{Q: "forklift"}, []*Incident{b1, a1}},
			{"prefix", ScopeOf(w.OperatorM), Filter{Q: "fork* coll*"}, []*Incident{a1}},
			{"whole words by default", ScopeOf(w.OperatorM), Filter{Q: "fork"}, nil},
			{"chinese name", ScopeOf(w.Officer), Filter{Q: "王伟"}, []*Incident{a2}},
			{"arabic name", ScopeOf(w.Officer), Filter{Q: "محمد"}, []*Incident{a3}},
			{"greek name, any case", ScopeOf(w.Officer), Filter{Q: "παπαδόπουλος"}, []*Incident{a1}},
			{"log entry", ScopeOf(w.Officer), Filter{Q: "sprinkler"}, []*Incident{a3}},
			{"one org", ScopeOf(w.OperatorM), Filter{Q: "forklift", OrgID: w.B.ID}, []*Incident{b1}},
			{"client sees approved only", ScopeOf(w.ClientA), Filter{}, []*Incident{a1, a3}},
			{"client search", ScopeOf(w.ClientA), Filter{Q: "王伟"}, nil},
			{"other tenant invisible", ScopeOf(w.Officer), Filter{Q: "depot"}, nil},
			{"type", ScopeOf(w.Officer), Filter{Type: "fire"}, []*Incident{a3}},
			{"severity", ScopeOf(w.Officer), Filter{Severity: "moderate"}, []*Incident{a1}},
			{"status", ScopeOf(w.Officer), Filter{Status: "draft"}, []*Incident{a2}},
			{"date range", ScopeOf(w.Officer), Filter{From: w.Now.AddDate(0, -3, 0), To: w.Now.AddDate(0, -1, 0)}, []*Incident{a3}},
			{"injection attempt", ScopeOf(w.Officer), Filter{Q: `") OR 1=1 -- NEAR(* '`}, nil},
			{"no scope", Scope{}, Filter{}, nil},
			{"operator list merges organisations", ScopeOf(w.OperatorM), Filter{}, []*Incident{b1, a2, a1, a3}},
		} {
			got, err := w.S.List(ctx, c.sc, c.f, Page{Limit: 10})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if ids(got) != ids(c.want) {
				t.Errorf("%s: got %q, want %q", c.name, ids(got), ids(c.want))
			}
		}
		// Paging.
		p1, _ := w.S.List(ctx, ScopeOf(w.Officer), Filter{}, Page{Limit: 2})
		p2, _ := w.S.List(ctx, ScopeOf(w.Officer), Filter{}, Page{Limit: 2, Offset: 2})
		if len(p1) != 2 || len(p2) != 1 || p1[0].ID == p2[0].ID {
			t.Fatalf("paging: %d + %d", len(p1), len(p2))
		}
		mid, err := w.S.List(ctx, ScopeOf(w.OperatorM), Filter{}, Page{Limit: 2, Offset: 1})
		if err != nil || ids(mid) != ids([]*Incident{a2, a1}) {
			t.Fatalf("merged page: %q %v", ids(mid), err)
		}
		// A client cannot read a draft by ID.
		if _, err := w.S.Get(ctx, ScopeOf(w.ClientA), a2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("client reading a draft: %v", err)
		}
		st, err := w.S.Stats(ctx, ScopeOf(w.OperatorM), Filter{}, w.Now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 4 || len(st.ByMonth) != 12 || st.ByMonth[11].N != 3 || st.ByMonth[9].N != 1 {
			t.Fatalf("stats: %+v", st)
		}
	})
}

func pngBytes(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAttachmentsValidateImages(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db)
	ctx := context.Background()
	i := w.draft(nil)
	if err := w.S.Create(ctx, i, w.Officer); err != nil {
		t.Fatal(err)
	}
	a, err := w.S.Attach(ctx, i, Upload{Filename: "../../etc/door.png", Caption: "North door", Body: bytes.NewReader(pngBytes(t, 800, 400)), PhotoOnly: true}, w.Officer)
	if err != nil {
		t.Fatal(err)
	}
	if a.Filename != "door.png" || a.Width != 800 || a.ThumbSHA256 == "" || a.PreviewSHA == "" || a.ContentType != "image/png" {
		t.Fatalf("attachment %+v", a)
	}
	th, err := w.S.loadBlob(ctx, a.ThumbSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(th)); err != nil || cfg.Width != thumbSize || cfg.Height != thumbSize/2 {
		t.Fatalf("thumbnail %+v %v", cfg, err)
	}
	// A PNG header claiming 100k × 100k pixels.
	huge := pngBytes(t, 1, 1)
	copy(huge[16:24], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	for _, c := range []struct {
		name string
		data []byte
		ph   bool
	}{
		{"text as photo", []byte("hello, I am not a picture"), true},
		{"truncated jpeg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 40)...), true},
		{"bomb", huge, true},
		{"html", []byte("<html><script>alert(1)</script></html>"), false},
		{"empty", nil, false},
		{"too big", bytes.Repeat([]byte("a"), MaxUpload+1), false},
	} {
		if _, err := w.S.Attach(ctx, i, Upload{Filename: "x", Body: bytes.NewReader(c.data), PhotoOnly: c.ph}, w.Officer); err == nil {
			t.Errorf("%s: accepted", c.name)
		} else if fe := (*FieldError)(nil); !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a field error", c.name, err)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM incident_attachments`); n != 1 {
		t.Fatalf("%d attachment rows, want 1", n)
	}
	// A PDF is fine as an attachment.
	if _, err := w.S.Attach(ctx, i, Upload{Filename: "statement.pdf", Body: strings.NewReader("%PDF-1.4\n%…\n")}, w.Officer); err != nil {
		t.Fatal(err)
	}
}

func TestDAR(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		// 23:30 in London on the 19th is still the 19th there.
		at := time.Date(2026, 11, 19, 23, 30, 0, 0, time.UTC)
		e := &DAREntry{Kind: "patrol", Text: "Perimeter patrol, north fence intact", At: at}
		if err := w.S.AddDAREntry(ctx, w.SiteA, e, nil, w.Officer); err != nil {
			t.Fatal(err)
		}
		if e.Day != "2026-11-19" {
			t.Fatalf("day %s", e.Day)
		}
		if err := w.S.AddDAREntry(ctx, w.SiteA, &DAREntry{Kind: "patrol", Text: "x", At: w.Now.Add(time.Hour)}, nil, w.Officer); err == nil {
			t.Fatal("future entry accepted")
		}
		if err := w.S.AddDAREntry(ctx, w.SiteA, &DAREntry{Kind: "dance", Text: "x"}, nil, w.Officer); err == nil {
			t.Fatal("unknown kind accepted")
		}
		inc := w.draft(func(i *Incident) { i.OccurredAt = time.Date(2026, 11, 19, 20, 0, 0, 0, time.UTC) })
		if err := w.S.Create(ctx, inc, w.Officer); err != nil {
			t.Fatal(err)
		}
		d, err := w.S.DAR(ctx, w.SiteA, "2026-11-19", ScopeOf(w.Super))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Entries) != 1 || len(d.Incidents) != 1 || d.Status != "open" {
			t.Fatalf("dar: %d entries, %d incidents, %s", len(d.Entries), len(d.Incidents), d.Status)
		}
		if err := w.S.SetDARStatus(ctx, d, "sent", w.Super); err == nil {
			t.Fatal("sent before approval")
		}
		if err := w.S.SetDARStatus(ctx, d, "approved", w.Super); err != nil {
			t.Fatal(err)
		}
		if err := w.S.AddDAREntry(ctx, w.SiteA, &DAREntry{Kind: "note", Text: "late", At: at}, nil, w.Officer); err == nil {
			t.Fatal("entry added to an approved DAR")
		}
		d, _ = w.S.DAR(ctx, w.SiteA, "2026-11-19", ScopeOf(w.Super))
		if d.Status != "approved" || d.ApprovedBy != "super" {
			t.Fatalf("after approval: %+v", d)
		}
		var buf bytes.Buffer
		if err := w.S.DARPDF(ctx, d, "Client A", "super", &buf); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("%PDF")) {
			t.Fatalf("dar pdf: %v", err)
		}
	})
}

func TestTypesConfigurable(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db)
	ctx := context.Background()
	if err := w.S.SaveType(ctx, w.A.ID, &Type{Code: "graffiti", Label: "Graffiti", Active: true,
		Fields: []FieldDef{{Name: "area_m2", Label: "Area (m²)", Kind: "number", Required: true}}}, w.Super); err != nil {
		t.Fatal(err)
	}
	if err := w.S.SaveType(ctx, w.A.ID, &Type{Code: "trespass", Label: "Trespass", Active: false}, w.Super); err != nil {
		t.Fatal(err)
	}
	if err := w.S.SaveType(ctx, w.A.ID, &Type{Code: "Bad Code!", Label: "x"}, w.Super); err == nil {
		t.Fatal("bad code accepted")
	}
	i := w.draft(func(i *Incident) { i.Type = "trespass" })
	if err := w.S.Create(ctx, i, w.Officer); err == nil {
		t.Fatal("deactivated type accepted")
	}
	i = w.draft(func(i *Incident) { i.Type = "graffiti"; i.Custom = map[string]string{"area_m2": "lots"} })
	if err := w.S.Create(ctx, i, w.Officer); err == nil {
		t.Fatal("non-number accepted")
	}
	i = w.draft(func(i *Incident) { i.Type = "graffiti" })
	if err := w.S.Create(ctx, i, w.Officer); err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	if err := w.S.Transition(ctx, i, Submit, "", w.Officer); !errors.As(err, &fe) || fe.Field != "custom.area_m2" {
		t.Fatalf("submit without a required custom field: %v", err)
	}
	// Client B is unaffected.
	tb, _ := w.S.Types(ctx, nil, w.B.ID)
	if _, ok := FindType(tb, "graffiti"); ok {
		t.Fatal("client A's type leaked to B")
	}
}

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		if err := Seed(ctx, db, w.S.Orgs, w.Now, 2100, 1, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM incidents`); n != 2100 {
			t.Fatalf("%d incidents", n)
		}
		if n := count(t, db, `SELECT COUNT(DISTINCT org_id || '/' || CAST(number AS TEXT)) FROM incidents`); n != 2100 {
			t.Fatalf("report numbers not unique: %d", n)
		}
		got, err := w.S.List(ctx, ScopeOf(w.OperatorM), Filter{Q: "stolen"}, Page{Limit: 5})
		if err != nil || len(got) == 0 {
			t.Fatalf("search seeded: %d %v", len(got), err)
		}
		// Seeded reports are ordinary reports: a new one continues the numbering.
		i := w.draft(nil)
		if err := w.S.Create(ctx, i, w.Officer); err != nil {
			t.Fatal(err)
		}
		if i.Number != int64(count(t, db, `SELECT COUNT(*) FROM incidents WHERE org_id = ?`, w.A.ID)) {
			t.Fatalf("number %d after seeding", i.Number)
		}
	})
}
