package auth

import "slices"

// Role is a user's role within one organisation.
type Role string

const (
	Owner        Role = "owner"
	Admin        Role = "admin"
	Manager      Role = "manager"
	Supervisor   Role = "supervisor"
	Dispatcher   Role = "dispatcher"
	Officer      Role = "officer"
	Investigator Role = "investigator"
	Auditor      Role = "auditor"
	Client       Role = "client"
)

// Roles lists every role, most powerful first (the order used in forms).
var Roles = []Role{Owner, Admin, Manager, Supervisor, Dispatcher, Officer, Investigator, Auditor, Client}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Action is something a principal may do within an organisation.
type Action string

const (
	OrgRead    Action = "org.read"
	OrgCreate  Action = "org.create" // create client organisations under this one
	OrgUpdate  Action = "org.update"
	OrgDelete  Action = "org.delete"
	SiteRead   Action = "site.read" // sites, zones, devices, contacts
	SiteWrite  Action = "site.write"
	UserRead   Action = "user.read"
	UserManage Action = "user.manage" // invite, change roles, disable
	AuditRead  Action = "audit.read"

	// Investigations. CaseRead and CaseWrite are further limited per case by
	// need-to-know (team, grants, case-wide roles); CaseAdmin sets who has
	// case-wide access, the hotline's deadlines and reads any case's access
	// log. BoloRead shows officers the BOLO notices for their sites, never
	// the case behind them.
	CaseRead  Action = "case.read"
	CaseWrite Action = "case.write"
	CaseAdmin Action = "case.admin"
	BoloRead  Action = "bolo.read"

	// Alarm monitoring. AlarmHandle acknowledges and works alarms (SOP
	// steps, notes, dispatch, resolve); AlarmAdmin provisions panel
	// accounts, ingest sources and SOPs.
	AlarmRead   Action = "alarm.read"
	AlarmHandle Action = "alarm.handle"
	AlarmAdmin  Action = "alarm.admin"

	// Incidents and daily activity reports. IncidentRead alone is the client
	// portal: approved and closed reports only.
	IncidentRead    Action = "incident.read"
	IncidentReadAll Action = "incident.read_all" // every report, drafts included, and DARs
	IncidentWrite   Action = "incident.write"    // write reports and DAR entries, submit
	IncidentReview  Action = "incident.review"   // review, return, approve, amend, notify clients, approve DARs
	IncidentConfig  Action = "incident.config"   // incident types and custom fields

	// Risk register and analyses. The register says where the
	// organisation is weakest, so it is need-to-know: no officers, no
	// client portal. RiskConfig edits the organisation's risk matrix.
	RiskRead   Action = "risk.read"
	RiskWrite  Action = "risk.write" // risks, treatments, FAIR analyses, path models
	RiskConfig Action = "risk.config"
)

// grants is the whole permission model in one table.
var grants = map[Role][]Action{
	Owner:        {OrgRead, OrgCreate, OrgUpdate, OrgDelete, SiteRead, SiteWrite, UserRead, UserManage, AuditRead, CaseRead, CaseWrite, CaseAdmin, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, IncidentReview, IncidentConfig, AlarmRead, AlarmHandle, AlarmAdmin, RiskRead, RiskWrite, RiskConfig},
	Admin:        {OrgRead, OrgCreate, OrgUpdate, SiteRead, SiteWrite, UserRead, UserManage, AuditRead, CaseRead, CaseWrite, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, IncidentReview, IncidentConfig, AlarmRead, AlarmHandle, AlarmAdmin, RiskRead, RiskWrite, RiskConfig},
	Manager:      {OrgRead, SiteRead, SiteWrite, UserRead, CaseRead, CaseWrite, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, IncidentReview, IncidentConfig, AlarmRead, AlarmHandle, AlarmAdmin, RiskRead, RiskWrite},
	Supervisor:   {OrgRead, SiteRead, UserRead, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, IncidentReview, AlarmRead, AlarmHandle},
	Dispatcher:   {OrgRead, SiteRead, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, AlarmRead, AlarmHandle},
	Officer:      {OrgRead, SiteRead, BoloRead, IncidentRead, IncidentReadAll, IncidentWrite, AlarmRead},
	Investigator: {OrgRead, SiteRead, CaseRead, CaseWrite, BoloRead, IncidentRead, IncidentReadAll, AlarmRead},
	Auditor:      {OrgRead, SiteRead, UserRead, AuditRead, IncidentRead, IncidentReadAll, AlarmRead, RiskRead},
	Client:       {OrgRead, SiteRead, IncidentRead, AlarmRead},
}

// Allows reports whether role r grants action a.
func (r Role) Allows(a Action) bool { return slices.Contains(grants[r], a) }

// Can is the one permission check: may p do a in organisation org? A
// principal with no role in org can do nothing there (and handlers answer
// 404, since the org's objects are not theirs to know about).
func Can(p *Principal, a Action, org string) bool {
	if p == nil {
		return false
	}
	r, ok := p.Access[org]
	return ok && r.Allows(a)
}

// Sees reports whether p has any role in org.
func (p *Principal) Sees(org string) bool {
	if p == nil {
		return false
	}
	_, ok := p.Access[org]
	return ok
}

// OrgsWhere lists the organisations where p may do a, sorted.
func (p *Principal) OrgsWhere(a Action) []string {
	var out []string
	for org, r := range p.Access {
		if r.Allows(a) {
			out = append(out, org)
		}
	}
	slices.Sort(out)
	return out
}
