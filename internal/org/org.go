// Package org holds the tenants and the places they protect: organisations
// (the operator and its clients), sites with contacts and keyholders, zones
// within sites, and the devices installed there.
package org

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
	"vigil/internal/auth"
)

// Org is a tenant. Kind is "operator" (the security department or company
// running vigil) or "client" (an organisation it protects).
type Org struct {
	ID        string    `json:"id"`
	ParentID  string    `json:"parent_id,omitempty"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	Timezone  string    `json:"timezone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Site is a protected place.
type Site struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	Name       string    `json:"name"`
	Code       string    `json:"code"`
	Address    string    `json:"address"`
	City       string    `json:"city"`
	Region     string    `json:"region"`
	PostalCode string    `json:"postal_code"`
	Country    string    `json:"country"`
	Timezone   string    `json:"timezone"`
	Latitude   *float64  `json:"latitude"`
	Longitude  *float64  `json:"longitude"`
	Phone      string    `json:"phone"`
	Notes      string    `json:"notes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Contact is a person to call about a site; keyholders can open it.
type Contact struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	SiteID    string    `json:"site_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Phone     string    `json:"phone"`
	Email     string    `json:"email"`
	Keyholder bool      `json:"keyholder"`
	CallOrder int       `json:"call_order"`
	CreatedAt time.Time `json:"created_at"`
}

// Zone is an area within a site (a floor, a loading dock, a perimeter).
type Zone struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	SiteID      string    `json:"site_id"`
	Name        string    `json:"name"`
	Number      *int      `json:"number"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Device is installed equipment at a site.
type Device struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	SiteID      string    `json:"site_id"`
	ZoneID      string    `json:"zone_id,omitempty"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Make        string    `json:"make"`
	Model       string    `json:"model"`
	Serial      string    `json:"serial"`
	InstalledOn string    `json:"installed_on"` // YYYY-MM-DD or ""
	Status      string    `json:"status"`
	Notes       string    `json:"notes"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DeviceTypes are the kinds of device vigil knows, with labels for forms.
var DeviceTypes = []Choice{
	{"intrusion_panel", "Intrusion panel"},
	{"door_reader", "Door / card reader"},
	{"camera", "Camera"},
	{"fire_panel", "Fire panel"},
	{"motion_detector", "Motion detector"},
	{"glass_break_detector", "Glass-break detector"},
	{"explosives_detector", "Explosives detector"},
	{"intercom", "Intercom"},
	{"other", "Other"},
}

// TypeLabel is the device type's human label.
func (d *Device) TypeLabel() string { return choiceLabel(DeviceTypes, d.Type) }

// StatusLabel is the device status's human label.
func (d *Device) StatusLabel() string { return choiceLabel(DeviceStatuses, d.Status) }

// MakeModel is "make model" without stray spaces.
func (d *Device) MakeModel() string { return strings.TrimSpace(d.Make + " " + d.Model) }

// FullAddress joins the address parts that are set.
func (s *Site) FullAddress() string {
	var parts []string
	for _, p := range []string{s.Address, s.City, strings.TrimSpace(s.Region + " " + s.PostalCode), s.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// DeviceStatuses are a device's possible states.
var DeviceStatuses = []Choice{
	{"active", "Active"},
	{"maintenance", "In maintenance"},
	{"faulty", "Faulty"},
	{"offline", "Offline"},
	{"retired", "Retired"},
}

// Choice is a value with its label.
type Choice struct{ Value, Label string }

func valid(cs []Choice, v string) bool {
	for _, c := range cs {
		if c.Value == v {
			return true
		}
	}
	return false
}

// FieldError is a validation failure naming the offending field (one type
// for the whole app, so the web layer turns any of them into a 400).
type FieldError = auth.FieldError

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", invalid(field, "is required")
	}
	if utf8.RuneCountInString(v) > max {
		return "", invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", invalid(field, "contains invalid characters")
	}
	return v, nil
}

// textField is one free-text input: trimmed, checked, written back.
type textField struct {
	name     string
	v        *string
	required bool
	max      int
}

func texts(fs ...textField) error {
	for _, f := range fs {
		v, err := text(f.name, *f.v, f.required, f.max)
		if err != nil {
			return err
		}
		*f.v = v
	}
	return nil
}

func timezone(field, v string) (string, error) {
	if v == "" {
		return "", invalid(field, "is required (an IANA name such as Europe/London)")
	}
	if _, err := time.LoadLocation(v); err != nil || v == "Local" {
		return "", invalid(field, "is not a known IANA time zone")
	}
	return v, nil
}

// Validate normalises and checks an organisation.
func (o *Org) Validate() error {
	var err error
	if o.Name, err = text("name", o.Name, true, 200); err != nil {
		return err
	}
	o.Slug = strings.ToLower(strings.TrimSpace(o.Slug))
	if !slugRE.MatchString(o.Slug) {
		return invalid("slug", "must be 1–63 lower-case letters, digits or hyphens")
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	if o.Timezone, err = timezone("timezone", o.Timezone); err != nil {
		return err
	}
	if o.Kind != "operator" && o.Kind != "client" {
		return invalid("kind", "must be operator or client")
	}
	if o.Kind == "client" && o.ParentID == "" {
		return invalid("parent_id", "is required for a client organisation")
	}
	return nil
}

// Validate normalises and checks a site.
func (s *Site) Validate() error {
	if err := texts(
		textField{"name", &s.Name, true, 200}, textField{"code", &s.Code, false, 40}, textField{"address", &s.Address, false, 500},
		textField{"city", &s.City, false, 100}, textField{"region", &s.Region, false, 100}, textField{"postal_code", &s.PostalCode, false, 20},
		textField{"country", &s.Country, false, 100}, textField{"phone", &s.Phone, false, 50}, textField{"notes", &s.Notes, false, 5000},
	); err != nil {
		return err
	}
	var err error
	if s.Timezone, err = timezone("timezone", s.Timezone); err != nil {
		return err
	}
	if (s.Latitude == nil) != (s.Longitude == nil) {
		return invalid("latitude", "latitude and longitude go together")
	}
	if s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90) {
		return invalid("latitude", "must be between -90 and 90")
	}
	if s.Longitude != nil && (*s.Longitude < -180 || *s.Longitude > 180) {
		return invalid("longitude", "must be between -180 and 180")
	}
	return nil
}

// Validate normalises and checks a contact.
func (c *Contact) Validate() error {
	if err := texts(textField{"name", &c.Name, true, 200}, textField{"role", &c.Role, false, 100},
		textField{"phone", &c.Phone, false, 50}, textField{"email", &c.Email, false, 254}); err != nil {
		return err
	}
	if c.Email != "" && !strings.Contains(c.Email, "@") {
		return invalid("email", "is not a valid email address")
	}
	if c.Phone == "" && c.Email == "" {
		return invalid("phone", "a phone number or an email is required")
	}
	if c.CallOrder < 0 || c.CallOrder > 999 {
		return invalid("call_order", "must be between 0 and 999")
	}
	return nil
}

// Validate normalises and checks a zone.
func (z *Zone) Validate() error {
	if err := texts(textField{"name", &z.Name, true, 200}, textField{"description", &z.Description, false, 2000}); err != nil {
		return err
	}
	if z.Number != nil && (*z.Number < 0 || *z.Number > 99999) {
		return invalid("number", "must be between 0 and 99999")
	}
	return nil
}

// Validate normalises and checks a device.
func (d *Device) Validate() error {
	var err error
	if !valid(DeviceTypes, d.Type) {
		return invalid("type", "is not a known device type")
	}
	if d.Status == "" {
		d.Status = "active"
	}
	if !valid(DeviceStatuses, d.Status) {
		return invalid("status", "is not a known device status")
	}
	if err = texts(textField{"name", &d.Name, true, 200}, textField{"make", &d.Make, false, 100}, textField{"model", &d.Model, false, 100},
		textField{"serial", &d.Serial, false, 100}, textField{"notes", &d.Notes, false, 5000}); err != nil {
		return err
	}
	d.InstalledOn = strings.TrimSpace(d.InstalledOn)
	if d.InstalledOn != "" {
		if _, err := time.Parse("2006-01-02", d.InstalledOn); err != nil {
			return invalid("installed_on", "must be a date as YYYY-MM-DD")
		}
	}
	return nil
}

func invalid(field, msg string) error { return &FieldError{Field: field, Message: msg} }
