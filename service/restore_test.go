package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/bolt"
)

// source is a custodian that a backup is taken from.
type source struct {
	backup []byte
	ct     custodian.Ciphertext
	token  []byte
	shares [][]byte
}

// makeBackup initialises a custodian under sl, makes a key and a
// ciphertext, and backs it up.
func makeBackup(t *testing.T, sl seal.Seal) source {
	t.Helper()
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "src.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := custodian.Open(ctx, custodian.Options{Store: st, Seal: sl})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := custodian.InitOptions{}
	if sl.Type() == shamir.Type {
		opts = custodian.InitOptions{Shares: 3, Threshold: 2}
	}
	res, err := c.Init(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var src source
	src.token = append([]byte(nil), custodian.Reveal(res.RootToken)...)
	for _, sh := range res.Shares {
		src.shares = append(src.shares, append([]byte(nil), custodian.Reveal(sh)...))
	}
	for _, sh := range src.shares[:min(len(src.shares), 2)] {
		if _, err := c.Unseal(ctx, sh); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateKey(ctx, "payments", nil); err != nil {
		t.Fatal(err)
	}
	if src.ct, err = c.Encrypt(ctx, "payments", []byte("restored"), nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	src.backup = buf.Bytes()
	return src
}

// keyFileBackup backs up a custodian sealed by a new key file, and
// returns the backup with the config of a server, not yet initialized,
// that unseals with the same key file: where the backup restores.
func keyFileBackup(t *testing.T) (source, Config) {
	t.Helper()
	keyPath := filepath.Join(t.TempDir(), "unseal.key")
	kf, err := keyfile.Create(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, io.Discard)
	cfg.Seal, cfg.KeyFile = SealKeyFile, keyPath
	return makeBackup(t, kf), cfg
}

func checkRestored(t *testing.T, c *custodian.Custodian, src source) {
	t.Helper()
	ctx := context.Background()
	if pt, err := c.Decrypt(ctx, src.ct, nil); err != nil || string(pt) != "restored" {
		t.Errorf("Decrypt after restore = %q, %v", pt, err)
	}
	if err := c.CheckRootToken(ctx, src.token); err != nil {
		t.Errorf("the backup's root token after restore: %v", err)
	}
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".restore-*"))
	return m
}

func TestRestoreKeyFile(t *testing.T) {
	ctx := context.Background()
	src, cfg := keyFileBackup(t)
	s, _ := start(t, cfg)
	restore := func(b []byte, shares [][]byte) error {
		_, err := s.b.restore(ctx, bytes.NewReader(b), shares, s.log)
		return err
	}

	// A damaged or truncated upload fails the check, and writes nothing.
	damaged := bytes.Clone(src.backup)
	damaged[len(damaged)/2] ^= 1
	for name, b := range map[string][]byte{"damaged": damaged, "truncated": src.backup[:len(src.backup)-7]} {
		if err := restore(b, nil); err == nil {
			t.Fatalf("restore of a %s backup succeeded", name)
		}
		if st, err := s.b.c.Status(ctx); err != nil || st.Initialized {
			t.Fatalf("after a %s backup: status %+v, %v; want uninitialized", name, st, err)
		}
	}
	if err := restore(src.backup, [][]byte{[]byte("kcshare1:AA")}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("restore with shares under a key file = %v, want ErrInvalidArgument", err)
	}

	res, err := s.b.restore(ctx, bytes.NewReader(src.backup), nil, s.log)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Keys != 1 {
		t.Errorf("restored %d keys, want 1", res.Keys)
	}
	if st, err := s.b.c.Status(ctx); err != nil || !st.Initialized || st.Sealed {
		t.Fatalf("after restore: %+v, %v; want initialized and unsealed", st, err)
	}
	checkRestored(t, s.b.c, src)
	if f := spoolFiles(t, cfg.DataDir); len(f) != 0 {
		t.Errorf("spool files left behind: %v", f)
	}

	if err := restore(src.backup, nil); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("second restore = %v, want ErrAlreadyInitialized", err)
	}

	// The restored store is the server's own: a restart opens it.
	shutdown(t, s)
	s2, _ := start(t, cfg)
	checkRestored(t, s2.b.c, src)
}

func TestRestoreWrongKeyFile(t *testing.T) {
	src, _ := keyFileBackup(t)
	cfg := testConfig(t, io.Discard)
	cfg.Seal = SealKeyFile // a new key file in the data directory
	s, _ := start(t, cfg)
	_, err := s.b.restore(context.Background(), bytes.NewReader(src.backup), nil, s.log)
	if !errors.Is(err, custodian.ErrInvalidShares) {
		t.Errorf("restore under another key file = %v, want ErrInvalidShares", err)
	}
	if st, _ := s.b.c.Status(context.Background()); st.Initialized {
		t.Error("a refused restore initialized the store")
	}
}

func TestRestoreShamir(t *testing.T) {
	ctx := context.Background()
	src := makeBackup(t, shamir.Seal{})
	cfg := testConfig(t, io.Discard)
	s, _ := start(t, cfg)

	if _, err := s.b.restore(ctx, bytes.NewReader(src.backup), src.shares[:1], s.log); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("restore with one share of a threshold of two = %v, want ErrInvalidArgument", err)
	}
	if st, _ := s.b.c.Status(ctx); st.Initialized {
		t.Fatal("a refused restore initialized the store")
	}
	if _, err := s.b.restore(ctx, bytes.NewReader(src.backup), src.shares[1:], s.log); err != nil {
		t.Fatalf("restore: %v", err)
	}
	st, err := s.b.c.Status(ctx)
	if err != nil || !st.Initialized || !st.Sealed || st.Threshold != 2 {
		t.Fatalf("after restore: %+v, %v; want initialized, sealed, threshold 2", st, err)
	}
	for _, sh := range src.shares[:2] {
		if _, err := s.b.c.Unseal(ctx, sh); err != nil {
			t.Fatal(err)
		}
	}
	checkRestored(t, s.b.c, src)
}

// While a restore holds the gate, the custodian cannot write between the
// backup's records: an Init racing the restore fails at once (it must not
// hold the seal lock, and with it Status, for the restore's length), and
// key writes wait for the restore to end. Reads go on.
func TestGateHoldsCustodianWrites(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, io.Discard)
	s, _ := start(t, cfg)
	s.b.gate.Lock()
	if _, err := s.b.c.Init(ctx, custodian.InitOptions{Shares: 1, Threshold: 1}); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Init during a restore = %v, want ErrAlreadyInitialized", err)
	}
	if st, err := s.b.c.Status(ctx); err != nil || st.Initialized {
		t.Errorf("Status during a restore = %+v, %v", st, err)
	}
	s.b.gate.Unlock()

	dev := testConfig(t, io.Discard)
	dev.Dev = true
	d, _ := start(t, dev)
	d.b.gate.Lock()
	done := make(chan error, 1)
	go func() {
		_, err := d.b.c.CreateKey(ctx, "waits", nil)
		done <- err
	}()
	select {
	case err := <-done:
		d.b.gate.Unlock()
		t.Fatalf("CreateKey finished while the gate was held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := d.b.c.Status(ctx); err != nil {
		t.Errorf("Status while the gate was held: %v", err)
	}
	d.b.gate.Unlock()
	if err := <-done; err != nil {
		t.Errorf("CreateKey after the gate opened: %v", err)
	}
}

// The whole path over HTTP: POST /v1/sys/restore to a Shamir server
// started empty, unseal with the backup's shares, and the backup's root
// token reads the restored key.
func TestRestoreOverHTTP(t *testing.T) {
	src := makeBackup(t, shamir.Seal{})
	s, _ := start(t, testConfig(t, io.Discard))

	post := func(path string, body io.Reader, header map[string]string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL()+path, body)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	shares := string(src.shares[0]) + "," + string(src.shares[2])
	code, out := post("/v1/sys/restore", bytes.NewReader(src.backup), map[string]string{
		api.HeaderShares: shares, "Content-Type": "application/octet-stream"})
	if code != http.StatusOK || out["keys"] != float64(1) {
		t.Fatalf("restore: %d %v", code, out)
	}
	if code, _ := getHealth(t, http.DefaultClient, s.URL()); code != http.StatusServiceUnavailable {
		t.Errorf("health after a Shamir restore = %d, want 503 until unsealed", code)
	}
	for _, sh := range []string{string(src.shares[0]), string(src.shares[2])} {
		b, _ := json.Marshal(map[string]string{"share": sh})
		if code, out := post("/v1/sys/unseal", bytes.NewReader(b), nil); code != http.StatusOK {
			t.Fatalf("unseal: %d %v", code, out)
		}
	}
	code, h := getHealth(t, http.DefaultClient, s.URL())
	if code != http.StatusOK || h.Version != "test" {
		t.Errorf("health after unseal = %d %+v", code, h)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/v1/keys/payments", nil)
	req.Header.Set("Authorization", "Bearer "+string(src.token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET the restored key with the backup's token: %d", resp.StatusCode)
	}

	// A second restore is refused as data: 409 already_initialized.
	code, out = post("/v1/sys/restore", bytes.NewReader(src.backup), map[string]string{api.HeaderShares: shares})
	if e, _ := out["error"].(map[string]any); code != http.StatusConflict || e["code"] != "already_initialized" {
		t.Errorf("second restore: %d %v", code, out)
	}
}
