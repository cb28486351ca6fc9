package dh

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"

	"filippo.io/bigmod"
)

// PrivateKey is a Diffie-Hellman private key: an exponent x in a [Group]
// and its public value g^x mod p. Its exponent never appears in fmt, slog
// or JSON output; [PrivateKey.MarshalPKCS8] is the only way out.
type PrivateKey struct {
	group *Group
	// x is the exponent, big-endian, zero-padded to a length that depends
	// only on the group and, for imported keys, the size class of x, so
	// that Exp's running time says nothing about its value.
	x   []byte
	pub *PublicKey
}

// PublicKey is a validated Diffie-Hellman public value y in a [Group].
type PublicKey struct {
	group *Group
	y     []byte // big-endian, padded to the byte length of p
}

// GenerateKey returns a fresh key with an exponent uniform in [2^191, 2^n),
// or in [2^191, q) when q < 2^n, where n is [Group.ExponentBits]. The floor
// is the one [ParsePKCS8] applies, so every key made here imports again;
// it removes at most one draw in 2^33 (for a 224-bit q). Randomness comes
// from crypto/rand.
func (g *Group) GenerateKey() (*PrivateKey, error) {
	if !g.usable() {
		return nil, errors.New("dh: generate key: group is not initialised; use FFDHE2048 or ParseParameters")
	}
	x, err := g.randomExponent()
	if err != nil {
		return nil, fmt.Errorf("dh: generate key in %v: %w", g, err)
	}
	return g.newPrivateKey(x), nil
}

// randomExponent draws x by rejection sampling, which keeps it uniform.
// The comparisons use bigmod and hasMinBits, so they take the same time for
// every accepted value.
func (g *Group) randomExponent() ([]byte, error) {
	buf := make([]byte, (g.xBoundBits+7)/8)
	x := bigmod.NewNat()
	for {
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		if extra := len(buf)*8 - g.xBoundBits; extra > 0 {
			buf[0] &= 0xff >> extra
		}
		if _, err := x.SetBytes(buf, g.xBound); err != nil {
			continue // x >= bound
		}
		if !hasMinBits(buf, minExponentBits) {
			continue // x < 2^191, which ParsePKCS8 would refuse
		}
		return buf, nil
	}
}

// newPrivateKey computes y = g^x mod p. bigmod's Exp is constant time in
// the exponent's value for a given exponent length.
func (g *Group) newPrivateKey(x []byte) *PrivateKey {
	y := bigmod.NewNat().Exp(g.gNat, x, g.pMod)
	return &PrivateKey{group: g, x: x, pub: &PublicKey{group: g, y: y.Bytes(g.pMod)}}
}

// NewPublicKey checks a peer's public value, given as a big-endian number
// exactly as long as p (the form [PublicKey.Bytes] and TLS use). It
// returns an error wrapping [ErrInvalidPublicKey] if y is not a valid
// public value in g.
func (g *Group) NewPublicKey(y []byte) (*PublicKey, error) {
	if !g.usable() {
		return nil, fmt.Errorf("%w: group is not initialised", ErrInvalidPublicKey)
	}
	if len(y) != g.byteLen() {
		return nil, fmt.Errorf("%w: value is %d bytes; %v needs exactly %d",
			ErrInvalidPublicKey, len(y), g, g.byteLen())
	}
	return g.publicKey(new(big.Int).SetBytes(y))
}

// publicKey validates y and stores it in canonical padded form.
func (g *Group) publicKey(y *big.Int) (*PublicKey, error) {
	if err := g.checkPublic(y); err != nil {
		return nil, err
	}
	return &PublicKey{group: g, y: y.FillBytes(make([]byte, g.byteLen()))}, nil
}

// Group returns the group of the key.
func (k *PrivateKey) Group() *Group { return k.group }

// PublicKey returns the public half of k.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// SharedSecret returns (peer y)^x mod p, left-padded with zeros to the byte
// length of p. The peer value is validated again (same group, range,
// subgroup membership), and a result of 1 is rejected; all such failures
// wrap [ErrInvalidPublicKey]. The secret is raw key material: derive keys
// from it with a KDF such as HKDF rather than using it directly.
func (k *PrivateKey) SharedSecret(peer *PublicKey) ([]byte, error) {
	if k == nil || !k.group.usable() {
		return nil, errors.New("dh: shared secret: private key is not initialised")
	}
	if peer == nil || !peer.group.usable() {
		return nil, fmt.Errorf("%w: peer key is not initialised", ErrInvalidPublicKey)
	}
	g := k.group
	if !g.Equal(peer.group) {
		return nil, fmt.Errorf("%w: peer key is in %v, this key is in %v", ErrInvalidPublicKey, peer.group, g)
	}
	if err := g.checkPublic(new(big.Int).SetBytes(peer.y)); err != nil {
		return nil, err
	}
	y, err := bigmod.NewNat().SetBytes(peer.y, g.pMod)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPublicKey, err)
	}
	z := bigmod.NewNat().Exp(y, k.x, g.pMod)
	if z.IsOne() == 1 {
		return nil, fmt.Errorf("%w: shared secret is 1", ErrInvalidPublicKey)
	}
	return z.Bytes(g.pMod), nil
}

// Equal reports whether x is a *PrivateKey with the same group and
// exponent, comparing exponents in constant time.
func (k *PrivateKey) Equal(x crypto.PrivateKey) bool {
	other, ok := x.(*PrivateKey)
	if !ok || k == nil || other == nil || !k.group.Equal(other.group) {
		return false
	}
	a, b := k.paddedExponent(len(other.x)), other.paddedExponent(len(k.x))
	return subtle.ConstantTimeCompare(a, b) == 1
}

// paddedExponent returns x left-padded to at least n bytes.
func (k *PrivateKey) paddedExponent(n int) []byte {
	if len(k.x) >= n {
		return k.x
	}
	out := make([]byte, n)
	copy(out[n-len(k.x):], k.x)
	return out
}

// Group returns the group of the key.
func (k *PublicKey) Group() *Group { return k.group }

// Bytes returns y as a big-endian number padded to the byte length of p.
func (k *PublicKey) Bytes() []byte { return append([]byte(nil), k.y...) }

// Equal reports whether x is a *PublicKey with the same group and value.
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	other, ok := x.(*PublicKey)
	if !ok || k == nil || other == nil || !k.group.Equal(other.group) {
		return false
	}
	return subtle.ConstantTimeCompare(k.y, other.y) == 1
}
