// Package barrier seals records under the keyring before they reach a
// store, and opens them on the way back.
//
// # Keys
//
// The keyring holds one or more data-encryption keys, each a 256-bit AES
// key with a term number. The active term seals; every term still in the
// keyring opens. Rotating the root key adds a term, re-seals every record
// under it, then drops the old terms (see the custodian's RotateRoot).
// The keyring itself is sealed under the root key ([SealKeyring]); the
// root key comes from the seal (Shamir shares, a key file, an HSM).
//
// # Records
//
// Each sealed record is AES-256-GCM with a random 96-bit nonce, and its
// associated data binds it to what it is (its kind), which key, which
// version, further immutable facts (the binding) and the term, so that a
// record moved or swapped to another slot fails to open. With random
// nonces one term may seal about 2^32 records before the chance of a
// nonce repeating reaches 2^-32; rotating the root key starts a new term.
//
// Format: 0x02 || term (uint32, big-endian) || nonce (12) || ciphertext || tag (16).
package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/keycustodian/custodian/internal/secret"
)

const (
	formatV2 = 0x02
	// headerSize is the format byte and the term.
	headerSize = 1 + 4
	// Overhead is what sealing adds to a record: header, nonce and tag.
	Overhead = headerSize + 12 + 16
	// KeySize is the size of a root key and of a data-encryption key.
	KeySize = 32
)

// ErrOpen is returned when a sealed record does not open: a term the
// keyring lacks, corruption, or a record moved from another slot.
var ErrOpen = errors.New("sealed record does not open under the keyring")

// Kinds of sealed records.
const (
	// KindMaterial is a key version's material.
	KindMaterial = "key-material"
	// KindKeyRecord authenticates a key's metadata record: the plaintext
	// is empty and the record's fields are the binding.
	KindKeyRecord = "key-record"
)

// Term is one data-encryption key of the keyring.
type Term struct {
	Number uint32
	Key    secret.Bytes
}

// Barrier seals with the active term and opens with any term it holds.
// It is immutable and safe for concurrent use.
type Barrier struct {
	active uint32
	aeads  map[uint32]cipher.AEAD
}

// New returns a barrier over terms, sealing with the term numbered active.
func New(terms []Term, active uint32) (*Barrier, error) {
	b := &Barrier{active: active, aeads: make(map[uint32]cipher.AEAD, len(terms))}
	for _, t := range terms {
		if _, dup := b.aeads[t.Number]; dup {
			return nil, fmt.Errorf("keyring holds term %d twice", t.Number)
		}
		a, err := newAEAD(t.Key)
		if err != nil {
			return nil, fmt.Errorf("keyring term %d: %w", t.Number, err)
		}
		b.aeads[t.Number] = a
	}
	if _, ok := b.aeads[active]; !ok {
		return nil, fmt.Errorf("keyring lacks its active term %d", active)
	}
	return b, nil
}

// NewEphemeral returns a barrier over one fresh random term that exists
// only in this process: the in-memory mode's barrier.
func NewEphemeral() (*Barrier, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	return New([]Term{{Number: 1, Key: k}}, 1)
}

// NewKey returns a fresh 256-bit key from crypto/rand.
func NewKey() (secret.Bytes, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return secret.Bytes{}, err
	}
	return secret.Own(k), nil
}

func newAEAD(k secret.Bytes) (cipher.AEAD, error) {
	if k.Len() != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", k.Len(), KeySize)
	}
	block, err := aes.NewCipher(secret.Reveal(k))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Format prints the keyring's shape, never its keys: fmt would otherwise
// walk into the AES key schedules.
func (b Barrier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "barrier{active term %d, terms %v}", b.active, b.Terms())
}

// Active returns the term that seals.
func (b *Barrier) Active() uint32 { return b.active }

// Terms returns the numbers of every term, in ascending order.
func (b *Barrier) Terms() []uint32 { return slices.Sorted(maps.Keys(b.aeads)) }

// TermOf returns the term a sealed record names, or false if it is too short
// to name one. It does not say whether the record opens.
func TermOf(sealed []byte) (uint32, bool) {
	if len(sealed) < headerSize || sealed[0] != formatV2 {
		return 0, false
	}
	return binary.BigEndian.Uint32(sealed[1:headerSize]), true
}

// Seal seals m as the record (kind, keyID, version). binding is further
// context the record must keep to open: facts about the key that must not
// change without the material failing to open (its type, usage, whether it
// is exportable), so that whoever can write to the store cannot turn a
// non-exportable key exportable or an encryption key into a signing key.
func (b *Barrier) Seal(kind, keyID string, version uint32, binding string, m secret.Bytes) ([]byte, error) {
	a := b.aeads[b.active]
	out := make([]byte, headerSize+a.NonceSize(), Overhead+m.Len())
	out[0] = formatV2
	binary.BigEndian.PutUint32(out[1:], b.active)
	nonce := out[headerSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(out, nonce, secret.Reveal(m), ad(out[:headerSize], kind, keyID, version, binding)), nil
}

// Open opens the record (kind, keyID, version) sealed with binding.
func (b *Barrier) Open(kind, keyID string, version uint32, binding string, sealed []byte) (secret.Bytes, error) {
	term, ok := TermOf(sealed)
	if !ok || len(sealed) < Overhead {
		return secret.Bytes{}, ErrOpen
	}
	a, ok := b.aeads[term]
	if !ok {
		return secret.Bytes{}, ErrOpen
	}
	ns := a.NonceSize()
	m, err := a.Open(nil, sealed[headerSize:headerSize+ns], sealed[headerSize+ns:], ad(sealed[:headerSize], kind, keyID, version, binding))
	if err != nil {
		return secret.Bytes{}, ErrOpen
	}
	return secret.Own(m), nil
}

// ad is the associated data: the record's header, then length-prefixed
// kind, key id and binding, and the version.
func ad(header []byte, kind, keyID string, version uint32, binding string) []byte {
	b := make([]byte, 0, 40+len(header)+len(kind)+len(keyID)+len(binding))
	b = append(b, "keycustodian barrier v2"...)
	b = append(b, header...)
	for _, s := range []string{kind, keyID, binding} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint32(b, version)
}
