package custodian_test

// Key usage: every key serves one purpose, fixed at creation
// (custodian.KeyUsage), as AWS KMS KeyUsage and Google Cloud KMS key
// purposes do. Only RSA types offer a choice, encrypt (the default) or
// sign, so that one RSA private key never both decrypts and signs: raw
// PKCS #1 v1.5 decryption (DecryptRaw, the seed's DecryptDataRSA) answers
// Bleichenbacher's question, which makes it an RSA private-key oracle, and a
// key that decrypts for a caller would then forge signatures for them too.
//
// The table below is written out by hand, independently of internal/algo.
// Helpers are prefixed "us"; the "op" ones come from operations_test.go and
// tamper_test.go.

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
)

// usTypes lists, for every key type, the usages its keys may have; the
// first is the default, what a key created without a Usage gets.
var usTypes = []struct {
	typ     custodian.KeyType
	allowed []custodian.KeyUsage
}{
	{custodian.AES256GCM, []custodian.KeyUsage{custodian.UsageEncrypt}},
	{custodian.ChaCha20Poly1305, []custodian.KeyUsage{custodian.UsageEncrypt}},
	{custodian.AES256CBC, []custodian.KeyUsage{custodian.UsageEncrypt}},
	{custodian.RSA2048, []custodian.KeyUsage{custodian.UsageEncrypt, custodian.UsageSign}},
	{custodian.RSA3072, []custodian.KeyUsage{custodian.UsageEncrypt, custodian.UsageSign}},
	{custodian.RSA4096, []custodian.KeyUsage{custodian.UsageEncrypt, custodian.UsageSign}},
	{custodian.ECDSAP256, []custodian.KeyUsage{custodian.UsageSign}},
	{custodian.ECDSAP384, []custodian.KeyUsage{custodian.UsageSign}},
	{custodian.ECDSAP521, []custodian.KeyUsage{custodian.UsageSign}},
	{custodian.Ed25519, []custodian.KeyUsage{custodian.UsageSign}},
	{custodian.X25519, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.ECDHP256, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.ECDHP384, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.ECDHP521, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.DHFFDHE2048, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.DHFFDHE3072, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.DHFFDHE4096, []custodian.KeyUsage{custodian.UsageAgree}},
	{custodian.HMACSHA256, []custodian.KeyUsage{custodian.UsageMAC}},
	{custodian.HMACSHA512, []custodian.KeyUsage{custodian.UsageMAC}},
	{custodian.HPKEX25519MLKEM768, []custodian.KeyUsage{custodian.UsageEncrypt}},
}

// usAllowed is usTypes' row for typ.
func usAllowed(typ custodian.KeyType) []custodian.KeyUsage {
	for _, row := range usTypes {
		if row.typ == typ {
			return row.allowed
		}
	}
	return nil
}

// usAll is every usage.
var usAll = []custodian.KeyUsage{custodian.UsageEncrypt, custodian.UsageSign, custodian.UsageMAC, custodian.UsageAgree}

// usBogus are strings that are no usage: usages are compared exactly.
var usBogus = []custodian.KeyUsage{"ENCRYPT", "Sign", "sign ", "decrypt", "verify", "wrap", "encrypt,sign"}

// TestUsageStrings: usages are persisted and sent as these strings
// (STYLE.md 4), and Key carries its usage in JSON under "usage".
func TestUsageStrings(t *testing.T) {
	for u, want := range map[custodian.KeyUsage]string{
		custodian.UsageEncrypt: "encrypt", custodian.UsageSign: "sign",
		custodian.UsageMAC: "mac", custodian.UsageAgree: "agree",
	} {
		if string(u) != want {
			t.Errorf("usage %q, want %q: the strings are a stored format", u, want)
		}
	}
	c := opNewCustodian(t, nil)
	k := opCreate(t, c, "json", &custodian.CreateOptions{Type: custodian.Ed25519})
	j := string(opMust(json.Marshal(k))(t))
	if !strings.Contains(j, `"usage":"sign"`) {
		t.Errorf("Key as JSON = %s, want a \"usage\":\"sign\" field", j)
	}
}

// TestUsageTable: usTypes covers every key type and agrees with the
// capabilities the operation tests use (opTypes).
func TestUsageTable(t *testing.T) {
	var listed []custodian.KeyType
	for _, row := range usTypes {
		listed = append(listed, row.typ)
		if !slices.Equal(opTypes[row.typ].usages, row.allowed) {
			t.Errorf("%s: usTypes allows %v, opTypes %v", row.typ, row.allowed, opTypes[row.typ].usages)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(listed)), slices.Sorted(slices.Values(custodian.KeyTypes()))) {
		t.Errorf("usTypes lists %v, custodian.KeyTypes() is %v", listed, custodian.KeyTypes())
	}
}

// TestUsageCreate creates a key of every type with no usage, then with each
// usage it allows, and asks for every other usage: the default is reported
// in Key.Usage by CreateKey, GetKey and ListKeys; an allowed usage is kept;
// any other is ErrInvalidArgument naming the allowed ones, and creates
// nothing.
func TestUsageCreate(t *testing.T) {
	c := opNewCustodian(t, nil)
	for _, row := range usTypes {
		t.Run(string(row.typ), func(t *testing.T) {
			t.Parallel()
			k := opCreate(t, c, "default/"+string(row.typ), &custodian.CreateOptions{Type: row.typ})
			usCheckUsage(t, c, k, row.allowed[0])
			for _, u := range row.allowed {
				k := opCreate(t, c, "explicit/"+string(row.typ)+"/"+string(u), &custodian.CreateOptions{Type: row.typ, Usage: u})
				usCheckUsage(t, c, k, u)
			}
			for i, u := range slices.Concat(usAll, usBogus) {
				if slices.Contains(row.allowed, u) {
					continue
				}
				name := fmt.Sprintf("refused/%s/%d", row.typ, i)
				_, err := c.CreateKey(t.Context(), name, &custodian.CreateOptions{Type: row.typ, Usage: u})
				usExpectRefused(t, err, row.typ, u, row.allowed)
				_, err = c.GetKey(t.Context(), name)
				opExpect(t, err, custodian.ErrKeyNotFound)
			}
		})
	}
}

// usCheckUsage checks that k, and the same key read back by GetKey and
// ListKeys, has usage want.
func usCheckUsage(t *testing.T, c *custodian.Custodian, k *custodian.Key, want custodian.KeyUsage) {
	t.Helper()
	if k.Usage != want {
		t.Errorf("%s: created with usage %q, want %q", k.Name, k.Usage, want)
	}
	if got := opMust(c.GetKey(t.Context(), k.Name))(t); got.Usage != want {
		t.Errorf("%s: GetKey reports usage %q, want %q", k.Name, got.Usage, want)
	}
	page := opMust(c.ListKeys(t.Context(), &custodian.ListOptions{Prefix: k.Name}))(t)
	i := slices.IndexFunc(page.Keys, func(l *custodian.Key) bool { return l.Name == k.Name })
	if i < 0 || page.Keys[i].Usage != want {
		t.Errorf("%s: ListKeys does not report usage %q", k.Name, want)
	}
}

// usExpectRefused checks the refusal of usage u for typ: ErrInvalidArgument,
// with a message that names every allowed usage after "allowed" and no
// other.
func usExpectRefused(t *testing.T, err error, typ custodian.KeyType, u custodian.KeyUsage, allowed []custodian.KeyUsage) {
	t.Helper()
	opExpect(t, err, custodian.ErrInvalidArgument)
	msg := err.Error()
	_, list, ok := strings.Cut(msg, "allowed")
	if !ok {
		t.Fatalf("%s with usage %q: %q does not say which usages are allowed", typ, u, msg)
	}
	for _, a := range usAll {
		if named := strings.Contains(list, string(a)); named != slices.Contains(allowed, a) {
			t.Errorf("%s with usage %q: %q names %s as allowed: %v, want %v", typ, u, msg, a, named, !named)
		}
	}
}

// usRSAPair creates two exportable RSA-2048 keys: "enc" of usage encrypt
// (the default) and "sig" of usage sign.
func usRSAPair(t *testing.T) (c *custodian.Custodian, enc, sig string) {
	c = opNewCustodian(t, nil)
	enc, sig = "us/rsa-encrypt", "us/rsa-sign"
	opCreate(t, c, enc, &custodian.CreateOptions{Type: custodian.RSA2048, Exportable: true})
	opCreate(t, c, sig, &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign, Exportable: true})
	return c, enc, sig
}

// usPrivate exports an RSA key and parses it with the standard library.
func usPrivate(t *testing.T, c *custodian.Custodian, name string) *rsa.PrivateKey {
	t.Helper()
	der := custodian.Reveal(opMust(c.ExportKey(t.Context(), name, nil))(t))
	return opMust(x509.ParsePKCS8PrivateKey(der))(t).(*rsa.PrivateKey)
}

// usStdSign signs msg with the standard library as alg would.
func usStdSign(t *testing.T, priv *rsa.PrivateKey, alg custodian.Algorithm, msg []byte) []byte {
	t.Helper()
	h := opSigHash(alg)
	if strings.HasPrefix(string(alg), "rsa-pss-") {
		return opMust(rsa.SignPSS(rand.Reader, priv, h, opDigest(h, msg), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}))(t)
	}
	return opMust(rsa.SignPKCS1v15(nil, priv, h, opDigest(h, msg)))(t)
}

// usStdEncrypt encrypts pt for pub with the standard library as alg would,
// label being the OAEP label.
func usStdEncrypt(t *testing.T, pub *rsa.PublicKey, alg custodian.Algorithm, pt, label []byte) []byte {
	t.Helper()
	switch alg {
	case custodian.AlgRSAOAEPSHA256:
		return opMust(rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, pt, label))(t)
	case custodian.AlgRSAOAEPSHA1:
		return opMust(rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, pt, label))(t)
	case custodian.AlgRSAPKCS1v15:
		return opMust(rsa.EncryptPKCS1v15(rand.Reader, pub, pt))(t)
	}
	t.Fatalf("no RSA encryption %s", alg)
	return nil
}

// TestUsageRSAEncryptKeyDoesNotSign: an RSA key of usage encrypt refuses
// every signature algorithm, in message and digest mode, and refuses to
// verify even a genuine signature by its own private key.
func TestUsageRSAEncryptKeyDoesNotSign(t *testing.T) {
	c, enc, _ := usRSAPair(t)
	ctx := t.Context()
	msg := []byte("signed by the encryption key")
	// What it is for works.
	ct := opMust(c.Encrypt(ctx, enc, msg, nil))(t)
	if pt := opMust(c.Decrypt(ctx, ct, nil))(t); !bytes.Equal(pt, msg) {
		t.Fatalf("Decrypt = %q", pt)
	}
	priv := usPrivate(t, c, enc)
	_, err := c.Sign(ctx, enc, msg, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	for _, alg := range opRSASig {
		for _, digest := range []bool{false, true} {
			in := msg
			if digest {
				in = opDigest(opSigHash(alg), msg)
			}
			opts := &custodian.SignOptions{Algorithm: alg, Digest: digest}
			_, err := c.Sign(ctx, enc, in, opts)
			opExpect(t, err, custodian.ErrUnsupportedOperation)
			// A signature the standard library makes with the key's own
			// private half: the refusal is the usage, not the signature.
			sig := usStdSign(t, priv, alg, msg)
			if err := opStdVerify(&priv.PublicKey, alg, msg, sig); err != nil {
				t.Fatalf("%s: the test's own signature does not verify: %v", alg, err)
			}
			opExpect(t, c.Verify(ctx, enc, in, sig, opts), custodian.ErrUnsupportedOperation)
		}
	}
	opExpect(t, c.Verify(ctx, enc, msg, usStdSign(t, priv, custodian.AlgRSAPSSSHA256, msg), nil), custodian.ErrUnsupportedOperation)
}

// TestUsageRSASignKeyDoesNotDecrypt: an RSA key of usage sign refuses to
// encrypt and to decrypt in every form and with every algorithm, including
// genuine raw ciphertexts made for its public key, so it can never serve
// as a PKCS #1 v1.5 decryption oracle.
func TestUsageRSASignKeyDoesNotDecrypt(t *testing.T) {
	c, _, sig := usRSAPair(t)
	ctx := t.Context()
	msg := []byte("encrypted for the signing key")
	pub := opParsePublic(t, c, sig, 0).(*rsa.PublicKey)
	// What it is for works.
	s := opMust(c.Sign(ctx, sig, msg, nil))(t)
	opExpect(t, opStdVerify(pub, s.Algorithm, msg, s.Signature), nil)
	opExpect(t, c.Verify(ctx, sig, msg, s.Signature, nil), nil)

	_, err := c.Encrypt(ctx, sig, msg, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.EncryptRaw(ctx, sig, msg, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	for _, alg := range opRSAEnc {
		_, err := c.Encrypt(ctx, sig, msg, &custodian.EncryptOptions{Algorithm: alg})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		_, err = c.EncryptRaw(ctx, sig, msg, &custodian.RawOptions{Algorithm: alg})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		raw := usStdEncrypt(t, pub, alg, msg, nil)
		pt, err := c.DecryptRaw(ctx, sig, raw, &custodian.RawOptions{Algorithm: alg})
		if err == nil {
			t.Fatalf("DecryptRaw with a key of usage sign opened a genuine %s ciphertext (to %q)", alg, pt)
		}
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		if alg == custodian.AlgRSAPKCS1v15 {
			_, err := c.DecryptDataRSA(ctx, sig, opB64Std.EncodeToString(raw))
			opExpect(t, err, custodian.ErrUnsupportedOperation)
		}
	}
	_, err = c.EncryptDataRSA(ctx, sig, "x")
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.GenerateDataKey(ctx, sig, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.GenerateDataKeyWithoutPlaintext(ctx, sig, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	res := opMust(c.EncryptBatch(ctx, []custodian.BatchEncryptItem{{Key: sig, Plaintext: msg}}))(t)
	opExpect(t, res[0].Err, custodian.ErrUnsupportedOperation)
	// Its public key and export are not encryption: they stay.
	opMust(c.PublicKey(ctx, sig, nil))(t)
	opMust(c.ExportKey(ctx, sig, nil))(t)
}

// TestUsageHeaderNamingSignKey: a self-describing ciphertext whose header
// names an RSA key of usage sign is exactly ErrInvalidCiphertext, like any
// other ciphertext that cannot be decrypted: whether the header was
// rewritten from a ciphertext of an encrypt key, or the body was made
// afresh for the signing key's public key under that header, which would
// decrypt if the usage were not checked.
func TestUsageHeaderNamingSignKey(t *testing.T) {
	c, enc, sig := usRSAPair(t)
	ctx := t.Context()
	sigID := opMust(hex.DecodeString(opMust(c.GetKey(ctx, sig))(t).ID))(t)
	encPub := opParsePublic(t, c, enc, 0).(*rsa.PublicKey)
	sigPub := opParsePublic(t, c, sig, 0).(*rsa.PublicKey)
	pt := []byte("wrapped data key")
	for _, alg := range []custodian.Algorithm{custodian.AlgRSAOAEPSHA256, custodian.AlgRSAOAEPSHA1} {
		for _, aad := range [][]byte{nil, []byte("tenant=1")} {
			t.Run(fmt.Sprintf("%s/aad=%t", alg, aad != nil), func(t *testing.T) {
				ct := opMust(c.Encrypt(ctx, enc, pt, &custodian.EncryptOptions{Algorithm: alg, AssociatedData: aad}))(t)
				rewritten := slices.Clone(ct)
				copy(rewritten[2:14], sigID) // the header's key id (docs/formats.md)
				header := rewritten[:opHeaderSize]
				forged := slices.Concat(header, usStdEncrypt(t, sigPub, alg, pt, slices.Concat(header, aad)))
				// The same construction for the encrypt key decrypts, so the
				// forged ciphertext is a genuine one for the signing key.
				control := slices.Concat(ct[:opHeaderSize], usStdEncrypt(t, encPub, alg, pt, slices.Concat(ct[:opHeaderSize], aad)))
				if got, err := c.Decrypt(ctx, control, &custodian.DecryptOptions{AssociatedData: aad}); err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("a ciphertext made by the standard library for the encrypt key does not decrypt (%v): the construction is wrong", err)
				}

				opts := &custodian.DecryptOptions{AssociatedData: aad}
				named := &custodian.DecryptOptions{AssociatedData: aad, Key: sig}
				var fs []opFailure
				for _, bad := range []struct {
					what string
					ct   custodian.Ciphertext
				}{{"key id rewritten", rewritten}, {"made for the signing key", forged}} {
					got, err := c.Decrypt(ctx, bad.ct, opts)
					if err == nil {
						t.Fatalf("%s: a ciphertext naming a key of usage sign decrypts (to %q)", bad.what, got)
					}
					fs = append(fs, opFailure{bad.what, err})
					_, err = c.Decrypt(ctx, bad.ct, named)
					fs = append(fs, opFailure{bad.what + ", Key named", err})
					_, err = c.Rewrap(ctx, bad.ct, &custodian.RewrapOptions{AssociatedData: aad})
					opExpectInvalid(t, err, bad.what+", rewrap")
					res := opMust(c.DecryptBatch(ctx, []custodian.BatchDecryptItem{{Ciphertext: bad.ct, AssociatedData: aad}}))(t)
					opExpectInvalid(t, res[0].Err, bad.what+", batch")
				}
				// An ordinary failure with the same key name: the encrypt
				// key's genuine ciphertext, decrypted expecting the signing key.
				_, err := c.Decrypt(ctx, ct, named)
				fs = append(fs, opFailure{"another key's ciphertext", err})
				opSameFailure(t, fs)
			})
		}
	}
}

// TestUsageImport: ImportKey gives the key the usage asked for, the type's
// default when none is, and refuses usages the type does not allow.
func TestUsageImport(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	pkcs8 := func(k any) []byte { return opMust(x509.MarshalPKCS8PrivateKey(k))(t) }
	msg := []byte("imported")

	// Two RSA keys from outside, one for each usage: one key, one usage.
	encPriv := opMust(rsa.GenerateKey(rand.Reader, 2048))(t)
	sigPriv := opMust(rsa.GenerateKey(rand.Reader, 2048))(t)
	k := opMust(c.ImportKey(ctx, "imp/rsa-encrypt", pkcs8(encPriv), &custodian.CreateOptions{Type: custodian.RSA2048}))(t)
	usCheckUsage(t, c, k, custodian.UsageEncrypt)
	raw := usStdEncrypt(t, &encPriv.PublicKey, custodian.AlgRSAOAEPSHA256, msg, nil)
	if pt := opMust(c.DecryptRaw(ctx, k.Name, raw, nil))(t); !bytes.Equal(pt, msg) {
		t.Errorf("imported encrypt key: DecryptRaw = %q", pt)
	}
	_, err := c.Sign(ctx, k.Name, msg, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	k = opMust(c.ImportKey(ctx, "imp/rsa-sign", pkcs8(sigPriv), &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign}))(t)
	usCheckUsage(t, c, k, custodian.UsageSign)
	s := opMust(c.Sign(ctx, k.Name, msg, nil))(t)
	opExpect(t, opStdVerify(&sigPriv.PublicKey, s.Algorithm, msg, s.Signature), nil)
	raw = usStdEncrypt(t, &sigPriv.PublicKey, custodian.AlgRSAOAEPSHA256, msg, nil)
	_, err = c.DecryptRaw(ctx, k.Name, raw, nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	// Other types: their one usage, named or not; never another.
	ec := pkcs8(opMust(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))(t))
	x := pkcs8(opMust(ecdh.X25519().GenerateKey(rand.Reader))(t))
	for i, tc := range []struct {
		typ      custodian.KeyType
		material []byte
		usage    custodian.KeyUsage
		want     custodian.KeyUsage // "" when refused
	}{
		{custodian.ECDSAP256, ec, "", custodian.UsageSign},
		{custodian.ECDSAP256, ec, custodian.UsageSign, custodian.UsageSign},
		{custodian.ECDSAP256, ec, custodian.UsageEncrypt, ""},
		{custodian.X25519, x, custodian.UsageAgree, custodian.UsageAgree},
		{custodian.X25519, x, custodian.UsageSign, ""},
		{custodian.HMACSHA256, opPayload(32), custodian.UsageMAC, custodian.UsageMAC},
		{custodian.HMACSHA256, opPayload(32), custodian.UsageSign, ""},
		{custodian.AES256CBC, opPayload(32), "", custodian.UsageEncrypt},
		{custodian.AES256CBC, opPayload(32), custodian.UsageMAC, ""},
		{custodian.RSA2048, pkcs8(encPriv), custodian.UsageMAC, ""},
		{custodian.RSA2048, pkcs8(encPriv), custodian.UsageAgree, ""},
	} {
		name := fmt.Sprintf("imp/%d", i)
		k, err := c.ImportKey(ctx, name, tc.material, &custodian.CreateOptions{Type: tc.typ, Usage: tc.usage})
		if tc.want == "" {
			usExpectRefused(t, err, tc.typ, tc.usage, usAllowed(tc.typ))
			_, err = c.GetKey(ctx, name)
			opExpect(t, err, custodian.ErrKeyNotFound)
			continue
		}
		opExpect(t, err, nil)
		usCheckUsage(t, c, k, tc.want)
	}
}

// TestUsageDeriveKey: DeriveKey, from a key of usage agree, stores an
// aes256-gcm key of usage encrypt, and refuses any other usage for it.
func TestUsageDeriveKey(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	usCheckUsage(t, c, opCreate(t, c, "us/x25519", &custodian.CreateOptions{Type: custodian.X25519}), custodian.UsageAgree)
	peer := opMust(ecdh.X25519().GenerateKey(rand.Reader))(t).PublicKey().Bytes()
	for i, u := range []custodian.KeyUsage{"", custodian.UsageEncrypt} {
		k := opMust(c.DeriveKey(ctx, "us/x25519", peer, fmt.Sprintf("us/derived-%d", i), &custodian.DeriveOptions{Key: custodian.CreateOptions{Usage: u}}))(t)
		if k.Type != custodian.AES256GCM {
			t.Errorf("derived key is %s, want aes256-gcm", k.Type)
		}
		usCheckUsage(t, c, k, custodian.UsageEncrypt)
		ct := opMust(c.Encrypt(ctx, k.Name, []byte("derived"), nil))(t)
		if pt := opMust(c.Decrypt(ctx, ct, nil))(t); string(pt) != "derived" {
			t.Errorf("derived key: Decrypt = %q", pt)
		}
	}
	for _, u := range []custodian.KeyUsage{custodian.UsageSign, custodian.UsageMAC, custodian.UsageAgree} {
		name := "us/derived-" + string(u)
		_, err := c.DeriveKey(ctx, "us/x25519", peer, name, &custodian.DeriveOptions{Key: custodian.CreateOptions{Usage: u}})
		usExpectRefused(t, err, custodian.AES256GCM, u, []custodian.KeyUsage{custodian.UsageEncrypt})
		_, err = c.GetKey(ctx, name)
		opExpect(t, err, custodian.ErrKeyNotFound)
	}
}

// TestUsageSeedAPI: the seed's operations make keys of the usage their
// companions need: GenerateRSAPair an RSA key of usage encrypt, for
// EncryptDataRSA and DecryptDataRSA, that does not sign.
func TestUsageSeedAPI(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	r := opMust(c.GenerateRSAPair(ctx, "systemRSA"))(t)
	if r.Type != custodian.RSA2048 {
		t.Errorf("GenerateRSAPair made %s", r.Type)
	}
	usCheckUsage(t, c, r, custodian.UsageEncrypt)
	ct := opMust(c.EncryptDataRSA(ctx, "systemRSA", "Classified Information"))(t)
	if got := opMust(c.DecryptDataRSA(ctx, "systemRSA", ct))(t); got != "Classified Information" {
		t.Errorf("DecryptDataRSA = %q", got)
	}
	_, err := c.Sign(ctx, "systemRSA", []byte("m"), nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	usCheckUsage(t, c, opMust(c.EstablishAESKey(ctx, "terminal_123"))(t), custodian.UsageEncrypt)
	pair := opMust(c.GenerateDiffieHellmanParamsAndKey(ctx, "dh_exchange"))(t)
	usCheckUsage(t, c, pair.Key, custodian.UsageAgree)
}

// TestUsageLifecycle: a key's usage is fixed at creation. Rotation, updates
// and every reversible state change keep it, and a new version of an RSA
// signing key signs and does not decrypt, like the first.
func TestUsageLifecycle(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	const name = "us/life"
	opCreate(t, c, name, &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign})
	desc := "release signing"
	for _, step := range []struct {
		what string
		do   func() (*custodian.Key, error)
	}{
		{"rotate", func() (*custodian.Key, error) { return c.RotateKey(ctx, name) }},
		{"update", func() (*custodian.Key, error) {
			return c.UpdateKey(ctx, name, custodian.KeyUpdate{Description: &desc, Labels: map[string]string{"usage": "encrypt"}})
		}},
		{"disable", func() (*custodian.Key, error) { return c.DisableKey(ctx, name) }},
		{"enable", func() (*custodian.Key, error) { return c.EnableKey(ctx, name) }},
		{"schedule deletion", func() (*custodian.Key, error) { return c.ScheduleKeyDeletion(ctx, name, 0) }},
		{"cancel deletion", func() (*custodian.Key, error) { return c.CancelKeyDeletion(ctx, name) }},
		{"enable again", func() (*custodian.Key, error) { return c.EnableKey(ctx, name) }},
	} {
		k, err := step.do()
		opExpect(t, err, nil)
		if k.Usage != custodian.UsageSign {
			t.Errorf("after %s: usage %q, want sign", step.what, k.Usage)
		}
		usCheckUsage(t, c, k, custodian.UsageSign)
	}
	s := opMust(c.Sign(ctx, name, []byte("m"), nil))(t)
	if s.KeyVersion != 2 {
		t.Errorf("signature by version %d, want the rotated version 2", s.KeyVersion)
	}
	opExpect(t, c.Verify(ctx, name, []byte("m"), s.Signature, nil), nil)
	for _, v := range []int{1, 2} {
		_, err := c.DecryptRaw(ctx, name, opPayload(256), &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15, Version: v})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
	}
	_, err := c.Encrypt(ctx, name, []byte("m"), nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
}
