package algo

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"github.com/keycustodian/custodian/internal/secret"
)

// HMAC keys are as long as their hash's output (RFC 2104 recommends at least
// that); imported keys may be any length from 16 to 128 bytes.
func init() {
	for _, t := range []struct {
		typ  KeyType
		alg  Algorithm
		size int
		h    func() hash.Hash
	}{
		{HMACSHA256, MACHMACSHA256, sha256.Size, sha256.New},
		{HMACSHA512, MACHMACSHA512, sha512.Size, sha512.New},
	} {
		register(&Spec{
			Type: t.typ, Purposes: []Purpose{PurposeMAC}, Algorithms: []Algorithm{t.alg},
			generate:  randomMaterial(t.size),
			normalize: hmacMaterial,
			load: func(m secret.Bytes) (Key, error) {
				if _, err := hmacMaterial(secret.Reveal(m)); err != nil {
					return nil, err
				}
				return &hmacKey{typ: t.typ, alg: t.alg, h: t.h, key: m}, nil
			},
		})
	}
}

const (
	minHMACKey = 16
	maxHMACKey = 128
)

func hmacMaterial(raw []byte) (secret.Bytes, error) {
	if len(raw) < minHMACKey || len(raw) > maxHMACKey {
		return secret.Bytes{}, fmt.Errorf("%w: HMAC keys are %d to %d bytes, got %d", ErrInvalidMaterial, minHMACKey, maxHMACKey, len(raw))
	}
	return secret.New(raw), nil
}

type hmacKey struct {
	typ KeyType
	alg Algorithm
	h   func() hash.Hash
	key secret.Bytes
}

func (k *hmacKey) Type() KeyType { return k.typ }

func (k *hmacKey) MAC(alg Algorithm, msg []byte) ([]byte, error) {
	if alg != k.alg {
		return nil, unsupported(k.typ, alg)
	}
	m := hmac.New(k.h, secret.Reveal(k.key))
	m.Write(msg)
	return m.Sum(nil), nil
}

func (k *hmacKey) VerifyMAC(alg Algorithm, msg, tag []byte) error {
	want, err := k.MAC(alg, msg)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, tag) {
		return ErrVerify
	}
	return nil
}
