package risk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"vigil/internal/auth"
	"vigil/internal/risk/fair"
	"vigil/internal/store"
)

// Server-side bounds on a FAIR run, so one request cannot take the machine:
// 200,000 iterations of a per-event model take ~20 ms of CPU per million
// events a year drawn; MaxEventDraws caps those draws.
const (
	DefaultIterations = 50_000
	MaxIterations     = 200_000
	MaxEventDraws     = 5e7
	runTimeout        = 20 * time.Second
)

// Analysis is a FAIR analysis attached to a risk: the analyst's model, an
// optional proposed control (the same scenario with the control in place),
// and the results of both runs with the same seed, so the difference of the
// mean ALEs is what the control saves rather than Monte Carlo noise.
type Analysis struct {
	ID            string       `json:"id"`
	OrgID         string       `json:"org_id"`
	RiskID        string       `json:"risk_id"`
	Name          string       `json:"name"`
	Model         *fair.Model  `json:"model"`
	ControlName   string       `json:"control_name,omitempty"`
	ControlModel  *fair.Model  `json:"control_model,omitempty"`
	Iterations    int          `json:"iterations"`
	Seed          uint64       `json:"seed"`
	Result        *fair.Result `json:"result"`
	ControlResult *fair.Result `json:"control_result,omitempty"`
	CreatedBy     string       `json:"created_by"`
	CreatedAt     time.Time    `json:"created_at"`
}

// Saves is the mean annual loss the proposed control avoids (negative when
// it makes things worse); ok is false without a control.
func (a *Analysis) Saves() (v float64, ok bool) {
	if a.ControlResult == nil {
		return 0, false
	}
	return a.Result.ALEMean - a.ControlResult.ALEMean, true
}

// validate checks the names, bounds and both models, naming the field.
func (a *Analysis) validate() error {
	var err error
	if a.Name, err = text("name", a.Name, true, 200); err != nil {
		return err
	}
	if a.ControlName, err = text("control.name", a.ControlName, a.ControlModel != nil, 200); err != nil {
		return err
	}
	if a.Iterations == 0 {
		a.Iterations = DefaultIterations
	}
	if a.Iterations < 1000 || a.Iterations > MaxIterations {
		return invalid("iterations", fmt.Sprintf("must be between 1000 and %d", MaxIterations))
	}
	if a.Model == nil {
		return invalid("model", "is required")
	}
	if err := a.Model.Validate(); err != nil {
		return fieldErr("model", err)
	}
	if a.ControlModel != nil {
		if err := a.ControlModel.Validate(); err != nil {
			return fieldErr("control.model", err)
		}
	}
	return nil
}

// run simulates the model and the control with the same seed. The control
// run reuses the first run's loss-exceedance thresholds so both curves are
// read at the same losses.
func (a *Analysis) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	o := fair.Options{Iterations: a.Iterations, Seed: a.Seed, MaxEventDraws: MaxEventDraws}
	res, err := fair.Simulate(ctx, a.Model, o)
	if err != nil {
		return simErr("model", err)
	}
	a.Result = res
	if a.ControlModel == nil {
		return nil
	}
	cm := *a.ControlModel
	if len(cm.LECThresholds) == 0 {
		for _, e := range res.LEC {
			cm.LECThresholds = append(cm.LECThresholds, e.Threshold)
		}
	}
	if a.ControlResult, err = fair.Simulate(ctx, &cm, o); err != nil {
		return simErr("control.model", err)
	}
	return nil
}

// simErr turns the engine's refusals (too much work, overflow) into a 400
// naming the model; anything else stays an internal error.
func simErr(field string, err error) error {
	switch {
	case errors.Is(err, fair.ErrTooMuchWork):
		return invalid(field, "draws too many loss events a year for a server run; lower iterations or use `vigil risk fair`")
	case errors.Is(err, fair.ErrOverflow):
		return invalid(field, "produces losses too large to add up")
	case errors.Is(err, fair.ErrIterations):
		return invalid("iterations", "is out of range")
	case errors.Is(err, context.DeadlineExceeded):
		return invalid(field, "took too long to simulate; lower iterations")
	}
	return fieldErr(field, err)
}

// CreateAnalysis validates, runs and stores an analysis of risk r.
func (s *Service) CreateAnalysis(ctx context.Context, r *Risk, a *Analysis, p *auth.Principal) error {
	if err := a.validate(); err != nil {
		return err
	}
	if err := a.run(ctx); err != nil {
		return err
	}
	a.ID, a.OrgID, a.RiskID, a.CreatedBy, a.CreatedAt = store.NewID(), r.OrgID, r.ID, p.Label(), s.Now().UTC()
	model, _ := json.Marshal(a.Model)
	result, _ := json.Marshal(a.Result)
	var cmodel, cresult any
	if a.ControlModel != nil {
		b, _ := json.Marshal(a.ControlModel)
		c, _ := json.Marshal(a.ControlResult)
		cmodel, cresult = string(b), string(c)
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO risk_analyses (id, org_id, risk_id, name, model, control_name, control_model, iterations, seed, result, control_result, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.OrgID, a.RiskID, a.Name, string(model), a.ControlName, cmodel, a.Iterations, int64(a.Seed), string(result), cresult, a.CreatedBy, a.CreatedAt)
		if err != nil {
			return fmt.Errorf("save analysis: %w", err)
		}
		data := map[string]any{"risk_id": r.ID, "name": a.Name, "ale_mean": a.Result.ALEMean, "iterations": a.Iterations, "seed": a.Seed}
		if v, ok := a.Saves(); ok {
			data["control"], data["saves_per_year"] = a.ControlName, v
		}
		return s.record(ctx, tx, p, r.OrgID, "risk.analysis.create", "risk_analysis", a.ID, data)
	})
}

const analysisCols = `id, org_id, risk_id, name, model, control_name, control_model, iterations, seed, result, control_result, created_by, created_at`

func scanAnalysis(sc interface{ Scan(...any) error }) (*Analysis, error) {
	var a Analysis
	var model, result string
	var cmodel, cresult sql.NullString
	var seed int64
	if err := sc.Scan(&a.ID, &a.OrgID, &a.RiskID, &a.Name, &model, &a.ControlName, &cmodel, &a.Iterations, &seed, &result, &cresult, &a.CreatedBy, &a.CreatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	a.Seed, a.CreatedAt = uint64(seed), a.CreatedAt.UTC()
	for _, x := range []struct {
		raw string
		ok  bool
		v   any
	}{{model, true, &a.Model}, {result, true, &a.Result}, {cmodel.String, cmodel.Valid, &a.ControlModel}, {cresult.String, cresult.Valid, &a.ControlResult}} {
		if !x.ok {
			continue
		}
		if err := json.Unmarshal([]byte(x.raw), x.v); err != nil {
			return nil, fmt.Errorf("analysis %s: %w", a.ID, err)
		}
	}
	return &a, nil
}

// Analysis returns one analysis within scope.
func (s *Service) Analysis(ctx context.Context, scope []string, id string) (*Analysis, error) {
	ph, args := in(scope)
	return scanAnalysis(s.DB.QueryRow(ctx, `SELECT `+analysisCols+` FROM risk_analyses WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// Analyses lists a risk's analyses, newest first.
func (s *Service) Analyses(ctx context.Context, r *Risk) ([]*Analysis, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+analysisCols+` FROM risk_analyses WHERE risk_id = ? AND org_id = ? ORDER BY created_at DESC, id DESC LIMIT 100`, r.ID, r.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list analyses: %w", err)
	}
	defer rows.Close()
	out := []*Analysis{}
	for rows.Next() {
		a, err := scanAnalysis(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
