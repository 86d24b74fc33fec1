// Package demo loads a realistic demonstration tenant set: a contract
// security company, three client organisations with sites, zones, devices
// and contacts, and one user for every role.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"vigil/internal/alarm"
	"vigil/internal/auth"
	"vigil/internal/org"
	"vigil/internal/store"
)

// Account is a demo sign-in printed for the person trying vigil.
type Account struct {
	Email, Password, Org string
	Role                 auth.Role
}

// ErrNotEmpty is returned when the database already holds organisations.
var ErrNotEmpty = errors.New("the database already has organisations; the demo loads only into an empty database")

type device struct{ typ, name, make, model string }

type site struct {
	name, code, address, city, region, postal, tz, phone, notes string
	lat, lon                                                    float64
	zones                                                       []string
	devices                                                     []device
	contacts                                                    []org.Contact
}

type client struct {
	name, slug, tz string
	sites          []site
	clientUser     string
}

var clients = []client{
	{"Harbor Logistics", "harbor-logistics", "America/New_York", []site{
		{"Port Newark Distribution Center", "HL-PNW", "1200 Corbin St", "Newark", "NJ", "07114", "America/New_York", "+1 973 555 0140",
			"Gate 3 is the only 24h entrance. Hazmat cage in Dock B.", 40.6895, -74.1496,
			[]string{"Perimeter fence", "Gate 3", "Dock A", "Dock B (hazmat)", "Office block"},
			[]device{{"intrusion_panel", "Main intrusion panel", "Honeywell", "Vista-128BPT"}, {"camera", "Gate 3 ANPR camera", "Axis", "P1465-LE-3"},
				{"camera", "Dock B PTZ", "Axis", "Q6135-LE"}, {"door_reader", "Office main door reader", "HID", "Signo 40"},
				{"motion_detector", "Dock A PIR 1", "Bosch", "ISC-BPR2"}, {"fire_panel", "Fire alarm panel", "Notifier", "NFS2-3030"}},
			[]org.Contact{{Name: "Dana Whitfield", Role: "Facility manager", Phone: "+1 973 555 0141", Email: "dana.whitfield@harbor.example", Keyholder: true, CallOrder: 1},
				{Name: "Marcus Lee", Role: "Night supervisor", Phone: "+1 973 555 0142", Keyholder: true, CallOrder: 2}}},
		{"Elizabeth Cold Storage", "HL-ECS", "88 Trumbull St", "Elizabeth", "NJ", "07206", "America/New_York", "+1 908 555 0110",
			"Ammonia refrigeration: do not enter the plant room during an alarm.", 40.6640, -74.1967,
			[]string{"Loading bays", "Freezer hall", "Plant room"},
			[]device{{"intrusion_panel", "Intrusion panel", "DSC", "PowerSeries Neo HS2128"}, {"camera", "Loading bay camera 1", "Hanwha", "XNO-8080R"},
				{"glass_break_detector", "Office glass-break", "Honeywell", "FG-1625"}},
			[]org.Contact{{Name: "Priya Natarajan", Role: "Operations lead", Phone: "+1 908 555 0111", Keyholder: true, CallOrder: 1}}},
	}, "client@harbor.demo"},
	{"Northgate Medical Center", "northgate-medical", "America/Chicago", []site{
		{"Northgate Main Hospital", "NMC-MAIN", "4500 N Western Ave", "Chicago", "IL", "60625", "America/Chicago", "+1 312 555 0100",
			"Emergency department entrance staffed 24/7. Pharmacy vault requires two-person access.", 41.9631, -87.6887,
			[]string{"Emergency department", "Pharmacy", "Maternity ward", "Parking structure", "Roof helipad"},
			[]device{{"door_reader", "Pharmacy vault reader", "HID", "iCLASS SE RK40"}, {"camera", "ED entrance camera", "Avigilon", "H5A-DO"},
				{"intercom", "Maternity ward intercom", "Aiphone", "IX-DV"}, {"fire_panel", "Main fire panel", "Siemens", "FireFinder XLS"},
				{"camera", "Parking level 2 camera", "Avigilon", "H5SL-BO"}, {"motion_detector", "Helipad access PIR", "Optex", "VX-402R"}},
			[]org.Contact{{Name: "Dr. Helen Okafor", Role: "Director of facilities", Phone: "+1 312 555 0101", Email: "h.okafor@northgate.example", CallOrder: 1},
				{Name: "Tom Brandt", Role: "Security lead", Phone: "+1 312 555 0102", Keyholder: true, CallOrder: 2}}},
		{"Northgate Outpatient Clinic", "NMC-OPC", "2100 W Lawrence Ave", "Chicago", "IL", "60625", "America/Chicago", "+1 312 555 0120",
			"", 41.9686, -87.6836, []string{"Reception", "Records room"},
			[]device{{"intrusion_panel", "Clinic intrusion panel", "Bosch", "B6512"}, {"door_reader", "Records room reader", "HID", "Signo 20"}},
			[]org.Contact{{Name: "Alicia Gomez", Role: "Clinic manager", Phone: "+1 312 555 0121", Keyholder: true, CallOrder: 1}}},
	}, "client@northgate.demo"},
	{"Riverside Mall", "riverside-mall", "America/Los_Angeles", []site{
		{"Riverside Mall", "RM-01", "3485 Tyler St", "Riverside", "CA", "92503", "America/Los_Angeles", "+1 951 555 0190",
			"Anchor stores have their own alarm contracts; we cover the common areas and car parks.", 33.9106, -117.4564,
			[]string{"North car park", "South car park", "Food court", "Service corridor", "Management office"},
			[]device{{"camera", "Food court dome 1", "Hikvision", "DS-2CD2346G2"}, {"camera", "North car park LPR", "Genetec", "AutoVu SharpZ3"},
				{"intrusion_panel", "Management office panel", "Ajax", "Hub 2 Plus"}, {"explosives_detector", "Loading dock trace detector", "Smiths", "IONSCAN 600"},
				{"door_reader", "Service corridor reader", "Suprema", "BioEntry W3"}},
			[]org.Contact{{Name: "Kevin Osei", Role: "General manager", Phone: "+1 951 555 0191", Email: "kosei@riverside.example", Keyholder: true, CallOrder: 1}}},
	}, ""},
}

var staff = []struct {
	name string
	role auth.Role
}{
	{"Olivia Owner", auth.Owner}, {"Adam Admin", auth.Admin}, {"Maria Manager", auth.Manager}, {"Sam Supervisor", auth.Supervisor},
	{"Diego Dispatcher", auth.Dispatcher}, {"Omar Officer", auth.Officer}, {"Iris Investigator", auth.Investigator}, {"Aude Auditor", auth.Auditor},
}

// panels are the demo sites' alarm panel accounts by site code: a frame
// from one of them (vigil alarm send --account 1001 …) shows up on the
// console at once, its zone numbers named after the site's zones.
var panels = map[string]string{"HL-PNW": "1001", "HL-ECS": "1002", "NMC-MAIN": "2001", "NMC-OPC": "2002", "RM-01": "3001"}

// Load creates the demo in an empty database and returns the accounts.
func Load(ctx context.Context, db *store.DB, a *auth.Service, os *org.Service) ([]Account, error) {
	var accounts []Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrNotEmpty
		}
		op := &org.Org{Kind: "operator", Name: "Sentinel Security Services", Slug: "sentinel", Timezone: "America/New_York"}
		if err := os.CreateOrg(ctx, tx, op, nil); err != nil {
			return fmt.Errorf("operator: %w", err)
		}
		for _, s := range staff {
			acc := Account{Email: string(s.role) + "@sentinel.demo", Password: auth.RandomPassword(), Org: op.Name, Role: s.role}
			if _, err := a.CreateUser(ctx, tx, auth.NewUser{Email: acc.Email, Name: s.name, Password: acc.Password, OrgID: op.ID, Role: s.role}, nil); err != nil {
				return err
			}
			accounts = append(accounts, acc)
		}
		for _, c := range clients {
			o := &org.Org{Kind: "client", Name: c.name, Slug: c.slug, Timezone: c.tz, ParentID: op.ID}
			if err := os.CreateOrg(ctx, tx, o, nil); err != nil {
				return fmt.Errorf("client %s: %w", c.name, err)
			}
			for _, s := range c.sites {
				if err := loadSite(ctx, tx, os, o.ID, s); err != nil {
					return err
				}
			}
			if c.clientUser != "" {
				acc := Account{Email: c.clientUser, Password: auth.RandomPassword(), Org: c.name, Role: auth.Client}
				if _, err := a.CreateUser(ctx, tx, auth.NewUser{Email: acc.Email, Name: c.name + " portal", Password: acc.Password, OrgID: o.ID, Role: auth.Client}, nil); err != nil {
					return err
				}
				accounts = append(accounts, acc)
			}
		}
		return nil
	})
	return accounts, err
}

func loadSite(ctx context.Context, tx *store.Tx, os *org.Service, orgID string, s site) error {
	lat, lon := s.lat, s.lon
	x := &org.Site{OrgID: orgID, Name: s.name, Code: s.code, Address: s.address, City: s.city, Region: s.region, PostalCode: s.postal,
		Country: "United States", Timezone: s.tz, Latitude: &lat, Longitude: &lon, Phone: s.phone, Notes: s.notes}
	if err := os.CreateSiteTx(ctx, tx, x, nil); err != nil {
		return fmt.Errorf("site %s: %w", s.name, err)
	}
	var zones []*org.Zone
	zoneMap := map[string]alarm.ZoneInfo{}
	for i, name := range s.zones {
		n := i + 1
		z := &org.Zone{OrgID: orgID, SiteID: x.ID, Name: name, Number: &n}
		if err := os.CreateZoneTx(ctx, tx, z, nil); err != nil {
			return err
		}
		zones = append(zones, z)
		zoneMap[strconv.Itoa(n)] = alarm.ZoneInfo{Name: name, ZoneID: z.ID}
	}
	if number := panels[s.code]; number != "" {
		name := s.name + " panel"
		in := alarm.AccountInput{SiteID: &x.ID, Number: &number, Name: &name, ZoneMap: zoneMap}
		if _, err := (&alarm.Service{Now: time.Now}).CreateAccountTx(ctx, tx, []string{orgID}, in, nil); err != nil {
			return fmt.Errorf("alarm account %s: %w", number, err)
		}
	}
	for i, d := range s.devices {
		dev := &org.Device{OrgID: orgID, SiteID: x.ID, ZoneID: zones[i%len(zones)].ID, Type: d.typ, Name: d.name, Make: d.make, Model: d.model,
			Serial: fmt.Sprintf("%s-%04d", s.code, 1001+i), InstalledOn: fmt.Sprintf("202%d-0%d-1%d", 1+i%4, 1+i%9, i%9), Status: "active"}
		if i == 2 {
			dev.Status = "maintenance"
		}
		if err := os.CreateDeviceTx(ctx, tx, dev, nil); err != nil {
			return err
		}
	}
	for _, c := range s.contacts {
		c.OrgID, c.SiteID = orgID, x.ID
		if err := os.AddContactTx(ctx, tx, &c, nil); err != nil {
			return err
		}
	}
	return nil
}

// Bootstrap creates the operator organisation and its owner on first start
// of an empty database, returning the one-time password (the owner must
// change it at first sign-in). It does nothing if any organisation exists.
func Bootstrap(ctx context.Context, db *store.DB, a *auth.Service, os *org.Service, orgName, email string) (password string, created bool, err error) {
	err = db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n); err != nil || n > 0 {
			return err
		}
		op := &org.Org{Kind: "operator", Name: orgName, Slug: org.Slugify(orgName), Timezone: "UTC"}
		if err := os.CreateOrg(ctx, tx, op, nil); err != nil {
			return err
		}
		password = auth.RandomPassword()
		if _, err := a.CreateUser(ctx, tx, auth.NewUser{Email: email, Name: "Owner", Password: password, OrgID: op.ID, Role: auth.Owner,
			MustChangePassword: true}, nil); err != nil {
			return err
		}
		created = true
		return nil
	})
	return password, created, err
}
