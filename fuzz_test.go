package custodian_test

// Fuzz targets of the public wire formats and of Decrypt. The seed corpus
// under testdata/fuzz holds real ciphertexts of every encryption
// algorithm; `go test` runs the seeds, and
//
//	go test -run '^$' -fuzz '^FuzzDecrypt$' -fuzztime 30s -fuzzminimizetime 1x .
//
// fuzzes. Keep -fuzzminimizetime that small: an input that reaches an RSA
// or HPKE key costs up to an RSA-4096 private-key operation or an ML-KEM
// decapsulation, so with the default (up to 60s of minimizing per new
// interesting input) the workers stall in minimization: on 2 cores, 3 658
// executions in 30s, all in the first 3s, against about 200 000 with 1x.
// With 1x new inputs are kept as found, unminimized.
//
// Decrypt can only open a seed if the fuzzing Custodian holds the
// very keys that made it, with the same random key ids: fzFixture imports
// fixed material under testing/cryptotest.SetGlobalRandom, so every process
// (the fuzzing coordinator and each worker) gets the same ids.
// TestFuzzDecryptSeeds checks that the real seeds still open; if the way
// the library draws randomness changes, rewrite the corpus with
//
//	go test -run '^TestFuzzDecryptSeeds$' -fzupdate .

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/envelope"
)

var fzUpdate = flag.Bool("fzupdate", false, "rewrite the seed corpora of FuzzDecrypt, FuzzParseCiphertext and FuzzEnvelopeParse")

// fzSeed seeds the deterministic randomness the fixture is created under.
const fzSeed = 0x6b63_667a // "kcfz"

// fzAAD is the only associated data any seed was sealed with.
var fzAAD = []byte("fz associated data")

// fzPrimes are fixed RSA primes, so that the fixture's RSA keys (and the
// seeds they encrypted) never change. They were made by rsa.GenerateKey.
var fzPrimes = map[int]struct{ p, q string }{
	2048: {
		p: "db83751154f514ce25beff8a89847e6c91e835363395b4b9bd85f213e9c5ed4d" +
			"e9f07e5947f9b679216ea54c60279920c00cfa2e4c2843b763edd7793ee73df0" +
			"4099610123fe86a4cf7f17cfff1d389e6b864b61099a63095a8822e9adeb9f94" +
			"46fcd931110281d5bb0623824a434070647971a7fb993c2273ad73230c629241",
		q: "f38f654faf090225d95bde30b41967be5ea76544f726a3ff6a0d8129e1614b95" +
			"382f8d9fa73e213a9e19339028e59bd8ea4acff0243843be5098e9648bb42165" +
			"5226ca207cad1067b502b3a234840c41a64a0c0fc7d1c624c987b7391da13d8d" +
			"83d16beb90596c76518fb769d32978598ff9e4849fd8d1591570c067057268ad",
	},
	3072: {
		p: "c50aada4c5eb0f8429296254a30d1acc67e48045e18f0212eab87a26d5c8cccc" +
			"e148b8689649edd12d3688bb3927ccafe31a433d8bf11736ae0e89f227d75cae" +
			"5ce251d2f9e552bece2b8a0a0d186d5bad97c45f58cfda881c4c5c6f02edbfd5" +
			"ae2b093a608f6cf61be96263972d84311b700c13fe26c4a199cb40a667a16b49" +
			"e9ccf4c0bbd46594fd6bd93b19f3aaf4eb74630baae2fa82eeb5ce421d720a31" +
			"fd718fb1b5fc860177f6807a917115ddfe33edb12c4601691ebc2e53a105eed9",
		q: "d000a2f58dceb3bfe833bc69804542c44a0278cc2891f08e9d52f8fc51086230" +
			"fdfb2d23d5a6b2eaeb746462562c612ad7bbb4b6635026b251266f35f31247d6" +
			"c1aa08278d176965d7ec19bf17f891e517523adbfe569b11b4c68403759e9715" +
			"8aed549519c518e65b426f02534b3d016170df29db2dbfdd0b8bc0e7c78d0c62" +
			"8bba47cb1773014eeee669147beeca76ac9950a66540fe94d5ec107ab5cae118" +
			"f11e0876db736786b13a81ed15249a94854cec04208d709f71f9ef02efc35b4b",
	},
	4096: {
		p: "f1a447eaec278616f8dd12f2d8cc2338cab796372f1505f60e2441b83d01e7e6" +
			"0c8e38f49ed9232a9049159f3a00e52d24fda6546f53d8a32ded2dc25b7cc880" +
			"6b9efdd1ccca1262e5b458d4554eefb10940106efdb310fab5a26412e325e1bf" +
			"a73b4db5074d67e4a5f694f819fe87a2ef69a0abae32638f7e2d4cdd0f2e0870" +
			"b1a41381eb9abd9abd936ec83d99a5f802feabcdeddfaab5ba858374f43a5e0e" +
			"37dc98f739256a8fe756c4f58c9c7a50a354ca99eb55797854b26360328637e2" +
			"4a5315f13cb9299f745b822e2a1d0e3da2fdf358d06c5367ae649df38267a25f" +
			"90e8111f09042dd6162cb30353381d0bb698e1c6de8bb9eeaf8dde3f6d628b0f",
		q: "d39015da236912eeda6dfa1da85d33084d00d879716ee975c16ae0b38a1646d5" +
			"7dde179040424308b49f3c5d4557f26b80852d21fb9966fcaeff0ddc405f02bf" +
			"1c3e6fd5a06fdcf667b970eae95cefaa47a483d45ac5563e0637f09284ba0a17" +
			"35733d75a3c54453df06426d90c1f978c643c3cef4f6400c185d17a5786e784e" +
			"3b6452b7e1c7748dcb013278fca3013f2cbc959b3d030f367bec50fdfb588d33" +
			"eee1955aca92f6ce5baba2c11818c243dffd5f4eae49fa04922186e423f2e595" +
			"8ce5d87109516a8bcb5ef9fdc70af93d0df30dfde05e71d98627e92be78da50b" +
			"4d2922b6ccef0697371e4f86042e84ad750f526caabe1b724bb556b579c247cb",
	}}

// fzRSAKey returns the fixed RSA key of the given size as PKCS#8.
func fzRSAKey(t testing.TB, bits int) []byte {
	t.Helper()
	p, _ := new(big.Int).SetString(fzPrimes[bits].p, 16)
	q, _ := new(big.Int).SetString(fzPrimes[bits].q, 16)
	e := big.NewInt(65537)
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: int(e.Int64())},
		D:         new(big.Int).ModInverse(e, phi),
		Primes:    []*big.Int{p, q},
	}
	k.Precompute()
	if err := k.Validate(); err != nil {
		t.Fatalf("fixed rsa-%d key: %v", bits, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// fzKey is one key of the fixture.
type fzKey struct {
	typ       custodian.KeyType
	plaintext []byte // what every seed of this key encrypts
}

// fzFixtureT is a Custodian holding one key of each encrypting type,
// named for its type, with ids that are the same in every process.
type fzFixtureT struct {
	c    *custodian.Custodian
	keys map[string]fzKey // by hex key id
	ids  map[custodian.KeyType]string
}

var (
	fzOnce    sync.Once
	fzFixture *fzFixtureT
	fzErr     error
)

// fzEncryptingTypes are the key types that encrypt.
var fzEncryptingTypes = []custodian.KeyType{
	custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.AES256CBC,
	custodian.RSA2048, custodian.RSA3072, custodian.RSA4096,
	custodian.HPKEX25519MLKEM768,
}

// fzFixtureFor returns the fixture, building it on first use. t must not
// be parallel: the fixture is made under process-wide deterministic
// randomness.
func fzFixtureFor(t *testing.T) *fzFixtureT {
	t.Helper()
	fzOnce.Do(func() {
		material := map[custodian.KeyType][]byte{}
		for _, typ := range fzEncryptingTypes {
			switch typ {
			case custodian.RSA2048:
				material[typ] = fzRSAKey(t, 2048)
			case custodian.RSA3072:
				material[typ] = fzRSAKey(t, 3072)
			case custodian.RSA4096:
				material[typ] = fzRSAKey(t, 4096)
			default:
				// 32 bytes: an AES-256 or ChaCha20 key, an HPKE KEM seed.
				sum := sha256.Sum256([]byte("keycustodian fuzz key " + string(typ)))
				material[typ] = sum[:]
			}
		}
		// From here on, every random byte the library draws (the barrier's
		// root key, key ids, sealing nonces) comes from the fixed seed.
		cryptotest.SetGlobalRandom(t, fzSeed)
		c, err := custodian.New(custodian.Options{})
		if err != nil {
			fzErr = err
			return
		}
		fx := &fzFixtureT{c: c, keys: map[string]fzKey{}, ids: map[custodian.KeyType]string{}}
		for _, typ := range fzEncryptingTypes {
			k, err := c.ImportKey(context.Background(), string(typ), material[typ], &custodian.CreateOptions{Type: typ})
			if err != nil {
				fzErr = fmt.Errorf("import %s: %w", typ, err)
				return
			}
			fx.keys[k.ID] = fzKey{typ: typ, plaintext: []byte("fz plaintext of " + string(typ))}
			fx.ids[typ] = k.ID
		}
		fzFixture = fx
	})
	if fzErr != nil {
		t.Fatalf("fuzz fixture: %v", fzErr)
	}
	return fzFixture
}

// fzAlgorithms lists the encryption algorithms of each fixture key type.
func fzAlgorithms(typ custodian.KeyType) []custodian.Algorithm {
	switch typ {
	case custodian.RSA2048, custodian.RSA3072, custodian.RSA4096:
		// rsa-pkcs1v15 has no self-describing form: it binds no header.
		return []custodian.Algorithm{custodian.AlgRSAOAEPSHA256, custodian.AlgRSAOAEPSHA1}
	}
	return []custodian.Algorithm{custodian.Algorithm(typ)}
}

// fzCheckDecrypt is FuzzDecrypt's property: Decrypt never panics, fails
// only with ErrInvalidCiphertext inside a *custodian.Error, and when it
// succeeds returns the plaintext every seed of that key was made of, under
// associated data some seed was made with.
func fzCheckDecrypt(t *testing.T, fx *fzFixtureT, ct, aad []byte) (ok bool) {
	t.Helper()
	pt, err := fx.c.Decrypt(context.Background(), ct, &custodian.DecryptOptions{AssociatedData: aad})
	if err != nil {
		var ce *custodian.Error
		if !errors.Is(err, custodian.ErrInvalidCiphertext) || !errors.As(err, &ce) {
			t.Fatalf("Decrypt(%x, aad %q): %v (%T), want a *custodian.Error wrapping ErrInvalidCiphertext", ct, aad, err, err)
		}
		if pt != nil {
			t.Fatalf("Decrypt failed but returned %d bytes", len(pt))
		}
		return false
	}
	h, _, _, perr := envelope.Parse(ct)
	if perr != nil {
		t.Fatalf("Decrypt accepted %x, which does not parse: %v", ct, perr)
	}
	k, known := fx.keys[hex.EncodeToString(h.KeyID[:])]
	if !known {
		t.Fatalf("Decrypt accepted %x under a key id the fixture does not have", ct)
	}
	if !bytes.Equal(pt, k.plaintext) {
		t.Fatalf("Decrypt(%x) under %s = %q, want %q: a modified ciphertext opened to other plaintext", ct, k.typ, pt, k.plaintext)
	}
	if len(aad) != 0 && !bytes.Equal(aad, fzAAD) {
		t.Fatalf("Decrypt(%x) under %s accepted associated data %q that no ciphertext was sealed with", ct, k.typ, aad)
	}
	return true
}

func FuzzDecrypt(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{envelope.FormatV1}, fzAAD)
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		fzCheckDecrypt(t, fzFixtureFor(t), ct, aad)
	})
}

// fzCheckParse is FuzzParseCiphertext's property: ParseCiphertext never
// panics, fails only with ErrInvalidCiphertext, and what it accepts is the
// canonical text form of its result, which parses back to the same bytes,
// also through encoding.TextMarshaler.
func fzCheckParse(t *testing.T, s string) {
	ct, err := custodian.ParseCiphertext(s)
	if err != nil {
		if !errors.Is(err, custodian.ErrInvalidCiphertext) {
			t.Fatalf("ParseCiphertext(%q): %v, want ErrInvalidCiphertext", s, err)
		}
		return
	}
	again, err := custodian.ParseCiphertext(ct.String())
	if err != nil || !bytes.Equal(again, ct) {
		t.Fatalf("ParseCiphertext(%q).String() = %q does not parse back: %x, %v", s, ct.String(), again, err)
	}
	text, err := ct.MarshalText()
	if err != nil || string(text) != ct.String() {
		t.Fatalf("MarshalText = %q, %v; String = %q", text, err, ct.String())
	}
	var un custodian.Ciphertext
	if err := un.UnmarshalText(text); err != nil || !bytes.Equal(un, ct) {
		t.Fatalf("UnmarshalText(%q) = %x, %v, want %x", text, un, err, ct)
	}
	if ct.String() != s {
		t.Fatalf("ParseCiphertext accepted %q, which is not the canonical text %q of the same ciphertext", s, ct.String())
	}
}

func FuzzParseCiphertext(f *testing.F) {
	for _, s := range []string{"", envelope.TextPrefix, envelope.TextPrefix + "AQ", "kc1:AQID", "KC1:AQID", "kc1:AQID=="} {
		f.Add(s)
	}
	f.Fuzz(fzCheckParse)
}

// fzFuzzerSaved matches the names go test gives the failing inputs it saves.
var fzFuzzerSaved = regexp.MustCompile(`^[0-9a-f]{16}$`)

// fzCorpusEntry is one file of a seed corpus: its name and its arguments.
type fzCorpusEntry struct {
	name string
	args []any // []byte or string
}

// fzWriteCorpus replaces the seeds of dir with entries, in the format
// `go test` reads. Inputs the fuzzer saved (named by a 16-digit hash) stay.
func fzWriteCorpus(t *testing.T, dir string, entries []fzCorpusEntry) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		if !fzFuzzerSaved.MatchString(f.Name()) {
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range entries {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range e.args {
			switch a := a.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", a)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", a)
			default:
				t.Fatalf("corpus argument of type %T", a)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fzReadCorpusFile parses a corpus file of []byte and string arguments.
func fzReadCorpusFile(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a go test fuzz v1 file", path)
	}
	var args []any
	for _, l := range lines[1:] {
		kind, quoted, ok := strings.Cut(l, "(")
		if !ok || !strings.HasSuffix(quoted, ")") {
			t.Fatalf("%s: malformed line %q", path, l)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		switch kind {
		case "[]byte":
			args = append(args, []byte(s))
		case "string":
			args = append(args, s)
		default:
			t.Fatalf("%s: argument of type %s", path, kind)
		}
	}
	return args
}

// fzSeedCiphertexts encrypts each fixture key's plaintext with each of its
// algorithms, without and (where the algorithm binds it) with fzAAD.
func fzSeedCiphertexts(t *testing.T, fx *fzFixtureT) (names []string, cts map[string]custodian.Ciphertext, aads map[string][]byte) {
	t.Helper()
	cts, aads = map[string]custodian.Ciphertext{}, map[string][]byte{}
	for _, typ := range fzEncryptingTypes {
		pt := fx.keys[fx.ids[typ]].plaintext
		for _, alg := range fzAlgorithms(typ) {
			for _, aad := range [][]byte{nil, fzAAD} {
				name := string(alg)
				if typ != custodian.KeyType(alg) {
					name = string(typ) + "-" + string(alg)
				}
				if aad != nil {
					name += "-aad"
				}
				ct, err := fx.c.Encrypt(context.Background(), string(typ), pt, &custodian.EncryptOptions{Algorithm: alg, AssociatedData: aad})
				if err != nil {
					t.Fatalf("encrypt seed %s: %v", name, err)
				}
				names = append(names, name)
				cts[name], aads[name] = ct, aad
			}
		}
	}
	return names, cts, aads
}

// TestFuzzDecryptSeeds checks that every real-* seed of FuzzDecrypt opens
// to its plaintext in the fixture, so the corpus exercises successful
// decryption and not only rejection, and that every refused-* seed (a
// genuine body under a header that must not open it) is refused. With
// -fzupdate it first rewrites the three seed corpora.
func TestFuzzDecryptSeeds(t *testing.T) {
	fx := fzFixtureFor(t)
	if *fzUpdate {
		fzUpdateCorpora(t, fx)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecrypt")
	files, err := filepath.Glob(filepath.Join(dir, "real-*"))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, typ := range fzEncryptingTypes {
		want += 2 * len(fzAlgorithms(typ)) // without and with associated data
	}
	if len(files) != want {
		t.Fatalf("%s has %d real-* seeds, want %d; rewrite with -fzupdate", dir, len(files), want)
	}
	for _, f := range files {
		args := fzReadCorpusFile(t, f)
		ct, aad := args[0].([]byte), args[1].([]byte)
		if !fzCheckDecrypt(t, fx, ct, aad) {
			t.Errorf("seed %s does not decrypt in the fixture: the fixture's key ids or the ciphertext format changed; rewrite the corpus with -fzupdate", f)
		}
	}
	refused, err := filepath.Glob(filepath.Join(dir, "refused-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) == 0 {
		t.Fatalf("%s has no refused-* seeds; rewrite with -fzupdate", dir)
	}
	for _, f := range refused {
		args := fzReadCorpusFile(t, f)
		if fzCheckDecrypt(t, fx, args[0].([]byte), args[1].([]byte)) {
			t.Errorf("seed %s decrypts; it must be refused", f)
		}
	}
}

// fzRefusedSeeds are genuine ciphertext bodies under headers that must not
// open them: an RSA PKCS#1 v1.5 body under code 0x12 (PKCS#1 v1.5 binds no
// header, so it has no self-describing form), and the raw aes256-cbc form
// under an aes256-cbc header without the MAC.
func fzRefusedSeeds(t *testing.T, fx *fzFixtureT) []fzCorpusEntry {
	t.Helper()
	ctx := context.Background()
	header := func(typ custodian.KeyType, code byte) []byte {
		id, err := hex.DecodeString(fx.ids[typ])
		if err != nil {
			t.Fatal(err)
		}
		return append(append([]byte{envelope.FormatV1, code}, id...), 0, 0, 0, 1)
	}
	var out []fzCorpusEntry
	for _, r := range []struct {
		name string
		typ  custodian.KeyType
		alg  custodian.Algorithm
		code byte
	}{
		{"refused-rsa-pkcs1v15", custodian.RSA2048, custodian.AlgRSAPKCS1v15, 0x12},
		{"refused-raw-aes256-cbc", custodian.AES256CBC, custodian.AlgAES256CBC, 0x03},
	} {
		raw, err := fx.c.EncryptRaw(ctx, string(r.typ), fx.keys[fx.ids[r.typ]].plaintext, &custodian.RawOptions{Algorithm: r.alg})
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		out = append(out, fzCorpusEntry{r.name, []any{append(header(r.typ, r.code), raw...), []byte{}}})
	}
	return out
}

// fzUpdateCorpora writes the seed corpora: real ciphertexts of every
// algorithm, truncated and modified ones, and edge cases, in binary form
// for FuzzDecrypt and FuzzEnvelopeParse and in text form for
// FuzzParseCiphertext.
func fzUpdateCorpora(t *testing.T, fx *fzFixtureT) {
	names, cts, aads := fzSeedCiphertexts(t, fx)
	var dec, env, text []fzCorpusEntry
	for _, name := range names {
		ct, aad := cts[name], aads[name]
		if aad == nil {
			aad = []byte{}
		}
		dec = append(dec, fzCorpusEntry{"real-" + name, []any{[]byte(ct), aad}})
		if bytes.HasSuffix([]byte(name), []byte("-aad")) {
			continue
		}
		flipped := bytes.Clone(ct)
		flipped[len(flipped)-1] ^= 0x80
		dec = append(dec,
			fzCorpusEntry{"truncated-" + name, []any{[]byte(ct[:len(ct)-1]), []byte{}}},
			fzCorpusEntry{"header-only-" + name, []any{[]byte(ct[:envelope.HeaderSize]), []byte{}}},
			fzCorpusEntry{"flipped-" + name, []any{flipped, []byte{}}},
		)
		env = append(env,
			fzCorpusEntry{"real-" + name, []any{[]byte(ct)}},
			fzCorpusEntry{"truncated-" + name, []any{[]byte(ct[:envelope.HeaderSize-1])}},
		)
		text = append(text,
			fzCorpusEntry{"real-" + name, []any{ct.String()}},
			fzCorpusEntry{"truncated-" + name, []any{ct.String()[:len(ct.String())-1]}},
		)
	}
	gcm := cts[string(custodian.AlgAES256GCM)]
	version0 := bytes.Clone(gcm)
	version0[envelope.HeaderSize-1], version0[envelope.HeaderSize-2], version0[envelope.HeaderSize-3], version0[envelope.HeaderSize-4] = 0, 0, 0, 0
	unknownAlg := bytes.Clone(gcm)
	unknownAlg[1] = 0xff
	format2 := bytes.Clone(gcm)
	format2[0] = 0x02
	version2 := bytes.Clone(gcm)
	version2[envelope.HeaderSize-1] = 2
	for name, b := range map[string][]byte{
		"empty": {}, "format-byte": {envelope.FormatV1}, "version-0": version0,
		"unknown-algorithm": unknownAlg, "format-2": format2, "version-2": version2,
	} {
		dec = append(dec, fzCorpusEntry{name, []any{b, []byte{}}})
		env = append(env, fzCorpusEntry{name, []any{b}})
	}
	for name, s := range map[string]string{
		"empty":          "",
		"prefix-only":    envelope.TextPrefix,
		"upper-prefix":   strings.ToUpper(envelope.TextPrefix) + gcm.String()[len(envelope.TextPrefix):],
		"padded":         gcm.String() + "==",
		"std-alphabet":   strings.NewReplacer("-", "+", "_", "/").Replace(gcm.String()),
		"trailing-space": gcm.String() + " ",
		"newline":        gcm.String()[:20] + "\n" + gcm.String()[20:],
		"crlf-end":       gcm.String() + "\r\n",
		"non-zero-pad":   envelope.TextPrefix + "AR",
	} {
		text = append(text, fzCorpusEntry{name, []any{s}})
	}
	dec = append(dec, fzRefusedSeeds(t, fx)...)
	fzWriteCorpus(t, filepath.Join("testdata", "fuzz", "FuzzDecrypt"), dec)
	fzWriteCorpus(t, filepath.Join("internal", "envelope", "testdata", "fuzz", "FuzzEnvelopeParse"), env)
	fzWriteCorpus(t, filepath.Join("testdata", "fuzz", "FuzzParseCiphertext"), text)
	t.Logf("wrote %d FuzzDecrypt, %d FuzzEnvelopeParse and %d FuzzParseCiphertext seeds", len(dec), len(env), len(text))
}
