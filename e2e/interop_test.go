package e2e

// Interoperability through the CLI and a real server: the Debian openssl
// command line and Python cryptography read what "custodian" writes and
// write what it reads. Each test skips, naming the missing tool, when it
// is not installed; .ci/run installs both.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func opensslPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/openssl"); err == nil {
		return "/usr/bin/openssl"
	}
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("the openssl command is not installed (CI installs Debian's openssl package); skipping")
	}
	return p
}

// pythonPath finds a python3 that imports cryptography, Debian's first.
var pythonPath = sync.OnceValue(func() string {
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import cryptography").Run() == nil {
			return p
		}
	}
	return ""
})

func python(t testing.TB) string {
	t.Helper()
	p := pythonPath()
	if p == "" {
		t.Skip("python3 with the cryptography package is not installed (CI installs python3-cryptography); skipping")
	}
	return p
}

// openssl runs the openssl command and returns its stdout.
func openssl(t testing.TB, tool string, args ...string) []byte {
	t.Helper()
	out, err := opensslErr(tool, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func opensslErr(tool string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(tool, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &toolError{err, stderr.String()}
	}
	return out, nil
}

type toolError struct {
	err    error
	stderr string
}

func (e *toolError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

// AES-256-CBC both ways: openssl enc decrypts our raw output with the
// exported key, and we decrypt openssl's.
func TestInteropAESCBCOpenSSL(t *testing.T) {
	tool := opensslPath(t)
	srv := startDev(t, "")
	cl := newCLI(t, srv)
	cl.ok("", "key", "create", "secure_channel_1", "--type", "aes256-cbc", "--exportable")
	cl.ok("", "key", "export", "secure_channel_1", "--out", cl.path("aes.key"))
	keyHex := hex.EncodeToString(cl.read("aes.key"))
	for i, text := range []string{"Confidential Communication", "", "exactly sixteen!", strings.Repeat("long ", 1000)} {
		raw := decodeB64(t, cl.ok(text, "encrypt", "--key", "secure_channel_1", "--format", "raw"))
		ct := cl.write("ct", raw[16:])
		if got := openssl(t, tool, "enc", "-d", "-aes-256-cbc", "-K", keyHex, "-iv", hex.EncodeToString(raw[:16]), "-in", ct); string(got) != text {
			t.Errorf("text %d: openssl enc -d of our raw ciphertext = %q", i, got)
		}

		pt := cl.write("pt", []byte(text))
		iv := decodeB64(t, cl.ok("", "random", "--bytes", "16"))
		theirs := openssl(t, tool, "enc", "-aes-256-cbc", "-K", keyHex, "-iv", hex.EncodeToString(iv), "-in", pt)
		b64 := base64.StdEncoding.EncodeToString(append(iv, theirs...))
		if got := cl.ok(b64, "decrypt", "--key", "secure_channel_1", "--format", "raw"); got != text {
			t.Errorf("text %d: decrypt --format raw of openssl's ciphertext = %q", i, got)
		}
	}
	// The check can fail: openssl under another key does not give the text.
	raw := decodeB64(t, cl.ok("x", "encrypt", "--key", "secure_channel_1", "--format", "raw"))
	if out, err := opensslErr(tool, "enc", "-d", "-aes-256-cbc", "-K", strings.Repeat("42", 32), "-iv", hex.EncodeToString(raw[:16]), "-in", cl.write("ct", raw[16:])); err == nil && string(out) == "x" {
		t.Error("openssl decrypted under a wrong key: the comparisons above prove nothing")
	}
}

// openssl pkeyutl encrypts with our exported RSA public key, PKCS#1 v1.5
// and OAEP-SHA-256, and "decrypt --format raw" reads it.
func TestInteropRSAEncryptOpenSSL(t *testing.T) {
	tool := opensslPath(t)
	srv := startDev(t, "")
	cl := newCLI(t, srv)
	cl.ok("", "key", "create", "systemRSA", "--type", "rsa-2048")
	cl.ok("", "key", "public", "systemRSA", "--out", cl.path("rsa.pem"))
	msg := cl.write("msg", []byte("Classified Information"))
	for _, tc := range []struct {
		alg  string
		opts []string
	}{
		{"rsa-pkcs1v15", nil},
		{"rsa-oaep-sha256", []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256"}},
		{"rsa-oaep-sha1", []string{"-pkeyopt", "rsa_padding_mode:oaep"}},
	} {
		ct := openssl(t, tool, append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", cl.path("rsa.pem"), "-in", msg}, tc.opts...)...)
		// As base64 on stdin, and as the raw bytes in a file.
		if got := cl.ok(base64.StdEncoding.EncodeToString(ct), "decrypt", "--key", "systemRSA", "--format", "raw", "--algorithm", tc.alg); got != "Classified Information" {
			t.Errorf("%s: decrypt of openssl's ciphertext = %q", tc.alg, got)
		}
		if got := cl.ok("", "decrypt", "--key", "systemRSA", "--format", "raw", "--algorithm", tc.alg, "--in", cl.write("ct.bin", ct)); got != "Classified Information" {
			t.Errorf("%s: decrypt of openssl's ciphertext from a file = %q", tc.alg, got)
		}
	}
	// OAEP-SHA-256 is the default; PKCS#1 v1.5 ciphertext is refused under it.
	ct := openssl(t, tool, "pkeyutl", "-encrypt", "-pubin", "-inkey", cl.path("rsa.pem"), "-in", msg, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256")
	if got := cl.ok(base64.StdEncoding.EncodeToString(ct), "decrypt", "--key", "systemRSA", "--format", "raw"); got != "Classified Information" {
		t.Errorf("decrypt with the default algorithm = %q", got)
	}
	v15 := openssl(t, tool, "pkeyutl", "-encrypt", "-pubin", "-inkey", cl.path("rsa.pem"), "-in", msg)
	cl.fail(`^custodian: decrypt "systemRSA": invalid ciphertext\n$`, base64.StdEncoding.EncodeToString(v15), "decrypt", "--key", "systemRSA", "--format", "raw")
}

// openssl verifies our ECDSA, Ed25519 and RSA signatures, and refuses
// them for another message.
func TestInteropSignaturesOpenSSL(t *testing.T) {
	tool := opensslPath(t)
	srv := startDev(t, "")
	cl := newCLI(t, srv)
	msg := cl.write("msg", []byte("the release to sign\n"))
	other := cl.write("other", []byte("another release\n"))
	for _, tc := range []struct {
		typ, usage, alg, dgst string
		pss                   bool
	}{
		{"ecdsa-p256", "", "ecdsa-sha256", "-sha256", false},
		{"ecdsa-p384", "", "ecdsa-sha384", "-sha384", false},
		{"ecdsa-p521", "", "ecdsa-sha512", "-sha512", false},
		{"ed25519", "", "ed25519", "", false},
		{"rsa-2048", "sign", "rsa-pss-sha256", "-sha256", true},
		{"rsa-3072", "sign", "rsa-pkcs1v15-sha384", "-sha384", false},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			name := tc.typ + "-" + tc.alg
			args := []string{"key", "create", name, "--type", tc.typ}
			if tc.usage != "" {
				args = append(args, "--usage", tc.usage)
			}
			cl.ok("", args...)
			pub := cl.path(name + ".pem")
			cl.ok("", "key", "public", name, "--out", pub)
			sig := cl.path(name + ".sig")
			cl.ok("", "sign", "--key", name, "--algorithm", tc.alg, "--in", msg, "--out", sig)
			verify := func(file string) error {
				if tc.dgst == "" {
					_, err := opensslErr(tool, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", file, "-sigfile", sig)
					return err
				}
				args := []string{"dgst", tc.dgst, "-verify", pub, "-signature", sig}
				if tc.pss {
					args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
				}
				_, err := opensslErr(tool, append(args, file)...)
				return err
			}
			if err := verify(msg); err != nil {
				t.Errorf("openssl rejects our %s signature: %v", tc.alg, err)
			}
			if err := verify(other); err == nil {
				t.Errorf("openssl accepts our %s signature for another message: the check proves nothing", tc.alg)
			}
			// A signature of a digest openssl computed verifies too.
			if tc.dgst != "" {
				digest := openssl(t, tool, "dgst", tc.dgst, "-binary", msg)
				cl.ok("", "sign", "--key", name, "--algorithm", tc.alg, "--digest", "--in", cl.write(name+".digest", digest), "--out", sig)
				if err := verify(msg); err != nil {
					t.Errorf("openssl rejects our --digest %s signature: %v", tc.alg, err)
				}
			}
		})
	}
}

// A Python and an OpenSSL peer agree with our X25519, ECDH and
// Diffie-Hellman keys on the shared secret "custodian agree" prints.
func TestInteropAgree(t *testing.T) {
	srv := startDev(t, "")
	cl := newCLI(t, srv)
	types := []struct {
		typ     string
		genpkey []string
	}{
		{"x25519", []string{"-algorithm", "X25519"}},
		{"ecdh-p256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}},
		{"ecdh-p384", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}},
		{"dh-ffdhe2048", []string{"-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"}},
	}
	for _, tc := range types {
		cl.ok("", "key", "create", tc.typ, "--type", tc.typ)
		cl.ok("", "key", "public", tc.typ, "--out", cl.path(tc.typ+".pem"))
	}
	t.Run("python", func(t *testing.T) {
		py := python(t)
		for _, tc := range types {
			cmd := exec.Command(py, filepath.Join("..", "testdata", "cli", "peer.py"))
			cmd.Stdin = bytes.NewReader(cl.read(tc.typ + ".pem"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: peer.py: %v\n%s", tc.typ, err, stderr.String())
			}
			var resp struct {
				PublicPEM string `json:"public_pem"`
				Shared    string `json:"shared_b64"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			want := decodeB64(t, resp.Shared)
			got := decodeB64(t, cl.ok("", "agree", "--key", tc.typ, "--peer", cl.write(tc.typ+"-py.pem", []byte(resp.PublicPEM))))
			if !bytes.Equal(got, want) || len(got) == 0 {
				t.Errorf("%s: agree with Python's key = %x, Python's exchange = %x", tc.typ, got, want)
			}
		}
	})
	t.Run("openssl", func(t *testing.T) {
		tool := opensslPath(t)
		for _, tc := range types {
			theirs := cl.path(tc.typ + "-ossl.key")
			openssl(t, tool, append([]string{"genpkey", "-out", theirs}, tc.genpkey...)...)
			pub := cl.write(tc.typ+"-ossl.pem", openssl(t, tool, "pkey", "-in", theirs, "-pubout"))
			args := []string{"pkeyutl", "-derive", "-inkey", theirs, "-peerkey", cl.path(tc.typ + ".pem")}
			if strings.HasPrefix(tc.typ, "dh-") {
				args = append(args, "-pkeyopt", "pad:1") // OpenSSL 3 strips leading zeros unless asked
			}
			want := openssl(t, tool, args...)
			got := decodeB64(t, cl.ok("", "agree", "--key", tc.typ, "--peer", pub))
			if !bytes.Equal(got, want) || len(got) == 0 {
				t.Errorf("%s: agree with openssl's key = %x, openssl derives %x", tc.typ, got, want)
			}
		}
	})
}
