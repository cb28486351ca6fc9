package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// TestCommandsAgainstClient runs every key command through the binary and
// checks each against the Go client of the same server, both ways: what
// the CLI makes the client reads, and what the client makes the CLI reads.
func TestCommandsAgainstClient(t *testing.T) {
	srv := startDev(t, "")
	c := srv.client(t)
	cl := newCLI(t, srv)
	ctx := t.Context()
	msg := []byte("the message, byte for byte\n")
	cl.write("msg", msg)

	// key create (CLI) / GetKey (client), CreateKey (client) / key show (CLI).
	k := decode[api.Key](t, cl.ok("", "key", "create", "cli-made", "--description", "d", "--label", "a=b", "--exportable", "-o", "json"))
	got, err := c.GetKey(ctx, "cli-made")
	if err != nil || got.ID != k.ID || got.Description != "d" || got.Labels["a"] != "b" || !got.Exportable {
		t.Fatalf("GetKey of the CLI's key = %+v, %v; the CLI printed %+v", got, err, k)
	}
	made, err := c.CreateKey(ctx, "client-made", &custodian.CreateOptions{Type: custodian.ChaCha20Poly1305})
	if err != nil {
		t.Fatal(err)
	}
	if k := decode[api.Key](t, cl.ok("", "key", "show", "client-made", "-o", "json")); k.ID != made.ID || k.Type != custodian.ChaCha20Poly1305 {
		t.Errorf("key show of the client's key = %+v", k)
	}

	// encrypt / decrypt, both ways.
	ct := strings.TrimSpace(cl.ok("", "encrypt", "--key", "cli-made", "--in", cl.path("msg"), "--aad", "ad"))
	parsed, err := custodian.ParseCiphertext(ct)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := c.Decrypt(ctx, parsed, &custodian.DecryptOptions{AssociatedData: []byte("ad")}); err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("client Decrypt of the CLI's ciphertext = %q, %v", pt, err)
	}
	ct2, err := c.Encrypt(ctx, "client-made", msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt := cl.ok(ct2.String(), "decrypt"); pt != string(msg) {
		t.Errorf("CLI decrypt of the client's ciphertext = %q", pt)
	}

	// rewrap after rotate (CLI), decrypted by the client.
	cl.ok("", "key", "rotate", "cli-made")
	rewrapped := strings.TrimSpace(cl.ok(ct, "rewrap", "--aad", "ad"))
	rp, _ := custodian.ParseCiphertext(rewrapped)
	if pt, err := c.Decrypt(ctx, rp, &custodian.DecryptOptions{AssociatedData: []byte("ad"), Key: "cli-made"}); err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("client Decrypt of the rewrapped ciphertext = %q, %v", pt, err)
	}
	if k, _ := c.GetKey(ctx, "cli-made"); k.PrimaryVersion != 2 {
		t.Errorf("after key rotate the primary version is %d", k.PrimaryVersion)
	}

	// raw aes256-cbc, both ways, with the seed's own calls on the client.
	if _, err := c.EstablishAESKey(ctx, "secure_channel_1"); err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimSpace(cl.ok("Top secret message", "encrypt", "--key", "secure_channel_1", "--format", "raw"))
	if pt, err := c.DecryptDataAES(ctx, "secure_channel_1", raw); err != nil || pt != "Top secret message" {
		t.Errorf("DecryptDataAES of the CLI's raw output = %q, %v", pt, err)
	}
	seed, err := c.EncryptDataAES(ctx, "secure_channel_1", "Top secret message")
	if err != nil {
		t.Fatal(err)
	}
	if pt := cl.ok(seed, "decrypt", "--key", "secure_channel_1", "--format", "raw"); pt != "Top secret message" {
		t.Errorf("CLI decrypt of EncryptDataAES = %q", pt)
	}
	if _, err := c.GenerateRSAPair(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	rsaSeed, err := c.EncryptDataRSA(ctx, "alice", "Confidential data")
	if err != nil {
		t.Fatal(err)
	}
	if pt := cl.ok(rsaSeed, "decrypt", "--key", "alice", "--format", "raw", "--algorithm", "rsa-pkcs1v15"); pt != "Confidential data" {
		t.Errorf("CLI decrypt of EncryptDataRSA = %q", pt)
	}
	rsaRaw := strings.TrimSpace(cl.ok("Confidential data", "encrypt", "--key", "alice", "--format", "raw", "--algorithm", "rsa-pkcs1v15"))
	if pt, err := c.DecryptDataRSA(ctx, "alice", rsaRaw); err != nil || pt != "Confidential data" {
		t.Errorf("DecryptDataRSA of the CLI's raw output = %q, %v", pt, err)
	}

	// datakey.
	dk := decode[api.DataKeyResponse](t, cl.ok("", "datakey", "--key", "client-made", "--bytes", "24", "-o", "json"))
	dkct, _ := custodian.ParseCiphertext(dk.Ciphertext)
	if pt, err := c.Decrypt(ctx, dkct, nil); err != nil || len(dk.Plaintext) != 24 || !bytes.Equal(pt, dk.Plaintext) {
		t.Errorf("the data key's ciphertext decrypts to %x, %v; its plaintext is %x", pt, err, dk.Plaintext)
	}

	// sign / verify, both ways.
	if _, err := c.CreateKey(ctx, "signer", &custodian.CreateOptions{Type: custodian.ECDSAP384}); err != nil {
		t.Fatal(err)
	}
	sig := decodeB64(t, cl.ok("", "sign", "--key", "signer", "--in", cl.path("msg")))
	if err := c.Verify(ctx, "signer", msg, sig, nil); err != nil {
		t.Errorf("client Verify of the CLI's signature: %v", err)
	}
	s2, err := c.Sign(ctx, "signer", msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl.write("client.sig", s2.Signature)
	cl.ok("", "verify", "--key", "signer", "--signature", cl.path("client.sig"), "--in", cl.path("msg"))
	if err := c.Verify(ctx, "signer", append(msg, '!'), sig, nil); !errors.Is(err, custodian.ErrInvalidSignature) {
		t.Errorf("client Verify of another message: %v, want ErrInvalidSignature", err)
	}

	// mac / verify-mac, both ways.
	if _, err := c.CreateKey(ctx, "hmac", &custodian.CreateOptions{Type: custodian.HMACSHA256}); err != nil {
		t.Fatal(err)
	}
	mac := decodeB64(t, cl.ok("", "mac", "--key", "hmac", "--in", cl.path("msg")))
	if err := c.VerifyMAC(ctx, "hmac", msg, mac, nil); err != nil {
		t.Errorf("client VerifyMAC of the CLI's MAC: %v", err)
	}
	m2, _ := c.MAC(ctx, "hmac", msg, nil)
	cl.write("client.mac", []byte(base64.StdEncoding.EncodeToString(m2.MAC)))
	cl.ok("", "verify-mac", "--key", "hmac", "--mac", cl.path("client.mac"), "--in", cl.path("msg"))

	// key public and key export agree with the client's.
	pemCLI := cl.ok("", "key", "public", "signer")
	pemClient, _ := c.PublicKey(ctx, "signer", nil)
	if pemCLI != string(pemClient) {
		t.Errorf("key public = %q, PublicKey = %q", pemCLI, pemClient)
	}
	exported := decodeB64(t, cl.ok("", "key", "export", "cli-made", "--version", "1"))
	sec, err := c.ExportKey(ctx, "cli-made", &custodian.ExportOptions{Version: 1})
	if err != nil || !bytes.Equal(exported, custodian.Reveal(sec)) || len(exported) != 32 {
		t.Errorf("key export = %d bytes, ExportKey = %v", len(exported), err)
	}

	// key import (CLI) of material the client exported, then use.
	cl.write("aes.key", custodian.Reveal(sec))
	cl.ok("", "key", "import", "imported", "--type", "aes256-gcm", "--in", cl.path("aes.key"))
	ict, err := c.Encrypt(ctx, "imported", msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt := cl.ok(ict.String(), "decrypt", "--key", "imported"); pt != string(msg) {
		t.Errorf("decrypt under the imported key = %q", pt)
	}

	// agree: two server keys agree with each other's public keys.
	for _, n := range []string{"x1", "x2"} {
		if _, err := c.CreateKey(ctx, n, &custodian.CreateOptions{Type: custodian.X25519}); err != nil {
			t.Fatal(err)
		}
	}
	pub1, _ := c.PublicKey(ctx, "x1", nil)
	cl.ok("", "key", "public", "x2", "--out", cl.path("x2.pem"))
	secretCLI := decodeB64(t, cl.ok("", "agree", "--key", "x1", "--peer", cl.path("x2.pem")))
	secretClient, err := c.Agree(ctx, "x2", pub1, nil)
	if err != nil || !bytes.Equal(secretCLI, custodian.Reveal(secretClient)) {
		t.Errorf("agree x1 with x2 = %x; client agree x2 with x1 = %v", secretCLI, err)
	}
	cl.ok("", "agree", "--key", "x1", "--peer", cl.path("x2.pem"), "--derive-key", "derived", "--salt", "s", "--info", "i")
	if dk, err := c.GetKey(ctx, "derived"); err != nil || dk.Type != custodian.AES256GCM {
		t.Errorf("the derived key: %+v, %v", dk, err)
	}

	// random.
	if n := len(decodeB64(t, cl.ok("", "random", "--bytes", "48"))); n != 48 {
		t.Errorf("random --bytes 48 gave %d bytes", n)
	}

	// key list matches ListKeys.
	list := decode[api.ListKeysResponse](t, cl.ok("", "key", "list", "-o", "json"))
	page, err := c.ListKeys(ctx, nil)
	if err != nil || len(list.Keys) != len(page.Keys) || len(list.Keys) < 9 {
		t.Fatalf("key list has %d keys; ListKeys %v, %v", len(list.Keys), page, err)
	}
	for i := range list.Keys {
		if list.Keys[i].Name != page.Keys[i].Name {
			t.Errorf("key list[%d] = %s, ListKeys %s", i, list.Keys[i].Name, page.Keys[i].Name)
		}
	}

	// Shell completion asks the server for key names.
	if out := cl.ok("", "__complete", "key", "show", "x"); !strings.Contains(out, "x1\nx2\n") || strings.Contains(out, "signer") {
		t.Errorf("completing key show x:\n%s", out)
	}
	if out := cl.ok("", "__complete", "encrypt", "--key", "cli"); !strings.HasPrefix(out, "cli-made\n") {
		t.Errorf("completing encrypt --key cli:\n%s", out)
	}

	// The lifecycle commands, seen by the client.
	for _, step := range []struct {
		args []string
		want custodian.State
	}{
		{[]string{"key", "disable", "client-made"}, custodian.StateDisabled},
		{[]string{"key", "enable", "client-made"}, custodian.StateEnabled},
		{[]string{"key", "delete", "client-made", "--pending-days", "10"}, custodian.StatePendingDeletion},
		{[]string{"key", "cancel-delete", "client-made"}, custodian.StateDisabled},
		{[]string{"key", "revoke", "client-made"}, custodian.StateRevoked},
	} {
		cl.ok("", step.args...)
		k, err := c.GetKey(ctx, "client-made")
		if err != nil || k.State != step.want {
			t.Errorf("after %s the key is %v, %v; want %s", strings.Join(step.args, " "), k.State, err, step.want)
		}
		if step.want == custodian.StatePendingDeletion {
			if d := time.Until(k.DeletionDate); d < 9*24*time.Hour || d > 10*24*time.Hour {
				t.Errorf("--pending-days 10 set a deletion date %s away", d)
			}
		}
	}
	if _, err := c.Encrypt(ctx, "client-made", msg, nil); !errors.Is(err, custodian.ErrKeyRevoked) {
		t.Errorf("client Encrypt under the key the CLI revoked: %v, want ErrKeyRevoked", err)
	}
	cl.fail(`^custodian: encrypt "client-made": key is revoked\n$`, "x", "encrypt", "--key", "client-made")

	// update, seen by the client.
	cl.ok("", "key", "update", "cli-made", "--rotation-period", "30d", "--label", "x=y")
	if k, _ := c.GetKey(ctx, "cli-made"); k.RotationPeriod != 30*24*time.Hour || len(k.Labels) != 1 || k.Labels["x"] != "y" {
		t.Errorf("after key update: %+v", k)
	}

	// status and operator status match Health and SealStatus.
	h, _ := c.Health(ctx)
	st := decode[map[string]any](t, cl.ok("", "status", "-o", "json"))
	if st["version"] != h.Version || st["sealed"] != false || st["initialized"] != true || st["address"] != srv.URL {
		t.Errorf("status = %v, Health = %+v", st, h)
	}
	ss, _ := c.SealStatus(ctx)
	if got := decode[custodian.Status](t, cl.ok("", "operator", "status", "-o", "json")); got != *ss {
		t.Errorf("operator status = %+v, SealStatus = %+v", got, ss)
	}
	if got := decode[api.RotateDueKeysResponse](t, cl.ok("", "operator", "rotate-due-keys", "-o", "json")); got.Rotated != 0 {
		t.Errorf("rotate-due-keys rotated %d keys, none due", got.Rotated)
	}

	// backup writes a whole file, mode 0600, that the client's backup matches in size.
	out := decode[map[string]any](t, cl.ok("", "backup", "kc.backup", "-o", "json"))
	fi, err := os.Stat(cl.path("kc.backup"))
	if err != nil || fi.Mode().Perm() != 0o600 || float64(fi.Size()) != out["bytes"] || fi.Size() < 1000 {
		t.Errorf("backup: %v (%v), printed %v", fi, err, out)
	}
	srv.stop()
}

func decode[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil || dec.More() {
		t.Fatalf("not one JSON value (%v):\n%s", err, s)
	}
	return v
}

func decodeB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not base64: %q", s)
	}
	return b
}
