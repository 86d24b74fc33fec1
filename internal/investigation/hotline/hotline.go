// Package hotline holds the pure parts of the anonymous reporting line: the
// reporter's case key and password, and the keyed hash that lets the server
// rate-limit a source without ever storing its address.
//
// A case key is 16 Crockford base32 symbols (80 random bits), shown as
// XXXX-XXXX-XXXX-XXXX. People copy keys by hand from paper, so parsing is
// forgiving: case, spaces and dashes are ignored and the look-alikes O, I
// and L read as 0, 1 and 1. The server stores only SHA-256 of the canonical
// key; 80 bits make an offline search of that hash impractical, and online
// guessing is throttled per source and locked per report.
package hotline

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// alphabet is Crockford's base32: no I, L, O or U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// KeyLen and PasswordLen are the numbers of symbols (5 bits each).
const (
	KeyLen      = 16
	PasswordLen = 12
)

// ErrMalformed is returned for text that cannot be a key or password.
var ErrMalformed = errors.New("not a valid case key")

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	out := make([]byte, n)
	for i, c := range b {
		out[i] = alphabet[c&31] // 256 is a multiple of 32: no modulo bias
	}
	return string(out)
}

// group inserts a dash every four symbols for legibility.
func group(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// NewKey returns a fresh case key, grouped for display.
func NewKey() string { return group(random(KeyLen)) }

// NewPassword returns a fresh reporter password (60 bits), grouped.
func NewPassword() string { return group(random(PasswordLen)) }

// canonical normalises s to n Crockford symbols, or fails. Inputs longer
// than a few times the key are refused before any work.
func canonical(s string, n int) (string, error) {
	if len(s) > 4*n {
		return "", ErrMalformed
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if strings.IndexByte(alphabet, c) < 0 {
			return "", ErrMalformed
		}
		out = append(out, c)
	}
	if len(out) != n {
		return "", ErrMalformed
	}
	return string(out), nil
}

// ParseKey returns the canonical form of a key as typed by a reporter.
func ParseKey(s string) (string, error) { return canonical(s, KeyLen) }

// ParsePassword returns the canonical form of a reporter password.
func ParsePassword(s string) (string, error) { return canonical(s, PasswordLen) }

// KeyHash is what the database stores in place of a canonical key.
func KeyHash(canonicalKey string) string {
	h := sha256.Sum256([]byte("vigil-hotline-key\x00" + canonicalKey))
	return hex.EncodeToString(h[:])
}

// Window is the start of the rate-limit window holding t: one hour, so a
// bucket's secret can be discarded at most two hours after it was made.
func Window(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// Bucket is the throttle counter's name for one kind of attempt (report,
// failed access) from one source in one window: HMAC-SHA256 under that
// window's random secret. Without the secret, which is deleted after the
// window, a bucket cannot be tied back to an address, even by trying every
// IPv4 address.
func Bucket(secret []byte, kind, source string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(source))
	return hex.EncodeToString(m.Sum(nil))
}

// NewSecret returns a fresh window secret, hex encoded.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
