package custodian_test

// Tests for the small gaps an audit of issue 2 found: results returned
// beside errors, the floor on imported DH exponents, and the README's
// claims about how the seed's calls behave here.

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/dh"
)

// TestSignMACNilOnError: a failed Sign or MAC returns a nil result, as Go
// callers expect; Sign used to return a *Signature with a nil Signature
// beside the error when the algorithm itself refused the input.
func TestSignMACNilOnError(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "ed", &custodian.CreateOptions{Type: custodian.Ed25519})
	opCreate(t, c, "p256", &custodian.CreateOptions{Type: custodian.ECDSAP256})
	opCreate(t, c, "rsa", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign})
	opCreate(t, c, "hmac", &custodian.CreateOptions{Type: custodian.HMACSHA256})
	opCreate(t, c, "aes", nil)
	for _, tc := range []struct {
		name, key string
		opts      *custodian.SignOptions
		want      error
	}{
		// Refused inside the algorithm, after the key version is loaded.
		{"ed25519 digest", "ed", &custodian.SignOptions{Digest: true}, custodian.ErrUnsupportedOperation},
		{"ecdsa short digest", "p256", &custodian.SignOptions{Digest: true}, custodian.ErrInvalidArgument},
		{"rsa short digest", "rsa", &custodian.SignOptions{Digest: true}, custodian.ErrInvalidArgument},
		// Refused before any material is used.
		{"wrong algorithm", "p256", &custodian.SignOptions{Algorithm: custodian.AlgEd25519}, custodian.ErrUnsupportedOperation},
		{"no such version", "p256", &custodian.SignOptions{Version: 9}, custodian.ErrInvalidArgument},
		{"not a signing key", "aes", nil, custodian.ErrUnsupportedOperation},
		{"no such key", "missing", nil, custodian.ErrKeyNotFound},
	} {
		t.Run("sign/"+tc.name, func(t *testing.T) {
			sig, err := c.Sign(ctx, tc.key, []byte("seven bytes"), tc.opts)
			opExpect(t, err, tc.want)
			if sig != nil {
				t.Fatalf("Sign returned %+v beside the error", sig)
			}
		})
	}
	// HMAC itself cannot fail once its key is loaded, so these refusals
	// come from before the algorithm runs.
	for _, tc := range []struct {
		name, key string
		opts      *custodian.MACOptions
		want      error
	}{
		{"no such version", "hmac", &custodian.MACOptions{Version: 9}, custodian.ErrInvalidArgument},
		{"not a MAC key", "aes", nil, custodian.ErrUnsupportedOperation},
		{"no such key", "missing", nil, custodian.ErrKeyNotFound},
	} {
		t.Run("mac/"+tc.name, func(t *testing.T) {
			mac, err := c.MAC(ctx, tc.key, []byte("message"), tc.opts)
			opExpect(t, err, tc.want)
			if mac != nil {
				t.Fatalf("MAC returned %+v beside the error", mac)
			}
		})
	}
}

// TestVerifyAfterRotation pins down what docs/algorithms.md tells callers:
// Verify and VerifyMAC use the primary version unless told otherwise, so
// after a rotation they need the version the result was made with.
func TestVerifyAfterRotation(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "signer", &custodian.CreateOptions{Type: custodian.Ed25519})
	opCreate(t, c, "macer", &custodian.CreateOptions{Type: custodian.HMACSHA256})
	msg := []byte("release 1.0")
	sig := opMust(c.Sign(ctx, "signer", msg, nil))(t)
	mac := opMust(c.MAC(ctx, "macer", msg, nil))(t)
	opMust(c.RotateKey(ctx, "signer"))(t)
	opMust(c.RotateKey(ctx, "macer"))(t)
	opExpect(t, c.Verify(ctx, "signer", msg, sig.Signature, nil), custodian.ErrInvalidSignature)
	opExpect(t, c.Verify(ctx, "signer", msg, sig.Signature, &custodian.SignOptions{Version: sig.KeyVersion}), nil)
	opExpect(t, c.VerifyMAC(ctx, "macer", msg, mac.MAC, nil), custodian.ErrInvalidMAC)
	opExpect(t, c.VerifyMAC(ctx, "macer", msg, mac.MAC, &custodian.MACOptions{Version: mac.KeyVersion}), nil)
}

// plDHPKCS8 encodes x as a PKCS #8 ffdhe2048 private key, in the form
// OpenSSL writes (dhKeyAgreement OID, PKCS #3 parameters), without any
// check of x.
func plDHPKCS8(t *testing.T, x *big.Int) []byte {
	t.Helper()
	block, _ := pem.Decode(dh.FFDHE2048().ParametersPEM())
	xDER := opMust(asn1.Marshal(x))(t)
	return opMust(asn1.Marshal(struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{
		Algorithm:  asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1},
		Parameters: asn1.RawValue{FullBytes: block.Bytes},
	}, xDER}))(t)
}

// TestImportDHExponentFloor: an imported DH private exponent needs at
// least 192 bits (internal/dh, "Private exponent sizes"). x = 2 used to
// import, giving a key anyone could compute.
func TestImportDHExponentFloor(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	floor := new(big.Int).Lsh(big.NewInt(1), 191)
	for _, tc := range []struct {
		name string
		x    *big.Int
	}{
		{"x-2", big.NewInt(2)},
		{"x-65537", big.NewInt(65537)},
		{"x-2e191-minus-1", new(big.Int).Sub(floor, big.NewInt(1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ImportKey(ctx, tc.name, plDHPKCS8(t, tc.x), &custodian.CreateOptions{Type: custodian.DHFFDHE2048})
			opExpect(t, err, custodian.ErrInvalidArgument)
			if !strings.Contains(err.Error(), "at least 192 bits") {
				t.Errorf("the error does not say what is allowed: %v", err)
			}
		})
	}
	opMust(c.ImportKey(ctx, "floor", plDHPKCS8(t, floor), &custodian.CreateOptions{Type: custodian.DHFFDHE2048}))(t)

	// An OpenSSL key (225-bit exponent) imports, and agreement with it
	// gives what the exponent says.
	fixture := opMust(os.ReadFile(filepath.Join("internal", "dh", "testdata", "openssl_ffdhe2048.pem")))(t)
	opMust(c.ImportKey(ctx, "openssl", fixture, &custodian.CreateOptions{Type: custodian.DHFFDHE2048}))(t)
	peer := opMust(c.PublicKey(ctx, "floor", nil))(t)
	opMust(c.Agree(ctx, "openssl", peer, nil))(t)
}

// TestSeedTableClaims checks what README.md's "From the original Python
// module" section says differs from the seed.
func TestSeedTableClaims(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	// establish_aes_key returned the key; EstablishAESKey returns only its
	// metadata.
	k := opMust(c.EstablishAESKey(ctx, "aes"))(t)
	if k.Exportable {
		t.Error("EstablishAESKey made an exportable key")
	}
	_, err := c.ExportKey(ctx, "aes", nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	// A revoked id stays taken.
	if msg := opMust(c.InvalidateKey(ctx, "aes"))(t); msg != "Key Revocation Successful" {
		t.Errorf("InvalidateKey = %q", msg)
	}
	_, err = c.EstablishAESKey(ctx, "aes")
	opExpect(t, err, custodian.ErrKeyExists)
	_, err = c.EncryptDataAES(ctx, "aes", "x")
	opExpect(t, err, custodian.ErrKeyRevoked)
	// An unknown id is an error wrapping ErrKeyNotFound, not a string.
	_, err = c.EncryptDataAES(ctx, "nobody", "x")
	opExpect(t, err, custodian.ErrKeyNotFound)
	_, err = c.InvalidateKey(ctx, "nobody")
	opExpect(t, err, custodian.ErrKeyNotFound)
}

// TestGenerateDHParametersForms checks what dh.go says of the two kinds of
// fresh parameters: DSA-style ones come only in 2048 and 3072 bits and
// export as X9.42 DomainParameters (PKCS#3 cannot carry q). Safe-prime
// generation, which takes up to minutes, is covered by internal/dh.
func TestGenerateDHParametersForms(t *testing.T) {
	for _, bits := range []int{1024, 2560, 4096} {
		_, err := custodian.GenerateDHParameters(t.Context(), custodian.DHGenerateOptions{Bits: bits})
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	if testing.Short() {
		t.Skip("-short: skipping the generation of 2048-bit DSA-style parameters (about a second)")
	}
	p := opMust(custodian.GenerateDHParameters(t.Context(), custodian.DHGenerateOptions{Bits: 2048}))(t)
	block, rest := pem.Decode(p.PEM())
	if block == nil || len(rest) != 0 || block.Type != "X9.42 DH PARAMETERS" || p.Bits() != 2048 {
		t.Fatalf("DSA-style parameters: %d bits, PEM %q", p.Bits(), p.PEM())
	}
	var params struct{ P, G, Q *big.Int }
	if _, err := asn1.Unmarshal(block.Bytes, &params); err != nil || params.Q.BitLen() != 256 {
		t.Fatalf("not X9.42 DomainParameters with a 256-bit q: %v", err)
	}
}
