package custodian_test

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"slices"
	"testing"

	"github.com/keycustodian/custodian"
)

// TestOpSignVerify signs with every key of the fixture that signs: the
// ECDSA and Ed25519 keys, and the RSA key of usage sign.
func TestOpSignVerify(t *testing.T) {
	f := opShared(t)
	for _, r := range opFixtureKeys() {
		if opKeyCaps(r.typ, r.usage).sig == nil {
			continue
		}
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			opCheckSigning(t, f.c, f.keyOf(t, r), r.typ)
		})
	}
}

// opCheckSigning signs with every algorithm of typ, in message and digest
// mode, and checks each signature with the library and the standard library.
// name is a key of usage sign.
func opCheckSigning(t *testing.T, c *custodian.Custodian, name string, typ custodian.KeyType) {
	ctx := t.Context()
	caps := opKeyCaps(typ, custodian.UsageSign)
	pub := opParsePublic(t, c, name, 0)
	msg := []byte("the message that was signed")

	def := opMust(c.Sign(ctx, name, msg, nil))(t)
	if def.Algorithm != caps.defSig || def.KeyVersion != 1 {
		t.Errorf("default signature: algorithm %s version %d, want %s and 1", def.Algorithm, def.KeyVersion, caps.defSig)
	}
	opExpect(t, opStdVerify(pub, caps.defSig, msg, def.Signature), nil)

	for _, alg := range caps.sig {
		opts := &custodian.SignOptions{Algorithm: alg}
		sig := opMust(c.Sign(ctx, name, msg, opts))(t)
		if sig.Algorithm != alg || sig.KeyVersion != 1 {
			t.Errorf("%s: signature says algorithm %s version %d", alg, sig.Algorithm, sig.KeyVersion)
		}
		if err := opStdVerify(pub, alg, msg, sig.Signature); err != nil {
			t.Errorf("%s: the standard library rejects the signature: %v", alg, err)
		}
		opExpect(t, c.Verify(ctx, name, msg, sig.Signature, opts), nil)
		opExpect(t, c.Verify(ctx, name, msg, sig.Signature, &custodian.SignOptions{Algorithm: alg, Version: 1}), nil)
		opExpect(t, c.Verify(ctx, name, append(slices.Clone(msg), '!'), sig.Signature, opts), custodian.ErrInvalidSignature)
		opExpect(t, c.Verify(ctx, name, msg[1:], sig.Signature, opts), custodian.ErrInvalidSignature)
		for _, i := range []int{0, len(sig.Signature) / 2, len(sig.Signature) - 1} {
			bad := slices.Clone(sig.Signature)
			bad[i] ^= 0x40
			opExpect(t, c.Verify(ctx, name, msg, bad, opts), custodian.ErrInvalidSignature)
		}
		opExpect(t, c.Verify(ctx, name, msg, sig.Signature[:len(sig.Signature)-1], opts), custodian.ErrInvalidSignature)
		opExpect(t, c.Verify(ctx, name, msg, nil, opts), custodian.ErrInvalidSignature)
		opExpect(t, c.Verify(ctx, name, msg, sig.Signature, &custodian.SignOptions{Algorithm: alg, Version: 2}), custodian.ErrInvalidArgument)

		h := opSigHash(alg)
		if h == 0 { // Ed25519 signs the message itself
			_, err := c.Sign(ctx, name, opDigest(crypto.SHA512, msg), &custodian.SignOptions{Algorithm: alg, Digest: true})
			opExpect(t, err, custodian.ErrUnsupportedOperation)
			opExpect(t, c.Verify(ctx, name, msg, sig.Signature, &custodian.SignOptions{Algorithm: alg, Digest: true}), custodian.ErrUnsupportedOperation)
			continue
		}
		d := opDigest(h, msg)
		dopts := &custodian.SignOptions{Algorithm: alg, Digest: true}
		dsig := opMust(c.Sign(ctx, name, d, dopts))(t)
		if err := opStdVerify(pub, alg, msg, dsig.Signature); err != nil {
			t.Errorf("%s: digest-mode signature rejected by the standard library: %v", alg, err)
		}
		// Both modes sign the same digest, so each verifies in the other mode.
		opExpect(t, c.Verify(ctx, name, msg, dsig.Signature, opts), nil)
		opExpect(t, c.Verify(ctx, name, d, sig.Signature, dopts), nil)
		bd := slices.Clone(d)
		bd[0] ^= 1
		opExpect(t, c.Verify(ctx, name, bd, sig.Signature, dopts), custodian.ErrInvalidSignature)
		for _, wrong := range [][]byte{d[:len(d)-1], append(slices.Clone(d), 0), nil, msg} {
			_, err := c.Sign(ctx, name, wrong, dopts)
			opExpect(t, err, custodian.ErrInvalidArgument)
			opExpect(t, c.Verify(ctx, name, wrong, sig.Signature, dopts), custodian.ErrInvalidArgument)
		}
	}
	// Algorithms of other families are refused.
	for _, alg := range []custodian.Algorithm{custodian.AlgEd25519, custodian.AlgECDSASHA256, custodian.AlgRSAPSSSHA256, custodian.AlgRSAOAEPSHA256, custodian.AlgHMACSHA256, "nope"} {
		if slices.Contains(caps.sig, alg) {
			continue
		}
		_, err := c.Sign(ctx, name, msg, &custodian.SignOptions{Algorithm: alg})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		opExpect(t, c.Verify(ctx, name, msg, def.Signature, &custodian.SignOptions{Algorithm: alg}), custodian.ErrUnsupportedOperation)
	}
}

// --- MACs --------------------------------------------------------------------------

func TestOpMAC(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.HMACSHA256, custodian.HMACSHA512} {
		name := f.key(t, typ)
		key := custodian.Reveal(opMust(f.c.ExportKey(ctx, name, nil))(t))
		h, size := sha256.New, 32
		if typ == custodian.HMACSHA512 {
			h, size = sha512.New, 64
		}
		if len(key) != size {
			t.Errorf("%s key is %d bytes, want %d", typ, len(key), size)
		}
		for _, msg := range [][]byte{nil, []byte("m"), opPayload(10000)} {
			mac := opMust(f.c.MAC(ctx, name, msg, nil))(t)
			std := hmac.New(h, key)
			std.Write(msg)
			if !bytes.Equal(mac.MAC, std.Sum(nil)) || mac.Algorithm != opTypes[typ].mac || mac.KeyVersion != 1 {
				t.Errorf("%s: MAC = %x (%s v%d), crypto/hmac says %x", typ, mac.MAC, mac.Algorithm, mac.KeyVersion, std.Sum(nil))
			}
			opExpect(t, f.c.VerifyMAC(ctx, name, msg, mac.MAC, nil), nil)
			opExpect(t, f.c.VerifyMAC(ctx, name, msg, mac.MAC, &custodian.MACOptions{Version: 1}), nil)
			opExpect(t, f.c.VerifyMAC(ctx, name, append(slices.Clone(msg), 0), mac.MAC, nil), custodian.ErrInvalidMAC)
			for _, i := range []int{0, size - 1} {
				bad := slices.Clone(mac.MAC)
				bad[i] ^= 0x80
				opExpect(t, f.c.VerifyMAC(ctx, name, msg, bad, nil), custodian.ErrInvalidMAC)
			}
			opExpect(t, f.c.VerifyMAC(ctx, name, msg, mac.MAC[:size-1], nil), custodian.ErrInvalidMAC)
			opExpect(t, f.c.VerifyMAC(ctx, name, msg, nil, nil), custodian.ErrInvalidMAC)
			opExpect(t, f.c.VerifyMAC(ctx, name, msg, mac.MAC, &custodian.MACOptions{Version: 2}), custodian.ErrInvalidArgument)
		}
	}
}

// --- agreement ---------------------------------------------------------------------
