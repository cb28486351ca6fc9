package cli_test

// In-process tests of the command tree: the commands run against an
// embedded in-memory Custodian, which satisfies the same interface as the
// network client, so these check the CLI's own rules (input, output,
// flags, exit codes, error lines) fast and without a server. The e2e
// package runs the real binary against a real server.

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/cli"
	"github.com/spf13/cobra"
)

// embedded is the in-process Remote: the library's Custodian plus the
// few operator calls whose shapes differ over the network.
type embedded struct{ *custodian.Custodian }

func (e embedded) Health(ctx context.Context) (*api.HealthResponse, error) {
	st, err := e.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &api.HealthResponse{Initialized: st.Initialized, Sealed: st.Sealed, Version: "test"}, nil
}

func (e embedded) SealStatus(ctx context.Context) (*custodian.Status, error) { return e.Status(ctx) }

func (e embedded) Backup(ctx context.Context, w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	_, err := e.Custodian.Backup(ctx, cw)
	return cw.n, err
}

func (e embedded) Restore(context.Context, io.Reader, [][]byte) (*custodian.BackupResult, error) {
	return nil, errors.New("restore needs a server")
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// harness runs commands against one in-memory custodian.
type harness struct {
	t   *testing.T
	c   *custodian.Custodian
	dir string
	env map[string]string
}

// newHarness runs commands against a durable custodian in a temporary
// directory (which can seal and back up).
func newHarness(t *testing.T) *harness {
	t.Helper()
	c, err := custodian.OpenDir(t.Context(), t.TempDir(), custodian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return harnessFor(t, c)
}

// newMemoryHarness runs commands against an in-memory custodian, for
// tests that create many keys.
func newMemoryHarness(t *testing.T) *harness {
	t.Helper()
	c, err := custodian.New(custodian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return harnessFor(t, c)
}

func harnessFor(t *testing.T, c *custodian.Custodian) *harness {
	t.Cleanup(func() { c.Close() })
	return &harness{t: t, c: c, dir: t.TempDir(), env: map[string]string{}}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the command with stdin and returns what it wrote and its exit code.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(h.t.Context(), args, cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv:  func(k string) string { return h.env[k] },
		Version: "1.2.3-test",
		Dial:    func(cli.ClientOptions) (cli.Remote, error) { return embedded{h.c}, nil },
	})
	return result{out.String(), errOut.String(), code}
}

// ok runs a command that must succeed and returns its stdout.
func (h *harness) ok(stdin string, args ...string) string {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != 0 || r.stderr != "" {
		h.t.Fatalf("custodian %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fail runs a command that must fail with code and one stderr line
// matching re, and nothing on stdout.
func (h *harness) fail(code int, re, stdin string, args ...string) result {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != code {
		h.t.Fatalf("custodian %s: exit %d, want %d (stdout %q, stderr %q)", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	if !regexp.MustCompile(re).MatchString(first) {
		h.t.Errorf("custodian %s: stderr %q, want a first line matching %q", strings.Join(args, " "), r.stderr, re)
	}
	if code == cli.ExitError && strings.Count(r.stderr, "\n") != 1 {
		h.t.Errorf("custodian %s: stderr %q is not one line", strings.Join(args, " "), r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "Usage:") && code == cli.ExitError {
		h.t.Errorf("custodian %s: stderr has a stack or usage for a runtime error: %q", strings.Join(args, " "), r.stderr)
	}
	return r
}

func (h *harness) file(name string, content []byte) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value:\n%s", s)
	}
	return v
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not base64: %q", s)
	}
	return b
}

func TestEncryptDecryptText(t *testing.T) {
	h := newHarness(t)
	h.ok("", "key", "create", "payments")
	ct := h.ok("card 4111\n", "encrypt", "--key", "payments", "--aad", "ctx")
	if !strings.HasPrefix(ct, "kc1:") || strings.Count(ct, "\n") != 1 {
		t.Fatalf("encrypt printed %q, want one kc1: line", ct)
	}
	if got := h.ok(ct, "decrypt", "--aad", "ctx"); got != "card 4111\n" {
		t.Errorf("decrypt = %q, want the plaintext byte for byte", got)
	}
	if got := h.ok(ct, "decrypt", "--aad", "ctx", "--key", "payments"); got != "card 4111\n" {
		t.Errorf("decrypt --key = %q", got)
	}
	h.fail(cli.ExitError, `^custodian: decrypt.*invalid ciphertext`, ct, "decrypt")
	h.ok("", "key", "create", "other")
	h.fail(cli.ExitError, `invalid ciphertext`, ct, "decrypt", "--aad", "ctx", "--key", "other")

	// --in and --out, and a raw ciphertext given as text.
	in := h.file("pt.bin", []byte{0, 1, 2, 0xff})
	h.ok("", "encrypt", "--key", "payments", "--in", in, "--out", h.path("ct.kc1"))
	h.ok("", "decrypt", "--in", h.path("ct.kc1"), "--out", h.path("back.bin"))
	if got, _ := os.ReadFile(h.path("back.bin")); !bytes.Equal(got, []byte{0, 1, 2, 0xff}) {
		t.Errorf("binary round trip through files = %x", got)
	}
	if fi, err := os.Stat(h.path("back.bin")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--out file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	h.fail(cli.ExitError, `looks like a raw ciphertext: give --format raw and --key`, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), "decrypt")

	// JSON: one object, the API's bodies.
	j := decodeJSON[api.EncryptResponse](t, h.ok("x", "encrypt", "--key", "payments", "-o", "json"))
	d := decodeJSON[api.DecryptResponse](t, h.ok(j.Ciphertext, "decrypt", "--output", "json"))
	if string(d.Plaintext) != "x" {
		t.Errorf("decrypt --output json plaintext = %q", d.Plaintext)
	}
}

func TestEncryptRaw(t *testing.T) {
	h := newHarness(t)
	h.ok("", "key", "create", "secure_channel_1", "--type", "aes256-cbc", "--exportable")
	raw := h.ok("Confidential Communication", "encrypt", "--key", "secure_channel_1", "--format", "raw")
	b := b64(t, raw)
	if len(b) != 16+32 {
		t.Fatalf("raw aes256-cbc of 26 bytes is %d bytes, want IV 16 + 2 blocks", len(b))
	}
	// The seed's own function reads it: the same bytes.
	got, err := h.c.DecryptDataAES(t.Context(), "secure_channel_1", strings.TrimSpace(raw))
	if err != nil || got != "Confidential Communication" {
		t.Errorf("DecryptDataAES of the CLI's raw output = %q, %v", got, err)
	}
	if got := h.ok(raw, "decrypt", "--key", "secure_channel_1", "--format", "raw"); got != "Confidential Communication" {
		t.Errorf("decrypt --format raw = %q", got)
	}
	// --out writes raw bytes; decrypt takes them back from a file.
	h.ok("abc", "encrypt", "--key", "secure_channel_1", "--format", "raw", "--out", h.path("ct.bin"))
	if fi, _ := os.Stat(h.path("ct.bin")); fi.Size() != 32 {
		t.Errorf("raw --out file is %d bytes, want 32 (IV and one block)", fi.Size())
	}
	if got := h.ok("", "decrypt", "--key", "secure_channel_1", "--format", "raw", "--in", h.path("ct.bin")); got != "abc" {
		t.Errorf("decrypt of the raw file = %q", got)
	}

	h.ok("", "key", "create", "systemRSA", "--type", "rsa-2048")
	rsaRaw := h.ok("Classified Information", "encrypt", "--key", "systemRSA", "--algorithm", "rsa-pkcs1v15", "--format", "raw")
	if n := len(b64(t, rsaRaw)); n != 256 {
		t.Errorf("raw RSA-2048 ciphertext is %d bytes", n)
	}
	if got, err := h.c.DecryptDataRSA(t.Context(), "systemRSA", strings.TrimSpace(rsaRaw)); err != nil || got != "Classified Information" {
		t.Errorf("DecryptDataRSA of the CLI's raw output = %q, %v", got, err)
	}
	if got := h.ok(rsaRaw, "decrypt", "--key", "systemRSA", "--algorithm", "rsa-pkcs1v15", "--format", "raw"); got != "Classified Information" {
		t.Errorf("decrypt RSA raw = %q", got)
	}

	h.fail(cli.ExitUsage, `--format raw needs --key`, raw, "decrypt", "--format", "raw")
	h.fail(cli.ExitUsage, `--algorithm applies to --format raw`, raw, "decrypt", "--algorithm", "aes256-cbc")
	h.fail(cli.ExitUsage, `--format "hex": want text or raw`, raw, "encrypt", "--key", "x", "--format", "hex")

	h.ok("", "key", "revoke", "secure_channel_1")
	h.fail(cli.ExitError, `^custodian: decrypt "secure_channel_1": key is revoked$`, raw, "decrypt", "--key", "secure_channel_1", "--format", "raw")
}

func TestExitCodesAndErrorLines(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		code  int
		re    string
		stdin string
		args  []string
	}{
		{cli.ExitUsage, `unknown command "frobnicate" for "custodian"`, "", []string{"frobnicate"}},
		{cli.ExitUsage, `unknown command "frob" for "custodian key"`, "", []string{"key", "frob"}},
		{cli.ExitUsage, `unknown flag: --nope`, "", []string{"key", "list", "--nope"}},
		{cli.ExitUsage, `missing NAME`, "", []string{"key", "create"}},
		{cli.ExitUsage, `unexpected argument "b"`, "", []string{"key", "show", "a", "b"}},
		{cli.ExitUsage, `--key is required`, "x", []string{"encrypt"}},
		{cli.ExitUsage, `--output "yaml": want text or json`, "", []string{"key", "list", "--output", "yaml"}},
		{cli.ExitUsage, `--pending-days 3: want 7 to 30`, "", []string{"key", "delete", "k", "--pending-days", "3"}},
		{cli.ExitUsage, `--rotation-period: duration "soon"`, "", []string{"key", "create", "k", "--rotation-period", "soon"}},
		{cli.ExitUsage, `--label "x": want KEY=VALUE`, "", []string{"key", "create", "k", "--label", "x"}},
		{cli.ExitUsage, `invalid argument "many" for "--bytes"`, "", []string{"random", "--bytes", "many"}},
		{cli.ExitUsage, `--bytes 0: want 1 to 65536`, "", []string{"random", "--bytes", "0"}},
		{cli.ExitError, `^custodian: get "nope": key not found$`, "", []string{"key", "show", "nope"}},
		{cli.ExitError, `^custodian: encrypt "nope": key not found$`, "x", []string{"encrypt", "--key", "nope"}},
		{cli.ExitError, `^custodian: signature file: open .*: no such file or directory$`, "x", []string{"verify", "--key", "k", "--signature", h.path("none")}},
		{cli.ExitError, `^custodian: open .*missing: no such file or directory$`, "", []string{"encrypt", "--key", "k", "--in", h.path("missing")}},
	} {
		r := h.fail(tc.code, tc.re, tc.stdin, tc.args...)
		if tc.code == cli.ExitUsage && !strings.Contains(r.stderr, "--help' for usage.") {
			t.Errorf("custodian %s: usage error without the hint: %q", strings.Join(tc.args, " "), r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("custodian %s: stdout %q on failure", strings.Join(tc.args, " "), r.stdout)
		}
	}

	// Under --output json a failure is also the API's error body on stdout.
	r := h.fail(cli.ExitError, `key not found`, "", "key", "show", "nope", "--output", "json")
	body := decodeJSON[api.ErrorBody](t, r.stdout)
	if body.Error.Code != "key_not_found" || !strings.Contains(body.Error.Message, `"nope"`) {
		t.Errorf("error body = %+v", body)
	}
}

func TestKeyLifecycle(t *testing.T) {
	h := newHarness(t)
	out := h.ok("", "key", "create", "tokens", "--description", "API tokens", "--label", "team=web", "--label", "env=prod", "--rotation-period", "90d")
	for _, want := range []string{"name:", "tokens", "aes256-gcm", "enabled", "API tokens", "env=prod, team=web", "90d"} {
		if !strings.Contains(out, want) {
			t.Errorf("key create printed no %q:\n%s", want, out)
		}
	}
	k := decodeJSON[api.Key](t, h.ok("", "key", "show", "tokens", "-o", "json"))
	if k.Name != "tokens" || k.Labels["team"] != "web" || k.RotationPeriod.String() != "2160h0m0s" {
		t.Errorf("key show json = %+v", k)
	}
	if out := h.ok("", "key", "rotate", "tokens"); out != "rotated \"tokens\": primary version 2\n" {
		t.Errorf("rotate printed %q", out)
	}
	h.ok("", "key", "disable", "tokens")
	h.fail(cli.ExitError, `key is disabled`, "x", "encrypt", "--key", "tokens")
	h.ok("", "key", "enable", "tokens")
	h.ok("x", "encrypt", "--key", "tokens")
	if out := h.ok("", "key", "delete", "tokens", "--pending-days", "7"); !strings.HasPrefix(out, `scheduled "tokens" for deletion on `) {
		t.Errorf("delete printed %q", out)
	}
	h.fail(cli.ExitError, `pending deletion`, "x", "encrypt", "--key", "tokens")
	h.fail(cli.ExitError, `^custodian: destroy "tokens": `, "", "key", "destroy", "tokens")
	h.ok("", "key", "cancel-delete", "tokens")
	k = decodeJSON[api.Key](t, h.ok("", "key", "show", "tokens", "-o", "json"))
	if k.State != custodian.StateDisabled {
		t.Errorf("after cancel-delete the key is %s, want disabled", k.State)
	}
	h.ok("", "key", "update", "tokens", "--description", "new", "--clear-labels", "--min-decryption-version", "2")
	k = decodeJSON[api.Key](t, h.ok("", "key", "show", "tokens", "-o", "json"))
	if k.Description != "new" || len(k.Labels) != 0 || k.MinDecryptionVersion != 2 {
		t.Errorf("after update: %+v", k)
	}
	h.fail(cli.ExitUsage, `nothing to change`, "", "key", "update", "tokens")

	for _, n := range []string{"pay/a", "pay/b", "zz"} {
		h.ok("", "key", "create", n)
	}
	list := h.ok("", "key", "list", "--prefix", "pay/")
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.HasPrefix(lines[1], "pay/a ") || !strings.HasPrefix(lines[2], "pay/b ") {
		t.Errorf("key list --prefix pay/ =\n%s", list)
	}
	all := decodeJSON[api.ListKeysResponse](t, h.ok("", "key", "list", "-o", "json"))
	if len(all.Keys) != 4 {
		t.Errorf("key list json has %d keys, want 4", len(all.Keys))
	}
}

func TestKeyListPages(t *testing.T) {
	h := newMemoryHarness(t)
	// More than a page of 1000, so that the listing follows the token.
	for i := range 1003 {
		if _, err := h.c.CreateKey(t.Context(), fmt.Sprintf("k%04d", i), &custodian.CreateOptions{Type: custodian.HMACSHA256}); err != nil {
			t.Fatal(err)
		}
	}
	all := decodeJSON[api.ListKeysResponse](t, h.ok("", "key", "list", "-o", "json"))
	if len(all.Keys) != 1003 || all.Keys[1002].Name != "k1002" {
		t.Errorf("key list returned %d keys", len(all.Keys))
	}
}

func TestSignVerifyMAC(t *testing.T) {
	h := newHarness(t)
	msg := "the message\n"
	for _, typ := range []string{"ecdsa-p256", "ed25519"} {
		h.ok("", "key", "create", typ, "--type", typ)
		sig := h.ok(msg, "sign", "--key", typ)
		sigFile := h.file(typ+".sig.b64", []byte(sig))
		if out := h.ok(msg, "verify", "--key", typ, "--signature", sigFile); out != "valid\n" {
			t.Errorf("verify printed %q", out)
		}
		// --out writes the raw signature; verify reads that too.
		h.ok(msg, "sign", "--key", typ, "--out", h.path(typ+".sig"))
		raw, _ := os.ReadFile(h.path(typ + ".sig"))
		if typ == "ed25519" && len(raw) != 64 {
			t.Errorf("ed25519 --out wrote %d bytes, want 64 raw", len(raw))
		}
		h.ok(msg, "verify", "--key", typ, "--signature", h.path(typ+".sig"))
		h.fail(cli.ExitError, `^custodian: verify "`+typ+`": invalid signature$`, msg+"!", "verify", "--key", typ, "--signature", sigFile)
		j := decodeJSON[api.SignResponse](t, h.ok(msg, "sign", "--key", typ, "-o", "json"))
		if j.KeyVersion != 1 || len(j.Signature) == 0 || j.Algorithm == "" {
			t.Errorf("sign json = %+v", j)
		}
	}
	h.ok("", "key", "create", "rsa", "--type", "rsa-2048", "--usage", "sign")
	sig := h.ok(msg, "sign", "--key", "rsa", "--algorithm", "rsa-pkcs1v15-sha256")
	h.ok(msg, "verify", "--key", "rsa", "--algorithm", "rsa-pkcs1v15-sha256", "--signature", h.file("rsa.sig", []byte(sig)))
	h.fail(cli.ExitError, `invalid signature`, msg, "verify", "--key", "rsa", "--signature", h.path("rsa.sig"))

	h.ok("", "key", "create", "hooks", "--type", "hmac-sha256")
	mac := h.ok(msg, "mac", "--key", "hooks")
	if len(b64(t, mac)) != 32 {
		t.Errorf("mac = %q", mac)
	}
	h.ok(msg, "verify-mac", "--key", "hooks", "--mac", h.file("m", []byte(mac)))
	h.fail(cli.ExitError, `^custodian: verify-mac "hooks": invalid mac$`, "other", "verify-mac", "--key", "hooks", "--mac", h.path("m"))
	h.fail(cli.ExitUsage, `--mac is required`, msg, "verify-mac", "--key", "hooks")
}

func TestPublicExportImportAgree(t *testing.T) {
	h := newHarness(t)
	h.ok("", "key", "create", "x", "--type", "x25519", "--exportable")
	pemOut := h.ok("", "key", "public", "x")
	block, _ := pem.Decode([]byte(pemOut))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("key public printed %q", pemOut)
	}
	der := b64(t, h.ok("", "key", "public", "x", "--format", "der"))
	if !bytes.Equal(der, block.Bytes) {
		t.Error("--format der differs from the PEM's contents")
	}
	pubAny, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	ours := pubAny.(*ecdh.PublicKey)

	// A peer of our own.
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	peerFile := h.file("peer.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	want, _ := peer.ECDH(ours)
	if got := b64(t, h.ok("", "agree", "--key", "x", "--peer", peerFile)); !bytes.Equal(got, want) {
		t.Errorf("agree = %x, want %x", got, want)
	}
	out := h.ok("", "agree", "--key", "x", "--peer", peerFile, "--derive-key", "session", "--info", "v1")
	if out != "derived aes256-gcm key \"session\"\n" {
		t.Errorf("agree --derive-key printed %q", out)
	}
	h.fail(cli.ExitUsage, `--salt and --info apply to --derive-key`, "", "agree", "--key", "x", "--peer", peerFile, "--info", "v1")

	// Export and import back, through a raw file and through base64.
	h.ok("", "key", "export", "x", "--out", h.path("x.key"))
	h.ok("", "key", "import", "x2", "--type", "x25519", "--in", h.path("x.key"))
	b64Key := h.ok("", "key", "export", "x")
	h.ok(b64Key, "key", "import", "x3", "--type", "x25519")
	for _, n := range []string{"x2", "x3"} {
		if got := b64(t, h.ok("", "agree", "--key", n, "--peer", peerFile)); !bytes.Equal(got, want) {
			t.Errorf("imported %s agrees %x, want %x", n, got, want)
		}
	}
	h.fail(cli.ExitUsage, `--type is required`, "", "key", "import", "x4", "--in", h.path("x.key"))
	h.ok("", "key", "create", "secret")
	h.fail(cli.ExitError, `^custodian: export "secret": .*unsupported operation`, "", "key", "export", "secret")
}

func TestRandomDatakeyRewrap(t *testing.T) {
	h := newHarness(t)
	if n := len(b64(t, h.ok("", "random", "--bytes", "17"))); n != 17 {
		t.Errorf("random --bytes 17 gave %d bytes", n)
	}
	h.ok("", "random", "--out", h.path("r"))
	if fi, _ := os.Stat(h.path("r")); fi.Size() != 32 {
		t.Errorf("random --out wrote %d bytes", fi.Size())
	}
	h.ok("", "key", "create", "k")
	out := h.ok("", "datakey", "--key", "k")
	ctLine, ptLine, _ := strings.Cut(strings.TrimSpace(out), "\n")
	ct, _ := strings.CutPrefix(ctLine, "ciphertext: ")
	pt, _ := strings.CutPrefix(ptLine, "plaintext: ")
	if got := h.ok(ct, "decrypt"); got != string(b64(t, pt)) {
		t.Error("the data key's ciphertext does not decrypt to its plaintext")
	}
	only := h.ok("", "datakey", "--key", "k", "--no-plaintext", "--bytes", "16")
	if !strings.HasPrefix(only, "kc1:") || len(h.ok(only, "decrypt")) != 16 {
		t.Errorf("datakey --no-plaintext printed %q", only)
	}
	j := decodeJSON[api.DataKeyResponse](t, h.ok("", "datakey", "--key", "k", "-o", "json"))
	if len(j.Plaintext) != 32 || !strings.HasPrefix(j.Ciphertext, "kc1:") {
		t.Errorf("datakey json = %+v", j)
	}

	old := h.ok("hello", "encrypt", "--key", "k")
	h.ok("", "key", "rotate", "k")
	newer := h.ok(old, "rewrap", "--key", "k")
	ctNew, _ := custodian.ParseCiphertext(strings.TrimSpace(newer))
	if pt, err := h.c.Decrypt(t.Context(), ctNew, nil); err != nil || string(pt) != "hello" || newer == old {
		t.Errorf("rewrap: %q, %v", pt, err)
	}
}

func TestOperatorAndBackup(t *testing.T) {
	h := newHarness(t)
	st := decodeJSON[custodian.Status](t, h.ok("", "operator", "status", "-o", "json"))
	if !st.Initialized || st.Sealed {
		t.Errorf("operator status = %+v", st)
	}
	if out := h.ok("", "status"); !strings.Contains(out, "sealed:       false") || !strings.Contains(out, "version:      test") {
		t.Errorf("status printed:\n%s", out)
	}
	h.ok("", "key", "create", "k")
	out := h.ok("", "backup", h.path("kc.backup"))
	fi, err := os.Stat(h.path("kc.backup"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 || !strings.HasPrefix(out, "wrote "+h.path("kc.backup")) {
		t.Errorf("backup: %q, %v, %v", out, fi, err)
	}
	if leftovers, _ := filepath.Glob(h.path(".*tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	tok := decodeJSON[api.RootTokenResponse](t, h.ok("", "operator", "new-root-token", "-o", "json"))
	if err := h.c.CheckRootToken(t.Context(), []byte(tok.RootToken)); err != nil || tok.RootToken == "" {
		t.Errorf("the new root token %q does not check: %v", tok.RootToken, err)
	}
	h.fail(cli.ExitUsage, `--shares 2 --threshold 3`, "", "operator", "init", "--shares", "2", "--threshold", "3")
	h.fail(cli.ExitUsage, `rekey needs a quorum`, "", "operator", "rekey")
}

// A failed backup leaves no file: the old one stays, or none appears.
func TestBackupAtomic(t *testing.T) {
	h := newHarness(t)
	dest := h.file("kc.backup", []byte("the old backup"))
	h.ok("", "operator", "seal")
	h.fail(cli.ExitError, `^custodian: backup: custodian is sealed$`, "", "backup", dest)
	if b, _ := os.ReadFile(dest); string(b) != "the old backup" {
		t.Errorf("a failed backup changed the file: %q", b)
	}
	if leftovers, _ := filepath.Glob(h.path(".*tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestVersionAndHelp(t *testing.T) {
	h := newHarness(t)
	if out := h.ok("", "version"); out != "custodian 1.2.3-test\n" {
		t.Errorf("version = %q", out)
	}
	if out := h.ok("", "--version"); out != "custodian 1.2.3-test\n" {
		t.Errorf("--version = %q", out)
	}
	if v := decodeJSON[map[string]string](t, h.ok("", "version", "-o", "json")); v["version"] != "1.2.3-test" {
		t.Errorf("version json = %v", v)
	}
	if out := h.ok("", "completion", "bash"); !strings.Contains(out, "__start_custodian") {
		t.Error("completion bash printed no completion script")
	}
}

// Every command has a summary and examples, and --help works on each.
func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	h := newHarness(t)
	root := cli.Command(cli.Env{})
	var walk func(*cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Parent() != nil && c.Parent().Name() == "completion" || c.Name() == "completion" {
			return
		}
		n++
		if c.Short == "" || c.Example == "" {
			t.Errorf("%s: no Short or no Example", c.CommandPath())
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		if out := h.ok("", args...); !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help shows no examples", c.CommandPath())
		}
	}
	walk(root)
	if n < 35 {
		t.Errorf("walked %d commands; the tree should have every command of the brief", n)
	}
	for _, want := range [][]string{
		{"server"}, {"status"}, {"operator", "init"}, {"operator", "unseal"}, {"operator", "seal"}, {"operator", "status"},
		{"operator", "rekey"}, {"operator", "rotate-root"}, {"key", "create"}, {"key", "list"}, {"key", "show"},
		{"key", "rotate"}, {"key", "enable"}, {"key", "disable"}, {"key", "revoke"}, {"key", "delete"},
		{"key", "cancel-delete"}, {"key", "public"}, {"key", "export"}, {"key", "import"}, {"encrypt"}, {"decrypt"},
		{"rewrap"}, {"datakey"}, {"sign"}, {"verify"}, {"mac"}, {"verify-mac"}, {"agree"}, {"random"},
		{"backup"}, {"restore"}, {"version"}, {"completion"},
	} {
		if c, rest, err := root.Find(want); err != nil || len(rest) != 0 || c.Name() != want[len(want)-1] {
			t.Errorf("no command %q", strings.Join(want, " "))
		}
	}
}

func TestGlobalFlagsAndEnvironment(t *testing.T) {
	var got cli.ClientOptions
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("from-file\n"), 0o600)
	env := map[string]string{"CUSTODIAN_ADDR": "https://env:8200", "CUSTODIAN_TOKEN": "from-env", "CUSTODIAN_CACERT": "env-ca.pem"}
	runWith := func(args ...string) {
		t.Helper()
		var errOut bytes.Buffer
		code := cli.Main(t.Context(), args, cli.Env{
			Stdout: io.Discard, Stderr: &errOut, Getenv: func(k string) string { return env[k] },
			Dial: func(o cli.ClientOptions) (cli.Remote, error) { got = o; return nil, errors.New("not dialing") },
		})
		if code != cli.ExitError || !strings.Contains(errOut.String(), "not dialing") {
			t.Fatalf("exit %d, %q", code, errOut.String())
		}
	}
	runWith("key", "list")
	if got != (cli.ClientOptions{Addr: "https://env:8200", Token: "from-env", CACertFile: "env-ca.pem"}) {
		t.Errorf("from the environment: %+v", got)
	}
	runWith("key", "list", "--addr", "https://flag:1", "--token-file", tokenFile, "--ca-cert", "flag-ca.pem", "--client-cert", "c.pem", "--client-key", "k.pem")
	if got != (cli.ClientOptions{Addr: "https://flag:1", Token: "from-file", CACertFile: "flag-ca.pem", ClientCertFile: "c.pem", ClientKeyFile: "k.pem"}) {
		t.Errorf("flags over the environment: %+v", got)
	}
}
