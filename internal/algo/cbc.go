package algo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// AES-256-CBC is the original KeyCustodian's cipher, kept for compatibility.
//
// # Weaknesses
//
// CBC with PKCS#7 padding is malleable and, unauthenticated, invites padding
// oracle attacks. Its raw form (IV || ciphertext, the seed's bytes) has no
// integrity at all: a modified ciphertext may decrypt to modified plaintext.
// Use it only to exchange data with systems that speak it, and migrate.
//
// What this package does about it:
//   - every decryption failure, padding or otherwise, is the same [ErrDecrypt],
//     and unpadding runs in time independent of the padding's validity;
//   - the self-describing form adds HMAC-SHA-256 (encrypt-then-MAC) over
//     header || aad-length || aad || IV || ciphertext, with a MAC key derived
//     from the AES key by HKDF-SHA-256, so that form is authenticated and a
//     modified ciphertext never reaches the CBC decryption at all;
//   - the self-describing form encrypts under an AES key of its own, also
//     derived by HKDF-SHA-256, never under the raw form's key: otherwise its
//     body without the tag would be a raw ciphertext, and OpenRaw would open
//     it without the MAC and without the associated data.
const (
	cbcMACInfo = "keycustodian aes256-cbc hmac-sha256 v1"
	cbcEncInfo = "keycustodian aes256-cbc aes-256 v1"
	cbcMACSize = sha256.Size
)

func init() {
	register(&Spec{
		Type: AES256CBC, Purposes: []Purpose{PurposeEncrypt}, Algorithms: []Algorithm{EncAES256CBC}, Legacy: true,
		generate: randomMaterial(symmetricKeySize), normalize: rawMaterial(symmetricKeySize),
		load: loadCBC,
	})
}

type cbcKey struct {
	raw    cipher.Block // the material itself: the seed's raw form
	sealed cipher.Block // derived: the self-describing form
	macKey secret.Bytes
}

func loadCBC(m secret.Bytes) (Key, error) {
	raw, err := aes.NewCipher(secret.Reveal(m))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
	}
	encKey, err := hkdf.Key(sha256.New, secret.Reveal(m), nil, cbcEncInfo, symmetricKeySize)
	if err != nil {
		return nil, err
	}
	defer clear(encKey)
	sealed, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, secret.Reveal(m), nil, cbcMACInfo, sha256.Size)
	if err != nil {
		return nil, err
	}
	return &cbcKey{raw: raw, sealed: sealed, macKey: secret.Own(macKey)}, nil
}

func (k *cbcKey) Type() KeyType { return AES256CBC }

func (k *cbcKey) Seal(dst []byte, alg Algorithm, header, plaintext, aad []byte) ([]byte, error) {
	if alg != EncAES256CBC {
		return nil, unsupported(AES256CBC, alg)
	}
	start := len(dst)
	dst = appendCBC(dst, k.sealed, plaintext)
	return append(dst, k.tag(header, aad, dst[start:])...), nil
}

func (k *cbcKey) Open(alg Algorithm, header, body, aad []byte) ([]byte, error) {
	if alg != EncAES256CBC || len(body) < cbcMACSize {
		return nil, ErrDecrypt
	}
	ct, tag := body[:len(body)-cbcMACSize], body[len(body)-cbcMACSize:]
	if !hmac.Equal(tag, k.tag(header, aad, ct)) {
		return nil, ErrDecrypt
	}
	return openCBC(k.sealed, ct)
}

// SealRaw returns the seed's bytes: IV || AES-256-CBC(PKCS7(plaintext)).
// The raw form cannot carry associated data.
func (k *cbcKey) SealRaw(alg Algorithm, plaintext, aad []byte) ([]byte, error) {
	if alg != EncAES256CBC {
		return nil, unsupported(AES256CBC, alg)
	}
	if len(aad) != 0 {
		return nil, fmt.Errorf("%w: the raw aes256-cbc form cannot bind associated data", ErrUnsupported)
	}
	return appendCBC(nil, k.raw, plaintext), nil
}

func (k *cbcKey) OpenRaw(alg Algorithm, raw, aad []byte) ([]byte, error) {
	if alg != EncAES256CBC || len(aad) != 0 {
		return nil, ErrDecrypt
	}
	return openCBC(k.raw, raw)
}

// appendCBC appends IV || CBC(PKCS7(plaintext)) under block to dst.
func appendCBC(dst []byte, block cipher.Block, plaintext []byte) []byte {
	padded := PadPKCS7(plaintext, aes.BlockSize)
	dst = grow(dst, aes.BlockSize+len(padded)+cbcMACSize)
	iv := dst[len(dst) : len(dst)+aes.BlockSize]
	if _, err := rand.Read(iv); err != nil {
		panic("algo: crypto/rand failed: " + err.Error())
	}
	dst = dst[:len(dst)+aes.BlockSize]
	out := dst[len(dst) : len(dst)+len(padded)]
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
	return dst[:len(dst)+len(padded)]
}

func openCBC(block cipher.Block, raw []byte) ([]byte, error) {
	if len(raw) < 2*aes.BlockSize || len(raw)%aes.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	iv, ct := raw[:aes.BlockSize], raw[aes.BlockSize:]
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	return UnpadPKCS7(pt, aes.BlockSize)
}

// tag is HMAC-SHA-256 over header || len(aad) || aad || IV || ciphertext.
// The length prefix keeps the aad/ciphertext boundary unambiguous.
func (k *cbcKey) tag(header, aad, ivct []byte) []byte {
	m := hmac.New(sha256.New, secret.Reveal(k.macKey))
	m.Write(header)
	var n [8]byte
	for i := range n {
		n[7-i] = byte(uint64(len(aad)) >> (8 * i))
	}
	m.Write(n[:])
	m.Write(aad)
	m.Write(ivct)
	return m.Sum(nil)
}

// PadPKCS7 returns a copy of b padded to a multiple of blockSize (RFC 5652,
// 6.3): n bytes of value n, 1 <= n <= blockSize.
func PadPKCS7(b []byte, blockSize int) []byte {
	n := blockSize - len(b)%blockSize
	out := make([]byte, len(b)+n)
	copy(out, b)
	for i := len(b); i < len(out); i++ {
		out[i] = byte(n)
	}
	return out
}

// UnpadPKCS7 removes PKCS#7 padding from b in place and returns the
// plaintext. Its running time depends only on len(b), not on whether or
// where the padding is wrong, and every failure is [ErrDecrypt].
func UnpadPKCS7(b []byte, blockSize int) ([]byte, error) {
	if len(b) == 0 || len(b)%blockSize != 0 {
		return nil, ErrDecrypt
	}
	n := int(b[len(b)-1])
	good := subtle.ConstantTimeLessOrEq(1, n) & subtle.ConstantTimeLessOrEq(n, blockSize)
	// Check the last blockSize bytes: every byte within the padding must equal n.
	for i := 1; i <= blockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, n)
		match := subtle.ConstantTimeByteEq(b[len(b)-i], byte(n))
		good &= subtle.ConstantTimeSelect(inPad, match, 1)
	}
	if good != 1 {
		return nil, ErrDecrypt
	}
	return b[:len(b)-n], nil
}
