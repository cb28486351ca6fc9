package custodian_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
)

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
		if b := opMust(c.Random(bgCtx, n))(t); len(b) != n {
			t.Errorf("Random(%d) gave %d bytes", n, len(b))
		}
	}
	a, b := opMust(c.Random(bgCtx, 32))(t), opMust(c.Random(bgCtx, 32))(t)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 32)) {
		t.Error("Random(32) repeats or is zero")
	}
	for _, n := range []int{0, -1, custodian.MaxRandomBytes + 1} {
		_, err := c.Random(bgCtx, n)
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
