package alarm

import (
	"encoding/binary"
	"errors"
	"time"
)

// The SQLite inbox file stores a group commit's events in a compact binary
// form instead of JSON: every signal is encoded when the receiver commits
// and decoded when it is applied, and at tens of thousands of signals per
// second JSON cost a tenth of the server's CPU. The layout is a version
// byte, then per event its strings (uvarint length + bytes) and numbers
// (varints) in the order of eventFields. PostgreSQL's inbox table keeps
// JSON (a TEXT column).

const inboxCodecV1 = 1

var errInboxCodec = errors.New("alarm inbox: malformed row")

// strFields lists an event's string fields in their encoded order.
func strFields(e *Event) [21]*string {
	return [21]*string{&e.ID, &e.OrgID, &e.SiteID, &e.AccountID, &e.Account, &e.Source, &e.DedupKey, &e.Code, &e.Class, &e.Kind,
		&e.Zone, &e.User, &e.Description, &e.Raw, &e.Remote, &e.AlarmID, &e.Type, &e.ZoneName, &e.ZoneID, &e.DeviceID, &e.SiteName}
}

// encodeEvents appends events in the inbox's binary form to b.
func encodeEvents(b []byte, events []Event) []byte {
	b = append(b, inboxCodecV1)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for i := range events {
		e := &events[i]
		for _, p := range strFields(e) {
			b = binary.AppendUvarint(b, uint64(len(*p)))
			b = append(b, *p...)
		}
		b = binary.AppendVarint(b, e.ReceivedAt.UnixNano())
		var flags uint64
		if e.OnTest {
			flags |= 1
		}
		if e.EventAt != nil {
			flags |= 2
		}
		b = binary.AppendUvarint(b, flags)
		if e.EventAt != nil {
			b = binary.AppendVarint(b, e.EventAt.UnixNano())
		}
		b = binary.AppendVarint(b, int64(e.Priority))
	}
	return b
}

// decodeEvents reads what encodeEvents wrote. Any other input is an error,
// never a panic, and allocates at most in proportion to len(b).
func decodeEvents(b []byte) ([]Event, error) {
	d := decoder{b: b}
	if len(b) == 0 || d.byte() != inboxCodecV1 {
		return nil, errInboxCodec
	}
	n := d.uvarint()
	// An event takes at least 24 bytes: bound the allocation by the input.
	if d.err != nil || n > uint64(len(b))/24 {
		return nil, errInboxCodec
	}
	events := make([]Event, n)
	for i := range events {
		e := &events[i]
		for _, p := range strFields(e) {
			*p = d.string()
		}
		e.ReceivedAt = time.Unix(0, d.varint()).UTC()
		flags := d.uvarint()
		e.OnTest = flags&1 != 0
		if flags&2 != 0 {
			t := time.Unix(0, d.varint()).UTC()
			e.EventAt = &t
		}
		e.Priority = int(d.varint())
		if d.err != nil {
			return nil, d.err
		}
	}
	if len(d.b) != 0 {
		return nil, errInboxCodec
	}
	return events, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errInboxCodec, nil }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint takes one varint off d with read (binary.Uvarint or Varint).
func readVarint[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
