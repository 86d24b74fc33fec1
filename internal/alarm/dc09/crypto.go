package dc09

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// KeyFormat says how an account's configured key text becomes key bytes.
// Both conventions exist in the field and a 32-character key is valid in
// either (AES-128 as hex, AES-256 as characters), so the format is stored
// per account and never guessed.
type KeyFormat string

const (
	// KeyHex: 32/48/64 hex digits give a 16/24/32-byte key (the standard's
	// model; Swissdotnet, ioBroker, dc09_spt).
	KeyHex KeyFormat = "hex"
	// KeyASCII: 16/24/32 characters used as the key bytes (pysiaalarm/Home
	// Assistant, Ajax hubs, fioletoven/dc09).
	KeyASCII KeyFormat = "ascii"
)

// ParseKey turns configured key text into AES key bytes.
func ParseKey(text string, format KeyFormat) ([]byte, error) {
	switch format {
	case KeyHex:
		if n := len(text); n != 32 && n != 48 && n != 64 {
			return nil, fmt.Errorf("%w: hex key must be 32, 48 or 64 hex digits, got %d", ErrKey, n)
		}
		k, err := hex.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("%w: hex key: %v", ErrKey, err)
		}
		return k, nil
	case KeyASCII:
		if n := len(text); n != 16 && n != 24 && n != 32 {
			return nil, fmt.Errorf("%w: ascii key must be 16, 24 or 32 characters, got %d", ErrKey, n)
		}
		return []byte(text), nil
	}
	return nil, fmt.Errorf("%w: unknown key format %q (want hex or ascii)", ErrKey, format)
}

func newCipher(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("%w: AES key must be 16, 24 or 32 bytes, got %d", ErrKey, len(key))
	}
	return aes.NewCipher(key)
}

var zeroIV [aes.BlockSize]byte

// Decrypt opens an encrypted frame: AES-CBC with a zero IV over the hex
// after '[', then the pad is removed and the remainder parsed like a plain
// frame's tail. A wrong key yields random bytes, caught by the requirement
// of a pad terminator, a closed data block and a valid timestamp. Plain
// frames are left alone.
//
// Pad removal: everything up to and including the first '|'. With
// NoPadTerminator (or Lenient) a frame whose first '|' is not followed by
// '#' or ']' (the only ways a data block starts) is taken to have no
// terminator, and the data starts at the first '#' or ']' instead: this
// reads pysiaalarm's "0000#acct|…" while still reading conforming frames.
func (f *Frame) Decrypt(key []byte, q Quirks) error {
	if !f.Encrypted || f.Decrypted {
		return nil
	}
	blk, err := newCipher(key)
	if err != nil {
		return err
	}
	n := len(f.Sealed) / 2
	if n == 0 || n%aes.BlockSize != 0 {
		return fmt.Errorf("%w: %d ciphertext bytes is not a whole number of AES blocks", ErrDecrypt, n)
	}
	pt := make([]byte, n)
	if _, err := hex.Decode(pt, f.Sealed); err != nil {
		return fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	cipher.NewCBCDecrypter(blk, zeroIV[:]).CryptBlocks(pt, pt)

	start := -1
	if i := indexByte(pt, '|'); i >= 0 {
		if !(q.NoPadTerminator || q.Lenient) || i+1 < len(pt) && (pt[i+1] == '#' || pt[i+1] == ']') {
			start = i + 1
		}
	}
	if start < 0 && (q.NoPadTerminator || q.Lenient) {
		for i, c := range pt {
			if c == '#' || c == ']' {
				start = i
				break
			}
		}
	}
	if start < 0 {
		return fmt.Errorf("%w: no pad terminator '|' (wrong key or key format?)", ErrDecrypt)
	}
	sub := &Frame{}
	if err := sub.parseTail(pt[start:]); err != nil {
		return fmt.Errorf("%w: plaintext does not parse (wrong key or key format?): %v", ErrDecrypt, err)
	}
	if !sub.HasTimestamp {
		return fmt.Errorf("%w: encrypted message has no timestamp (wrong key?)", ErrDecrypt)
	}
	if start > 0 && pt[start-1] == '|' {
		f.Pad = pt[:start-1]
	} else {
		f.Pad = pt[:start]
	}
	f.Data, f.XData, f.Timestamp, f.HasTimestamp = sub.Data, sub.XData, sub.Timestamp, true
	f.Decrypted = true
	return nil
}

// seal encrypts plain (the part after '|'), prefixing a pad so the whole is
// a multiple of 16 bytes, and returns upper-case hex. The pad is 1-16 bytes
// (16 when the unpadded region already fills whole blocks) read from pad,
// with '|', '[' and ']' remapped so the terminator stays unambiguous. If
// noTerm is set the '|' is left out (to emulate non-conforming panels in tests).
func seal(key, plain []byte, pad io.Reader, noTerm bool) ([]byte, error) {
	blk, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	if pad == nil {
		pad = rand.Reader
	}
	term := 1
	if noTerm {
		term = 0
	}
	padLen := aes.BlockSize - (len(plain)+term)%aes.BlockSize
	buf := make([]byte, padLen+term+len(plain))
	if _, err := io.ReadFull(pad, buf[:padLen]); err != nil {
		return nil, fmt.Errorf("dc09: pad source: %w", err)
	}
	for i, c := range buf[:padLen] {
		switch c {
		case '|', '[', ']':
			buf[i] = c ^ 1
		}
		if noTerm && (buf[i] == '#' || buf[i] == ']') {
			buf[i] = '0'
		}
	}
	if !noTerm {
		buf[padLen] = '|'
	}
	copy(buf[padLen+term:], plain)
	cipher.NewCBCEncrypter(blk, zeroIV[:]).CryptBlocks(buf, buf)
	return []byte(strings.ToUpper(hex.EncodeToString(buf))), nil
}

// cbc encrypts src into dst with AES-CBC and the DC-09 zero IV.
func cbc(blk cipher.Block, dst, src []byte) {
	cipher.NewCBCEncrypter(blk, zeroIV[:]).CryptBlocks(dst, src)
}
