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
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

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
	c, err := custodian.New(custodian.Options{Now: now})
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

func TestOpKeyTypesCovered(t *testing.T) {
	types := custodian.KeyTypes()
	seen := map[custodian.KeyType]bool{}
	for _, typ := range types {
		if seen[typ] {
			t.Errorf("KeyTypes lists %s twice", typ)
		}
		seen[typ] = true
		if _, ok := opTypes[typ]; !ok {
			t.Errorf("key type %s has no row in opTypes: add its capabilities to these tests", typ)
		}
	}
	for typ := range opTypes {
		if !seen[typ] {
			t.Errorf("opTypes has %s, which KeyTypes does not list", typ)
		}
	}
	if custodian.DefaultKeyType != custodian.AES256GCM {
		t.Errorf("DefaultKeyType = %s, want aes256-gcm", custodian.DefaultKeyType)
	}
}

// --- create, get, list --------------------------------------------------

func TestOpCreateDefaults(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	k := opMust(c.CreateKey(ctx, "default", nil))(t)
	if k.Type != custodian.AES256GCM || k.Usage != custodian.UsageEncrypt || k.Exportable || k.State != custodian.StateEnabled {
		t.Errorf("CreateKey(nil) = type %s usage %s exportable %v state %s, want aes256-gcm, encrypt, false, enabled", k.Type, k.Usage, k.Exportable, k.State)
	}
	if k.PrimaryVersion != 1 || k.LatestVersion != 1 || k.MinDecryptionVersion != 1 || len(k.Versions) != 1 ||
		k.Versions[0].Version != 1 || k.Versions[0].State != custodian.VersionEnabled {
		t.Errorf("new key versions = primary %d latest %d min %d %+v, want one enabled version 1",
			k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion, k.Versions)
	}
	if id, err := hex.DecodeString(k.ID); err != nil || len(id) != 12 {
		t.Errorf("key id %q is not 24 hex digits", k.ID)
	}
	if k.Created.IsZero() || !k.Updated.Equal(k.Created) || k.Name != "default" {
		t.Errorf("new key: name %q created %v updated %v", k.Name, k.Created, k.Updated)
	}
	k2 := opMust(c.CreateKey(ctx, "zero-options", &custodian.CreateOptions{}))(t)
	if k2.Type != custodian.AES256GCM || k2.Usage != custodian.UsageEncrypt || k2.Exportable {
		t.Errorf("CreateKey(&CreateOptions{}) = %s usage %s exportable %v", k2.Type, k2.Usage, k2.Exportable)
	}
	if k2.ID == k.ID {
		t.Error("two keys share an id")
	}
	_, err := c.ExportKey(ctx, "default", nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	_, err = c.CreateKey(ctx, "default", nil)
	opExpect(t, err, custodian.ErrKeyExists)

	for _, bad := range []string{"", "-leading-dash", "has space", "tab\t", "ünicode", strings.Repeat("a", custodian.MaxNameLength+1)} {
		_, err := c.CreateKey(ctx, bad, nil)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	opMust(c.CreateKey(ctx, strings.Repeat("a", custodian.MaxNameLength), nil))(t)
	opMust(c.CreateKey(ctx, "Team_1/app.key-2", nil))(t)

	for name, opts := range map[string]*custodian.CreateOptions{
		"bad-type":     {Type: "aes128-gcm"},
		"bad-label":    {Labels: map[string]string{"Upper": "x"}},
		"bad-label-v":  {Labels: map[string]string{"ok": strings.Repeat("v", custodian.MaxLabelValueLength+1)}},
		"bad-desc":     {Description: strings.Repeat("d", custodian.MaxDescriptionLength+1)},
		"bad-desc-utf": {Description: "\xff"},
		"bad-rotation": {RotationPeriod: custodian.MinRotationPeriod - time.Second},
		"bad-usage":    {Usage: custodian.UsageSign}, // aes256-gcm only encrypts
	} {
		_, err := c.CreateKey(ctx, name, opts)
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.GetKey(ctx, name)
		opExpect(t, err, custodian.ErrKeyNotFound)
	}

	full := opMust(c.CreateKey(ctx, "full", &custodian.CreateOptions{
		Type: custodian.ChaCha20Poly1305, Description: "payments", Labels: map[string]string{"team": "pay", "env": "prod"},
		Exportable: true, RotationPeriod: 24 * time.Hour,
	}))(t)
	got := opMust(c.GetKey(ctx, "full"))(t)
	if got.ID != full.ID || got.Type != custodian.ChaCha20Poly1305 || got.Usage != custodian.UsageEncrypt || got.Description != "payments" ||
		got.Labels["team"] != "pay" || got.Labels["env"] != "prod" || len(got.Labels) != 2 ||
		!got.Exportable || got.RotationPeriod != 24*time.Hour {
		t.Errorf("GetKey = %+v, want what CreateKey stored", got)
	}
	_, err = c.GetKey(ctx, "missing")
	opExpect(t, err, custodian.ErrKeyNotFound)
	_, err = c.GetKey(ctx, "")
	opExpect(t, err, custodian.ErrInvalidArgument)
}

func TestOpCreateEveryType(t *testing.T) {
	f := opShared(t)
	for _, r := range opFixtureKeys() {
		t.Run(r.String(), func(t *testing.T) {
			name := f.keyOf(t, r)
			k := opMust(f.c.GetKey(t.Context(), name))(t)
			if k.Type != r.typ || k.Usage != r.usage || !k.Exportable || k.PrimaryVersion != 1 || k.State != custodian.StateEnabled {
				t.Errorf("GetKey = type %s usage %s exportable %v primary %d state %s, want %s, %s", k.Type, k.Usage, k.Exportable, k.PrimaryVersion, k.State, r.typ, r.usage)
			}
		})
	}
}

func TestOpListKeys(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	for _, n := range []string{"app/e", "app/b", "other/x", "app/d", "app/a", "app2/y", "app/c"} {
		opCreate(t, c, n, nil)
	}
	var got []string
	tokens := map[string]bool{}
	opts := &custodian.ListOptions{Prefix: "app/", PageSize: 2}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		page := opMust(c.ListKeys(ctx, opts))(t)
		wantLen := 2
		if pages == 2 {
			wantLen = 1
		}
		if len(page.Keys) != wantLen {
			t.Fatalf("page %d has %d keys, want %d", pages, len(page.Keys), wantLen)
		}
		for _, k := range page.Keys {
			got = append(got, k.Name)
			if len(k.Versions) != 1 || k.Type != custodian.AES256GCM {
				t.Errorf("listed key %s: %+v", k.Name, k)
			}
		}
		if page.NextPageToken == "" {
			if pages != 2 {
				t.Fatalf("listing ended after page %d, want 3 pages", pages)
			}
			break
		}
		if tokens[page.NextPageToken] || strings.Contains(page.NextPageToken, "app/") {
			t.Errorf("page token %q repeats or shows a name", page.NextPageToken)
		}
		tokens[page.NextPageToken] = true
		opts.PageToken = page.NextPageToken
	}
	if want := []string{"app/a", "app/b", "app/c", "app/d", "app/e"}; !slices.Equal(got, want) {
		t.Errorf("paged listing = %v, want %v", got, want)
	}

	all := opMust(c.ListKeys(ctx, nil))(t)
	var names []string
	for _, k := range all.Keys {
		names = append(names, k.Name)
	}
	if want := []string{"app/a", "app/b", "app/c", "app/d", "app/e", "app2/y", "other/x"}; !slices.Equal(names, want) || all.NextPageToken != "" {
		t.Errorf("ListKeys(nil) = %v token %q, want %v", names, all.NextPageToken, want)
	}
	exact := opMust(c.ListKeys(ctx, &custodian.ListOptions{Prefix: "app/", PageSize: 5}))(t)
	if len(exact.Keys) != 5 || exact.NextPageToken != "" {
		t.Errorf("a page exactly as large as the listing: %d keys, token %q", len(exact.Keys), exact.NextPageToken)
	}
	none := opMust(c.ListKeys(ctx, &custodian.ListOptions{Prefix: "nothing/"}))(t)
	if len(none.Keys) != 0 || none.NextPageToken != "" {
		t.Errorf("empty listing = %+v", none)
	}

	for _, bad := range []custodian.ListOptions{
		{PageToken: "%%% not base64"},
		{PageToken: "LWRhc2g"}, // base64url of "-dash", not a key name
		{PageSize: -1},
		{PageSize: 1001},
	} {
		_, err := c.ListKeys(ctx, &bad)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
}

// --- rotate and update ----------------------------------------------------

// opRotateKeys are rotated in TestOpRotate: one of each family, RSA with
// each of its usages.
var opRotateKeys = []opKeyRef{
	{custodian.AES256GCM, custodian.UsageEncrypt}, {custodian.ChaCha20Poly1305, custodian.UsageEncrypt},
	{custodian.AES256CBC, custodian.UsageEncrypt}, {custodian.HPKEX25519MLKEM768, custodian.UsageEncrypt},
	{custodian.RSA2048, custodian.UsageEncrypt}, {custodian.RSA2048, custodian.UsageSign},
	{custodian.ECDSAP384, custodian.UsageSign}, {custodian.Ed25519, custodian.UsageSign},
	{custodian.HMACSHA512, custodian.UsageMAC}, {custodian.X25519, custodian.UsageAgree},
	{custodian.ECDHP256, custodian.UsageAgree}, {custodian.DHFFDHE2048, custodian.UsageAgree},
}

func TestOpRotate(t *testing.T) {
	for _, r := range opRotateKeys {
		typ := r.typ
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			c := opNewCustodian(t, nil)
			ctx := t.Context()
			name := "rot/" + r.String()
			opCreate(t, c, name, &custodian.CreateOptions{Type: typ, Usage: r.usage, Exportable: true})
			caps := opKeyCaps(typ, r.usage)
			msg := []byte("rotation keeps old data readable")
			peer := opDHOrECDHPeer(t, c, typ)

			type old struct {
				ct     custodian.Ciphertext
				raw    []byte
				sig    *custodian.Signature
				mac    *custodian.MAC
				secret []byte
				pub    []byte
				export []byte
			}
			var olds []old
			for v := 1; v <= 3; v++ {
				if v > 1 {
					k := opMust(c.RotateKey(ctx, name))(t)
					if k.PrimaryVersion != v || k.LatestVersion != v || k.MinDecryptionVersion != 1 || len(k.Versions) != v {
						t.Fatalf("after rotation %d: primary %d latest %d min %d versions %d", v-1, k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion, len(k.Versions))
					}
					if k.Usage != r.usage {
						t.Errorf("after rotation %d: usage %s, want %s: a key's usage is fixed at creation", v-1, k.Usage, r.usage)
					}
					for i, vi := range k.Versions {
						if vi.Version != i+1 || vi.State != custodian.VersionEnabled {
							t.Errorf("version list %+v is not 1..%d, enabled", k.Versions, v)
						}
					}
				}
				var o old
				if caps.enc != nil {
					o.ct = opMust(c.Encrypt(ctx, name, msg, nil))(t)
					o.raw = opMust(c.EncryptRaw(ctx, name, msg, nil))(t)
				}
				if caps.sig != nil {
					o.sig = opMust(c.Sign(ctx, name, msg, nil))(t)
					if o.sig.KeyVersion != v {
						t.Errorf("signature from version %d says %d", v, o.sig.KeyVersion)
					}
				}
				if caps.mac != "" {
					o.mac = opMust(c.MAC(ctx, name, msg, nil))(t)
					if o.mac.KeyVersion != v {
						t.Errorf("mac from version %d says %d", v, o.mac.KeyVersion)
					}
				}
				if caps.agree {
					o.secret = custodian.Reveal(opMust(c.Agree(ctx, name, peer, nil))(t))
				}
				if caps.public {
					o.pub = opMust(c.PublicKey(ctx, name, nil))(t)
				}
				o.export = custodian.Reveal(opMust(c.ExportKey(ctx, name, nil))(t))
				olds = append(olds, o)
			}
			for i, o := range olds {
				v := i + 1
				if caps.enc != nil {
					if pt := opMust(c.Decrypt(ctx, o.ct, nil))(t); !bytes.Equal(pt, msg) {
						t.Errorf("version %d ciphertext decrypts to %q", v, pt)
					}
					if pt := opMust(c.DecryptRaw(ctx, name, o.raw, &custodian.RawOptions{Version: v}))(t); !bytes.Equal(pt, msg) {
						t.Errorf("version %d raw ciphertext decrypts to %q", v, pt)
					}
					if v != 3 && typ != custodian.AES256CBC { // raw CBC is unauthenticated
						_, err := c.DecryptRaw(ctx, name, o.raw, nil)
						opExpect(t, err, custodian.ErrInvalidCiphertext)
					}
				}
				if o.sig != nil {
					opExpect(t, c.Verify(ctx, name, msg, o.sig.Signature, &custodian.SignOptions{Version: v}), nil)
					if v != 3 {
						opExpect(t, c.Verify(ctx, name, msg, o.sig.Signature, nil), custodian.ErrInvalidSignature)
					}
				}
				if o.mac != nil {
					opExpect(t, c.VerifyMAC(ctx, name, msg, o.mac.MAC, &custodian.MACOptions{Version: v}), nil)
					if v != 3 {
						opExpect(t, c.VerifyMAC(ctx, name, msg, o.mac.MAC, nil), custodian.ErrInvalidMAC)
					}
				}
				if o.secret != nil {
					s := custodian.Reveal(opMust(c.Agree(ctx, name, peer, &custodian.AgreeOptions{Version: v}))(t))
					if !bytes.Equal(s, o.secret) {
						t.Errorf("agreement with version %d changed after rotation", v)
					}
				}
				if o.pub != nil {
					if p := opMust(c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Version: v}))(t); !bytes.Equal(p, o.pub) {
						t.Errorf("public key of version %d changed after rotation", v)
					}
				}
				e := custodian.Reveal(opMust(c.ExportKey(ctx, name, &custodian.ExportOptions{Version: v}))(t))
				if !bytes.Equal(e, o.export) {
					t.Errorf("export of version %d changed after rotation", v)
				}
				for j := range i {
					if bytes.Equal(olds[j].export, o.export) {
						t.Errorf("versions %d and %d have the same material", j+1, v)
					}
				}
			}
			_, err := c.ExportKey(ctx, name, &custodian.ExportOptions{Version: 4})
			opExpect(t, err, custodian.ErrInvalidArgument)
			if caps.public {
				_, err = c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Version: 4})
				opExpect(t, err, custodian.ErrInvalidArgument)
			}
		})
	}
	c := opNewCustodian(t, nil)
	_, err := c.RotateKey(t.Context(), "missing")
	opExpect(t, err, custodian.ErrKeyNotFound)
}

// opDHOrECDHPeer returns a fresh peer public key (DER) for an agreement
// type, made outside the Custodian for ECDH and inside it for DH.
func opDHOrECDHPeer(t testing.TB, c *custodian.Custodian, typ custodian.KeyType) []byte {
	t.Helper()
	if !opTypes[typ].agree {
		return nil
	}
	if curve := opCurve(typ); curve != nil {
		k := opMust(curve.GenerateKey(rand.Reader))(t)
		return opMust(x509.MarshalPKIXPublicKey(k.PublicKey()))(t)
	}
	name := opName("peer-of/" + string(typ))
	opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
	return opMust(c.PublicKey(t.Context(), name, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
}

func TestOpUpdate(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := opNewCustodian(t, clock)
	ctx := t.Context()

	t.Run("description and labels", func(t *testing.T) {
		opCreate(t, c, "upd/meta", &custodian.CreateOptions{Description: "old", Labels: map[string]string{"a": "1", "b": "2"}})
		desc := "new description"
		k := opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Description: &desc}))(t)
		if k.Description != desc || len(k.Labels) != 2 {
			t.Errorf("after description update: %q %v", k.Description, k.Labels)
		}
		k = opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{"c": "3"}}))(t)
		if !opMapsEqual(k.Labels, map[string]string{"c": "3"}) || k.Description != desc {
			t.Errorf("labels are replaced, not merged: %v", k.Labels)
		}
		k = opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{}}))(t)
		if len(k.Labels) != 0 {
			t.Errorf("an empty label map removes every label: %v", k.Labels)
		}
		got := opMust(c.GetKey(ctx, "upd/meta"))(t)
		if got.Description != desc || len(got.Labels) != 0 {
			t.Errorf("GetKey after updates = %q %v", got.Description, got.Labels)
		}
		bad := strings.Repeat("x", custodian.MaxDescriptionLength+1)
		_, err := c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Description: &bad})
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{"9bad": "x"}})
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.UpdateKey(ctx, "upd/missing", custodian.KeyUpdate{Description: &desc})
		opExpect(t, err, custodian.ErrKeyNotFound)
	})

	t.Run("min decryption version and rewrap", func(t *testing.T) {
		name := "upd/minver"
		opCreate(t, c, name, nil)
		aad := []byte("row 7")
		v1 := opMust(c.Encrypt(ctx, name, []byte("from v1"), &custodian.EncryptOptions{AssociatedData: aad}))(t)
		v1raw := opMust(c.EncryptRaw(ctx, name, []byte("raw v1"), nil))(t)
		opMust(c.RotateKey(ctx, name))(t)
		v2 := opMust(c.Encrypt(ctx, name, []byte("from v2"), nil))(t)
		opMust(c.RotateKey(ctx, name))(t)

		// Rewrap before raising the minimum: the old ciphertext moves to v3.
		re := opMust(c.Rewrap(ctx, v1, &custodian.RewrapOptions{AssociatedData: aad}))(t)
		for _, bad := range []int{0, 4, -1} {
			_, err := c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &bad})
			opExpect(t, err, custodian.ErrInvalidArgument)
		}
		three := 3
		k := opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &three}))(t)
		if k.MinDecryptionVersion != 3 || k.PrimaryVersion != 3 {
			t.Fatalf("min decryption version = %d, primary %d", k.MinDecryptionVersion, k.PrimaryVersion)
		}
		_, err := c.Decrypt(ctx, v1, &custodian.DecryptOptions{AssociatedData: aad})
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		_, err = c.Decrypt(ctx, v2, nil)
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		_, err = c.DecryptRaw(ctx, name, v1raw, &custodian.RawOptions{Version: 1})
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		// A tampered old ciphertext is still ErrInvalidCiphertext: policy
		// applies only to genuine ciphertexts.
		forged := slices.Clone(v1)
		forged[len(forged)-1] ^= 1
		_, err = c.Decrypt(ctx, forged, &custodian.DecryptOptions{AssociatedData: aad})
		opExpect(t, err, custodian.ErrInvalidCiphertext)
		// Rewrap of a ciphertext below the minimum is refused too.
		_, err = c.Rewrap(ctx, v2, nil)
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)

		if pt := opMust(c.Decrypt(ctx, re, &custodian.DecryptOptions{AssociatedData: aad}))(t); string(pt) != "from v1" {
			t.Errorf("rewrapped ciphertext decrypts to %q", pt)
		}
		_, err = c.Decrypt(ctx, re, nil)
		opExpect(t, err, custodian.ErrInvalidCiphertext) // Rewrap kept the associated data

		// Lowering the minimum makes old versions usable again.
		one := 1
		opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &one}))(t)
		if pt := opMust(c.Decrypt(ctx, v2, nil))(t); string(pt) != "from v2" {
			t.Errorf("v2 after lowering the minimum: %q", pt)
		}
		re2 := opMust(c.Rewrap(ctx, v2, nil))(t)
		opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &three}))(t)
		if pt := opMust(c.Decrypt(ctx, re2, nil))(t); string(pt) != "from v2" {
			t.Errorf("rewrapped v2 decrypts to %q", pt)
		}
	})

	t.Run("min decryption version for signatures and macs", func(t *testing.T) {
		for _, typ := range []custodian.KeyType{custodian.Ed25519, custodian.HMACSHA256} {
			name := "upd/minver-" + string(typ)
			opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
			msg := []byte("m")
			var sig *custodian.Signature
			var mac *custodian.MAC
			if typ == custodian.Ed25519 {
				sig = opMust(c.Sign(ctx, name, msg, nil))(t)
			} else {
				mac = opMust(c.MAC(ctx, name, msg, nil))(t)
			}
			opMust(c.RotateKey(ctx, name))(t)
			two := 2
			opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &two}))(t)
			if sig != nil {
				err := c.Verify(ctx, name, msg, sig.Signature, &custodian.SignOptions{Version: 1})
				opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
			} else {
				err := c.VerifyMAC(ctx, name, msg, mac.MAC, &custodian.MACOptions{Version: 1})
				opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
			}
		}
	})

	t.Run("rotation period", func(t *testing.T) {
		name := "upd/period"
		created := clock()
		k := opCreate(t, c, name, &custodian.CreateOptions{RotationPeriod: 48 * time.Hour})
		if want := created.Add(48 * time.Hour); !k.NextRotation().Equal(want) {
			t.Errorf("NextRotation = %v, want %v", k.NextRotation(), want)
		}
		advance(5 * time.Hour)
		day := 24 * time.Hour
		k = opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &day}))(t)
		if k.RotationPeriod != day || !k.NextRotation().Equal(created.Add(day)) {
			t.Errorf("after update: period %v next %v", k.RotationPeriod, k.NextRotation())
		}
		if !k.Updated.Equal(created.Add(5 * time.Hour)) {
			t.Errorf("Updated = %v, want the clock's time %v", k.Updated, created.Add(5*time.Hour))
		}
		advance(time.Hour)
		k = opMust(c.RotateKey(ctx, name))(t)
		if want := created.Add(6*time.Hour + day); !k.NextRotation().Equal(want) {
			t.Errorf("NextRotation after rotating = %v, want %v", k.NextRotation(), want)
		}
		short := custodian.MinRotationPeriod - time.Minute
		_, err := c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &short})
		opExpect(t, err, custodian.ErrInvalidArgument)
		off := time.Duration(0)
		k = opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &off}))(t)
		if k.RotationPeriod != 0 || !k.NextRotation().IsZero() {
			t.Errorf("rotation off: period %v next %v", k.RotationPeriod, k.NextRotation())
		}
	})
}

func opMapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// --- encrypt and decrypt -----------------------------------------------------

// opPayload returns n bytes of a recognisable pattern.
func opPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestOpEncryptDecrypt(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	other := f.key(t, custodian.ChaCha20Poly1305) // an existing key of another name
	for _, typ := range opFixtureTypes() {
		for _, alg := range opTypes[typ].enc {
			t.Run(string(alg), func(t *testing.T) {
				name := f.key(t, typ)
				other := other
				if name == other {
					other = f.key(t, custodian.AES256GCM)
				}
				sizes := []int{0, 1, 15, 16, 17, 1000, 1 << 20}
				if strings.HasPrefix(string(typ), "rsa-") {
					sizes = []int{0, 1, 62}
				}
				for _, n := range sizes {
					for _, aad := range [][]byte{nil, []byte("tenant=42;table=users")} {
						opCheckEncrypt(t, f.c, name, other, alg, opPayload(n), aad)
					}
				}
				// The default algorithm is the first one, and the header names
				// it, the key's id and version 1 (docs/formats.md).
				ct := opMust(f.c.Encrypt(ctx, name, []byte("default"), nil))(t)
				if got := opMust(f.c.Decrypt(ctx, ct, nil))(t); string(got) != "default" {
					t.Errorf("default algorithm round trip: %q", got)
				}
				k := opMust(f.c.GetKey(ctx, name))(t)
				if ct[0] != 0x01 || ct[1] != opCodes[opTypes[typ].enc[0]] || hex.EncodeToString(ct[2:14]) != k.ID || !bytes.Equal(ct[14:18], []byte{0, 0, 0, 1}) {
					t.Errorf("header % x, want 01, code %02x, key id %s, version 1", ct[:18], opCodes[opTypes[typ].enc[0]], k.ID)
				}
			})
		}
	}
}

// opCheckEncrypt round-trips one plaintext and checks every refusal.
func opCheckEncrypt(t *testing.T, c *custodian.Custodian, name, other string, alg custodian.Algorithm, pt, aad []byte) {
	t.Helper()
	ctx := t.Context()
	opts := &custodian.EncryptOptions{Algorithm: alg, AssociatedData: aad}
	// rsa-pkcs1v15 has no self-describing form (TestTamperRSAOAEPDowngrade).
	if alg == custodian.AlgRSAPKCS1v15 {
		_, err := c.Encrypt(ctx, name, pt, opts)
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		return
	}
	ct := opMust(c.Encrypt(ctx, name, pt, opts))(t)
	if len(ct) < 18 || ct[0] != 0x01 || ct[1] != opCodes[alg] {
		t.Fatalf("%s: header starts % x, want format 01 and algorithm code %02x", alg, ct[:min(2, len(ct))], opCodes[alg])
	}
	got := opMust(c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad}))(t)
	if !bytes.Equal(got, pt) {
		t.Fatalf("%s, %d bytes, aad %q: decrypts to %d other bytes", alg, len(pt), aad, len(got))
	}
	got = opMust(c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad, Key: name}))(t)
	if !bytes.Equal(got, pt) {
		t.Fatalf("%s: decrypt with the right Key differs", alg)
	}
	ct2 := opMust(c.Encrypt(ctx, name, pt, opts))(t)
	if bytes.Equal(ct, ct2) {
		t.Errorf("%s: two encryptions of the same plaintext are equal", alg)
	}
	wrong := [][]byte{[]byte("tenant=43;table=users"), append(slices.Clone(aad), 0)}
	if aad != nil {
		wrong = append(wrong, nil, aad[:len(aad)-1])
	}
	for _, w := range wrong {
		_, err := c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: w})
		opExpect(t, err, custodian.ErrInvalidCiphertext)
	}
	for _, k := range []string{other, "no-such-key"} {
		_, err := c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad, Key: k})
		opExpect(t, err, custodian.ErrInvalidCiphertext)
	}
}

func TestOpEncryptRefusals(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	gcm := f.key(t, custodian.AES256GCM)
	rsaKey := f.key(t, custodian.RSA2048)
	for _, tc := range []struct {
		name string
		alg  custodian.Algorithm
	}{
		{gcm, custodian.AlgChaCha20Poly1305},
		{gcm, custodian.AlgAES256CBC},
		{gcm, "aes128-gcm"},
		{rsaKey, custodian.AlgAES256GCM},
		{rsaKey, custodian.AlgRSAPSSSHA256}, // a signature algorithm of the same key
		{f.key(t, custodian.HPKEX25519MLKEM768), custodian.AlgRSAOAEPSHA256},
	} {
		_, err := f.c.Encrypt(ctx, tc.name, []byte("x"), &custodian.EncryptOptions{Algorithm: tc.alg})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
		_, err = f.c.EncryptRaw(ctx, tc.name, []byte("x"), &custodian.RawOptions{Algorithm: tc.alg})
		opExpect(t, err, custodian.ErrUnsupportedOperation)
	}
	// RSA plaintext limits: k - 2*hLen - 2 for OAEP, k - 11 for PKCS #1 v1.5.
	for alg, max := range map[custodian.Algorithm]int{
		custodian.AlgRSAOAEPSHA256: 256 - 2*32 - 2, custodian.AlgRSAOAEPSHA1: 256 - 2*20 - 2, custodian.AlgRSAPKCS1v15: 256 - 11,
	} {
		if alg != custodian.AlgRSAPKCS1v15 {
			opMust(f.c.Encrypt(ctx, rsaKey, opPayload(max), &custodian.EncryptOptions{Algorithm: alg}))(t)
			_, err := f.c.Encrypt(ctx, rsaKey, opPayload(max+1), &custodian.EncryptOptions{Algorithm: alg})
			opExpect(t, err, custodian.ErrInvalidArgument)
		}
		opMust(f.c.EncryptRaw(ctx, rsaKey, opPayload(max), &custodian.RawOptions{Algorithm: alg}))(t)
		_, err := f.c.EncryptRaw(ctx, rsaKey, opPayload(max+1), &custodian.RawOptions{Algorithm: alg})
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	_, err := f.c.Encrypt(ctx, "no-such-key", []byte("x"), nil)
	opExpect(t, err, custodian.ErrKeyNotFound)
	for _, garbage := range [][]byte{nil, {}, {1}, opPayload(17), opPayload(100)} {
		_, err := f.c.Decrypt(ctx, garbage, nil)
		opExpect(t, err, custodian.ErrInvalidCiphertext)
	}
}

func TestOpOverhead(t *testing.T) {
	f := opShared(t)
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.ChaCha20Poly1305} {
		for _, n := range []int{0, 1, 31, 4096} {
			ct := opMust(f.c.Encrypt(t.Context(), f.key(t, typ), opPayload(n), nil))(t)
			// 18 header + 12 nonce + 16 tag = 46.
			if over := len(ct) - n; over > 48 {
				t.Errorf("%s overhead for %d bytes is %d, want <= 48", typ, n, over)
			}
		}
	}
}

// --- text form ---------------------------------------------------------------

func TestOpCiphertextText(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.AES256CBC, custodian.RSA2048, custodian.HPKEX25519MLKEM768} {
		ct := opMust(f.c.Encrypt(ctx, f.key(t, typ), []byte("text form"), &custodian.EncryptOptions{AssociatedData: []byte("ad")}))(t)
		s := ct.String()
		if !strings.HasPrefix(s, "kc1:") || strings.ContainsAny(s[4:], "+/=") {
			t.Errorf("%s text form %q is not kc1: and unpadded base64url", typ, s)
		}
		if raw, err := opB64URL.DecodeString(s[4:]); err != nil || !bytes.Equal(raw, ct) {
			t.Errorf("%s text form is not the base64url of the binary form", typ)
		}
		back := opMust(custodian.ParseCiphertext(s))(t)
		if !bytes.Equal(back, ct) {
			t.Errorf("%s: ParseCiphertext(String()) differs", typ)
		}
		if pt := opMust(f.c.Decrypt(ctx, back, &custodian.DecryptOptions{AssociatedData: []byte("ad")}))(t); string(pt) != "text form" {
			t.Errorf("%s: parsed ciphertext decrypts to %q", typ, pt)
		}
		mt := opMust(ct.MarshalText())(t)
		if string(mt) != s {
			t.Errorf("MarshalText = %q, want String()", mt)
		}

		type doc struct {
			Row int                  `json:"row"`
			CT  custodian.Ciphertext `json:"ct"`
		}
		j := opMust(json.Marshal(doc{Row: 7, CT: ct}))(t)
		if want := `{"row":7,"ct":"` + s + `"}`; string(j) != want {
			t.Errorf("JSON = %s, want %s", j, want)
		}
		var d doc
		if err := json.Unmarshal(j, &d); err != nil || !bytes.Equal(d.CT, ct) || d.Row != 7 {
			t.Errorf("JSON round trip: %v, equal %v", err, bytes.Equal(d.CT, ct))
		}
	}
	for _, bad := range []string{"", "kc1", "kc2:AQ", "KC1:AQ", "kc1:AQ==", "kc1:A", "kc1:a+b/", "kc1: AQ", "AQEB"} {
		_, err := custodian.ParseCiphertext(bad)
		opExpect(t, err, custodian.ErrInvalidCiphertext)
		var ct custodian.Ciphertext
		if err := json.Unmarshal([]byte(`"`+bad+`"`), &ct); err == nil {
			t.Errorf("json.Unmarshal accepted %q", bad)
		}
	}
	// The empty text form parses (to an empty ciphertext) but never decrypts.
	empty := opMust(custodian.ParseCiphertext("kc1:"))(t)
	_, err := f.c.Decrypt(ctx, empty, nil)
	opExpect(t, err, custodian.ErrInvalidCiphertext)
}

// --- raw forms ---------------------------------------------------------------

func TestOpRawForms(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range opFixtureTypes() {
		for _, alg := range opTypes[typ].enc {
			t.Run(string(alg), func(t *testing.T) {
				name := f.key(t, typ)
				material := custodian.Reveal(opMust(f.c.ExportKey(ctx, name, nil))(t))
				for _, aad := range [][]byte{nil, []byte("raw aad")} {
					pt := []byte("raw form plaintext")
					opts := &custodian.RawOptions{Algorithm: alg, AssociatedData: aad}
					if aad != nil && (alg == custodian.AlgAES256CBC || alg == custodian.AlgRSAPKCS1v15) {
						_, err := f.c.EncryptRaw(ctx, name, pt, opts)
						opExpect(t, err, custodian.ErrUnsupportedOperation)
						continue
					}
					raw := opMust(f.c.EncryptRaw(ctx, name, pt, opts))(t)
					if got := opMust(f.c.DecryptRaw(ctx, name, raw, opts))(t); !bytes.Equal(got, pt) {
						t.Fatalf("raw round trip: %q", got)
					}
					_, err := f.c.DecryptRaw(ctx, name, raw, &custodian.RawOptions{Algorithm: alg, AssociatedData: []byte("other")})
					opExpect(t, err, custodian.ErrInvalidCiphertext)
					// The raw form carries no header: the self-describing
					// Decrypt must not accept it.
					_, err = f.c.Decrypt(ctx, raw, &custodian.DecryptOptions{AssociatedData: aad})
					opExpect(t, err, custodian.ErrInvalidCiphertext)
					// And the raw form is what the standard library reads.
					got, err := opStdOpenRaw(t, alg, material, raw, aad)
					if err != nil || !bytes.Equal(got, pt) {
						t.Errorf("the standard library cannot open the raw %s form: %v", alg, err)
					}
					// The other way round: made by the standard library, opened by DecryptRaw.
					var pubDER []byte
					if opTypes[typ].public {
						pubDER = opMust(f.c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
					}
					std := opStdSealRaw(t, alg, material, pubDER, pt, aad)
					if got := opMust(f.c.DecryptRaw(ctx, name, std, opts))(t); !bytes.Equal(got, pt) {
						t.Errorf("DecryptRaw of a standard-library %s ciphertext = %q", alg, got)
					}
				}
			})
		}
	}
	_, err := f.c.EncryptRaw(ctx, f.key(t, custodian.Ed25519), []byte("x"), nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = f.c.EncryptRaw(ctx, f.key(t, custodian.AES256GCM), []byte("x"), &custodian.RawOptions{Version: 2})
	opExpect(t, err, custodian.ErrInvalidArgument)
}

// opStdOpenRaw opens a raw ciphertext with the standard library, given the
// exported key material.
func opStdOpenRaw(t testing.TB, alg custodian.Algorithm, material, raw, aad []byte) ([]byte, error) {
	t.Helper()
	switch alg {
	case custodian.AlgAES256GCM, custodian.AlgChaCha20Poly1305:
		a := opAEAD(t, alg, material)
		if len(raw) < a.NonceSize() {
			return nil, errors.New("short")
		}
		return a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], aad)
	case custodian.AlgAES256CBC:
		return opCBCDecrypt(material, raw)
	case custodian.AlgRSAOAEPSHA256, custodian.AlgRSAOAEPSHA1, custodian.AlgRSAPKCS1v15:
		priv := opMust(x509.ParsePKCS8PrivateKey(material))(t).(*rsa.PrivateKey)
		switch alg {
		case custodian.AlgRSAOAEPSHA256:
			return rsa.DecryptOAEP(sha256.New(), nil, priv, raw, aad)
		case custodian.AlgRSAOAEPSHA1:
			return rsa.DecryptOAEP(crypto.SHA1.New(), nil, priv, raw, aad)
		}
		return rsa.DecryptPKCS1v15(nil, priv, raw)
	case custodian.AlgHPKEX25519MLKEM768:
		k := opMust(hpke.MLKEM768X25519().NewPrivateKey(material))(t)
		const encSize = 1088 + 32
		if len(raw) < encSize {
			return nil, errors.New("short")
		}
		r, err := hpke.NewRecipient(raw[:encSize], k, hpke.HKDFSHA256(), hpke.AES256GCM(), nil)
		if err != nil {
			return nil, err
		}
		return r.Open(aad, raw[encSize:])
	}
	return nil, fmt.Errorf("no standard-library opener for %s", alg)
}

// opStdSealRaw makes a raw ciphertext with the standard library.
func opStdSealRaw(t testing.TB, alg custodian.Algorithm, material, pubDER, pt, aad []byte) []byte {
	t.Helper()
	switch alg {
	case custodian.AlgAES256GCM, custodian.AlgChaCha20Poly1305:
		a := opAEAD(t, alg, material)
		nonce := make([]byte, a.NonceSize())
		rand.Read(nonce)
		return a.Seal(nonce, nonce, pt, aad)
	case custodian.AlgAES256CBC:
		return opCBCEncrypt(t, material, pt)
	case custodian.AlgRSAOAEPSHA256, custodian.AlgRSAOAEPSHA1, custodian.AlgRSAPKCS1v15:
		pub := opMust(x509.ParsePKIXPublicKey(pubDER))(t).(*rsa.PublicKey)
		switch alg {
		case custodian.AlgRSAOAEPSHA256:
			return opMust(rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, pt, aad))(t)
		case custodian.AlgRSAOAEPSHA1:
			return opMust(rsa.EncryptOAEP(crypto.SHA1.New(), rand.Reader, pub, pt, aad))(t)
		}
		return opMust(rsa.EncryptPKCS1v15(rand.Reader, pub, pt))(t)
	case custodian.AlgHPKEX25519MLKEM768:
		pub := opMust(hpke.MLKEM768X25519().NewPublicKey(pubDER))(t)
		enc, s, err := hpke.NewSender(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(enc, opMust(s.Seal(aad, pt))(t)...)
	}
	t.Fatalf("no standard-library sealer for %s", alg)
	return nil
}

func opAEAD(t testing.TB, alg custodian.Algorithm, key []byte) cipher.AEAD {
	t.Helper()
	if alg == custodian.AlgChaCha20Poly1305 {
		return opMust(chacha20poly1305.New(key))(t)
	}
	return opMust(cipher.NewGCM(opMust(aes.NewCipher(key))(t)))(t)
}

// opCBCEncrypt is the seed's format: IV || AES-256-CBC(PKCS7(pt)).
func opCBCEncrypt(t testing.TB, key, pt []byte) []byte {
	t.Helper()
	n := 16 - len(pt)%16
	padded := append(slices.Clone(pt), bytes.Repeat([]byte{byte(n)}, n)...)
	out := make([]byte, 16+len(padded))
	rand.Read(out[:16])
	cipher.NewCBCEncrypter(opMust(aes.NewCipher(key))(t), out[:16]).CryptBlocks(out[16:], padded)
	return out
}

func opCBCDecrypt(key, raw []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(raw) < 32 || len(raw)%16 != 0 {
		return nil, errors.New("bad length")
	}
	pt := make([]byte, len(raw)-16)
	cipher.NewCBCDecrypter(block, raw[:16]).CryptBlocks(pt, raw[16:])
	n := int(pt[len(pt)-1])
	if n < 1 || n > 16 || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("bad padding")
	}
	return pt[:len(pt)-n], nil
}

// --- rewrap --------------------------------------------------------------------

func TestOpRewrap(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.AES256CBC, custodian.HPKEX25519MLKEM768} {
		name := "rewrap/" + string(typ)
		opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
		aad := []byte("bound")
		old := opMust(c.Encrypt(ctx, name, []byte("secret"), &custodian.EncryptOptions{AssociatedData: aad}))(t)
		// Rewrap under the same version still gives a fresh ciphertext.
		same := opMust(c.Rewrap(ctx, old, &custodian.RewrapOptions{AssociatedData: aad, Key: name}))(t)
		if bytes.Equal(same, old) {
			t.Errorf("%s: Rewrap returned the input", typ)
		}
		opMust(c.RotateKey(ctx, name))(t)
		opMust(c.RotateKey(ctx, name))(t)
		re := opMust(c.Rewrap(ctx, old, &custodian.RewrapOptions{AssociatedData: aad}))(t)
		if len(re) < 18 || !bytes.Equal(re[:14], old[:14]) || !bytes.Equal(re[14:18], []byte{0, 0, 0, 3}) {
			t.Errorf("%s: rewrapped header % x, want the old algorithm and key id with version 3", typ, re[:min(18, len(re))])
		}
		if pt := opMust(c.Decrypt(ctx, re, &custodian.DecryptOptions{AssociatedData: aad}))(t); string(pt) != "secret" {
			t.Errorf("%s: rewrapped ciphertext decrypts to %q", typ, pt)
		}
		_, err := c.Rewrap(ctx, old, nil)
		opExpect(t, err, custodian.ErrInvalidCiphertext)
		_, err = c.Rewrap(ctx, old, &custodian.RewrapOptions{AssociatedData: aad, Key: "someone-else"})
		opExpect(t, err, custodian.ErrInvalidCiphertext)
		_, err = c.Rewrap(ctx, []byte("garbage"), nil)
		opExpect(t, err, custodian.ErrInvalidCiphertext)
	}
}

// --- data keys -----------------------------------------------------------------

func TestOpDataKeys(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.AES256CBC, custodian.RSA2048, custodian.HPKEX25519MLKEM768} {
		name := f.key(t, typ)
		dk := opMust(f.c.GenerateDataKey(ctx, name, nil))(t)
		pt := custodian.Reveal(dk.Plaintext)
		if len(pt) != 32 || bytes.Equal(pt, make([]byte, 32)) {
			t.Errorf("%s: default data key is %d bytes (all zero: %v)", typ, len(pt), bytes.Equal(pt, make([]byte, 32)))
		}
		if got := opMust(f.c.Decrypt(ctx, dk.Ciphertext, nil))(t); !bytes.Equal(got, pt) {
			t.Errorf("%s: data key ciphertext decrypts to other bytes", typ)
		}
		if s := fmt.Sprintf("%v %+v %x %s", dk, dk.Plaintext, dk.Plaintext, dk.Plaintext); strings.Contains(s, hex.EncodeToString(pt)) {
			t.Errorf("%s: formatting a data key reveals it", typ)
		}
		for _, n := range []int{1, 16, 64, 190} {
			dk := opMust(f.c.GenerateDataKey(ctx, name, &custodian.DataKeyOptions{Bytes: n, AssociatedData: []byte("ctx")}))(t)
			if custodian.Reveal(dk.Plaintext) == nil || len(custodian.Reveal(dk.Plaintext)) != n {
				t.Errorf("%s: data key of %d bytes has %d", typ, n, len(custodian.Reveal(dk.Plaintext)))
			}
			if got := opMust(f.c.Decrypt(ctx, dk.Ciphertext, &custodian.DecryptOptions{AssociatedData: []byte("ctx")}))(t); !bytes.Equal(got, custodian.Reveal(dk.Plaintext)) {
				t.Errorf("%s: %d-byte data key does not decrypt to its plaintext", typ, n)
			}
			_, err := f.c.Decrypt(ctx, dk.Ciphertext, nil)
			opExpect(t, err, custodian.ErrInvalidCiphertext)
		}
		ct := opMust(f.c.GenerateDataKeyWithoutPlaintext(ctx, name, nil))(t)
		if got := opMust(f.c.Decrypt(ctx, ct, nil))(t); len(got) != 32 {
			t.Errorf("%s: data key without plaintext decrypts to %d bytes", typ, len(got))
		}
	}
	gcm := f.key(t, custodian.AES256GCM)
	largest := opMust(f.c.GenerateDataKey(ctx, gcm, &custodian.DataKeyOptions{Bytes: custodian.MaxRandomBytes}))(t)
	if len(custodian.Reveal(largest.Plaintext)) != custodian.MaxRandomBytes {
		t.Error("data key of MaxRandomBytes has the wrong length")
	}
	for _, n := range []int{-1, custodian.MaxRandomBytes + 1} {
		_, err := f.c.GenerateDataKey(ctx, gcm, &custodian.DataKeyOptions{Bytes: n})
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = f.c.GenerateDataKeyWithoutPlaintext(ctx, gcm, &custodian.DataKeyOptions{Bytes: n})
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	_, err := f.c.GenerateDataKey(ctx, f.key(t, custodian.HMACSHA256), nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = f.c.GenerateDataKey(ctx, "no-such-key", nil)
	opExpect(t, err, custodian.ErrKeyNotFound)
	a := opMust(f.c.GenerateDataKey(ctx, gcm, nil))(t)
	b := opMust(f.c.GenerateDataKey(ctx, gcm, nil))(t)
	if a.Plaintext.Equal(b.Plaintext) {
		t.Error("two data keys are equal")
	}
}

// --- sign and verify -------------------------------------------------------------

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

func TestOpAgreeECDH(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.X25519, custodian.ECDHP256, custodian.ECDHP384, custodian.ECDHP521} {
		t.Run(string(typ), func(t *testing.T) {
			name := f.key(t, typ)
			curve := opCurve(typ)
			ours := opECDHPublic(t, f.c, name, 0)
			if ours.Curve() != curve {
				t.Fatalf("public key is on %v, want %v", ours.Curve(), curve)
			}
			peer := opMust(curve.GenerateKey(rand.Reader))(t)
			want := opMust(peer.ECDH(ours))(t)
			for form, b := range opPeerForms(t, peer.PublicKey()) {
				s := opMust(f.c.Agree(ctx, name, b, nil))(t)
				if !bytes.Equal(custodian.Reveal(s), want) {
					t.Errorf("peer as %s: shared secret differs from crypto/ecdh's", form)
				}
				if strings.Contains(fmt.Sprintf("%v %+v %#v %x", s, s, s, s), hex.EncodeToString(want)[:16]) {
					t.Errorf("formatting the shared secret reveals it")
				}
			}
			other := ecdh.P256()
			if typ == custodian.ECDHP256 {
				other = ecdh.P384()
			}
			otherKey := opMust(other.GenerateKey(rand.Reader))(t)
			edPub, _, _ := ed25519.GenerateKey(rand.Reader)
			edDER := opMust(x509.MarshalPKIXPublicKey(edPub))(t)
			badPeers := map[string][]byte{
				"other curve der": opMust(x509.MarshalPKIXPublicKey(otherKey.PublicKey()))(t),
				"other curve raw": otherKey.PublicKey().Bytes(),
				"ed25519 spki":    edDER,
				"garbage":         opPayload(33),
				"empty":           nil,
				"private pem":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: opPayload(40)}),
			}
			if typ == custodian.X25519 {
				badPeers["low order point"] = make([]byte, 32) // all-zero shared secret
			} else {
				ident := make([]byte, len(peer.PublicKey().Bytes()))
				ident[0] = 4
				badPeers["off-curve point"] = ident
			}
			for what, b := range badPeers {
				_, err := f.c.Agree(ctx, name, b, nil)
				if err == nil {
					t.Errorf("Agree accepted a peer key that is %s", what)
					continue
				}
				opExpect(t, err, custodian.ErrInvalidArgument)
			}
		})
	}
}

// TestOpAgreeBothSides: two Custodian keys of one type agree on the same
// secret, ECDH and DH alike.
func TestOpAgreeBothSides(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	c := opNewCustodian(t, nil)
	for _, typ := range opFixtureTypes() {
		if !opTypes[typ].agree {
			continue
		}
		t.Run(string(typ), func(t *testing.T) {
			a := f.key(t, typ)
			b := "bob/" + string(typ)
			opCreate(t, c, b, &custodian.CreateOptions{Type: typ})
			pubA := opMust(f.c.PublicKey(ctx, a, nil))(t)
			pubB := opMust(c.PublicKey(ctx, b, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
			sAB := custodian.Reveal(opMust(f.c.Agree(ctx, a, pubB, nil))(t))
			sBA := custodian.Reveal(opMust(c.Agree(ctx, b, pubA, nil))(t))
			if !bytes.Equal(sAB, sBA) || len(sAB) == 0 {
				t.Fatalf("the two sides disagree: %d and %d bytes", len(sAB), len(sBA))
			}
			if opIsDH(typ) && len(sAB) != opDHBytes(typ) {
				t.Errorf("DH secret is %d bytes, want the prime's length %d", len(sAB), opDHBytes(typ))
			}
			// A key agreeing with a key of another type is refused.
			otherType := custodian.X25519
			if typ == custodian.X25519 {
				otherType = custodian.ECDHP256
			}
			if opIsDH(typ) {
				otherType = custodian.DHFFDHE3072
				if typ == custodian.DHFFDHE3072 {
					otherType = custodian.DHFFDHE2048
				}
			}
			otherPub := opMust(f.c.PublicKey(ctx, f.key(t, otherType), nil))(t)
			_, err := f.c.Agree(ctx, a, otherPub, nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = f.c.Agree(ctx, a, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
		})
	}
}

func TestOpDeriveKey(t *testing.T) {
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.X25519, custodian.ECDHP384, custodian.DHFFDHE2048} {
		t.Run(string(typ), func(t *testing.T) {
			c := opNewCustodian(t, nil)
			opCreate(t, c, "alice", &custodian.CreateOptions{Type: typ})
			opCreate(t, c, "bob", &custodian.CreateOptions{Type: typ})
			pubA := opMust(c.PublicKey(ctx, "alice", nil))(t)
			pubB := opMust(c.PublicKey(ctx, "bob", nil))(t)
			salt, info := []byte("salt"), []byte("app v1 session")
			ka := opMust(c.DeriveKey(ctx, "alice", pubB, "alice/session", &custodian.DeriveOptions{
				Salt: salt, Info: info, Key: custodian.CreateOptions{Exportable: true, Description: "derived"},
			}))(t)
			if ka.Type != custodian.AES256GCM || !ka.Exportable || ka.Description != "derived" {
				t.Errorf("derived key: %s exportable %v %q", ka.Type, ka.Exportable, ka.Description)
			}
			opMust(c.DeriveKey(ctx, "bob", pubA, "bob/session", &custodian.DeriveOptions{
				Salt: salt, Info: info, Key: custodian.CreateOptions{Type: custodian.AES256GCM, Exportable: true},
			}))(t)
			// The derived key encrypts.
			ct := opMust(c.Encrypt(ctx, "alice/session", []byte("hello bob"), nil))(t)
			if pt := opMust(c.Decrypt(ctx, ct, nil))(t); string(pt) != "hello bob" {
				t.Errorf("derived key round trip: %q", pt)
			}
			// Both sides hold the same key: what one encrypts the other decrypts.
			raw := opMust(c.EncryptRaw(ctx, "alice/session", []byte("hello bob"), &custodian.RawOptions{AssociatedData: info}))(t)
			if pt := opMust(c.DecryptRaw(ctx, "bob/session", raw, &custodian.RawOptions{AssociatedData: info}))(t); string(pt) != "hello bob" {
				t.Errorf("bob decrypts alice's message as %q", pt)
			}
			ea := opMust(c.ExportKey(ctx, "alice/session", nil))(t)
			eb := opMust(c.ExportKey(ctx, "bob/session", nil))(t)
			if !ea.Equal(eb) || ea.Len() != 32 {
				t.Errorf("derived keys differ or are not 32 bytes")
			}
			// And it is HKDF-SHA-256 of the shared secret (RFC 5869).
			shared := custodian.Reveal(opMust(c.Agree(ctx, "alice", pubB, nil))(t))
			want := opMust(hkdf.Key(sha256.New, shared, salt, string(info), 32))(t)
			if !bytes.Equal(custodian.Reveal(ea), want) {
				t.Error("derived key is not HKDF-SHA-256(shared, salt, info)")
			}
			// Other salt or info, other key.
			opMust(c.DeriveKey(ctx, "bob", pubA, "bob/other", &custodian.DeriveOptions{Info: []byte("v2"), Key: custodian.CreateOptions{Exportable: true}}))(t)
			if opMust(c.ExportKey(ctx, "bob/other", nil))(t).Equal(eb) {
				t.Error("a different info derived the same key")
			}

			_, err := c.DeriveKey(ctx, "alice", pubB, "alice/cbc", &custodian.DeriveOptions{Key: custodian.CreateOptions{Type: custodian.AES256CBC}})
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = c.DeriveKey(ctx, "alice", pubB, "alice/session", nil)
			opExpect(t, err, custodian.ErrKeyExists)
			_, err = c.DeriveKey(ctx, "alice", []byte("junk"), "alice/junk", nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = c.GetKey(ctx, "alice/junk")
			opExpect(t, err, custodian.ErrKeyNotFound)
			_, err = c.DeriveKey(ctx, "alice", pubB, "bad name!", nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
		})
	}
}

// --- public keys ----------------------------------------------------------------------

func TestOpPublicKey(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, r := range opFixtureKeys() {
		typ := r.typ
		caps := opKeyCaps(typ, r.usage)
		t.Run(r.String(), func(t *testing.T) {
			name := f.keyOf(t, r)
			if !caps.public {
				for _, format := range []custodian.PublicKeyFormat{custodian.PEM, custodian.DER} {
					_, err := f.c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: format})
					opExpect(t, err, custodian.ErrUnsupportedOperation)
				}
				return
			}
			pemBytes := opMust(f.c.PublicKey(ctx, name, nil))(t)
			der := opMust(f.c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
			if explicit := opMust(f.c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: custodian.PEM}))(t); !bytes.Equal(explicit, pemBytes) {
				t.Error("PEM and the default format differ")
			}
			block, rest := pem.Decode(pemBytes)
			if block == nil || len(rest) != 0 || !bytes.Equal(block.Bytes, der) {
				t.Fatalf("PEM is not one block holding the DER form: %q", pemBytes)
			}
			_, err := f.c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: "jwk"})
			opExpect(t, err, custodian.ErrInvalidArgument)
			if caps.rawPub {
				if block.Type != "HPKE PUBLIC KEY" || len(der) != 1184+32 {
					t.Errorf("HPKE public key: block %q, %d bytes, want HPKE PUBLIC KEY of 1216", block.Type, len(der))
				}
				if _, err := hpke.MLKEM768X25519().NewPublicKey(der); err != nil {
					t.Errorf("crypto/hpke rejects the public key: %v", err)
				}
				return
			}
			if block.Type != "PUBLIC KEY" {
				t.Errorf("PEM block type %q, want PUBLIC KEY", block.Type)
			}
			if opIsDH(typ) {
				var spki opSPKI
				if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) != 0 {
					t.Fatalf("DH public key is not SubjectPublicKeyInfo: %v", err)
				}
				if !spki.Algorithm.Algorithm.Equal(opOIDDHKeyAgreement) && !spki.Algorithm.Algorithm.Equal(opOIDDHPublicNumber) {
					t.Errorf("DH public key algorithm %v", spki.Algorithm.Algorithm)
				}
				return
			}
			pub, err := x509.ParsePKIXPublicKey(der)
			if err != nil {
				t.Fatalf("x509.ParsePKIXPublicKey: %v", err)
			}
			ok := false
			switch typ {
			case custodian.RSA2048:
				p, isRSA := pub.(*rsa.PublicKey)
				ok = isRSA && p.N.BitLen() == 2048 && p.E == 65537
			case custodian.ECDSAP256, custodian.ECDHP256:
				p, isEC := pub.(*ecdsa.PublicKey)
				ok = isEC && p.Curve == elliptic.P256()
			case custodian.ECDSAP384, custodian.ECDHP384:
				p, isEC := pub.(*ecdsa.PublicKey)
				ok = isEC && p.Curve == elliptic.P384()
			case custodian.ECDSAP521, custodian.ECDHP521:
				p, isEC := pub.(*ecdsa.PublicKey)
				ok = isEC && p.Curve == elliptic.P521()
			case custodian.Ed25519:
				_, ok = pub.(ed25519.PublicKey)
			case custodian.X25519:
				p, isECDH := pub.(*ecdh.PublicKey)
				ok = isECDH && p.Curve() == ecdh.X25519()
			}
			if !ok {
				t.Errorf("public key parses as %T, not a %s key", pub, typ)
			}
		})
	}
}

// --- export and import ----------------------------------------------------------------

func TestOpExportImport(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, r := range opFixtureKeys() {
		t.Run(r.String(), func(t *testing.T) {
			opCheckExportImport(t, f.c, f.keyOf(t, r), r.typ, r.usage)
		})
	}
	c := opNewCustodian(t, nil)
	opCreate(t, c, "locked", &custodian.CreateOptions{Type: custodian.Ed25519})
	_, err := c.ExportKey(ctx, "locked", nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.ExportKey(ctx, "no-such-key", nil)
	opExpect(t, err, custodian.ErrKeyNotFound)
}

// opCheckExportImport exports a key of usage u, checks the material's form,
// imports it under new names (DER and, for PKCS #8, PEM) with the same
// usage and checks that the imported key is the same key.
func opCheckExportImport(t *testing.T, c *custodian.Custodian, name string, typ custodian.KeyType, u custodian.KeyUsage) {
	ctx := t.Context()
	caps := opKeyCaps(typ, u)
	s := opMust(c.ExportKey(ctx, name, nil))(t)
	material := custodian.Reveal(s)
	if strings.Contains(fmt.Sprintf("%v|%+v|%#v|%x|%s", s, s, s, s, s), hex.EncodeToString(material)[:16]) {
		t.Error("formatting an exported key reveals it")
	}
	forms := map[string][]byte{"raw": material}
	switch {
	case typ == custodian.AES256GCM || typ == custodian.ChaCha20Poly1305 || typ == custodian.AES256CBC:
		if len(material) != 32 {
			t.Errorf("symmetric key is %d bytes", len(material))
		}
	case typ == custodian.HMACSHA256 || typ == custodian.HMACSHA512:
	case typ == custodian.HPKEX25519MLKEM768:
		k, err := hpke.MLKEM768X25519().NewPrivateKey(material)
		if err != nil {
			t.Fatalf("exported HPKE key does not load in crypto/hpke: %v", err)
		}
		if pub := opMust(c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Format: custodian.DER}))(t); !bytes.Equal(k.PublicKey().Bytes(), pub) {
			t.Error("exported HPKE private key does not match the public key")
		}
	case opIsDH(typ):
		forms = map[string][]byte{"der": material, "pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: material})}
	default:
		priv, err := x509.ParsePKCS8PrivateKey(material)
		if err != nil {
			t.Fatalf("exported key is not PKCS #8: %v", err)
		}
		pub := priv.(interface{ Public() crypto.PublicKey }).Public()
		want := opParsePublic(t, c, name, 0)
		if e, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !e.Equal(want) {
			t.Errorf("exported private key (%T) does not match the public key (%T)", pub, want)
		}
		forms = map[string][]byte{"der": material, "pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: material})}
	}
	for form, b := range forms {
		imported := opName("imported/" + form + "/" + name)
		k := opMust(c.ImportKey(ctx, imported, b, &custodian.CreateOptions{Type: typ, Usage: u, Exportable: true}))(t)
		if k.Type != typ || k.Usage != u || !k.Exportable || k.PrimaryVersion != 1 {
			t.Errorf("imported key: %+v, want type %s usage %s", k, typ, u)
		}
		if again := opMust(c.ExportKey(ctx, imported, nil))(t); !bytes.Equal(custodian.Reveal(again), material) {
			t.Errorf("%s import: exporting the imported key gives other material", form)
		}
		msg := []byte("same key after import")
		for _, alg := range caps.enc {
			raw := opMust(c.EncryptRaw(ctx, name, msg, &custodian.RawOptions{Algorithm: alg}))(t)
			if pt := opMust(c.DecryptRaw(ctx, imported, raw, &custodian.RawOptions{Algorithm: alg}))(t); !bytes.Equal(pt, msg) {
				t.Errorf("%s import: imported key decrypts %s to %q", form, alg, pt)
			}
		}
		if caps.sig != nil {
			sig := opMust(c.Sign(ctx, imported, msg, nil))(t)
			opExpect(t, c.Verify(ctx, name, msg, sig.Signature, nil), nil)
		}
		if caps.mac != "" {
			m1 := opMust(c.MAC(ctx, name, msg, nil))(t)
			m2 := opMust(c.MAC(ctx, imported, msg, nil))(t)
			if !bytes.Equal(m1.MAC, m2.MAC) {
				t.Errorf("%s import: MACs differ", form)
			}
		}
		if caps.agree {
			peer := opDHOrECDHPeer(t, c, typ)
			s1 := opMust(c.Agree(ctx, name, peer, nil))(t)
			s2 := opMust(c.Agree(ctx, imported, peer, nil))(t)
			if !s1.Equal(s2) {
				t.Errorf("%s import: agreements differ", form)
			}
		}
		if caps.public {
			p1 := opMust(c.PublicKey(ctx, name, nil))(t)
			p2 := opMust(c.PublicKey(ctx, imported, nil))(t)
			if !bytes.Equal(p1, p2) {
				t.Errorf("%s import: public keys differ", form)
			}
		}
	}
}

type opImportCase struct {
	typ      custodian.KeyType
	what     string
	material []byte
}

func TestOpImportValidation(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	pkcs8 := func(k any) []byte { return opMust(x509.MarshalPKCS8PrivateKey(k))(t) }
	rsa1024 := opMust(rsa.GenerateKey(rand.Reader, 1024))(t)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p256 := opMust(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))(t)
	p384 := opMust(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))(t)
	x := opMust(ecdh.X25519().GenerateKey(rand.Reader))(t)
	garbage := opPayload(300)
	garbagePEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: garbage})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsa1024)})

	cases := []opImportCase{
		{custodian.AES256GCM, "31 bytes", opPayload(31)},
		{custodian.AES256GCM, "33 bytes", opPayload(33)},
		{custodian.AES256GCM, "empty", nil},
		{custodian.ChaCha20Poly1305, "16 bytes", opPayload(16)},
		{custodian.AES256CBC, "24 bytes (an AES-192 key)", opPayload(24)},
		{custodian.AES256CBC, "PKCS #8", pkcs8(edPriv)},
		{custodian.HMACSHA256, "15 bytes", opPayload(15)},
		{custodian.HMACSHA512, "129 bytes", opPayload(129)},
		{custodian.RSA2048, "an RSA-1024 key", pkcs8(rsa1024)},
		{custodian.RSA2048, "PKCS #1 PEM", pkcs1PEM},
		{custodian.RSA2048, "an Ed25519 key", pkcs8(edPriv)},
		{custodian.RSA2048, "an ECDSA key", pkcs8(p256)},
		{custodian.ECDSAP256, "a P-384 key", pkcs8(p384)},
		{custodian.ECDSAP256, "an RSA key", pkcs8(rsa1024)},
		{custodian.ECDSAP256, "an X25519 key", pkcs8(x)},
		{custodian.ECDSAP384, "a P-256 key", pkcs8(p256)},
		{custodian.Ed25519, "an ECDSA key", pkcs8(p256)},
		{custodian.Ed25519, "an X25519 key", pkcs8(x)},
		{custodian.X25519, "an Ed25519 key", pkcs8(edPriv)},
		{custodian.X25519, "raw 32 bytes", opPayload(32)},
		{custodian.ECDHP256, "a P-384 key", pkcs8(p384)},
		{custodian.ECDHP384, "an X25519 key", pkcs8(x)},
		{custodian.HPKEX25519MLKEM768, "31 bytes", opPayload(31)},
		{custodian.HPKEX25519MLKEM768, "empty", nil},
		{custodian.HPKEX25519MLKEM768, "an X25519 PKCS #8 key", pkcs8(x)},
		{custodian.DHFFDHE2048, "an X25519 key", pkcs8(x)},
		{custodian.DHFFDHE2048, "an RSA key", pkcs8(rsa1024)},
	}
	for _, typ := range opFixtureTypes() {
		if typ != custodian.AES256GCM && typ != custodian.ChaCha20Poly1305 && typ != custodian.AES256CBC && typ != custodian.HMACSHA256 && typ != custodian.HMACSHA512 {
			cases = append(cases, opImportCase{typ, "garbage", garbage}, opImportCase{typ, "garbage PEM", garbagePEM})
		}
	}
	for i, tc := range cases {
		t.Run(string(tc.typ)+"/"+tc.what, func(t *testing.T) {
			if opIsDH(tc.typ) {
			}
			name := fmt.Sprintf("import-%d", i)
			_, err := c.ImportKey(ctx, name, tc.material, &custodian.CreateOptions{Type: tc.typ})
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = c.GetKey(ctx, name)
			opExpect(t, err, custodian.ErrKeyNotFound)
		})
	}
	for _, opts := range []*custodian.CreateOptions{nil, {}, {Type: "aes512-gcm"}} {
		_, err := c.ImportKey(ctx, "import-no-type", opPayload(32), opts)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	// The HMAC limits are inclusive.
	opMust(c.ImportKey(ctx, "hmac-16", opPayload(16), &custodian.CreateOptions{Type: custodian.HMACSHA256}))(t)
	opMust(c.ImportKey(ctx, "hmac-128", opPayload(128), &custodian.CreateOptions{Type: custodian.HMACSHA512}))(t)
	// Import into a taken name.
	_, err := c.ImportKey(ctx, "hmac-16", opPayload(16), &custodian.CreateOptions{Type: custodian.HMACSHA256})
	opExpect(t, err, custodian.ErrKeyExists)
}

// --- random and batches ------------------------------------------------------------------

func TestOpRandom(t *testing.T) {
	c := opNewCustodian(t, nil)
	for _, n := range []int{1, 32, custodian.MaxRandomBytes} {
		if b := opMust(c.Random(n))(t); len(b) != n {
			t.Errorf("Random(%d) gave %d bytes", n, len(b))
		}
	}
	a, b := opMust(c.Random(32))(t), opMust(c.Random(32))(t)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 32)) {
		t.Error("Random(32) repeats or is zero")
	}
	for _, n := range []int{0, -1, custodian.MaxRandomBytes + 1} {
		_, err := c.Random(n)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
}

func TestOpBatch(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	gcm, chacha, hm := f.key(t, custodian.AES256GCM), f.key(t, custodian.ChaCha20Poly1305), f.key(t, custodian.HMACSHA256)
	items := []custodian.BatchEncryptItem{
		{Key: gcm, Plaintext: []byte("zero")},
		{Key: "no-such-key", Plaintext: []byte("one")},
		{Key: chacha, Plaintext: []byte("two"), AssociatedData: []byte("ad2")},
		{Key: hm, Plaintext: []byte("three")},
		{Key: gcm, Plaintext: []byte("four"), Algorithm: custodian.AlgChaCha20Poly1305},
		{Key: f.key(t, custodian.RSA2048), Plaintext: []byte("five"), Algorithm: custodian.AlgRSAOAEPSHA1},
		{Key: gcm, Plaintext: nil},
	}
	res := opMust(f.c.EncryptBatch(ctx, items))(t)
	if len(res) != len(items) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	wantErr := []error{nil, custodian.ErrKeyNotFound, nil, custodian.ErrUnsupportedOperation, custodian.ErrUnsupportedOperation, nil, nil}
	for i, r := range res {
		opExpect(t, r.Err, wantErr[i])
		if (r.Err == nil) != (r.Ciphertext != nil) {
			t.Errorf("item %d: ciphertext %v with error %v", i, r.Ciphertext != nil, r.Err)
		}
	}
	dec := []custodian.BatchDecryptItem{
		{Ciphertext: res[0].Ciphertext},
		{Ciphertext: []byte("garbage")},
		{Ciphertext: res[2].Ciphertext, AssociatedData: []byte("ad2")},
		{Ciphertext: res[2].Ciphertext}, // missing associated data
		{Ciphertext: res[0].Ciphertext, Key: chacha},
		{Ciphertext: res[5].Ciphertext, Key: items[5].Key},
		{Ciphertext: res[6].Ciphertext},
	}
	out := opMust(f.c.DecryptBatch(ctx, dec))(t)
	want := []string{"zero", "", "two", "", "", "five", ""}
	wantDecErr := []error{nil, custodian.ErrInvalidCiphertext, nil, custodian.ErrInvalidCiphertext, custodian.ErrInvalidCiphertext, nil, nil}
	if len(out) != len(dec) {
		t.Fatalf("%d results for %d items", len(out), len(dec))
	}
	for i, r := range out {
		opExpect(t, r.Err, wantDecErr[i])
		if r.Err == nil && string(r.Plaintext) != want[i] {
			t.Errorf("item %d decrypts to %q, want %q", i, r.Plaintext, want[i])
		}
	}
	empty := opMust(f.c.EncryptBatch(ctx, nil))(t)
	if len(empty) != 0 {
		t.Errorf("empty batch gave %d results", len(empty))
	}
	_, err := f.c.EncryptBatch(ctx, make([]custodian.BatchEncryptItem, custodian.MaxBatch+1))
	opExpect(t, err, custodian.ErrInvalidArgument)
	_, err = f.c.DecryptBatch(ctx, make([]custodian.BatchDecryptItem, custodian.MaxBatch+1))
	opExpect(t, err, custodian.ErrInvalidArgument)
}

// --- capabilities -------------------------------------------------------------------------

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
