package live

import (
	"strconv"
	"strings"

	"vigil/internal/bus"
)

// event is one bus message prepared for every client at once: the SSE frame is
// encoded once and the same bytes are written to each stream.
type event struct {
	seq     uint64
	subject string
	frame   []byte
}

// newEvent encodes m as an SSE frame, or returns nil for subjects that are not
// <root>.<org>.<module>.<event> (raw core-NATS traffic that the stream caught).
func newEvent(root string, m bus.Msg) *event {
	_, module, name, err := bus.ParseSubject(root, m.Subject)
	if err != nil {
		return nil
	}
	return &event{seq: m.Seq, subject: m.Subject, frame: encodeFrame(m.Seq, module+"."+name, m.Data)}
}

// encodeFrame writes "id: <seq>\nevent: <name>\ndata: <line>\n...\n\n". Data
// is split on every line ending SSE recognises (CRLF, LF, CR) so a payload with
// newlines cannot end the frame early or inject fields.
func encodeFrame(seq uint64, name string, data []byte) []byte {
	b := make([]byte, 0, len(data)+len(name)+40)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, "\nevent: "...)
	b = append(b, name...)
	b = append(b, '\n')
	if len(data) == 0 {
		// Browsers silently drop events whose data is empty.
		return append(b, "data: null\n\n"...)
	}
	rest := string(data)
	for {
		i := strings.IndexAny(rest, "\r\n")
		b = append(b, "data: "...)
		if i < 0 {
			b = append(b, rest...)
			b = append(b, '\n')
			break
		}
		b = append(b, rest[:i]...)
		b = append(b, '\n')
		if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
			i++
		}
		rest = rest[i+1:]
	}
	return append(b, '\n')
}
