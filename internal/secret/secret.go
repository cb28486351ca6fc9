// Package secret holds key material in an opaque type that cannot leak
// through fmt, log/slog or encoding/json.
//
// # Threat model
//
// The risk this package addresses is accidental disclosure: a secret printed
// in a log line, an error message, a panic or a JSON response. Every
// formatting path of [Bytes] prints a fixed redaction marker. The raw bytes
// leave only through [Reveal], a single function a reviewer can grep for.
//
// It does not defend against an attacker who can read process memory; Go
// offers no reliable way to pin or wipe memory. [Bytes.Wipe] is best effort.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what every formatting path prints instead of secret bytes.
const Redacted = "REDACTED"

// Bytes is secret key material. The zero value is an empty secret.
// Values are immutable once created: constructors copy their input and
// [Reveal] is the only way to read the bytes back.
type Bytes struct {
	// reveal returns the bytes. It is a func, not a slice or a pointer,
	// because fmt cannot call Format on a Bytes kept in an unexported
	// struct field (every key type keeps it there) and walks such a field
	// by reflection instead: it prints a slice's contents and, for %s or
	// %q, even a pointer's target, but a func only as an address.
	reveal func() []byte
}

// New returns a secret holding a copy of b.
func New(b []byte) Bytes {
	return Own(append([]byte(nil), b...))
}

// Own returns a secret that takes ownership of b without copying. The
// caller must not use b afterwards.
func Own(b []byte) Bytes {
	return Bytes{reveal: func() []byte { return b }}
}

// Reveal returns the secret's bytes. It is the single door through which
// raw key material leaves this type; every call site is a place where
// material is used, exported or sealed. The caller must not modify the
// returned slice.
func Reveal(s Bytes) []byte {
	if s.reveal == nil {
		return nil
	}
	return s.reveal()
}

// Len returns the length of the secret in bytes. Lengths are not secret.
func (s Bytes) Len() int { return len(Reveal(s)) }

// IsZero reports whether the secret is empty.
func (s Bytes) IsZero() bool { return s.Len() == 0 }

// Equal reports whether s and o hold the same bytes, in time that depends
// only on their lengths.
func (s Bytes) Equal(o Bytes) bool {
	return subtle.ConstantTimeCompare(Reveal(s), Reveal(o)) == 1
}

// Wipe overwrites the secret's bytes with zeros. Copies made earlier by
// the runtime or by callers of [Reveal] are not reached.
func (s Bytes) Wipe() { clear(Reveal(s)) }

// String implements fmt.Stringer without revealing the secret.
func (s Bytes) String() string { return Redacted }

// GoString implements fmt.GoStringer without revealing the secret.
func (s Bytes) GoString() string { return "secret.Bytes(" + Redacted + ")" }

// Format implements fmt.Formatter so that every verb, including %x and %#v,
// prints the redaction marker.
func (s Bytes) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// LogValue implements slog.LogValuer.
func (s Bytes) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler without revealing the secret.
func (s Bytes) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler without revealing the
// secret, so that map keys, YAML and other text encoders redact too.
func (s Bytes) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
