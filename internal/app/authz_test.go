package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"sort"
	"testing"
	"time"

	"vigil/internal/alarm"
	"vigil/internal/app/apptest"
	"vigil/internal/auth"
	"vigil/internal/incident"
	"vigil/internal/investigation"
	"vigil/internal/org"
	"vigil/internal/risk"
	"vigil/internal/risk/dist"
	"vigil/internal/risk/fair"
	"vigil/internal/risk/matrix"
	"vigil/internal/risk/pps"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// kind says how a route treats objects of an organisation the caller cannot see.
type kind int

const (
	kList   kind = iota // 200 without any of the other tenant's data (403 if the role may not list at all)
	kObject             // 404: the object is indistinguishable from a missing one
	kCreate             // refused (400/404) with nothing written
	kSelf               // the caller's own account: always allowed, never shows another tenant
)

// route is one row of the authorisation matrix.
type route struct {
	method, pattern string
	action          auth.Action
	kind            kind
	// req builds the concrete request against tenant t.
	req func(e *apptest.Env, t *apptest.Tenant) (path string, body any)
	// allowed is the status when the caller may do this in their own org
	// (default: any 2xx).
	allowed int
}

func fresh[T any](t *testing.T, e *apptest.Env, fn func(ctx context.Context, tx *store.Tx) (T, error)) T {
	var v T
	err := e.App.DB.Write(context.Background(), func(tx *store.Tx) error {
		var err error
		v, err = fn(context.Background(), tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var seq int

func routes(t *testing.T) []route {
	freshSite := func(e *apptest.Env, tn *apptest.Tenant) *org.Site {
		return fresh(t, e, func(ctx context.Context, tx *store.Tx) (*org.Site, error) {
			x := &org.Site{OrgID: tn.Org.ID, Name: "Throwaway", Timezone: "UTC"}
			return x, e.App.Orgs.CreateSiteTx(ctx, tx, x, nil)
		})
	}
	freshUser := func(e *apptest.Env, tn *apptest.Tenant) *auth.User {
		seq++
		return e.User(tn.Org.ID, fmt.Sprintf("victim%d@%s.test", seq, tn.Org.Slug), auth.Officer)
	}
	id := func(p string) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
		return func(e *apptest.Env, t *apptest.Tenant) (string, any) { return fmt.Sprintf(p, t.Org.ID), nil }
	}
	return []route{
		{"GET", "/orgs", auth.OrgRead, kList, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/orgs?q=" + t.Org.Slug, nil }, 0},
		{"POST", "/orgs", auth.OrgCreate, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/orgs", map[string]any{"name": "Child", "parent_id": t.Org.ID}
		}, 400}, // a client organisation cannot have clients
		{"GET", "/orgs/{id}", auth.OrgRead, kObject, id("/orgs/%s"), 0},
		{"PATCH", "/orgs/{id}", auth.OrgUpdate, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/orgs/" + t.Org.ID, map[string]any{"name": t.Org.Name}
		}, 0},
		{"DELETE", "/orgs/{id}", auth.OrgDelete, kObject, id("/orgs/%s"), 409}, // it still has sites

		{"GET", "/sites", auth.SiteRead, kList, id("/sites?org_id=%s"), 0},
		{"POST", "/sites", auth.SiteWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites", map[string]any{"org_id": t.Org.ID, "name": "New site", "timezone": "UTC"}
		}, 0},
		{"GET", "/sites/{id}", auth.SiteRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/sites/" + t.Site.ID, nil }, 0},
		{"PATCH", "/sites/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites/" + t.Site.ID, map[string]any{"notes": "checked"}
		}, 0},
		{"DELETE", "/sites/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites/" + freshSite(e, t).ID, nil
		}, 0},
		{"GET", "/sites/{id}/zones", auth.SiteRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/sites/" + t.Site.ID + "/zones", nil }, 0},
		{"POST", "/sites/{id}/zones", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites/" + t.Site.ID + "/zones", map[string]any{"name": "Roof"}
		}, 0},
		{"GET", "/sites/{id}/contacts", auth.SiteRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites/" + t.Site.ID + "/contacts", nil
		}, 0},
		{"POST", "/sites/{id}/contacts", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/sites/" + t.Site.ID + "/contacts", map[string]any{"name": "Night porter", "phone": "+44 1"}
		}, 0},
		{"DELETE", "/sites/{id}/contacts/{contact_id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			c := fresh(curT, e, func(ctx context.Context, tx *store.Tx) (*org.Contact, error) {
				c := &org.Contact{OrgID: t.Org.ID, SiteID: t.Site.ID, Name: "Temp", Phone: "1"}
				return c, e.App.Orgs.AddContactTx(ctx, tx, c, nil)
			})
			return "/sites/" + t.Site.ID + "/contacts/" + c.ID, nil
		}, 0},

		{"GET", "/zones/{id}", auth.SiteRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/zones/" + t.Zone.ID, nil }, 0},
		{"PATCH", "/zones/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/zones/" + t.Zone.ID, map[string]any{"description": "ground floor"}
		}, 0},
		{"DELETE", "/zones/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			z := fresh(curT, e, func(ctx context.Context, tx *store.Tx) (*org.Zone, error) {
				z := &org.Zone{OrgID: t.Org.ID, SiteID: t.Site.ID, Name: "Temp"}
				return z, e.App.Orgs.CreateZoneTx(ctx, tx, z, nil)
			})
			return "/zones/" + z.ID, nil
		}, 0},

		{"GET", "/devices", auth.SiteRead, kList, id("/devices?org_id=%s"), 0},
		{"POST", "/devices", auth.SiteWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/devices", map[string]any{"site_id": t.Site.ID, "type": "camera", "name": "New camera"}
		}, 0},
		{"GET", "/devices/{id}", auth.SiteRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/devices/" + t.Device.ID, nil }, 0},
		{"PATCH", "/devices/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/devices/" + t.Device.ID, map[string]any{"status": "maintenance"}
		}, 0},
		{"DELETE", "/devices/{id}", auth.SiteWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			d := fresh(curT, e, func(ctx context.Context, tx *store.Tx) (*org.Device, error) {
				d := &org.Device{OrgID: t.Org.ID, SiteID: t.Site.ID, Type: "other", Name: "Temp"}
				return d, e.App.Orgs.CreateDeviceTx(ctx, tx, d, nil)
			})
			return "/devices/" + d.ID, nil
		}, 0},

		{"GET", "/users", auth.UserRead, kList, id("/users?org_id=%s"), 0},
		{"POST", "/users", auth.UserManage, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			seq++
			return "/users", map[string]any{"email": fmt.Sprintf("new%d@x.test", seq), "name": "New", "password": apptest.Password, "org_id": t.Org.ID, "role": "officer"}
		}, 0},
		{"GET", "/users/{id}", auth.UserRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/users/" + t.Users[auth.Officer].ID, nil
		}, 0},
		{"PATCH", "/users/{id}", auth.UserManage, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/users/" + freshUser(e, t).ID, map[string]any{"disabled": true}
		}, 0},
		{"PUT", "/users/{id}/memberships/{org_id}", auth.UserManage, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/users/" + freshUser(e, t).ID + "/memberships/" + t.Org.ID, map[string]any{"role": "dispatcher"}
		}, 0},
		{"DELETE", "/users/{id}/memberships/{org_id}", auth.UserManage, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/users/" + freshUser(e, t).ID + "/memberships/" + t.Org.ID, nil
		}, 0},
		{"POST", "/invitations", auth.UserManage, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/invitations", map[string]any{"email": "invitee@x.test", "org_id": t.Org.ID, "role": "officer"}
		}, 0},
		{"GET", "/audit", auth.AuditRead, kList, id("/audit?org_id=%s"), 0},

		// Alarm monitoring. Alarms and accounts are made fresh per request
		// (working an alarm changes it), in the tenant the row runs against.
		{"GET", "/alarms", auth.AlarmRead, kList, id("/alarms?org_id=%s"), 0},
		{"GET", "/alarms/{id}", auth.AlarmRead, kObject, alarmReq(curT, "", "resolved"), 0},
		{"POST", "/alarms/{id}/ack", auth.AlarmHandle, kObject, alarmReq(curT, "/ack", "new"), 0},
		{"POST", "/alarms/{id}/steps", auth.AlarmHandle, kObject, alarmBody(curT, "/steps", map[string]any{"step": "review", "status": "done"}), 0},
		{"POST", "/alarms/{id}/notes", auth.AlarmHandle, kObject, alarmBody(curT, "/notes", map[string]any{"text": "checked"}), 0},
		{"POST", "/alarms/{id}/dispatch", auth.AlarmHandle, kObject, alarmBody(curT, "/dispatch", map[string]any{"to": "Patrol 2"}), 0},
		{"POST", "/alarms/{id}/resolve", auth.AlarmHandle, kObject, alarmBody(curT, "/resolve", map[string]any{"disposition": "false_equipment"}), 0},
		{"POST", "/alarms/{id}/close", auth.AlarmHandle, kObject, alarmReq(curT, "/close", "resolved"), 0},
		{"GET", "/alarm-events", auth.AlarmRead, kList, id("/alarm-events?org_id=%s"), 0},
		{"GET", "/alarm-accounts", auth.AlarmRead, kList, id("/alarm-accounts?org_id=%s"), 0},
		{"POST", "/alarm-accounts", auth.AlarmAdmin, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			seq++
			return "/alarm-accounts", map[string]any{"site_id": t.Site.ID, "number": fmt.Sprintf("A%04X", seq)}
		}, 0},
		{"GET", "/alarm-accounts/{id}", auth.AlarmRead, kObject, accountReq(curT, ""), 0},
		{"PATCH", "/alarm-accounts/{id}", auth.AlarmAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			path, _ := accountReq(curT, "")(e, t)
			return path, map[string]any{"name": "renamed"}
		}, 0},
		{"DELETE", "/alarm-accounts/{id}", auth.AlarmAdmin, kObject, accountReq(curT, ""), 0},
		// Unprovisioned accounts belong to no tenant: only operator
		// administrators see them, never a client organisation's users.
		{"GET", "/alarm-unknown", auth.AlarmAdmin, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/alarm-unknown", nil }, 403},
		{"DELETE", "/alarm-unknown", auth.AlarmAdmin, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-unknown?account=9999", nil
		}, 403},
		{"GET", "/alarm-sources", auth.AlarmAdmin, kList, id("/alarm-sources?org_id=%s"), 0},
		{"POST", "/alarm-sources", auth.AlarmAdmin, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-sources", map[string]any{"site_id": t.Site.ID, "kind": "webhook", "name": "Video analytics"}
		}, 0},
		{"PATCH", "/alarm-sources/{id}", auth.AlarmAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-sources/" + webhookSource(curT, e, t).ID, map[string]any{"name": "Renamed"}
		}, 0},
		{"DELETE", "/alarm-sources/{id}", auth.AlarmAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-sources/" + webhookSource(curT, e, t).ID, nil
		}, 0},
		{"GET", "/alarm-sops", auth.AlarmRead, kList, id("/alarm-sops?org_id=%s"), 0},
		{"PUT", "/alarm-sops", auth.AlarmAdmin, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-sops", map[string]any{"org_id": t.Org.ID, "alarm_type": "fire", "name": "Fire (client)",
				"steps": []map[string]any{{"id": "call", "text": "Call the fire service", "kind": "call", "call": "fire", "required": true}}}
		}, 0},
		{"DELETE", "/alarm-sops/{id}", auth.AlarmAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			sop := &alarm.SOP{OrgID: t.Org.ID, SiteID: t.Site.ID, AlarmType: "medical", Name: "Matrix SOP", Steps: alarm.DefaultSOPs["medical"].Steps}
			if err := e.App.Alarm.S.PutSOP(context.Background(), []string{t.Org.ID}, sop, nil); err != nil {
				curT.Fatal(err)
			}
			return "/alarm-sops/" + sop.ID, nil
		}, 204},
		{"GET", "/alarm-settings", auth.AlarmRead, kObject, id("/alarm-settings?org_id=%s"), 0},
		{"PUT", "/alarm-settings", auth.AlarmAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/alarm-settings", map[string]any{"org_id": t.Org.ID, "escalate_p2_s": 90}
		}, 0},
		{"POST", "/ingest/{token}", "", kSelf, nil, 0},

		// Incidents and daily activity reports. Reports are made fresh per
		// request in the status the step needs; client users see approved
		// reports only, so reads use approved ones.
		{"GET", "/incidents", auth.IncidentRead, kList, id("/incidents?org_id=%s"), 0},
		{"POST", "/incidents", auth.IncidentWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/incidents", map[string]any{"site_id": t.Site.ID, "type": "theft", "severity": "low", "title": "Matrix report",
				"occurred_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
		}, 0},
		{"GET", "/incidents/export.csv", auth.IncidentRead, kList, id("/incidents/export.csv?org_id=%s"), 0},
		{"GET", "/incidents/stats", auth.IncidentRead, kList, id("/incidents/stats?org_id=%s"), 0},
		{"GET", "/incidents/{id}", auth.IncidentRead, kObject, incReq(curT, incident.Approved, ""), 0},
		{"PATCH", "/incidents/{id}", auth.IncidentWrite, kObject, incBody(curT, incident.Draft, "", map[string]any{"title": "Changed title"}), 0},
		{"POST", "/incidents/{id}/submit", auth.IncidentWrite, kObject, incReq(curT, incident.Draft, "/submit"), 0},
		{"POST", "/incidents/{id}/review", auth.IncidentReview, kObject, incReq(curT, incident.Submitted, "/review"), 0},
		{"POST", "/incidents/{id}/return", auth.IncidentReview, kObject, incBody(curT, incident.Submitted, "/return", map[string]any{"comment": "Add the witness's name"}), 0},
		{"POST", "/incidents/{id}/approve", auth.IncidentReview, kObject, incReq(curT, incident.Submitted, "/approve"), 0},
		{"POST", "/incidents/{id}/close", auth.IncidentReview, kObject, incReq(curT, incident.Approved, "/close"), 0},
		{"GET", "/incidents/{id}/revisions", auth.IncidentReadAll, kObject, incReq(curT, incident.Approved, "/revisions"), 0},
		{"GET", "/incidents/{id}/log", auth.IncidentReadAll, kObject, incReq(curT, incident.Approved, "/log"), 0},
		{"POST", "/incidents/{id}/log", auth.IncidentWrite, kObject, incBody(curT, incident.Draft, "/log", map[string]any{"text": "Checked the door"}), 0},
		{"GET", "/incidents/{id}/attachments", auth.IncidentRead, kObject, incReq(curT, incident.Approved, "/attachments"), 0},
		// Uploads are multipart; the matrix client sends JSON, so the
		// permitted caller gets 415 (uploads are tested in the module).
		{"POST", "/incidents/{id}/attachments", auth.IncidentWrite, kObject, incReq(curT, incident.Draft, "/attachments"), 415},
		{"GET", "/incidents/{id}/attachments/{attachment_id}", auth.IncidentRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			i, a := incFixtureWithPhoto(curT, e, t)
			return "/incidents/" + i.ID + "/attachments/" + a.ID + "?size=thumb", nil
		}, 0},
		{"GET", "/incidents/{id}/report.pdf", auth.IncidentRead, kObject, incReq(curT, incident.Approved, "/report.pdf"), 0},
		{"GET", "/incidents/{id}/ics201.pdf", auth.IncidentReadAll, kObject, incReq(curT, incident.Approved, "/ics201.pdf"), 0},
		{"GET", "/incidents/{id}/ics214.pdf", auth.IncidentReadAll, kObject, incReq(curT, incident.Approved, "/ics214.pdf"), 0},
		{"POST", "/incidents/{id}/notify", auth.IncidentReview, kObject, incBody(curT, incident.Approved, "/notify", map[string]any{"recipients": []string{"client@example.test"}}), 0},
		{"GET", "/incident-types", auth.IncidentRead, kObject, id("/incident-types?org_id=%s"), 0},
		{"PUT", "/incident-types/{code}", auth.IncidentConfig, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/incident-types/graffiti", map[string]any{"org_id": t.Org.ID, "label": "Graffiti"}
		}, 0},
		{"GET", "/incident-filters", auth.IncidentRead, kObject, id("/incident-filters?org_id=%s"), 0},
		{"POST", "/incident-filters", auth.IncidentRead, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			seq++
			return "/incident-filters", map[string]any{"org_id": t.Org.ID, "name": fmt.Sprintf("High severity %d", seq), "query": "severity=high"}
		}, 0},
		{"GET", "/dar", auth.IncidentRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/dar?site_id=" + t.Site.ID + "&date=" + time.Now().UTC().Format("2006-01-02"), nil
		}, 0},
		{"POST", "/dar/entries", auth.IncidentWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/dar/entries", map[string]any{"site_id": t.Site.ID, "kind": "patrol", "text": "Perimeter patrol, all secure"}
		}, 0},
		{"POST", "/dar/approve", auth.IncidentReview, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			site, day := darFixture(curT, e, t, false)
			return "/dar/approve", map[string]any{"site_id": site, "date": day}
		}, 0},
		{"POST", "/dar/send", auth.IncidentReview, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			site, day := darFixture(curT, e, t, true)
			return "/dar/send", map[string]any{"site_id": site, "date": day, "recipients": []string{"client@example.test"}}
		}, 0},
		{"GET", "/dar/attachments/{attachment_id}", auth.IncidentRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/dar/attachments/" + darPhotoFixture(curT, e, t) + "?size=thumb", nil
		}, 0},
		{"GET", "/dar/report.pdf", auth.IncidentRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			site, day := darFixture(curT, e, t, true)
			return "/dar/report.pdf?site_id=" + site + "&date=" + day, nil
		}, 0},

		// Investigations. Each request gets a fresh case led by the tenant's
		// investigator with its admin and manager on the team (the owner
		// has case-wide access), so every role that may work cases is
		// inside need-to-know; outsiders are tested in the module.
		{"GET", "/cases", auth.CaseRead, kList, id("/cases?org_id=%s"), 0},
		{"POST", "/cases", auth.CaseWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/cases", map[string]any{"org_id": t.Org.ID, "type": "theft", "title": "Matrix case"}
		}, 0},
		{"GET", "/cases/stats", auth.CaseRead, kList, id("/cases/stats?org_id=%s"), 0},
		{"GET", "/cases/{id}", auth.CaseRead, kObject, invReq(curT, "theft", ""), 0},
		{"PATCH", "/cases/{id}", auth.CaseWrite, kObject, invBody(curT, "theft", "", map[string]any{"root_cause": "weak key control"}), 0},
		{"POST", "/cases/{id}/status", auth.CaseWrite, kObject, invBody(curT, "theft", "/status", map[string]any{"status": "investigating"}), 0},
		{"POST", "/cases/{id}/members", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/cases/" + invCase(curT, e, t, "theft").ID + "/members", map[string]any{"user_id": t.Users[auth.Owner].ID, "role": "granted"}
		}, 0},
		{"DELETE", "/cases/{id}/members/{user_id}", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/cases/" + invCase(curT, e, t, "theft").ID + "/members/" + t.Users[auth.Manager].ID, nil
		}, 0},
		{"POST", "/cases/{id}/parties", auth.CaseWrite, kObject, invBody(curT, "theft", "/parties", map[string]any{"kind": "witness", "name": "Night porter"}), 0},
		{"POST", "/cases/{id}/allegations", auth.CaseWrite, kObject, invBody(curT, "theft", "/allegations", map[string]any{"text": "Took stock"}), 0},
		{"PUT", "/cases/{id}/allegations/{aid}", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			c := invCase(curT, e, t, "theft")
			a, err := invSvc(e).AddAllegation(context.Background(), invActor(t), c, "Took stock")
			if err != nil {
				curT.Fatal(err)
			}
			return "/cases/" + c.ID + "/allegations/" + a.ID, map[string]any{"outcome": "unfounded"}
		}, 0},
		{"POST", "/cases/{id}/links", auth.CaseWrite, kObject, invBody(curT, "theft", "/links", map[string]any{"kind": "incident", "ref": "INC-1"}), 0},
		{"POST", "/cases/{id}/tasks", auth.CaseWrite, kObject, invBody(curT, "theft", "/tasks", map[string]any{"title": "Pull CCTV"}), 0},
		{"POST", "/cases/{id}/notes", auth.CaseWrite, kObject, invBody(curT, "theft", "/notes", map[string]any{"body": "Spoke to HR"}), 0},
		{"POST", "/cases/{id}/actions", auth.CaseWrite, kObject, invBody(curT, "theft", "/actions", map[string]any{"kind": "training", "stage": "recommended"}), 0},
		{"POST", "/cases/{id}/time", auth.CaseWrite, kObject, invBody(curT, "theft", "/time", map[string]any{"minutes": 30}), 0},
		{"GET", "/cases/{id}/evidence", auth.CaseRead, kObject, invReq(curT, "theft", "/evidence"), 0},
		// Uploads are multipart; the matrix client sends JSON, so the
		// permitted caller gets 415 (uploads are tested in the module).
		{"POST", "/cases/{id}/evidence", auth.CaseWrite, kObject, invReq(curT, "theft", "/evidence"), 415},
		{"GET", "/cases/{id}/evidence/{eid}/file", auth.CaseRead, kObject, invEvidence(curT, "/file", nil), 0},
		{"POST", "/cases/{id}/evidence/{eid}/verify", auth.CaseWrite, kObject, invEvidence(curT, "/verify", nil), 0},
		{"POST", "/cases/{id}/evidence/{eid}/transfers", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return invEvidence(curT, "/transfers", map[string]any{"to_user_id": t.Users[auth.Officer].ID, "reason": "to the lab", "password": apptest.Password})(e, t)
		}, 0},
		{"GET", "/cases/{id}/custody", auth.CaseRead, kObject, invReq(curT, "theft", "/custody"), 0},
		{"GET", "/cases/{id}/interviews", auth.CaseRead, kObject, invReq(curT, "theft", "/interviews"), 0},
		{"POST", "/cases/{id}/interviews", auth.CaseWrite, kObject, invBody(curT, "theft", "/interviews", map[string]any{"interviewee": "Porter", "scheduled_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}), 0},
		{"PUT", "/cases/{id}/interviews/{iid}", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			c := invCase(curT, e, t, "theft")
			at := time.Now().Add(time.Hour).UTC()
			iv, err := invSvc(e).AddInterview(context.Background(), invActor(t), c, investigation.InterviewInput{Interviewee: "Porter", ScheduledAt: &at})
			if err != nil {
				curT.Fatal(err)
			}
			return "/cases/" + c.ID + "/interviews/" + iv.ID, map[string]any{"interviewee": "Porter", "recorded_at": at.Format(time.RFC3339), "statement": "I saw nothing."}
		}, 0},
		{"POST", "/cases/{id}/replies", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/cases/" + invHotlineCase(curT, e, t).ID + "/replies", map[string]any{"body": "Thank you for your report."}
		}, 0},
		{"POST", "/cases/{id}/assessments", auth.CaseWrite, kObject, invBody(curT, "threat", "/assessments", map[string]any{"level": "low", "behaviours": []string{"fixation"}}), 0},
		{"POST", "/cases/{id}/bolos", auth.CaseWrite, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/cases/" + invCase(curT, e, t, "threat").ID + "/bolos", map[string]any{"subject_name": "J. Doe", "description": "Grey coat", "site_ids": []string{t.Site.ID}}
		}, 0},
		{"POST", "/cases/{id}/revocations", auth.CaseWrite, kObject, invBody(curT, "threat", "/revocations", map[string]any{"person": "J. Doe", "credentials": "badge 7", "reason": "banned"}), 0},
		{"GET", "/cases/{id}/access-log", auth.CaseWrite, kObject, invReq(curT, "theft", "/access-log"), 0},
		{"GET", "/bolos", auth.BoloRead, kList, func(e *apptest.Env, t *apptest.Tenant) (string, any) { return "/bolos?site_id=" + t.Site.ID, nil }, 0},
		{"GET", "/investigation/settings/{org_id}", auth.CaseAdmin, kObject, id("/investigation/settings/%s"), 0},
		{"PUT", "/investigation/settings/{org_id}", auth.CaseAdmin, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/investigation/settings/" + t.Org.ID, map[string]any{"ack_days": 7, "feedback_days": 90}
		}, 0},
		{"GET", "/risks", auth.RiskRead, kList, id("/risks?org_id=%s"), 0},
		{"POST", "/risks", auth.RiskWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/risks", map[string]any{"site_id": t.Site.ID, "title": "Tailgating", "asset": "Server room", "threat": "Intruder", "likelihood": "Likely", "consequence": "Major"}
		}, 201},
		{"GET", "/risks/{id}", auth.RiskRead, kObject, riskReq(curT, ""), 0},
		{"PATCH", "/risks/{id}", auth.RiskWrite, kObject, riskBody(curT, "", map[string]any{"owner": "Facilities"}), 0},
		{"DELETE", "/risks/{id}", auth.RiskWrite, kObject, riskReq(curT, ""), 204},
		{"GET", "/risks/{id}/revisions", auth.RiskRead, kObject, riskReq(curT, "/revisions"), 0},
		{"GET", "/risks/{id}/analyses", auth.RiskRead, kObject, riskReq(curT, "/analyses"), 0},
		{"POST", "/risks/{id}/analyses", auth.RiskWrite, kObject, riskBody(curT, "/analyses", map[string]any{"name": "FAIR", "iterations": 1000, "seed": 1,
			"model": map[string]any{"frequency": map[string]any{"dist": "constant", "value": 2}, "magnitude": map[string]any{"dist": "constant", "value": 1000}}}), 201},
		{"GET", "/risk-analyses/{id}", auth.RiskRead, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/risk-analyses/" + riskAnalysisFixture(curT, e, t).ID, nil
		}, 0},
		{"GET", "/risk-paths", auth.RiskRead, kList, id("/risk-paths?org_id=%s"), 0},
		{"POST", "/risk-paths", auth.RiskWrite, kCreate, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/risk-paths", map[string]any{"site_id": t.Site.ID, "name": "Vault", "diagram": riskDiagram(), "links": []map[string]any{{"edge_id": "e1", "zone_id": t.Zone.ID}}}
		}, 201},
		{"GET", "/risk-paths/{id}", auth.RiskRead, kObject, riskPathReq(curT, "", nil), 0},
		{"PUT", "/risk-paths/{id}", auth.RiskWrite, kObject, riskPathReq(curT, "", map[string]any{"name": "Vault v2", "diagram": riskDiagram()}), 0},
		{"DELETE", "/risk-paths/{id}", auth.RiskWrite, kObject, riskPathReq(curT, "", nil), 204},
		{"GET", "/risk-paths/{id}/analysis", auth.RiskRead, kObject, riskPathReq(curT, "/analysis?top=3", nil), 0},
		{"GET", "/risk-matrix/{org_id}", auth.RiskRead, kObject, id("/risk-matrix/%s"), 0},
		{"PUT", "/risk-matrix/{org_id}", auth.RiskConfig, kObject, func(e *apptest.Env, t *apptest.Tenant) (string, any) {
			return "/risk-matrix/" + t.Org.ID, matrix.AS4360()
		}, 0},

		{"POST", "/hotline/{slug}/reports", "", kSelf, nil, 0},
		{"POST", "/hotline/{slug}/access", "", kSelf, nil, 0},
		{"POST", "/hotline/{slug}/messages", "", kSelf, nil, 0},

		{"POST", "/auth/login", "", kSelf, nil, 0},
		{"POST", "/auth/logout", "", kSelf, nil, 0},
		{"GET", "/me", "", kSelf, nil, 0},
		{"PATCH", "/me", "", kSelf, nil, 0},
		{"POST", "/me/password", "", kSelf, nil, 0},
		{"GET", "/me/tokens", "", kSelf, nil, 0},
		{"POST", "/me/tokens", "", kSelf, nil, 0},
		{"DELETE", "/me/tokens/{id}", "", kSelf, nil, 0},
	}
}

var curT *testing.T

// secrets are IDs of tenant B that must never appear in a response to A.
func secrets(b *apptest.Tenant) [][]byte {
	out := [][]byte{[]byte(b.Org.ID), []byte(b.Site.ID), []byte(b.Zone.ID), []byte(b.Device.ID), []byte(b.Contact.ID), []byte(b.Org.Slug)}
	for _, u := range b.Users {
		out = append(out, []byte(u.ID), []byte(u.Email))
	}
	return out
}

func leaks(body []byte, b *apptest.Tenant) string {
	for _, s := range secrets(b) {
		if bytes.Contains(body, s) {
			return string(s)
		}
	}
	return ""
}

// TestAuthzMatrix runs every API route for every role of client A against
// client A's own objects and client B's, and proves A never reads, lists,
// searches, changes or deletes anything of B.
func TestAuthzMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		curT = t
		e := apptest.Start(t, db)
		rows := routes(t)
		// Every registered API route must have a row, so a new route cannot
		// skip the matrix.
		have := map[string]bool{}
		for _, r := range rows {
			have[r.method+" "+r.pattern] = true
		}
		var missing []string
		for _, r := range e.App.Web.Routes() {
			if r.API && !have[r.Method+" "+r.Path] {
				missing = append(missing, r.Method+" "+r.Path)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Fatalf("routes without an authz matrix row: %v", missing)
		}
		for _, role := range auth.Roles {
			caller := e.A.Users[role]
			c := e.Login(caller.Email)
			for _, r := range rows {
				if r.kind == kSelf {
					checkSelf(t, e, c, role, r)
					continue
				}
				name := fmt.Sprintf("%s %s as %s", r.method, r.pattern, role)
				// Own organisation.
				path, body := r.req(e, e.A)
				res := c.Do(r.method, "/api/v1"+path, body)
				may := role.Allows(r.action)
				switch {
				case may && r.allowed != 0 && res.Status != r.allowed:
					t.Errorf("%s (own): %d, want %d: %s", name, res.Status, r.allowed, res.Body)
				case may && r.allowed == 0 && (res.Status < 200 || res.Status > 299):
					t.Errorf("%s (own): %d, want 2xx: %s", name, res.Status, res.Body)
				case !may && res.Status != 403:
					t.Errorf("%s (own): %d, want 403: %s", name, res.Status, res.Body)
				}
				if l := leaks(res.Body, e.B); l != "" {
					t.Errorf("%s (own) leaked %s of client B", name, l)
				}
				// The other client.
				path, body = r.req(e, e.B)
				res = c.Do(r.method, "/api/v1"+path, body)
				switch r.kind {
				case kObject:
					if res.Status != 404 {
						t.Errorf("%s (other): %d, want 404: %s", name, res.Status, res.Body)
					}
				case kCreate:
					if res.Status != 400 && res.Status != 404 && res.Status != 403 {
						t.Errorf("%s (other): %d, want a refusal: %s", name, res.Status, res.Body)
					}
				case kList:
					want := 200
					if !may {
						want = 403
					}
					if res.Status != want {
						t.Errorf("%s (other): %d, want %d: %s", name, res.Status, want, res.Body)
					}
				}
				if l := leaks(res.Body, e.B); l != "" {
					t.Errorf("%s (other) leaked %s of client B: %s", name, l, res.Body)
				}
			}
		}
		// Nothing of B was written by anyone from A (the test's own
		// throwaway objects in B are written without an actor, and B's own
		// users sign in during the self checks).
		for _, u := range e.A.Users {
			if n := e.Count(`SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND actor_id = ?`, e.B.Org.ID, u.ID); n != 0 {
				t.Errorf("client B's audit log has %d rows written by %s of client A", n, u.Email)
			}
		}
		for _, q := range []struct{ sql, id string }{
			{`SELECT COUNT(*) FROM sites WHERE id = ? AND notes = ''`, e.B.Site.ID},
			{`SELECT COUNT(*) FROM zones WHERE id = ? AND description = ''`, e.B.Zone.ID},
			{`SELECT COUNT(*) FROM devices WHERE id = ? AND status = 'active'`, e.B.Device.ID},
			{`SELECT COUNT(*) FROM site_contacts WHERE id = ?`, e.B.Contact.ID},
			{`SELECT COUNT(*) FROM orgs WHERE id = ? AND name = 'Client B'`, e.B.Org.ID},
			{`SELECT COUNT(*) FROM users WHERE id = ? AND disabled_at IS NULL`, e.B.Users[auth.Officer].ID},
		} {
			if e.Count(q.sql, q.id) != 1 {
				t.Errorf("client B's object %s changed: %s", q.id, q.sql)
			}
		}
		for _, q := range []string{`SELECT COUNT(*) FROM sites WHERE org_id = ? AND name = 'New site'`, `SELECT COUNT(*) FROM devices WHERE org_id = ? AND name = 'New camera'`,
			`SELECT COUNT(*) FROM zones WHERE org_id = ? AND name = 'Roof'`, `SELECT COUNT(*) FROM invitations WHERE org_id = ?`, `SELECT COUNT(*) FROM orgs WHERE parent_id = ?`} {
			if n := e.Count(q, e.B.Org.ID); n != 0 {
				t.Errorf("client A's users created objects in B: %s = %d", q, n)
			}
		}
	})
}

func checkSelf(t *testing.T, e *apptest.Env, c *apptest.Client, role auth.Role, r route) {
	t.Helper()
	name := fmt.Sprintf("%s %s as %s", r.method, r.pattern, role)
	email := e.A.Users[role].Email
	var res apptest.Response
	switch r.method + " " + r.pattern {
	case "POST /auth/login":
		res = e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": apptest.Password})
	case "POST /auth/logout":
		res = e.Login(email).Do("POST", "/api/v1/auth/logout", nil)
	case "GET /me", "GET /me/tokens":
		res = c.Do(r.method, "/api/v1"+r.pattern, nil)
	case "PATCH /me":
		res = c.Do("PATCH", "/api/v1/me", map[string]any{"name": string(role) + " user"})
	case "POST /me/password":
		res = c.Do("POST", "/api/v1/me/password", map[string]any{"current_password": "wrong", "new_password": "something long enough"})
		if res.Status != 400 {
			t.Errorf("%s with a wrong current password: %d, want 400", name, res.Status)
		}
		return
	case "POST /me/tokens":
		res = c.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "matrix", "expires": "1d"})
	case "POST /ingest/{token}":
		// The webhook's secret token is the credential, not the session.
		src := webhookSource(t, e, e.A)
		res = e.Anon().Do("POST", "/api/v1/ingest/"+src.Token, map[string]any{"type": "video", "description": "Person in yard", "id": "evt-" + string(role)})
		if bad := e.Anon().Do("POST", "/api/v1/ingest/whk_not-a-real-token-at-all", map[string]any{"type": "video"}); bad.Status != 404 {
			t.Errorf("ingest with a wrong token: %d, want 404", bad.Status)
		}
	case "DELETE /me/tokens/{id}":
		var out struct{ Detail struct{ ID string } }
		c.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "to revoke"}).JSON(&out)
		res = c.Do("DELETE", "/api/v1/me/tokens/"+out.Detail.ID, nil)
		// Another user's token is not found.
		other := e.Login(e.B.Users[role].Email)
		var theirs struct{ Detail struct{ ID string } }
		other.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "theirs"}).JSON(&theirs)
		if got := c.Do("DELETE", "/api/v1/me/tokens/"+theirs.Detail.ID, nil); got.Status != 404 {
			t.Errorf("revoking another user's token: %d, want 404", got.Status)
		}
	case "POST /hotline/{slug}/reports", "POST /hotline/{slug}/access", "POST /hotline/{slug}/messages":
		// The public hotline needs no session; it is one organisation's
		// page, so a key filed at A's hotline is unknown at B's. Run once:
		// the hotline throttles reports per source.
		if role != auth.Owner {
			return
		}
		var rc struct {
			Key      string `json:"case_key"`
			Password string `json:"password"`
		}
		res = e.Anon().Do("POST", "/api/v1/hotline/"+e.A.Org.Slug+"/reports", map[string]any{"category": "fraud", "text": "Matrix report of split invoices"})
		if err := res.JSON(&rc); err != nil || rc.Key == "" {
			t.Fatalf("%s: %d %s", name, res.Status, res.Body)
		}
		switch r.pattern {
		case "/hotline/{slug}/access":
			res = e.Anon().Do("POST", "/api/v1/hotline/"+e.A.Org.Slug+"/access", map[string]any{"case_key": rc.Key, "password": rc.Password})
		case "/hotline/{slug}/messages":
			res = e.Anon().Do("POST", "/api/v1/hotline/"+e.A.Org.Slug+"/messages", map[string]any{"case_key": rc.Key, "password": rc.Password, "text": "More detail"})
		}
		if other := e.Anon().Do("POST", "/api/v1/hotline/"+e.B.Org.Slug+"/access", map[string]any{"case_key": rc.Key, "password": rc.Password}); other.Status != 401 {
			t.Errorf("%s: A's case key at B's hotline: %d, want 401", name, other.Status)
		}
	default:
		t.Fatalf("no self check for %s", name)
	}
	if res.Status < 200 || res.Status > 299 {
		t.Errorf("%s: %d: %s", name, res.Status, res.Body)
	}
	if l := leaks(res.Body, e.B); l != "" {
		t.Errorf("%s leaked %s of client B", name, l)
	}
}

// TestOperatorSeesClients: operator staff work across client organisations;
// client users never see the operator's other clients.
func TestOperatorSeesClients(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	d := e.Login(e.Operator.Users[auth.Dispatcher].Email)
	res := d.Do("GET", "/api/v1/sites", nil)
	if !bytes.Contains(res.Body, []byte(e.A.Site.ID)) || !bytes.Contains(res.Body, []byte(e.B.Site.ID)) {
		t.Fatalf("operator dispatcher should list both clients' sites: %s", res.Body)
	}
	if res := d.Do("PATCH", "/api/v1/sites/"+e.B.Site.ID, map[string]any{"notes": "x"}); res.Status != 403 {
		t.Fatalf("operator dispatcher editing a client site: %d, want 403", res.Status)
	}
	m := e.Login(e.Operator.Users[auth.Manager].Email)
	if res := m.Do("PATCH", "/api/v1/sites/"+e.B.Site.ID, map[string]any{"notes": "x"}); res.Status != 200 {
		t.Fatalf("operator manager editing a client site: %d %s", res.Status, res.Body)
	}
	c := e.Login(e.A.Users[auth.Client].Email)
	if res := c.Do("GET", "/api/v1/orgs/"+e.Operator.Org.ID, nil); res.Status != 404 {
		t.Fatalf("client reading the operator org: %d, want 404", res.Status)
	}
}

// ---- incident fixtures ----

func incService(e *apptest.Env) *incident.Service {
	return &incident.Service{DB: e.App.DB, Now: e.App.Now, Orgs: e.App.Orgs, Blob: e.App.Blob}
}

// incFixture writes a report in tenant tn directly in the given status.
func incFixture(t *testing.T, e *apptest.Env, tn *apptest.Tenant, st incident.Status) *incident.Incident {
	now := time.Now().UTC()
	i := &incident.Incident{OrgID: tn.Org.ID, SiteID: tn.Site.ID, Type: "theft", Severity: "moderate", Status: st, Title: "Matrix fixture",
		Narrative: "A laptop was taken from the reception desk.", OccurredAt: now.Add(-2 * time.Hour), ReportedAt: now.Add(-time.Hour)}
	i.ClientEmails = []string{"client@example.test"}
	if st == incident.Approved {
		i.ApprovedAt, i.ApprovedBy = &now, "fixture"
	}
	return fresh(t, e, func(ctx context.Context, tx *store.Tx) (*incident.Incident, error) {
		return i, incService(e).CreateTx(ctx, tx, i, nil)
	})
}

func incReq(t *testing.T, st incident.Status, suffix string) func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
		return "/incidents/" + incFixture(curT, e, tn, st).ID + suffix, nil
	}
}

func incBody(t *testing.T, st incident.Status, suffix string, body map[string]any) func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, tn *apptest.Tenant) (string, any) {
		return "/incidents/" + incFixture(curT, e, tn, st).ID + suffix, body
	}
}

// testPNG is a valid 2×2 PNG.
func testPNG() []byte {
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	png.Encode(&b, img)
	return b.Bytes()
}

func incFixtureWithPhoto(t *testing.T, e *apptest.Env, tn *apptest.Tenant) (*incident.Incident, *incident.Attachment) {
	i := incFixture(t, e, tn, incident.Approved)
	a, err := incService(e).Attach(context.Background(), i, incident.Upload{Filename: "door.png", Body: bytes.NewReader(testPNG()), PhotoOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return i, a
}

// darFixture makes a fresh site with one DAR entry today, approved if asked.
func darFixture(t *testing.T, e *apptest.Env, tn *apptest.Tenant, approved bool) (string, string) {
	ctx := context.Background()
	site := fresh(t, e, func(ctx context.Context, tx *store.Tx) (*org.Site, error) {
		x := &org.Site{OrgID: tn.Org.ID, Name: "DAR site", Timezone: "UTC"}
		return x, e.App.Orgs.CreateSiteTx(ctx, tx, x, nil)
	})
	s := incService(e)
	en := &incident.DAREntry{Kind: "patrol", Text: "Patrol complete", At: time.Now().Add(-time.Minute)}
	if err := s.AddDAREntry(ctx, site, en, nil, nil); err != nil {
		t.Fatal(err)
	}
	if approved {
		d, err := s.DAR(ctx, site, en.Day, incident.Scope{Full: []string{tn.Org.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetDARStatus(ctx, d, "approved", nil); err != nil {
			t.Fatal(err)
		}
	}
	return site.ID, en.Day
}

func darPhotoFixture(t *testing.T, e *apptest.Env, tn *apptest.Tenant) string {
	ctx := context.Background()
	s := incService(e)
	photo, err := s.Prepare(ctx, tn.Org.ID, incident.Upload{Filename: "gate.png", Body: bytes.NewReader(testPNG()), PhotoOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	en := &incident.DAREntry{Kind: "photo", Text: "Gate", At: time.Now().Add(-time.Minute)}
	site, err := e.App.Orgs.Site(ctx, []string{tn.Org.ID}, tn.Site.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A site of its own, so approving does not close today's DAR of the
	// tenant's main site for the other rows.
	site = fresh(t, e, func(ctx context.Context, tx *store.Tx) (*org.Site, error) {
		x := &org.Site{OrgID: tn.Org.ID, Name: "Photo site", Timezone: "UTC"}
		return x, e.App.Orgs.CreateSiteTx(ctx, tx, x, nil)
	})
	if err := s.AddDAREntry(ctx, site, en, photo, nil); err != nil {
		t.Fatal(err)
	}
	d, err := s.DAR(ctx, site, en.Day, incident.Scope{Full: []string{tn.Org.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDARStatus(ctx, d, "approved", nil); err != nil {
		t.Fatal(err)
	}
	return photo.ID
}

// ---- investigation fixtures ----

func invSvc(e *apptest.Env) *investigation.Service {
	return investigation.NewService(e.App.DB, e.App.Blob, e.App.Auth, e.App.Orgs, e.App.Now)
}

// invActor is tenant t's investigator, for fixtures that need an author.
func invActor(t *apptest.Tenant) *auth.Principal {
	u := t.Users[auth.Investigator]
	return &auth.Principal{UserID: u.ID, Email: u.Email, Name: u.Name, OrgID: t.Org.ID, Access: map[string]auth.Role{t.Org.ID: auth.Investigator}}
}

// invCase opens a case in t led by its investigator, with its admin and
// manager on the team.
func invCase(tt *testing.T, e *apptest.Env, t *apptest.Tenant, typ string) *investigation.Case {
	ctx := context.Background()
	s := invSvc(e)
	c, err := s.CreateCase(ctx, nil, investigation.CaseInput{OrgID: t.Org.ID, Type: typ, Title: "Matrix case", LeadID: t.Users[auth.Investigator].ID})
	if err != nil {
		tt.Fatal(err)
	}
	invTeam(tt, e, t, c)
	return c
}

func invTeam(tt *testing.T, e *apptest.Env, t *apptest.Tenant, c *investigation.Case) {
	for _, r := range []auth.Role{auth.Admin, auth.Manager} {
		if err := invSvc(e).AddMember(context.Background(), nil, c, t.Users[r].ID, "investigator"); err != nil {
			tt.Fatal(err)
		}
	}
}

// invHotlineCase files an anonymous report at t's hotline and staffs it.
func invHotlineCase(tt *testing.T, e *apptest.Env, t *apptest.Tenant) *investigation.Case {
	s := invSvc(e)
	st := investigation.DefaultSettings(t.Org.ID)
	seq++
	_, c, err := s.Report(context.Background(), t.Org.ID, st, investigation.HotlineInput{Category: "fraud", Text: "Matrix hotline report"}, fmt.Sprintf("matrix-%d", seq))
	if err != nil {
		tt.Fatal(err)
	}
	if err := s.AddMember(context.Background(), nil, c, t.Users[auth.Investigator].ID, "investigator"); err != nil {
		tt.Fatal(err)
	}
	invTeam(tt, e, t, c)
	return c
}

func invReq(tt *testing.T, typ, suffix string) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return invBody(tt, typ, suffix, nil)
}

func invBody(tt *testing.T, typ, suffix string, body any) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, t *apptest.Tenant) (string, any) {
		return "/cases/" + invCase(tt, e, t, typ).ID + suffix, body
	}
}

// invEvidence registers a digital item on a fresh case, held by t's investigator.
func invEvidence(tt *testing.T, suffix string, body any) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, t *apptest.Tenant) (string, any) {
		ctx := context.Background()
		s := invSvc(e)
		c := invCase(tt, e, t, "theft")
		seq++
		sum, size, err := s.PutFile(ctx, bytes.NewReader([]byte(fmt.Sprintf("matrix evidence %d", seq))))
		if err != nil {
			tt.Fatal(err)
		}
		ev, err := s.AddEvidence(ctx, invActor(t), c, investigation.EvidenceInput{Kind: "digital", Label: "export.csv", Filename: "export.csv", SHA256: sum, Size: size})
		if err != nil {
			tt.Fatal(err)
		}
		return "/cases/" + c.ID + "/evidence/" + ev.ID + suffix, body
	}
}

func riskSvc(e *apptest.Env) *risk.Service { return &risk.Service{DB: e.App.DB, Now: time.Now} }

func riskFixture(tt *testing.T, e *apptest.Env, t *apptest.Tenant) *risk.Risk {
	r := &risk.Risk{OrgID: t.Org.ID, SiteID: t.Site.ID, Title: "Fixture risk", Asset: "Cash office", Threat: "Robbery", Likelihood: 1, Consequence: 3,
		Treatments: []risk.Treatment{{Kind: risk.TreatDevice, DeviceID: t.Device.ID}}}
	if err := riskSvc(e).CreateRisk(context.Background(), r, nil); err != nil {
		tt.Fatal(err)
	}
	return r
}

func riskReq(tt *testing.T, suffix string) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return riskBody(tt, suffix, nil)
}

func riskBody(tt *testing.T, suffix string, body any) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, t *apptest.Tenant) (string, any) {
		return "/risks/" + riskFixture(tt, e, t).ID + suffix, body
	}
}

func riskAnalysisFixture(tt *testing.T, e *apptest.Env, t *apptest.Tenant) *risk.Analysis {
	r := riskFixture(tt, e, t)
	c, m := 2.0, 1000.0
	a := &risk.Analysis{Name: "Fixture", Iterations: 1000, Seed: 1, Model: &fair.Model{Frequency: &dist.Spec{Dist: "constant", Value: &c}, Magnitude: &dist.Spec{Dist: "constant", Value: &m}}}
	if err := riskSvc(e).CreateAnalysis(context.Background(), r, a, nil); err != nil {
		tt.Fatal(err)
	}
	return a
}

func riskDiagram() map[string]any {
	return map[string]any{"nodes": []string{"off", "vault"}, "start": "off", "target": "vault", "p_communication": 0.95,
		"response_force_time": map[string]any{"mean": 300, "sd": 90},
		"edges":               []map[string]any{{"id": "e1", "from": "off", "to": "vault", "p_detection": 0.5, "location": "M", "delay": map[string]any{"mean": 60, "sd": 18}}}}
}

func riskPathReq(tt *testing.T, suffix string, body any) func(e *apptest.Env, t *apptest.Tenant) (string, any) {
	return func(e *apptest.Env, t *apptest.Tenant) (string, any) {
		var d pps.Diagram
		raw, _ := json.Marshal(riskDiagram())
		if err := json.Unmarshal(raw, &d); err != nil {
			tt.Fatal(err)
		}
		m := &risk.PathModel{OrgID: t.Org.ID, SiteID: t.Site.ID, Name: "Fixture path", Diagram: d, Links: []risk.EdgeLink{{EdgeID: "e1", DeviceID: t.Device.ID}}}
		if err := riskSvc(e).SavePathModel(context.Background(), m, nil); err != nil {
			tt.Fatal(err)
		}
		return "/risk-paths/" + m.ID + suffix, body
	}
}
