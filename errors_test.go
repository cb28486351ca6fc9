package custodian_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keycustodian/custodian"
)

// lcSentinels is every exported sentinel error.
var lcSentinels = []error{
	custodian.ErrKeyNotFound, custodian.ErrKeyExists,
	custodian.ErrKeyDisabled, custodian.ErrKeyRevoked, custodian.ErrKeyPendingDeletion, custodian.ErrKeyDestroyed,
	custodian.ErrInvalidKeyState, custodian.ErrKeyVersionNotAllowed,
	custodian.ErrInvalidCiphertext, custodian.ErrInvalidSignature, custodian.ErrInvalidMAC,
	custodian.ErrUnsupportedOperation, custodian.ErrInvalidArgument,
}

// lcErrCase is one way to make the public API fail.
type lcErrCase struct {
	name string
	want error  // the sentinel; state sentinels come with ErrInvalidKeyState
	op   string // *custodian.Error's Op
	key  string // *custodian.Error's Key
	// hint, for bad input, is the part of the message that says what is
	// allowed.
	hint string
	err  error
}

// lcErrWorld holds keys in every state the error cases need.
type lcErrWorld struct {
	c      *custodian.Custodian
	ct     custodian.Ciphertext // under "aes", associated data "aad"
	raw    []byte               // EncryptRaw under "aes"
	oldCT  custodian.Ciphertext // version 1 of "rotated", below its minimum
	oldRaw []byte               // EncryptRaw with version 1 of "rotated"
	oldSig *custodian.Signature // version 1 of "ec-rotated", below its minimum
	sig    *custodian.Signature // "ec" over "message"
	mac    *custodian.MAC       // "mac" over "message"
	revCT  custodian.Ciphertext // under "revoked", before it was revoked
	alien  custodian.Ciphertext // under a key of another Custodian
	peer   []byte               // an X25519 public key
	// toSigner is a ciphertext of "rsa" (usage encrypt) whose header names
	// "rsa-sign" (usage sign) instead.
	toSigner custodian.Ciphertext
}

func lcNewErrWorld(t *testing.T) *lcErrWorld {
	t.Helper()
	ctx := context.Background()
	c, clock := lcNewCustodian(t, nil)
	w := &lcErrWorld{c: c}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	create := func(name string, typ custodian.KeyType) {
		t.Helper()
		_, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Type: typ})
		must(err)
	}
	var err error
	create("aes", custodian.AES256GCM)
	w.ct, err = c.Encrypt(ctx, "aes", []byte("plaintext"), &custodian.EncryptOptions{AssociatedData: []byte("aad")})
	must(err)
	w.raw, err = c.EncryptRaw(ctx, "aes", []byte("plaintext"), nil)
	must(err)
	create("ec", custodian.ECDSAP256)
	w.sig, err = c.Sign(ctx, "ec", []byte("message"), nil)
	must(err)
	create("mac", custodian.HMACSHA256)
	w.mac, err = c.MAC(ctx, "mac", []byte("message"), nil)
	must(err)
	create("x", custodian.X25519)
	peer, err := ecdh.X25519().GenerateKey(rand.Reader)
	must(err)
	w.peer = peer.PublicKey().Bytes()
	_, err = c.EstablishAESKey(ctx, "cbc")
	must(err)
	create("rsa", custodian.RSA2048) // usage encrypt, the default
	_, err = c.CreateKey(ctx, "rsa-sign", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign})
	must(err)
	w.toSigner, err = c.Encrypt(ctx, "rsa", []byte("x"), nil)
	must(err)
	signer, err := c.GetKey(ctx, "rsa-sign")
	must(err)
	id, err := hex.DecodeString(signer.ID)
	must(err)
	copy(w.toSigner[2:14], id) // the header's key id (docs/formats.md)

	two := 2
	create("rotated", custodian.AES256GCM)
	w.oldCT, err = c.Encrypt(ctx, "rotated", []byte("old"), nil)
	must(err)
	w.oldRaw, err = c.EncryptRaw(ctx, "rotated", []byte("old"), nil)
	must(err)
	_, err = c.RotateKey(ctx, "rotated")
	must(err)
	_, err = c.UpdateKey(ctx, "rotated", custodian.KeyUpdate{MinDecryptionVersion: &two})
	must(err)
	create("ec-rotated", custodian.ECDSAP256)
	w.oldSig, err = c.Sign(ctx, "ec-rotated", []byte("message"), nil)
	must(err)
	_, err = c.RotateKey(ctx, "ec-rotated")
	must(err)
	_, err = c.UpdateKey(ctx, "ec-rotated", custodian.KeyUpdate{MinDecryptionVersion: &two})
	must(err)

	create("disabled", custodian.AES256GCM)
	lcPutInState(t, c, clock, "disabled", custodian.StateDisabled)
	create("revoked", custodian.AES256GCM)
	w.revCT, err = c.Encrypt(ctx, "revoked", []byte("x"), nil)
	must(err)
	lcPutInState(t, c, clock, "revoked", custodian.StateRevoked)
	create("destroyed", custodian.AES256GCM)
	lcPutInState(t, c, clock, "destroyed", custodian.StateDestroyed)
	// Scheduled after the clock moved for "destroyed": its window is open.
	create("pending", custodian.ECDSAP256)
	lcPutInState(t, c, clock, "pending", custodian.StatePendingDeletion)

	other, _ := lcNewCustodian(t, nil)
	_, err = other.CreateKey(ctx, "aes", nil)
	must(err)
	w.alien, err = other.Encrypt(ctx, "aes", []byte("elsewhere"), nil)
	must(err)
	return w
}

func lcErrCases(w *lcErrWorld) []lcErrCase {
	ctx := context.Background()
	c := w.c
	tampered := append(custodian.Ciphertext(nil), w.ct...)
	tampered[len(tampered)-1] ^= 1
	long := strings.Repeat("k", custodian.MaxNameLength+1)
	labels65 := map[string]string{}
	for i := range custodian.MaxLabels + 1 {
		labels65[fmt.Sprintf("l%d", i)] = "v"
	}
	zero, bigVersion := 0, 3
	minute := time.Minute
	e := func(_ any, err error) error { return err }
	create := func(name string, o *custodian.CreateOptions) error { return e(c.CreateKey(ctx, name, o)) }
	const nameHint = "1 to 128 characters of A-Z a-z 0-9 . _ / -"
	const labelHint = "1 to 63 characters of a-z 0-9 _ . -, starting with a letter"

	return []lcErrCase{
		{"get missing", custodian.ErrKeyNotFound, "get", "missing", "", e(c.GetKey(ctx, "missing"))},
		{"encrypt missing", custodian.ErrKeyNotFound, "encrypt", "missing", "", e(c.Encrypt(ctx, "missing", nil, nil))},
		{"sign missing", custodian.ErrKeyNotFound, "sign", "missing", "", e(c.Sign(ctx, "missing", nil, nil))},
		{"rotate missing", custodian.ErrKeyNotFound, "rotate", "missing", "", e(c.RotateKey(ctx, "missing"))},
		{"enable missing", custodian.ErrKeyNotFound, "enable", "missing", "", e(c.EnableKey(ctx, "missing"))},
		{"schedule missing", custodian.ErrKeyNotFound, "schedule-deletion", "missing", "", e(c.ScheduleKeyDeletion(ctx, "missing", 0))},
		{"export missing", custodian.ErrKeyNotFound, "export", "missing", "", e(c.ExportKey(ctx, "missing", nil))},
		{"derive from missing", custodian.ErrKeyNotFound, "derive-key", "missing", "", e(c.DeriveKey(ctx, "missing", w.peer, "derived", nil))},

		{"create existing", custodian.ErrKeyExists, "create", "aes", "", create("aes", nil)},
		{"import existing", custodian.ErrKeyExists, "import", "aes", "",
			e(c.ImportKey(ctx, "aes", make([]byte, 32), &custodian.CreateOptions{Type: custodian.AES256GCM}))},
		{"derive into existing", custodian.ErrKeyExists, "derive-key", "aes", "", e(c.DeriveKey(ctx, "x", w.peer, "aes", nil))},
		{"create over revoked", custodian.ErrKeyExists, "create", "revoked", "", create("revoked", nil)},

		{"encrypt disabled", custodian.ErrKeyDisabled, "encrypt", "disabled", "", e(c.Encrypt(ctx, "disabled", nil, nil))},
		{"decrypt revoked", custodian.ErrKeyRevoked, "decrypt", "revoked", "", e(c.Decrypt(ctx, w.revCT, nil))},
		{"enable revoked", custodian.ErrKeyRevoked, "enable", "revoked", "", e(c.EnableKey(ctx, "revoked"))},
		{"sign pending", custodian.ErrKeyPendingDeletion, "sign", "pending", "", e(c.Sign(ctx, "pending", nil, nil))},
		{"mac destroyed", custodian.ErrKeyDestroyed, "mac", "destroyed", "", e(c.MAC(ctx, "destroyed", nil, nil))},
		{"cancel enabled", custodian.ErrInvalidKeyState, "cancel-deletion", "aes", "", e(c.CancelKeyDeletion(ctx, "aes"))},
		{"destroy in window", custodian.ErrInvalidKeyState, "destroy", "pending", "deletion window ends at", e(c.DestroyKey(ctx, "pending"))},

		{"decrypt nil", custodian.ErrInvalidCiphertext, "decrypt", "", "", e(c.Decrypt(ctx, nil, nil))},
		{"decrypt garbage", custodian.ErrInvalidCiphertext, "decrypt", "", "", e(c.Decrypt(ctx, []byte("not a ciphertext at all"), nil))},
		{"decrypt truncated", custodian.ErrInvalidCiphertext, "decrypt", "", "", e(c.Decrypt(ctx, w.ct[:10], nil))},
		{"decrypt tampered", custodian.ErrInvalidCiphertext, "decrypt", "aes", "",
			e(c.Decrypt(ctx, tampered, &custodian.DecryptOptions{AssociatedData: []byte("aad")}))},
		{"decrypt wrong aad", custodian.ErrInvalidCiphertext, "decrypt", "aes", "",
			e(c.Decrypt(ctx, w.ct, &custodian.DecryptOptions{AssociatedData: []byte("other")}))},
		{"decrypt expecting another key", custodian.ErrInvalidCiphertext, "decrypt", "rotated", "",
			e(c.Decrypt(ctx, w.ct, &custodian.DecryptOptions{AssociatedData: []byte("aad"), Key: "rotated"}))},
		{"decrypt unknown key", custodian.ErrInvalidCiphertext, "decrypt", "", "", e(c.Decrypt(ctx, w.alien, nil))},
		{"decrypt raw garbage", custodian.ErrInvalidCiphertext, "decrypt", "aes", "", e(c.DecryptRaw(ctx, "aes", []byte("short"), nil))},
		{"seed decrypt not base64", custodian.ErrInvalidCiphertext, "decrypt", "cbc", "", e(c.DecryptDataAES(ctx, "cbc", "!!not base64!!"))},
		{"parse text form", custodian.ErrInvalidCiphertext, "parse", "", "", e(custodian.ParseCiphertext("kc1:***"))},
		{"decrypt header naming rsa of usage sign", custodian.ErrInvalidCiphertext, "decrypt", "rsa-sign", "", e(c.Decrypt(ctx, w.toSigner, nil))},

		{"sign with aes", custodian.ErrUnsupportedOperation, "sign", "aes", "", e(c.Sign(ctx, "aes", []byte("m"), nil))},
		{"verify with aes", custodian.ErrUnsupportedOperation, "verify", "aes", "", c.Verify(ctx, "aes", []byte("m"), w.sig.Signature, nil)},
		{"mac with aes", custodian.ErrUnsupportedOperation, "mac", "aes", "", e(c.MAC(ctx, "aes", []byte("m"), nil))},
		{"agree with aes", custodian.ErrUnsupportedOperation, "agree", "aes", "", e(c.Agree(ctx, "aes", w.peer, nil))},
		{"public key of aes", custodian.ErrUnsupportedOperation, "public-key", "aes", "", e(c.PublicKey(ctx, "aes", nil))},
		{"export non-exportable", custodian.ErrUnsupportedOperation, "export", "aes", "", e(c.ExportKey(ctx, "aes", nil))},
		{"encrypt with ecdsa", custodian.ErrUnsupportedOperation, "encrypt", "ec", "", e(c.Encrypt(ctx, "ec", []byte("m"), nil))},
		{"aes with rsa-oaep", custodian.ErrUnsupportedOperation, "encrypt", "aes", "",
			e(c.Encrypt(ctx, "aes", []byte("m"), &custodian.EncryptOptions{Algorithm: custodian.AlgRSAOAEPSHA256}))},
		{"ecdsa with rsa-pss", custodian.ErrUnsupportedOperation, "sign", "ec", "",
			e(c.Sign(ctx, "ec", []byte("m"), &custodian.SignOptions{Algorithm: custodian.AlgRSAPSSSHA256}))},
		{"ecdsa with ed25519", custodian.ErrUnsupportedOperation, "verify", "ec", "",
			c.Verify(ctx, "ec", []byte("m"), w.sig.Signature, &custodian.SignOptions{Algorithm: custodian.AlgEd25519})},
		{"sign with rsa of usage encrypt", custodian.ErrUnsupportedOperation, "sign", "rsa", "", e(c.Sign(ctx, "rsa", []byte("m"), nil))},
		{"verify with rsa of usage encrypt", custodian.ErrUnsupportedOperation, "verify", "rsa", "", c.Verify(ctx, "rsa", []byte("m"), []byte("sig"), nil)},
		{"encrypt with rsa of usage sign", custodian.ErrUnsupportedOperation, "encrypt", "rsa-sign", "", e(c.Encrypt(ctx, "rsa-sign", []byte("m"), nil))},
		{"decrypt raw with rsa of usage sign", custodian.ErrUnsupportedOperation, "decrypt", "rsa-sign", "",
			e(c.DecryptRaw(ctx, "rsa-sign", make([]byte, 256), &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15}))},
		{"data key with rsa of usage sign", custodian.ErrUnsupportedOperation, "generate-data-key", "rsa-sign", "",
			e(c.GenerateDataKey(ctx, "rsa-sign", nil))},

		{"empty name", custodian.ErrInvalidArgument, "create", "", nameHint, create("", nil)},
		{"long name", custodian.ErrInvalidArgument, "create", long, nameHint, create(long, nil)},
		{"name with space", custodian.ErrInvalidArgument, "create", "has space", nameHint, create("has space", nil)},
		{"name with colon", custodian.ErrInvalidArgument, "create", "a:b", nameHint, create("a:b", nil)},
		{"name with nul", custodian.ErrInvalidArgument, "create", "a\x00b", nameHint, create("a\x00b", nil)},
		{"name not ascii", custodian.ErrInvalidArgument, "create", "ключ", nameHint, create("ключ", nil)},
		{"name leading dash", custodian.ErrInvalidArgument, "create", "-lead", nameHint, create("-lead", nil)},
		{"bad name and label", custodian.ErrInvalidArgument, "create", "has space", labelHint,
			create("has space", &custodian.CreateOptions{Labels: map[string]string{"Team": "x"}})},
		{"get bad name", custodian.ErrInvalidArgument, "get", "a\"b", nameHint, e(c.GetKey(ctx, "a\"b"))},
		{"encrypt bad name", custodian.ErrInvalidArgument, "encrypt", "has space", nameHint, e(c.Encrypt(ctx, "has space", nil, nil))},
		{"label uppercase", custodian.ErrInvalidArgument, "create", "l1", labelHint,
			create("l1", &custodian.CreateOptions{Labels: map[string]string{"Team": "x"}})},
		{"label digit first", custodian.ErrInvalidArgument, "create", "l2", labelHint,
			create("l2", &custodian.CreateOptions{Labels: map[string]string{"1team": "x"}})},
		{"label empty", custodian.ErrInvalidArgument, "create", "l3", labelHint,
			create("l3", &custodian.CreateOptions{Labels: map[string]string{"": "x"}})},
		{"label too long", custodian.ErrInvalidArgument, "create", "l4", labelHint,
			create("l4", &custodian.CreateOptions{Labels: map[string]string{strings.Repeat("a", 64): "x"}})},
		{"too many labels", custodian.ErrInvalidArgument, "create", "l5", "at most 64 allowed",
			create("l5", &custodian.CreateOptions{Labels: labels65})},
		{"label value too long", custodian.ErrInvalidArgument, "create", "l6", "valid UTF-8 of at most 256 bytes",
			create("l6", &custodian.CreateOptions{Labels: map[string]string{"team": strings.Repeat("v", 257)}})},
		{"label value not utf-8", custodian.ErrInvalidArgument, "update", "aes", "valid UTF-8 of at most 256 bytes",
			e(c.UpdateKey(ctx, "aes", custodian.KeyUpdate{Labels: map[string]string{"team": "\xff"}}))},
		{"description too long", custodian.ErrInvalidArgument, "create", "d1", "valid UTF-8 of at most 1024 bytes",
			create("d1", &custodian.CreateOptions{Description: strings.Repeat("d", 1025)})},
		{"unknown key type", custodian.ErrInvalidArgument, "create", "t1", "see custodian.KeyTypes",
			create("t1", &custodian.CreateOptions{Type: "aes128-gcm"})},
		{"rsa for macs", custodian.ErrInvalidArgument, "create", "u1", "allowed:",
			create("u1", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageMAC})},
		{"aes for signatures", custodian.ErrInvalidArgument, "create", "u2", "allowed:",
			create("u2", &custodian.CreateOptions{Usage: custodian.UsageSign})},
		{"import aes for signatures", custodian.ErrInvalidArgument, "import", "u3", "allowed:",
			e(c.ImportKey(ctx, "u3", make([]byte, 32), &custodian.CreateOptions{Type: custodian.AES256GCM, Usage: custodian.UsageSign}))},
		{"derive for signatures", custodian.ErrInvalidArgument, "derive-key", "u4", "allowed:",
			e(c.DeriveKey(ctx, "x", w.peer, "u4", &custodian.DeriveOptions{Key: custodian.CreateOptions{Usage: custodian.UsageSign}}))},
		{"rotation period", custodian.ErrInvalidArgument, "create", "r1", "minimum 1h0m0s (or 0 for none)",
			create("r1", &custodian.CreateOptions{RotationPeriod: time.Minute})},
		{"update rotation period", custodian.ErrInvalidArgument, "update", "aes", "minimum 1h0m0s (or 0 for none)",
			e(c.UpdateKey(ctx, "aes", custodian.KeyUpdate{RotationPeriod: &minute}))},
		{"min decryption 0", custodian.ErrInvalidArgument, "update", "aes", "must be between 1 and the primary version 1",
			e(c.UpdateKey(ctx, "aes", custodian.KeyUpdate{MinDecryptionVersion: &zero}))},
		{"min decryption above primary", custodian.ErrInvalidArgument, "update", "rotated", "must be between 1 and the primary version 2",
			e(c.UpdateKey(ctx, "rotated", custodian.KeyUpdate{MinDecryptionVersion: &bigVersion}))},
		{"page size negative", custodian.ErrInvalidArgument, "list", "", "between 1 and 1000",
			e(c.ListKeys(ctx, &custodian.ListOptions{PageSize: -1}))},
		{"page size 1001", custodian.ErrInvalidArgument, "list", "", "between 1 and 1000",
			e(c.ListKeys(ctx, &custodian.ListOptions{PageSize: 1001}))},
		{"page token", custodian.ErrInvalidArgument, "list", "", "NextPageToken",
			e(c.ListKeys(ctx, &custodian.ListOptions{PageToken: "!!"}))},
		{"random 0", custodian.ErrInvalidArgument, "random", "", "allowed 1 to 65536", e(c.Random(bgCtx, 0))},
		{"random 65537", custodian.ErrInvalidArgument, "random", "", "allowed 1 to 65536", e(c.Random(bgCtx, 65537))},
		{"random negative", custodian.ErrInvalidArgument, "random", "", "allowed 1 to 65536", e(c.Random(bgCtx, -1))},
		{"data key 65537", custodian.ErrInvalidArgument, "generate-data-key", "aes", "allowed 1 to 65536",
			e(c.GenerateDataKey(ctx, "aes", &custodian.DataKeyOptions{Bytes: 65537}))},
		{"data key negative", custodian.ErrInvalidArgument, "generate-data-key", "aes", "allowed 1 to 65536",
			e(c.GenerateDataKey(ctx, "aes", &custodian.DataKeyOptions{Bytes: -1}))},
		{"data key without plaintext 65537", custodian.ErrInvalidArgument, "generate-data-key", "aes", "allowed 1 to 65536",
			e(c.GenerateDataKeyWithoutPlaintext(ctx, "aes", &custodian.DataKeyOptions{Bytes: 65537}))},
		{"deletion window 6 days", custodian.ErrInvalidArgument, "schedule-deletion", "aes", "between 7 and 30 days",
			e(c.ScheduleKeyDeletion(ctx, "aes", 6*lcDay))},
		{"deletion window 31 days", custodian.ErrInvalidArgument, "schedule-deletion", "aes", "between 7 and 30 days",
			e(c.ScheduleKeyDeletion(ctx, "aes", 31*lcDay))},
		{"public key format", custodian.ErrInvalidArgument, "public-key", "ec", "allowed: pem, der",
			e(c.PublicKey(ctx, "ec", &custodian.PublicKeyOptions{Format: "jwk"}))},
		{"version out of range", custodian.ErrInvalidArgument, "sign", "ec", "versions 1 to 1",
			e(c.Sign(ctx, "ec", []byte("m"), &custodian.SignOptions{Version: 5}))},
		{"import without type", custodian.ErrInvalidArgument, "import", "i1", "needs a key type",
			e(c.ImportKey(ctx, "i1", make([]byte, 32), nil))},
		{"import short material", custodian.ErrInvalidArgument, "import", "i2", "want 32 raw bytes",
			e(c.ImportKey(ctx, "i2", make([]byte, 5), &custodian.CreateOptions{Type: custodian.AES256GCM}))},
		{"derive non-aes", custodian.ErrInvalidArgument, "derive-key", "x", "derived keys are aes256-gcm",
			e(c.DeriveKey(ctx, "x", w.peer, "d2", &custodian.DeriveOptions{Key: custodian.CreateOptions{Type: custodian.HMACSHA256}}))},
		{"agree bad peer", custodian.ErrInvalidArgument, "agree", "x", "neither SubjectPublicKeyInfo nor a valid raw point",
			e(c.Agree(ctx, "x", []byte("not a public key"), nil))},

		{"decrypt below minimum", custodian.ErrKeyVersionNotAllowed, "decrypt", "rotated", "", e(c.Decrypt(ctx, w.oldCT, nil))},
		{"rewrap below minimum", custodian.ErrKeyVersionNotAllowed, "rewrap", "rotated", "", e(c.Rewrap(ctx, w.oldCT, nil))},
		{"decrypt raw below minimum", custodian.ErrKeyVersionNotAllowed, "decrypt", "rotated", "",
			e(c.DecryptRaw(ctx, "rotated", w.oldRaw, &custodian.RawOptions{Version: 1}))},
		{"verify below minimum", custodian.ErrKeyVersionNotAllowed, "verify", "ec-rotated", "",
			c.Verify(ctx, "ec-rotated", []byte("message"), w.oldSig.Signature, &custodian.SignOptions{Version: 1})},

		{"verify other message", custodian.ErrInvalidSignature, "verify", "ec", "", c.Verify(ctx, "ec", []byte("messagE"), w.sig.Signature, nil)},
		{"verify garbage", custodian.ErrInvalidSignature, "verify", "ec", "", c.Verify(ctx, "ec", []byte("message"), []byte("garbage"), nil)},
		{"verify old signature with new version", custodian.ErrInvalidSignature, "verify", "ec-rotated", "",
			c.Verify(ctx, "ec-rotated", []byte("message"), w.oldSig.Signature, nil)},
		{"verify-mac other message", custodian.ErrInvalidMAC, "verify-mac", "mac", "", c.VerifyMAC(ctx, "mac", []byte("messagE"), w.mac.MAC, nil)},
		{"verify-mac truncated", custodian.ErrInvalidMAC, "verify-mac", "mac", "", c.VerifyMAC(ctx, "mac", []byte("message"), w.mac.MAC[:16], nil)},
	}
}

// TestErrorsEverySentinel makes the public API fail in every documented
// way and checks the error: errors.Is finds its sentinel and no unrelated
// one, errors.As finds a *custodian.Error naming the operation and the key,
// and the message is lowercase, names both and, for bad input, says what
// is allowed.
func TestErrorsEverySentinel(t *testing.T) {
	w := lcNewErrWorld(t)
	cases := lcErrCases(w)
	covered := map[error]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			covered[tc.want] = true
			err := tc.err
			if err == nil {
				t.Fatalf("succeeded; want %v", tc.want)
			}
			wantSet := map[error]bool{tc.want: true}
			if lcIsStateSentinel(tc.want) {
				wantSet[custodian.ErrInvalidKeyState] = true
			}
			for _, s := range lcSentinels {
				if got := errors.Is(err, s); got != wantSet[s] {
					t.Errorf("errors.Is(%q, %q) = %v, want %v", err, s, got, wantSet[s])
				}
			}
			var e *custodian.Error
			if !errors.As(err, &e) {
				t.Fatalf("%q (%T) is not a *custodian.Error", err, err)
			}
			if e.Op != tc.op || e.Key != tc.key {
				t.Errorf("*custodian.Error{Op: %q, Key: %q}, want {%q, %q}", e.Op, e.Key, tc.op, tc.key)
			}
			lcCheckMessage(t, err.Error(), tc)
		})
	}
	for _, s := range lcSentinels {
		if !covered[s] {
			t.Errorf("no case produces %q", s)
		}
	}

	// Decryption failures are deliberately indistinguishable.
	byMsg := map[string][]string{}
	for _, tc := range cases {
		if tc.want == custodian.ErrInvalidCiphertext && tc.key == "aes" && tc.op == "decrypt" && tc.err != nil {
			byMsg[tc.err.Error()] = append(byMsg[tc.err.Error()], tc.name)
		}
	}
	if len(byMsg) != 1 {
		t.Errorf("failed decryptions under one key give different messages: %v", byMsg)
	}
}

func lcIsStateSentinel(err error) bool {
	for _, s := range lcStateSentinels {
		if err == s {
			return true
		}
	}
	return false
}

// lcCheckMessage checks the text of an error: `op "key": sentinel: detail`
// (or `op: ...` when there is no key), every part starting in lower case.
func lcCheckMessage(t *testing.T, msg string, tc lcErrCase) {
	t.Helper()
	prefix := tc.op + ": "
	if tc.key != "" {
		prefix = tc.op + " " + strconv.Quote(tc.key) + ": "
	}
	if !strings.HasPrefix(msg, prefix) {
		t.Errorf("message %q does not start with %q", msg, prefix)
	}
	if !strings.Contains(msg, tc.want.Error()) {
		t.Errorf("message %q does not contain the sentinel's %q", msg, tc.want.Error())
	}
	for part := range strings.SplitSeq(strings.ReplaceAll(msg, "\n", ": "), ": ") {
		if r, _ := utf8.DecodeRuneInString(part); unicode.IsUpper(r) {
			t.Errorf("message %q has a part starting in upper case: %q", msg, part)
		}
	}
	if tc.hint != "" && !strings.Contains(msg, tc.hint) {
		t.Errorf("message %q does not say what is allowed (%q)", msg, tc.hint)
	}
	if tc.want == custodian.ErrInvalidArgument && tc.hint == "" {
		t.Errorf("case %q: bad input needs a hint to check", tc.name)
	}
}

// TestErrorsErrorType checks *custodian.Error on its own: its text and that
// it unwraps to what it wraps.
func TestErrorsErrorType(t *testing.T) {
	inner := fmt.Errorf("%w: detail", custodian.ErrKeyNotFound)
	for _, tc := range []struct {
		e    *custodian.Error
		want string
	}{
		{&custodian.Error{Op: "get", Key: "k", Err: inner}, `get "k": key not found: detail`},
		{&custodian.Error{Op: "get", Key: `we"ird`, Err: inner}, `get "we\"ird": key not found: detail`},
		{&custodian.Error{Op: "random", Err: inner}, `random: key not found: detail`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if !errors.Is(tc.e, custodian.ErrKeyNotFound) || tc.e.Unwrap() != inner {
			t.Errorf("%q does not unwrap to its cause", tc.e)
		}
	}
	// A wrapped *Error is still found, and its fields read.
	wrapped := fmt.Errorf("while serving: %w", &custodian.Error{Op: "sign", Key: "k", Err: custodian.ErrKeyRevoked})
	var e *custodian.Error
	if !errors.As(wrapped, &e) || e.Op != "sign" || e.Key != "k" || !errors.Is(wrapped, custodian.ErrKeyRevoked) {
		t.Errorf("errors.As through a wrapper: %+v", e)
	}
}
