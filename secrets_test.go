package custodian_test

// Secrets never leak: every secret-bearing value the library hands out or
// keeps (Secret, *DataKey, exported keys, agreed secrets, the loaded keys of
// internal/algo) and every failed operation's error is formatted every way a
// program might (fmt verbs, log/slog text and JSON, encoding/json), and the
// output is searched for the key material in every encoding fmt, slog or
// json could have produced. The in-memory store is searched the same way.

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian/internal/leaktest"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// sxMaterial is a key's material in its stored form and the parts of it
// that are secret: the bytes whose appearance in any output is a leak.
// Public parts (an RSA modulus, a public point) are left out, since a
// public key may legitimately be printed.
type sxMaterial struct {
	stored  []byte
	secrets map[string][]byte
}

var sxMaterialCache sync.Map // custodian.KeyType -> *sxMaterial

// sxMaterialFor returns fresh material for typ from the type's own
// generator, cached for the test binary (RSA-4096 takes a second).
func sxMaterialFor(t testing.TB, typ custodian.KeyType) *sxMaterial {
	t.Helper()
	if m, ok := sxMaterialCache.Load(typ); ok {
		return m.(*sxMaterial)
	}
	spec, ok := algo.Lookup(typ)
	if !ok {
		t.Fatalf("key type %s is not registered", typ)
	}
	s, err := spec.Generate()
	if err != nil {
		t.Fatalf("generate %s: %v", typ, err)
	}
	stored := bytes.Clone(secret.Reveal(s))
	m := &sxMaterial{stored: stored, secrets: sxSecretParts(t, typ, stored)}
	sxMaterialCache.Store(typ, m)
	return m
}

// sxCBCMACInfo and sxCBCEncInfo are internal/algo's HKDF infos for the MAC
// and encryption keys of aes256-cbc's self-describing form; the derived
// keys are as secret as the AES key.
const (
	sxCBCMACInfo = "keycustodian aes256-cbc hmac-sha256 v1"
	sxCBCEncInfo = "keycustodian aes256-cbc aes-256 v1"
)

// sxSecretParts extracts the secret parts of stored material.
func sxSecretParts(t testing.TB, typ custodian.KeyType, m []byte) map[string][]byte {
	t.Helper()
	parts := map[string][]byte{}
	switch typ {
	case custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.HMACSHA256, custodian.HMACSHA512:
		parts["key"] = m
		return parts
	case custodian.AES256CBC:
		mac, err := hkdf.Key(sha256.New, m, nil, sxCBCMACInfo, sha256.Size)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := hkdf.Key(sha256.New, m, nil, sxCBCEncInfo, 32)
		if err != nil {
			t.Fatal(err)
		}
		parts["key"], parts["derived mac key"], parts["derived encryption key"] = m, mac, enc
		return parts
	case custodian.HPKEX25519MLKEM768:
		parts["kem seed"] = m
		return parts
	}
	k, err := x509.ParsePKCS8PrivateKey(m)
	if err != nil {
		// Finite-field DH: PKCS#8 whose privateKey is the INTEGER x.
		var info struct {
			Version    int
			Algo       asn1.RawValue
			PrivateKey []byte
		}
		var x *big.Int
		if _, err := asn1.Unmarshal(m, &info); err != nil {
			t.Fatalf("%s material is not PKCS#8: %v", typ, err)
		}
		if _, err := asn1.Unmarshal(info.PrivateKey, &x); err != nil {
			t.Fatalf("%s PKCS#8 private key is not an INTEGER: %v", typ, err)
		}
		parts["dh exponent"] = x.Bytes()
		return parts
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		parts["rsa d"] = k.D.Bytes()
		parts["rsa p"] = k.Primes[0].Bytes()
		parts["rsa q"] = k.Primes[1].Bytes()
		parts["rsa dp"] = k.Precomputed.Dp.Bytes()
		parts["rsa dq"] = k.Precomputed.Dq.Bytes()
		parts["rsa qinv"] = k.Precomputed.Qinv.Bytes()
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		parts["ecdsa d"] = b
	case ed25519.PrivateKey:
		parts["ed25519 seed"] = k.Seed()
	case *ecdh.PrivateKey:
		parts["ecdh scalar"] = k.Bytes()
	default:
		t.Fatalf("%s material holds %T", typ, k)
	}
	return parts
}

// sxTypes returns the registered key types; types not registered yet (the
// dh-ffdhe* types while they are being finished) are logged and skipped.
func sxTypes(t testing.TB) []custodian.KeyType {
	t.Helper()
	var out []custodian.KeyType
	for _, typ := range custodian.KeyTypes() {
		if _, ok := algo.Lookup(typ); !ok {
			t.Logf("key type %s is not registered yet: not checked", typ)
			continue
		}
		out = append(out, typ)
	}
	return out
}

func sxPurpose(typ custodian.KeyType) algo.Purpose {
	spec, _ := algo.Lookup(typ)
	return spec.Purposes[0]
}

// sxClock is a settable clock for Options.Now.
type sxClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *sxClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *sxClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sxNew returns a Custodian over a store the test can inspect.
func sxNew(t testing.TB) (*custodian.Custodian, *memory.Store, *sxClock) {
	t.Helper()
	st := memory.New()
	clock := &sxClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c, err := custodian.New(custodian.Options{Store: st, Now: clock.Now, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, st, clock
}

// sxImportAll imports known material of every registered type, exportable,
// under the type's name.
func sxImportAll(t testing.TB, c *custodian.Custodian) []custodian.KeyType {
	t.Helper()
	types := sxTypes(t)
	for _, typ := range types {
		m := sxMaterialFor(t, typ)
		if _, err := c.ImportKey(context.Background(), string(typ), m.stored, &custodian.CreateOptions{Type: typ, Exportable: true}); err != nil {
			t.Fatalf("import %s: %v", typ, err)
		}
	}
	return types
}

// TestSecretLeakDetector makes sure the search can fail: material printed
// in each of the ways it looks for is found.
func TestSecretLeakDetector(t *testing.T) {
	m := sxMaterialFor(t, custodian.AES256GCM).stored
	inner := struct{ b []byte }{m}
	parts := map[string][]byte{"key": m}
	for _, leak := range []any{m, inner, &inner, struct{ K []byte }{m}, string(m), new(big.Int).SetBytes(m)} {
		paths, _ := leaktest.Leaks(leaktest.Renderings(leak), parts)
		if len(paths) == 0 {
			t.Errorf("a %T holding the material was not caught", leak)
		}
	}
	for _, out := range []string{
		"x " + base64.StdEncoding.EncodeToString(append([]byte{1}, m...)) + " y",
		"x " + base64.RawURLEncoding.EncodeToString(append([]byte{1, 2}, m...)) + " y",
		fmt.Sprintf("%q", append([]byte("prefix"), m...)),
	} {
		if paths, _ := leaktest.Leaks(map[string]string{"out": out}, parts); len(paths) == 0 {
			t.Errorf("material inside %q was not caught", out)
		}
	}
	if paths, ex := leaktest.Leaks(leaktest.Renderings(secret.New(m)), parts); len(paths) > 0 {
		t.Errorf("false positive on a redacted secret: %v in %s", paths, ex)
	}
}

// TestSecretLeakValues formats what the API hands out: exported keys,
// agreed secrets, data keys and key metadata.
func TestSecretLeakValues(t *testing.T) {
	ctx := context.Background()
	c, _, _ := sxNew(t)
	for _, typ := range sxImportAll(t, c) {
		m := sxMaterialFor(t, typ)
		exported, err := c.ExportKey(ctx, string(typ), nil)
		if err != nil {
			t.Fatalf("export %s: %v", typ, err)
		}
		if !bytes.Equal(custodian.Reveal(exported), m.stored) {
			t.Fatalf("export %s returned other material than was imported", typ)
		}
		exportedParts := map[string][]byte{"exported": m.stored}
		for _, parts := range []map[string][]byte{m.secrets, exportedParts} {
			leaktest.Check(t, fmt.Sprintf("ExportKey(%s)", typ), exported, parts)
			leaktest.Check(t, fmt.Sprintf("&ExportKey(%s)", typ), &exported, parts)
		}
		k, err := c.GetKey(ctx, string(typ))
		if err != nil {
			t.Fatal(err)
		}
		leaktest.Check(t, fmt.Sprintf("*Key of %s", typ), k, m.secrets)
		leaktest.Check(t, fmt.Sprintf("Key of %s", typ), *k, m.secrets)

		switch sxPurpose(typ) {
		case algo.PurposeAgree:
			shared := sxAgree(t, c, typ)
			parts := map[string][]byte{"shared secret": custodian.Reveal(shared)}
			leaktest.Check(t, fmt.Sprintf("Agree(%s)", typ), shared, parts)
			leaktest.Check(t, fmt.Sprintf("Agree(%s)", typ), shared, m.secrets)
		case algo.PurposeEncrypt:
			dk, err := c.GenerateDataKey(ctx, string(typ), nil)
			if err != nil {
				t.Fatalf("data key under %s: %v", typ, err)
			}
			parts := map[string][]byte{"data key": custodian.Reveal(dk.Plaintext)}
			leaktest.Check(t, fmt.Sprintf("*DataKey under %s", typ), dk, parts)
			leaktest.Check(t, fmt.Sprintf("DataKey under %s", typ), *dk, parts)
			leaktest.Check(t, fmt.Sprintf("DataKey.Plaintext under %s", typ), dk.Plaintext, parts)
			leaktest.Check(t, fmt.Sprintf("*DataKey under %s", typ), dk, m.secrets)
		}
	}
	// The Custodian itself, its caches now full of loaded keys.
	all := map[string][]byte{}
	for _, typ := range sxTypes(t) {
		for part, s := range sxMaterialFor(t, typ).secrets {
			all[string(typ)+" "+part] = s
		}
	}
	leaktest.Check(t, "*Custodian", c, all)
}

// sxAgree agrees a secret between the key named typ and a fresh peer, and
// checks it against the peer's side, so the test searches for the real
// shared secret.
func sxAgree(t testing.TB, c *custodian.Custodian, typ custodian.KeyType) custodian.Secret {
	t.Helper()
	ctx := context.Background()
	ourPEM, err := c.PublicKey(ctx, string(typ), nil)
	if err != nil {
		t.Fatal(err)
	}
	curves := map[custodian.KeyType]ecdh.Curve{
		custodian.X25519: ecdh.X25519(), custodian.ECDHP256: ecdh.P256(),
		custodian.ECDHP384: ecdh.P384(), custodian.ECDHP521: ecdh.P521(),
	}
	var peerPub []byte
	var want func() []byte
	if curve, ok := curves[typ]; ok {
		peer, err := curve.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		peerPub = peer.PublicKey().Bytes()
		want = func() []byte {
			block, _ := pem.Decode(ourPEM)
			pk, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var pub *ecdh.PublicKey
			switch pk := pk.(type) {
			case *ecdh.PublicKey:
				pub = pk
			case *ecdsa.PublicKey:
				if pub, err = pk.ECDH(); err != nil {
					t.Fatal(err)
				}
			}
			s, err := peer.ECDH(pub)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	} else {
		// Finite-field DH: the peer is a second key of the same type.
		peerName := string(typ) + "-peer"
		if _, err := c.CreateKey(ctx, peerName, &custodian.CreateOptions{Type: typ}); err != nil {
			t.Fatal(err)
		}
		if peerPub, err = c.PublicKey(ctx, peerName, nil); err != nil {
			t.Fatal(err)
		}
		want = func() []byte {
			s, err := c.Agree(ctx, peerName, ourPEM, nil)
			if err != nil {
				t.Fatal(err)
			}
			return custodian.Reveal(s)
		}
	}
	s, err := c.Agree(ctx, string(typ), peerPub, nil)
	if err != nil {
		t.Fatalf("agree %s: %v", typ, err)
	}
	if !bytes.Equal(custodian.Reveal(s), want()) {
		t.Fatalf("agree %s: the two sides disagree", typ)
	}
	return s
}

// TestSecretLeakLoadedKeys formats every type Spec.Load returns, by pointer
// and by value, the way a debugging Printf or a slog.Any of a cache entry
// would. fmt cannot call methods on unexported fields, so whatever a loaded
// key keeps in one is printed by reflection.
func TestSecretLeakLoadedKeys(t *testing.T) {
	for _, typ := range sxTypes(t) {
		m := sxMaterialFor(t, typ)
		spec, _ := algo.Lookup(typ)
		k, err := spec.Load(secret.New(m.stored))
		if err != nil {
			t.Fatalf("load %s: %v", typ, err)
		}
		parts := m.secrets
		switch typ {
		case custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.AES256CBC,
			custodian.HMACSHA256, custodian.HMACSHA512, custodian.HPKEX25519MLKEM768:
			// Raw material is secret as a whole; a PKCS#8 encoding also
			// holds public parts (a modulus, a point) a key may print.
			parts = sxMerge(m.secrets, map[string][]byte{"stored material": m.stored})
		}
		leaktest.Check(t, fmt.Sprintf("loaded %s key (%T)", typ, k), k, parts)
		if v := reflect.ValueOf(k); v.Kind() == reflect.Pointer {
			leaktest.Check(t, fmt.Sprintf("loaded %s key dereferenced (%s)", typ, v.Elem().Type()), v.Elem().Interface(), parts)
		}
	}
}

// sxMerge merges maps of secret parts.
func sxMerge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestSecretLeakErrors makes operations fail on purpose with known
// plaintext, messages and material, and checks the errors carry none of it.
func TestSecretLeakErrors(t *testing.T) {
	ctx := context.Background()
	c, _, _ := sxNew(t)
	types := sxImportAll(t, c)
	plaintext := []byte("sx plaintext: the vault combination is 7d3a-91fe-c24b-0e88, do not log")
	pparts := map[string][]byte{"plaintext": plaintext}

	check := func(what string, err error, want error, parts ...map[string][]byte) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: succeeded, want %v", what, want)
			return
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want errors.Is %v", what, err, want)
		}
		var ce *custodian.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: %T is not a *custodian.Error", what, err)
		}
		all := sxMerge(parts...)
		leaktest.Check(t, what+" error", err, all)
		leaktest.Check(t, what+" error message", err.Error(), all)
	}

	for _, typ := range types {
		m := sxMaterialFor(t, typ)
		name := string(typ)
		switch sxPurpose(typ) {
		case algo.PurposeEncrypt:
			// Associated data the algorithm cannot bind (raw CBC, RSA
			// PKCS#1 v1.5) or an algorithm the key lacks.
			_, err := c.Encrypt(ctx, name, plaintext, &custodian.EncryptOptions{Algorithm: custodian.AlgEd25519})
			check("Encrypt "+name+" with ed25519", err, custodian.ErrUnsupportedOperation, pparts, m.secrets)
			ct, err := c.Encrypt(ctx, name, plaintext, &custodian.EncryptOptions{AssociatedData: []byte("right")})
			if err != nil {
				t.Fatalf("encrypt %s: %v", name, err)
			}
			_, err = c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: []byte("wrong")})
			check("Decrypt "+name+" with wrong associated data", err, custodian.ErrInvalidCiphertext, pparts, m.secrets)
			bad := bytes.Clone(ct)
			bad[len(bad)-1] ^= 1
			_, err = c.Decrypt(ctx, bad, &custodian.DecryptOptions{AssociatedData: []byte("right")})
			check("Decrypt "+name+" modified", err, custodian.ErrInvalidCiphertext, pparts, m.secrets)
			_, err = c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: []byte("right"), Key: "another-key"})
			check("Decrypt "+name+" under another key name", err, custodian.ErrInvalidCiphertext, pparts, m.secrets)
		case algo.PurposeSign:
			_, err := c.Sign(ctx, name, plaintext, &custodian.SignOptions{Digest: true})
			wantErr := custodian.ErrInvalidArgument
			if typ == custodian.Ed25519 {
				wantErr = custodian.ErrUnsupportedOperation
			}
			check("Sign "+name+" with a wrong-size digest", err, wantErr, pparts, m.secrets)
			sig, err := c.Sign(ctx, name, plaintext, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Verify(ctx, name, append(bytes.Clone(plaintext), '!'), sig.Signature, nil)
			check("Verify "+name+" of another message", err, custodian.ErrInvalidSignature, pparts, m.secrets)
		case algo.PurposeMAC:
			mac, err := c.MAC(ctx, name, plaintext, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.VerifyMAC(ctx, name, append(bytes.Clone(plaintext), '!'), mac.MAC, nil)
			// The right tag of the modified message is an oracle: it must not
			// appear in the error either.
			right, _ := c.MAC(ctx, name, append(bytes.Clone(plaintext), '!'), nil)
			check("VerifyMAC "+name+" of another message", err, custodian.ErrInvalidMAC, pparts, m.secrets,
				map[string][]byte{"expected tag": right.MAC})
		case algo.PurposeAgree:
			_, err := c.Agree(ctx, name, plaintext, nil)
			check("Agree "+name+" with garbage", err, custodian.ErrInvalidArgument, pparts, m.secrets)
		}
		_, err := c.Encrypt(ctx, "no-such-key", plaintext, nil)
		check("Encrypt under a missing key", err, custodian.ErrKeyNotFound, pparts)
	}

	// Plaintext too long for RSA, raw forms that cannot bind associated
	// data, and a disabled key.
	if slices.Contains(types, custodian.RSA2048) {
		long := bytes.Repeat(plaintext, 6)
		_, err := c.Encrypt(ctx, string(custodian.RSA2048), long, nil)
		check("Encrypt rsa-2048 too long", err, custodian.ErrInvalidArgument, map[string][]byte{"plaintext": long})
		_, err = c.EncryptRaw(ctx, string(custodian.RSA2048), plaintext, &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15, AssociatedData: []byte("ad")})
		check("EncryptRaw rsa-pkcs1v15 with associated data", err, custodian.ErrUnsupportedOperation, pparts)
	}
	_, err := c.EncryptRaw(ctx, string(custodian.AES256CBC), plaintext, &custodian.RawOptions{AssociatedData: []byte("ad")})
	check("EncryptRaw aes256-cbc with associated data", err, custodian.ErrUnsupportedOperation, pparts, sxMaterialFor(t, custodian.AES256CBC).secrets)
	if _, err := c.DisableKey(ctx, string(custodian.AES256GCM)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Encrypt(ctx, string(custodian.AES256GCM), plaintext, nil)
	check("Encrypt under a disabled key", err, custodian.ErrKeyDisabled, pparts, sxMaterialFor(t, custodian.AES256GCM).secrets)
	_, err = c.GenerateDataKey(ctx, string(custodian.AES256GCM), nil)
	check("GenerateDataKey under a disabled key", err, custodian.ErrKeyDisabled, sxMaterialFor(t, custodian.AES256GCM).secrets)
}

// TestSecretLeakImportErrors imports broken material and checks that the
// refusal does not quote it: truncated, with a flipped byte, of another
// type, and wrapped in the wrong PEM block.
func TestSecretLeakImportErrors(t *testing.T) {
	ctx := context.Background()
	c, _, _ := sxNew(t)
	types := sxTypes(t)
	for i, typ := range types {
		m := sxMaterialFor(t, typ)
		other := sxMaterialFor(t, types[(i+1)%len(types)])
		flipped := bytes.Clone(m.stored)
		flipped[len(flipped)/2] ^= 0x40
		cases := map[string][]byte{
			"truncated":    m.stored[:len(m.stored)-1],
			"half":         m.stored[:len(m.stored)/2],
			"flipped":      flipped,
			"appended":     append(bytes.Clone(m.stored), 0),
			"another type": other.stored,
			"wrong PEM":    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: m.stored}),
		}
		for what, material := range cases {
			name := fmt.Sprintf("bad-%s-%s", typ, strings.ReplaceAll(what, " ", "-"))
			_, err := c.ImportKey(ctx, name, material, &custodian.CreateOptions{Type: typ})
			if err == nil {
				continue // some changes leave valid material (a flipped bit of an AES key)
			}
			if !errors.Is(err, custodian.ErrInvalidArgument) {
				t.Errorf("import %s %s: %v, want ErrInvalidArgument", typ, what, err)
			}
			parts := sxMerge(m.secrets, other.secrets)
			leaktest.Check(t, fmt.Sprintf("import %s %s error", typ, what), err, parts)
			leaktest.Check(t, fmt.Sprintf("import %s %s error message", typ, what), err.Error(), parts)
		}
	}
}

// TestLeakStoreHoldsNoPlaintext imports known material of every type,
// creates and exports generated keys, rotates, and then searches every
// record the store holds for any of it: the store must only ever see
// material sealed by the barrier.
func TestLeakStoreHoldsNoPlaintext(t *testing.T) {
	ctx := context.Background()
	c, st, clock := sxNew(t)
	types := sxImportAll(t, c)
	secrets := map[string][]byte{}
	for _, typ := range types {
		m := sxMaterialFor(t, typ)
		for part, s := range m.secrets {
			secrets[string(typ)+" "+part] = s
		}
		secrets[string(typ)+" imported material"] = m.stored
		// Generated material, seen through ExportKey, including a second version.
		gen := "gen-" + string(typ)
		if _, err := c.CreateKey(ctx, gen, &custodian.CreateOptions{Type: typ, Exportable: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RotateKey(ctx, gen); err != nil {
			t.Fatal(err)
		}
		for v := 1; v <= 2; v++ {
			s, err := c.ExportKey(ctx, gen, &custodian.ExportOptions{Version: v})
			if err != nil {
				t.Fatal(err)
			}
			secrets[fmt.Sprintf("%s v%d exported", gen, v)] = custodian.Reveal(s)
			for part, b := range sxSecretParts(t, typ, custodian.Reveal(s)) {
				secrets[fmt.Sprintf("%s v%d %s", gen, v, part)] = b
			}
		}
		if sxPurpose(typ) == algo.PurposeEncrypt {
			dk, err := c.GenerateDataKey(ctx, string(typ), nil)
			if err != nil {
				t.Fatal(err)
			}
			secrets[string(typ)+" data key"] = custodian.Reveal(dk.Plaintext)
		}
	}

	records := sxStoreRecords(t, st)
	if len(records) == 0 {
		t.Fatal("the store holds no versions")
	}
	var leaked []string
	for where, rec := range records {
		for what, s := range secrets {
			if s == nil {
				continue
			}
			for enc, n := range leaktest.Needles(s) {
				if strings.Contains(rec, n) {
					leaked = append(leaked, fmt.Sprintf("%s holds %s (%s)", where, what, enc))
					break
				}
			}
		}
	}
	slices.Sort(leaked)
	for _, l := range leaked {
		t.Error(l)
	}

	// Destroying a key removes its sealed material too.
	name := string(custodian.AES256GCM)
	if _, err := c.ScheduleKeyDeletion(ctx, name, custodian.MinDeletionWindow); err != nil {
		t.Fatal(err)
	}
	clock.Add(custodian.MinDeletionWindow + time.Hour)
	k, err := c.DestroyKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := st.Versions(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if len(v.Material) != 0 || v.State != string(custodian.VersionDestroyed) {
			t.Errorf("destroyed key %s version %d still has %d bytes of material, state %s", name, v.Number, len(v.Material), v.State)
		}
	}
}

// sxStoreRecords renders every key record and version the store holds: the
// sealed material as raw bytes and the whole record through fmt.
func sxStoreRecords(t testing.TB, st store.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, store.ListOptions{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		out["key record "+k.Name] = fmt.Sprintf("%+v", k)
		vs, err := st.Versions(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.State == string(custodian.VersionEnabled) && len(v.Material) == 0 {
				t.Errorf("key %s version %d holds no material", k.Name, v.Number)
			}
			where := fmt.Sprintf("key %s version %d", k.Name, v.Number)
			out[where+" material"] = string(v.Material)
			out[where+" record"] = fmt.Sprintf("%+v", v)
		}
	}
	return out
}
