package algo_test

// Project Wycheproof vectors (github.com/C2SP/wycheproof, testvectors_v1; the
// folder's README names the commit) run through this package's own code
// paths: keys are imported with Spec.Import and loaded with Spec.Load, and
// every operation goes through the Encrypter, MACer and Agreer interfaces or
// VerifySignature. The vectors are read from $CUSTODIAN_WYCHEPROOF_DIR (by
// default ../shared/testvectors/wycheproof relative to the module root) and
// are never copied into this repository. The tests skip, naming the variable
// and the path, when the folder is absent.
//
// Every vector that runs is asserted by its result. Vectors that do not fit
// our formats (an AES-128 key, a 64-bit GCM nonce) are counted as skipped
// with the reason, and each file logs its counts; a file present but with no
// vector run fails.

import (
	"bytes"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/wycheproof"
)

// wycheproofFiles is every file the vector folder is expected to hold, with
// the test that consumes it. TestWycheproofFiles fails on any other file, so
// a file added to the folder cannot go unnoticed.
var wycheproofFiles = map[string]string{
	"aes_cbc_pkcs5_test.json":                   "TestWycheproofAESCBC",
	"aes_gcm_test.json":                         "TestWycheproofAEAD",
	"chacha20_poly1305_test.json":               "TestWycheproofAEAD",
	"rsa_oaep_2048_sha1_mgf1sha1_test.json":     "TestWycheproofRSAOAEP",
	"rsa_oaep_2048_sha256_mgf1sha256_test.json": "TestWycheproofRSAOAEP",
	"rsa_oaep_3072_sha256_mgf1sha256_test.json": "TestWycheproofRSAOAEP",
	"rsa_oaep_4096_sha256_mgf1sha256_test.json": "TestWycheproofRSAOAEP",
	"rsa_pkcs1_2048_test.json":                  "TestWycheproofRSAPKCS1Decrypt",
	"rsa_pkcs1_3072_test.json":                  "TestWycheproofRSAPKCS1Decrypt",
	"rsa_pkcs1_4096_test.json":                  "TestWycheproofRSAPKCS1Decrypt",
	"rsa_pss_2048_sha256_mgf1_32_test.json":     "TestWycheproofRSAPSS",
	"rsa_pss_3072_sha256_mgf1_32_test.json":     "TestWycheproofRSAPSS",
	"rsa_pss_4096_sha256_mgf1_32_test.json":     "TestWycheproofRSAPSS",
	"rsa_signature_2048_sha256_test.json":       "TestWycheproofRSAPKCS1Signature",
	"rsa_signature_3072_sha256_test.json":       "TestWycheproofRSAPKCS1Signature",
	"rsa_signature_4096_sha256_test.json":       "TestWycheproofRSAPKCS1Signature",
	"rsa_signature_4096_sha512_test.json":       "TestWycheproofRSAPKCS1Signature",
	"ecdsa_secp256r1_sha256_test.json":          "TestWycheproofECDSA",
	"ecdsa_secp384r1_sha384_test.json":          "TestWycheproofECDSA",
	"ecdsa_secp521r1_sha512_test.json":          "TestWycheproofECDSA",
	"ecdsa_secp256r1_sha256_p1363_test.json":    "TestWycheproofECDSA",
	"ed25519_test.json":                         "TestWycheproofEd25519",
	"ecdh_secp256r1_test.json":                  "TestWycheproofECDH",
	"ecdh_secp384r1_test.json":                  "TestWycheproofECDH",
	"ecdh_secp521r1_test.json":                  "TestWycheproofECDH",
	"ecdh_secp256r1_ecpoint_test.json":          "TestWycheproofECDH",
	"x25519_test.json":                          "TestWycheproofX25519",
	"hmac_sha256_test.json":                     "TestWycheproofHMAC",
	"hmac_sha512_test.json":                     "TestWycheproofHMAC",
	"hkdf_sha256_test.json":                     "TestWycheproofStdlibHKDF",
	"aes_wrap_test.json":                        "TestWycheproofNotApplicable",
	"aes_kwp_test.json":                         "TestWycheproofNotApplicable",
	"xchacha20_poly1305_test.json":              "TestWycheproofNotApplicable",
}

// TestWycheproofFiles checks that the folder holds no vector file these
// tests do not know about, and every file they expect.
func TestWycheproofFiles(t *testing.T) {
	dir := wycheproofDir(t)
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range names {
		name := filepath.Base(p)
		seen[name] = true
		if _, ok := wycheproofFiles[name]; !ok {
			t.Errorf("%s: vector file not covered by any test; add it to wycheproofFiles and test it (or state why it does not apply)", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(wycheproofFiles)) {
		if !seen[name] {
			t.Errorf("%s: expected in %s (for %s) but absent", name, dir, wycheproofFiles[name])
		}
	}
}

// TestWycheproofNotApplicable names the files that exercise algorithms or
// encodings this release does not have.
func TestWycheproofNotApplicable(t *testing.T) {
	for _, na := range []struct{ name, why string }{
		{"aes_wrap_test.json", "AES key wrap (RFC 3394) is not implemented in this release"},
		{"aes_kwp_test.json", "AES key wrap with padding (RFC 5649) is not implemented in this release"},
		{"xchacha20_poly1305_test.json", "XChaCha20-Poly1305 is not implemented in this release; " +
			"our chacha20-poly1305 keys use 96-bit nonces (chacha20_poly1305_test.json covers them)"},
	} {
		t.Run(strings.TrimSuffix(na.name, ".json"), func(t *testing.T) {
			t.Skipf("%s: not applicable: %s", na.name, na.why)
		})
	}
}

// wycheproofDir returns the vector folder, skipping the test when it is absent.
func wycheproofDir(t *testing.T) string {
	t.Helper()
	dir, err := wycheproof.Dir()
	if errors.Is(err, wycheproof.ErrNoVectors) {
		t.Skipf("skipping Wycheproof vectors: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadVectors loads one vector file, skipping when the folder is absent and
// failing when the folder is present but the file is missing or malformed.
// The tally then expects every vector in the file to be run or skipped.
func loadVectors[G any](t *testing.T, name string, tally *wycheproof.Tally) *wycheproof.File[G] {
	t.Helper()
	f, err := wycheproof.Load[G](wycheproofDir(t), name)
	if err != nil {
		t.Fatal(err)
	}
	tally.Expect(f.NumberOfTests)
	return f
}

// forEachFile runs fn for each named file as a parallel subtest that reports
// the file's counts when it ends.
func forEachFile(t *testing.T, names []string, fn func(t *testing.T, name string, tally *wycheproof.Tally)) {
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			t.Parallel()
			tally := wycheproof.NewTally(name)
			fn(t, name, tally) // a skip or fatal error ends the subtest here
			tally.Report(t)
		})
	}
}

// loadKey imports material through the key type's spec and loads it, the way
// a caller's import does.
func loadKey(t *testing.T, typ algo.KeyType, material []byte) (algo.Key, error) {
	t.Helper()
	spec, ok := algo.Lookup(typ)
	if !ok {
		t.Fatalf("no spec for key type %s", typ)
	}
	m, err := spec.Import(material)
	if err != nil {
		return nil, err
	}
	return spec.Load(m)
}

// checkOutput asserts a decryption-like outcome: a valid vector must succeed
// with want, an invalid one must fail with wantErr. Acceptable vectors need
// a decision of their own, so meeting one here is a failure.
func checkOutput(t *testing.T, file string, tc *wycheproof.Test, got []byte, err error, want []byte, wantErr error) {
	t.Helper()
	switch tc.Result {
	case wycheproof.Valid:
		if err != nil {
			t.Errorf("%s %v: unexpected error: %v", file, tc, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s %v: got %x, want %x", file, tc, got, want)
		}
	case wycheproof.Invalid:
		if !errors.Is(err, wantErr) {
			t.Errorf("%s %v: got (%x, %v), want error %v", file, tc, got, err, wantErr)
		}
	default:
		t.Errorf("%s %v: no policy for acceptable vectors in this file; decide one and document it", file, tc)
	}
}

// checkVerify asserts a verification outcome: nil for valid vectors, wantErr
// for invalid ones. Acceptable vectors are a failure here, as in checkOutput.
func checkVerify(t *testing.T, file string, tc *wycheproof.Test, err, wantErr error) {
	t.Helper()
	switch tc.Result {
	case wycheproof.Valid:
		if err != nil {
			t.Errorf("%s %v: valid signature rejected: %v", file, tc, err)
		}
	case wycheproof.Invalid:
		if !errors.Is(err, wantErr) {
			t.Errorf("%s %v: got %v, want %v", file, tc, err, wantErr)
		}
	default:
		t.Errorf("%s %v: no policy for acceptable vectors in this file; decide one and document it", file, tc)
	}
}
