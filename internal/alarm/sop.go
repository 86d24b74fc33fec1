package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/store"
)

// SOP is a standard operating procedure: ordered steps an operator works
// through for one alarm type (optionally one site). A question step's
// answer chooses the next step, so one SOP covers "keyholder confirms false
// alarm" and "no answer: dispatch" without two documents.
type SOP struct {
	ID        string `json:"id,omitempty"`
	OrgID     string `json:"org_id,omitempty"`
	SiteID    string `json:"site_id,omitempty"`
	AlarmType string `json:"alarm_type"`
	Name      string `json:"name"`
	Steps     []Step `json:"steps"`
	Builtin   bool   `json:"builtin"`
}

// Step is one instruction.
type Step struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Kind     string   `json:"kind"` // check, question, call
	Required bool     `json:"required"`
	Answers  []Answer `json:"answers,omitempty"`
	// Call names whom a call step dials: keyholders (the site's keyholders
	// in call order), contacts (every site contact), police, fire, ambulance
	// (site contacts whose role names them; the emergency number otherwise).
	Call string `json:"call,omitempty"`
}

// Answer is a choice of a question step; Next is the step it leads to
// ("" = the following step, "end" = the procedure is complete).
type Answer struct {
	Label string `json:"label"`
	Next  string `json:"next,omitempty"`
}

// Validate checks the SOP's structure: unique step IDs, answers leading to
// existing steps, and no step leading back (which could loop forever).
func (p *SOP) Validate() error {
	if !validChoice(Types, p.AlarmType) {
		return invalid("alarm_type", "is not a known alarm type")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(p.Name)); n == 0 || n > 200 {
		return invalid("name", "must be 1–200 characters")
	}
	if len(p.Steps) == 0 || len(p.Steps) > 100 {
		return invalid("steps", "must have 1–100 steps")
	}
	pos := map[string]int{}
	for i, st := range p.Steps {
		if st.ID == "" || len(st.ID) > 40 {
			return invalid("steps", fmt.Sprintf("step %d needs an id of 1–40 characters", i+1))
		}
		if _, dup := pos[st.ID]; dup || st.ID == "end" {
			return invalid("steps", fmt.Sprintf("step id %q is used twice or reserved", st.ID))
		}
		pos[st.ID] = i
		if n := utf8.RuneCountInString(st.Text); n == 0 || n > 1000 {
			return invalid("steps", fmt.Sprintf("step %s: text must be 1–1000 characters", st.ID))
		}
		switch st.Kind {
		case "check", "call":
			if len(st.Answers) > 0 {
				return invalid("steps", fmt.Sprintf("step %s: only questions have answers", st.ID))
			}
		case "question":
			if len(st.Answers) < 2 || len(st.Answers) > 10 {
				return invalid("steps", fmt.Sprintf("step %s: a question needs 2–10 answers", st.ID))
			}
		default:
			return invalid("steps", fmt.Sprintf("step %s: kind must be check, question or call", st.ID))
		}
		if st.Kind == "call" && !validCall(st.Call) {
			return invalid("steps", fmt.Sprintf("step %s: call must be keyholders, contacts, police, fire or ambulance", st.ID))
		}
	}
	for _, st := range p.Steps {
		for _, a := range st.Answers {
			if a.Label == "" || len(a.Label) > 100 {
				return invalid("steps", fmt.Sprintf("step %s: answers need a label of 1–100 characters", st.ID))
			}
			if a.Next == "" || a.Next == "end" {
				continue
			}
			j, ok := pos[a.Next]
			if !ok {
				return invalid("steps", fmt.Sprintf("step %s: answer %q leads to unknown step %q", st.ID, a.Label, a.Next))
			}
			if j <= pos[st.ID] {
				return invalid("steps", fmt.Sprintf("step %s: answer %q must lead forward", st.ID, a.Label))
			}
		}
	}
	return nil
}

func validCall(c string) bool {
	switch c {
	case "keyholders", "contacts", "police", "fire", "ambulance":
		return true
	}
	return false
}

// Progress is what has been done on a step.
type Progress struct {
	Status string // done, skipped, answered
	Answer string // the answer label (questions)
	Text   string // skip reason or note
}

// StepView is a step with where the alarm stands on it.
type StepView struct {
	Step
	Status  string // done, skipped, answered, current, pending, off_path
	Answer  string
	Note    string
	OnPath  bool
	Current bool
}

// Walk follows the SOP from its first step through what has been done:
// answered questions choose the next step, unanswered optional steps do not
// block. It returns each step's view and whether every required step on the
// path has been done or skipped (the alarm may then be resolved).
func (p *SOP) Walk(done map[string]Progress) (views []StepView, complete bool) {
	views = make([]StepView, len(p.Steps))
	pos := map[string]int{}
	for i, st := range p.Steps {
		views[i] = StepView{Step: st, Status: "off_path"}
		pos[st.ID] = i
	}
	complete = true
	current := -1
	for i := 0; i < len(p.Steps); {
		st := p.Steps[i]
		v := &views[i]
		v.OnPath = true
		pr, ok := done[st.ID]
		next := i + 1
		switch {
		case ok:
			v.Status, v.Answer, v.Note = pr.Status, pr.Answer, pr.Text
			if st.Kind == "question" && pr.Status == "answered" {
				for _, a := range st.Answers {
					if a.Label == pr.Answer {
						switch a.Next {
						case "end":
							next = len(p.Steps)
						case "":
						default:
							next = pos[a.Next]
						}
					}
				}
			}
		default:
			v.Status = "pending"
			if current < 0 {
				current = i
				v.Status, v.Current = "current", true
			}
			if st.Required {
				complete = false
			}
		}
		i = next
	}
	return views, complete
}

// StepByID returns the step with id.
func (p *SOP) StepByID(id string) (Step, bool) {
	for _, st := range p.Steps {
		if st.ID == id {
			return st, true
		}
	}
	return Step{}, false
}

func check(id, text string, required bool) Step {
	return Step{ID: id, Text: text, Kind: "check", Required: required}
}

func call(id, text, who string, required bool) Step {
	return Step{ID: id, Text: text, Kind: "call", Call: who, Required: required}
}

func question(id, text string, answers ...Answer) Step {
	return Step{ID: id, Text: text, Kind: "question", Required: true, Answers: answers}
}

// DefaultSOPs ship with vigil and apply when an organisation has not
// written its own for a type. They follow common monitoring-centre
// practice (verify, call, dispatch, follow up) and are meant to be adapted.
var DefaultSOPs = map[string]*SOP{
	TypeFire: {AlarmType: TypeFire, Name: "Fire alarm", Builtin: true, Steps: []Step{
		call("fire", "Call the fire service now; give the site address and the zone. Do not wait for verification.", "fire", true),
		call("keyholder", "Call keyholders in order until one answers; tell them the fire service is on its way.", "keyholders", true),
		question("confirmed", "Did anyone on site confirm a fire?", Answer{"Yes – fire confirmed", "evac"}, Answer{"No – false alarm confirmed by keyholder", "reset"}, Answer{"No answer", "evac"}),
		check("evac", "Confirm evacuation is under way and note the assembly point.", false),
		check("reset", "Ask the keyholder to reset the panel once the fire service has cleared the site.", true),
	}},
	TypeBurglary: {AlarmType: TypeBurglary, Name: "Intrusion alarm", Builtin: true, Steps: []Step{
		check("review", "Review related signals and cameras for the site and zone.", true),
		call("keyholder", "Call keyholders in order; ask for the password.", "keyholders", true),
		question("verified", "Is the intrusion verified or unexplained?", Answer{"Verified / unexplained", "police"}, Answer{"Explained by keyholder (valid password)", "end"}),
		call("police", "Call the police with the verification details.", "police", true),
		check("patrol", "Dispatch a patrol or guard to the site.", false),
	}},
	TypePanic: {AlarmType: TypePanic, Name: "Panic / duress", Builtin: true, Steps: []Step{
		call("police", "Call the police immediately. Do not call the site first (a duress code means someone is under threat).", "police", true),
		check("listen", "If the panel supports audio, listen in and log what you hear.", false),
		call("keyholder", "Once police are on their way, inform the first keyholder.", "keyholders", true),
	}},
	TypeMedical: {AlarmType: TypeMedical, Name: "Medical", Builtin: true, Steps: []Step{
		call("ambulance", "Call an ambulance; give the address and the zone.", "ambulance", true),
		call("contact", "Call the site contacts so someone meets the crew.", "contacts", true),
	}},
	TypeBombThreat: {AlarmType: TypeBombThreat, Name: "Bomb threat", Builtin: true, Steps: []Step{
		check("record", "Record the exact words of the threat, the caller's voice and background noise.", true),
		call("police", "Call the police.", "police", true),
		call("keyholder", "Call the site's emergency contacts and advise on evacuation per the site plan.", "keyholders", true),
		check("radio", "Tell staff on site not to use radios or phones near suspicious objects.", false),
	}},
	TypeCommFailure: {AlarmType: TypeCommFailure, Name: "Communication failure", Builtin: true, Steps: []Step{
		check("check", "Check for a wider outage (other sites on the same carrier or region).", true),
		call("keyholder", "Call the keyholder to check the premises and the panel's power and line.", "keyholders", false),
		question("restored", "Has the panel reported again?", Answer{"Yes", "end"}, Answer{"No", "service"}),
		check("service", "Book a technician visit and, if the site is unprotected, a guard patrol.", true),
	}},
}

// genericSOP covers every type without its own procedure.
var genericSOP = &SOP{AlarmType: TypeOther, Name: "General alarm", Builtin: true, Steps: []Step{
	check("review", "Review the signal history and related alarms for the site.", false),
	call("contact", "Call the site contacts if the cause is unclear.", "contacts", false),
	check("followup", "Arrange a technician or patrol if needed.", false),
}}

// SOPFor returns the procedure of an alarm: the one fixed on it when an
// operator first acted on it (so an edit never changes the checklist under
// an operator's hands or in the audit), else the current choice
// (currentSOP).
func (s *Service) SOPFor(ctx context.Context, a *Alarm) (*SOP, error) {
	var fixed string
	if err := s.DB.QueryRow(ctx, `SELECT sop FROM alarms WHERE id = ?`, a.ID).Scan(&fixed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("alarm procedure: %w", err)
	}
	if fixed != "" {
		var p SOP
		if err := json.Unmarshal([]byte(fixed), &p); err != nil {
			return nil, fmt.Errorf("alarm %s: fixed procedure: %w", a.ID, err)
		}
		return &p, nil
	}
	return s.currentSOP(ctx, a)
}

// currentSOP chooses the procedure for an alarm: the site's own, then the
// organisation's, then the default for the type, then the general one.
func (s *Service) currentSOP(ctx context.Context, a *Alarm) (*SOP, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, org_id, site_id, alarm_type, name, steps FROM alarm_sops
		WHERE org_id = ? AND alarm_type = ? AND (site_id = ? OR site_id = '') ORDER BY site_id DESC LIMIT 1`, a.OrgID, a.Type, a.SiteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if rows.Next() {
		return scanSOP(rows)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if d, ok := DefaultSOPs[a.Type]; ok {
		return d, nil
	}
	return genericSOP, nil
}

func scanSOP(sc scanner) (*SOP, error) {
	var p SOP
	var steps string
	if err := sc.Scan(&p.ID, &p.OrgID, &p.SiteID, &p.AlarmType, &p.Name, &steps); err != nil {
		return nil, store.NotFound(err)
	}
	if err := json.Unmarshal([]byte(steps), &p.Steps); err != nil {
		return nil, fmt.Errorf("sop %s: stored steps: %w", p.ID, err)
	}
	return &p, nil
}

// SOPs lists the organisations' own procedures within scope.
func (s *Service) SOPs(ctx context.Context, scope []string) ([]*SOP, error) {
	ph, args := in(scope)
	rows, err := s.DB.Query(ctx, `SELECT id, org_id, site_id, alarm_type, name, steps FROM alarm_sops WHERE org_id IN (`+ph+`)
		ORDER BY alarm_type, site_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*SOP{}
	for rows.Next() {
		p, err := scanSOP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PutSOP creates or replaces the organisation's (or a site's) procedure
// for a type. Alarms an operator already acted on keep the procedure they
// had (see SOPFor).
func (s *Service) PutSOP(ctx context.Context, scope []string, p *SOP, by *auth.Principal) error {
	p.Builtin = false
	if err := p.Validate(); err != nil {
		return err
	}
	now := s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if p.SiteID != "" {
			org, err := s.siteOrg(ctx, tx, scope, p.SiteID)
			if err != nil {
				return err
			}
			if org != p.OrgID {
				return invalid("site_id", "must belong to the organisation")
			}
		}
		p.ID = store.NewID()
		_, err := tx.Exec(ctx, `INSERT INTO alarm_sops (id, org_id, site_id, alarm_type, name, steps, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (org_id, site_id, alarm_type) DO UPDATE SET name = excluded.name,
			steps = excluded.steps, updated_at = excluded.updated_at`,
			p.ID, p.OrgID, p.SiteID, p.AlarmType, strings.TrimSpace(p.Name), mustJSON(p.Steps), now, now)
		if err != nil {
			return fmt.Errorf("save sop: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM alarm_sops WHERE org_id = ? AND site_id = ? AND alarm_type = ?`,
			p.OrgID, p.SiteID, p.AlarmType).Scan(&p.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, by, p.OrgID, "alarm_sop.put", "alarm_sop", p.ID, map[string]any{"alarm_type": p.AlarmType, "site_id": p.SiteID, "steps": len(p.Steps)})
	})
}
