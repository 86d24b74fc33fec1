// Package custody is the chain-of-custody ledger's arithmetic: each transfer
// of a piece of evidence is a link whose hash covers the previous link's
// hash, the evidence's content hash and the link's own fields. Links are
// only ever appended, so editing, removing or reordering any stored link
// makes Verify name it. The package is pure: callers load and store links.
package custody

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Link is one entry of an evidence item's chain: intake (seq 1) or a transfer.
type Link struct {
	EvidenceID     string    `json:"evidence_id"`
	EvidenceSHA256 string    `json:"evidence_sha256"` // content hash for digital evidence, "" for physical
	Seq            int       `json:"seq"`
	Action         string    `json:"action"` // "intake" or "transfer"
	FromUserID     string    `json:"from_user_id"`
	FromName       string    `json:"from_name"`
	ToUserID       string    `json:"to_user_id"`
	ToName         string    `json:"to_name"`
	At             time.Time `json:"at"`
	Reason         string    `json:"reason"`
	Condition      string    `json:"condition"`
	Location       string    `json:"location"`
	SignedByID     string    `json:"signed_by_id"`
	SignedBy       string    `json:"signed_by"`
	PrevHash       string    `json:"prev_hash"`
	Hash           string    `json:"hash"`
}

// canonical is the exact byte string a link's hash covers. Times are UTC
// with microsecond precision, which both SQL engines keep.
func (l *Link) canonical() []byte {
	b, _ := json.Marshal([]any{l.EvidenceID, l.EvidenceSHA256, l.Seq, l.Action, l.FromUserID, l.FromName, l.ToUserID, l.ToName,
		l.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), l.Reason, l.Condition, l.Location, l.SignedByID, l.SignedBy})
	return b
}

// Compute returns the link's hash given its PrevHash.
func (l *Link) Compute() string {
	h := sha256.New()
	h.Write([]byte(l.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(l.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets the link's place after prev (nil for intake) and its hash.
func (l *Link) Seal(prev *Link) {
	l.At = l.At.UTC().Truncate(time.Microsecond)
	if prev == nil {
		l.Seq, l.PrevHash = 1, ""
	} else {
		l.Seq, l.PrevHash = prev.Seq+1, prev.Hash
	}
	l.Hash = l.Compute()
}

// Break says where a chain first fails and why.
type Break struct {
	Seq    int
	Reason string
}

func (b *Break) Error() string { return fmt.Sprintf("custody link %d: %s", b.Seq, b.Reason) }

// Verify checks a whole chain in order for one evidence item whose content
// hash is sha. It returns nil when every link is intact.
func Verify(chain []Link, evidenceID, sha string) *Break {
	if len(chain) == 0 {
		return &Break{Seq: 0, Reason: "no intake record"}
	}
	prev := ""
	for i := range chain {
		l := &chain[i]
		switch {
		case l.Seq != i+1:
			return &Break{Seq: i + 1, Reason: fmt.Sprintf("link %d is missing or out of order (found %d)", i+1, l.Seq)}
		case l.EvidenceID != evidenceID || l.EvidenceSHA256 != sha:
			return &Break{Seq: l.Seq, Reason: "belongs to different evidence"}
		case i == 0 && l.Action != "intake", i > 0 && l.Action != "transfer":
			return &Break{Seq: l.Seq, Reason: "unexpected action " + l.Action}
		case i > 0 && l.FromUserID != chain[i-1].ToUserID:
			return &Break{Seq: l.Seq, Reason: "transferred by someone who did not hold it"}
		case l.PrevHash != prev:
			return &Break{Seq: l.Seq, Reason: "does not follow the previous link"}
		case l.Compute() != l.Hash:
			return &Break{Seq: l.Seq, Reason: "was altered after it was recorded"}
		}
		prev = l.Hash
	}
	return nil
}
