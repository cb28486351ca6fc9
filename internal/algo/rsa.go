package algo

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// RSA keys encrypt with OAEP-SHA-256 by default, or OAEP-SHA-1 (interop only)
// or PKCS#1 v1.5 (the seed's padding), and sign with PSS (salt length equal
// to the hash length) or PKCS#1 v1.5 over SHA-256/384/512.
//
// # Weaknesses of PKCS#1 v1.5 encryption
//
// PKCS#1 v1.5 encryption is vulnerable to Bleichenbacher-style padding
// oracles and binds no associated data. It is never the default; every
// failure is the same [ErrDecrypt], and in the self-describing form it
// refuses associated data rather than silently ignoring it.
//
// With OAEP the label carries header || aad, so the header and the caller's
// associated data are both authenticated.
func init() {
	for _, t := range []struct {
		typ  KeyType
		bits int
	}{{RSA2048, 2048}, {RSA3072, 3072}, {RSA4096, 4096}} {
		register(&Spec{
			Type: t.typ, Purposes: []Purpose{PurposeEncrypt, PurposeSign}, DefaultSignature: SigRSAPSSSHA256,
			Algorithms: []Algorithm{
				EncRSAOAEPSHA256, EncRSAOAEPSHA1, EncRSAPKCS1v15,
				SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512,
				SigRSAPKCS1v15SHA256, SigRSAPKCS1v15SHA384, SigRSAPKCS1v15SHA512,
			},
			generate: func() (secret.Bytes, error) {
				k, err := rsa.GenerateKey(rand.Reader, t.bits)
				if err != nil {
					return secret.Bytes{}, err
				}
				return marshalPKCS8(k)
			},
			normalize: pkcs8Material,
			load:      func(m secret.Bytes) (Key, error) { return loadRSA(t.typ, t.bits, m) },
		})
	}
}

type rsaKey struct {
	typ  KeyType
	priv *rsa.PrivateKey
}

func loadRSA(typ KeyType, bits int, m secret.Bytes) (Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKCS#8 holds %T, want an RSA key", ErrInvalidMaterial, k)
	}
	if priv.N.BitLen() != bits {
		return nil, fmt.Errorf("%w: RSA modulus is %d bits, want %d", ErrInvalidMaterial, priv.N.BitLen(), bits)
	}
	priv.Precompute()
	return &rsaKey{typ: typ, priv: priv}, nil
}

func (k *rsaKey) Type() KeyType { return k.typ }

func (k *rsaKey) PublicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(&k.priv.PublicKey) }
func (k *rsaKey) PublicKeyIsRaw() bool       { return false }

func (k *rsaKey) Seal(dst []byte, alg Algorithm, header, plaintext, aad []byte) ([]byte, error) {
	if alg == EncRSAPKCS1v15 && len(aad) != 0 {
		return nil, fmt.Errorf("%w: rsa-pkcs1v15 cannot bind associated data; use rsa-oaep-sha256", ErrUnsupported)
	}
	ct, err := k.encrypt(alg, plaintext, joinAD(header, aad))
	if err != nil {
		return nil, err
	}
	return append(dst, ct...), nil
}

func (k *rsaKey) Open(alg Algorithm, header, body, aad []byte) ([]byte, error) {
	if alg == EncRSAPKCS1v15 && len(aad) != 0 {
		return nil, ErrDecrypt
	}
	return k.decrypt(alg, body, joinAD(header, aad))
}

func (k *rsaKey) SealRaw(alg Algorithm, plaintext, aad []byte) ([]byte, error) {
	if alg == EncRSAPKCS1v15 && len(aad) != 0 {
		return nil, fmt.Errorf("%w: rsa-pkcs1v15 cannot bind associated data; use rsa-oaep-sha256", ErrUnsupported)
	}
	return k.encrypt(alg, plaintext, aad)
}

func (k *rsaKey) OpenRaw(alg Algorithm, raw, aad []byte) ([]byte, error) {
	if alg == EncRSAPKCS1v15 && len(aad) != 0 {
		return nil, ErrDecrypt
	}
	return k.decrypt(alg, raw, aad)
}

func (k *rsaKey) encrypt(alg Algorithm, plaintext, label []byte) ([]byte, error) {
	pub := &k.priv.PublicKey
	var (
		ct  []byte
		err error
	)
	switch alg {
	case EncRSAOAEPSHA256:
		ct, err = rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, plaintext, label)
	case EncRSAOAEPSHA1:
		ct, err = rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plaintext, label)
	case EncRSAPKCS1v15:
		ct, err = rsa.EncryptPKCS1v15(rand.Reader, pub, plaintext)
	default:
		return nil, unsupported(k.typ, alg)
	}
	if errors.Is(err, rsa.ErrMessageTooLong) {
		return nil, fmt.Errorf("%w: plaintext of %d bytes is too long for %s with %s (at most %d); encrypt a data key instead",
			ErrInvalidInput, len(plaintext), alg, k.typ, k.MaxPlaintext(alg))
	}
	return ct, err
}

func (k *rsaKey) decrypt(alg Algorithm, ct, label []byte) ([]byte, error) {
	var (
		pt  []byte
		err error
	)
	switch alg {
	case EncRSAOAEPSHA256:
		pt, err = rsa.DecryptOAEP(crypto.SHA256.New(), nil, k.priv, ct, label)
	case EncRSAOAEPSHA1:
		pt, err = rsa.DecryptOAEP(sha1.New(), nil, k.priv, ct, label)
	case EncRSAPKCS1v15:
		pt, err = rsa.DecryptPKCS1v15(nil, k.priv, ct)
	default:
		return nil, ErrDecrypt
	}
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// MaxPlaintext is the longest plaintext alg can encrypt under this key.
func (k *rsaKey) MaxPlaintext(alg Algorithm) int {
	size := k.priv.Size()
	switch alg {
	case EncRSAOAEPSHA256:
		return size - 2*crypto.SHA256.Size() - 2
	case EncRSAOAEPSHA1:
		return size - 2*sha1.Size - 2
	case EncRSAPKCS1v15:
		return size - 11
	}
	return 0
}

func (k *rsaKey) Sign(alg Algorithm, msg []byte, prehashed bool) ([]byte, error) {
	h, pss, err := rsaSignature(k.typ, alg)
	if err != nil {
		return nil, err
	}
	digest, err := digestOf(h, msg, prehashed)
	if err != nil {
		return nil, err
	}
	if pss {
		return rsa.SignPSS(rand.Reader, k.priv, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	return rsa.SignPKCS1v15(nil, k.priv, h, digest)
}

func (k *rsaKey) Verify(alg Algorithm, msg, sig []byte, prehashed bool) error {
	if _, _, err := rsaSignature(k.typ, alg); err != nil {
		return err
	}
	return VerifySignature(&k.priv.PublicKey, alg, msg, sig, prehashed)
}

// rsaSignature maps a signature algorithm to its hash and padding.
func rsaSignature(t KeyType, alg Algorithm) (h crypto.Hash, pss bool, err error) {
	switch alg {
	case SigRSAPSSSHA256:
		return crypto.SHA256, true, nil
	case SigRSAPSSSHA384:
		return crypto.SHA384, true, nil
	case SigRSAPSSSHA512:
		return crypto.SHA512, true, nil
	case SigRSAPKCS1v15SHA256:
		return crypto.SHA256, false, nil
	case SigRSAPKCS1v15SHA384:
		return crypto.SHA384, false, nil
	case SigRSAPKCS1v15SHA512:
		return crypto.SHA512, false, nil
	}
	return 0, false, unsupported(t, alg)
}

// digestOf hashes msg, or checks that a pre-computed digest has the hash's size.
func digestOf(h crypto.Hash, msg []byte, prehashed bool) ([]byte, error) {
	if prehashed {
		if len(msg) != h.Size() {
			return nil, fmt.Errorf("%w: digest is %d bytes, %s digests are %d", ErrInvalidInput, len(msg), h, h.Size())
		}
		return msg, nil
	}
	d := h.New()
	d.Write(msg)
	return d.Sum(nil), nil
}
