package algo

import (
	"encoding/pem"
	"fmt"

	"github.com/keycustodian/custodian/internal/dh"
	"github.com/keycustodian/custodian/internal/secret"
)

// Finite-field Diffie-Hellman over the RFC 7919 groups (g = 2, short
// exponents). Peer public values are validated: 2 <= y <= p-2 and
// y^q = 1 mod p. The shared secret is left-padded to the length of p, as
// OpenSSL and Python cryptography return it.
func init() {
	for _, t := range []struct {
		typ   KeyType
		group func() *dh.Group
	}{{DHFFDHE2048, dh.FFDHE2048}, {DHFFDHE3072, dh.FFDHE3072}, {DHFFDHE4096, dh.FFDHE4096}} {
		register(&Spec{
			Type: t.typ, Purposes: []Purpose{PurposeAgree},
			generate: func() (secret.Bytes, error) {
				k, err := t.group().GenerateKey()
				if err != nil {
					return secret.Bytes{}, err
				}
				der, err := k.MarshalPKCS8()
				if err != nil {
					return secret.Bytes{}, err
				}
				return secret.Own(der), nil
			},
			normalize: pkcs8Material,
			load:      func(m secret.Bytes) (Key, error) { return loadDH(t.typ, t.group(), m) },
		})
	}
}

type dhKey struct {
	typ  KeyType
	priv *dh.PrivateKey
}

func loadDH(typ KeyType, group *dh.Group, m secret.Bytes) (Key, error) {
	priv, err := dh.ParsePKCS8(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	if !priv.Group().Equal(group) {
		return nil, fmt.Errorf("%w: PKCS#8 holds a DH key of another group, want %s", ErrInvalidMaterial, group.Name())
	}
	return &dhKey{typ: typ, priv: priv}, nil
}

func (k *dhKey) Type() KeyType              { return k.typ }
func (k *dhKey) PublicKey() ([]byte, error) { return k.priv.PublicKey().MarshalPKIX() }
func (k *dhKey) PublicKeyIsRaw() bool       { return false }

// Agree accepts the peer's public key as PEM or DER SubjectPublicKeyInfo.
func (k *dhKey) Agree(peer []byte) (secret.Bytes, error) {
	if block, _ := pem.Decode(peer); block != nil {
		if block.Type != "PUBLIC KEY" {
			return secret.Bytes{}, fmt.Errorf("%w: peer PEM block is %q, want \"PUBLIC KEY\"", ErrInvalidInput, block.Type)
		}
		peer = block.Bytes
	}
	pub, err := dh.ParsePKIX(peer)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("%w: peer public key: %v", ErrInvalidInput, err)
	}
	s, err := k.priv.SharedSecret(pub)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	return secret.Own(s), nil
}

// DHParameters returns the PKCS#3 PEM parameters of a DH key type's group.
func DHParameters(t KeyType) ([]byte, bool) {
	switch t {
	case DHFFDHE2048:
		return dh.FFDHE2048().ParametersPEM(), true
	case DHFFDHE3072:
		return dh.FFDHE3072().ParametersPEM(), true
	case DHFFDHE4096:
		return dh.FFDHE4096().ParametersPEM(), true
	}
	return nil, false
}
