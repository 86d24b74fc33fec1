package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/auth"
	"vigil/internal/store"
)

// Service stores organisations and places. Every read takes the caller's
// scope (the organisations they may see) so no query reads across tenants.
type Service struct {
	DB  *store.DB
	Now func() time.Time
}

func (s *Service) record(ctx context.Context, tx *store.Tx, p *auth.Principal, org, action, typ, id string, data any) error {
	e := audit.Entry{OrgID: org, At: s.Now(), Actor: p.Label(), Action: action, ObjectType: typ, ObjectID: id, Data: data}
	if p != nil {
		e.ActorID = p.UserID
	}
	return audit.Append(ctx, tx, e)
}

// in is store.In, named short for the many scoped queries.
var in = store.In

// Page bounds a list query.
type Page struct{ Limit, Offset int }

func (p Page) norm() Page {
	if p.Limit <= 0 || p.Limit > 500 {
		p.Limit = 50
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// ---- organisations ----

const orgCols = `id, COALESCE(parent_id, ''), kind, name, slug, timezone, created_at, updated_at`

func scanOrg(sc interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	if err := sc.Scan(&o.ID, &o.ParentID, &o.Kind, &o.Name, &o.Slug, &o.Timezone, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

// CreateOrg adds an organisation inside tx. p is nil when the CLI or first
// start creates it.
func (s *Service) CreateOrg(ctx context.Context, tx *store.Tx, o *Org, p *auth.Principal) error {
	if err := o.Validate(); err != nil {
		return err
	}
	now := s.Now().UTC()
	o.ID, o.CreatedAt, o.UpdatedAt = store.NewID(), now, now
	var parent any
	if o.ParentID != "" {
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM orgs WHERE id = ?`, o.ParentID).Scan(&kind); err != nil {
			return invalid("parent_id", "is not a known organisation")
		}
		if kind != "operator" {
			return invalid("parent_id", "must be an operator organisation")
		}
		parent = o.ParentID
	}
	_, err := tx.Exec(ctx, `INSERT INTO orgs (id, parent_id, kind, name, slug, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, parent, o.Kind, o.Name, o.Slug, o.Timezone, now, now)
	if errors.Is(err, store.ErrConflict) {
		return invalid("slug", "is already used by another organisation")
	}
	if err != nil {
		return fmt.Errorf("create org: %w", err)
	}
	data := map[string]any{"name": o.Name, "slug": o.Slug, "kind": o.Kind}
	if err := s.record(ctx, tx, p, o.ID, "org.create", "org", o.ID, data); err != nil {
		return err
	}
	if o.ParentID != "" {
		return s.record(ctx, tx, p, o.ParentID, "org.create", "org", o.ID, data)
	}
	return nil
}

// Org returns one organisation within scope.
func (s *Service) Org(ctx context.Context, scope []string, id string) (*Org, error) {
	ph, args := in(scope)
	return scanOrg(s.DB.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = ? AND id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// OrgBySlug returns an organisation by slug, unscoped: for the CLI and the
// public hotline, which address organisations by name.
func (s *Service) OrgBySlug(ctx context.Context, slug string) (*Org, error) {
	return scanOrg(s.DB.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE slug = ?`, strings.ToLower(slug)))
}

// Orgs lists the organisations in scope, operators first, then by name.
func (s *Service) Orgs(ctx context.Context, scope []string, q string, pg Page) ([]*Org, error) {
	pg = pg.norm()
	ph, args := in(scope)
	query := `SELECT ` + orgCols + ` FROM orgs WHERE id IN (` + ph + `)`
	if q != "" {
		query += ` AND (name ` + s.DB.Dialect.Like() + ` ? OR slug ` + s.DB.Dialect.Like() + ` ?)`
		args = append(args, like(q), like(q))
	}
	query += ` ORDER BY CASE kind WHEN 'operator' THEN 0 ELSE 1 END, name LIMIT ? OFFSET ?`
	rows, err := s.DB.Query(ctx, query, append(args, pg.Limit, pg.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	var out []*Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateOrg changes an organisation's name and time zone (slugs are stable:
// they appear in public hotline URLs).
func (s *Service) UpdateOrg(ctx context.Context, o *Org, p *auth.Principal) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.UpdatedAt = s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE orgs SET name = ?, timezone = ?, updated_at = ? WHERE id = ?`, o.Name, o.Timezone, o.UpdatedAt, o.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, o.ID, "org.update", "org", o.ID, map[string]any{"name": o.Name, "timezone": o.Timezone})
	})
}

// ErrInUse is returned when deleting something that still has dependants.
var ErrInUse = errors.New("still in use")

// DeleteOrg removes an empty client organisation (no sites, no members).
func (s *Service) DeleteOrg(ctx context.Context, o *Org, p *auth.Principal) error {
	if o.Kind == "operator" {
		return invalid("kind", "the operator organisation cannot be deleted")
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM sites WHERE org_id = ?) + (SELECT COUNT(*) FROM memberships WHERE org_id = ?)`, o.ID, o.ID).Scan(&n)
		if n > 0 {
			return fmt.Errorf("organisation has sites or members: %w", ErrInUse)
		}
		for _, q := range []string{`DELETE FROM invitations WHERE org_id = ?`, `DELETE FROM sessions WHERE org_id = ?`, `DELETE FROM orgs WHERE id = ?`} {
			if _, err := tx.Exec(ctx, q, o.ID); err != nil {
				return err
			}
		}
		// The deleted org's own chain stays (audit rows are never deleted);
		// the parent's chain records the deletion.
		return s.record(ctx, tx, p, o.ParentID, "org.delete", "org", o.ID, map[string]any{"slug": o.Slug})
	})
}

// CountOrgs returns how many organisations exist.
func (s *Service) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}

func like(q string) string {
	q = strings.NewReplacer("%", "", "_", "").Replace(strings.TrimSpace(q))
	return "%" + q + "%"
}

// ---- sites ----

const siteCols = `id, org_id, name, code, address, city, region, postal_code, country, timezone, latitude, longitude, phone, notes, created_at, updated_at`

func scanSite(sc interface{ Scan(...any) error }) (*Site, error) {
	var x Site
	var lat, lon sql.NullFloat64
	err := sc.Scan(&x.ID, &x.OrgID, &x.Name, &x.Code, &x.Address, &x.City, &x.Region, &x.PostalCode, &x.Country,
		&x.Timezone, &lat, &lon, &x.Phone, &x.Notes, &x.CreatedAt, &x.UpdatedAt)
	if err != nil {
		return nil, store.NotFound(err)
	}
	if lat.Valid && lon.Valid {
		x.Latitude, x.Longitude = &lat.Float64, &lon.Float64
	}
	x.CreatedAt, x.UpdatedAt = x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return &x, nil
}

func (x *Site) args() []any {
	var lat, lon any
	if x.Latitude != nil {
		lat, lon = *x.Latitude, *x.Longitude
	}
	return []any{x.Name, x.Code, x.Address, x.City, x.Region, x.PostalCode, x.Country, x.Timezone, lat, lon, x.Phone, x.Notes}
}

// CreateSite adds a site to x.OrgID (already authorised by the caller).
func (s *Service) CreateSite(ctx context.Context, x *Site, p *auth.Principal) error {
	if err := x.Validate(); err != nil {
		return err
	}
	now := s.Now().UTC()
	x.ID, x.CreatedAt, x.UpdatedAt = store.NewID(), now, now
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		return s.CreateSiteTx(ctx, tx, x, p)
	})
}

// CreateSiteTx is CreateSite inside an existing transaction (demo loader).
func (s *Service) CreateSiteTx(ctx context.Context, tx *store.Tx, x *Site, p *auth.Principal) error {
	if x.ID == "" {
		if err := x.Validate(); err != nil {
			return err
		}
		now := s.Now().UTC()
		x.ID, x.CreatedAt, x.UpdatedAt = store.NewID(), now, now
	}
	args := append([]any{x.ID, x.OrgID}, x.args()...)
	if _, err := tx.Exec(ctx, `INSERT INTO sites (`+siteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, x.CreatedAt, x.UpdatedAt)...); err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	return s.record(ctx, tx, p, x.OrgID, "site.create", "site", x.ID, x)
}

// Site returns one site within scope.
func (s *Service) Site(ctx context.Context, scope []string, id string) (*Site, error) {
	ph, args := in(scope)
	return scanSite(s.DB.QueryRow(ctx, `SELECT `+siteCols+` FROM sites WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// SiteFilter narrows a site list.
type SiteFilter struct {
	OrgID string // "" = every org in scope
	Q     string // name, code, city or address contains
}

// Sites lists sites in scope, by name.
func (s *Service) Sites(ctx context.Context, scope []string, f SiteFilter, pg Page) ([]*Site, error) {
	pg = pg.norm()
	ph, args := in(scope)
	q := `SELECT ` + siteCols + ` FROM sites WHERE org_id IN (` + ph + `)`
	if f.OrgID != "" {
		q += ` AND org_id = ?`
		args = append(args, f.OrgID)
	}
	if f.Q != "" {
		l := s.DB.Dialect.Like()
		q += ` AND (name ` + l + ` ? OR code ` + l + ` ? OR city ` + l + ` ? OR address ` + l + ` ?)`
		v := like(f.Q)
		args = append(args, v, v, v, v)
	}
	q += ` ORDER BY name, id LIMIT ? OFFSET ?`
	rows, err := s.DB.Query(ctx, q, append(args, pg.Limit, pg.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []*Site
	for rows.Next() {
		x, err := scanSite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// UpdateSite saves a site's fields.
func (s *Service) UpdateSite(ctx context.Context, x *Site, p *auth.Principal) error {
	if err := x.Validate(); err != nil {
		return err
	}
	x.UpdatedAt = s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sites SET name = ?, code = ?, address = ?, city = ?, region = ?, postal_code = ?, country = ?,
			timezone = ?, latitude = ?, longitude = ?, phone = ?, notes = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			append(x.args(), x.UpdatedAt, x.ID, x.OrgID)...)
		if err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, x.OrgID, "site.update", "site", x.ID, x)
	})
}

// DeleteSite removes a site with its zones, devices and contacts.
func (s *Service) DeleteSite(ctx context.Context, x *Site, p *auth.Principal) error {
	return s.deleteRow(ctx, p, x.OrgID, "site", x.ID, `DELETE FROM sites WHERE id = ? AND org_id = ?`, map[string]any{"name": x.Name})
}

func (s *Service) deleteRow(ctx context.Context, p *auth.Principal, org, typ, id, q string, data any) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, q, id, org)
		if err != nil {
			return fmt.Errorf("delete %s: %w", typ, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, org, typ+".delete", typ, id, data)
	})
}

// ---- contacts ----

const contactCols = `id, org_id, site_id, name, role, phone, email, keyholder, call_order, created_at`

// AddContact adds a contact to a site.
func (s *Service) AddContact(ctx context.Context, c *Contact, p *auth.Principal) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.ID, c.CreatedAt = store.NewID(), s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error { return s.AddContactTx(ctx, tx, c, p) })
}

// AddContactTx adds a validated contact inside tx.
func (s *Service) AddContactTx(ctx context.Context, tx *store.Tx, c *Contact, p *auth.Principal) error {
	if c.ID == "" {
		if err := c.Validate(); err != nil {
			return err
		}
		c.ID, c.CreatedAt = store.NewID(), s.Now().UTC()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO site_contacts (`+contactCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.OrgID, c.SiteID, c.Name, c.Role, c.Phone, c.Email, c.Keyholder, c.CallOrder, c.CreatedAt); err != nil {
		return fmt.Errorf("add contact: %w", err)
	}
	return s.record(ctx, tx, p, c.OrgID, "contact.create", "contact", c.ID, c)
}

// Contacts lists a site's contacts in call order.
func (s *Service) Contacts(ctx context.Context, site *Site) ([]*Contact, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+contactCols+` FROM site_contacts WHERE site_id = ? AND org_id = ? ORDER BY call_order, name`, site.ID, site.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Contact
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.ID, &c.OrgID, &c.SiteID, &c.Name, &c.Role, &c.Phone, &c.Email, &c.Keyholder, &c.CallOrder, &c.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// DeleteContact removes a contact of a site.
func (s *Service) DeleteContact(ctx context.Context, site *Site, id string, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM site_contacts WHERE id = ? AND site_id = ? AND org_id = ?`, id, site.ID, site.OrgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, site.OrgID, "contact.delete", "contact", id, nil)
	})
}

// ---- zones ----

const zoneCols = `id, org_id, site_id, name, number, description, created_at, updated_at`

func scanZone(sc interface{ Scan(...any) error }) (*Zone, error) {
	var z Zone
	var num sql.NullInt64
	if err := sc.Scan(&z.ID, &z.OrgID, &z.SiteID, &z.Name, &num, &z.Description, &z.CreatedAt, &z.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	if num.Valid {
		n := int(num.Int64)
		z.Number = &n
	}
	return &z, nil
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateZone adds a zone to a site (z.SiteID and z.OrgID set from the site).
func (s *Service) CreateZone(ctx context.Context, z *Zone, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error { return s.CreateZoneTx(ctx, tx, z, p) })
}

// CreateZoneTx adds a zone inside tx.
func (s *Service) CreateZoneTx(ctx context.Context, tx *store.Tx, z *Zone, p *auth.Principal) error {
	if err := z.Validate(); err != nil {
		return err
	}
	now := s.Now().UTC()
	z.ID, z.CreatedAt, z.UpdatedAt = store.NewID(), now, now
	if _, err := tx.Exec(ctx, `INSERT INTO zones (`+zoneCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		z.ID, z.OrgID, z.SiteID, z.Name, intOrNil(z.Number), z.Description, now, now); err != nil {
		return fmt.Errorf("create zone: %w", err)
	}
	return s.record(ctx, tx, p, z.OrgID, "zone.create", "zone", z.ID, z)
}

// Zone returns one zone within scope.
func (s *Service) Zone(ctx context.Context, scope []string, id string) (*Zone, error) {
	ph, args := in(scope)
	return scanZone(s.DB.QueryRow(ctx, `SELECT `+zoneCols+` FROM zones WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// Zones lists a site's zones.
func (s *Service) Zones(ctx context.Context, site *Site) ([]*Zone, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+zoneCols+` FROM zones WHERE site_id = ? AND org_id = ? ORDER BY number, name`, site.ID, site.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Zone
	for rows.Next() {
		z, err := scanZone(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, rows.Err()
}

// UpdateZone saves a zone.
func (s *Service) UpdateZone(ctx context.Context, z *Zone, p *auth.Principal) error {
	if err := z.Validate(); err != nil {
		return err
	}
	z.UpdatedAt = s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE zones SET name = ?, number = ?, description = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			z.Name, intOrNil(z.Number), z.Description, z.UpdatedAt, z.ID, z.OrgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, z.OrgID, "zone.update", "zone", z.ID, z)
	})
}

// DeleteZone removes a zone; its devices stay on the site without a zone.
func (s *Service) DeleteZone(ctx context.Context, z *Zone, p *auth.Principal) error {
	return s.deleteRow(ctx, p, z.OrgID, "zone", z.ID, `DELETE FROM zones WHERE id = ? AND org_id = ?`, map[string]any{"name": z.Name})
}

// ---- devices ----

const deviceCols = `id, org_id, site_id, COALESCE(zone_id, ''), type, name, make, model, serial, installed_on, status, notes, created_at, updated_at`

func scanDevice(sc interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	if err := sc.Scan(&d.ID, &d.OrgID, &d.SiteID, &d.ZoneID, &d.Type, &d.Name, &d.Make, &d.Model, &d.Serial, &d.InstalledOn,
		&d.Status, &d.Notes, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, store.NotFound(err)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

func (s *Service) checkZone(ctx context.Context, q store.Querier, d *Device) error {
	if d.ZoneID == "" {
		return nil
	}
	var site string
	if err := q.QueryRow(ctx, `SELECT site_id FROM zones WHERE id = ? AND org_id = ?`, d.ZoneID, d.OrgID).Scan(&site); err != nil || site != d.SiteID {
		return invalid("zone_id", "is not a zone of this site")
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateDevice adds a device to a site.
func (s *Service) CreateDevice(ctx context.Context, d *Device, p *auth.Principal) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error { return s.CreateDeviceTx(ctx, tx, d, p) })
}

// CreateDeviceTx adds a device inside tx.
func (s *Service) CreateDeviceTx(ctx context.Context, tx *store.Tx, d *Device, p *auth.Principal) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if err := s.checkZone(ctx, tx, d); err != nil {
		return err
	}
	now := s.Now().UTC()
	d.ID, d.CreatedAt, d.UpdatedAt = store.NewID(), now, now
	if _, err := tx.Exec(ctx, `INSERT INTO devices (id, org_id, site_id, zone_id, type, name, make, model, serial, installed_on, status, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.OrgID, d.SiteID, nullStr(d.ZoneID), d.Type, d.Name, d.Make, d.Model,
		d.Serial, d.InstalledOn, d.Status, d.Notes, now, now); err != nil {
		return fmt.Errorf("create device: %w", err)
	}
	return s.record(ctx, tx, p, d.OrgID, "device.create", "device", d.ID, d)
}

// Device returns one device within scope.
func (s *Service) Device(ctx context.Context, scope []string, id string) (*Device, error) {
	ph, args := in(scope)
	return scanDevice(s.DB.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ? AND org_id IN (`+ph+`)`, append([]any{id}, args...)...))
}

// DeviceFilter narrows a device list.
type DeviceFilter struct {
	OrgID, SiteID, ZoneID, Type, Status, Q string
}

// Devices lists devices in scope.
func (s *Service) Devices(ctx context.Context, scope []string, f DeviceFilter, pg Page) ([]*Device, error) {
	pg = pg.norm()
	ph, args := in(scope)
	q := `SELECT ` + deviceCols + ` FROM devices WHERE org_id IN (` + ph + `)`
	for _, c := range []struct{ col, v string }{{"org_id", f.OrgID}, {"site_id", f.SiteID}, {"zone_id", f.ZoneID}, {"type", f.Type}, {"status", f.Status}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.Q != "" {
		l := s.DB.Dialect.Like()
		q += ` AND (name ` + l + ` ? OR serial ` + l + ` ? OR make ` + l + ` ? OR model ` + l + ` ?)`
		v := like(f.Q)
		args = append(args, v, v, v, v)
	}
	q += ` ORDER BY name, id LIMIT ? OFFSET ?`
	rows, err := s.DB.Query(ctx, q, append(args, pg.Limit, pg.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []*Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDevice saves a device (it stays on its site).
func (s *Service) UpdateDevice(ctx context.Context, d *Device, p *auth.Principal) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.UpdatedAt = s.Now().UTC()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.checkZone(ctx, tx, d); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE devices SET zone_id = ?, type = ?, name = ?, make = ?, model = ?, serial = ?, installed_on = ?,
			status = ?, notes = ?, updated_at = ? WHERE id = ? AND org_id = ?`, nullStr(d.ZoneID), d.Type, d.Name, d.Make, d.Model, d.Serial,
			d.InstalledOn, d.Status, d.Notes, d.UpdatedAt, d.ID, d.OrgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, p, d.OrgID, "device.update", "device", d.ID, d)
	})
}

// DeleteDevice removes a device.
func (s *Service) DeleteDevice(ctx context.Context, d *Device, p *auth.Principal) error {
	return s.deleteRow(ctx, p, d.OrgID, "device", d.ID, `DELETE FROM devices WHERE id = ? AND org_id = ?`, map[string]any{"name": d.Name})
}
