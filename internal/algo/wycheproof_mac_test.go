package algo_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/wycheproof"
)

// mac_test_schema_v1.
type macGroup struct {
	KeySize int       `json:"keySize"` // bits
	TagSize int       `json:"tagSize"` // bits
	Tests   []macTest `json:"tests"`
}

type macTest struct {
	wycheproof.Test
	Key wycheproof.Hex `json:"key"`
	Msg wycheproof.Hex `json:"msg"`
	Tag wycheproof.Hex `json:"tag"`
}

// TestWycheproofHMAC runs the HMAC vectors through imported hmac-sha256 and
// hmac-sha512 keys, with MAC and VerifyMAC. Keys outside the 16 to 128
// bytes Import allows do not apply and are counted as skipped.
//
// Truncated tags: VerifyMAC accepts only the full tag, because a caller that
// could choose the tag length could choose a short, forgeable one. So for a
// group whose tags are shorter than the hash, instead of the vector's result
// we assert that VerifyMAC rejects the tag with ErrVerify, and check the
// vector's result against a prefix of MAC's output: a valid tag must be its
// prefix, an invalid one must not.
func TestWycheproofHMAC(t *testing.T) {
	params := map[string]struct {
		typ  algo.KeyType
		alg  algo.Algorithm
		size int // bytes
	}{
		"hmac_sha256_test.json": {algo.HMACSHA256, algo.MACHMACSHA256, sha256.Size},
		"hmac_sha512_test.json": {algo.HMACSHA512, algo.MACHMACSHA512, 64},
	}
	forEachFile(t, []string{"hmac_sha256_test.json", "hmac_sha512_test.json"}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		p := params[name]
		f := loadVectors[macGroup](t, name, tally)
		for _, g := range f.TestGroups {
			if g.KeySize%8 != 0 || g.KeySize/8 < 16 || g.KeySize/8 > 128 {
				for range g.Tests {
					tally.Skip(fmt.Sprintf("%d-bit key (HMAC keys are 16 to 128 bytes)", g.KeySize))
				}
				continue
			}
			truncated := g.TagSize != 8*p.size
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				if len(tc.Key) != g.KeySize/8 || len(tc.Tag) != g.TagSize/8 {
					t.Errorf("%s %v: key of %d bytes, tag of %d bytes in a group of %d-bit keys and %d-bit tags", name, &tc.Test, len(tc.Key), len(tc.Tag), g.KeySize, g.TagSize)
					continue
				}
				k, err := loadKey(t, p.typ, tc.Key)
				if err != nil {
					t.Errorf("%s %v: import key: %v", name, &tc.Test, err)
					continue
				}
				m := k.(algo.MACer)
				mac, err := m.MAC(p.alg, tc.Msg)
				if err != nil || len(mac) != p.size {
					t.Errorf("%s %v: MAC = (%x, %v), want a %d-byte tag", name, &tc.Test, mac, err, p.size)
					continue
				}
				verr := m.VerifyMAC(p.alg, tc.Msg, tc.Tag)
				if truncated {
					if !errors.Is(verr, algo.ErrVerify) {
						t.Errorf("%s %v: VerifyMAC of a %d-bit truncated tag: got %v, want %v (we accept full tags only)", name, &tc.Test, g.TagSize, verr, algo.ErrVerify)
					}
					if prefix := bytes.Equal(mac[:len(tc.Tag)], tc.Tag); prefix != (tc.Result == wycheproof.Valid) {
						t.Errorf("%s %v: MAC %x, tag %x: tag is a prefix = %v", name, &tc.Test, mac, tc.Tag, prefix)
					}
					continue
				}
				checkVerify(t, name, &tc.Test, verr, algo.ErrVerify)
				if full := bytes.Equal(mac, tc.Tag); full != (tc.Result == wycheproof.Valid) {
					t.Errorf("%s %v: MAC %x, tag %x: equal = %v", name, &tc.Test, mac, tc.Tag, full)
				}
			}
		}
	})
}

// hkdf_test_schema_v1.
type hkdfGroup struct {
	Tests []hkdfTest `json:"tests"`
}

type hkdfTest struct {
	wycheproof.Test
	IKM  wycheproof.Hex `json:"ikm"`
	Salt wycheproof.Hex `json:"salt"`
	Info wycheproof.Hex `json:"info"`
	Size int            `json:"size"`
	OKM  wycheproof.Hex `json:"okm"`
}

// TestWycheproofStdlibHKDF runs the HKDF-SHA-256 vectors against
// crypto/hkdf.Key itself, not code of ours: the root package's DeriveKey
// (and the aes256-cbc MAC key derivation) call hkdf.Key(sha256.New, ...)
// directly, so this pins the primitive they rely on. Invalid vectors ask for
// more than 255 hash lengths, which hkdf.Key must refuse.
func TestWycheproofStdlibHKDF(t *testing.T) {
	forEachFile(t, []string{"hkdf_sha256_test.json"}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[hkdfGroup](t, name, tally)
		for _, g := range f.TestGroups {
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				okm, err := hkdf.Key(sha256.New, tc.IKM, tc.Salt, string(tc.Info), tc.Size)
				switch tc.Result {
				case wycheproof.Valid:
					if err != nil || !bytes.Equal(okm, tc.OKM) {
						t.Errorf("%s %v: got (%x, %v), want %x", name, &tc.Test, okm, err, tc.OKM)
					}
				case wycheproof.Invalid:
					if err == nil {
						t.Errorf("%s %v: got %x, want an error", name, &tc.Test, okm)
					}
				default:
					t.Errorf("%s %v: no policy for acceptable vectors in this file", name, &tc.Test)
				}
			}
		}
	})
}
