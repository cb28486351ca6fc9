package algo_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/wycheproof"
)

// aead_test_schema_v1: aes_gcm_test.json, chacha20_poly1305_test.json.
type aeadGroup struct {
	KeySize int        `json:"keySize"` // bits
	IVSize  int        `json:"ivSize"`  // bits
	TagSize int        `json:"tagSize"` // bits
	Tests   []aeadTest `json:"tests"`
}

type aeadTest struct {
	wycheproof.Test
	Key wycheproof.Hex `json:"key"`
	IV  wycheproof.Hex `json:"iv"`
	AAD wycheproof.Hex `json:"aad"`
	Msg wycheproof.Hex `json:"msg"`
	CT  wycheproof.Hex `json:"ct"`
	Tag wycheproof.Hex `json:"tag"`
}

// TestWycheproofAEAD decrypts the AES-GCM and ChaCha20-Poly1305 vectors with
// OpenRaw, whose raw form is nonce || ciphertext || tag. Our keys are 256
// bits with a 96-bit nonce and a 128-bit tag; vectors with other sizes
// cannot be expressed in that form and are counted as skipped (for 128- and
// 192-bit AES keys, that Import refuses them is asserted once per group).
func TestWycheproofAEAD(t *testing.T) {
	params := map[string]struct {
		typ algo.KeyType
		alg algo.Algorithm
	}{
		"aes_gcm_test.json":           {algo.AES256GCM, algo.EncAES256GCM},
		"chacha20_poly1305_test.json": {algo.ChaCha20Poly1305, algo.EncChaCha20Poly1305},
	}
	forEachFile(t, []string{"aes_gcm_test.json", "chacha20_poly1305_test.json"}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		p := params[name]
		f := loadVectors[aeadGroup](t, name, tally)
		for _, g := range f.TestGroups {
			skip := ""
			switch {
			case g.KeySize != 256:
				skip = fmt.Sprintf("%d-bit key (%s keys are 256 bits)", g.KeySize, p.typ)
			case g.IVSize != 96:
				skip = fmt.Sprintf("%d-bit nonce (%s uses 96-bit nonces)", g.IVSize, p.typ)
			case g.TagSize != 128:
				skip = fmt.Sprintf("%d-bit tag (%s uses 128-bit tags)", g.TagSize, p.typ)
			}
			if g.KeySize != 256 && len(g.Tests) > 0 {
				assertImportRejects(t, name, p.typ, g.Tests[0].Key)
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				if skip != "" {
					tally.Skip(skip)
					continue
				}
				tally.Run()
				k, err := loadKey(t, p.typ, tc.Key)
				if err != nil {
					t.Errorf("%s %v: import key: %v", name, &tc.Test, err)
					continue
				}
				raw := append(append(append([]byte(nil), tc.IV...), tc.CT...), tc.Tag...)
				pt, err := k.(algo.Encrypter).OpenRaw(p.alg, raw, tc.AAD)
				checkOutput(t, name, &tc.Test, pt, err, tc.Msg, algo.ErrDecrypt)
			}
		}
	})
}

// ind_cpa_test_schema_v1: aes_cbc_pkcs5_test.json.
type cbcGroup struct {
	KeySize int       `json:"keySize"`
	IVSize  int       `json:"ivSize"`
	Tests   []cbcTest `json:"tests"`
}

type cbcTest struct {
	wycheproof.Test
	Key wycheproof.Hex `json:"key"`
	IV  wycheproof.Hex `json:"iv"`
	Msg wycheproof.Hex `json:"msg"`
	CT  wycheproof.Hex `json:"ct"`
}

// TestWycheproofAESCBC decrypts the AES-CBC-PKCS#5 vectors through the
// aes256-cbc key's OpenRaw (IV || ciphertext) and checks that PadPKCS7 with
// the vector's IV reproduces the ciphertext. Only the 256-bit key group
// applies: aes256-cbc keys are exactly 32 bytes, and Import rejects the
// 128- and 192-bit keys (asserted once per skipped group).
func TestWycheproofAESCBC(t *testing.T) {
	const name = "aes_cbc_pkcs5_test.json"
	forEachFile(t, []string{name}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[cbcGroup](t, name, tally)
		spec, _ := algo.Lookup(algo.AES256CBC)
		for _, g := range f.TestGroups {
			if g.KeySize != 256 || g.IVSize != 128 {
				if len(g.Tests) > 0 {
					assertImportRejects(t, name, algo.AES256CBC, g.Tests[0].Key)
				}
				for range g.Tests {
					tally.Skip(fmt.Sprintf("%d-bit key, %d-bit IV (aes256-cbc keys are 256 bits)", g.KeySize, g.IVSize))
				}
				continue
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				m, err := spec.Import(tc.Key)
				if err != nil {
					t.Errorf("%s %v: import key: %v", name, &tc.Test, err)
					continue
				}
				k, err := spec.Load(m)
				if err != nil {
					t.Errorf("%s %v: load key: %v", name, &tc.Test, err)
					continue
				}
				raw := append(append([]byte(nil), tc.IV...), tc.CT...)
				pt, err := k.(algo.Encrypter).OpenRaw(algo.EncAES256CBC, raw, nil)
				checkOutput(t, name, &tc.Test, pt, err, tc.Msg, algo.ErrDecrypt)

				block, err := aes.NewCipher(tc.Key)
				if err != nil {
					t.Fatal(err)
				}
				if tc.Result == wycheproof.Valid {
					// Our padding and the vector's IV must give its ciphertext exactly.
					padded := algo.PadPKCS7(tc.Msg, aes.BlockSize)
					ct := make([]byte, len(padded))
					cipher.NewCBCEncrypter(block, tc.IV).CryptBlocks(ct, padded)
					if !bytes.Equal(ct, tc.CT) {
						t.Errorf("%s %v: PadPKCS7 + CBC gives %x, want %x", name, &tc.Test, ct, tc.CT)
					}
				}
				// UnpadPKCS7 alone on the CBC decryption agrees with the vector.
				if len(tc.CT) > 0 && len(tc.CT)%aes.BlockSize == 0 {
					dec := make([]byte, len(tc.CT))
					cipher.NewCBCDecrypter(block, tc.IV).CryptBlocks(dec, tc.CT)
					got, err := algo.UnpadPKCS7(dec, aes.BlockSize)
					checkOutput(t, name, &tc.Test, got, err, tc.Msg, algo.ErrDecrypt)
				}
			}
		}
	})
}

// assertImportRejects checks that a key of a size we skip is one Import
// refuses, so that skipping it hides nothing we would accept.
func assertImportRejects(t *testing.T, name string, typ algo.KeyType, key []byte) {
	t.Helper()
	spec, _ := algo.Lookup(typ)
	if _, err := spec.Import(key); !errors.Is(err, algo.ErrInvalidMaterial) {
		t.Errorf("%s: importing a %d-byte key as %s: got %v, want %v", name, len(key), typ, err, algo.ErrInvalidMaterial)
	}
}
