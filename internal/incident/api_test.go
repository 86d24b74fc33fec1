package incident_test

import (
	"bytes"
	"encoding/json"
	"vigil/internal/config"

	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/incident"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// upload posts a multipart file as c.
func upload(t *testing.T, e *apptest.Env, c *apptest.Client, path, name string, data []byte, fields map[string]string) apptest.Response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func jpegOf(t *testing.T) []byte {
	t.Helper()
	return testJPEG(t, 640, 480)
}

func TestAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		off := e.Login(e.A.Users[auth.Officer].Email)
		sup := e.Login(e.A.Users[auth.Supervisor].Email)
		now := time.Now().UTC()
		good := map[string]any{"site_id": e.A.Site.ID, "zone_id": e.A.Zone.ID, "type": "trespass", "severity": "moderate",
			"title": "Person in the yard after hours", "narrative": "CCTV showed a person climbing the east fence at 02:10; police called.",
			"occurred_at": now.Add(-2 * time.Hour).Format(time.RFC3339), "people": []map[string]any{{"role": "suspect", "name": "李娜", "description": "Black jacket"}}}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for a, b := range good {
				m[a] = b
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		for _, c := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"future", with("occurred_at", now.Add(2*time.Hour).Format(time.RFC3339)), 400, "occurred_at"},
			{"unknown site", with("site_id", e.B.Site.ID), 400, "site_id"},
			{"unknown type", with("type", "ufo"), 400, "type"},
			{"no title", with("title", nil), 400, "title"},
			{"unknown field", with("colour", "red"), 400, "colour"},
			{"wrong type", with("severity", 3), 400, "severity"},
			{"malformed", `{"title": `, 400, ""},
		} {
			res := off.Do("POST", "/api/v1/incidents", c.body)
			if res.Status != c.status || !bytes.Contains(res.Body, []byte(`"field":"`+c.field)) && c.field != "" {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		if n := e.Count(`SELECT COUNT(*) FROM incidents`); n != 0 {
			t.Fatalf("%d incidents written by bad requests", n)
		}
		res := off.Do("POST", "/api/v1/incidents", good)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var inc map[string]any
		res.JSON(&inc)
		for _, k := range []string{"id", "org_id", "site_id", "type", "severity", "occurred_at", "title", "narrative", "status"} {
			if _, ok := inc[k]; !ok {
				t.Errorf("incident JSON lacks %s", k)
			}
		}
		if _, err := time.Parse(time.RFC3339, inc["occurred_at"].(string)); err != nil || inc["status"] != "draft" || inc["org_id"] != e.A.Org.ID {
			t.Fatalf("incident JSON: %s", res.Body)
		}
		id := inc["id"].(string)
		base := "/api/v1/incidents/" + id

		// Photos: a real JPEG is accepted with a thumbnail; text posing as a
		// photo and an oversized file are refused.
		res = upload(t, e, off, base+"/attachments", "fence.jpg", jpegOf(t), map[string]string{"caption": "East fence", "photo": "1"})
		if res.Status != 201 {
			t.Fatalf("photo: %d %s", res.Status, res.Body)
		}
		var att incident.Attachment
		res.JSON(&att)
		if res = upload(t, e, off, base+"/attachments", "fence.jpg", []byte("not a photo at all"), map[string]string{"photo": "1"}); res.Status != 400 {
			t.Fatalf("text as photo: %d %s", res.Status, res.Body)
		}
		if res = upload(t, e, off, base+"/attachments", "big.jpg", make([]byte, incident.MaxUpload+10), nil); res.Status != 413 {
			t.Fatalf("oversize: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM incident_attachments`); n != 1 {
			t.Fatalf("%d attachments", n)
		}
		th := off.Do("GET", base+"/attachments/"+att.ID+"?size=thumb", nil)
		if th.Status != 200 || th.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(th.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("thumbnail: %d %v", th.Status, th.Header)
		}

		// Workflow over the API.
		if res = off.Do("POST", base+"/approve", nil); res.Status != 403 {
			t.Fatalf("officer approving: %d", res.Status)
		}
		if res = off.Do("POST", base+"/submit", nil); res.Status != 200 {
			t.Fatalf("submit: %d %s", res.Status, res.Body)
		}
		if res = sup.Do("POST", base+"/return", map[string]any{}); res.Status != 400 {
			t.Fatalf("return without comment: %d %s", res.Status, res.Body)
		}
		if res = sup.Do("POST", base+"/return", map[string]any{"comment": "Which police force?"}); res.Status != 200 {
			t.Fatalf("return: %d %s", res.Status, res.Body)
		}
		if res = off.Do("PATCH", base, map[string]any{"police": map[string]any{"agency": "Metropolitan Police", "case_number": "CAD 4411/20NOV"}}); res.Status != 200 {
			t.Fatalf("fix: %d %s", res.Status, res.Body)
		}
		if res = off.Do("POST", base+"/submit", nil); res.Status != 200 {
			t.Fatalf("resubmit: %d %s", res.Status, res.Body)
		}
		if res = off.Do("POST", base+"/submit", nil); res.Status != 409 {
			t.Fatalf("submitting twice: %d %s", res.Status, res.Body)
		}
		if res = sup.Do("POST", base+"/approve", nil); res.Status != 200 {
			t.Fatalf("approve: %d %s", res.Status, res.Body)
		}
		if res = sup.Do("PATCH", base, map[string]any{"title": "Amended"}); res.Status != 400 || !bytes.Contains(res.Body, []byte(`"field":"reason"`)) {
			t.Fatalf("amend without reason: %d %s", res.Status, res.Body)
		}
		var revs []map[string]any
		off.Do("GET", base+"/revisions", nil).JSON(&revs)
		if len(revs) < 5 {
			t.Fatalf("%d revisions", len(revs))
		}

		// Search and lists.
		var list struct{ Items []map[string]any }
		off.Do("GET", "/api/v1/incidents?q=%E6%9D%8E%E5%A8%9C", nil).JSON(&list)
		if len(list.Items) != 1 {
			t.Fatalf("search by a Chinese name: %+v", list)
		}
		off.Do("GET", "/api/v1/incidents?q=Metropolitan&status=approved&severity=moderate&site_id="+e.A.Site.ID, nil).JSON(&list)
		if len(list.Items) != 1 {
			t.Fatalf("search with filters: %+v", list)
		}
		if res = off.Do("GET", "/api/v1/incidents?from=yesterday", nil); res.Status != 400 {
			t.Fatalf("bad date: %d", res.Status)
		}
		csvRes := off.Do("GET", "/api/v1/incidents/export.csv", nil)
		if csvRes.Status != 200 || !bytes.HasPrefix(csvRes.Body, []byte("number,id,")) || !bytes.Contains(csvRes.Body, []byte(id)) {
			t.Fatalf("csv: %d %s", csvRes.Status, csvRes.Body)
		}

		// PDFs.
		for _, p := range []string{"/report.pdf", "/ics201.pdf", "/ics214.pdf"} {
			res := off.Do("GET", base+p, nil)
			if res.Status != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(res.Body, []byte("%PDF-")) {
				t.Fatalf("%s: %d %s", p, res.Status, res.Header)
			}
		}

		// The client portal: client A sees the approved report, not drafts,
		// and client B sees nothing of A.
		draft := off.Do("POST", "/api/v1/incidents", with("title", "Draft only"))
		var d map[string]any
		draft.JSON(&d)
		ca := e.Login(e.A.Users[auth.Client].Email)
		ca.Do("GET", "/api/v1/incidents", nil).JSON(&list)
		if len(list.Items) != 1 || list.Items[0]["id"] != id {
			t.Fatalf("client portal list: %+v", list)
		}
		if res = ca.Do("GET", "/api/v1/incidents/"+d["id"].(string), nil); res.Status != 404 {
			t.Fatalf("client reading a draft: %d", res.Status)
		}
		if res = ca.Do("GET", base+"/report.pdf", nil); res.Status != 200 {
			t.Fatalf("client PDF: %d", res.Status)
		}
		cb := e.Login(e.B.Users[auth.Client].Email)
		cb.Do("GET", "/api/v1/incidents", nil).JSON(&list)
		if len(list.Items) != 0 {
			t.Fatalf("client B sees %d of A's reports", len(list.Items))
		}
		for _, p := range []string{base, base + "/report.pdf", base + "/attachments/" + att.ID} {
			if res = cb.Do("GET", p, nil); res.Status != 404 {
				t.Fatalf("client B GET %s: %d", p, res.Status)
			}
		}

		// Notification without SMTP is recorded, not sent.
		res = sup.Do("POST", base+"/notify", map[string]any{"recipients": []string{"facilities@client-a.test"}})
		var n incident.Notification
		res.JSON(&n)
		if res.Status != 201 || n.Status != "recorded" {
			t.Fatalf("notify: %d %s", res.Status, res.Body)
		}
		if e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'incident.notify' AND object_id = ?`, id) != 1 {
			t.Fatal("notification not audited")
		}
		// DAR over the API.
		day := time.Now().UTC().Format("2006-01-02")
		if res = off.Do("POST", "/api/v1/dar/entries", map[string]any{"site_id": e.A.Site.ID, "kind": "patrol", "text": "Roof checked"}); res.Status != 201 {
			t.Fatalf("dar entry: %d %s", res.Status, res.Body)
		}
		if res = upload(t, e, off, "/api/v1/dar/entries", "meter.png", []byte("GIF89a nope"), map[string]string{"site_id": e.A.Site.ID, "kind": "photo"}); res.Status != 400 {
			t.Fatalf("dar non-image photo: %d %s", res.Status, res.Body)
		}
		var dar incident.DAR
		ca.Do("GET", "/api/v1/dar?site_id="+e.A.Site.ID+"&date="+day, nil).JSON(&dar)
		if dar.Available || len(dar.Entries) != 0 {
			t.Fatalf("client sees an unapproved DAR: %+v", dar)
		}
		if res = sup.Do("POST", "/api/v1/dar/approve", map[string]any{"site_id": e.A.Site.ID, "date": day}); res.Status != 200 {
			t.Fatalf("dar approve: %d %s", res.Status, res.Body)
		}
		ca.Do("GET", "/api/v1/dar?site_id="+e.A.Site.ID+"&date="+day, nil).JSON(&dar)
		if !dar.Available || len(dar.Entries) != 1 {
			t.Fatalf("client after approval: %+v", dar)
		}
	})
}

// smtpServer is a minimal SMTP receiver on 127.0.0.1:0 that hands each
// message's DATA to the channel.
func smtpServer(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tp := textproto.NewConn(c)
				tp.PrintfLine("220 test ESMTP")
				for {
					line, err := tp.ReadLine()
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
					case "EHLO", "HELO":
						tp.PrintfLine("250-test\r\n250 8BITMIME")
					case "MAIL", "RCPT", "RSET", "NOOP":
						tp.PrintfLine("250 OK")
					case "DATA":
						tp.PrintfLine("354 go ahead")
						b, err := io.ReadAll(tp.DotReader())
						if err != nil {
							return
						}
						out <- string(b)
						tp.PrintfLine("250 queued")
					case "QUIT":
						tp.PrintfLine("221 bye")
						return
					default:
						tp.PrintfLine("502 unknown")
					}
				}
			}(conn)
		}
	}()
	return ln.Addr().String(), out
}

func TestNotifySendsEmailWhenConfigured(t *testing.T) {
	addr, got := smtpServer(t)
	e := apptest.Start(t, storetest.SQLite(t), func(c *config.Config) { c.SMTPURL = "smtp://" + addr + "?from=reports@vigil.test&tls=none" })
	sup := e.Login(e.A.Users[auth.Supervisor].Email)
	now := time.Now().UTC()
	res := sup.Do("POST", "/api/v1/incidents", map[string]any{"site_id": e.A.Site.ID, "type": "vandalism", "severity": "low", "title": "Graffiti on the gate",
		"narrative": "Fresh graffiti found on the main gate during the 06:00 patrol.", "occurred_at": now.Add(-time.Hour).Format(time.RFC3339),
		"client_emails": []string{"facilities@client-a.test"}})
	var inc incident.Incident
	res.JSON(&inc)
	for _, step := range []string{"submit", "approve"} {
		if r := sup.Do("POST", "/api/v1/incidents/"+inc.ID+"/"+step, nil); r.Status != 200 {
			t.Fatalf("%s: %d %s", step, r.Status, r.Body)
		}
	}
	res = sup.Do("POST", "/api/v1/incidents/"+inc.ID+"/notify", map[string]any{"message": "Please see the attached report."})
	var n incident.Notification
	res.JSON(&n)
	if res.Status != 201 || n.Status != "sent" || n.Recipients != "facilities@client-a.test" {
		t.Fatalf("notify: %d %s", res.Status, res.Body)
	}
	select {
	case msg := <-got:
		for _, want := range []string{"To: facilities@client-a.test", "Subject: Incident report INC-000001", "Content-Type: application/pdf", `filename="INC-000001.pdf"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q", want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message reached the SMTP server")
	}
}

func TestBadSMTPConfigStopsStart(t *testing.T) {
	if _, err := incident.ParseSMTPURL("smtp://relay.example:587"); err == nil {
		t.Fatal("an SMTP URL without a sender must be refused")
	}
	m, err := incident.ParseSMTPURL("smtps://u:secret@relay.example?from=a@b.example")
	if err != nil || m.Host != "relay.example:465" || m.TLS != "tls" || strings.Contains(m.String(), "secret") {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestPagesRender(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	off := e.Login(e.A.Users[auth.Officer].Email)
	now := time.Now().UTC()
	res := off.Do("POST", "/api/v1/incidents", map[string]any{"site_id": e.A.Site.ID, "type": "fire", "severity": "high", "title": "Bin fire behind the canteen",
		"narrative": "Small fire in a waste bin; extinguished with a CO2 extinguisher.", "occurred_at": now.Add(-time.Hour).Format(time.RFC3339), "ics": true})
	var inc incident.Incident
	res.JSON(&inc)
	for _, p := range []string{"/incidents", "/incidents?q=fire", "/incidents/new", "/incidents/" + inc.ID, "/incidents/" + inc.ID + "/edit",
		"/incidents/" + inc.ID + "/revisions", "/incidents/stats", "/dar"} {
		r := off.Do("GET", p, nil)
		if r.Status != 200 || !bytes.Contains(r.Body, []byte("</html>")) {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Body)
		}
	}
	// The list names types by their label, not their code.
	if r := off.Do("GET", "/incidents", nil); !bytes.Contains(r.Body, []byte(`<td data-label="Type">Fire</td>`)) {
		t.Errorf("incident list type column: want the label Fire:\n%s", r.Body)
	}
	// A form post with a missing title re-renders with the error, writes nothing.
	before := e.Count(`SELECT COUNT(*) FROM incidents`)
	r := off.Form("/incidents", map[string]string{"site_id": e.A.Site.ID, "type": "theft", "severity": "low", "title": "",
		"occurred_at": now.Add(-time.Hour).Format("2006-01-02T15:04")})
	if r.Status != 400 || !bytes.Contains(r.Body, []byte("is required")) || e.Count(`SELECT COUNT(*) FROM incidents`) != before {
		t.Fatalf("form with missing title: %d", r.Status)
	}
	r = off.Form("/incidents", map[string]string{"site_id": e.A.Site.ID, "type": "theft", "severity": "low", "title": "Bike stolen",
		"occurred_at": now.Add(-time.Hour).Format("2006-01-02T15:04"), "person_role": "victim", "person_name": "Ολγα", "property_description": "Bicycle",
		"property_status": "stolen", "property_value": "1,250.50", "property_currency": "GBP"})
	if r.Status != 303 {
		t.Fatalf("form create: %d %s", r.Status, r.Body)
	}
	var v int64
	var details string
	e.App.DB.QueryRow(t.Context(), `SELECT number, details FROM incidents WHERE title = 'Bike stolen'`).Scan(&v, &details)
	var dd incident.Details
	json.Unmarshal([]byte(details), &dd)
	if len(dd.Property) != 1 || dd.Property[0].Value != 125050 || len(dd.People) != 1 {
		t.Fatalf("form details: %s", details)
	}
	if v == 0 {
		t.Fatal("no report number")
	}
}

func testJPEG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 2), 160, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
