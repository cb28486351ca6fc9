package algo

// The algorithm layer's Seal and Open, beside the standard library calls
// they wrap, so that the root package's benchmarks can be split into what
// the algorithm costs and what the library around it costs.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/keycustodian/custodian/internal/secret"
)

const bnSize = 1024

// bnHeaderSize is the size of a ciphertext header (internal/envelope,
// which this package cannot import).
const bnHeaderSize = 18

func bnRandom(b *testing.B, n int) []byte {
	b.Helper()
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func bnLoad(b *testing.B, typ KeyType, key []byte) Encrypter {
	b.Helper()
	spec, ok := Lookup(typ)
	if !ok {
		b.Fatalf("%s is not registered", typ)
	}
	k, err := spec.Load(secret.New(key))
	if err != nil {
		b.Fatal(err)
	}
	return k.(Encrypter)
}

func BenchmarkAlgoSeal1KiB(b *testing.B) {
	key, pt := bnRandom(b, 32), bnRandom(b, bnSize)
	header := bnRandom(b, bnHeaderSize)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	k := bnLoad(b, AES256GCM, key)
	b.Run("aes256-gcm/impl=stdlib", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			out := make([]byte, bnHeaderSize+gcm.NonceSize(), bnHeaderSize+gcm.NonceSize()+bnSize+gcm.Overhead())
			copy(out, header)
			nonce := out[bnHeaderSize:]
			if _, err := rand.Read(nonce); err != nil {
				b.Fatal(err)
			}
			gcm.Seal(out, nonce, pt, out[:bnHeaderSize])
		}
	})
	b.Run("aes256-gcm/impl=stdlib-reuse", func(b *testing.B) {
		out := make([]byte, bnHeaderSize+gcm.NonceSize(), bnHeaderSize+gcm.NonceSize()+bnSize+gcm.Overhead())
		copy(out, header)
		nonce := out[bnHeaderSize:]
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rand.Read(nonce); err != nil {
				b.Fatal(err)
			}
			gcm.Seal(out, nonce, pt, out[:bnHeaderSize])
		}
	})
	// The layer's Seal appends to the header, as the root package calls it:
	// one buffer for the whole ciphertext.
	b.Run("aes256-gcm/impl=algo", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, bnHeaderSize, bnHeaderSize+bnSize+64)
			copy(buf, header)
			if _, err := k.Seal(buf, EncAES256GCM, buf[:bnHeaderSize], pt, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aes256-gcm/impl=algo-aad", func(b *testing.B) {
		aad := []byte("tenant=42")
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, bnHeaderSize, bnHeaderSize+bnSize+64)
			copy(buf, header)
			if _, err := k.Seal(buf, EncAES256GCM, buf[:bnHeaderSize], pt, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
	cbc := bnLoad(b, AES256CBC, key)
	b.Run("aes256-cbc/impl=stdlib", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			padded := PadPKCS7(pt, aes.BlockSize)
			out := make([]byte, aes.BlockSize+len(padded))
			if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
				b.Fatal(err)
			}
			cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
		}
	})
	b.Run("aes256-cbc/impl=algo-raw", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cbc.SealRaw(EncAES256CBC, pt, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aes256-cbc/impl=algo", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, bnHeaderSize, bnHeaderSize+bnSize+64)
			copy(buf, header)
			if _, err := cbc.Seal(buf, EncAES256CBC, buf[:bnHeaderSize], pt, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAlgoOpen1KiB(b *testing.B) {
	key, pt := bnRandom(b, 32), bnRandom(b, bnSize)
	header := bnRandom(b, bnHeaderSize)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	k := bnLoad(b, AES256GCM, key)
	ct, err := k.Seal(nil, EncAES256GCM, header, pt, nil)
	if err != nil {
		b.Fatal(err)
	}
	ns := gcm.NonceSize()
	b.Run("aes256-gcm/impl=stdlib", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gcm.Open(nil, ct[:ns], ct[ns:], header); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aes256-gcm/impl=algo", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Open(EncAES256GCM, header, ct, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
