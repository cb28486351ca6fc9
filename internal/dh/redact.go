package dh

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// The redacting methods have value receivers so that printing a
// dereferenced key (fmt.Println(*k)) is redacted too, instead of falling
// back to reflection over the unexported fields.

// String returns a description of the key that names its group and hides
// its exponent, such as "dh.PrivateKey(ffdhe2048, REDACTED)".
func (k PrivateKey) String() string {
	return fmt.Sprintf("dh.PrivateKey(%v, REDACTED)", k.group)
}

// GoString returns the same redacted description as String, for %#v.
func (k PrivateKey) GoString() string { return k.String() }

// Format writes the redacted description for every verb and flag, so that
// neither %x nor %+v can reach the exponent.
func (k PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer with the redacted description.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON encodes the redacted description as a JSON string; use
// MarshalPKCS8 to export the key.
func (k PrivateKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }
