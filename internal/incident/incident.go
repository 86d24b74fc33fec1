// Package incident holds incident reports and everything made from them:
// the review workflow with append-only revisions, law-enforcement and
// insurer liaison, photos and attachments, client notification, daily
// activity reports (DAR), ICS 201/214 forms, PDF reports, full-text search,
// saved filters, CSV export and statistics.
//
// This file is the pure part: types, the default taxonomy, validation and
// the workflow rules. It takes `now` as an argument and does no I/O.
package incident

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
)

// FieldError names the offending input field (the web layer turns it into a 400).
type FieldError = auth.FieldError

func invalid(field, msg string) error { return &FieldError{Field: field, Message: msg} }

// Status is a step of the review workflow.
type Status string

const (
	Draft     Status = "draft"
	Submitted Status = "submitted"
	InReview  Status = "in_review"
	Approved  Status = "approved"
	Closed    Status = "closed"
)

// Statuses in workflow order.
var Statuses = []Status{Draft, Submitted, InReview, Approved, Closed}

// Label is the status as people read it.
func (s Status) Label() string {
	switch s {
	case InReview:
		return "In review"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Final reports whether the report has been approved: changes after this
// point are amendments that must give a reason.
func (s Status) Final() bool { return s == Approved || s == Closed }

// Transition is a workflow action.
type Transition string

const (
	Submit  Transition = "submit"  // draft → submitted (the author)
	Review  Transition = "review"  // submitted → in review (a supervisor takes it)
	Return  Transition = "return"  // submitted/in review → draft, with a comment
	Approve Transition = "approve" // submitted/in review → approved
	Close   Transition = "close"   // approved → closed
)

// transitions is the whole workflow in one table.
var transitions = map[Transition]struct {
	from []Status
	to   Status
}{
	Submit:  {[]Status{Draft}, Submitted},
	Review:  {[]Status{Submitted}, InReview},
	Return:  {[]Status{Submitted, InReview}, Draft},
	Approve: {[]Status{Submitted, InReview}, Approved},
	Close:   {[]Status{Approved}, Closed},
}

// ErrTransition is returned for a workflow step not allowed from the current status.
type ErrTransition struct {
	From Status
	T    Transition
}

func (e *ErrTransition) Error() string {
	return fmt.Sprintf("cannot %s a report that is %s", e.T, e.From.Label())
}

// Next returns the status after t, or an *ErrTransition.
func Next(from Status, t Transition, comment string) (Status, error) {
	tr, ok := transitions[t]
	if !ok {
		return "", invalid("action", "is not a workflow step")
	}
	if !slices.Contains(tr.from, from) {
		return "", &ErrTransition{from, t}
	}
	if t == Return && strings.TrimSpace(comment) == "" {
		return "", invalid("comment", "is required when returning a report for correction")
	}
	return tr.to, nil
}

// Severity grades an incident.
type Severity string

// Severities from least to most serious.
var Severities = []Choice{{"low", "Low"}, {"moderate", "Moderate"}, {"high", "High"}, {"critical", "Critical"}}

// Choice is a value with its label.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

func labelOf(cs []Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

func has(cs []Choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}

// SeverityLabel is the label of a severity value.
func SeverityLabel(v string) string { return labelOf(Severities, v) }

// PersonRoles are the roles a person can have in an incident.
var PersonRoles = []Choice{{"victim", "Victim"}, {"witness", "Witness"}, {"suspect", "Suspect"}, {"reporter", "Reporter"}, {"officer", "Officer"}, {"other", "Other"}}

// Person is someone involved.
type Person struct {
	Role        string `json:"role"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"` // appearance, clothing, behaviour
	Contact     string `json:"contact,omitempty"`
	Employee    bool   `json:"employee,omitempty"`
}

// Vehicle is a vehicle involved.
type Vehicle struct {
	Plate       string `json:"plate,omitempty"`
	Make        string `json:"make,omitempty"`
	Model       string `json:"model,omitempty"`
	Colour      string `json:"colour,omitempty"`
	Description string `json:"description,omitempty"`
}

// Property is an item stolen, damaged, lost or found, valued in minor units.
type Property struct {
	Description string `json:"description"`
	Status      string `json:"status"` // stolen, damaged, lost, found, recovered
	Value       int64  `json:"value"`  // minor units of Currency
	Currency    string `json:"currency"`
	Serial      string `json:"serial,omitempty"`
}

// PropertyStatuses are the states an item can be in.
var PropertyStatuses = []Choice{{"stolen", "Stolen"}, {"damaged", "Damaged"}, {"lost", "Lost"}, {"found", "Found"}, {"recovered", "Recovered"}}

// Injury is a person hurt.
type Injury struct {
	Person    string `json:"person"`
	Nature    string `json:"nature"`
	Treatment string `json:"treatment,omitempty"` // first aid, ambulance, hospital
}

// Police is law-enforcement liaison.
type Police struct {
	Agency       string     `json:"agency,omitempty"`
	OfficerName  string     `json:"officer_name,omitempty"`
	Badge        string     `json:"badge,omitempty"`
	CaseNumber   string     `json:"case_number,omitempty"`
	ReportNumber string     `json:"report_number,omitempty"`
	ContactedAt  *time.Time `json:"contacted_at,omitempty"`
	ArrivedAt    *time.Time `json:"arrived_at,omitempty"`
}

// Insurer is the insurance claim.
type Insurer struct {
	Company     string `json:"company,omitempty"`
	ClaimNumber string `json:"claim_number,omitempty"`
}

// Resource is a person assigned to an incident managed under the Incident
// Command System (ICS 201 section 6, ICS 214 section 6).
type Resource struct {
	Name       string    `json:"name"`
	Position   string    `json:"position"` // ICS position, e.g. Incident Commander
	Agency     string    `json:"agency,omitempty"`
	AssignedAt time.Time `json:"assigned_at"`
}

// Details are the parts of a report that are never filtered on; stored as JSON.
type Details struct {
	Location     string            `json:"location,omitempty"` // free text: "loading dock B, north door"
	People       []Person          `json:"people"`
	Vehicles     []Vehicle         `json:"vehicles"`
	Property     []Property        `json:"property"`
	Injuries     []Injury          `json:"injuries"`
	Damage       string            `json:"damage,omitempty"`
	Actions      string            `json:"actions_taken,omitempty"`
	AlarmIDs     []string          `json:"alarm_ids"`
	Custom       map[string]string `json:"custom"`
	Police       Police            `json:"police"`
	Insurer      Insurer           `json:"insurer"`
	ClientEmails []string          `json:"client_emails"`
	Resources    []Resource        `json:"resources"`
	Objectives   string            `json:"ics_objectives,omitempty"` // ICS 201 current objectives
}

// Incident is an incident report. Times are UTC; pages and PDFs render them
// in Timezone, the site's time zone.
type Incident struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"org_id"`
	SiteID        string     `json:"site_id"`
	ZoneID        string     `json:"zone_id,omitempty"`
	Number        int64      `json:"number"`
	Type          string     `json:"type"`
	Severity      string     `json:"severity"`
	Status        Status     `json:"status"`
	Title         string     `json:"title"`
	Narrative     string     `json:"narrative"`
	OccurredAt    time.Time  `json:"occurred_at"`
	ReportedAt    time.Time  `json:"reported_at"`
	DiscoveredAt  *time.Time `json:"discovered_at"`
	Latitude      *float64   `json:"latitude"`
	Longitude     *float64   `json:"longitude"`
	OfficerID     string     `json:"officer_id"`
	OfficerName   string     `json:"officer_name"`
	ICS           bool       `json:"ics"`
	Revision      int        `json:"revision"`
	ReviewComment string     `json:"review_comment"`
	SubmittedAt   *time.Time `json:"submitted_at"`
	ApprovedAt    *time.Time `json:"approved_at"`
	ApprovedBy    string     `json:"approved_by"`
	ClosedAt      *time.Time `json:"closed_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Details
	// Timezone is the site's IANA zone (read-only; from the site).
	Timezone string `json:"timezone"`
	seq      int64  // storage order, for merging per-organisation lists
}

// Ref is the report number as printed: INC-000042.
func (i *Incident) Ref() string { return fmt.Sprintf("INC-%06d", i.Number) }

// FieldDef is a custom field of an incident type.
type FieldDef struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Kind     string   `json:"kind"` // text, number, yesno, choice
	Required bool     `json:"required,omitempty"`
	Choices  []string `json:"choices,omitempty"`
}

// Type is an incident type of an organisation.
type Type struct {
	Code   string     `json:"code"`
	Label  string     `json:"label"`
	Fields []FieldDef `json:"fields"`
	Active bool       `json:"active"`
}

// DefaultTypes is the taxonomy every organisation starts with.
var DefaultTypes = func() []Type {
	list := []struct{ code, label string }{
		{"theft", "Theft"}, {"burglary", "Burglary"}, {"trespass", "Trespass"}, {"vandalism", "Vandalism"},
		{"assault", "Assault"}, {"workplace_violence", "Workplace violence"}, {"threat", "Threat"},
		{"suspicious_person", "Suspicious person"}, {"suspicious_vehicle", "Suspicious vehicle"},
		{"suspicious_package", "Suspicious package"}, {"fire", "Fire"}, {"medical", "Medical"},
		{"hazard", "Hazard"}, {"alarm_response", "Alarm response"}, {"access_violation", "Access violation"},
		{"policy_violation", "Policy violation"}, {"lost_property", "Lost property"}, {"found_property", "Found property"},
		{"vehicle_accident", "Vehicle accident"}, {"bomb_threat", "Bomb threat"}, {"other", "Other"},
	}
	extra := map[string][]FieldDef{
		"fire":             {{Name: "fire_service_attended", Label: "Fire service attended", Kind: "yesno"}, {Name: "evacuated", Label: "Building evacuated", Kind: "yesno"}},
		"medical":          {{Name: "ambulance_called", Label: "Ambulance called", Kind: "yesno"}, {Name: "aed_used", Label: "AED used", Kind: "yesno"}},
		"alarm_response":   {{Name: "alarm_cause", Label: "Alarm cause", Kind: "choice", Required: true, Choices: []string{"Intrusion", "False — user error", "False — equipment", "Environmental", "Unknown"}}},
		"bomb_threat":      {{Name: "threat_received_by", Label: "Threat received by", Kind: "choice", Required: true, Choices: []string{"Phone", "Email", "Letter", "In person", "Social media"}}, {Name: "exact_words", Label: "Exact words of the threat", Kind: "text", Required: true}},
		"vehicle_accident": {{Name: "vehicles_involved", Label: "Vehicles involved", Kind: "number"}},
	}
	out := make([]Type, len(list))
	for i, t := range list {
		out[i] = Type{Code: t.code, Label: t.label, Fields: extra[t.code], Active: true}
	}
	return out
}()

// FindType returns the type with code among types.
func FindType(types []Type, code string) (*Type, bool) {
	for i := range types {
		if types[i].Code == code {
			return &types[i], true
		}
	}
	return nil, false
}

// Validate checks a type definition (custom types an organisation adds).
func (t *Type) Validate() error {
	t.Code = strings.ToLower(strings.TrimSpace(t.Code))
	if t.Code == "" || len(t.Code) > 40 || strings.Trim(t.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return invalid("code", "must be 1–40 lower-case letters, digits or underscores")
	}
	var err error
	if t.Label, err = text("label", t.Label, true, 100); err != nil {
		return err
	}
	if len(t.Fields) > 30 {
		return invalid("fields", "at most 30 custom fields")
	}
	seen := map[string]bool{}
	for i := range t.Fields {
		f := &t.Fields[i]
		f.Name = strings.ToLower(strings.TrimSpace(f.Name))
		if f.Name == "" || len(f.Name) > 40 || strings.Trim(f.Name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" || seen[f.Name] {
			return invalid("fields", fmt.Sprintf("field %d needs a unique name of lower-case letters, digits or underscores", i+1))
		}
		seen[f.Name] = true
		if f.Label, err = text("fields", f.Label, true, 100); err != nil {
			return err
		}
		switch f.Kind {
		case "text", "number", "yesno":
		case "choice":
			if len(f.Choices) == 0 || len(f.Choices) > 50 {
				return invalid("fields", "a choice field needs 1–50 choices")
			}
		default:
			return invalid("fields", "kind must be text, number, yesno or choice")
		}
	}
	return nil
}

func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", invalid(field, "contains invalid characters")
	}
	if required && v == "" {
		return "", invalid(field, "is required")
	}
	if utf8.RuneCountInString(v) > max {
		return "", invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return v, nil
}

// FutureTolerance is how far ahead of the server clock a time may be
// (phones and panels drift); anything later is refused as a typo.
const FutureTolerance = 10 * time.Minute

// Limits on the size of a report.
const (
	MaxNarrative = 100_000
	maxList      = 200
)

// Validate normalises and checks a report before it is saved. types are
// the organisation's incident types; now is the server clock. Drafts may be
// incomplete; ValidateSubmit adds what a submitted report needs.
func (i *Incident) Validate(types []Type, now time.Time) error {
	var err error
	t, ok := FindType(types, i.Type)
	if !ok || !t.Active {
		return invalid("type", "is not a known incident type")
	}
	if i.Severity == "" {
		i.Severity = "low"
	}
	if !has(Severities, i.Severity) {
		return invalid("severity", "must be low, moderate, high or critical")
	}
	if i.Title, err = text("title", i.Title, true, 200); err != nil {
		return err
	}
	if i.Narrative, err = text("narrative", i.Narrative, false, MaxNarrative); err != nil {
		return err
	}
	if i.OccurredAt.IsZero() {
		return invalid("occurred_at", "is required")
	}
	limit := now.Add(FutureTolerance)
	for _, tm := range []struct {
		f string
		t *time.Time
	}{{"occurred_at", &i.OccurredAt}, {"reported_at", &i.ReportedAt}, {"discovered_at", i.DiscoveredAt},
		{"police.contacted_at", i.Police.ContactedAt}, {"police.arrived_at", i.Police.ArrivedAt}} {
		if tm.t == nil || tm.t.IsZero() {
			continue
		}
		if tm.t.After(limit) {
			return invalid(tm.f, "is in the future")
		}
		if tm.t.Year() < 1990 {
			return invalid(tm.f, "is implausibly far in the past")
		}
		*tm.t = tm.t.UTC().Truncate(time.Second)
	}
	if i.ReportedAt.IsZero() {
		i.ReportedAt = now.UTC().Truncate(time.Second)
	}
	if i.ReportedAt.Before(i.OccurredAt) {
		return invalid("reported_at", "cannot be before the incident occurred")
	}
	if i.DiscoveredAt != nil && i.DiscoveredAt.Before(i.OccurredAt) {
		return invalid("discovered_at", "cannot be before the incident occurred")
	}
	if (i.Latitude == nil) != (i.Longitude == nil) {
		return invalid("latitude", "latitude and longitude go together")
	}
	if i.Latitude != nil && (math.IsNaN(*i.Latitude) || *i.Latitude < -90 || *i.Latitude > 90) {
		return invalid("latitude", "must be between -90 and 90")
	}
	if i.Longitude != nil && (math.IsNaN(*i.Longitude) || *i.Longitude < -180 || *i.Longitude > 180) {
		return invalid("longitude", "must be between -180 and 180")
	}
	return i.Details.validate(t)
}

func (d *Details) validate(t *Type) error {
	var err error
	if d.Location, err = text("location", d.Location, false, 500); err != nil {
		return err
	}
	if d.Damage, err = text("damage", d.Damage, false, 20_000); err != nil {
		return err
	}
	if d.Actions, err = text("actions_taken", d.Actions, false, 20_000); err != nil {
		return err
	}
	if d.Objectives, err = text("ics_objectives", d.Objectives, false, 20_000); err != nil {
		return err
	}
	if len(d.People) > maxList || len(d.Vehicles) > maxList || len(d.Property) > maxList || len(d.Injuries) > maxList || len(d.AlarmIDs) > maxList || len(d.Resources) > maxList {
		return invalid("people", fmt.Sprintf("lists hold at most %d entries", maxList))
	}
	for n := range d.People {
		p := &d.People[n]
		if !has(PersonRoles, p.Role) {
			return invalid("people", fmt.Sprintf("person %d: role must be victim, witness, suspect, reporter, officer or other", n+1))
		}
		if p.Name, err = text("people", p.Name, false, 200); err != nil {
			return err
		}
		if p.Description, err = text("people", p.Description, false, 5000); err != nil {
			return err
		}
		if p.Contact, err = text("people", p.Contact, false, 200); err != nil {
			return err
		}
		if p.Name == "" && p.Description == "" {
			return invalid("people", fmt.Sprintf("person %d needs a name or a description", n+1))
		}
	}
	for n := range d.Vehicles {
		v := &d.Vehicles[n]
		for _, f := range []*string{&v.Plate, &v.Make, &v.Model, &v.Colour} {
			if *f, err = text("vehicles", *f, false, 100); err != nil {
				return err
			}
		}
		if v.Description, err = text("vehicles", v.Description, false, 2000); err != nil {
			return err
		}
	}
	for n := range d.Property {
		p := &d.Property[n]
		if p.Description, err = text("property", p.Description, true, 1000); err != nil {
			return err
		}
		if !has(PropertyStatuses, p.Status) {
			return invalid("property", fmt.Sprintf("item %d: status must be stolen, damaged, lost, found or recovered", n+1))
		}
		if p.Value < 0 || p.Value > 1e13 {
			return invalid("property", fmt.Sprintf("item %d: value is out of range", n+1))
		}
		p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
		if p.Currency == "" {
			p.Currency = "USD"
		}
		if len(p.Currency) != 3 || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return invalid("property", fmt.Sprintf("item %d: currency must be a three-letter ISO 4217 code", n+1))
		}
		if p.Serial, err = text("property", p.Serial, false, 100); err != nil {
			return err
		}
	}
	for n := range d.Injuries {
		j := &d.Injuries[n]
		if j.Person, err = text("injuries", j.Person, true, 200); err != nil {
			return err
		}
		if j.Nature, err = text("injuries", j.Nature, true, 1000); err != nil {
			return err
		}
		if j.Treatment, err = text("injuries", j.Treatment, false, 1000); err != nil {
			return err
		}
	}
	for _, f := range []*string{&d.Police.Agency, &d.Police.OfficerName, &d.Police.Badge, &d.Police.CaseNumber, &d.Police.ReportNumber, &d.Insurer.Company, &d.Insurer.ClaimNumber} {
		if *f, err = text("police", *f, false, 200); err != nil {
			return err
		}
	}
	if d.Police.ArrivedAt != nil && d.Police.ContactedAt != nil && d.Police.ArrivedAt.Before(*d.Police.ContactedAt) {
		return invalid("police.arrived_at", "cannot be before police were contacted")
	}
	for n, e := range d.ClientEmails {
		e, err := auth.NormalizeEmail(e)
		if err != nil {
			return invalid("client_emails", err.Error())
		}
		d.ClientEmails[n] = e
	}
	if len(d.ClientEmails) > 20 {
		return invalid("client_emails", "at most 20 addresses")
	}
	for n := range d.Resources {
		r := &d.Resources[n]
		if r.Name, err = text("resources", r.Name, true, 200); err != nil {
			return err
		}
		if r.Position, err = text("resources", r.Position, true, 100); err != nil {
			return err
		}
		if r.Agency, err = text("resources", r.Agency, false, 200); err != nil {
			return err
		}
		if !r.AssignedAt.IsZero() && (r.AssignedAt.Year() < 1990 || r.AssignedAt.Year() > 9999) {
			return invalid("resources", fmt.Sprintf("resource %d: assigned_at is out of range", n+1))
		}
		r.AssignedAt = r.AssignedAt.UTC()
	}
	// Custom fields: only those the type defines, each of the right kind.
	if d.Custom == nil {
		d.Custom = map[string]string{}
	}
	for k, v := range d.Custom {
		var def *FieldDef
		for n := range t.Fields {
			if t.Fields[n].Name == k {
				def = &t.Fields[n]
			}
		}
		if def == nil {
			return invalid("custom."+k, "is not a field of this incident type")
		}
		v = strings.TrimSpace(v)
		if v == "" {
			delete(d.Custom, k)
			continue
		}
		switch def.Kind {
		case "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return invalid("custom."+k, "must be a number")
			}
		case "yesno":
			if v != "yes" && v != "no" {
				return invalid("custom."+k, "must be yes or no")
			}
		case "choice":
			if !slices.Contains(def.Choices, v) {
				return invalid("custom."+k, "is not one of the choices")
			}
		}
		if utf8.RuneCountInString(v) > 5000 {
			return invalid("custom."+k, "is too long")
		}
		d.Custom[k] = v
	}
	for _, id := range d.AlarmIDs {
		if len(id) == 0 || len(id) > 64 {
			return invalid("alarm_ids", "holds an invalid alarm ID")
		}
	}
	return nil
}

// ValidateSubmit checks what a report needs before it goes to review.
func (i *Incident) ValidateSubmit(types []Type) error {
	t, ok := FindType(types, i.Type)
	if !ok {
		return invalid("type", "is not a known incident type")
	}
	if utf8.RuneCountInString(strings.TrimSpace(i.Narrative)) < 20 {
		return invalid("narrative", "must describe what happened (at least 20 characters) before the report is submitted")
	}
	for _, f := range t.Fields {
		if f.Required && strings.TrimSpace(i.Custom[f.Name]) == "" {
			return invalid("custom."+f.Name, f.Label+" is required for "+t.Label+" reports")
		}
	}
	return nil
}

// SearchText is what the full-text index holds besides title and
// narrative: people, vehicles, property, location, liaison and log entries.
func (i *Incident) SearchText(log []string) string {
	var b strings.Builder
	w := func(s string) {
		if s != "" {
			b.WriteString(s)
			b.WriteByte(' ')
		}
	}
	w(i.Location)
	for _, p := range i.People {
		w(p.Name)
		w(p.Description)
	}
	for _, v := range i.Vehicles {
		w(v.Plate)
		w(v.Make)
		w(v.Model)
		w(v.Colour)
		w(v.Description)
	}
	for _, p := range i.Property {
		w(p.Description)
		w(p.Serial)
	}
	w(i.Damage)
	w(i.Actions)
	w(i.Police.Agency)
	w(i.Police.OfficerName)
	w(i.Police.CaseNumber)
	w(i.Police.ReportNumber)
	w(i.Insurer.ClaimNumber)
	w(i.OfficerName)
	for _, l := range log {
		w(l)
	}
	return strings.TrimSpace(b.String())
}

// PropertyTotal sums property values per currency.
func (d *Details) PropertyTotal() map[string]int64 {
	out := map[string]int64{}
	for _, p := range d.Property {
		out[p.Currency] += p.Value
	}
	return out
}

// FormatMoney renders minor units as "1,234.56 USD".
func FormatMoney(v int64, cur string) string {
	neg := v < 0
	if neg {
		v = -v
	}
	whole, frac := v/100, v%100
	s := strconv.FormatInt(whole, 10)
	for n := len(s) - 3; n > 0; n -= 3 {
		s = s[:n] + "," + s[n:]
	}
	if neg {
		s = "-" + s
	}
	return fmt.Sprintf("%s.%02d %s", s, frac, cur)
}

// ParseMoney reads "1234.56" or "1,234" into minor units.
func ParseMoney(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("at most two decimals")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1e11 {
		return 0, fmt.Errorf("not an amount")
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an amount")
	}
	return w*100 + f, nil
}

// ClientEmailList is the notification addresses as one line (forms).
func (d Details) ClientEmailList() string { return strings.Join(d.ClientEmails, ", ") }

// AlarmIDList is the linked alarm IDs as one line (forms).
func (d Details) AlarmIDList() string { return strings.Join(d.AlarmIDs, " ") }
