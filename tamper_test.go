package custodian_test

// Tampering with ciphertexts: every authenticated algorithm must turn every
// modification into exactly ErrInvalidCiphertext, the one error Decrypt
// gives for every cause (no other sentinel, no detail an attacker could
// tell apart). Helpers shared with operations_test.go are prefixed "op".

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/keycustodian/custodian"
)

// opHeaderSize is the size of the ciphertext header: format, algorithm,
// 12-byte key id, 4-byte version (internal/envelope).
const opHeaderSize = 18

// opTamperCase is an authenticated algorithm whose self-describing
// ciphertexts are tampered with.
type opTamperCase struct {
	typ custodian.KeyType
	alg custodian.Algorithm
	// sample: flip every header bit, but only some body bits (one per body
	// byte plus every bit of the first and last 8 body bytes), because each
	// decryption costs an RSA private-key operation or an ML-KEM
	// decapsulation.
	sample bool
}

var opTamperCases = []opTamperCase{
	{custodian.AES256GCM, custodian.AlgAES256GCM, false},
	{custodian.ChaCha20Poly1305, custodian.AlgChaCha20Poly1305, false},
	// The self-describing aes256-cbc form is encrypt-then-MAC (HMAC-SHA-256).
	{custodian.AES256CBC, custodian.AlgAES256CBC, false},
	{custodian.RSA2048, custodian.AlgRSAOAEPSHA256, true},
	{custodian.RSA2048, custodian.AlgRSAOAEPSHA1, true},
	{custodian.HPKEX25519MLKEM768, custodian.AlgHPKEX25519MLKEM768, true},
}

// opTamperKeys creates one exportable key per type of opTamperCases in a
// fresh Custodian (one RSA key for both OAEP cases).
func opTamperKeys(t *testing.T) (*custodian.Custodian, map[custodian.KeyType]string) {
	c := opNewCustodian(t, nil)
	names := map[custodian.KeyType]string{}
	for _, tc := range opTamperCases {
		if _, ok := names[tc.typ]; ok {
			continue
		}
		names[tc.typ] = "tamper/" + string(tc.typ)
		opCreate(t, c, names[tc.typ], &custodian.CreateOptions{Type: tc.typ, Exportable: true})
	}
	return c, names
}

// opExpectInvalid is opExpect(err, ErrInvalidCiphertext) with the
// modification named on failure.
func opExpectInvalid(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: Decrypt accepted the modified ciphertext", what)
	}
	if !errors.Is(err, custodian.ErrInvalidCiphertext) {
		t.Fatalf("%s: got %q, want ErrInvalidCiphertext", what, err)
	}
	for _, s := range opSentinels {
		if s != custodian.ErrInvalidCiphertext && errors.Is(err, s) {
			t.Fatalf("%s: error %q also matches %q", what, err, s)
		}
	}
}

// opFlipPositions lists the (byte, bit) positions to flip in a ciphertext.
func opFlipPositions(n int, sample bool) [][2]int {
	var out [][2]int
	for i := range n {
		body := i - opHeaderSize
		all := !sample || body < 8 || i >= n-8
		for bit := range 8 {
			if all || bit == body%8 {
				out = append(out, [2]int{i, bit})
			}
		}
	}
	return out
}

func TestTamperBitFlips(t *testing.T) {
	c, names := opTamperKeys(t)
	ctx := t.Context()
	type sealed struct {
		tc  opTamperCase
		aad []byte
		pt  []byte
		ct  custodian.Ciphertext
	}
	var all []sealed
	for _, tc := range opTamperCases {
		for _, aad := range [][]byte{nil, []byte("order=1234")} {
			sizes := []int{0, 1, 16, 40}
			if tc.sample {
				sizes = []int{40}
			}
			for _, n := range sizes {
				pt := opPayload(n)
				ct := opMust(c.Encrypt(ctx, names[tc.typ], pt, &custodian.EncryptOptions{Algorithm: tc.alg, AssociatedData: aad}))(t)
				all = append(all, sealed{tc, aad, pt, ct})
			}
		}
	}
	// Every key but the RSA one (generating keys is slow) gets versions 2
	// and 3 after encrypting under v1, so that a flipped version bit can
	// name a version that exists (v1 -> v3) as well as ones that do not.
	for typ, name := range names {
		if typ != custodian.RSA2048 {
			opMust(c.RotateKey(ctx, name))(t)
			opMust(c.RotateKey(ctx, name))(t)
		}
	}
	for _, s := range all {
		t.Run(fmt.Sprintf("%s/aad=%t/%d", s.tc.alg, s.aad != nil, len(s.pt)), func(t *testing.T) {
			t.Parallel()
			opts := &custodian.DecryptOptions{AssociatedData: s.aad}
			if pt, err := c.Decrypt(ctx, s.ct, opts); err != nil || !bytes.Equal(pt, s.pt) {
				t.Fatalf("the unmodified ciphertext does not decrypt: %v", err)
			}
			// Every flip of every header bit, and of every (or, sampled,
			// many) body bits. For rsa-oaep-sha256, flipping bit 1 of the
			// algorithm byte (0x10 -> 0x12) names code 0x12, which is
			// reserved and never valid, so it fails like any other flip;
			// TestTamperRSAOAEPDowngrade shows, deterministically, why it
			// must never mean rsa-pkcs1v15.
			for _, p := range opFlipPositions(len(s.ct), s.tc.sample) {
				mod := slices.Clone(s.ct)
				mod[p[0]] ^= 1 << p[1]
				_, err := c.Decrypt(ctx, mod, opts)
				opExpectInvalid(t, err, fmt.Sprintf("bit %d of byte %d flipped", p[1], p[0]))
			}
			// Truncations: every length for symmetric ciphertexts; for the
			// costly ones every length through the header and a stride after.
			for n := range len(s.ct) {
				if s.tc.sample && n > opHeaderSize+4 && n%37 != 0 && n != len(s.ct)-1 {
					continue
				}
				_, err := c.Decrypt(ctx, s.ct[:n], opts)
				opExpectInvalid(t, err, fmt.Sprintf("truncated to %d of %d bytes", n, len(s.ct)))
			}
			// Extensions, and the body moved by one byte.
			for _, ext := range [][]byte{{0}, {0xff}, opPayload(16), opPayload(32), s.ct[opHeaderSize:]} {
				_, err := c.Decrypt(ctx, append(slices.Clone(s.ct), ext...), opts)
				opExpectInvalid(t, err, fmt.Sprintf("extended by %d bytes", len(ext)))
			}
			shifted := slices.Concat(s.ct[:opHeaderSize], []byte{0}, s.ct[opHeaderSize:len(s.ct)-1])
			_, err := c.Decrypt(ctx, shifted, opts)
			opExpectInvalid(t, err, "body shifted by one byte")
			// The same ciphertext with other associated data.
			other := append(slices.Clone(s.aad), 'x')
			_, err = c.Decrypt(ctx, s.ct, &custodian.DecryptOptions{AssociatedData: other})
			opExpectInvalid(t, err, "other associated data")
			// Rewrap authenticates the same way.
			mod := slices.Clone(s.ct)
			mod[len(mod)-1] ^= 1
			_, err = c.Rewrap(ctx, mod, &custodian.RewrapOptions{AssociatedData: s.aad})
			opExpectInvalid(t, err, "rewrap of a modified ciphertext")
		})
	}
}

// TestTamperRSAPKCS1v15 covers the one unauthenticated encryption
// algorithm, which exists only in the raw form.
//
// PKCS #1 v1.5 encryption (RFC 8017, 7.2) has no integrity: decryption
// only checks the padding's shape (0x00 0x02, eight or more non-zero
// bytes, 0x00), and it binds no label, so a ciphertext header could not be
// authenticated either. A flipped bit in the RSA ciphertext gives an
// unrelated RSA input whose decryption is well-formed with probability
// about 2^-16, yielding garbage plaintext; and since encryption needs only
// the public key, anyone can make a ciphertext that decrypts to a plaintext
// of their choice. Bit flips cannot be guaranteed to be detected, so
// rsa-pkcs1v15 has no self-describing form (its would-be code 0x12 is
// reserved, never valid). This test asserts that every form refuses
// associated data rather than accepting and silently not binding it, that
// Encrypt refuses the algorithm, and that a raw ciphertext put under a
// header with code 0x12 fails with ErrInvalidCiphertext.
func TestTamperRSAPKCS1v15(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "legacy", &custodian.CreateOptions{Type: custodian.RSA2048})
	alg := custodian.AlgRSAPKCS1v15
	aad := []byte("tenant=42")
	_, err := c.Encrypt(ctx, "legacy", []byte("x"), &custodian.EncryptOptions{Algorithm: alg, AssociatedData: aad})
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.EncryptRaw(ctx, "legacy", []byte("x"), &custodian.RawOptions{Algorithm: alg, AssociatedData: aad})
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	_, err = c.GenerateDataKey(ctx, "legacy", &custodian.DataKeyOptions{Algorithm: alg, AssociatedData: aad})
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	raw := opMust(c.EncryptRaw(ctx, "legacy", []byte("x"), &custodian.RawOptions{Algorithm: alg}))(t)
	_, err = c.DecryptRaw(ctx, "legacy", raw, &custodian.RawOptions{Algorithm: alg, AssociatedData: aad})
	opExpectInvalid(t, err, "raw pkcs1v15 with associated data")

	// No self-describing rsa-pkcs1v15 at all: made, or forged from the raw
	// form under a real header.
	_, err = c.Encrypt(ctx, "legacy", []byte("x"), &custodian.EncryptOptions{Algorithm: alg})
	opExpect(t, err, custodian.ErrUnsupportedOperation)
	header := slices.Clone(opMust(c.Encrypt(ctx, "legacy", []byte("x"), nil))(t)[:opHeaderSize])
	header[1] = 0x12
	_, err = c.Decrypt(ctx, slices.Concat(header, raw), nil)
	opExpectInvalid(t, err, "self-describing rsa-pkcs1v15")
}

// TestTamperRSAOAEPDowngrade: the envelope promises that changing any
// header byte makes decryption fail. Code 0x12, one bit away from
// rsa-oaep-sha256's 0x10, once named rsa-pkcs1v15, which neither checks the
// OAEP label nor binds the header: whenever the OAEP-encoded block happened
// to look like PKCS #1 v1.5 padding (about 1 in 430 random OAEP
// encryptions), Decrypt returned garbage instead of ErrInvalidCiphertext.
// 0x12 is now reserved and never valid; this test keeps it so, with a
// ciphertext built to be such a block.
//
// Worse, it meant that every key allowing rsa-pkcs1v15 decryption answered
// Bleichenbacher's question (is this RSA input PKCS #1 v1.5 conforming?)
// about the OAEP ciphertexts of the same key: by multiplying the body by
// s^e and asking Decrypt, a caller with decrypt permission could recover
// the OAEP block of any ciphertext, and so its plaintext without the
// associated data the OAEP label was meant to require. The same oracle
// is an RSA private-key oracle, which would forge signatures with the key
// if it could sign: RSA keys therefore have one usage, encrypt or sign
// (usage_test.go), since DecryptRaw with rsa-pkcs1v15 remains such an
// oracle for whoever may call it.
//
// The test builds a genuine rsa-oaep-sha256 ciphertext (RFC 8017, 7.1.1,
// with a seed chosen among random ones so that the block has that shape),
// checks that Decrypt opens it as OAEP, then flips the one bit.
func TestTamperRSAOAEPDowngrade(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "oaep", &custodian.CreateOptions{Type: custodian.RSA2048})
	pub := opParsePublic(t, c, "oaep", 0).(*rsa.PublicKey)
	template := opMust(c.Encrypt(ctx, "oaep", []byte("x"), nil))(t)
	if template[1] != 0x10 {
		t.Fatalf("rsa-oaep-sha256 algorithm code is %#x, want 0x10", template[1])
	}
	header := slices.Clone(template[:opHeaderSize])
	msg := []byte("attack at dawn")
	body := opOAEPConformingAsPKCS1(t, pub, msg, header)
	ct := slices.Concat(header, body)
	if pt, err := c.Decrypt(ctx, ct, nil); err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("the constructed ciphertext is not a valid rsa-oaep-sha256 ciphertext: %v", err)
	}
	downgraded := slices.Clone(ct)
	downgraded[1] ^= 0x02 // rsa-oaep-sha256 (0x10) -> 0x12, reserved (once rsa-pkcs1v15)
	pt, err := c.Decrypt(ctx, downgraded, nil)
	if err == nil {
		t.Fatalf("an rsa-oaep-sha256 ciphertext with its algorithm byte changed to rsa-pkcs1v15 decrypts (to %d bytes of the OAEP block): "+
			"the header is not authenticated, and PKCS #1 v1.5 decryption of OAEP ciphertexts is a Bleichenbacher oracle", len(pt))
	}
	opExpectInvalid(t, err, "algorithm downgraded to rsa-pkcs1v15")
}

// opOAEPConformingAsPKCS1 returns an RSA-OAEP-SHA-256 encryption of msg
// with the given label whose encoded block EM also has valid PKCS #1 v1.5
// encryption padding: EM[1] = 0x02, EM[2..9] non-zero and a zero after
// them. It tries random seeds, as an encryptor's random number generator
// would produce them.
func opOAEPConformingAsPKCS1(t *testing.T, pub *rsa.PublicKey, msg, label []byte) []byte {
	t.Helper()
	k := pub.Size()
	hLen := sha256.Size
	lHash := sha256.Sum256(label)
	db := make([]byte, k-hLen-1)
	copy(db, lHash[:])
	db[len(db)-len(msg)-1] = 0x01
	copy(db[len(db)-len(msg):], msg)
	for try := 0; try < 100000; try++ {
		seed := make([]byte, hLen)
		rand.Read(seed)
		maskedDB := opXOR(db, opMGF1(seed, len(db)))
		maskedSeed := opXOR(seed, opMGF1(maskedDB, hLen))
		em := slices.Concat([]byte{0}, maskedSeed, maskedDB)
		if em[1] != 0x02 || bytes.IndexByte(em[2:10], 0) >= 0 || bytes.IndexByte(em[10:], 0) < 0 {
			continue
		}
		m := new(big.Int).SetBytes(em)
		c := m.Exp(m, big.NewInt(int64(pub.E)), pub.N)
		return c.FillBytes(make([]byte, k))
	}
	t.Fatal("no suitable OAEP seed found")
	return nil
}

// opMGF1 is MGF1 with SHA-256 (RFC 8017, B.2.1).
func opMGF1(seed []byte, n int) []byte {
	var out []byte
	for counter := uint32(0); len(out) < n; counter++ {
		h := sha256.New()
		h.Write(seed)
		h.Write(binary.BigEndian.AppendUint32(nil, counter))
		out = h.Sum(out)
	}
	return out[:n]
}

func opXOR(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// TestTamperWrongKey: a genuine ciphertext of key A never opens as anything
// else, and the refusal does not disclose A to a caller who asked for B.
func TestTamperWrongKey(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	for _, n := range []string{"key-a", "key-b"} {
		opCreate(t, c, n, nil)
		opCreate(t, c, n+"-rsa", &custodian.CreateOptions{Type: custodian.RSA2048})
	}
	opCreate(t, c, "key-cbc", &custodian.CreateOptions{Type: custodian.AES256CBC})
	ctA := opMust(c.Encrypt(ctx, "key-a", []byte("for a"), nil))(t)
	ctB := opMust(c.Encrypt(ctx, "key-b", []byte("for b"), nil))(t)

	t.Run("caller expects another key", func(t *testing.T) {
		_, err := c.Decrypt(ctx, ctA, &custodian.DecryptOptions{Key: "key-b"})
		opExpectInvalid(t, err, "ciphertext of key-a, caller expects key-b")
		var e *custodian.Error
		if !errors.As(err, &e) || e.Op != "decrypt" {
			t.Fatalf("error %q is not a decrypt *custodian.Error", err)
		}
		if e.Key != "key-b" || bytes.Contains([]byte(err.Error()), []byte("key-a")) {
			t.Errorf("refusal %q names key %q: it must name the key the caller asked for (key-b), never the key the ciphertext belongs to", err, e.Key)
		}
		_, err = c.Rewrap(ctx, ctA, &custodian.RewrapOptions{Key: "key-b"})
		opExpectInvalid(t, err, "rewrap of key-a's ciphertext, caller expects key-b")
		_, err = c.Decrypt(ctx, ctA, &custodian.DecryptOptions{Key: "key-a"})
		opExpect(t, err, nil)
	})
	t.Run("header names another key", func(t *testing.T) {
		// Key id of B with the body of A, and the reverse.
		spliced := slices.Concat(ctB[:opHeaderSize], ctA[opHeaderSize:])
		_, err := c.Decrypt(ctx, spliced, nil)
		opExpectInvalid(t, err, "key-b's header on key-a's body")
		swapped := slices.Clone(ctA)
		copy(swapped[2:14], ctB[2:14])
		_, err = c.Decrypt(ctx, swapped, nil)
		opExpectInvalid(t, err, "key-a's ciphertext naming key-b")
		// RSA: both keys allow the algorithm; only the key differs.
		rsaA := opMust(c.Encrypt(ctx, "key-a-rsa", []byte("for a"), nil))(t)
		rsaB := opMust(c.Encrypt(ctx, "key-b-rsa", []byte("for b"), nil))(t)
		copy(rsaA[2:14], rsaB[2:14])
		_, err = c.Decrypt(ctx, rsaA, nil)
		opExpectInvalid(t, err, "key-a-rsa's ciphertext naming key-b-rsa")
		// A key of another type, whose type does not allow the algorithm.
		cbc := opMust(c.Encrypt(ctx, "key-cbc", []byte("x"), nil))(t)
		mixed := slices.Clone(ctA)
		copy(mixed[2:14], cbc[2:14])
		_, err = c.Decrypt(ctx, mixed, nil)
		opExpectInvalid(t, err, "aes256-gcm ciphertext naming an aes256-cbc key")
		// A key id that names no key.
		unknown := slices.Clone(ctA)
		copy(unknown[2:14], opPayload(12))
		_, err = c.Decrypt(ctx, unknown, nil)
		opExpectInvalid(t, err, "unknown key id")
	})
}

// TestTamperMissingVersion: a header naming a version the key does not
// have, or version 0, is ErrInvalidCiphertext; a header moved to a version
// below the minimum decryption version is ErrInvalidCiphertext too, never
// ErrKeyVersionNotAllowed, since the version is checked only once the
// ciphertext is authenticated.
func TestTamperMissingVersion(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.AES256CBC, custodian.HPKEX25519MLKEM768} {
		name := "ver/" + string(typ)
		opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
		opMust(c.RotateKey(ctx, name))(t)
		ct := opMust(c.Encrypt(ctx, name, []byte("v2"), nil))(t)
		if v := binary.BigEndian.Uint32(ct[14:18]); v != 2 {
			t.Fatalf("%s: header version %d, want 2", typ, v)
		}
		two := 2
		opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &two}))(t)
		for _, v := range []uint32{0, 1, 3, 4, 1 << 31, 0xffffffff} {
			mod := slices.Clone(ct)
			binary.BigEndian.PutUint32(mod[14:18], v)
			_, err := c.Decrypt(ctx, mod, nil)
			opExpectInvalid(t, err, fmt.Sprintf("%s header naming version %d", typ, v))
		}
		if pt := opMust(c.Decrypt(ctx, ct, nil))(t); string(pt) != "v2" {
			t.Errorf("%s: unmodified ciphertext decrypts to %q", typ, pt)
		}
	}
}

// TestTamperCBCNoPaddingOracle: every CBC failure is the same error value
// with the same message, so that a caller cannot tell a padding failure
// from any other (Vaudenay's padding oracle needs exactly that).
func TestTamperCBCNoPaddingOracle(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	const name = "cbc"
	opCreate(t, c, name, &custodian.CreateOptions{Type: custodian.AES256CBC, Exportable: true})
	key := custodian.Reveal(opMust(c.ExportKey(ctx, name, nil))(t))
	// encryptBlocks is CBC without padding: any final block we like.
	encryptBlocks := func(key, pt []byte) []byte {
		out := make([]byte, 16+len(pt))
		rand.Read(out[:16])
		cipher.NewCBCEncrypter(opMust(aes.NewCipher(key))(t), out[:16]).CryptBlocks(out[16:], pt)
		return out
	}
	goodPad := append(opPayload(16), bytes.Repeat([]byte{16}, 16)...)
	if pt := opMust(c.DecryptRaw(ctx, name, encryptBlocks(key, goodPad), nil))(t); !bytes.Equal(pt, opPayload(16)) {
		t.Fatal("a hand-made CBC ciphertext with good padding does not decrypt: the test's CBC is wrong")
	}
	badPads := map[string][]byte{
		"pad byte 0":       append(opPayload(15), 0),
		"pad byte 17":      append(opPayload(15), 17),
		"pad byte 255":     append(opPayload(15), 255),
		"inconsistent pad": append(opPayload(13), 1, 3, 3),
		"pad 16 of 15":     append([]byte{1}, bytes.Repeat([]byte{16}, 15)...),
	}

	var raw []opFailure
	for what, pt := range badPads {
		_, err := c.DecryptRaw(ctx, name, encryptBlocks(key, pt), nil)
		raw = append(raw, opFailure{"padding: " + what, err})
	}
	for _, n := range []int{0, 15, 16, 17, 31, 33} {
		_, err := c.DecryptRaw(ctx, name, opPayload(n), nil)
		raw = append(raw, opFailure{fmt.Sprintf("length %d", n), err})
	}
	_, err := c.DecryptRaw(ctx, name, encryptBlocks(key, goodPad), &custodian.RawOptions{AssociatedData: []byte("ad")})
	raw = append(raw, opFailure{"associated data", err})
	opSameFailure(t, raw)

	// The seed API gives the same, for padding and for length.
	_, errPad := c.DecryptDataAES(ctx, name, opB64Std.EncodeToString(encryptBlocks(key, badPads["pad byte 0"])))
	_, errLen := c.DecryptDataAES(ctx, name, opB64Std.EncodeToString(opPayload(20)))
	opSameFailure(t, []opFailure{{"seed padding", errPad}, {"seed length", errLen}, raw[0]})

	// Self-describing form: a MAC failure, and a ciphertext with a valid MAC
	// (made with the exported key, as the HMAC construction of the format
	// prescribes) whose padding is bad, fail identically.
	template := opMust(c.Encrypt(ctx, name, []byte("x"), nil))(t)
	header := template[:opHeaderSize]
	macKey := opMust(hkdf.Key(sha256.New, key, nil, "keycustodian aes256-cbc hmac-sha256 v1", 32))(t)
	// The AES key of the self-describing form (docs/formats.md): derived
	// from the key, never the key itself, so the body is no raw ciphertext.
	encKey := opMust(hkdf.Key(sha256.New, key, nil, "keycustodian aes256-cbc aes-256 v1", 32))(t)
	seal := func(ivct, aad []byte) custodian.Ciphertext {
		m := hmac.New(sha256.New, macKey)
		m.Write(header)
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(aad))))
		m.Write(aad)
		m.Write(ivct)
		return slices.Concat(header, ivct, m.Sum(nil))
	}
	if pt, err := c.Decrypt(ctx, seal(encryptBlocks(encKey, goodPad), nil), nil); err != nil || !bytes.Equal(pt, opPayload(16)) {
		t.Fatalf("a hand-made self-describing CBC ciphertext does not decrypt (%v): the test's MAC is wrong", err)
	}
	var self []opFailure
	for what, pt := range badPads {
		_, err := c.Decrypt(ctx, seal(encryptBlocks(encKey, pt), nil), nil)
		self = append(self, opFailure{"valid MAC, bad padding: " + what, err})
	}
	bad := seal(encryptBlocks(encKey, goodPad), nil)
	bad[len(bad)-1] ^= 1
	_, err = c.Decrypt(ctx, bad, nil)
	self = append(self, opFailure{"bad MAC", err})
	_, err = c.Decrypt(ctx, seal(encryptBlocks(encKey, goodPad), []byte("ad")), nil)
	self = append(self, opFailure{"MAC over other associated data", err})
	_, err = c.Decrypt(ctx, seal(opPayload(40), nil), nil)
	self = append(self, opFailure{"valid MAC, length not a block multiple", err})
	opSameFailure(t, self)
	opSameFailure(t, []opFailure{self[0], raw[0]})
}

// TestTamperRawFormBypass: a self-describing ciphertext binds its header
// and associated data; the raw forms bind neither. No raw decryption may
// open the body of a self-describing ciphertext without the associated
// data, or the binding protects nothing against anyone allowed to decrypt
// with the key.
//
// The aes256-cbc case fails today: the body of its self-describing form
// without the HMAC tag is exactly the raw form under the same AES key, so
// DecryptRaw (and the seed's DecryptDataAES) strip the MAC and the
// associated data. The self-describing form must encrypt under a key of
// its own (derived with HKDF, like its MAC key).
func TestTamperRawFormBypass(t *testing.T) {
	c, names := opTamperKeys(t)
	ctx := t.Context()
	secret := []byte("salary of employee 42: 123456")
	aad := []byte("tenant=A")
	for _, tc := range opTamperCases {
		t.Run(string(tc.alg), func(t *testing.T) {
			name := names[tc.typ]
			ct := opMust(c.Encrypt(ctx, name, secret, &custodian.EncryptOptions{Algorithm: tc.alg, AssociatedData: aad}))(t)
			_, err := c.Decrypt(ctx, ct, nil)
			opExpectInvalid(t, err, "self-describing ciphertext without its associated data")
			bodies := map[string][]byte{"body": ct[opHeaderSize:]}
			if tc.alg == custodian.AlgAES256CBC {
				bodies["body without the HMAC tag"] = ct[opHeaderSize : len(ct)-sha256.Size]
			}
			for what, body := range bodies {
				for _, rawAAD := range [][]byte{nil, aad} {
					if pt, err := c.DecryptRaw(ctx, name, body, &custodian.RawOptions{Algorithm: tc.alg, AssociatedData: rawAAD}); err == nil && bytes.Equal(pt, secret) {
						t.Errorf("DecryptRaw (associated data %q) opens the %s of a self-describing %s ciphertext: its header binding and associated data are bypassed", rawAAD, what, tc.alg)
					}
				}
			}
			if tc.alg == custodian.AlgAES256CBC {
				body := ct[opHeaderSize : len(ct)-sha256.Size]
				if pt, err := c.DecryptDataAES(ctx, name, opB64Std.EncodeToString(body)); err == nil && pt == string(secret) {
					t.Error("DecryptDataAES opens the body of a self-describing aes256-cbc ciphertext")
				}
			}
		})
	}
}

// opFailure is a failed decryption and what caused it.
type opFailure struct {
	what string
	err  error
}

// opSameFailure checks that every failure is ErrInvalidCiphertext, wrapped
// directly in a *custodian.Error, with one and the same message.
func opSameFailure(t *testing.T, fs []opFailure) {
	t.Helper()
	var msg string
	for i, f := range fs {
		opExpectInvalid(t, f.err, f.what)
		var e *custodian.Error
		if !errors.As(f.err, &e) || e.Err != custodian.ErrInvalidCiphertext {
			t.Errorf("%s: %#v is not *custodian.Error{Err: ErrInvalidCiphertext}: its detail could tell failures apart", f.what, f.err)
		}
		if i == 0 {
			msg = f.err.Error()
		} else if f.err.Error() != msg {
			t.Errorf("%s fails with %q, %s with %q: the messages must not differ", fs[0].what, msg, f.what, f.err.Error())
		}
	}
}
