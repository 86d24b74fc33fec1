package alarm_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigil/internal/alarm"
	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/browsertest"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestSourcePages: webhook and MQTT sources through the real router —
// refused input named on its field with nothing written, the webhook's
// full address shown once and working, another tenant's sites and
// sources out of reach, removal audited.
func TestSourcePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		admin := e.Login(e.A.Users[auth.Admin].Email)
		body := func(r apptest.Response) string { return string(r.Body) }
		sources := func() int { return e.Count(`SELECT COUNT(*) FROM alarm_sources`) }

		if res := admin.Do("GET", "/alarm-sources", nil); res.Status != 200 || !strings.Contains(body(res), "No webhook or MQTT sources yet") {
			t.Fatalf("empty list: %d %s", res.Status, res.Body)
		}
		if res := admin.Do("GET", "/alarm-sources/new?kind=mqtt", nil); res.Status != 200 || !strings.Contains(body(res), `id="f-kind-mqtt" name="kind" value="mqtt" checked`) {
			t.Fatalf("new mqtt form: %d %s", res.Status, res.Body)
		}

		mqtt := map[string]string{"kind": "mqtt", "site_id": e.A.Site.ID, "name": "Freezer sensors", "broker_url": "tcp://broker.example:1883",
			"topic": "site7/+/temp", "devices": "3", "d0-key": "freezer1", "d0-zone": "4", "d0-name": "Freezer 1", "d0-type": "alarm"}
		for _, bad := range []struct {
			change map[string]string
			want   string
		}{
			{map[string]string{"broker_url": "http://broker.example"}, "must be tcp://host:port"},
			{map[string]string{"topic": ""}, "topic"},
			{map[string]string{"name": ""}, "must be 1–200 characters"},
			{map[string]string{"kind": "carrier-pigeon"}, "must be webhook or mqtt"},
			{map[string]string{"d1-key": "freezer1"}, "this device is mapped twice"},
			{map[string]string{"d1-name": "Fridge"}, "name the device (or topic) this row maps"},
			{map[string]string{"d0-type": "volcano"}, "choose an alarm type"},
			{map[string]string{"site_id": e.B.Site.ID}, "is not a site you can manage"},
		} {
			f := map[string]string{}
			for k, v := range mqtt {
				f[k] = v
			}
			for k, v := range bad.change {
				f[k] = v
			}
			res := admin.Form("/alarm-sources", f)
			if res.Status != 400 || !strings.Contains(body(res), bad.want) || !strings.Contains(body(res), "Not added") {
				t.Errorf("%v: %d, want 400 with %q: %s", bad.change, res.Status, bad.want, res.Body)
			}
		}
		if n := sources(); n != 0 {
			t.Fatalf("refused forms wrote %d sources", n)
		}
		// More rows keeps what was typed.
		f := map[string]string{"op": "rows"}
		for k, v := range mqtt {
			f[k] = v
		}
		if res := admin.Form("/alarm-sources", f); res.Status != 200 || !strings.Contains(body(res), `name="devices" value="8"`) || !strings.Contains(body(res), `value="Freezer 1"`) {
			t.Fatalf("more rows: %d %s", res.Status, res.Body)
		}
		if res := admin.Form("/alarm-sources", mqtt); res.Status != 303 {
			t.Fatalf("mqtt: %d %s", res.Status, res.Body)
		}

		// A webhook: the full address is shown once and works.
		res := admin.Form("/alarm-sources", map[string]string{"kind": "webhook", "site_id": e.A.Site.ID, "name": "Yard cameras",
			"broker_url": "ignored for webhooks", "devices": "1", "d0-key": "cam7", "d0-name": "Yard east", "d0-type": "video"})
		m := regexp.MustCompile(`value="(http://[^"]+/api/v1/ingest/(whk_[^"]+))"`).FindStringSubmatch(body(res))
		if res.Status != 200 || m == nil || !strings.HasPrefix(m[1], e.URL) {
			t.Fatalf("webhook created: %d %s", res.Status, res.Body)
		}
		if got := e.Anon().Do("POST", strings.TrimPrefix(m[1], e.URL), map[string]any{"id": "evt-1", "device": "cam7", "description": "Person in yard"}); got.Status != 202 {
			t.Fatalf("posting to the shown address: %d %s", got.Status, got.Body)
		}
		var typ, zoneName string
		if err := db.QueryRow(context.Background(), `SELECT type, zone_name FROM alarms WHERE org_id = ?`, e.A.Org.ID).Scan(&typ, &zoneName); err != nil || typ != "video" || zoneName != "Yard east" {
			t.Fatalf("alarm from the webhook: %v %s %s", err, typ, zoneName)
		}
		list := admin.Do("GET", "/alarm-sources", nil)
		if !strings.Contains(body(list), "Yard cameras") || !strings.Contains(body(list), "site7/&#43;/temp") || strings.Contains(body(list), m[2]) {
			t.Fatalf("list (must not show the token): %s", list.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND action = 'alarm_source.create'`, e.A.Org.ID); n != 2 {
			t.Fatalf("create audit rows: %d", n)
		}

		// Changing the webhook keeps its address: a new device mapping
		// applies to the next event; the kind cannot change.
		var whID string
		db.QueryRow(context.Background(), `SELECT id FROM alarm_sources WHERE name = 'Yard cameras'`).Scan(&whID)
		if res := admin.Do("GET", "/alarm-sources/"+whID+"/edit", nil); res.Status != 200 || !strings.Contains(body(res), `value="cam7"`) ||
			!strings.Contains(body(res), `action="/alarm-sources/`+whID+`"`) || strings.Contains(body(res), `id="f-kind-mqtt"`) {
			t.Fatalf("change form: %d %s", res.Status, res.Body)
		}
		change := map[string]string{"kind": "mqtt", "site_id": e.A.Site.ID, "name": "Yard and gate cameras", "devices": "2",
			"d0-key": "cam7", "d0-name": "Yard east", "d0-type": "video", "d1-key": "cam9", "d1-zone": "9", "d1-name": "Gate", "d1-type": "burglary"}
		if res := admin.Form("/alarm-sources/"+whID, map[string]string{"kind": "webhook", "site_id": e.A.Site.ID, "name": ""}); res.Status != 400 ||
			!strings.Contains(body(res), "Not saved") {
			t.Fatalf("change without a name: %d %s", res.Status, res.Body)
		}
		if res := admin.Form("/alarm-sources/"+whID, change); res.Status != 303 {
			t.Fatalf("change: %d %s", res.Status, res.Body)
		}
		if got := e.Anon().Do("POST", strings.TrimPrefix(m[1], e.URL), map[string]any{"id": "evt-9", "device": "cam9"}); got.Status != 202 {
			t.Fatalf("the address after the change: %d %s", got.Status, got.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarms WHERE org_id = ? AND zone_name = 'Gate' AND type = 'burglary'`, e.A.Org.ID); n != 1 {
			t.Fatalf("the new mapping did not apply: %d", n)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_sources WHERE id = ? AND kind = 'webhook' AND name = 'Yard and gate cameras'`, whID); n != 1 {
			t.Fatal("the change was not saved as a webhook")
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_source.update' AND object_id = ?`, whID); n != 1 {
			t.Fatalf("change audit: %d", n)
		}
		if res := admin.Do("PATCH", "/api/v1/alarm-sources/"+whID, map[string]any{"name": "Cameras"}); res.Status != 200 ||
			!strings.Contains(body(res), `"name":"Cameras"`) || !strings.Contains(body(res), `"cam9"`) {
			t.Fatalf("API change of the name only: %d %s", res.Status, res.Body)
		}
		if res := admin.Do("PATCH", "/api/v1/alarm-sources/"+whID, map[string]any{"site_id": e.B.Site.ID}); res.Status != 400 {
			t.Fatalf("API move to another tenant's site: %d %s", res.Status, res.Body)
		}

		// Client B's source is not found; nothing of B changes.
		bsrc, err := e.App.Alarm.S.CreateSource(context.Background(), []string{e.B.Org.ID}, alarm.SourceInput{SiteID: e.B.Site.ID, Kind: "webhook", Name: "B cams"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res := admin.Form("/alarm-sources/"+bsrc.ID+"/delete", nil); res.Status != 404 {
			t.Fatalf("deleting B's source: %d", res.Status)
		}
		if res := admin.Form("/alarm-sources/"+bsrc.ID, map[string]string{"site_id": e.A.Site.ID, "name": "mine now"}); res.Status != 404 {
			t.Fatalf("changing B's source: %d", res.Status)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_sources WHERE org_id = ?`, e.B.Org.ID); n != 1 {
			t.Fatal("client B's source was touched")
		}
		// Handling alarms is not administering sources.
		disp := e.Login(e.A.Users[auth.Dispatcher].Email)
		if res := disp.Do("GET", "/alarm-sources", nil); res.Status != 403 {
			t.Fatalf("dispatcher list: %d", res.Status)
		}
		if res := disp.Form("/alarm-sources", mqtt); res.Status != 403 {
			t.Fatalf("dispatcher create: %d", res.Status)
		}

		// Remove: the address stops working at once.
		id := whID
		if res := admin.Form("/alarm-sources/"+id+"/delete", nil); res.Status != 303 {
			t.Fatalf("delete: %d", res.Status)
		}
		if got := e.Anon().Do("POST", strings.TrimPrefix(m[1], e.URL), map[string]any{"id": "evt-2"}); got.Status != 404 {
			t.Fatalf("removed webhook still accepts: %d", got.Status)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_source.delete' AND object_id = ?`, id); n != 1 {
			t.Fatalf("delete audit: %d", n)
		}
	})
}

// TestUnknownPage: unknown panel accounts are shown to operator
// administrators only, with a link that opens the account form filled in.
func TestUnknownPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		at := time.Now().UTC()
		if err := e.App.Alarm.S.RecordUnknown(context.Background(), alarm.Unknown{Receiver: "12", Line: "3", Account: "ABC123", Remote: "203.0.113.9:40000",
			Raw: `"ADM-CID"0001R12L3#ABC123[#ABC123|1130 01 003]`, LastAt: at}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []auth.Role{auth.Admin, auth.Dispatcher} {
			if res := e.Login(e.A.Users[role].Email).Do("GET", "/alarm-unknown", nil); res.Status != 403 {
				t.Errorf("client %s: %d, want 403", role, res.Status)
			}
		}
		if res := e.Login(e.Operator.Users[auth.Dispatcher].Email).Do("GET", "/alarm-unknown", nil); res.Status != 403 {
			t.Errorf("operator dispatcher: %d, want 403", res.Status)
		}
		op := e.Login(e.Operator.Users[auth.Admin].Email)
		res := op.Do("GET", "/alarm-unknown", nil)
		link := "/alarm-accounts/new?line=3&amp;number=ABC123&amp;receiver=12"
		if res.Status != 200 || !strings.Contains(string(res.Body), "203.0.113.9:40000") || !strings.Contains(string(res.Body), link) {
			t.Fatalf("operator admin: %d %s", res.Status, res.Body)
		}
		form := op.Do("GET", strings.ReplaceAll(link, "&amp;", "&"), nil)
		for _, want := range []string{`name="number" type="text" value="ABC123"`, `name="receiver" type="text" value="12"`, `name="line" type="text" value="3"`} {
			if !strings.Contains(string(form.Body), want) {
				t.Errorf("account form lacks %s", want)
			}
		}
		if res := op.Do("GET", "/alarm-sources", nil); !strings.Contains(string(res.Body), `href="/alarm-unknown"`) {
			t.Errorf("sources page does not link unknown accounts for an operator admin")
		}
		// An operator administrator picks a client's site by client.
		if res := op.Do("GET", "/alarm-sources/new", nil); !strings.Contains(string(res.Body), `<optgroup label="Client A"><option value="`+e.A.Site.ID+`">Client A HQ</option></optgroup>`) {
			t.Errorf("source form for an operator admin does not group sites by client: %s", res.Body)
		}
		// Provisioned with the filled-in form, the row says so and links
		// the account instead of offering to provision it again.
		if res := op.Form("/alarm-accounts", map[string]string{"site_id": e.A.Site.ID, "number": "ABC123", "receiver": "12", "line": "3", "supervision_s": "0"}); res.Status != 303 {
			t.Fatalf("provision: %d %s", res.Status, res.Body)
		}
		var id string
		db.QueryRow(context.Background(), `SELECT id FROM alarm_accounts WHERE number = 'ABC123'`).Scan(&id)
		res = op.Do("GET", "/alarm-unknown", nil)
		if !strings.Contains(string(res.Body), `href="/alarm-accounts/`+id+`"><span class="badge ok">provisioned</span>`) || strings.Contains(string(res.Body), link) {
			t.Fatalf("after provisioning: %s", res.Body)
		}
		// Dismissed, the row goes (audited); a client administrator may
		// not, and a row that is not there is a 404.
		dismiss := map[string]string{"account": "ABC123", "receiver": "12", "line": "3"}
		if res := e.Login(e.A.Users[auth.Admin].Email).Form("/alarm-unknown/dismiss", dismiss); res.Status != 403 {
			t.Errorf("client admin dismissing: %d, want 403", res.Status)
		}
		if res := op.Form("/alarm-unknown/dismiss", dismiss); res.Status != 303 {
			t.Fatalf("dismiss: %d %s", res.Status, res.Body)
		}
		if n := e.Count(`SELECT COUNT(*) FROM alarm_unknown`); n != 0 {
			t.Fatalf("%d unknown rows after dismissing", n)
		}
		if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_unknown.dismiss' AND object_id = '12/3/ABC123'`); n != 1 {
			t.Fatalf("dismiss audit: %d", n)
		}
		if res := op.Do("DELETE", "/api/v1/alarm-unknown?account=ABC123&receiver=12&line=3", nil); res.Status != 404 {
			t.Fatalf("dismissing again: %d, want 404", res.Status)
		}
		if res := op.Do("DELETE", "/api/v1/alarm-unknown", nil); res.Status != 400 {
			t.Fatalf("dismissing without an account: %d, want 400", res.Status)
		}
	})
}

// TestWebhookInBrowser: an administrator adds a webhook in real Chromium
// (the MQTT-only fields hide for a webhook), copies the address shown
// once, and a sending system posting to it raises an alarm.
func TestWebhookInBrowser(t *testing.T) {
	b := browsertest.New(t)
	e := startEnv(t, storetest.SQLite(t))
	p := b.Tab(t)
	p.Navigate(e.url + "/login")
	p.Fill("#f-email", e.users[auth.Admin])
	p.Fill("#f-password", password)
	if st := p.ClickLink("main form", "Sign in"); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	p.Navigate(e.url + "/alarm-sources")
	if st := p.ClickLink("main .head", "Add webhook"); st != 200 {
		t.Fatalf("add webhook: %d", st)
	}
	p.WaitHidden("#f-broker_url")
	p.Click("#f-kind-mqtt")
	p.WaitVisible("#f-broker_url")
	p.Click("#f-kind-webhook")
	p.WaitHidden("#f-broker_url")
	p.Select("#f-site_id", "Bank Branch 7")
	p.Fill("#f-name", "Yard cameras")
	p.Fill("#f-d0-key", "cam7")
	p.Fill("#f-d0-name", "Yard east")
	p.Select("#f-d0-type", "Video analytics")
	if st := p.ClickAndWait("#source-save"); st != 200 {
		t.Fatalf("save: %d", st)
	}
	addr := browsertest.Eval[string](p, `document.querySelector("#ingest-url").value`)
	if !strings.HasPrefix(addr, e.url+"/api/v1/ingest/whk_") {
		t.Fatalf("shown address %q", addr)
	}
	anon := &client{e: e, h: &http.Client{Timeout: 10 * time.Second}}
	if st, b := anon.do("POST", strings.TrimPrefix(addr, e.url), map[string]any{"id": "evt-1", "device": "cam7"}, nil); st != 202 {
		t.Fatalf("post to the shown address: %d %s", st, b)
	}
	p.Navigate(e.url + "/alarms")
	p.WaitText("#alarm-queue tbody", "Yard east")
	p.CheckConsole()
}
