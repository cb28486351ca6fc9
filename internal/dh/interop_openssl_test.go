package dh

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests drive the openssl command line (OpenSSL 3). They skip when it
// is missing; CI installs it.

func opensslPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found in PATH; install OpenSSL 3 (CI does) to run the interoperability tests")
	}
	out, err := exec.Command(path, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "OpenSSL 3") {
		t.Skipf("these tests need OpenSSL 3, found %q (%v)", strings.TrimSpace(string(out)), err)
	}
	return path
}

// runTool runs a command and returns its standard output, failing the test
// with its standard error if it fails.
func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readPEMFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return block.Bytes
}

// writeOurKey stores k as ours.pem and ours_pub.pem in dir.
func writeOurKey(t *testing.T, dir string, k *PrivateKey) (priv, pub string) {
	t.Helper()
	privDER, err := k.MarshalPKCS8()
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := k.PublicKey().MarshalPKIX()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, "ours.pem"), filepath.Join(dir, "ours_pub.pem")
	writePEM(t, priv, "PRIVATE KEY", privDER)
	writePEM(t, pub, "PUBLIC KEY", pubDER)
	return priv, pub
}

// opensslKey generates a key with openssl from genpkey arguments and
// returns its files and parsed forms.
func opensslKey(t *testing.T, openssl, dir string, genArgs ...string) (privPath, pubPath string, priv *PrivateKey, pub *PublicKey) {
	t.Helper()
	privPath, pubPath = filepath.Join(dir, "theirs.pem"), filepath.Join(dir, "theirs_pub.pem")
	runTool(t, openssl, append(append([]string{"genpkey"}, genArgs...), "-out", privPath)...)
	runTool(t, openssl, "pkey", "-in", privPath, "-pubout", "-out", pubPath)
	priv, err := ParsePKCS8(readPEMFile(t, privPath))
	if err != nil {
		t.Fatalf("ParsePKCS8(openssl key): %v", err)
	}
	pub, err = ParsePKIX(readPEMFile(t, pubPath))
	if err != nil {
		t.Fatalf("ParsePKIX(openssl key): %v", err)
	}
	if !priv.PublicKey().Equal(pub) {
		t.Fatal("openssl public key does not match the parsed private key")
	}
	return privPath, pubPath, priv, pub
}

func opensslDerive(t *testing.T, openssl, priv, peer string, pad bool) []byte {
	t.Helper()
	args := []string{"pkeyutl", "-derive", "-inkey", priv, "-peerkey", peer}
	if pad {
		args = append(args, "-pkeyopt", "pad:1")
	}
	return runTool(t, openssl, args...)
}

func TestOpenSSLInterop(t *testing.T) {
	openssl := opensslPath(t)
	for _, tc := range []struct {
		name    string
		group   *Group
		genArgs func(dir string) []string
	}{
		{"ffdhe2048", FFDHE2048(), func(string) []string { return []string{"-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"} }},
		{"ffdhe3072", FFDHE3072(), func(string) []string { return []string{"-algorithm", "DH", "-pkeyopt", "group:ffdhe3072"} }},
		{"x942", x942Group(t), func(dir string) []string {
			params := filepath.Join(dir, "params.pem")
			writeFile(t, params, x942Group(t).ParametersPEM())
			return []string{"-paramfile", params}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			theirPriv, theirPubPath, theirKey, theirPub := opensslKey(t, openssl, dir, tc.genArgs(dir)...)
			if !theirKey.Group().Equal(tc.group) {
				t.Fatalf("openssl key is in %v, want %v", theirKey.Group(), tc.group)
			}
			ours := mustGenerateKey(t, tc.group)
			ourPriv, ourPub := writeOurKey(t, dir, ours)

			want, err := ours.SharedSecret(theirPub)
			if err != nil {
				t.Fatal(err)
			}
			if got := opensslDerive(t, openssl, theirPriv, ourPub, true); !bytes.Equal(got, want) {
				t.Error("openssl (their key, our public key) derived a different secret")
			}
			if got := opensslDerive(t, openssl, ourPriv, theirPubPath, true); !bytes.Equal(got, want) {
				t.Error("openssl (our PKCS #8 key, their public key) derived a different secret")
			}
			if got, err := theirKey.SharedSecret(ours.PublicKey()); err != nil || !bytes.Equal(got, want) {
				t.Errorf("their parsed key derived a different secret (%v)", err)
			}
			// OpenSSL's own checks on our encodings: the private key's
			// range and full public-key validation (which fails, for
			// example, for p-2 in ffdhe2048).
			runTool(t, openssl, "pkey", "-in", ourPriv, "-check", "-noout")
			runTool(t, openssl, "pkey", "-pubin", "-in", ourPub, "-pubcheck", "-noout")
		})
	}
}

// TestOpenSSLPadding pins down the leading-zero behaviour: our secret keeps
// it, OpenSSL's pkeyutl keeps it only with -pkeyopt pad:1.
func TestOpenSSLPadding(t *testing.T) {
	t.Parallel()
	openssl := opensslPath(t)
	dir := t.TempDir()
	theirPriv, _, _, theirPub := opensslKey(t, openssl, dir, "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048")
	var ours *PrivateKey
	var want []byte
	for i := 0; want == nil || want[0] != 0; i++ {
		if i > 5000 {
			t.Fatal("no secret with a leading zero byte in 5000 tries")
		}
		ours = mustGenerateKey(t, FFDHE2048())
		var err error
		if want, err = ours.SharedSecret(theirPub); err != nil {
			t.Fatal(err)
		}
	}
	_, ourPub := writeOurKey(t, dir, ours)
	if got := opensslDerive(t, openssl, theirPriv, ourPub, true); !bytes.Equal(got, want) {
		t.Fatalf("with pad:1 openssl gave %d bytes starting %x, want 256 starting %x", len(got), got[:2], want[:2])
	}
	got := opensslDerive(t, openssl, theirPriv, ourPub, false)
	switch {
	case bytes.Equal(got, bytes.TrimLeft(want, "\x00")):
		t.Logf("openssl pkeyutl -derive strips leading zeros by default (%d bytes)", len(got))
	case bytes.Equal(got, want):
		t.Logf("openssl pkeyutl -derive pads by default")
	default:
		t.Fatal("openssl without pad:1 derived an unrelated secret")
	}
}

func TestOpenSSLReadsParameters(t *testing.T) {
	openssl := opensslPath(t)
	dir := t.TempDir()
	for _, g := range []*Group{FFDHE2048(), FFDHE3072(), FFDHE4096(), FFDHE6144(), FFDHE8192()} {
		// openssl's own rendering of the named group is byte for byte ours.
		theirs := runTool(t, openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:"+g.Name())
		if !bytes.Equal(theirs, g.ParametersPEM()) {
			t.Errorf("%v: ParametersPEM differs from openssl genpkey -genparam", g)
		}
		if parsed, err := ParseParameters(theirs); err != nil || parsed != g {
			t.Errorf("%v: ParseParameters(openssl output) = %v, %v", g, parsed, err)
		}
		path := filepath.Join(dir, g.Name()+".pem")
		writeFile(t, path, g.ParametersPEM())
		text := runTool(t, openssl, "dhparam", "-in", path, "-text", "-noout")
		if !strings.Contains(string(text), "GROUP: "+g.Name()) {
			t.Errorf("%v: openssl dhparam does not recognise the group:\n%s", g, text)
		}
	}
	for _, g := range []*Group{x942Group(t), customSafePrimeGroup(t)} {
		path := filepath.Join(dir, "custom.pem")
		writeFile(t, path, g.ParametersPEM())
		out := runTool(t, openssl, "pkeyparam", "-in", path, "-check", "-noout")
		if !strings.Contains(string(out), "Parameters are valid") {
			t.Errorf("%v: openssl pkeyparam -check: %s", g, out)
		}
	}
}

// TestOpenSSLRegeneratesFIPS186 checks our FIPS 186-4 A.1.1.2 and A.2.1
// implementation against OpenSSL's: given our seed, OpenSSL must arrive at
// the same p, q, counter and g.
func TestOpenSSLRegeneratesFIPS186(t *testing.T) {
	t.Parallel()
	openssl := opensslPath(t)
	tr := &tracker{ctx: context.Background(), start: time.Now()}
	ours, err := generateFIPS186(2048, 256, tr)
	if err != nil {
		t.Fatal(err)
	}
	out := runTool(t, openssl, "genpkey", "-genparam", "-algorithm", "DHX",
		"-pkeyopt", "type:fips186_4", "-pkeyopt", "pbits:2048", "-pkeyopt", "qbits:256",
		"-pkeyopt", "digest:SHA256", "-pkeyopt", "hexseed:"+hex.EncodeToString(ours.seed))
	block, _ := pem.Decode(out)
	if block == nil || block.Type != pemTypeX942 {
		t.Fatalf("unexpected openssl output:\n%s", out)
	}
	var theirs x942Params
	if _, err := asn1.Unmarshal(block.Bytes, &theirs); err != nil {
		t.Fatal(err)
	}
	if theirs.P.Cmp(ours.p) != 0 || theirs.Q.Cmp(ours.q) != 0 {
		t.Fatal("openssl derived different p or q from our seed")
	}
	if !bytes.Equal(theirs.Validation.Seed.Bytes, ours.seed) || theirs.Validation.PgenCounter.Int64() != int64(ours.counter) {
		t.Errorf("seed or counter differ: counter %v, ours %d", theirs.Validation.PgenCounter, ours.counter)
	}
	if theirs.G.Cmp(generatorFIPS186(ours.p, ours.q)) != 0 {
		t.Error("openssl chose a different generator")
	}
}

// TestOpenSSLShortExponents imports many OpenSSL ffdhe2048 keys. OpenSSL
// draws their exponents uniformly below 2^225 (RFC 7919 appendix A.1), so
// about a quarter have fewer than 224 bits and one in 512 fewer than 217.
// If the import floor (minExponentBits) were raised to the group's nominal
// 224 bits, this would fail in all but one run in 10 000 (0.75^32); with
// 192 it fails once in 2^29 runs (32 keys, each under 2^191 once in 2^34).
func TestOpenSSLShortExponents(t *testing.T) {
	t.Parallel()
	openssl := opensslPath(t)
	const keys = 32
	shortest := 1 << 30
	for range keys {
		der, _ := pem.Decode(runTool(t, openssl, "genpkey", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"))
		if der == nil {
			t.Fatal("openssl genpkey wrote no PEM")
		}
		k, err := ParsePKCS8(der.Bytes)
		if err != nil {
			t.Fatalf("ParsePKCS8(openssl ffdhe2048 key): %v", err)
		}
		bits := new(big.Int).SetBytes(k.x).BitLen()
		if bits > 225 {
			t.Fatalf("openssl ffdhe2048 exponent has %d bits; the test assumes at most 225", bits)
		}
		shortest = min(shortest, bits)
	}
	t.Logf("shortest of %d OpenSSL exponents: %d bits", keys, shortest)
}
