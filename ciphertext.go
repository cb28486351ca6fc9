package custodian

import (
	"github.com/keycustodian/custodian/internal/envelope"
)

// Ciphertext is a self-describing ciphertext in its compact binary form: a
// header naming the format version, algorithm, key id and key version,
// followed by the algorithm's output. Decrypt needs nothing else but the
// associated data. docs/formats.md describes the format.
//
// Its String and MarshalText give the text form, "kc1:" followed by
// unpadded base64url, so a Ciphertext in a JSON document is a string.
type Ciphertext []byte

// String returns the text form.
func (c Ciphertext) String() string { return envelope.EncodeText(c) }

// MarshalText implements encoding.TextMarshaler with the text form.
func (c Ciphertext) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler for the text form.
func (c *Ciphertext) UnmarshalText(b []byte) error {
	ct, err := ParseCiphertext(string(b))
	if err != nil {
		return err
	}
	*c = ct
	return nil
}

// ParseCiphertext decodes the text form. It checks the encoding, not the
// ciphertext: that is Decrypt's job.
func ParseCiphertext(s string) (Ciphertext, error) {
	ct, err := envelope.DecodeText(s)
	if err != nil {
		return nil, opError("parse", "", ErrInvalidCiphertext)
	}
	return ct, nil
}
