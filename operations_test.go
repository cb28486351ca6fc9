package custodian_test

// Functional tests of every operation over every key type it applies to,
// and of the refusal (ErrUnsupportedOperation) everywhere it does not.
// Expected values come from the standard library wherever one exists
// (signatures verified by crypto/rsa, crypto/ecdsa and crypto/ed25519,
// HMACs by crypto/hmac, agreements by crypto/ecdh, raw AEAD forms opened by
// crypto/cipher and crypto/hpke), never from the library under test alone.
//
// Helpers in this file are shared with tamper_test.go and interop_test.go;
// every helper is prefixed with "op" because other files of this test
// package are written by other people.

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
)

// opSentinels is every exported sentinel: an error must match the one a
// test expects and no other (ErrInvalidKeyState goes with a state's own).
var opSentinels = []error{
	custodian.ErrKeyNotFound, custodian.ErrKeyExists, custodian.ErrKeyDisabled,
	custodian.ErrKeyRevoked, custodian.ErrKeyPendingDeletion, custodian.ErrKeyDestroyed,
	custodian.ErrInvalidKeyState, custodian.ErrKeyVersionNotAllowed, custodian.ErrInvalidCiphertext,
	custodian.ErrInvalidSignature, custodian.ErrInvalidMAC, custodian.ErrUnsupportedOperation,
	custodian.ErrInvalidArgument,
}

// opExpect fails unless err is nil (want nil) or is a *custodian.Error
// matching want and no other sentinel.
func opExpect(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got error %q, want one matching %q", err, want)
	}
	stateSentinel := want == custodian.ErrKeyDisabled || want == custodian.ErrKeyRevoked ||
		want == custodian.ErrKeyPendingDeletion || want == custodian.ErrKeyDestroyed
	for _, s := range opSentinels {
		if s == want || (s == custodian.ErrInvalidKeyState && stateSentinel) {
			continue
		}
		if errors.Is(err, s) {
			t.Fatalf("error %q matches %q as well as %q", err, s, want)
		}
	}
	var e *custodian.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is a %T, not a *custodian.Error", err, err)
	}
}

// opMust returns v, failing the test on err: opMust(f())(t).
func opMust[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func opNewCustodian(t testing.TB, now func() time.Time) *custodian.Custodian {
	t.Helper()
	c, err := custodian.New(custodian.Options{Now: now, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var (
	opB64URL = base64.RawURLEncoding
	opB64Std = base64.StdEncoding
)

var opSeq atomic.Int64

// opName returns a fresh key name, for keys added to the shared fixture.
func opName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, opSeq.Add(1)) }

func opIsDH(typ custodian.KeyType) bool { return strings.HasPrefix(string(typ), "dh-") }

// opCreate creates a key, skipping DH types while they are not registered.
func opCreate(t testing.TB, c *custodian.Custodian, name string, opts *custodian.CreateOptions) *custodian.Key {
	t.Helper()
	k, err := c.CreateKey(t.Context(), name, opts)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return k
}

// opCaps is what a key type can do, written out independently of the
// library's own tables.
type opCaps struct {
	enc    []custodian.Algorithm // first is the default
	sig    []custodian.Algorithm
	defSig custodian.Algorithm
	mac    custodian.Algorithm
	agree  bool
	public bool
	rawPub bool // public key has no SPKI form (HPKE)
	// usages a key of the type may be created with; the first is the
	// default. A key has exactly one: only RSA types offer a choice, and an
	// RSA key either encrypts or signs, never both (usage_test.go).
	usages []custodian.KeyUsage
}

var (
	opRSAEnc = []custodian.Algorithm{custodian.AlgRSAOAEPSHA256, custodian.AlgRSAOAEPSHA1, custodian.AlgRSAPKCS1v15}
	opRSASig = []custodian.Algorithm{
		custodian.AlgRSAPSSSHA256, custodian.AlgRSAPSSSHA384, custodian.AlgRSAPSSSHA512,
		custodian.AlgRSAPKCS1v15SHA256, custodian.AlgRSAPKCS1v15SHA384, custodian.AlgRSAPKCS1v15SHA512,
	}
	opECDSASig = []custodian.Algorithm{custodian.AlgECDSASHA256, custodian.AlgECDSASHA384, custodian.AlgECDSASHA512}
)

var (
	opUsesEncrypt = []custodian.KeyUsage{custodian.UsageEncrypt}
	opUsesSign    = []custodian.KeyUsage{custodian.UsageSign}
	opUsesMAC     = []custodian.KeyUsage{custodian.UsageMAC}
	opUsesAgree   = []custodian.KeyUsage{custodian.UsageAgree}
	opUsesRSA     = []custodian.KeyUsage{custodian.UsageEncrypt, custodian.UsageSign}
)

var opTypes = map[custodian.KeyType]opCaps{
	custodian.AES256GCM:          {enc: []custodian.Algorithm{custodian.AlgAES256GCM}, usages: opUsesEncrypt},
	custodian.ChaCha20Poly1305:   {enc: []custodian.Algorithm{custodian.AlgChaCha20Poly1305}, usages: opUsesEncrypt},
	custodian.AES256CBC:          {enc: []custodian.Algorithm{custodian.AlgAES256CBC}, usages: opUsesEncrypt},
	custodian.RSA2048:            {enc: opRSAEnc, sig: opRSASig, defSig: custodian.AlgRSAPSSSHA256, public: true, usages: opUsesRSA},
	custodian.RSA3072:            {enc: opRSAEnc, sig: opRSASig, defSig: custodian.AlgRSAPSSSHA256, public: true, usages: opUsesRSA},
	custodian.RSA4096:            {enc: opRSAEnc, sig: opRSASig, defSig: custodian.AlgRSAPSSSHA256, public: true, usages: opUsesRSA},
	custodian.ECDSAP256:          {sig: opECDSASig, defSig: custodian.AlgECDSASHA256, public: true, usages: opUsesSign},
	custodian.ECDSAP384:          {sig: opECDSASig, defSig: custodian.AlgECDSASHA384, public: true, usages: opUsesSign},
	custodian.ECDSAP521:          {sig: opECDSASig, defSig: custodian.AlgECDSASHA512, public: true, usages: opUsesSign},
	custodian.Ed25519:            {sig: []custodian.Algorithm{custodian.AlgEd25519}, defSig: custodian.AlgEd25519, public: true, usages: opUsesSign},
	custodian.X25519:             {agree: true, public: true, usages: opUsesAgree},
	custodian.ECDHP256:           {agree: true, public: true, usages: opUsesAgree},
	custodian.ECDHP384:           {agree: true, public: true, usages: opUsesAgree},
	custodian.ECDHP521:           {agree: true, public: true, usages: opUsesAgree},
	custodian.DHFFDHE2048:        {agree: true, public: true, usages: opUsesAgree},
	custodian.DHFFDHE3072:        {agree: true, public: true, usages: opUsesAgree},
	custodian.DHFFDHE4096:        {agree: true, public: true, usages: opUsesAgree},
	custodian.HMACSHA256:         {mac: custodian.AlgHMACSHA256, usages: opUsesMAC},
	custodian.HMACSHA512:         {mac: custodian.AlgHMACSHA512, usages: opUsesMAC},
	custodian.HPKEX25519MLKEM768: {enc: []custodian.Algorithm{custodian.AlgHPKEX25519MLKEM768}, public: true, rawPub: true, usages: opUsesEncrypt},
}

// opKeyCaps is what a key of typ created with usage u can do: its type's
// capabilities less those of the usage it was not created for. An RSA key
// of usage encrypt has no signatures; one of usage sign no encryption.
func opKeyCaps(typ custodian.KeyType, u custodian.KeyUsage) opCaps {
	caps := opTypes[typ]
	if u != custodian.UsageEncrypt {
		caps.enc = nil
	}
	if u != custodian.UsageSign {
		caps.sig, caps.defSig = nil, ""
	}
	return caps
}

// opCodes are the algorithm bytes of the ciphertext header, a wire format
// (docs/formats.md).
var opCodes = map[custodian.Algorithm]byte{
	custodian.AlgAES256GCM: 0x01, custodian.AlgChaCha20Poly1305: 0x02, custodian.AlgAES256CBC: 0x03,
	custodian.AlgRSAOAEPSHA256: 0x10, custodian.AlgRSAOAEPSHA1: 0x11, custodian.AlgRSAPKCS1v15: 0x12,
	custodian.AlgHPKEX25519MLKEM768: 0x20,
}

// opFixture is one Custodian holding one exportable key of every type and
// usage (rsa-3072 and rsa-4096 only in TestOpRSASizes, to keep the suite
// fast). Tests use it read-only: nothing rotates or changes its keys.
type opFixture struct {
	c *custodian.Custodian
	// names holds the key of each type created with its default usage, as
	// "fixture/<type>": for RSA types, usage encrypt.
	names map[custodian.KeyType]string
	// signers holds, for the types whose keys choose a usage (RSA), the key
	// created with custodian.UsageSign, as "fixture/<type>-sign".
	signers map[custodian.KeyType]string
}

// opKeyRef is a key of the fixture: a type and a usage.
type opKeyRef struct {
	typ   custodian.KeyType
	usage custodian.KeyUsage
}

// String is the key's name without "fixture/", for subtest names.
func (r opKeyRef) String() string {
	if r.usage == opTypes[r.typ].usages[0] {
		return string(r.typ)
	}
	return string(r.typ) + "-" + string(r.usage)
}

// opFixtureKeys is every key the shared fixture holds: one per type with
// its default usage, then one per other usage a type allows.
func opFixtureKeys() []opKeyRef {
	var out, others []opKeyRef
	for _, typ := range opFixtureTypes() {
		for i, u := range opTypes[typ].usages {
			if i == 0 {
				out = append(out, opKeyRef{typ, u})
			} else {
				others = append(others, opKeyRef{typ, u})
			}
		}
	}
	return append(out, others...)
}

var opFixtureOnce = sync.OnceValues(func() (*opFixture, error) {
	c, err := custodian.New(custodian.Options{})
	if err != nil {
		return nil, err
	}
	f := &opFixture{c: c, names: map[custodian.KeyType]string{}, signers: map[custodian.KeyType]string{}}
	for _, r := range opFixtureKeys() {
		name := "fixture/" + r.String()
		opts := &custodian.CreateOptions{Type: r.typ, Exportable: true}
		if r.usage != opTypes[r.typ].usages[0] {
			opts.Usage = r.usage // the default ones are created without, to test the default
		}
		if _, err := c.CreateKey(context.Background(), name, opts); err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		switch {
		case opts.Usage == "":
			f.names[r.typ] = name
		case r.usage == custodian.UsageSign:
			f.signers[r.typ] = name
		default:
			return nil, fmt.Errorf("the fixture has no place for %s keys of usage %s", r.typ, r.usage)
		}
	}
	return f, nil
})

func opShared(t testing.TB) *opFixture {
	t.Helper()
	f, err := opFixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// key returns the fixture's key of typ with its type's default usage (for
// RSA types: encrypt).
func (f *opFixture) key(t testing.TB, typ custodian.KeyType) string {
	t.Helper()
	name, ok := f.names[typ]
	if !ok {
		t.Fatalf("fixture has no %s key", typ)
	}
	return name
}

// signer returns the fixture's RSA key of typ with usage sign.
func (f *opFixture) signer(t testing.TB, typ custodian.KeyType) string {
	t.Helper()
	name, ok := f.signers[typ]
	if !ok {
		t.Fatalf("fixture has no %s key of usage sign", typ)
	}
	return name
}

// keyOf returns the fixture's key r.
func (f *opFixture) keyOf(t testing.TB, r opKeyRef) string {
	t.Helper()
	if r.usage == opTypes[r.typ].usages[0] {
		return f.key(t, r.typ)
	}
	if r.usage == custodian.UsageSign {
		return f.signer(t, r.typ)
	}
	t.Fatalf("fixture has no %s key of usage %s", r.typ, r.usage)
	return ""
}

// opFixtureTypes is every type the shared fixture holds keys of.
func opFixtureTypes() []custodian.KeyType {
	var out []custodian.KeyType
	for _, typ := range custodian.KeyTypes() {
		if typ != custodian.RSA3072 && typ != custodian.RSA4096 {
			out = append(out, typ)
		}
	}
	return out
}

// opSigHash is the hash of a signature algorithm (0 for Ed25519).
func opSigHash(alg custodian.Algorithm) crypto.Hash {
	switch {
	case strings.HasSuffix(string(alg), "sha256"):
		return crypto.SHA256
	case strings.HasSuffix(string(alg), "sha384"):
		return crypto.SHA384
	case strings.HasSuffix(string(alg), "sha512"):
		return crypto.SHA512
	}
	return 0
}

func opDigest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

// opParsePublic exports a key's public half as DER and parses it with
// x509.ParsePKIXPublicKey.
func opParsePublic(t testing.TB, c *custodian.Custodian, name string, version int) crypto.PublicKey {
	t.Helper()
	der := opMust(c.PublicKey(t.Context(), name, &custodian.PublicKeyOptions{Format: custodian.DER, Version: version}))(t)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("public key of %s does not parse as SubjectPublicKeyInfo: %v", name, err)
	}
	return pub
}

// opStdVerify checks a signature with the standard library alone.
func opStdVerify(pub crypto.PublicKey, alg custodian.Algorithm, msg, sig []byte) error {
	h := opSigHash(alg)
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		d := opDigest(h, msg)
		if strings.HasPrefix(string(alg), "rsa-pss-") {
			return rsa.VerifyPSS(pub, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.VerifyPKCS1v15(pub, h, d, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, opDigest(h, msg), sig) {
			return errors.New("ecdsa signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, msg, sig) {
			return errors.New("ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("public key of type %T", pub)
}

// opCurve is the crypto/ecdh curve of an agreement type.
func opCurve(typ custodian.KeyType) ecdh.Curve {
	switch typ {
	case custodian.X25519:
		return ecdh.X25519()
	case custodian.ECDHP256:
		return ecdh.P256()
	case custodian.ECDHP384:
		return ecdh.P384()
	case custodian.ECDHP521:
		return ecdh.P521()
	}
	return nil
}

// opECDHPublic returns a key's public half as a crypto/ecdh key.
func opECDHPublic(t testing.TB, c *custodian.Custodian, name string, version int) *ecdh.PublicKey {
	t.Helper()
	switch pub := opParsePublic(t, c, name, version).(type) {
	case *ecdh.PublicKey:
		return pub
	case *ecdsa.PublicKey:
		return opMust(pub.ECDH())(t)
	default:
		t.Fatalf("public key of %s is %T", name, pub)
		return nil
	}
}

// opPeerForms returns a crypto/ecdh public key as PEM, DER and raw bytes.
func opPeerForms(t testing.TB, pub *ecdh.PublicKey) map[string][]byte {
	t.Helper()
	der := opMust(x509.MarshalPKIXPublicKey(pub))(t)
	return map[string][]byte{
		"pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"der": der,
		"raw": pub.Bytes(),
	}
}

// opSPKI is SubjectPublicKeyInfo, for key types encoding/x509 cannot parse (DH).
type opSPKI struct {
	Algorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	PublicKey asn1.BitString
}

var (
	opOIDDHKeyAgreement = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}
	opOIDDHPublicNumber = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}
)

// opFFDHE2048P is the RFC 7919 appendix A.1 prime.
var opFFDHE2048P, _ = new(big.Int).SetString(""+
	"FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695"+
	"A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A"+
	"D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"+
	"984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A"+
	"BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4"+
	"AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"+
	"9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005"+
	"C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16)

// opDHBytes is the byte length of a DH type's prime, the length of its
// (left-padded) shared secrets.
func opDHBytes(typ custodian.KeyType) int {
	switch typ {
	case custodian.DHFFDHE2048:
		return 256
	case custodian.DHFFDHE3072:
		return 384
	}
	return 512
}

// --- key catalogue ---------------------------------------------------------
