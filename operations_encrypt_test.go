package custodian_test

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/keycustodian/custodian"
)

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
