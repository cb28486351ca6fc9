package algo

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// ECDSA signatures are ASN.1 DER (the form OpenSSL and X.509 use), over any
// of SHA-256/384/512; the default hash matches the curve. Ed25519 signatures
// are the 64 bytes of RFC 8032 over the message itself (pure Ed25519: there
// is no pre-computed digest mode).
func init() {
	for _, t := range []struct {
		typ   KeyType
		curve elliptic.Curve
		def   Algorithm
	}{
		{ECDSAP256, elliptic.P256(), SigECDSASHA256},
		{ECDSAP384, elliptic.P384(), SigECDSASHA384},
		{ECDSAP521, elliptic.P521(), SigECDSASHA512},
	} {
		algs := []Algorithm{t.def}
		for _, a := range []Algorithm{SigECDSASHA256, SigECDSASHA384, SigECDSASHA512} {
			if a != t.def {
				algs = append(algs, a)
			}
		}
		register(&Spec{
			Type: t.typ, Purposes: []Purpose{PurposeSign}, Algorithms: algs, DefaultSignature: t.def,
			generate: func() (secret.Bytes, error) {
				k, err := ecdsa.GenerateKey(t.curve, rand.Reader)
				if err != nil {
					return secret.Bytes{}, err
				}
				return marshalPKCS8(k)
			},
			normalize: pkcs8Material,
			load:      func(m secret.Bytes) (Key, error) { return loadECDSA(t.typ, t.curve, m) },
		})
	}
	register(&Spec{
		Type: Ed25519, Purposes: []Purpose{PurposeSign}, Algorithms: []Algorithm{SigEd25519}, DefaultSignature: SigEd25519,
		generate: func() (secret.Bytes, error) {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return secret.Bytes{}, err
			}
			return marshalPKCS8(k)
		},
		normalize: pkcs8Material,
		load:      loadEd25519,
	})
}

type ecdsaKey struct {
	typ  KeyType
	priv *ecdsa.PrivateKey
}

func loadECDSA(typ KeyType, curve elliptic.Curve, m secret.Bytes) (Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != curve {
		return nil, fmt.Errorf("%w: PKCS#8 does not hold an ECDSA key on %s", ErrInvalidMaterial, curve.Params().Name)
	}
	return &ecdsaKey{typ: typ, priv: priv}, nil
}

func (k *ecdsaKey) Type() KeyType              { return k.typ }
func (k *ecdsaKey) PublicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(&k.priv.PublicKey) }
func (k *ecdsaKey) PublicKeyIsRaw() bool       { return false }

func (k *ecdsaKey) Sign(alg Algorithm, msg []byte, prehashed bool) ([]byte, error) {
	digest, err := k.digest(alg, msg, prehashed)
	if err != nil {
		return nil, err
	}
	return ecdsa.SignASN1(rand.Reader, k.priv, digest)
}

func (k *ecdsaKey) Verify(alg Algorithm, msg, sig []byte, prehashed bool) error {
	if _, err := k.digest(alg, msg, prehashed); err != nil {
		return err
	}
	return VerifySignature(&k.priv.PublicKey, alg, msg, sig, prehashed)
}

func (k *ecdsaKey) digest(alg Algorithm, msg []byte, prehashed bool) ([]byte, error) {
	h, err := ecdsaHash(alg)
	if err != nil {
		return nil, unsupported(k.typ, alg)
	}
	return digestOf(h, msg, prehashed)
}

type ed25519Key struct {
	priv ed25519.PrivateKey
}

func loadEd25519(m secret.Bytes) (Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKCS#8 holds %T, want an Ed25519 key", ErrInvalidMaterial, k)
	}
	return &ed25519Key{priv: priv}, nil
}

func (k *ed25519Key) Type() KeyType { return Ed25519 }
func (k *ed25519Key) PublicKey() ([]byte, error) {
	return x509.MarshalPKIXPublicKey(k.priv.Public())
}
func (k *ed25519Key) PublicKeyIsRaw() bool { return false }

func (k *ed25519Key) Sign(alg Algorithm, msg []byte, prehashed bool) ([]byte, error) {
	if err := k.check(alg, prehashed); err != nil {
		return nil, err
	}
	return ed25519.Sign(k.priv, msg), nil
}

func (k *ed25519Key) Verify(alg Algorithm, msg, sig []byte, prehashed bool) error {
	if err := k.check(alg, prehashed); err != nil {
		return err
	}
	return VerifySignature(k.priv.Public(), alg, msg, sig, prehashed)
}

func (k *ed25519Key) check(alg Algorithm, prehashed bool) error {
	if alg != SigEd25519 {
		return unsupported(Ed25519, alg)
	}
	if prehashed {
		return fmt.Errorf("%w: ed25519 signs the message itself, not a pre-computed digest", ErrUnsupported)
	}
	return nil
}
