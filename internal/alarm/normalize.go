package alarm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/alarm/contactid"
	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
	"vigil/internal/alarm/sia"
)

// cancelCodes are user cancel/abort reports: they do not raise an alarm but
// tell the operator the user on site called it off.
var cancelCodes = map[string]bool{"AB": true, "BC": true, "FC": true, "OC": true}

// FromSignal turns one accepted DC-09 frame into events (a SIA block may
// carry several). Each event's dedup key is the frame's DedupKey plus its
// index, so a retransmitted frame is recorded once. A payload that cannot
// be decoded is still recorded (the frame was valid and will be ACKed) as
// an "other" alarm, so nothing a panel sent is silently dropped.
func FromSignal(sig receiver.Signal, acct *Account, siteName string) []Event {
	f := sig.Frame
	base := Event{
		OrgID: acct.OrgID, SiteID: acct.SiteID, AccountID: acct.ID, Account: f.Account,
		Source: "dc09", ReceivedAt: sig.ReceivedAt.UTC(), Remote: sig.Remote,
		Raw: printable(sig.Raw), OnTest: acct.OnTest(sig.ReceivedAt), SiteName: siteName,
	}
	if f.HasTimestamp {
		t := f.Timestamp.UTC()
		base.EventAt = &t
	}
	key := sig.DedupKey()
	var out []Event
	add := func(e Event) {
		e.DedupKey = key + "#" + strconv.Itoa(len(out))
		acct.decorate(&e)
		out = append(out, e)
	}
	switch f.Token {
	case dc09.TokenNull:
		e := base
		e.Class, e.Kind, e.Description = "poll", KindPoll, "Supervision poll"
		add(e)
	case dc09.TokenCID:
		ce, err := contactid.ParseDC09(f.Data)
		if err != nil {
			add(undecodable(base, err))
			break
		}
		e := base
		info := ce.Info()
		e.Code = fmt.Sprintf("%03d", ce.Code)
		e.Class = string(ce.Class())
		e.Description = ce.Meaning()
		n := strconv.Itoa(ce.Number)
		if ce.Kind() == contactid.NumberUser {
			e.User = n
		} else if ce.Number != 0 {
			e.Zone = n
		}
		e.Type, e.Kind = classType(string(info.Class))
		switch {
		case ce.Code == 406:
			e.Kind = KindCancel
		case ce.Qualifier == contactid.QualifierRestore && info.Class != contactid.ClassOpenClose:
			e.Kind = KindRestore
		}
		add(e)
	case dc09.TokenSIA:
		m, err := sia.Parse(f.Data)
		if err != nil {
			add(undecodable(base, err))
			break
		}
		for _, se := range m.Events {
			e := base
			info := se.Info()
			e.Code = se.Code
			e.Class = string(info.Class)
			e.Description = info.Meaning
			if se.Text != "" {
				e.Description += ": " + printable([]byte(se.Text))
			}
			num := strings.TrimLeft(se.Number, "0")
			switch {
			case strings.HasPrefix(info.Number, "Zone"), strings.HasPrefix(info.Number, "Point"):
				e.Zone = num
			case strings.HasPrefix(info.Number, "User"):
				e.User = num
			}
			if se.User != "" {
				e.User = se.User
			}
			e.Type, e.Kind = classType(e.Class)
			switch {
			case cancelCodes[se.Code]:
				e.Kind = KindCancel
			case e.Kind == KindRestore:
				if rs := sia.Restores(se.Code); len(rs) > 0 {
					c, _ := sia.Lookup(rs[0])
					e.Type, _ = classType(string(c.Class))
				}
			}
			add(e)
		}
		if len(m.Events) == 0 {
			e := base
			e.Class, e.Kind, e.Description = "other", KindInfo, "SIA block without events"
			add(e)
		}
	default:
		e := base
		e.Class, e.Kind, e.Description = "other", KindInfo, "Unsupported token "+f.Token
		add(e)
	}
	return out
}

func undecodable(base Event, err error) Event {
	e := base
	e.Class, e.Kind, e.Type = "other", KindAlarm, TypeOther
	e.Description = "Undecodable payload: " + err.Error()
	return e
}

// decorate applies the account's zone map and code overrides and the
// default priority. Restores keep the type of what they restore.
func (a *Account) decorate(e *Event) {
	if e.Zone != "" {
		if z, ok := a.ZoneMap[e.Zone]; ok {
			e.ZoneName, e.ZoneID, e.DeviceID = z.Name, z.ZoneID, z.DeviceID
		}
	}
	if o, ok := a.Overrides[e.Code]; ok && e.Kind != KindRestore && e.Kind != KindCancel {
		if o.Type != "" {
			e.Type = o.Type
			if e.Kind == KindInfo {
				e.Kind = KindAlarm // an override promotes an informational code
			}
		}
		if o.Priority != 0 {
			e.Priority = o.Priority
		}
	}
	if e.Priority == 0 && e.Type != "" {
		e.Priority = DefaultPriority(e.Type)
	}
	if e.OnTest && e.Kind == KindAlarm {
		e.Kind = KindInfo // on test: logged, not alarmed
	}
}

// groupKey identifies the alarm repeat signals join: one open alarm per
// account (or source), zone and type.
func groupKey(e *Event) string {
	ref := e.AccountID
	if ref == "" {
		ref = e.Source + ":" + e.Account
	}
	return ref + "|" + e.Zone + "|" + e.Type
}

func (e *Event) title() string {
	t := e.Description
	if e.ZoneName != "" {
		t += " — " + e.ZoneName
	} else if e.Zone != "" {
		t += " — zone " + e.Zone
	}
	return truncate(t, 200)
}

// printable keeps raw frames readable and bounded in the database: control
// bytes (LF, CR, encrypted payloads) are shown as \xNN.
func printable(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b) && sb.Len() < 2048; {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 || r < 0x20 || r == 0x7f {
			fmt.Fprintf(&sb, "\\x%02X", b[i])
			i++
			continue
		}
		sb.WriteRune(r)
		i += n
	}
	return sb.String()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// utcPtr returns a pointer to a UTC copy of t.
func utcPtr(t time.Time) *time.Time { t = t.UTC(); return &t }
