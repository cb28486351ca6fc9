package custodian_test

// Byte compatibility with the outside world: the Debian openssl command
// line (OpenSSL 3.0) and Python cryptography (testdata/interop/*.py, which
// include a rebuild of the original Python module from its READMEs). Each
// test skips, naming the missing tool, when it is not installed; CI
// installs both. Helpers are prefixed "op" (see operations_test.go).

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keycustodian/custodian"
)

// opOpenSSL returns the openssl binary, preferring Debian's.
func opOpenSSL(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/openssl"); err == nil {
		return "/usr/bin/openssl"
	}
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl CLI not found (CI installs Debian's openssl package)")
	}
	return p
}

// opPythonPath finds a python3 that can import cryptography: Debian's
// /usr/bin/python3 first, then python3 on PATH.
var opPythonPath = sync.OnceValues(func() (string, string) {
	var tried []string
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		out, err := exec.Command(p, "-c", "import cryptography; print(cryptography.__version__)").CombinedOutput()
		if err == nil {
			return p, strings.TrimSpace(string(out))
		}
		tried = append(tried, p)
	}
	return "", strings.Join(tried, ", ")
})

func opPython(t testing.TB) string {
	t.Helper()
	p, info := opPythonPath()
	if p == "" {
		t.Skipf("python3 with the cryptography package not found (tried: %s; CI installs python3-cryptography)", info)
	}
	return p
}

// opPyAll sends requests to testdata/interop/interop.py in one process
// and returns its answers, in order.
func opPyAll(t testing.TB, reqs []map[string]any) []map[string]any {
	t.Helper()
	py := opPython(t)
	in := opMust(json.Marshal(reqs))(t)
	cmd := exec.Command(py, filepath.Join("testdata", "interop", "interop.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("interop.py: %v\n%s", err, stderr.String())
	}
	var resps []map[string]any
	if err := json.Unmarshal(out, &resps); err != nil || len(resps) != len(reqs) {
		t.Fatalf("interop.py: %d answers to %d requests (%v) in %q", len(resps), len(reqs), err, out)
	}
	return resps
}

// opPy sends one request to interop.py.
func opPy(t testing.TB, req map[string]any) map[string]any {
	t.Helper()
	return opPyAll(t, []map[string]any{req})[0]
}

// opPyBytes decodes a "*_b64" field of an interop.py answer.
func opPyBytes(t testing.TB, resp map[string]any, field string) []byte {
	t.Helper()
	s, ok := resp[field].(string)
	if !ok {
		t.Fatalf("interop.py answer has no %s: %v", field, resp)
	}
	return opMust(opB64Std.DecodeString(s))(t)
}

// opRun runs a command and returns its standard output; stderr goes into
// the error.
func opRun(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func opWrite(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func opPrivatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// opSeedTexts are the plaintexts of the AES tests: empty, the READMEs'
// examples, exactly one block, non-ASCII and several blocks.
var opSeedTexts = []string{
	"", "Top secret message", "Confidential Communication", "exactly16bytes!!",
	"Grüße aus Köln — ключ 🔑", strings.Repeat("0123456789", 100),
}

// (a) The seed form of EncryptDataAES against openssl enc, both ways.
func TestInteropAESCBCOpenSSL(t *testing.T) {
	openssl := opOpenSSL(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "aes", &custodian.CreateOptions{Type: custodian.AES256CBC, Exportable: true})
	key := custodian.Reveal(opMust(c.ExportKey(ctx, "aes", nil))(t))
	dir := t.TempDir()
	for i, text := range opSeedTexts {
		b64 := opMust(c.EncryptDataAES(ctx, "aes", text))(t)
		raw := opMust(opB64Std.DecodeString(b64))(t)
		in := opWrite(t, dir, fmt.Sprintf("ct%d", i), raw[16:])
		out, err := opRun(openssl, "enc", "-d", "-aes-256-cbc", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(raw[:16]), "-in", in)
		if err != nil || string(out) != text {
			t.Errorf("openssl enc -d of EncryptDataAES(%q) = %q, %v", text, out, err)
		}

		iv := opMust(c.Random(bgCtx, 16))(t)
		ptFile := opWrite(t, dir, fmt.Sprintf("pt%d", i), []byte(text))
		ct, err := opRun(openssl, "enc", "-aes-256-cbc", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv), "-in", ptFile)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecryptDataAES(ctx, "aes", opB64Std.EncodeToString(append(iv, ct...)))
		if err != nil || got != text {
			t.Errorf("DecryptDataAES of openssl's encryption of %q = %q, %v", text, got, err)
		}
	}
	// The check can fail: openssl refuses a ciphertext under another key.
	b64 := opMust(c.EncryptDataAES(ctx, "aes", "x"))(t)
	raw := opMust(opB64Std.DecodeString(b64))(t)
	in := opWrite(t, dir, "other", raw[16:])
	other := bytes.Repeat([]byte{0x42}, 32)
	if out, err := opRun(openssl, "enc", "-d", "-aes-256-cbc", "-K", hex.EncodeToString(other), "-iv", hex.EncodeToString(raw[:16]), "-in", in); err == nil && string(out) == "x" {
		t.Error("openssl decrypted under a wrong key: the comparison above proves nothing")
	}
}

// (a) The seed form against Python cryptography, both ways.
func TestInteropAESCBCPython(t *testing.T) {
	opPython(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "aes", &custodian.CreateOptions{Type: custodian.AES256CBC, Exportable: true})
	key := opB64Std.EncodeToString(custodian.Reveal(opMust(c.ExportKey(ctx, "aes", nil))(t)))
	var reqs []map[string]any
	for _, text := range opSeedTexts {
		ours := opMust(c.EncryptDataAES(ctx, "aes", text))(t)
		reqs = append(reqs,
			map[string]any{"op": "seed-aes-decrypt", "key_b64": key, "ciphertext": ours},
			map[string]any{"op": "seed-aes-encrypt", "key_b64": key, "text": text})
	}
	resps := opPyAll(t, reqs)
	for i, text := range opSeedTexts {
		if got := resps[2*i]["text"]; got != text {
			t.Errorf("Python decrypts EncryptDataAES(%q) to %q", text, got)
		}
		theirs, _ := resps[2*i+1]["ciphertext"].(string)
		if got, err := c.DecryptDataAES(ctx, "aes", theirs); err != nil || got != text {
			t.Errorf("DecryptDataAES of Python's encryption of %q = %q, %v", text, got, err)
		}
	}
	// The check can fail: Python refuses (or garbles) a ciphertext under another key.
	ours := opMust(c.EncryptDataAES(ctx, "aes", "a longer text than one block"))(t)
	cmd := exec.Command(opPython(t), filepath.Join("testdata", "interop", "interop.py"))
	cmd.Stdin = strings.NewReader(`[{"op": "seed-aes-decrypt", "key_b64": "` + opB64Std.EncodeToString(bytes.Repeat([]byte{1}, 32)) + `", "ciphertext": "` + ours + `"}]`)
	if out, err := cmd.Output(); err == nil && strings.Contains(string(out), "a longer text") {
		t.Error("Python decrypted under a wrong key: the comparison above proves nothing")
	}
}

// (b) Migration from the original module: its AES key and ciphertext are
// imported and read, then re-encrypted under aes256-gcm; its RSA key (as
// PKCS #8) and ciphertext likewise.
func TestInteropSeedMigration(t *testing.T) {
	opPython(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "new-gcm", nil)
	var reqs []map[string]any
	for _, text := range opSeedTexts {
		reqs = append(reqs, map[string]any{"op": "seed-aes-migrate", "text": text})
	}
	reqs = append(reqs, map[string]any{"op": "seed-rsa-migrate", "text": "Classified Information"})
	resps := opPyAll(t, reqs)
	for i, text := range opSeedTexts {
		resp := resps[i]
		key := opPyBytes(t, resp, "key_b64")
		seedCT, _ := resp["ciphertext"].(string)
		name := fmt.Sprintf("legacy-aes-%d", i)
		opMust(c.ImportKey(ctx, name, key, &custodian.CreateOptions{Type: custodian.AES256CBC, Description: "migrated from the Python module"}))(t)
		got := opMust(c.DecryptDataAES(ctx, name, seedCT))(t)
		if got != text {
			t.Fatalf("DecryptDataAES of the seed's ciphertext = %q, want %q", got, text)
		}
		// The general API reads the same bytes.
		raw := opMust(opB64Std.DecodeString(seedCT))(t)
		if pt := opMust(c.DecryptRaw(ctx, name, raw, nil))(t); string(pt) != text {
			t.Errorf("DecryptRaw of the seed's bytes = %q", pt)
		}
		// Re-encrypted under aes256-gcm, bound to where it came from.
		aad := []byte("migrated:" + name)
		ct := opMust(c.Encrypt(ctx, "new-gcm", []byte(got), &custodian.EncryptOptions{AssociatedData: aad}))(t)
		if pt := opMust(c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad}))(t); string(pt) != text {
			t.Errorf("re-encrypted data decrypts to %q", pt)
		}
		// A wrong key does not read the seed's ciphertext as the text.
		if got, err := c.DecryptDataAES(ctx, "new-gcm", seedCT); err == nil {
			t.Errorf("an aes256-gcm key decrypted a seed ciphertext to %q", got)
		}
	}

	resp := resps[len(opSeedTexts)]
	privPEM, _ := resp["private_pem"].(string)
	seedCT, _ := resp["ciphertext"].(string)
	opMust(c.ImportKey(ctx, "systemRSA", []byte(privPEM), &custodian.CreateOptions{Type: custodian.RSA2048}))(t)
	if got := opMust(c.DecryptDataRSA(ctx, "systemRSA", seedCT))(t); got != "Classified Information" {
		t.Errorf("DecryptDataRSA of the seed's ciphertext = %q", got)
	}
}

// (c) RSA encryption by openssl pkeyutl with our public key, PKCS #1 v1.5
// and OAEP, opened by DecryptRaw; and the reverse with an exported key.
func TestInteropRSAEncryptOpenSSL(t *testing.T) {
	openssl := opOpenSSL(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "rsa", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageEncrypt, Exportable: true})
	dir := t.TempDir()
	pub := opWrite(t, dir, "pub.pem", opMust(c.PublicKey(ctx, "rsa", nil))(t))
	priv := opWrite(t, dir, "priv.pem", opPrivatePEM(custodian.Reveal(opMust(c.ExportKey(ctx, "rsa", nil))(t))))
	msg := []byte("Classified Information")
	in := opWrite(t, dir, "msg", msg)
	label := []byte("tenant=7")
	for _, tc := range []struct {
		alg  custodian.Algorithm
		opts []string
		aad  []byte
	}{
		{custodian.AlgRSAPKCS1v15, nil, nil},
		{custodian.AlgRSAOAEPSHA256, []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"}, nil},
		{custodian.AlgRSAOAEPSHA256, []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256", "-pkeyopt", "rsa_oaep_label:" + hex.EncodeToString(label)}, label},
		{custodian.AlgRSAOAEPSHA1, []string{"-pkeyopt", "rsa_padding_mode:oaep"}, nil},
	} {
		t.Run(fmt.Sprintf("%s/label=%t", tc.alg, tc.aad != nil), func(t *testing.T) {
			args := append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", in}, tc.opts...)
			ct, err := opRun(openssl, args...)
			if err != nil {
				t.Fatal(err)
			}
			opts := &custodian.RawOptions{Algorithm: tc.alg, AssociatedData: tc.aad}
			if pt := opMust(c.DecryptRaw(ctx, "rsa", ct, opts))(t); !bytes.Equal(pt, msg) {
				t.Errorf("DecryptRaw of openssl's ciphertext = %q", pt)
			}
			if tc.alg != custodian.AlgRSAPKCS1v15 {
				_, err = c.DecryptRaw(ctx, "rsa", ct, &custodian.RawOptions{Algorithm: tc.alg, AssociatedData: []byte("other label")})
				opExpect(t, err, custodian.ErrInvalidCiphertext)
			}
			ours := opWrite(t, dir, "ours-"+string(tc.alg), opMust(c.EncryptRaw(ctx, "rsa", msg, opts))(t))
			args = append([]string{"pkeyutl", "-decrypt", "-inkey", priv, "-in", ours}, tc.opts...)
			if pt, err := opRun(openssl, args...); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("openssl cannot decrypt EncryptRaw's %s: %q, %v", tc.alg, pt, err)
			}
		})
	}
	// EncryptDataRSA is what the seed's decrypt_data_rsa and openssl read.
	seed := opMust(c.EncryptDataRSA(ctx, "rsa", "Classified Information"))(t)
	ct := opWrite(t, dir, "seed", opMust(opB64Std.DecodeString(seed))(t))
	if pt, err := opRun(openssl, "pkeyutl", "-decrypt", "-inkey", priv, "-in", ct); err != nil || string(pt) != "Classified Information" {
		t.Errorf("openssl cannot decrypt EncryptDataRSA: %q, %v", pt, err)
	}
}

// (c) The same with Python cryptography.
func TestInteropRSAEncryptPython(t *testing.T) {
	opPython(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	opCreate(t, c, "rsa", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageEncrypt, Exportable: true})
	pub := string(opMust(c.PublicKey(ctx, "rsa", nil))(t))
	msg := []byte("Confidential data")
	cases := []struct {
		padding string
		alg     custodian.Algorithm
		label   []byte
	}{
		{"pkcs1v15", custodian.AlgRSAPKCS1v15, nil},
		{"oaep-sha256", custodian.AlgRSAOAEPSHA256, nil},
		{"oaep-sha256", custodian.AlgRSAOAEPSHA256, []byte("tenant=7")},
		{"oaep-sha1", custodian.AlgRSAOAEPSHA1, nil},
	}
	der := custodian.Reveal(opMust(c.ExportKey(ctx, "rsa", nil))(t))
	seed := opMust(c.EncryptDataRSA(ctx, "rsa", "Confidential data"))(t)
	reqs := []map[string]any{{"op": "seed-rsa-decrypt", "private_der_b64": opB64Std.EncodeToString(der), "ciphertext": seed}}
	for _, tc := range cases {
		reqs = append(reqs, map[string]any{"op": "rsa-encrypt", "public_pem": pub, "padding": tc.padding,
			"plaintext_b64": opB64Std.EncodeToString(msg), "label_b64": opB64Std.EncodeToString(tc.label)})
	}
	resps := opPyAll(t, reqs)
	// The seed's decrypt_data_rsa reads EncryptDataRSA given the exported key.
	if resps[0]["text"] != "Confidential data" {
		t.Errorf("the seed's decrypt_data_rsa reads EncryptDataRSA as %q", resps[0]["text"])
	}
	for i, tc := range cases {
		ct := opPyBytes(t, resps[i+1], "ciphertext_b64")
		pt, err := c.DecryptRaw(ctx, "rsa", ct, &custodian.RawOptions{Algorithm: tc.alg, AssociatedData: tc.label})
		if err != nil || !bytes.Equal(pt, msg) {
			t.Errorf("DecryptRaw of Python's %s ciphertext (label %q) = %q, %v", tc.padding, tc.label, pt, err)
		}
	}
}

// opSigCase is one signature to check outside.
type opSigCase struct {
	typ    custodian.KeyType
	alg    custodian.Algorithm
	digest bool // signed in pre-computed digest mode
}

func opSigCases() []opSigCase {
	var out []opSigCase
	for _, typ := range []custodian.KeyType{custodian.ECDSAP256, custodian.ECDSAP384, custodian.ECDSAP521, custodian.Ed25519, custodian.RSA2048} {
		for _, alg := range opTypes[typ].sig {
			out = append(out, opSigCase{typ, alg, false})
			if typ != custodian.Ed25519 {
				out = append(out, opSigCase{typ, alg, true})
			}
		}
	}
	return out
}

// opSigners creates one key per signing type of opSigCases, each named
// for its type and of usage sign (RSA keys are created for encryption
// unless asked otherwise).
func opSigners(t *testing.T) *custodian.Custodian {
	c := opNewCustodian(t, nil)
	for _, typ := range []custodian.KeyType{custodian.ECDSAP256, custodian.ECDSAP384, custodian.ECDSAP521, custodian.Ed25519, custodian.RSA2048} {
		opCreate(t, c, string(typ), &custodian.CreateOptions{Type: typ, Usage: custodian.UsageSign})
	}
	return c
}

// opSign signs msg for a case, hashing first in digest mode.
func opSign(t *testing.T, c *custodian.Custodian, tc opSigCase, msg []byte) []byte {
	t.Helper()
	in := msg
	if tc.digest {
		in = opDigest(opSigHash(tc.alg), msg)
	}
	return opMust(c.Sign(t.Context(), string(tc.typ), in, &custodian.SignOptions{Algorithm: tc.alg, Digest: tc.digest}))(t).Signature
}

// (d) openssl verifies our ECDSA (DER), Ed25519, RSA-PSS (salt = digest
// length) and RSA PKCS #1 v1.5 signatures.
func TestInteropSignaturesOpenSSL(t *testing.T) {
	openssl := opOpenSSL(t)
	c := opSigners(t)
	dir := t.TempDir()
	msg := []byte("the message that was signed\n")
	msgFile := opWrite(t, dir, "msg", msg)
	tampered := opWrite(t, dir, "tampered", append(bytes.Clone(msg), '!'))
	for _, tc := range opSigCases() {
		t.Run(fmt.Sprintf("%s/%s/digest=%t", tc.typ, tc.alg, tc.digest), func(t *testing.T) {
			t.Parallel() // mostly waiting for openssl to start
			base := fmt.Sprintf("%s-%s-%t", tc.typ, tc.alg, tc.digest)
			pub := opWrite(t, dir, base+".pem", opMust(c.PublicKey(t.Context(), string(tc.typ), nil))(t))
			sig := opWrite(t, dir, base+".sig", opSign(t, c, tc, msg))
			verify := func(file string) error {
				if tc.alg == custodian.AlgEd25519 {
					_, err := opRun(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", file, "-sigfile", sig)
					return err
				}
				// crypto.SHA256.String() is "SHA-256"; openssl wants -sha256.
				args := []string{"dgst", "-" + strings.ToLower(strings.ReplaceAll(opSigHash(tc.alg).String(), "-", ""))}
				if strings.HasPrefix(string(tc.alg), "rsa-pss-") {
					args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
				}
				_, err := opRun(openssl, append(args, "-verify", pub, "-signature", sig, file)...)
				return err
			}
			if err := verify(msgFile); err != nil {
				t.Errorf("openssl rejects the signature: %v", err)
			}
			if err := verify(tampered); err == nil {
				t.Error("openssl accepts the signature for another message: the check above proves nothing")
			}
		})
	}
}

// (d) Python cryptography verifies the same signatures.
func TestInteropSignaturesPython(t *testing.T) {
	opPython(t)
	c := opSigners(t)
	msg := []byte("the message that was signed")
	msgs := [][]byte{msg, append(bytes.Clone(msg), '!')}
	var reqs []map[string]any
	for _, tc := range opSigCases() {
		pub := string(opMust(c.PublicKey(t.Context(), string(tc.typ), nil))(t))
		sig := opSign(t, c, tc, msg)
		for _, m := range msgs {
			reqs = append(reqs, map[string]any{"op": "verify", "public_pem": pub, "alg": string(tc.alg),
				"message_b64": opB64Std.EncodeToString(m), "signature_b64": opB64Std.EncodeToString(sig)})
		}
	}
	resps := opPyAll(t, reqs)
	for i, tc := range opSigCases() {
		for j, m := range msgs {
			if got, want := resps[2*i+j]["ok"], j == 0; got != want {
				t.Errorf("%s %s digest=%t: Python verify of %q = %v, want %v", tc.typ, tc.alg, tc.digest, m, got, want)
			}
		}
	}
}

// opAgreeTypes maps our agreement types to interop.py's curve names and
// openssl genpkey arguments.
var opAgreeTypes = []struct {
	typ     custodian.KeyType
	curve   string
	genpkey []string
}{
	{custodian.X25519, "x25519", []string{"-algorithm", "X25519"}},
	{custodian.ECDHP256, "p256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}},
	{custodian.ECDHP384, "p384", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}},
	{custodian.ECDHP521, "p521", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"}},
}

// (e) openssl pkeyutl -derive with our public key gives our Agree's secret.
func TestInteropAgreeOpenSSL(t *testing.T) {
	openssl := opOpenSSL(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	dir := t.TempDir()
	for _, tc := range opAgreeTypes {
		t.Run(string(tc.typ), func(t *testing.T) {
			opCreate(t, c, string(tc.typ), &custodian.CreateOptions{Type: tc.typ})
			ours := opWrite(t, dir, string(tc.typ)+"-ours.pem", opMust(c.PublicKey(ctx, string(tc.typ), nil))(t))
			theirKey := filepath.Join(dir, string(tc.typ)+"-theirs.pem")
			if _, err := opRun(openssl, append([]string{"genpkey", "-out", theirKey}, tc.genpkey...)...); err != nil {
				t.Fatal(err)
			}
			theirPub := opMust(opRun(openssl, "pkey", "-in", theirKey, "-pubout"))(t)
			want := opMust(opRun(openssl, "pkeyutl", "-derive", "-inkey", theirKey, "-peerkey", ours))(t)
			got := custodian.Reveal(opMust(c.Agree(ctx, string(tc.typ), theirPub, nil))(t))
			if !bytes.Equal(got, want) || len(got) == 0 {
				t.Errorf("Agree with openssl's key = %x, openssl derives %x", got, want)
			}
		})
	}
}

// (e) Python's exchange with our public key gives our Agree's secret.
func TestInteropAgreePython(t *testing.T) {
	opPython(t)
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	var reqs []map[string]any
	for _, tc := range opAgreeTypes {
		opCreate(t, c, string(tc.typ), &custodian.CreateOptions{Type: tc.typ})
		reqs = append(reqs, map[string]any{"op": "agree", "curve": tc.curve, "peer_pem": string(opMust(c.PublicKey(ctx, string(tc.typ), nil))(t))})
	}
	resps := opPyAll(t, reqs)
	for i, tc := range opAgreeTypes {
		resp := resps[i]
		want := opPyBytes(t, resp, "shared_b64")
		theirPub, _ := resp["public_pem"].(string)
		got := custodian.Reveal(opMust(c.Agree(ctx, string(tc.typ), []byte(theirPub), nil))(t))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Agree with Python's key = %x, Python's exchange = %x", tc.typ, got, want)
		}
		// And the raw-point form of the same peer key.
		block, _ := pem.Decode([]byte(theirPub))
		pub := opMust(x509.ParsePKIXPublicKey(block.Bytes))(t)
		var raw []byte
		switch p := pub.(type) {
		case *ecdh.PublicKey:
			raw = p.Bytes()
		case *ecdsa.PublicKey:
			raw = opMust(p.ECDH())(t).Bytes()
		}
		if got := custodian.Reveal(opMust(c.Agree(ctx, string(tc.typ), raw, nil))(t)); !bytes.Equal(got, want) {
			t.Errorf("%s: Agree with Python's raw point differs", tc.typ)
		}
	}
}

// (e) ffdhe2048: Python generates its key on the parameters our
// GenerateDiffieHellmanParamsAndKey hands out (PKCS #3), loads our PEM
// public key and exchanges; openssl does the same with genpkey -paramfile.
func TestInteropDH(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	pair := opMust(c.GenerateDiffieHellmanParamsAndKey(ctx, "dh_exchange"))(t)
	if len(pair.Parameters) == 0 || len(pair.PublicKey) == 0 {
		t.Fatalf("DHKeyPair without parameters or public key: %+v", pair)
	}
	t.Run("python", func(t *testing.T) {
		opPython(t)
		resp := opPy(t, map[string]any{"op": "agree", "curve": "dh", "params_pem": string(pair.Parameters), "peer_pem": string(pair.PublicKey)})
		want := opPyBytes(t, resp, "shared_b64")
		theirPub, _ := resp["public_pem"].(string)
		got := custodian.Reveal(opMust(c.Agree(ctx, "dh_exchange", []byte(theirPub), nil))(t))
		if !bytes.Equal(got, want) || len(got) != 256 {
			t.Errorf("Agree with Python's DH key = %d bytes %x…, Python's exchange = %d bytes %x…", len(got), got[:min(8, len(got))], len(want), want[:min(8, len(want))])
		}
	})
	t.Run("openssl", func(t *testing.T) {
		openssl := opOpenSSL(t)
		dir := t.TempDir()
		params := opWrite(t, dir, "params.pem", pair.Parameters)
		ours := opWrite(t, dir, "ours.pem", pair.PublicKey)
		theirKey := filepath.Join(dir, "theirs.pem")
		if _, err := opRun(openssl, "genpkey", "-paramfile", params, "-out", theirKey); err != nil {
			t.Fatal(err)
		}
		theirPub := opMust(opRun(openssl, "pkey", "-in", theirKey, "-pubout"))(t)
		// OpenSSL 3 strips leading zeros unless asked to pad.
		want := opMust(opRun(openssl, "pkeyutl", "-derive", "-inkey", theirKey, "-peerkey", ours, "-pkeyopt", "pad:1"))(t)
		got := custodian.Reveal(opMust(c.Agree(ctx, "dh_exchange", theirPub, nil))(t))
		if !bytes.Equal(got, want) || len(got) != 256 {
			t.Errorf("Agree with openssl's DH key differs from openssl's derive (%d and %d bytes)", len(got), len(want))
		}
	})
}
