package algo

import (
	"crypto/hpke"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// hpke-x25519-mlkem768 is RFC 9180 HPKE in base mode with the hybrid
// post-quantum KEM ML-KEM-768 + X25519 (KEM id 0x647a), HKDF-SHA-256 and
// AES-256-GCM: the seed's "hybrid encryption for large data", for payloads of
// any size. The body of a ciphertext is enc || sealed; the ciphertext header
// is the HPKE info and the caller's associated data the AEAD's aad.
//
// The public key has no SubjectPublicKeyInfo encoding yet, so it is exported
// as the KEM's raw serialized public key.
var (
	hpkeKEM  = hpke.MLKEM768X25519()
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.AES256GCM()
)

// hpkeEncSize is the size of the encapsulated key of ML-KEM-768 + X25519:
// the ML-KEM-768 ciphertext (1088 bytes) and an X25519 share (32 bytes).
const hpkeEncSize = 1088 + 32

func init() {
	register(&Spec{
		Type: HPKEX25519MLKEM768, Purposes: []Purpose{PurposeEncrypt}, Algorithms: []Algorithm{EncHPKEX25519MLKEM768},
		generate: func() (secret.Bytes, error) {
			k, err := hpkeKEM.GenerateKey()
			if err != nil {
				return secret.Bytes{}, err
			}
			b, err := k.Bytes()
			if err != nil {
				return secret.Bytes{}, err
			}
			return secret.Own(b), nil
		},
		normalize: func(raw []byte) (secret.Bytes, error) { return secret.New(raw), nil },
		load: func(m secret.Bytes) (Key, error) {
			k, err := hpkeKEM.NewPrivateKey(secret.Reveal(m))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
			}
			return &hpkeKey{priv: k}, nil
		},
	})
}

type hpkeKey struct {
	priv hpke.PrivateKey
}

func (k *hpkeKey) Type() KeyType              { return HPKEX25519MLKEM768 }
func (k *hpkeKey) PublicKey() ([]byte, error) { return k.priv.PublicKey().Bytes(), nil }
func (k *hpkeKey) PublicKeyIsRaw() bool       { return true }

func (k *hpkeKey) Seal(dst []byte, alg Algorithm, header, plaintext, aad []byte) ([]byte, error) {
	if alg != EncHPKEX25519MLKEM768 {
		return nil, unsupported(HPKEX25519MLKEM768, alg)
	}
	enc, s, err := hpke.NewSender(k.priv.PublicKey(), hpkeKDF, hpkeAEAD, header)
	if err != nil {
		return nil, err
	}
	ct, err := s.Seal(aad, plaintext)
	if err != nil {
		return nil, err
	}
	dst = grow(dst, len(enc)+len(ct))
	return append(append(dst, enc...), ct...), nil
}

func (k *hpkeKey) Open(alg Algorithm, header, body, aad []byte) ([]byte, error) {
	if alg != EncHPKEX25519MLKEM768 || len(body) < hpkeEncSize {
		return nil, ErrDecrypt
	}
	r, err := hpke.NewRecipient(body[:hpkeEncSize], k.priv, hpkeKDF, hpkeAEAD, header)
	if err != nil {
		return nil, ErrDecrypt
	}
	pt, err := r.Open(aad, body[hpkeEncSize:])
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealRaw is RFC 9180 single-shot encryption with empty info: enc || ct.
func (k *hpkeKey) SealRaw(alg Algorithm, plaintext, aad []byte) ([]byte, error) {
	return k.Seal(nil, alg, nil, plaintext, aad)
}

func (k *hpkeKey) OpenRaw(alg Algorithm, raw, aad []byte) ([]byte, error) {
	return k.Open(alg, nil, raw, aad)
}
