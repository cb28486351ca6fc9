// Package barrier seals key material under the root key before it reaches a
// store, and opens it on the way back.
//
// Each sealed record is AES-256-GCM with a random nonce, and its associated
// data binds it to what it is (its kind), which key and which version, so a
// sealed record moved or swapped to another slot fails to open.
//
// Format: 0x01 || nonce (12) || ciphertext || tag (16).
package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

const formatV1 = 0x01

// ErrOpen is returned when a sealed record does not open: wrong root key,
// corruption, or a record moved from another slot.
var ErrOpen = errors.New("sealed record does not open under the root key")

// Kinds of sealed records.
const (
	KindMaterial = "key-material"
)

// Barrier seals and opens records under one root key.
type Barrier struct {
	aead cipher.AEAD
}

// New returns a barrier over a 32-byte root key.
func New(root secret.Bytes) (*Barrier, error) {
	if root.Len() != 32 {
		return nil, fmt.Errorf("root key is %d bytes, want 32", root.Len())
	}
	block, err := aes.NewCipher(secret.Reveal(root))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Barrier{aead: a}, nil
}

// NewEphemeral returns a barrier over a fresh random root key that exists
// only in this process: the in-memory mode's barrier.
func NewEphemeral() (*Barrier, error) {
	root := make([]byte, 32)
	if _, err := rand.Read(root); err != nil {
		return nil, err
	}
	return New(secret.Own(root))
}

// Seal seals m as the record (kind, keyID, version). binding is further
// context the record must keep to open: facts about the key that must not
// change without the material failing to open (its type, usage, whether it
// is exportable), so that whoever can write to the store cannot turn a
// non-exportable key exportable or an encryption key into a signing key.
func (b *Barrier) Seal(kind, keyID string, version uint32, binding string, m secret.Bytes) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+m.Len()+b.aead.Overhead())
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return b.aead.Seal(out, out[1:], secret.Reveal(m), ad(kind, keyID, version, binding)), nil
}

// Open opens the record (kind, keyID, version) sealed with binding.
func (b *Barrier) Open(kind, keyID string, version uint32, binding string, sealed []byte) (secret.Bytes, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != formatV1 {
		return secret.Bytes{}, ErrOpen
	}
	m, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], ad(kind, keyID, version, binding))
	if err != nil {
		return secret.Bytes{}, ErrOpen
	}
	return secret.Own(m), nil
}

// ad is the associated data: length-prefixed kind, key id and binding,
// and the version.
func ad(kind, keyID string, version uint32, binding string) []byte {
	b := make([]byte, 0, 40+len(kind)+len(keyID)+len(binding))
	b = append(b, "keycustodian barrier v1"...)
	for _, s := range []string{kind, keyID, binding} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint32(b, version)
}
