package incident

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Change is one field that differs between two revisions.
type Change struct {
	Field    string     `json:"field"`
	Old, New string     `json:"-"`
	Lines    []DiffLine `json:"lines,omitempty"` // line diff for long text
}

// DiffLine is a line of a text diff: Op is '=', '-' or '+'.
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// editable are the fields a person changes; bookkeeping (revision, times
// of workflow steps) is left out of a diff.
func editable(i *Incident) map[string]string {
	c := *i
	c.ID, c.Revision, c.UpdatedAt, c.CreatedAt, c.Status, c.ReviewComment = "", 0, time.Time{}, time.Time{}, "", ""
	c.SubmittedAt, c.ApprovedAt, c.ClosedAt, c.ApprovedBy, c.Timezone, c.Number = nil, nil, nil, "", "", 0
	b, err := json.Marshal(&c)
	if err != nil {
		// Every field of a validated report marshals; anything else is a
		// bug that must not pass as "no changes".
		panic(fmt.Sprintf("incident: marshal for diff: %v", err))
	}
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	out := map[string]string{}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	for _, k := range []string{"id", "revision", "updated_at", "created_at", "status", "review_comment", "submitted_at", "approved_at", "closed_at", "approved_by", "timezone", "number"} {
		delete(out, k)
	}
	return out
}

// Changes lists the fields that differ between a and b, by name.
func Changes(a, b *Incident) []Change {
	ma, mb := editable(a), editable(b)
	var keys []string
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []Change
	for _, k := range keys {
		if ma[k] == mb[k] {
			continue
		}
		c := Change{Field: k, Old: ma[k], New: mb[k]}
		if strings.Contains(c.Old, "\n") || strings.Contains(c.New, "\n") || len(c.Old)+len(c.New) > 160 {
			c.Lines = LineDiff(c.Old, c.New)
		}
		out = append(out, c)
	}
	return out
}

// maxDiffCells bounds the LCS table; beyond it the diff degrades to
// "all old lines removed, all new lines added" rather than using unbounded memory.
const maxDiffCells = 4_000_000

// LineDiff is a line-level diff of a and b (longest common subsequence).
func LineDiff(a, b string) []DiffLine {
	la, lb := splitLines(a), splitLines(b)
	// Trim the common prefix and suffix: edits are usually local.
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	var out []DiffLine
	for _, l := range la[:pre] {
		out = append(out, DiffLine{"=", l})
	}
	ma, mb := la[pre:len(la)-suf], lb[pre:len(lb)-suf]
	if (len(ma)+1)*(len(mb)+1) > maxDiffCells {
		for _, l := range ma {
			out = append(out, DiffLine{"-", l})
		}
		for _, l := range mb {
			out = append(out, DiffLine{"+", l})
		}
	} else {
		n, m := len(ma), len(mb)
		t := make([][]int32, n+1)
		for i := range t {
			t[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					t[i][j] = t[i+1][j+1] + 1
				} else {
					t[i][j] = max(t[i+1][j], t[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				out = append(out, DiffLine{"=", ma[i]})
				i++
				j++
			case j < m && (i == n || t[i][j+1] >= t[i+1][j]):
				out = append(out, DiffLine{"+", mb[j]})
				j++
			default:
				out = append(out, DiffLine{"-", ma[i]})
				i++
			}
		}
	}
	for _, l := range la[len(la)-suf:] {
		out = append(out, DiffLine{"=", l})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// FieldLabel names a JSON field for people.
func FieldLabel(f string) string {
	if l, ok := fieldLabels[f]; ok {
		return l
	}
	return strings.ReplaceAll(f, "_", " ")
}

var fieldLabels = map[string]string{
	"site_id": "Site", "zone_id": "Zone", "type": "Type", "severity": "Severity", "title": "Title", "narrative": "Narrative",
	"occurred_at": "Occurred", "reported_at": "Reported", "discovered_at": "Discovered", "latitude": "Latitude", "longitude": "Longitude",
	"officer_id": "Officer", "officer_name": "Officer name", "ics": "Managed under ICS", "location": "Location", "people": "People",
	"vehicles": "Vehicles", "property": "Property", "injuries": "Injuries", "damage": "Damage", "actions_taken": "Actions taken",
	"alarm_ids": "Linked alarms", "custom": "Custom fields", "police": "Law enforcement", "insurer": "Insurer",
	"client_emails": "Client notification addresses", "resources": "ICS resources", "ics_objectives": "ICS objectives",
}

// String is a one-line summary of a change for logs.
func (c Change) String() string { return fmt.Sprintf("%s: %q → %q", c.Field, c.Old, c.New) }
