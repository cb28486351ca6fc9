package custodian_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
)

// TestOpUnsupportedMatrix calls every operation on every key of the
// fixture and checks that exactly the operations the key cannot do are
// refused with ErrUnsupportedOperation: those its type lacks, and those
// its usage excludes. Every operation but the public key and export needs
// one usage; a type that lacks an operation never allows its usage either,
// so the two refusals are written out apart only for RSA, whose keys are
// created for either encryption or signatures.
func TestOpUnsupportedMatrix(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	x25519Pub := opMust(f.c.PublicKey(ctx, f.key(t, custodian.X25519), nil))(t)
	for _, r := range opFixtureKeys() {
		t.Run(r.String(), func(t *testing.T) {
			name := f.keyOf(t, r)
			caps := opTypes[r.typ] // what the type can do, whatever the usage
			msg := []byte("m")
			for _, op := range []struct {
				op    string
				has   bool               // the key's type can do op
				usage custodian.KeyUsage // the usage op needs; "" for any
				err   func() error
			}{
				{"encrypt", caps.enc != nil, custodian.UsageEncrypt, func() error { return opErr(f.c.Encrypt(ctx, name, msg, nil)) }},
				{"encrypt-raw", caps.enc != nil, custodian.UsageEncrypt, func() error { return opErr(f.c.EncryptRaw(ctx, name, msg, nil)) }},
				{"decrypt-raw", caps.enc != nil, custodian.UsageEncrypt, func() error { return opErr(f.c.DecryptRaw(ctx, name, opPayload(64), nil)) }},
				{"generate-data-key", caps.enc != nil, custodian.UsageEncrypt, func() error { return opErr(f.c.GenerateDataKey(ctx, name, nil)) }},
				{"sign", caps.sig != nil, custodian.UsageSign, func() error { return opErr(f.c.Sign(ctx, name, msg, nil)) }},
				{"verify", caps.sig != nil, custodian.UsageSign, func() error { return f.c.Verify(ctx, name, msg, opPayload(64), nil) }},
				{"mac", caps.mac != "", custodian.UsageMAC, func() error { return opErr(f.c.MAC(ctx, name, msg, nil)) }},
				{"verify-mac", caps.mac != "", custodian.UsageMAC, func() error { return f.c.VerifyMAC(ctx, name, msg, opPayload(32), nil) }},
				{"agree", caps.agree, custodian.UsageAgree, func() error { return opErr(f.c.Agree(ctx, name, x25519Pub, nil)) }},
				{"derive-key", caps.agree, custodian.UsageAgree, func() error {
					return opErr(f.c.DeriveKey(ctx, name, x25519Pub, opName("derived-from/"+r.String()), nil))
				}},
				{"public-key", caps.public, "", func() error { return opErr(f.c.PublicKey(ctx, name, nil)) }},
				{"export", true, "", func() error { return opErr(f.c.ExportKey(ctx, name, nil)) }},
			} {
				err := op.err()
				byUsage := op.usage != "" && op.usage != r.usage
				switch {
				case !op.has:
					if !errors.Is(err, custodian.ErrUnsupportedOperation) {
						t.Errorf("%s: got %v, want ErrUnsupportedOperation: key type %s cannot %s", op.op, err, r.typ, op.op)
					}
				case byUsage:
					if !errors.Is(err, custodian.ErrUnsupportedOperation) {
						t.Errorf("%s: got %v, want ErrUnsupportedOperation: a %s key of usage %s cannot %s, though its type can", op.op, err, r.typ, r.usage, op.op)
					}
				case errors.Is(err, custodian.ErrUnsupportedOperation):
					t.Errorf("%s: refused as unsupported: %v", op.op, err)
				}
			}
		})
	}
}

// opErr drops the value of a (value, error) result.
func opErr(_ any, err error) error { return err }

// --- RSA sizes --------------------------------------------------------------------------------

// TestOpRSASizes covers rsa-3072 and rsa-4096, the only tests that pay for
// generating them: every operation once, encryption with a key of usage
// encrypt and signatures with one of usage sign, and the size-specific
// plaintext limits and public key sizes.
func TestOpRSASizes(t *testing.T) {
	for _, tc := range []struct {
		typ  custodian.KeyType
		bits int
	}{{custodian.RSA3072, 3072}, {custodian.RSA4096, 4096}} {
		t.Run(string(tc.typ), func(t *testing.T) {
			t.Parallel()
			c := opNewCustodian(t, nil)
			ctx := t.Context()
			name, signer := "big/"+string(tc.typ), "big/"+string(tc.typ)+"-sign"
			opCreate(t, c, name, &custodian.CreateOptions{Type: tc.typ, Usage: custodian.UsageEncrypt, Exportable: true})
			opCreate(t, c, signer, &custodian.CreateOptions{Type: tc.typ, Usage: custodian.UsageSign, Exportable: true})
			for _, n := range []string{name, signer} {
				if pub := opParsePublic(t, c, n, 0).(*rsa.PublicKey); pub.N.BitLen() != tc.bits {
					t.Errorf("%s: modulus is %d bits, want %d", n, pub.N.BitLen(), tc.bits)
				}
			}
			k := tc.bits / 8
			for alg, max := range map[custodian.Algorithm]int{
				custodian.AlgRSAOAEPSHA256: k - 66, custodian.AlgRSAOAEPSHA1: k - 42, custodian.AlgRSAPKCS1v15: k - 11,
			} {
				if alg == custodian.AlgRSAPKCS1v15 {
					raw := opMust(c.EncryptRaw(ctx, name, opPayload(max), &custodian.RawOptions{Algorithm: alg}))(t)
					if pt := opMust(c.DecryptRaw(ctx, name, raw, &custodian.RawOptions{Algorithm: alg}))(t); !bytes.Equal(pt, opPayload(max)) {
						t.Errorf("%s: longest plaintext does not round-trip", alg)
					}
					_, err := c.EncryptRaw(ctx, name, opPayload(max+1), &custodian.RawOptions{Algorithm: alg})
					opExpect(t, err, custodian.ErrInvalidArgument)
					continue
				}
				ct := opMust(c.Encrypt(ctx, name, opPayload(max), &custodian.EncryptOptions{Algorithm: alg}))(t)
				if len(ct) != 18+k {
					t.Errorf("%s ciphertext is %d bytes, want %d", alg, len(ct), 18+k)
				}
				if pt := opMust(c.Decrypt(ctx, ct, nil))(t); !bytes.Equal(pt, opPayload(max)) {
					t.Errorf("%s: longest plaintext does not round-trip", alg)
				}
				_, err := c.Encrypt(ctx, name, opPayload(max+1), &custodian.EncryptOptions{Algorithm: alg})
				opExpect(t, err, custodian.ErrInvalidArgument)
				if alg != custodian.AlgRSAPKCS1v15 {
					opCheckEncrypt(t, c, name, "other", alg, []byte("with aad"), []byte("aad"))
				}
			}
			opCheckSigning(t, c, signer, tc.typ)
			opCheckExportImport(t, c, name, tc.typ, custodian.UsageEncrypt)
			opCheckExportImport(t, c, signer, tc.typ, custodian.UsageSign)
			// Material of the wrong size is refused.
			_, err := c.ImportKey(ctx, "wrong-size", opMust(x509.MarshalPKCS8PrivateKey(opMust(rsa.GenerateKey(rand.Reader, 2048))(t)))(t), &custodian.CreateOptions{Type: tc.typ})
			opExpect(t, err, custodian.ErrInvalidArgument)
		})
	}
}

// --- the seed's API -----------------------------------------------------------------------------

func TestOpSeedAPI(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	k := opMust(c.EstablishAESKey(ctx, "terminal_123"))(t)
	if k.Type != custodian.AES256CBC || k.Exportable {
		t.Errorf("EstablishAESKey made %s exportable %v", k.Type, k.Exportable)
	}
	for _, text := range []string{"", "Confidential Communication", "exactly 16 bytes", strings.Repeat("ü", 100)} {
		ct := opMust(c.EncryptDataAES(ctx, "terminal_123", text))(t)
		raw, err := opB64Std.DecodeString(ct)
		if err != nil || len(raw) != 16+(len(text)/16+1)*16 {
			t.Errorf("EncryptDataAES(%d bytes) = %d bytes of IV || ciphertext (%v)", len(text), len(raw), err)
		}
		if got := opMust(c.DecryptDataAES(ctx, "terminal_123", ct))(t); got != text {
			t.Errorf("DecryptDataAES = %q, want %q", got, text)
		}
	}
	_, err := c.DecryptDataAES(ctx, "terminal_123", "not base64!")
	opExpect(t, err, custodian.ErrInvalidCiphertext)

	r := opMust(c.GenerateRSAPair(ctx, "systemRSA"))(t)
	if r.Type != custodian.RSA2048 {
		t.Errorf("GenerateRSAPair made %s", r.Type)
	}
	ct := opMust(c.EncryptDataRSA(ctx, "systemRSA", "Classified Information"))(t)
	if raw, err := opB64Std.DecodeString(ct); err != nil || len(raw) != 256 {
		t.Errorf("EncryptDataRSA = %d bytes (%v), want a 256-byte RSA ciphertext", len(raw), err)
	}
	if got := opMust(c.DecryptDataRSA(ctx, "systemRSA", ct))(t); got != "Classified Information" {
		t.Errorf("DecryptDataRSA = %q", got)
	}
	msg := opMust(c.InvalidateKey(ctx, "terminal_123"))(t)
	if msg != "Key Revocation Successful" {
		t.Errorf("InvalidateKey = %q", msg)
	}
	_, err = c.EncryptDataAES(ctx, "terminal_123", "x")
	opExpect(t, err, custodian.ErrKeyRevoked)
	_, err = c.InvalidateKey(ctx, "missing")
	opExpect(t, err, custodian.ErrKeyNotFound)

	t.Run("diffie-hellman", func(t *testing.T) {
		pair := opMust(c.GenerateDiffieHellmanParamsAndKey(ctx, "dh_exchange"))(t)
		if pair.Key.Type != custodian.DHFFDHE2048 {
			t.Errorf("key type %s", pair.Key.Type)
		}
		block, _ := pem.Decode(pair.Parameters)
		if block == nil || block.Type != "DH PARAMETERS" {
			t.Fatalf("Parameters are not a PKCS #3 PEM block: %q", pair.Parameters)
		}
		var params struct {
			P, G *big.Int
			L    int `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(block.Bytes, &params); err != nil {
			t.Fatalf("Parameters: %v", err)
		}
		if params.P.Cmp(opFFDHE2048P) != 0 || params.G.Int64() != 2 {
			t.Errorf("Parameters are not RFC 7919 ffdhe2048")
		}
		if pub := opMust(c.PublicKey(ctx, "dh_exchange", nil))(t); !bytes.Equal(pub, pair.PublicKey) {
			t.Error("DHKeyPair.PublicKey is not the key's public key")
		}
	})
}
