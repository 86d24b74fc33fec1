// Package investigation is vigil's case management for a security
// department's investigators: need-to-know cases (theft, fraud, misconduct,
// harassment, workplace violence and threat, …) with parties, allegations
// and outcomes, evidence under an append-only chain of custody, interviews,
// the anonymous whistleblower hotline with statutory deadlines, threat
// assessment with BOLO notices, and reports.
//
// Need-to-know sits on top of auth.Can: a role that may read cases sees a
// case only if the caller is on its team (lead, investigator or explicitly
// granted) or holds a role the organisation's owner gave case-wide access
// (the owner role always has it: someone must triage hotline reports and
// administer access). Every read of a case file is audit-logged.
package investigation

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
)

// Choice is a stored value with its label for forms.
type Choice struct{ Value, Label string }

func label(cs []Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

func valid(cs []Choice, v string) bool {
	return slices.ContainsFunc(cs, func(c Choice) bool { return c.Value == v })
}

// Types are the kinds of case.
var Types = []Choice{
	{"theft", "Theft"}, {"fraud", "Fraud"}, {"misconduct", "Misconduct"}, {"harassment", "Harassment"},
	{"threat", "Workplace violence / threat"}, {"policy", "Policy violation"}, {"loss", "Loss"},
	{"due_diligence", "Due diligence"}, {"other", "Other"},
}

// Statuses in lifecycle order.
var Statuses = []Choice{
	{"intake", "Intake"}, {"open", "Open"}, {"investigating", "Under investigation"},
	{"findings", "Findings"}, {"closed", "Closed"},
}

// transitions lists where each status may go. Reopening a closed case
// returns it to open.
var transitions = map[string][]string{
	"intake":        {"open", "closed"},
	"open":          {"investigating", "closed"},
	"investigating": {"findings", "open"},
	"findings":      {"closed", "investigating"},
	"closed":        {"open"},
}

// CanMove reports whether a case may go from one status to another.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// Next lists the statuses a case in status s may move to.
func Next(s string) []Choice {
	var out []Choice
	for _, v := range transitions[s] {
		l := label(Statuses, v)
		if s == "closed" {
			l = "Reopen"
		}
		out = append(out, Choice{v, l})
	}
	return out
}

// Outcomes of an allegation.
var Outcomes = []Choice{
	{"substantiated", "Substantiated"}, {"unsubstantiated", "Unsubstantiated"},
	{"unfounded", "Unfounded"}, {"inconclusive", "Inconclusive"},
}

// ActionKinds are recommended or taken actions.
var ActionKinds = []Choice{
	{"training", "Training"}, {"discipline", "Discipline"}, {"termination", "Termination"},
	{"prosecution_referral", "Prosecution referral"}, {"control_change", "Control change"}, {"other", "Other"},
}

// PartyKinds are the roles people play in a case.
var PartyKinds = []Choice{{"subject", "Subject"}, {"complainant", "Complainant"}, {"witness", "Witness"}}

// LinkKinds are what a case can link to.
var LinkKinds = []Choice{{"incident", "Incident"}, {"alarm", "Alarm"}, {"case", "Case"}}

// HotlineCategories are what a reporter can choose.
var HotlineCategories = []Choice{
	{"fraud", "Fraud or corruption"}, {"theft", "Theft"}, {"harassment", "Harassment or discrimination"},
	{"threat", "Threat or violence"}, {"safety", "Health and safety"}, {"misconduct", "Other misconduct"},
	{"policy", "Policy violation"}, {"other", "Something else"},
}

// hotlineType maps a reporter's category to the case type at intake.
func hotlineType(category string) string {
	switch category {
	case "fraud", "theft", "harassment", "threat", "misconduct", "policy":
		return category
	}
	return "other"
}

// Behaviours is the behaviours-of-concern checklist of a threat assessment,
// after the common structured professional judgement guides (WAVR-21,
// ASIS/SHRM workplace violence standard).
var Behaviours = []Choice{
	{"direct_threat", "Direct or conditional threat"}, {"weapons_interest", "Interest in or access to weapons"},
	{"fixation", "Fixation on a person or grievance"}, {"leakage", "Leakage of intent to others"},
	{"planning", "Research, planning or preparation"}, {"identification", "Identification with attackers"},
	{"escalation", "Escalating anger or intimidation"}, {"stalking", "Stalking or surveillance"},
	{"despair", "Desperation, loss or suicidality"}, {"substance", "Substance misuse"},
	{"violation", "Violation of a protective order or ban"}, {"prior_violence", "History of violence"},
}

// Levels of threat.
var Levels = []Choice{{"low", "Low"}, {"moderate", "Moderate"}, {"high", "High"}, {"imminent", "Imminent"}}

// Case is an investigation's header.
type Case struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"org_id"`
	Number        int        `json:"number"`
	Type          string     `json:"type"`
	Title         string     `json:"title"`
	Summary       string     `json:"summary"`
	Status        string     `json:"status"`
	Source        string     `json:"source"` // "staff" or "hotline"
	LeadID        string     `json:"lead_id"`
	DueAt         *time.Time `json:"due_at"`
	RootCause     string     `json:"root_cause"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	AckDueAt      *time.Time `json:"ack_due_at"`
	AckedAt       *time.Time `json:"acked_at"`
	FeedbackDueAt *time.Time `json:"feedback_due_at"`
	FeedbackAt    *time.Time `json:"feedback_at"`
	// Derived when loaded, from the clock.
	Overdue         bool  `json:"overdue"`
	AckOverdue      bool  `json:"ack_overdue"`
	FeedbackOverdue bool  `json:"feedback_overdue"`
	TimeSpent       int64 `json:"time_spent_seconds"`
}

// Hours is the time spent, for pages.
func (c *Case) Hours() string { return fmt.Sprintf("%.1f h", float64(c.TimeSpent)/3600) }

// Ref is the case's human reference, e.g. C-0042.
func (c *Case) Ref() string { return fmt.Sprintf("C-%04d", c.Number) }

// TypeLabel and StatusLabel are for pages.
func (c *Case) TypeLabel() string   { return label(Types, c.Type) }
func (c *Case) StatusLabel() string { return label(Statuses, c.Status) }

// flag sets the overdue flags at now. A closed case is never overdue;
// statutory hotline deadlines are met by acknowledging and giving feedback.
func (c *Case) flag(now time.Time) {
	if c.Status == "closed" {
		return
	}
	c.Overdue = c.DueAt != nil && now.After(*c.DueAt)
	c.AckOverdue = c.AckDueAt != nil && c.AckedAt == nil && now.After(*c.AckDueAt)
	c.FeedbackOverdue = c.FeedbackDueAt != nil && c.FeedbackAt == nil && now.After(*c.FeedbackDueAt)
}

// DueSoon reports a statutory deadline falling within d of now, for reminders.
func (c *Case) DueSoon(now time.Time, d time.Duration) bool {
	if c.Status == "closed" {
		return false
	}
	soon := func(due, done *time.Time) bool {
		return due != nil && done == nil && !now.After(*due) && due.Sub(now) <= d
	}
	return soon(c.AckDueAt, c.AckedAt) || soon(c.FeedbackDueAt, c.FeedbackAt) || soon(c.DueAt, nil)
}

// Member is a user on a case's team or granted access to it.
type Member struct {
	UserID  string    `json:"user_id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Role    string    `json:"role"` // lead, investigator, granted
	AddedAt time.Time `json:"added_at"`
}

// Party is a subject, complainant or witness.
type Party struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	UserID    string    `json:"user_id,omitempty"`
	Details   string    `json:"details"`
	CreatedAt time.Time `json:"created_at"`
}

// Allegation is one claim with its outcome ("" while undecided).
type Allegation struct {
	ID        string     `json:"id"`
	Text      string     `json:"text"`
	Outcome   string     `json:"outcome"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at"`
}

// OutcomeLabel is for pages.
func (a Allegation) OutcomeLabel() string {
	if a.Outcome == "" {
		return "Undecided"
	}
	return label(Outcomes, a.Outcome)
}

// Link points at an incident, alarm or another case.
type Link struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
}

// Href is the linked record's page in vigil.
func (l Link) Href() string {
	switch l.Kind {
	case "incident":
		return "/incidents/" + url.PathEscape(l.Ref)
	case "alarm":
		return "/alarms/" + url.PathEscape(l.Ref)
	}
	return "/cases/" + url.PathEscape(l.Ref)
}

// HotlineInfo is what the reporter chose to tell about the report itself.
type HotlineInfo struct {
	Category string `json:"category"`
	Contact  string `json:"contact"` // empty when the reporter stayed anonymous
}

// Task is a to-do on a case.
type Task struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	AssigneeID string     `json:"assignee_id"`
	DueAt      *time.Time `json:"due_at"`
	DoneAt     *time.Time `json:"done_at"`
}

// Note is an investigator's note; shareable notes go into the shareable summary.
type Note struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	Shareable bool      `json:"shareable"`
	CreatedAt time.Time `json:"created_at"`
}

// Action is a recommended or taken action.
type Action struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Stage       string    `json:"stage"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// KindLabel is for pages.
func (a Action) KindLabel() string { return label(ActionKinds, a.Kind) }

// Evidence is a registered item. Its current holder comes from its custody chain.
type Evidence struct {
	ID          string    `json:"id"`
	CaseID      string    `json:"case_id"`
	OrgID       string    `json:"org_id"`
	Number      int       `json:"number"`
	Kind        string    `json:"kind"` // digital or physical
	Label       string    `json:"label"`
	Description string    `json:"description"`
	SHA256      string    `json:"sha256,omitempty"`
	Size        int64     `json:"size"`
	Filename    string    `json:"filename,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	InterviewID string    `json:"interview_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	HolderID    string    `json:"holder_id"`
	Holder      string    `json:"holder"`
	Location    string    `json:"location"`
	// Integrity is the latest check: "" (never checked), "ok" or "tampered".
	Integrity string `json:"integrity"`
}

// Ref is the exhibit reference, e.g. C-0042/E3.
func (e *Evidence) Ref(c *Case) string { return fmt.Sprintf("%s/E%d", c.Ref(), e.Number) }

// Interview is a scheduled or recorded interview.
type Interview struct {
	ID           string     `json:"id"`
	CaseID       string     `json:"case_id"`
	Interviewee  string     `json:"interviewee"`
	Interviewers string     `json:"interviewers"`
	ScheduledAt  *time.Time `json:"scheduled_at"`
	RecordedAt   *time.Time `json:"recorded_at"`
	Location     string     `json:"location"`
	Statement    string     `json:"statement"`
	Signed       bool       `json:"signed"`
	CreatedAt    time.Time  `json:"created_at"`
}

// ScheduledInput is the scheduled time as a datetime-local form value in tz.
func (iv Interview) ScheduledInput(tz string) string {
	if iv.ScheduledAt == nil {
		return ""
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return iv.ScheduledAt.In(loc).Format("2006-01-02T15:04")
}

// Message is one hotline message between reporter and investigators.
type Message struct {
	ID        string    `json:"id"`
	Sender    string    `json:"sender"` // reporter or staff
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Assessment is one structured threat assessment; the latest is current.
type Assessment struct {
	ID           string     `json:"id"`
	Behaviours   []string   `json:"behaviours"`
	Level        string     `json:"level"`
	Plan         string     `json:"plan"`
	NextReviewAt *time.Time `json:"next_review_at"`
	AssessedBy   string     `json:"assessed_by"`
	CreatedAt    time.Time  `json:"created_at"`
}

// LevelLabel is for pages.
func (a *Assessment) LevelLabel() string { return label(Levels, a.Level) }

// Has reports whether behaviour b was ticked.
func (a *Assessment) Has(b string) bool { return a != nil && slices.Contains(a.Behaviours, b) }

// BOLO is a be-on-the-lookout notice for officers at chosen sites. It shows
// only what officers need (name, description, photo), never the case.
type BOLO struct {
	ID          string     `json:"id"`
	CaseID      string     `json:"-"`
	OrgID       string     `json:"org_id"`
	SubjectName string     `json:"subject_name"`
	Description string     `json:"description"`
	PhotoSHA256 string     `json:"photo_sha256,omitempty"`
	SiteIDs     []string   `json:"site_ids"`
	Active      bool       `json:"active"`
	CreatedAt   time.Time  `json:"created_at"`
	EndedAt     *time.Time `json:"ended_at"`
}

// Revocation records credentials to disable; the visitor/credential module acts on it.
type Revocation struct {
	ID          string    `json:"id"`
	CaseID      string    `json:"case_id"`
	OrgID       string    `json:"org_id"`
	Person      string    `json:"person"`
	Credentials string    `json:"credentials"`
	Reason      string    `json:"reason"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// Settings are an organisation's investigation settings.
type Settings struct {
	OrgID         string      `json:"org_id"`
	CaseWideRoles []auth.Role `json:"case_wide_roles"`
	AckDays       int         `json:"ack_days"`
	FeedbackDays  int         `json:"feedback_days"`
	HotlineOn     bool        `json:"hotline_enabled"`
	HotlineIntro  string      `json:"hotline_intro"`
}

// DefaultSettings follow the EU Whistleblower Directive (2019/1937, art. 9):
// acknowledge within 7 days, feedback within 3 months.
func DefaultSettings(org string) Settings {
	return Settings{OrgID: org, AckDays: 7, FeedbackDays: 90, HotlineOn: true}
}

// Wide reports whether role r has case-wide access under s.
func (s *Settings) Wide(r auth.Role) bool {
	return r == auth.Owner || slices.Contains(s.CaseWideRoles, r)
}

// Validate checks settings.
func (s *Settings) Validate() error {
	for _, r := range s.CaseWideRoles {
		if !r.Valid() {
			return invalid("case_wide_roles", "contains an unknown role")
		}
		if !r.Allows(auth.CaseRead) {
			return invalid("case_wide_roles", "role "+string(r)+" may not read cases at all")
		}
	}
	if s.AckDays < 1 || s.AckDays > 365 {
		return invalid("ack_days", "must be from 1 to 365")
	}
	if s.FeedbackDays < s.AckDays || s.FeedbackDays > 730 {
		return invalid("feedback_days", "must be from ack_days to 730")
	}
	var err error
	s.HotlineIntro, err = text("hotline_intro", s.HotlineIntro, false, 2000)
	return err
}

func invalid(field, msg string) error { return &auth.FieldError{Field: field, Message: msg} }

// text trims and bounds a free-text field.
func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", invalid(field, "is required")
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", invalid(field, "contains invalid characters")
	}
	if utf8.RuneCountInString(v) > max {
		return "", invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return v, nil
}

// CaseInput creates or edits a case.
type CaseInput struct {
	OrgID     string     `json:"org_id,omitempty"`
	Type      string     `json:"type"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary,omitempty"`
	LeadID    string     `json:"lead_id,omitempty"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	RootCause string     `json:"root_cause,omitempty"`
}

// Validate normalises and checks a case.
func (in *CaseInput) Validate() error {
	if !valid(Types, in.Type) {
		return invalid("type", "is not a known case type")
	}
	var err error
	if in.Title, err = text("title", in.Title, true, 200); err != nil {
		return err
	}
	if in.Summary, err = text("summary", in.Summary, false, 20000); err != nil {
		return err
	}
	in.RootCause, err = text("root_cause", in.RootCause, false, 5000)
	return err
}

// HotlineInput is an anonymous report.
type HotlineInput struct {
	Category string `json:"category"`
	Text     string `json:"text"`
	// Contact is optional: a name, phone or email if the reporter chooses
	// to be identified.
	Contact string `json:"contact,omitempty"`
}

// Validate checks a report.
func (in *HotlineInput) Validate() error {
	if !valid(HotlineCategories, in.Category) {
		return invalid("category", "is not a known category")
	}
	var err error
	if in.Text, err = text("text", in.Text, true, 20000); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.Text) < 10 {
		return invalid("text", "must describe what happened (at least 10 characters)")
	}
	in.Contact, err = text("contact", in.Contact, false, 500)
	return err
}
