package alarm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/auth"
	"vigil/internal/store"
)

// Source is a non-panel signal source of a site: a webhook (video
// analytics, access control) or an MQTT subscription (IoT sensors).
type Source struct {
	ID        string                 `json:"id"`
	OrgID     string                 `json:"org_id"`
	SiteID    string                 `json:"site_id"`
	Kind      string                 `json:"kind"` // webhook, mqtt
	Name      string                 `json:"name"`
	BrokerURL string                 `json:"broker_url,omitempty"`
	Topic     string                 `json:"topic,omitempty"`
	DeviceMap map[string]DeviceRoute `json:"device_map"`
	// Token is shown once, when a webhook source is created; only its hash
	// is stored.
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	siteName string // for live messages of MQTT events
}

// DeviceRoute maps an MQTT topic (or a webhook "device" value) to a zone
// and device of the site, and the alarm type its messages raise.
type DeviceRoute struct {
	Zone     string `json:"zone,omitempty"`
	Name     string `json:"name,omitempty"`
	ZoneID   string `json:"zone_id,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
	Type     string `json:"type,omitempty"`
}

// SourceInput creates a source.
type SourceInput struct {
	SiteID    string                 `json:"site_id"`
	Kind      string                 `json:"kind"`
	Name      string                 `json:"name"`
	BrokerURL string                 `json:"broker_url,omitempty"`
	Topic     string                 `json:"topic,omitempty"`
	DeviceMap map[string]DeviceRoute `json:"device_map,omitempty"`
}

// Validate checks the input.
func (in *SourceInput) Validate() error {
	if in.SiteID == "" {
		return invalid("site_id", "is required")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); n == 0 || n > 200 {
		return invalid("name", "must be 1–200 characters")
	}
	switch in.Kind {
	case "webhook":
		if in.BrokerURL != "" || in.Topic != "" {
			return invalid("broker_url", "is only for MQTT sources")
		}
	case "mqtt":
		u, err := url.Parse(in.BrokerURL)
		if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "mqtt" && u.Scheme != "mqtts" && u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return invalid("broker_url", "must be tcp://host:port (or ssl://, ws://, wss://)")
		}
		if in.Topic == "" || len(in.Topic) > 200 || strings.ContainsAny(in.Topic, "\x00") {
			return invalid("topic", "is required (MQTT wildcards + and # allowed), at most 200 bytes")
		}
	default:
		return invalid("kind", "must be webhook or mqtt")
	}
	if len(in.DeviceMap) > 1000 {
		return invalid("device_map", "has more than 1000 entries")
	}
	for k, d := range in.DeviceMap {
		if k == "" || len(k) > 200 {
			return invalid("device_map", "keys must be 1–200 bytes")
		}
		if d.Type != "" && !validChoice(Types, d.Type) {
			return invalid("device_map", fmt.Sprintf("%s: unknown type %q", k, d.Type))
		}
	}
	return nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// CreateSource adds a source; a webhook source gets a fresh secret token.
func (s *Service) CreateSource(ctx context.Context, scope []string, in SourceInput, p *auth.Principal) (*Source, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	src := &Source{ID: store.NewID(), SiteID: in.SiteID, Kind: in.Kind, Name: strings.TrimSpace(in.Name), BrokerURL: in.BrokerURL,
		Topic: in.Topic, DeviceMap: in.DeviceMap, CreatedAt: now}
	if src.DeviceMap == nil {
		src.DeviceMap = map[string]DeviceRoute{}
	}
	var tokenHash any
	if in.Kind == "webhook" {
		var b [24]byte
		rand.Read(b[:])
		src.Token = "whk_" + base64.RawURLEncoding.EncodeToString(b[:])
		tokenHash = hashToken(src.Token)
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		org, err := s.siteOrg(ctx, tx, scope, in.SiteID)
		if err != nil {
			return err
		}
		src.OrgID = org
		if _, err := tx.Exec(ctx, `INSERT INTO alarm_sources (id, org_id, site_id, kind, name, token_hash, broker_url, topic, device_map, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, src.ID, src.OrgID, src.SiteID, src.Kind, src.Name, tokenHash, src.BrokerURL, src.Topic,
			mustJSON(src.DeviceMap), now, now); err != nil {
			return fmt.Errorf("create source: %w", err)
		}
		return s.record(ctx, tx, p, src.OrgID, "alarm_source.create", "alarm_source", src.ID,
			map[string]any{"kind": src.Kind, "name": src.Name, "site_id": src.SiteID, "topic": src.Topic})
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

const sourceCols = `s.id, s.org_id, s.site_id, s.kind, s.name, s.broker_url, s.topic, s.device_map, s.created_at, COALESCE(t.name, '')`

func scanSource(sc scanner) (*Source, string, error) {
	var src Source
	var dm, site string
	if err := sc.Scan(&src.ID, &src.OrgID, &src.SiteID, &src.Kind, &src.Name, &src.BrokerURL, &src.Topic, &dm, &src.CreatedAt, &site); err != nil {
		return nil, "", store.NotFound(err)
	}
	if err := json.Unmarshal([]byte(dm), &src.DeviceMap); err != nil {
		return nil, "", fmt.Errorf("source %s: device map: %w", src.ID, err)
	}
	src.CreatedAt = src.CreatedAt.UTC()
	src.siteName = site
	return &src, site, nil
}

// Sources lists sources within scope (kind "" = all).
func (s *Service) Sources(ctx context.Context, scope []string, kind string) ([]*Source, error) {
	q := `SELECT ` + sourceCols + ` FROM alarm_sources s LEFT JOIN sites t ON t.id = s.site_id`
	var args []any
	if scope != nil {
		ph, a := in(scope)
		q += ` WHERE s.org_id IN (` + ph + `)`
		args = a
	} else {
		q += ` WHERE 1 = 1`
	}
	if kind != "" {
		q += ` AND s.kind = ?`
		args = append(args, kind)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY s.name, s.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Source{}
	for rows.Next() {
		src, _, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Source returns one source within scope.
func (s *Service) Source(ctx context.Context, scope []string, id string) (*Source, error) {
	ph, args := in(scope)
	src, _, err := scanSource(s.DB.QueryRow(ctx, `SELECT `+sourceCols+` FROM alarm_sources s LEFT JOIN sites t ON t.id = s.site_id
		WHERE s.id = ? AND s.org_id IN (`+ph+`)`, append([]any{id}, args...)...))
	return src, err
}

// UpdateSource changes a source's site (within its organisation), name,
// broker, topic and device map. Its kind stays, and so does a webhook's
// secret address: the sending system needs no change.
func (s *Service) UpdateSource(ctx context.Context, scope []string, src *Source, in SourceInput, p *auth.Principal) (*Source, error) {
	in.Kind = src.Kind
	if err := in.Validate(); err != nil {
		return nil, err
	}
	out := *src
	out.SiteID, out.Name, out.BrokerURL, out.Topic, out.DeviceMap = in.SiteID, strings.TrimSpace(in.Name), in.BrokerURL, in.Topic, in.DeviceMap
	if out.DeviceMap == nil {
		out.DeviceMap = map[string]DeviceRoute{}
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		org, err := s.siteOrg(ctx, tx, scope, in.SiteID)
		if err != nil {
			return err
		}
		if org != src.OrgID {
			return invalid("site_id", "must be a site of the source's own organisation")
		}
		if _, err := tx.Exec(ctx, `UPDATE alarm_sources SET site_id = ?, name = ?, broker_url = ?, topic = ?, device_map = ?, updated_at = ?
			WHERE id = ? AND org_id = ?`, out.SiteID, out.Name, out.BrokerURL, out.Topic, mustJSON(out.DeviceMap), s.Now().UTC(), src.ID, src.OrgID); err != nil {
			return fmt.Errorf("update source: %w", err)
		}
		return s.record(ctx, tx, p, src.OrgID, "alarm_source.update", "alarm_source", src.ID, map[string]any{
			"before": map[string]any{"name": src.Name, "site_id": src.SiteID, "broker_url": src.BrokerURL, "topic": src.Topic, "devices": len(src.DeviceMap)},
			"after":  map[string]any{"name": out.Name, "site_id": out.SiteID, "broker_url": out.BrokerURL, "topic": out.Topic, "devices": len(out.DeviceMap)}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSource removes a source (its token stops working at once).
func (s *Service) DeleteSource(ctx context.Context, src *Source, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alarm_sources WHERE id = ? AND org_id = ?`, src.ID, src.OrgID); err != nil {
			return err
		}
		return s.record(ctx, tx, p, src.OrgID, "alarm_source.delete", "alarm_source", src.ID, map[string]any{"name": src.Name})
	})
}

// sourceByToken finds the webhook source a secret token belongs to.
func (s *Service) sourceByToken(ctx context.Context, token string) (*Source, string, error) {
	return scanSource(s.DB.QueryRow(ctx, `SELECT `+sourceCols+` FROM alarm_sources s LEFT JOIN sites t ON t.id = s.site_id
		WHERE s.token_hash = ? AND s.kind = 'webhook'`, hashToken(token)))
}

// IngestEvent is one event posted to a webhook or published over MQTT.
type IngestEvent struct {
	// ID makes retries idempotent: the same ID from the same source is
	// recorded once. Without it, identical payloads within 10 s are one.
	ID          string `json:"id,omitempty"`
	Type        string `json:"type,omitempty"` // an alarm type; default from the device map, else "other"
	Code        string `json:"code,omitempty"`
	Device      string `json:"device,omitempty"` // key into the source's device map
	Zone        string `json:"zone,omitempty"`
	Description string `json:"description,omitempty"`
	Priority    int    `json:"priority,omitempty"`
	Restore     bool   `json:"restore,omitempty"`
	Info        bool   `json:"info,omitempty"` // log only, no alarm
	At          string `json:"at,omitempty"`   // RFC 3339 time of the event at the source
}

// Validate checks one event.
func (e *IngestEvent) Validate() error {
	if len(e.ID) > 200 || len(e.Code) > 40 || len(e.Device) > 200 || len(e.Zone) > 40 {
		return invalid("event", "id, code, device or zone is too long")
	}
	if e.Type != "" && !validChoice(Types, e.Type) {
		return invalid("type", "is not a known alarm type")
	}
	if e.Priority < 0 || e.Priority > PriorityOther {
		return invalid("priority", "must be 1–4")
	}
	if utf8.RuneCountInString(e.Description) > 500 {
		return invalid("description", "is longer than 500 characters")
	}
	if e.At != "" {
		if _, err := time.Parse(time.RFC3339, e.At); err != nil {
			return invalid("at", "must be an RFC 3339 time")
		}
	}
	return nil
}

// normalize turns an ingested event into the common Event. route is the
// device-map entry (by Device, or by the MQTT topic).
func (src *Source) normalize(in IngestEvent, route string, siteName string, raw []byte, now time.Time) Event {
	e := Event{OrgID: src.OrgID, SiteID: src.SiteID, Account: truncate(src.Name, 60), Source: src.Kind, ReceivedAt: now,
		Code: in.Code, Zone: in.Zone, Description: in.Description, Raw: printable(raw), SiteName: siteName, Priority: in.Priority}
	if in.At != "" {
		t, _ := time.Parse(time.RFC3339, in.At)
		e.EventAt = utcPtr(t)
	}
	e.Type = in.Type
	if d, ok := src.DeviceMap[route]; ok {
		if e.Zone == "" {
			e.Zone = d.Zone
		}
		e.ZoneName, e.ZoneID, e.DeviceID = d.Name, d.ZoneID, d.DeviceID
		if e.Type == "" {
			e.Type = d.Type
		}
	}
	if e.Type == "" {
		e.Type = TypeOther
	}
	if e.Description == "" {
		e.Description = dispositionLabelType(e.Type)
		if route != "" {
			e.Description += " (" + truncate(route, 80) + ")"
		}
	}
	e.Class = e.Type
	switch {
	case in.Restore:
		e.Kind = KindRestore
	case in.Info:
		e.Kind = KindInfo
	default:
		e.Kind = KindAlarm
	}
	if e.Priority == 0 {
		e.Priority = DefaultPriority(e.Type)
	}
	// Group per source, not per whole account namespace.
	e.Account = src.ID
	if in.ID != "" {
		e.DedupKey = src.Kind + "/" + src.ID + "/" + in.ID
	} else {
		h := sha256.Sum256(append([]byte(route+"\x00"), raw...))
		e.DedupKey = fmt.Sprintf("%s/%s/%x/%d", src.Kind, src.ID, h[:12], now.Unix()/10)
	}
	return e
}

func dispositionLabelType(t string) string {
	for _, c := range Types {
		if c.Value == t {
			return c.Label
		}
	}
	return t
}
