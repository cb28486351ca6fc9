// Package algo implements every key type KeyCustodian manages, one small type
// per algorithm family behind a handful of capability interfaces.
//
// It knows nothing of storage, sealing, HTTP or policy: a key arrives here as
// material (a [secret.Bytes] in the stored form of its type) and leaves as a
// loaded [Key] whose capabilities the caller discovers with type assertions.
//
// # Stored forms
//
// Symmetric and MAC keys are their raw bytes. RSA, ECDSA, Ed25519, X25519 and
// ECDH keys are PKCS#8 DER. Finite-field DH keys are PKCS#8 DER with the
// PKCS#3 dhKeyAgreement OID. HPKE keys are the KEM's serialized private key
// (RFC 9180 SerializePrivateKey).
package algo

import (
	"errors"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// KeyType names a kind of key. The strings are persisted and sent over the
// API; never renumber or rename one.
type KeyType string

// The key types.
const (
	AES256GCM          KeyType = "aes256-gcm"
	ChaCha20Poly1305   KeyType = "chacha20-poly1305"
	AES256CBC          KeyType = "aes256-cbc"
	RSA2048            KeyType = "rsa-2048"
	RSA3072            KeyType = "rsa-3072"
	RSA4096            KeyType = "rsa-4096"
	ECDSAP256          KeyType = "ecdsa-p256"
	ECDSAP384          KeyType = "ecdsa-p384"
	ECDSAP521          KeyType = "ecdsa-p521"
	Ed25519            KeyType = "ed25519"
	X25519             KeyType = "x25519"
	ECDHP256           KeyType = "ecdh-p256"
	ECDHP384           KeyType = "ecdh-p384"
	ECDHP521           KeyType = "ecdh-p521"
	DHFFDHE2048        KeyType = "dh-ffdhe2048"
	DHFFDHE3072        KeyType = "dh-ffdhe3072"
	DHFFDHE4096        KeyType = "dh-ffdhe4096"
	HMACSHA256         KeyType = "hmac-sha256"
	HMACSHA512         KeyType = "hmac-sha512"
	HPKEX25519MLKEM768 KeyType = "hpke-x25519-mlkem768"
)

// Algorithm names an operation's algorithm: the same strings in the library,
// the API and the CLI.
type Algorithm string

// Encryption algorithms. Symmetric and HPKE keys have exactly one, named like
// the key type.
const (
	EncAES256GCM          Algorithm = "aes256-gcm"
	EncChaCha20Poly1305   Algorithm = "chacha20-poly1305"
	EncAES256CBC          Algorithm = "aes256-cbc"
	EncRSAOAEPSHA256      Algorithm = "rsa-oaep-sha256"
	EncRSAOAEPSHA1        Algorithm = "rsa-oaep-sha1"
	EncRSAPKCS1v15        Algorithm = "rsa-pkcs1v15"
	EncHPKEX25519MLKEM768 Algorithm = "hpke-x25519-mlkem768"
)

// Signature algorithms.
const (
	SigRSAPSSSHA256      Algorithm = "rsa-pss-sha256"
	SigRSAPSSSHA384      Algorithm = "rsa-pss-sha384"
	SigRSAPSSSHA512      Algorithm = "rsa-pss-sha512"
	SigRSAPKCS1v15SHA256 Algorithm = "rsa-pkcs1v15-sha256"
	SigRSAPKCS1v15SHA384 Algorithm = "rsa-pkcs1v15-sha384"
	SigRSAPKCS1v15SHA512 Algorithm = "rsa-pkcs1v15-sha512"
	SigECDSASHA256       Algorithm = "ecdsa-sha256"
	SigECDSASHA384       Algorithm = "ecdsa-sha384"
	SigECDSASHA512       Algorithm = "ecdsa-sha512"
	SigEd25519           Algorithm = "ed25519"
)

// MAC algorithms.
const (
	MACHMACSHA256 Algorithm = "hmac-sha256"
	MACHMACSHA512 Algorithm = "hmac-sha512"
)

// Purpose says what a key is for. RSA keys can serve either of two
// purposes and are given one at creation; every other type has one.
type Purpose string

// The purposes.
const (
	PurposeEncrypt Purpose = "encrypt"
	PurposeSign    Purpose = "sign"
	PurposeMAC     Purpose = "mac"
	PurposeAgree   Purpose = "agree"
)

// Errors. Callers wrap them with the key and operation.
var (
	// ErrUnsupported means the key type cannot perform the operation or
	// algorithm asked of it.
	ErrUnsupported = errors.New("unsupported")
	// ErrInvalidInput means caller input (not key material) is malformed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrDecrypt is the one error every failed decryption returns, whatever
	// the cause, so that no failure mode is distinguishable from another.
	ErrDecrypt = errors.New("decryption failed")
	// ErrVerify means a signature or MAC did not verify.
	ErrVerify = errors.New("verification failed")
	// ErrInvalidMaterial means stored or imported key material does not
	// parse as the key type's stored form.
	ErrInvalidMaterial = errors.New("invalid key material")
)

// Key is a loaded key version ready for use. Loading parses and validates
// material once, so that hot paths (encrypt with a cached AEAD) do no parsing.
// Its capabilities are the interfaces below.
type Key interface {
	Type() KeyType
}

// Encrypter is a key that encrypts and decrypts.
//
// Seal and Open work on the body of a self-describing ciphertext: header is
// the serialized ciphertext header, which every implementation binds into
// its authentication (AEAD associated data, OAEP label or HPKE info) together
// with the caller's associated data. Seal appends the body to dst, which may
// be header itself so that the whole ciphertext is built in one buffer.
//
// SealRaw and OpenRaw are the bare, header-less forms other tools understand
// (for aes256-cbc the seed's IV || ciphertext).
type Encrypter interface {
	Key
	Seal(dst []byte, alg Algorithm, header, plaintext, aad []byte) ([]byte, error)
	Open(alg Algorithm, header, body, aad []byte) ([]byte, error)
	SealRaw(alg Algorithm, plaintext, aad []byte) ([]byte, error)
	OpenRaw(alg Algorithm, raw, aad []byte) ([]byte, error)
}

// Signer is a key that signs. With prehashed, msg is the digest of the
// message under the algorithm's hash.
type Signer interface {
	Key
	Sign(alg Algorithm, msg []byte, prehashed bool) ([]byte, error)
	Verify(alg Algorithm, msg, sig []byte, prehashed bool) error
}

// MACer is a key that computes message authentication codes.
type MACer interface {
	Key
	MAC(alg Algorithm, msg []byte) ([]byte, error)
	// VerifyMAC compares in constant time.
	VerifyMAC(alg Algorithm, msg, tag []byte) error
}

// Agreer is a key that performs key agreement with a peer public key given
// as DER SubjectPublicKeyInfo (or, for X25519, the raw 32 bytes).
type Agreer interface {
	Key
	Agree(peer []byte) (secret.Bytes, error)
}

// PublicKeyer is a key with a public half.
type PublicKeyer interface {
	Key
	// PublicKey returns the public key in its standard encoding: DER
	// SubjectPublicKeyInfo, or raw bytes when [PublicKeyer.PublicKeyIsRaw].
	PublicKey() ([]byte, error)
	// PublicKeyIsRaw reports whether PublicKey is raw bytes rather than
	// SubjectPublicKeyInfo (HPKE keys, which have no SPKI encoding yet).
	PublicKeyIsRaw() bool
}

// Spec describes a key type: what it is for, which algorithms it allows, how
// to make and load its material.
type Spec struct {
	Type KeyType
	// Purposes lists what keys of this type may be for; the first is the
	// default. A key serves exactly one, fixed at creation.
	Purposes   []Purpose
	Algorithms []Algorithm // the first is the default
	// DefaultSignature is the signing algorithm when the caller names none,
	// for types that sign.
	DefaultSignature Algorithm
	// Legacy marks a type kept only for compatibility with the seed.
	Legacy bool

	generate func() (secret.Bytes, error)
	load     func(secret.Bytes) (Key, error)
	// normalize turns imported material into the stored form.
	normalize func([]byte) (secret.Bytes, error)
}

// Generate makes fresh material from crypto/rand.
func (s *Spec) Generate() (secret.Bytes, error) { return s.generate() }

// Load parses and validates stored material.
func (s *Spec) Load(m secret.Bytes) (Key, error) {
	k, err := s.load(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Type, err)
	}
	return k, nil
}

// Import validates external material (raw bytes for symmetric and MAC keys,
// PKCS#8 DER or PEM for asymmetric ones) and returns it in stored form.
func (s *Spec) Import(raw []byte) (secret.Bytes, error) {
	m, err := s.normalize(raw)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("%s: %w", s.Type, err)
	}
	if _, err := s.Load(m); err != nil {
		return secret.Bytes{}, err
	}
	return m, nil
}

// AllowsPurpose reports whether keys of this type may serve p.
func (s *Spec) AllowsPurpose(p Purpose) bool {
	for _, q := range s.Purposes {
		if q == p {
			return true
		}
	}
	return false
}

// DefaultAlgorithm is the algorithm used when the caller names none, or ""
// for key types whose only operation has no algorithm choice (agreement).
func (s *Spec) DefaultAlgorithm() Algorithm {
	if len(s.Algorithms) == 0 {
		return ""
	}
	return s.Algorithms[0]
}

// Allows reports whether alg is one of the type's algorithms.
func (s *Spec) Allows(alg Algorithm) bool {
	for _, a := range s.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

var specs = map[KeyType]*Spec{}

func register(s *Spec) {
	if _, dup := specs[s.Type]; dup {
		panic("algo: duplicate key type " + string(s.Type))
	}
	specs[s.Type] = s
}

// Lookup returns the spec for t.
func Lookup(t KeyType) (*Spec, bool) {
	s, ok := specs[t]
	return s, ok
}

// Types lists every key type, in the order of the constants above.
func Types() []KeyType {
	return []KeyType{
		AES256GCM, ChaCha20Poly1305, AES256CBC,
		RSA2048, RSA3072, RSA4096,
		ECDSAP256, ECDSAP384, ECDSAP521, Ed25519,
		X25519, ECDHP256, ECDHP384, ECDHP521,
		DHFFDHE2048, DHFFDHE3072, DHFFDHE4096,
		HMACSHA256, HMACSHA512,
		HPKEX25519MLKEM768,
	}
}

// unsupported builds the error for an algorithm a key type does not allow.
func unsupported(t KeyType, alg Algorithm) error {
	return fmt.Errorf("%w: key type %s does not support algorithm %q", ErrUnsupported, t, alg)
}
