package bus

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultRoot is the first token of every vigil subject: vigil.<org>.<module>.<event>.
const DefaultRoot = "vigil"

// maxToken bounds one subject token. Org IDs are 36-character UUIDs and module
// and event names are short words; a long token is a bug or an attack, and NATS
// subjects are sent on every message, so they are kept small.
const maxToken = 128

// ErrSubject is wrapped by every subject or filter validation error so callers
// can turn it into a 400 without parsing messages.
var ErrSubject = errors.New("bus: invalid subject")

// Subject builds vigil.<org>.<module>.<event> under DefaultRoot. Each token is
// validated because a dot or wildcard smuggled in through an org or event name
// would let a publisher write into, or a subscriber read from, another tenant's
// subjects.
func Subject(org, module, event string) (string, error) {
	return subjectUnder(DefaultRoot, org, module, event)
}

func subjectUnder(root, org, module, event string) (string, error) {
	for _, t := range [...]struct{ name, v string }{{"org", org}, {"module", module}, {"event", event}} {
		if err := ValidToken(t.v); err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrSubject, t.name, err)
		}
	}
	return root + "." + org + "." + module + "." + event, nil
}

// ValidToken reports whether s may be used as one literal subject token: not
// empty, at most 128 bytes of valid UTF-8, and free of whitespace, control
// characters, dots and the wildcards '*' and '>'.
func ValidToken(s string) error {
	if s == "" {
		return errors.New("empty token")
	}
	if len(s) > maxToken {
		return fmt.Errorf("token longer than %d bytes", maxToken)
	}
	if !utf8.ValidString(s) {
		return errors.New("token is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r == '.':
			return errors.New("token contains '.'")
		case r == '*' || r == '>':
			return fmt.Errorf("token contains wildcard %q", r)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("token contains whitespace or control character %U", r)
		}
	}
	return nil
}

// ParseSubject splits a concrete subject root.<org>.<module>.<event...> into its
// parts. The event keeps any further dotted tokens so sub-events survive.
func ParseSubject(root, subject string) (org, module, event string, err error) {
	rest, ok := strings.CutPrefix(subject, root+".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q is not under %q", ErrSubject, subject, root)
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: %q needs <org>.<module>.<event>", ErrSubject, subject)
	}
	for _, tok := range strings.Split(rest, ".") {
		if err := ValidToken(tok); err != nil {
			return "", "", "", fmt.Errorf("%w: %q: %w", ErrSubject, subject, err)
		}
	}
	return parts[0], parts[1], parts[2], nil
}

// ValidFilter checks a subscription filter under root: tokens are literal
// tokens or '*', and '>' may appear only as the last token. Filters decide
// what a browser may see, so a malformed one is refused rather than guessed at.
func ValidFilter(root, filter string) error {
	rest, ok := strings.CutPrefix(filter, root+".")
	if !ok {
		return fmt.Errorf("%w: filter %q is not under %q", ErrSubject, filter, root)
	}
	toks := strings.Split(rest, ".")
	for i, tok := range toks {
		switch tok {
		case "*":
		case ">":
			if i != len(toks)-1 {
				return fmt.Errorf("%w: filter %q: '>' must be the last token", ErrSubject, filter)
			}
		default:
			if err := ValidToken(tok); err != nil {
				return fmt.Errorf("%w: filter %q: %w", ErrSubject, filter, err)
			}
		}
	}
	return nil
}

// Match reports whether subject matches the NATS filter (with '*' and '>'
// wildcards). It walks both strings token by token without allocating, because
// the live hub calls it for every event and every connected browser.
func Match(filter, subject string) bool {
	for {
		ft, frest, fmore := strings.Cut(filter, ".")
		st, srest, smore := strings.Cut(subject, ".")
		switch {
		case ft == ">":
			return st != ""
		case ft == "*":
			if st == "" {
				return false
			}
		case ft != st:
			return false
		}
		if !fmore || !smore {
			return fmore == smore
		}
		filter, subject = frest, srest
	}
}
