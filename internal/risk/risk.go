// Package risk is the risk register and the analyses attached to it: risks
// per site rated on the organisation's likelihood × consequence matrix, their
// treatments (controls: devices, guard posts, procedures), review dates,
// residual ratings and history; FAIR Monte Carlo analyses with a
// before/after comparison of a proposed control; and facility path models
// (adversary sequence diagrams) analysed with EASI.
//
// The numerical work is done by the pure engines in the subpackages dist,
// fair, pps and matrix; this package stores, authorises and renders.
package risk

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/risk/dist"
	"vigil/internal/risk/matrix"
	"vigil/internal/risk/pps"
)

// Risk statuses: open until treated; accepted and closed end the work.
const (
	StatusOpen     = "open"
	StatusTreating = "treating"
	StatusAccepted = "accepted"
	StatusClosed   = "closed"
)

// Statuses lists the statuses in workflow order.
var Statuses = []string{StatusOpen, StatusTreating, StatusAccepted, StatusClosed}

// Strategies are the ISO 31000 treatment options.
var Strategies = []string{"mitigate", "accept", "transfer", "avoid"}

// Treatment kinds: a device of the risk's site, a guard post, a procedure.
const (
	TreatDevice    = "device"
	TreatPost      = "post"
	TreatProcedure = "procedure"
)

// TreatmentKinds lists the kinds of control a treatment may link.
var TreatmentKinds = []string{TreatDevice, TreatPost, TreatProcedure}

// Risk is one register entry. Likelihood and consequence are 0-based level
// numbers on the organisation's matrix (least severe first); the labels and
// rating are resolved from the matrix when the risk is saved.
type Risk struct {
	ID          string      `json:"id"`
	OrgID       string      `json:"org_id"`
	SiteID      string      `json:"site_id"`
	Title       string      `json:"title"`
	Asset       string      `json:"asset"`
	Threat      string      `json:"threat"`
	Description string      `json:"description"`
	Owner       string      `json:"owner"`
	Status      string      `json:"status"`
	Strategy    string      `json:"strategy"`
	Likelihood  int         `json:"likelihood"`
	Consequence int         `json:"consequence"`
	Rating      string      `json:"rating"`
	ResidualL   *int        `json:"residual_likelihood"`
	ResidualC   *int        `json:"residual_consequence"`
	ResidualR   string      `json:"residual_rating"`
	ReviewAt    *time.Time  `json:"review_at"`
	Treatments  []Treatment `json:"treatments"`
	Version     int         `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Treatment is a control applied to a risk.
type Treatment struct {
	Kind        string `json:"kind"`
	DeviceID    string `json:"device_id,omitempty"`
	Description string `json:"description"`
}

// Overdue reports whether the risk's review date has passed at now.
func (r *Risk) Overdue(now time.Time) bool {
	return r.ReviewAt != nil && r.Status != StatusClosed && r.ReviewAt.Before(now)
}

func invalid(field, msg string) error { return &auth.FieldError{Field: field, Message: msg} }

func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return v, invalid(field, "is required")
	case !utf8.ValidString(v):
		return v, invalid(field, "is not valid text")
	case utf8.RuneCountInString(v) > max:
		return v, invalid(field, fmt.Sprintf("is longer than %d characters", max))
	}
	return v, nil
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalid(field, "must be one of "+strings.Join(allowed, ", "))
}

// MaxTreatments bounds a risk's controls so one request stays small.
const MaxTreatments = 50

// Validate normalises the risk's text, checks its levels against m and
// sets Rating and ResidualR from m.
func (r *Risk) Validate(m *matrix.Matrix) error {
	var err error
	for _, f := range []struct {
		name string
		v    *string
		req  bool
		max  int
	}{{"title", &r.Title, true, 200}, {"asset", &r.Asset, true, 200}, {"threat", &r.Threat, true, 200},
		{"description", &r.Description, false, 10000}, {"owner", &r.Owner, false, 200}} {
		if *f.v, err = text(f.name, *f.v, f.req, f.max); err != nil {
			return err
		}
	}
	if r.SiteID == "" {
		return invalid("site_id", "is required")
	}
	if r.Status == "" {
		r.Status = StatusOpen
	}
	if err := oneOf("status", r.Status, Statuses); err != nil {
		return err
	}
	if r.Strategy == "" {
		r.Strategy = "mitigate"
	}
	if err := oneOf("strategy", r.Strategy, Strategies); err != nil {
		return err
	}
	rt, err := rate(m, "likelihood", "consequence", r.Likelihood, r.Consequence)
	if err != nil {
		return err
	}
	r.Rating = rt.ID
	r.ResidualR = ""
	switch {
	case (r.ResidualL == nil) != (r.ResidualC == nil):
		return invalid("residual_likelihood", "and residual_consequence are given together or not at all")
	case r.ResidualL != nil:
		rt, err := rate(m, "residual_likelihood", "residual_consequence", *r.ResidualL, *r.ResidualC)
		if err != nil {
			return err
		}
		r.ResidualR = rt.ID
	}
	if len(r.Treatments) > MaxTreatments {
		return invalid("treatments", fmt.Sprintf("holds more than %d controls", MaxTreatments))
	}
	for i := range r.Treatments {
		t := &r.Treatments[i]
		field := fmt.Sprintf("treatments[%d]", i)
		if err := oneOf(field+".kind", t.Kind, TreatmentKinds); err != nil {
			return err
		}
		if t.Description, err = text(field+".description", t.Description, t.Kind != TreatDevice, 2000); err != nil {
			return err
		}
		if (t.Kind == TreatDevice) != (t.DeviceID != "") {
			return invalid(field+".device_id", "is given exactly when kind is device")
		}
	}
	return nil
}

func rate(m *matrix.Matrix, lf, cf string, l, c int) (matrix.Rating, error) {
	if l < 0 || l >= len(m.Likelihood) {
		return matrix.Rating{}, invalid(lf, fmt.Sprintf("must be a level from 0 to %d", len(m.Likelihood)-1))
	}
	if c < 0 || c >= len(m.Consequence) {
		return matrix.Rating{}, invalid(cf, fmt.Sprintf("must be a level from 0 to %d", len(m.Consequence)-1))
	}
	return m.Rate(l, c)
}

// Level finds a level by its label (case-insensitive) or its 0-based
// number, as forms and API clients give either.
func Level(levels []matrix.Level, v string) (int, bool) {
	v = strings.TrimSpace(v)
	for i, l := range levels {
		if strings.EqualFold(l.Label, v) || fmt.Sprint(i) == v {
			return i, true
		}
	}
	return 0, false
}

// RatingOf returns the matrix's rating with id, or a grey unknown one (a
// rating removed from the matrix after the risk was saved).
func RatingOf(m *matrix.Matrix, id string) matrix.Rating {
	for _, r := range m.Ratings {
		if r.ID == id {
			return r
		}
	}
	return matrix.Rating{ID: id, Label: id, Colour: "#9e9e9e", Priority: 99}
}

// fieldErr turns an engine's field error into the platform's, so handlers
// answer 400 naming the field instead of 500.
func fieldErr(prefix string, err error) error {
	var de *dist.FieldError
	var me *matrix.FieldError
	var pe *pps.FieldError
	switch {
	case errors.As(err, &de):
		return invalid(join(prefix, de.Field), de.Problem)
	case errors.As(err, &me):
		return invalid(join(prefix, me.Field), me.Problem)
	case errors.As(err, &pe):
		return invalid(join(prefix, pe.Field), pe.Problem)
	case err != nil:
		return invalid(prefix, err.Error())
	}
	return nil
}

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}
