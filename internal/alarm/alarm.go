// Package alarm turns panel signals into alarms that operators work: alarm
// accounts, the durable ingest of DC-09 frames, webhooks and MQTT messages
// (one normalised Event type for all), grouping into alarms with priorities,
// restores and cancels, the alarm lifecycle with SOPs, supervision of
// polls, escalation, and the live operator console.
//
// The codecs (dc09, contactid, sia) and the network receiver are
// subpackages; this package is the app's side of the receiver's Accounts
// and Sink interfaces.
package alarm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/alarm/dc09"
	"vigil/internal/auth"
)

// Priorities: lower is more urgent. The console sorts by priority then age,
// so a flood of trouble signals never buries a fire alarm.
const (
	PriorityLife     = 1 // fire, panic/duress, medical
	PriorityProperty = 2 // intrusion, tamper, 24-hour alarms
	PriorityTrouble  = 3 // supervisory, trouble, communication failure
	PriorityOther    = 4
)

// Alarm types (the SOP is chosen by type).
const (
	TypeFire        = "fire"
	TypePanic       = "panic"
	TypeMedical     = "medical"
	TypeBurglary    = "burglary"
	TypeTamper      = "tamper"
	TypeAlarm       = "alarm" // 24-hour non-burglary: gas, water, temperature
	TypeTrouble     = "trouble"
	TypeSupervisory = "supervisory"
	TypeCommFailure = "comm_failure"
	TypeBombThreat  = "bomb_threat"
	TypeVideo       = "video"
	TypeOther       = "other"
)

// Types lists the alarm types with labels, for forms and overrides.
var Types = []Choice{
	{TypeFire, "Fire"}, {TypePanic, "Panic / duress"}, {TypeMedical, "Medical"},
	{TypeBurglary, "Intrusion"}, {TypeTamper, "Tamper"}, {TypeAlarm, "24-hour alarm"},
	{TypeTrouble, "Trouble"}, {TypeSupervisory, "Supervisory"}, {TypeCommFailure, "Communication failure"},
	{TypeBombThreat, "Bomb threat"}, {TypeVideo, "Video analytics"}, {TypeOther, "Other"},
}

// Choice is a value with its label.
type Choice struct{ Value, Label string }

func validChoice(cs []Choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}

// DefaultPriority is the priority of an alarm type unless an account
// overrides it.
func DefaultPriority(typ string) int {
	switch typ {
	case TypeFire, TypePanic, TypeMedical, TypeBombThreat:
		return PriorityLife
	case TypeBurglary, TypeTamper, TypeAlarm, TypeVideo:
		return PriorityProperty
	case TypeTrouble, TypeSupervisory, TypeCommFailure:
		return PriorityTrouble
	}
	return PriorityOther
}

// Event kinds: what a normalised signal does to alarms.
const (
	KindAlarm   = "alarm"   // raises or joins an alarm
	KindRestore = "restore" // the condition cleared: marks the open alarm restored
	KindCancel  = "cancel"  // user cancel/abort: marks the account's open alarms cancelled
	KindPoll    = "poll"    // NULL/link test: supervision only
	KindInfo    = "info"    // logged only (open/close, access, test, bypass…)
)

// Event is one normalised signal from any source (DC-09, webhook, MQTT,
// supervision). It is stored in alarm_events exactly once per DedupKey.
type Event struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	SiteID      string     `json:"site_id"`
	AccountID   string     `json:"account_id,omitempty"`
	Account     string     `json:"account"`
	Source      string     `json:"source"` // dc09, webhook, mqtt, supervision
	DedupKey    string     `json:"-"`
	ReceivedAt  time.Time  `json:"received_at"`
	EventAt     *time.Time `json:"event_at,omitempty"`
	Code        string     `json:"code"`
	Class       string     `json:"class"`
	Kind        string     `json:"kind"`
	Zone        string     `json:"zone"`
	User        string     `json:"user,omitempty"`
	Description string     `json:"description"`
	Raw         string     `json:"raw,omitempty"`
	Remote      string     `json:"remote,omitempty"`
	OnTest      bool       `json:"on_test"`
	AlarmID     string     `json:"alarm_id,omitempty"`

	// Derived for grouping, not stored on the event row.
	Type     string `json:"-"`
	Priority int    `json:"-"`
	ZoneName string `json:"-"`
	ZoneID   string `json:"-"`
	DeviceID string `json:"-"`
	SiteName string `json:"-"`
}

// classType maps a contactid/sia class (the same names) to an alarm type
// and kind.
func classType(class string) (typ, kind string) {
	switch class {
	case "fire":
		return TypeFire, KindAlarm
	case "panic":
		return TypePanic, KindAlarm
	case "medical":
		return TypeMedical, KindAlarm
	case "burglary":
		return TypeBurglary, KindAlarm
	case "tamper":
		return TypeTamper, KindAlarm
	case "alarm":
		return TypeAlarm, KindAlarm
	case "trouble":
		return TypeTrouble, KindAlarm
	case "supervisory":
		return TypeSupervisory, KindAlarm
	case "restore":
		return "", KindRestore
	}
	return TypeOther, KindInfo
}

// States of an alarm.
const (
	StateNew          = "new"
	StateAcknowledged = "acknowledged"
	StateInProgress   = "in_progress"
	StateResolved     = "resolved"
	StateClosed       = "closed"
)

// States in lifecycle order, for filters.
var States = []Choice{
	{StateNew, "New"}, {StateAcknowledged, "Acknowledged"}, {StateInProgress, "In progress"},
	{StateResolved, "Resolved"}, {StateClosed, "Closed"},
}

// Dispositions say what an alarm turned out to be.
var Dispositions = []Choice{
	{"real", "Real alarm"},
	{"false_user", "False – user error"},
	{"false_equipment", "False – equipment"},
	{"false_weather", "False – weather"},
	{"false_unknown", "False – cause unknown"},
	{"test", "Test"},
	{"cancelled_keyholder", "Cancelled by keyholder"},
	{"cancelled_user", "Cancelled by user code"},
	{"restored", "Restored, no action needed"},
}

// Alarm is what an operator works.
type Alarm struct {
	ID           string     `json:"id"`
	OrgID        string     `json:"org_id"`
	SiteID       string     `json:"site_id"`
	SiteName     string     `json:"site_name"`
	AccountID    string     `json:"account_id,omitempty"`
	Type         string     `json:"type"`
	Priority     int        `json:"priority"`
	Title        string     `json:"title"`
	Zone         string     `json:"zone"`
	ZoneName     string     `json:"zone_name"`
	ZoneID       string     `json:"zone_id,omitempty"`
	DeviceID     string     `json:"device_id,omitempty"`
	State        string     `json:"state"`
	Signals      int        `json:"signals"`
	FirstAt      time.Time  `json:"first_at"`
	LastAt       time.Time  `json:"last_at"`
	RestoredAt   *time.Time `json:"restored_at,omitempty"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	OwnerID      string     `json:"owner_id,omitempty"`
	OwnerName    string     `json:"owner_name,omitempty"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
	Escalation   int        `json:"escalation"`
	EscalatedAt  *time.Time `json:"escalated_at,omitempty"`
	DispatchedTo string     `json:"dispatched_to,omitempty"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	Disposition  string     `json:"disposition,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Version identifies the alarm's state as the console shows it, so a
// replayed live message it already shows leaves its row alone (console.js
// computes the same from the message).
func (a *Alarm) Version() string {
	flag := func(t *time.Time) int {
		if t != nil {
			return 1
		}
		return 0
	}
	return fmt.Sprintf("%d|%s|%d|%d|%d|%d", a.UpdatedAt.UnixMilli(), a.State, a.Signals, a.Escalation, flag(a.RestoredAt), flag(a.CancelledAt))
}

// Open reports whether operators still have to work the alarm.
func (a *Alarm) Open() bool { return a.State != StateResolved && a.State != StateClosed }

// LogEntry is one line of an alarm's history.
type LogEntry struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	ActorID string    `json:"actor_id,omitempty"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"` // state, note, step, dispatch, escalation, signal
	Step    string    `json:"step,omitempty"`
	Status  string    `json:"status,omitempty"`
	Text    string    `json:"text"`
}

// ZoneInfo maps a panel zone number to the site's zone/device and a name.
type ZoneInfo struct {
	Name     string `json:"name"`
	ZoneID   string `json:"zone_id,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
}

// Override changes the type and/or priority of a code for one account.
type Override struct {
	Type     string `json:"type,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

// Account is a monitored panel account.
type Account struct {
	ID           string              `json:"id"`
	OrgID        string              `json:"org_id"`
	SiteID       string              `json:"site_id"`
	Number       string              `json:"number"`
	Receiver     string              `json:"receiver"`
	Line         string              `json:"line"`
	Name         string              `json:"name"`
	KeyFormat    string              `json:"key_format"`
	KeySet       bool                `json:"key_set"`
	Encrypted    bool                `json:"encrypted"`
	Quirks       dc09.Quirks         `json:"quirks"`
	SupervisionS int                 `json:"supervision_s"`
	ZoneMap      map[string]ZoneInfo `json:"zone_map"`
	Overrides    map[string]Override `json:"overrides"`
	OnTestUntil  *time.Time          `json:"on_test_until"`
	LastSignalAt *time.Time          `json:"last_signal_at"`
	CreatedAt    time.Time           `json:"created_at"`
	UpdatedAt    time.Time           `json:"updated_at"`

	key string // key text; never leaves the store in JSON
}

// OnTest reports whether signals are logged but not alarmed at now.
func (a *Account) OnTest(now time.Time) bool {
	return a.OnTestUntil != nil && now.Before(*a.OnTestUntil)
}

// AccountInput is the body of create/update; nil fields are left unchanged
// on update.
type AccountInput struct {
	SiteID       *string             `json:"site_id,omitempty"`
	Number       *string             `json:"number,omitempty"`
	Receiver     *string             `json:"receiver,omitempty"`
	Line         *string             `json:"line,omitempty"`
	Name         *string             `json:"name,omitempty"`
	Key          *string             `json:"key,omitempty"`
	KeyFormat    *string             `json:"key_format,omitempty"`
	Encrypted    *bool               `json:"encrypted,omitempty"`
	Quirks       *dc09.Quirks        `json:"quirks,omitempty"`
	SupervisionS *int                `json:"supervision_s,omitempty"`
	ZoneMap      map[string]ZoneInfo `json:"zone_map,omitempty"`
	Overrides    map[string]Override `json:"overrides,omitempty"`
	OnTestUntil  *string             `json:"on_test_until,omitempty"` // RFC 3339, or "" to clear
}

var hexIdent = regexp.MustCompile(`^[0-9A-F]{1,16}$`)

func invalid(field, msg string) error { return &auth.FieldError{Field: field, Message: msg} }

// apply validates in and writes it into a; create requires site and number.
func (in *AccountInput) apply(a *Account, create bool) error {
	if create && (in.SiteID == nil || *in.SiteID == "") {
		return invalid("site_id", "is required")
	}
	if in.SiteID != nil {
		a.SiteID = *in.SiteID
	}
	if create && in.Number == nil {
		return invalid("number", "is required")
	}
	ident := func(field string, p *string, dst *string, required bool) error {
		if p == nil {
			return nil
		}
		v := strings.ToUpper(strings.TrimSpace(*p))
		if v == "" && !required {
			*dst = ""
			return nil
		}
		if !hexIdent.MatchString(v) {
			return invalid(field, "must be 1–16 hex digits, as the panel sends it")
		}
		*dst = v
		return nil
	}
	if err := ident("number", in.Number, &a.Number, true); err != nil {
		return err
	}
	if err := ident("receiver", in.Receiver, &a.Receiver, false); err != nil {
		return err
	}
	if err := ident("line", in.Line, &a.Line, false); err != nil {
		return err
	}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if utf8.RuneCountInString(n) > 200 {
			return invalid("name", "is longer than 200 characters")
		}
		a.Name = n
	}
	if in.KeyFormat != nil {
		a.KeyFormat = *in.KeyFormat
	}
	if in.Key != nil {
		a.key = strings.TrimSpace(*in.Key)
	}
	if a.key != "" {
		switch dc09.KeyFormat(a.KeyFormat) {
		case dc09.KeyHex, dc09.KeyASCII:
		default:
			return invalid("key_format", "must be hex or ascii when a key is set (it is never guessed)")
		}
		if _, err := dc09.ParseKey(a.key, dc09.KeyFormat(a.KeyFormat)); err != nil {
			return invalid("key", err.Error())
		}
	} else if a.KeyFormat != "" && a.KeyFormat != string(dc09.KeyHex) && a.KeyFormat != string(dc09.KeyASCII) {
		return invalid("key_format", "must be hex or ascii")
	}
	if in.Encrypted != nil {
		a.Encrypted = *in.Encrypted
	}
	if a.Encrypted && a.key == "" {
		return invalid("key", "is required for an encrypted account")
	}
	if in.Quirks != nil {
		a.Quirks = *in.Quirks
	}
	if in.SupervisionS != nil {
		if *in.SupervisionS < 0 || *in.SupervisionS > 7*24*3600 {
			return invalid("supervision_s", "must be 0 (none) to 604800 seconds")
		}
		a.SupervisionS = *in.SupervisionS
	}
	if in.ZoneMap != nil {
		if len(in.ZoneMap) > 4096 {
			return invalid("zone_map", "has more than 4096 zones")
		}
		for k, z := range in.ZoneMap {
			if _, err := strconv.Atoi(k); err != nil || len(k) > 6 {
				return invalid("zone_map", fmt.Sprintf("zone %q is not a zone number", k))
			}
			if utf8.RuneCountInString(z.Name) > 200 {
				return invalid("zone_map", "zone names are at most 200 characters")
			}
		}
		a.ZoneMap = in.ZoneMap
	}
	if in.Overrides != nil {
		if len(in.Overrides) > 1024 {
			return invalid("overrides", "has more than 1024 codes")
		}
		for code, o := range in.Overrides {
			if code == "" || len(code) > 8 {
				return invalid("overrides", fmt.Sprintf("code %q must be a SIA code or Contact ID event", code))
			}
			if o.Type != "" && !validChoice(Types, o.Type) {
				return invalid("overrides", fmt.Sprintf("code %s: unknown type %q", code, o.Type))
			}
			if o.Priority < 0 || o.Priority > PriorityOther {
				return invalid("overrides", fmt.Sprintf("code %s: priority must be 1–4", code))
			}
		}
		a.Overrides = in.Overrides
	}
	if in.OnTestUntil != nil {
		if *in.OnTestUntil == "" {
			a.OnTestUntil = nil
		} else {
			t, err := time.Parse(time.RFC3339, *in.OnTestUntil)
			if err != nil {
				return invalid("on_test_until", "must be an RFC 3339 time, e.g. 2026-11-23T18:00:00Z")
			}
			t = t.UTC()
			a.OnTestUntil = &t
		}
	}
	if a.ZoneMap == nil {
		a.ZoneMap = map[string]ZoneInfo{}
	}
	if a.Overrides == nil {
		a.Overrides = map[string]Override{}
	}
	a.KeySet = a.key != ""
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs and maps are marshalled here
	}
	return string(b)
}

// jsonStrict decodes one JSON value, refusing unknown fields.
func jsonStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
