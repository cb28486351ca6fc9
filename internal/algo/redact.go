package algo

import (
	"fmt"
	"io"

	"github.com/keycustodian/custodian/internal/secret"
)

// Every loaded key formats itself as its type and a redaction marker.
//
// The material sits in unexported fields, which fmt cannot call methods on:
// it walks them by reflection instead, printing a secret.Bytes's slice, an
// ed25519.PrivateKey's bytes and, for %s or %q, the fields behind a pointer
// to a standard library key (an ecdh.PrivateKey's scalar, an AES key
// schedule). A Format method on the key type itself stops fmt, and so
// slog's text handler, before it looks inside. The receivers are values so
// that a dereferenced key is redacted too.

func formatKey(f fmt.State, t KeyType) {
	_, _ = io.WriteString(f, "algo.Key("+string(t)+", "+secret.Redacted+")")
}

// Format implements fmt.Formatter without revealing the key.
func (k aeadKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k cbcKey) Format(f fmt.State, _ rune) { formatKey(f, AES256CBC) }

// Format implements fmt.Formatter without revealing the key.
func (k hmacKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k rsaKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k ecdsaKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k ed25519Key) Format(f fmt.State, _ rune) { formatKey(f, Ed25519) }

// Format implements fmt.Formatter without revealing the key.
func (k ecdhKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k dhKey) Format(f fmt.State, _ rune) { formatKey(f, k.typ) }

// Format implements fmt.Formatter without revealing the key.
func (k hpkeKey) Format(f fmt.State, _ rune) { formatKey(f, HPKEX25519MLKEM768) }
