package client_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/secret"
)

// env is what a scenario's steps share: the key manager under test, the
// prefix of its key names, and values kept between steps.
type env struct {
	km    custodian.KeyManager
	p     string
	clock *testClock
	peer  []byte // an X25519 peer's public key, DER SPKI
	ct    map[string]custodian.Ciphertext
	raw   map[string][]byte
	text  map[string]string
	sig   *custodian.Signature
	mac   *custodian.MAC
}

// step is one operation of the scenario. want is the code of the error it
// must fail with (the first row of api.Codes it matches), or "" for
// success.
type step struct {
	name string
	want string
	run  func(ctx context.Context, e *env) (any, error)
}

// scenario is every KeyManager operation, in success and in failure,
// across the lifecycle. Each step's outcome is described without what
// differs by nature between runs (ids, random bytes, times), so that two
// runs against two key managers can be compared line by line.
func scenario() []step {
	return slices.Concat(keySteps(), encryptSteps(), signSteps(), seedSteps(), lifecycleSteps())
}

// n is a key name under the run's prefix.
func n(e *env, name string) string { return e.p + name }

// create is a step that creates a key.
func create(name string, opts *custodian.CreateOptions) func(context.Context, *env) (any, error) {
	return func(ctx context.Context, e *env) (any, error) { return e.km.CreateKey(ctx, n(e, name), opts) }
}

// keySteps are the steps that create, read, list, update and import keys.
func keySteps() []step {
	desc, minv, zero := "updated", 2, time.Duration(0)
	return []step{
		{"create aes", "", create("aes", nil)},
		{"create aes again", "key_exists", create("aes", nil)},
		{"create bad name", "invalid_argument", create("bad name!", nil)},
		{"create bad type", "invalid_argument", create("x", &custodian.CreateOptions{Type: "des"})},
		{"create bad rotation", "invalid_argument", create("x", &custodian.CreateOptions{RotationPeriod: time.Minute})},
		{"create cbc", "", create("cbc", &custodian.CreateOptions{Type: custodian.AES256CBC, Exportable: true})},
		{"create rsa", "", create("rsa", &custodian.CreateOptions{Type: custodian.RSA2048})},
		{"create ec", "", create("ec", &custodian.CreateOptions{Type: custodian.ECDSAP256, Description: "signer"})},
		{"create ed", "", create("ed", &custodian.CreateOptions{Type: custodian.Ed25519})},
		{"create hmac", "", create("hmac", &custodian.CreateOptions{Type: custodian.HMACSHA256})},
		{"create x25519", "", create("x", &custodian.CreateOptions{Type: custodian.X25519, Exportable: true})},
		{"create labelled", "", create("labelled", &custodian.CreateOptions{Labels: map[string]string{"env": "prod", "team": "pay"},
			Description: "with labels", RotationPeriod: 90 * 24 * time.Hour})},
		{"create with dots", "", create("dir/../x", nil)},
		{"create with double slash", "", create("dir//x", nil)},
		{"get dots", "", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, n(e, "dir/../x")) }},
		{"get double slash", "", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, n(e, "dir//x")) }},
		{"get", "", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, n(e, "labelled")) }},
		{"get missing", "key_not_found", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, n(e, "missing")) }},
		{"get empty name", "invalid_argument", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, "") }},
		{"get bad name", "invalid_argument", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, "-x") }},
		{"list page 1", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ListKeys(ctx, &custodian.ListOptions{Prefix: e.p, PageSize: 3})
		}},
		{"list all", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ListKeys(ctx, &custodian.ListOptions{Prefix: e.p})
		}},
		{"list page 2", "", func(ctx context.Context, e *env) (any, error) {
			p1, err := e.km.ListKeys(ctx, &custodian.ListOptions{Prefix: e.p, PageSize: 3})
			if err != nil {
				return nil, err
			}
			return e.km.ListKeys(ctx, &custodian.ListOptions{Prefix: e.p, PageSize: 3, PageToken: p1.NextPageToken})
		}},
		{"list none", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ListKeys(ctx, &custodian.ListOptions{Prefix: e.p + "nothing/"})
		}},
		{"list bad size", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ListKeys(ctx, &custodian.ListOptions{PageSize: 5000})
		}},
		{"list bad token", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ListKeys(ctx, &custodian.ListOptions{PageToken: "not a token"})
		}},
		{"update", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.UpdateKey(ctx, n(e, "labelled"), custodian.KeyUpdate{Description: &desc, RotationPeriod: &zero})
		}},
		{"update clears labels", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.UpdateKey(ctx, n(e, "labelled"), custodian.KeyUpdate{Labels: map[string]string{}})
		}},
		{"update bad label", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.UpdateKey(ctx, n(e, "labelled"), custodian.KeyUpdate{Labels: map[string]string{"Bad Label": "x"}})
		}},
		{"update bad min version", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.UpdateKey(ctx, n(e, "aes"), custodian.KeyUpdate{MinDecryptionVersion: &minv})
		}},
		{"import", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ImportKey(ctx, n(e, "imported"), make([]byte, 32), &custodian.CreateOptions{Type: custodian.AES256GCM})
		}},
		{"import without type", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ImportKey(ctx, n(e, "imported2"), make([]byte, 32), nil)
		}},
		{"import bad material", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ImportKey(ctx, n(e, "imported2"), make([]byte, 7), &custodian.CreateOptions{Type: custodian.AES256GCM})
		}},
	}
}

// encryptSteps are the steps that encrypt and decrypt in both forms,
// rewrap, batches and data keys.
func encryptSteps() []step {
	minv := 2
	return []step{
		{"encrypt", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.Encrypt(ctx, n(e, "aes"), []byte("hello"), &custodian.EncryptOptions{AssociatedData: []byte("ad")})
			e.ct["v1"] = ct
			return ct, err
		}},
		{"decrypt", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, e.ct["v1"], &custodian.DecryptOptions{AssociatedData: []byte("ad"), Key: n(e, "aes")})
		}},
		{"decrypt wrong ad", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, e.ct["v1"], &custodian.DecryptOptions{AssociatedData: []byte("other")})
		}},
		{"decrypt expecting another key", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, e.ct["v1"], &custodian.DecryptOptions{AssociatedData: []byte("ad"), Key: n(e, "imported")})
		}},
		{"decrypt garbage", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, custodian.Ciphertext("garbage that is no ciphertext"), nil)
		}},
		{"decrypt empty", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) { return e.km.Decrypt(ctx, nil, nil) }},
		{"encrypt empty plaintext", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.Encrypt(ctx, n(e, "aes"), nil, nil)
			e.ct["empty"] = ct
			return ct, err
		}},
		{"decrypt empty plaintext", "", func(ctx context.Context, e *env) (any, error) { return e.km.Decrypt(ctx, e.ct["empty"], nil) }},
		{"encrypt wrong algorithm", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Encrypt(ctx, n(e, "aes"), []byte("x"), &custodian.EncryptOptions{Algorithm: custodian.AlgRSAOAEPSHA256})
		}},
		{"encrypt with a signing key", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Encrypt(ctx, n(e, "ec"), []byte("x"), nil)
		}},
		{"encrypt missing key", "key_not_found", func(ctx context.Context, e *env) (any, error) {
			return e.km.Encrypt(ctx, n(e, "missing"), []byte("x"), nil)
		}},
		{"encrypt rsa", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.Encrypt(ctx, n(e, "rsa"), []byte("to rsa"), nil)
			e.ct["rsa"] = ct
			return ct, err
		}},
		{"decrypt rsa", "", func(ctx context.Context, e *env) (any, error) { return e.km.Decrypt(ctx, e.ct["rsa"], nil) }},
		{"encrypt raw cbc", "", func(ctx context.Context, e *env) (any, error) {
			raw, err := e.km.EncryptRaw(ctx, n(e, "cbc"), []byte("legacy data"), nil)
			e.raw["cbc"] = raw
			return len(raw), err
		}},
		{"decrypt raw cbc", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptRaw(ctx, n(e, "cbc"), e.raw["cbc"], nil)
		}},
		{"decrypt raw cbc damaged", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptRaw(ctx, n(e, "cbc"), e.raw["cbc"][:len(e.raw["cbc"])-3], nil)
		}},
		{"encrypt raw rsa pkcs1", "", func(ctx context.Context, e *env) (any, error) {
			raw, err := e.km.EncryptRaw(ctx, n(e, "rsa"), []byte("pkcs1"), &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15})
			e.raw["rsa"] = raw
			return len(raw), err
		}},
		{"decrypt raw rsa pkcs1", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptRaw(ctx, n(e, "rsa"), e.raw["rsa"], &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15})
		}},
		{"encrypt raw bad version", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.EncryptRaw(ctx, n(e, "cbc"), []byte("x"), &custodian.RawOptions{Version: 9})
		}},
		{"encrypt text pkcs1", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Encrypt(ctx, n(e, "rsa"), []byte("x"), &custodian.EncryptOptions{Algorithm: custodian.AlgRSAPKCS1v15})
		}},
		{"rotate", "", func(ctx context.Context, e *env) (any, error) { return e.km.RotateKey(ctx, n(e, "aes")) }},
		{"rewrap", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.Rewrap(ctx, e.ct["v1"], &custodian.RewrapOptions{AssociatedData: []byte("ad"), Key: n(e, "aes")})
			e.ct["v2"] = ct
			return ct, err
		}},
		{"rewrap wrong ad", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.Rewrap(ctx, e.ct["v1"], nil)
		}},
		{"raise min version", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.UpdateKey(ctx, n(e, "aes"), custodian.KeyUpdate{MinDecryptionVersion: &minv})
		}},
		{"decrypt below min version", "key_version_not_allowed", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, e.ct["v1"], &custodian.DecryptOptions{AssociatedData: []byte("ad")})
		}},
		{"decrypt rewrapped", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.Decrypt(ctx, e.ct["v2"], &custodian.DecryptOptions{AssociatedData: []byte("ad")})
		}},
		{"encrypt batch", "", func(ctx context.Context, e *env) (any, error) {
			res, err := e.km.EncryptBatch(ctx, []custodian.BatchEncryptItem{
				{Key: n(e, "aes"), Plaintext: []byte("one"), AssociatedData: []byte("b")},
				{Key: n(e, "missing"), Plaintext: []byte("two")},
				{Key: n(e, "ec"), Plaintext: []byte("three")},
				{Key: n(e, "imported"), Plaintext: []byte("four")},
			})
			if err == nil {
				e.ct["batch0"], e.ct["batch3"] = res[0].Ciphertext, res[3].Ciphertext
			}
			return res, err
		}},
		{"decrypt batch", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptBatch(ctx, []custodian.BatchDecryptItem{
				{Ciphertext: e.ct["batch0"], AssociatedData: []byte("b")},
				{Ciphertext: e.ct["batch0"]},
				{Ciphertext: e.ct["batch3"], Key: n(e, "aes")},
				{Ciphertext: custodian.Ciphertext("junk")},
				{Ciphertext: e.ct["v1"], AssociatedData: []byte("ad")},
				{Ciphertext: e.ct["empty"]},
			})
		}},
		{"empty batches", "", func(ctx context.Context, e *env) (any, error) {
			a, err := e.km.EncryptBatch(ctx, nil)
			if err != nil {
				return nil, err
			}
			b, err := e.km.DecryptBatch(ctx, []custodian.BatchDecryptItem{})
			return []int{len(a), len(b)}, err
		}},
		{"data key", "", func(ctx context.Context, e *env) (any, error) {
			dk, err := e.km.GenerateDataKey(ctx, n(e, "aes"), &custodian.DataKeyOptions{Bytes: 16, AssociatedData: []byte("dk")})
			if err != nil {
				return nil, err
			}
			pt, err := e.km.Decrypt(ctx, dk.Ciphertext, &custodian.DecryptOptions{AssociatedData: []byte("dk")})
			return []any{dk.Plaintext.Len(), dk.Plaintext.Equal(secret.New(pt))}, err
		}},
		{"data key without plaintext", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.GenerateDataKeyWithoutPlaintext(ctx, n(e, "aes"), nil)
			if err != nil {
				return nil, err
			}
			pt, err := e.km.Decrypt(ctx, ct, nil)
			return len(pt), err
		}},
		{"data key too long", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.GenerateDataKey(ctx, n(e, "aes"), &custodian.DataKeyOptions{Bytes: custodian.MaxRandomBytes + 1})
		}},
	}
}

// signSteps are the steps that sign, compute MACs, agree, and read public
// keys, exports and random bytes.
func signSteps() []step {
	return []step{
		{"sign", "", func(ctx context.Context, e *env) (any, error) {
			sig, err := e.km.Sign(ctx, n(e, "ec"), []byte("message"), nil)
			e.sig = sig
			return sig, err
		}},
		{"verify", "", func(ctx context.Context, e *env) (any, error) {
			return nil, e.km.Verify(ctx, n(e, "ec"), []byte("message"), e.sig.Signature, nil)
		}},
		{"verify wrong message", "invalid_signature", func(ctx context.Context, e *env) (any, error) {
			return nil, e.km.Verify(ctx, n(e, "ec"), []byte("other"), e.sig.Signature, nil)
		}},
		{"verify empty signature", "invalid_signature", func(ctx context.Context, e *env) (any, error) {
			return nil, e.km.Verify(ctx, n(e, "ec"), []byte("message"), nil, nil)
		}},
		{"sign ed25519", "", func(ctx context.Context, e *env) (any, error) { return e.km.Sign(ctx, n(e, "ed"), []byte("m"), nil) }},
		{"sign ed25519 digest", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Sign(ctx, n(e, "ed"), make([]byte, 32), &custodian.SignOptions{Digest: true})
		}},
		{"sign with aes", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Sign(ctx, n(e, "aes"), []byte("m"), nil)
		}},
		{"sign bad algorithm", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Sign(ctx, n(e, "ec"), []byte("m"), &custodian.SignOptions{Algorithm: custodian.AlgEd25519})
		}},
		{"mac", "", func(ctx context.Context, e *env) (any, error) {
			m, err := e.km.MAC(ctx, n(e, "hmac"), []byte("message"), nil)
			e.mac = m
			return m, err
		}},
		{"verify mac", "", func(ctx context.Context, e *env) (any, error) {
			return nil, e.km.VerifyMAC(ctx, n(e, "hmac"), []byte("message"), e.mac.MAC, nil)
		}},
		{"verify mac wrong", "invalid_mac", func(ctx context.Context, e *env) (any, error) {
			return nil, e.km.VerifyMAC(ctx, n(e, "hmac"), []byte("other"), e.mac.MAC, nil)
		}},
		{"mac with aes", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.MAC(ctx, n(e, "aes"), []byte("m"), nil)
		}},
		{"agree", "", func(ctx context.Context, e *env) (any, error) {
			s, err := e.km.Agree(ctx, n(e, "x"), e.peer, nil)
			return s.Len(), err
		}},
		{"agree bad peer", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.Agree(ctx, n(e, "x"), []byte("not a key"), nil)
		}},
		{"agree with aes", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.Agree(ctx, n(e, "aes"), e.peer, nil)
		}},
		{"derive", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DeriveKey(ctx, n(e, "x"), e.peer, n(e, "derived"), &custodian.DeriveOptions{Salt: []byte("s"), Info: []byte("i"),
				Key: custodian.CreateOptions{Description: "derived", Labels: map[string]string{"from": "x"}}})
		}},
		{"derive again", "key_exists", func(ctx context.Context, e *env) (any, error) {
			return e.km.DeriveKey(ctx, n(e, "x"), e.peer, n(e, "derived"), nil)
		}},
		{"derive wrong type", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.DeriveKey(ctx, n(e, "x"), e.peer, n(e, "d2"), &custodian.DeriveOptions{Key: custodian.CreateOptions{Type: custodian.HMACSHA256}})
		}},
		{"encrypt under derived", "", func(ctx context.Context, e *env) (any, error) {
			ct, err := e.km.Encrypt(ctx, n(e, "derived"), []byte("x"), nil)
			if err != nil {
				return nil, err
			}
			return e.km.Decrypt(ctx, ct, nil)
		}},
		{"public pem", "", func(ctx context.Context, e *env) (any, error) {
			pub, err := e.km.PublicKey(ctx, n(e, "ec"), nil)
			return strings.HasPrefix(string(pub), "-----BEGIN PUBLIC KEY-----"), err
		}},
		{"public der", "", func(ctx context.Context, e *env) (any, error) {
			pub, err := e.km.PublicKey(ctx, n(e, "ed"), &custodian.PublicKeyOptions{Format: custodian.DER})
			if err != nil {
				return nil, err
			}
			_, err = x509.ParsePKIXPublicKey(pub)
			return len(pub), err
		}},
		{"public bad format", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.PublicKey(ctx, n(e, "ec"), &custodian.PublicKeyOptions{Format: "jwk"})
		}},
		{"public of aes", "unsupported_operation", func(ctx context.Context, e *env) (any, error) { return e.km.PublicKey(ctx, n(e, "aes"), nil) }},
		{"export", "", func(ctx context.Context, e *env) (any, error) {
			s, err := e.km.ExportKey(ctx, n(e, "cbc"), nil)
			return s.Len(), err
		}},
		{"export x25519", "", func(ctx context.Context, e *env) (any, error) {
			s, err := e.km.ExportKey(ctx, n(e, "x"), &custodian.ExportOptions{Version: 1})
			if err != nil {
				return nil, err
			}
			_, err = x509.ParsePKCS8PrivateKey(custodian.Reveal(s))
			return s.Len(), err
		}},
		{"export not exportable", "unsupported_operation", func(ctx context.Context, e *env) (any, error) {
			return e.km.ExportKey(ctx, n(e, "aes"), nil)
		}},
		{"random", "", func(ctx context.Context, e *env) (any, error) {
			b, err := e.km.Random(ctx, 24)
			return len(b), err
		}},
		{"random zero", "invalid_argument", func(ctx context.Context, e *env) (any, error) { return e.km.Random(ctx, 0) }},
		{"random too many", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.Random(ctx, custodian.MaxRandomBytes+1)
		}},
	}
}

// seedSteps are the steps of the original module's operations.
func seedSteps() []step {
	return []step{
		{"establish aes", "", func(ctx context.Context, e *env) (any, error) { return e.km.EstablishAESKey(ctx, n(e, "seed")) }},
		{"encrypt data aes", "", func(ctx context.Context, e *env) (any, error) {
			s, err := e.km.EncryptDataAES(ctx, n(e, "seed"), "seed text")
			e.text["aes"] = s
			return len(s), err
		}},
		{"decrypt data aes", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptDataAES(ctx, n(e, "seed"), e.text["aes"])
		}},
		{"decrypt data aes not base64", "invalid_ciphertext", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptDataAES(ctx, n(e, "seed"), "***")
		}},
		{"generate rsa pair", "", func(ctx context.Context, e *env) (any, error) { return e.km.GenerateRSAPair(ctx, n(e, "user")) }},
		{"encrypt data rsa", "", func(ctx context.Context, e *env) (any, error) {
			s, err := e.km.EncryptDataRSA(ctx, n(e, "user"), "for the user")
			e.text["rsa"] = s
			return len(s), err
		}},
		{"decrypt data rsa", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.DecryptDataRSA(ctx, n(e, "user"), e.text["rsa"])
		}},
		{"invalidate", "", func(ctx context.Context, e *env) (any, error) { return e.km.InvalidateKey(ctx, n(e, "seed")) }},
		{"encrypt data aes revoked", "key_revoked", func(ctx context.Context, e *env) (any, error) {
			return e.km.EncryptDataAES(ctx, n(e, "seed"), "x")
		}},
		{"invalidate missing", "key_not_found", func(ctx context.Context, e *env) (any, error) { return e.km.InvalidateKey(ctx, n(e, "nope")) }},
	}
}

// lifecycleSteps are the steps that walk keys through their states.
func lifecycleSteps() []step {
	seven := 7 * 24 * time.Hour
	return []step{
		{"disable", "", func(ctx context.Context, e *env) (any, error) { return e.km.DisableKey(ctx, n(e, "aes")) }},
		{"encrypt disabled", "key_disabled", func(ctx context.Context, e *env) (any, error) {
			return e.km.Encrypt(ctx, n(e, "aes"), []byte("x"), nil)
		}},
		{"rotate disabled", "key_disabled", func(ctx context.Context, e *env) (any, error) { return e.km.RotateKey(ctx, n(e, "aes")) }},
		{"disable again", "", func(ctx context.Context, e *env) (any, error) { return e.km.DisableKey(ctx, n(e, "aes")) }},
		{"enable", "", func(ctx context.Context, e *env) (any, error) { return e.km.EnableKey(ctx, n(e, "aes")) }},
		{"revoke", "", func(ctx context.Context, e *env) (any, error) { return e.km.RevokeKey(ctx, n(e, "hmac")) }},
		{"mac revoked", "key_revoked", func(ctx context.Context, e *env) (any, error) { return e.km.MAC(ctx, n(e, "hmac"), []byte("m"), nil) }},
		{"enable revoked", "key_revoked", func(ctx context.Context, e *env) (any, error) { return e.km.EnableKey(ctx, n(e, "hmac")) }},
		{"cancel deletion never scheduled", "invalid_key_state", func(ctx context.Context, e *env) (any, error) {
			return e.km.CancelKeyDeletion(ctx, n(e, "ed"))
		}},
		{"schedule deletion too soon", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ScheduleKeyDeletion(ctx, n(e, "ed"), 36*time.Hour)
		}},
		{"schedule deletion too late", "invalid_argument", func(ctx context.Context, e *env) (any, error) {
			return e.km.ScheduleKeyDeletion(ctx, n(e, "ed"), 31*24*time.Hour)
		}},
		{"schedule deletion", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ScheduleKeyDeletion(ctx, n(e, "ed"), seven)
		}},
		{"sign pending deletion", "key_pending_deletion", func(ctx context.Context, e *env) (any, error) {
			return e.km.Sign(ctx, n(e, "ed"), []byte("m"), nil)
		}},
		{"destroy too early", "invalid_key_state", func(ctx context.Context, e *env) (any, error) { return e.km.DestroyKey(ctx, n(e, "ed")) }},
		{"cancel deletion", "", func(ctx context.Context, e *env) (any, error) { return e.km.CancelKeyDeletion(ctx, n(e, "ed")) }},
		{"schedule deletion default", "", func(ctx context.Context, e *env) (any, error) { return e.km.ScheduleKeyDeletion(ctx, n(e, "ed"), 0) }},
		{"schedule deletion of revoked", "", func(ctx context.Context, e *env) (any, error) {
			return e.km.ScheduleKeyDeletion(ctx, n(e, "hmac"), seven)
		}},
		{"destroy after the window", "", func(ctx context.Context, e *env) (any, error) {
			e.clock.add(31 * 24 * time.Hour)
			return e.km.DestroyKey(ctx, n(e, "ed"))
		}},
		{"get destroyed", "", func(ctx context.Context, e *env) (any, error) { return e.km.GetKey(ctx, n(e, "ed")) }},
		{"sign destroyed", "key_destroyed", func(ctx context.Context, e *env) (any, error) { return e.km.Sign(ctx, n(e, "ed"), []byte("m"), nil) }},
		{"cancel deletion of revoked", "", func(ctx context.Context, e *env) (any, error) { return e.km.CancelKeyDeletion(ctx, n(e, "hmac")) }},
		{"reuse destroyed name", "", create("ed", &custodian.CreateOptions{Type: custodian.Ed25519})},
		{"rotate missing", "key_not_found", func(ctx context.Context, e *env) (any, error) { return e.km.RotateKey(ctx, n(e, "missing")) }},
	}
}

// describe renders a step's result without what differs between runs:
// ids, times, random bytes, and the prefix of key names.
func describe(v any, p string) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case *custodian.Key:
		if v == nil {
			return "nil key"
		}
		var vs []string
		for _, ver := range v.Versions {
			vs = append(vs, fmt.Sprintf("%d:%s", ver.Version, ver.State))
		}
		labels := fmt.Sprint(v.Labels)
		if len(v.Labels) == 0 {
			labels = "none"
		}
		return fmt.Sprintf("key{%s %s %s %q labels=%s exportable=%v %s deletion=%v v=%d/%d/%d rotation=%s versions=%v id=%v}",
			strings.TrimPrefix(v.Name, p), v.Type, v.Usage, v.Description, labels, v.Exportable, v.State,
			!v.DeletionDate.IsZero(), v.MinDecryptionVersion, v.PrimaryVersion, v.LatestVersion, v.RotationPeriod, vs, len(v.ID) == 24)
	case *custodian.KeyPage:
		var names []string
		for _, k := range v.Keys {
			names = append(names, strings.TrimPrefix(k.Name, p))
		}
		return fmt.Sprintf("page%v more=%v", names, v.NextPageToken != "")
	case custodian.Ciphertext:
		return fmt.Sprintf("ciphertext of %d bytes", len(v))
	case []byte:
		return fmt.Sprintf("bytes %q", v)
	case *custodian.Signature:
		if v == nil {
			return "nil signature"
		}
		return fmt.Sprintf("signature %s v%d (%v)", v.Algorithm, v.KeyVersion, len(v.Signature) > 0)
	case *custodian.MAC:
		if v == nil {
			return "nil mac"
		}
		return fmt.Sprintf("mac %s v%d %d bytes", v.Algorithm, v.KeyVersion, len(v.MAC))
	case custodian.Secret:
		return fmt.Sprintf("secret of %d bytes", v.Len())
	case *custodian.DataKey:
		if v == nil {
			return "nil data key"
		}
		return fmt.Sprintf("data key %d", v.Plaintext.Len())
	case []custodian.BatchEncryptResult:
		var out []string
		for _, r := range v {
			out = append(out, describe(r.Ciphertext, p)+" "+describeErr(r.Err, p))
		}
		return "results[" + strings.Join(out, "; ") + "]"
	case []custodian.BatchDecryptResult:
		var out []string
		for _, r := range v {
			out = append(out, describe(r.Plaintext, p)+" "+describeErr(r.Err, p))
		}
		return "results[" + strings.Join(out, "; ") + "]"
	}
	return fmt.Sprintf("%v", v)
}

// describeErr names every sentinel of api.Codes the error matches, and
// its message without the prefix of key names.
func describeErr(err error, p string) string {
	if err == nil {
		return "ok"
	}
	return fmt.Sprintf("error %v %q", matches(err), strings.ReplaceAll(err.Error(), p, ""))
}

func matches(err error) []string {
	var codes []string
	for _, row := range api.Codes {
		if errors.Is(err, row.Err) {
			codes = append(codes, row.Code)
		}
	}
	return codes
}

// run runs the scenario against km, checks each step's expected error,
// and returns the transcript.
func run(t *testing.T, km custodian.KeyManager, prefix string, clk *testClock, peer []byte) []string {
	t.Helper()
	clk.set(scenarioStart) // each run sees the same times
	e := &env{km: km, p: prefix, clock: clk, peer: peer, ct: map[string]custodian.Ciphertext{}, raw: map[string][]byte{}, text: map[string]string{}}
	ctx := context.Background()
	var out []string
	for _, s := range scenario() {
		v, err := s.run(ctx, e)
		got := ""
		if err != nil {
			got = api.CodeFor(err).Code
		}
		if got != s.want {
			t.Errorf("%s: %s: error %v (code %q), want code %q", prefix, s.name, err, got, s.want)
		}
		if err != nil {
			v = nil // the library returns zero values with errors; so must the client
		}
		out = append(out, s.name+": "+describe(v, prefix)+" "+describeErr(err, prefix))
	}
	return out
}
