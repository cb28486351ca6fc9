package algo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/keycustodian/custodian/internal/secret"
)

// symmetricKeySize is the size of every symmetric encryption key: AES-256
// and ChaCha20 both take 32 bytes.
const symmetricKeySize = 32

func init() {
	register(&Spec{
		Type: AES256GCM, Purposes: []Purpose{PurposeEncrypt}, Algorithms: []Algorithm{EncAES256GCM},
		generate: randomMaterial(symmetricKeySize), normalize: rawMaterial(symmetricKeySize),
		load: func(m secret.Bytes) (Key, error) {
			block, err := aes.NewCipher(secret.Reveal(m))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
			}
			a, err := cipher.NewGCM(block)
			if err != nil {
				return nil, err
			}
			return &aeadKey{typ: AES256GCM, alg: EncAES256GCM, aead: a}, nil
		},
	})
	register(&Spec{
		Type: ChaCha20Poly1305, Purposes: []Purpose{PurposeEncrypt}, Algorithms: []Algorithm{EncChaCha20Poly1305},
		generate: randomMaterial(symmetricKeySize), normalize: rawMaterial(symmetricKeySize),
		load: func(m secret.Bytes) (Key, error) {
			a, err := chacha20poly1305.New(secret.Reveal(m))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidMaterial, err)
			}
			return &aeadKey{typ: ChaCha20Poly1305, alg: EncChaCha20Poly1305, aead: a}, nil
		},
	})
}

// aeadKey is an AEAD with a 96-bit random nonce. The body of a ciphertext is
// nonce || AEAD ciphertext || tag, with header || aad as associated data.
//
// Random 96-bit nonces bound the number of messages one key version may
// safely encrypt to 2^32 (NIST SP 800-38D, 8.3); rotate well before that.
type aeadKey struct {
	typ  KeyType
	alg  Algorithm
	aead cipher.AEAD // safe for concurrent use; cached for the version's lifetime
}

func (k *aeadKey) Type() KeyType { return k.typ }

func (k *aeadKey) Seal(dst []byte, alg Algorithm, header, plaintext, aad []byte) ([]byte, error) {
	if alg != k.alg {
		return nil, unsupported(k.typ, alg)
	}
	return k.seal(dst, plaintext, joinAD(header, aad)), nil
}

func (k *aeadKey) Open(alg Algorithm, header, body, aad []byte) ([]byte, error) {
	if alg != k.alg {
		return nil, ErrDecrypt
	}
	return k.open(body, joinAD(header, aad))
}

func (k *aeadKey) SealRaw(alg Algorithm, plaintext, aad []byte) ([]byte, error) {
	if alg != k.alg {
		return nil, unsupported(k.typ, alg)
	}
	return k.seal(nil, plaintext, aad), nil
}

func (k *aeadKey) OpenRaw(alg Algorithm, raw, aad []byte) ([]byte, error) {
	if alg != k.alg {
		return nil, ErrDecrypt
	}
	return k.open(raw, aad)
}

// seal appends nonce || ciphertext || tag to dst, growing it once.
func (k *aeadKey) seal(dst, plaintext, ad []byte) []byte {
	ns := k.aead.NonceSize()
	dst = grow(dst, ns+len(plaintext)+k.aead.Overhead())
	nonce := dst[len(dst) : len(dst)+ns]
	if _, err := rand.Read(nonce); err != nil {
		panic("algo: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return k.aead.Seal(dst[:len(dst)+ns], nonce, plaintext, ad)
}

func (k *aeadKey) open(body, ad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(body) < ns+k.aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := k.aead.Open(nil, body[:ns], body[ns:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// joinAD returns header || aad. The header's length is fixed by its own
// contents, so the concatenation is unambiguous. It allocates only when both
// parts are non-empty.
func joinAD(header, aad []byte) []byte {
	switch {
	case len(aad) == 0:
		return header
	case len(header) == 0:
		return aad
	}
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}

// grow returns dst with room for n more bytes without changing its length.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	out := make([]byte, len(dst), len(dst)+n)
	copy(out, dst)
	return out
}

// randomMaterial returns a generator of n random bytes.
func randomMaterial(n int) func() (secret.Bytes, error) {
	return func() (secret.Bytes, error) {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return secret.Bytes{}, err
		}
		return secret.Own(b), nil
	}
}

// rawMaterial returns an import normalizer for raw keys of exactly n bytes.
func rawMaterial(n int) func([]byte) (secret.Bytes, error) {
	return func(raw []byte) (secret.Bytes, error) {
		if len(raw) != n {
			return secret.Bytes{}, fmt.Errorf("%w: want %d raw bytes, got %d", ErrInvalidMaterial, n, len(raw))
		}
		return secret.New(raw), nil
	}
}
