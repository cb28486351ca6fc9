package algo_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/wycheproof"
)

// ecdsa_verify_schema_v1 and eddsa_verify_schema_v1.
type publicKeyGroup struct {
	SHA          string          `json:"sha"` // ECDSA only
	PublicKeyDER wycheproof.Hex  `json:"publicKeyDer"`
	Tests        []signatureTest `json:"tests"`
}

// TestWycheproofECDSA verifies the DER-signature ECDSA vectors with
// VerifySignature and ecdsa-sha256/384/512. These files have no acceptable
// vectors; checkVerify fails on any that appear.
//
// ecdsa_secp256r1_sha256_p1363_test.json does not apply: our ECDSA
// signatures are ASN.1 DER only, in both directions (Sign emits DER,
// VerifySignature accepts DER), and there is no IEEE P1363 (r || s) form to
// test. It gets a skipped subtest saying so.
func TestWycheproofECDSA(t *testing.T) {
	t.Run("ecdsa_secp256r1_sha256_p1363_test", func(t *testing.T) {
		t.Skip("ecdsa_secp256r1_sha256_p1363_test.json: not applicable: we emit and accept DER ECDSA signatures only, " +
			"no IEEE P1363 (r || s) form; the DER files cover ECDSA verification")
	})
	files := []string{
		"ecdsa_secp256r1_sha256_test.json",
		"ecdsa_secp384r1_sha384_test.json",
		"ecdsa_secp521r1_sha512_test.json",
	}
	forEachFile(t, files, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[publicKeyGroup](t, name, tally)
		for gi := range f.TestGroups {
			g := &f.TestGroups[gi]
			var alg algo.Algorithm
			switch g.SHA {
			case "SHA-256":
				alg = algo.SigECDSASHA256
			case "SHA-384":
				alg = algo.SigECDSASHA384
			case "SHA-512":
				alg = algo.SigECDSASHA512
			default:
				for range g.Tests {
					tally.Skip(fmt.Sprintf("ECDSA with %s", g.SHA))
				}
				continue
			}
			pk, err := x509.ParsePKIXPublicKey(g.PublicKeyDER)
			if err != nil {
				t.Errorf("%s group %d: parse public key: %v", name, gi, err)
				continue
			}
			pub, ok := pk.(*ecdsa.PublicKey)
			if !ok {
				t.Errorf("%s group %d: public key is %T", name, gi, pk)
				continue
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				err := algo.VerifySignature(pub, alg, tc.Msg, tc.Sig, false)
				checkVerify(t, name, &tc.Test, err, algo.ErrVerify)
			}
		}
	})
}

// TestWycheproofEd25519 verifies the Ed25519 vectors with VerifySignature.
func TestWycheproofEd25519(t *testing.T) {
	forEachFile(t, []string{"ed25519_test.json"}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[publicKeyGroup](t, name, tally)
		for gi := range f.TestGroups {
			g := &f.TestGroups[gi]
			pk, err := x509.ParsePKIXPublicKey(g.PublicKeyDER)
			if err != nil {
				t.Errorf("%s group %d: parse public key: %v", name, gi, err)
				continue
			}
			pub, ok := pk.(ed25519.PublicKey)
			if !ok {
				t.Errorf("%s group %d: public key is %T", name, gi, pk)
				continue
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				err := algo.VerifySignature(pub, algo.SigEd25519, tc.Msg, tc.Sig, false)
				checkVerify(t, name, &tc.Test, err, algo.ErrVerify)
			}
		}
	})
}
