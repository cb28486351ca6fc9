package algo

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// X25519 and NIST-curve ECDH keys agree a raw shared secret with a peer.
// Peer public keys are validated by crypto/ecdh: points must be on the curve
// and not the identity; X25519 results of all zeros (low-order peer points)
// are rejected.
func init() {
	for _, t := range []struct {
		typ   KeyType
		curve ecdh.Curve
	}{
		{X25519, ecdh.X25519()}, {ECDHP256, ecdh.P256()}, {ECDHP384, ecdh.P384()}, {ECDHP521, ecdh.P521()},
	} {
		register(&Spec{
			Type: t.typ, Purposes: []Purpose{PurposeAgree},
			generate: func() (secret.Bytes, error) {
				k, err := t.curve.GenerateKey(rand.Reader)
				if err != nil {
					return secret.Bytes{}, err
				}
				return marshalPKCS8(k)
			},
			normalize: pkcs8Material,
			load:      func(m secret.Bytes) (Key, error) { return loadECDH(t.typ, t.curve, m) },
		})
	}
}

type ecdhKey struct {
	typ  KeyType
	priv *ecdh.PrivateKey
}

func loadECDH(typ KeyType, curve ecdh.Curve, m secret.Bytes) (Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	var priv *ecdh.PrivateKey
	switch k := k.(type) {
	case *ecdh.PrivateKey:
		priv = k
	case *ecdsa.PrivateKey: // NIST curves parse as ECDSA keys; the material is the same
		if priv, err = k.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
		}
	}
	if priv == nil || priv.Curve() != curve {
		return nil, fmt.Errorf("%w: PKCS#8 does not hold a %s key", ErrInvalidMaterial, typ)
	}
	return &ecdhKey{typ: typ, priv: priv}, nil
}

func (k *ecdhKey) Type() KeyType { return k.typ }

func (k *ecdhKey) PublicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(k.priv.PublicKey()) }
func (k *ecdhKey) PublicKeyIsRaw() bool       { return false }

// Agree accepts the peer's key as PEM or DER SubjectPublicKeyInfo, or as the
// raw encoding of crypto/ecdh (32 bytes for X25519, an uncompressed point
// for NIST curves).
func (k *ecdhKey) Agree(peer []byte) (secret.Bytes, error) {
	pub, err := ParseECDHPublicKey(k.priv.Curve(), peer)
	if err != nil {
		return secret.Bytes{}, err
	}
	s, err := k.priv.ECDH(pub)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("%w: peer public key: %v", ErrInvalidInput, err)
	}
	return secret.Own(s), nil
}

// ParseECDHPublicKey parses a peer public key for curve from PEM, DER
// SubjectPublicKeyInfo or crypto/ecdh's raw encoding, validating the point.
func ParseECDHPublicKey(curve ecdh.Curve, peer []byte) (*ecdh.PublicKey, error) {
	if block, _ := pem.Decode(peer); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: peer PEM block is %q, want \"PUBLIC KEY\"", ErrInvalidInput, block.Type)
		}
		peer = block.Bytes
	}
	if pk, err := x509.ParsePKIXPublicKey(peer); err == nil {
		var pub *ecdh.PublicKey
		switch pk := pk.(type) {
		case *ecdh.PublicKey:
			pub = pk
		case *ecdsa.PublicKey:
			if pub, err = pk.ECDH(); err != nil {
				return nil, fmt.Errorf("%w: peer public key: %v", ErrInvalidInput, err)
			}
		default:
			return nil, fmt.Errorf("%w: peer public key is %T, want a key on the same curve", ErrInvalidInput, pk)
		}
		if pub.Curve() != curve {
			return nil, fmt.Errorf("%w: peer public key is on another curve", ErrInvalidInput)
		}
		return pub, nil
	}
	pub, err := curve.NewPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: peer public key is neither SubjectPublicKeyInfo nor a valid raw point: %v", ErrInvalidInput, err)
	}
	return pub, nil
}
