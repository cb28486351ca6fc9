package barrier

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/keycustodian/custodian/internal/secret"
)

// ErrRootKey is returned when a candidate root key does not match the
// stored check value, or does not open the keyring.
var ErrRootKey = errors.New("not the root key")

// Keyring is the plaintext keyring: every data-encryption term and the one
// that seals. It exists only in memory; the store holds it sealed under
// the root key.
type Keyring struct {
	Active uint32
	Terms  []Term
}

// NewKeyring returns a keyring of one fresh term numbered 1.
func NewKeyring() (Keyring, error) {
	k, err := NewKey()
	if err != nil {
		return Keyring{}, err
	}
	return Keyring{Active: 1, Terms: []Term{{Number: 1, Key: k}}}, nil
}

// WithNewTerm returns a copy of kr with a fresh term, numbered one above
// the highest, made active.
func (kr Keyring) WithNewTerm() (Keyring, error) {
	k, err := NewKey()
	if err != nil {
		return Keyring{}, err
	}
	next := uint32(0)
	for _, t := range kr.Terms {
		next = max(next, t.Number)
	}
	if next == ^uint32(0) {
		return Keyring{}, errors.New("keyring term numbers are exhausted")
	}
	return Keyring{Active: next + 1, Terms: append(slices.Clone(kr.Terms), Term{Number: next + 1, Key: k})}, nil
}

// OnlyActive returns a copy of kr that keeps only its active term: the
// keyring once every record is sealed under it.
func (kr Keyring) OnlyActive() Keyring {
	out := Keyring{Active: kr.Active}
	for _, t := range kr.Terms {
		if t.Number == kr.Active {
			out.Terms = append(out.Terms, t)
		}
	}
	return out
}

// Barrier returns the barrier over the keyring.
func (kr Keyring) Barrier() (*Barrier, error) { return New(kr.Terms, kr.Active) }

// keyringFormat is the first byte of an encoded keyring.
const keyringFormat = 1

// encode: format | active u32 | count u16 | (number u32 | key 32)...
func (kr Keyring) encode() []byte {
	b := make([]byte, 0, 7+len(kr.Terms)*(4+KeySize))
	b = append(b, keyringFormat)
	b = binary.BigEndian.AppendUint32(b, kr.Active)
	b = binary.BigEndian.AppendUint16(b, uint16(len(kr.Terms)))
	for _, t := range kr.Terms {
		b = binary.BigEndian.AppendUint32(b, t.Number)
		b = append(b, secret.Reveal(t.Key)...)
	}
	return b
}

func decodeKeyring(b []byte) (Keyring, error) {
	if len(b) < 7 || b[0] != keyringFormat {
		return Keyring{}, errors.New("keyring: unknown format")
	}
	kr := Keyring{Active: binary.BigEndian.Uint32(b[1:5])}
	n := int(binary.BigEndian.Uint16(b[5:7]))
	b = b[7:]
	if len(b) != n*(4+KeySize) {
		return Keyring{}, errors.New("keyring: wrong length")
	}
	for i := range n {
		e := b[i*(4+KeySize):]
		kr.Terms = append(kr.Terms, Term{Number: binary.BigEndian.Uint32(e), Key: secret.New(e[4 : 4+KeySize])})
	}
	if _, err := kr.Barrier(); err != nil {
		return Keyring{}, fmt.Errorf("keyring: %w", err)
	}
	return kr, nil
}

// keyringAD binds a sealed keyring to its purpose.
var keyringAD = []byte("keycustodian keyring v1")

// SealKeyring seals kr under the root key.
func SealKeyring(root secret.Bytes, kr Keyring) ([]byte, error) {
	a, err := newAEAD(root)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	plain := kr.encode()
	defer clear(plain)
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return a.Seal(out, out, plain, keyringAD), nil
}

// OpenKeyring opens a keyring sealed under the root key; a wrong root key
// gives ErrRootKey.
func OpenKeyring(root secret.Bytes, sealed []byte) (Keyring, error) {
	a, err := newAEAD(root)
	if err != nil {
		return Keyring{}, ErrRootKey
	}
	ns := a.NonceSize()
	if len(sealed) < ns+a.Overhead() {
		return Keyring{}, ErrRootKey
	}
	plain, err := a.Open(nil, sealed[:ns], sealed[ns:], keyringAD)
	if err != nil {
		return Keyring{}, ErrRootKey
	}
	defer clear(plain)
	return decodeKeyring(plain)
}

// Check returns the check value of a root key, stored so that a candidate
// root key (from shares or a key file) can be verified, in constant time,
// before anything is opened with it: HMAC-SHA-256 keyed by the root key
// over a fixed label. It reveals nothing about the key.
func Check(root secret.Bytes) []byte {
	m := hmac.New(sha256.New, secret.Reveal(root))
	m.Write([]byte("keycustodian root key check v1"))
	return m.Sum(nil)
}

// VerifyRoot reports, in constant time, whether root has the check value.
func VerifyRoot(root secret.Bytes, check []byte) error {
	if root.Len() != KeySize || !hmac.Equal(Check(root), check) {
		return ErrRootKey
	}
	return nil
}
