package alarmcli

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"vigil/internal/alarm/contactid"
	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/sia"
)

// frameJSON is the JSON shape of a decoded frame (decode and listen).
type frameJSON struct {
	Valid        bool        `json:"valid"`
	CRC          string      `json:"crc"`
	CRCOK        bool        `json:"crc_ok"`
	CRCBinary    bool        `json:"crc_binary,omitempty"`
	Length       string      `json:"length"`
	BodyLength   int         `json:"body_length"`
	LengthOK     bool        `json:"length_ok"`
	Token        string      `json:"token,omitempty"`
	Encrypted    bool        `json:"encrypted"`
	Sequence     string      `json:"sequence,omitempty"`
	Receiver     *string     `json:"receiver,omitempty"`
	Line         *string     `json:"line,omitempty"`
	Account      string      `json:"account,omitempty"`
	Data         *string     `json:"data,omitempty"`
	XData        []xdataJSON `json:"xdata,omitempty"`
	Timestamp    string      `json:"timestamp,omitempty"`
	SIA          *siaJSON    `json:"sia,omitempty"`
	CID          *cidJSON    `json:"cid,omitempty"`
	PayloadError string      `json:"payload_error,omitempty"`
	Error        string      `json:"error,omitempty"`
	Response     string      `json:"response"`
	Reply        string      `json:"reply,omitempty"`
}

type xdataJSON struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type siaJSON struct {
	Account string `json:"account,omitempty"`
	siaEventJSON
	Events []siaEventJSON `json:"events,omitempty"` // all events when the block has more than one
}

type siaEventJSON struct {
	Code       string `json:"code"`
	Meaning    string `json:"meaning"`
	Class      string `json:"class"`
	Number     string `json:"number,omitempty"`
	NumberKind string `json:"number_kind,omitempty"`
	Zone       string `json:"zone,omitempty"`
	Area       string `json:"area,omitempty"`
	AreaName   string `json:"area_name,omitempty"`
	User       string `json:"user,omitempty"`
	Time       string `json:"time,omitempty"`
	Text       string `json:"text,omitempty"`
	Extra      string `json:"extra,omitempty"`
}

type cidJSON struct {
	Account   string `json:"account,omitempty"`
	Qualifier int    `json:"qualifier"`
	Event     string `json:"event"`
	Meaning   string `json:"meaning"`
	Class     string `json:"class"`
	Partition int    `json:"partition"`
	Zone      *int   `json:"zone,omitempty"`
	User      *int   `json:"user,omitempty"`
	SIACode   string `json:"sia_code,omitempty"`
}

// describeEnvelope fills the fields every parsed frame has.
func describeEnvelope(out *frameJSON, f *dc09.Frame, q dc09.Quirks) {
	out.CRC = fmt.Sprintf("%04X", f.CRC)
	out.CRCBinary = f.CRCBinary
	out.CRCOK = f.CRCOK(q) && (!f.CRCBinary || q.BinaryCRC || q.Lenient)
	out.Length = f.LengthField
	out.BodyLength = f.BodyLen
	out.LengthOK = f.LengthOK(q)
	out.Token = f.Token
	out.Encrypted = f.Encrypted
	out.Sequence = f.Sequence
	if f.HasReceiver {
		out.Receiver = &f.Receiver
	}
	if f.HasLine {
		out.Line = &f.Line
	}
	out.Account = f.Account
}

// describeContent fills data, x-data, timestamp and the decoded payload.
func describeContent(out *frameJSON, f *dc09.Frame) {
	if f.Encrypted && !f.Decrypted {
		return
	}
	d := win1252(f.Data)
	out.Data = &d
	for _, x := range f.XData {
		out.XData = append(out.XData, xdataJSON{ID: string(x.ID), Value: win1252(string(x.Value))})
	}
	if f.HasTimestamp {
		out.Timestamp = f.Timestamp.UTC().Format(time.RFC3339)
	}
	switch f.Token {
	case dc09.TokenSIA:
		m, err := sia.Parse(f.Data)
		if err != nil {
			out.PayloadError = err.Error()
			return
		}
		s := &siaJSON{Account: m.Account}
		for i, e := range m.Events {
			ej := siaEvent(e)
			if i == 0 {
				s.siaEventJSON = ej
			}
			if len(m.Events) > 1 {
				s.Events = append(s.Events, ej)
			}
		}
		if m.Text != "" && s.Text == "" {
			s.Text = m.Text
		}
		out.SIA = s
	case dc09.TokenCID:
		e, err := contactid.ParseDC09(f.Data)
		if err != nil {
			out.PayloadError = err.Error()
			return
		}
		c := &cidJSON{Account: e.Account, Qualifier: int(e.Qualifier), Event: fmt.Sprintf("%03d", e.Code),
			Meaning: e.Meaning(), Class: string(e.Class()), Partition: e.Partition, SIACode: e.SIACode()}
		n := e.Number
		if e.Kind() == contactid.NumberUser {
			c.User = &n
		} else {
			c.Zone = &n
		}
		out.CID = c
	}
}

func siaEvent(e sia.Event) siaEventJSON {
	info := e.Info()
	j := siaEventJSON{Code: e.Code, Meaning: info.Meaning, Class: string(info.Class), Number: e.Number,
		NumberKind: info.Number, Area: e.Area, AreaName: win1252(e.AreaName), User: e.User, Time: e.Time,
		Text: win1252(e.Text), Extra: win1252(e.Extra)}
	switch {
	case strings.HasPrefix(info.Number, "Zone"), strings.HasPrefix(info.Number, "Point"):
		j.Zone = e.Number
	case strings.HasPrefix(info.Number, "User") && j.User == "":
		j.User = e.Number
	case strings.HasPrefix(info.Number, "Area") && j.Area == "":
		j.Area = e.Number
	}
	return j
}

// cp1252 maps Windows-1252's 0x80-0x9F; the rest of 0xA0-0xFF is Latin-1.
var cp1252 = [32]rune{
	'€', 0xFFFD, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0xFFFD, 'Ž', 0xFFFD,
	0xFFFD, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0xFFFD, 'ž', 'Ÿ',
}

// win1252 renders panel text for JSON. DC-09 text fields are Windows-1252;
// the CRC was checked over the raw bytes already, so converting here is safe.
// Valid UTF-8 is passed through (some panels send it).
func win1252(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xA0:
			sb.WriteRune(cp1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}
