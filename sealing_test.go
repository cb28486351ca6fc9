package custodian_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/memory"
)

var bgCtx = context.Background()

// slOpenShamir opens a Custodian with a Shamir seal over a new in-memory
// store, initialises it with n shares of threshold t, and returns it
// sealed with the shares.
func slOpenShamir(t *testing.T, n, threshold int) (*custodian.Custodian, [][]byte) {
	t.Helper()
	c, err := custodian.Open(bgCtx, custodian.Options{Store: memory.New(), Seal: shamir.Seal{}, RotationCheckInterval: -1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	res, err := c.Init(bgCtx, custodian.InitOptions{Shares: n, Threshold: threshold})
	if err != nil {
		t.Fatalf("Init(%d, %d): %v", n, threshold, err)
	}
	if len(res.Shares) != n || res.Threshold != threshold {
		t.Fatalf("Init returned %d shares, threshold %d; want %d, %d", len(res.Shares), res.Threshold, n, threshold)
	}
	shares := make([][]byte, n)
	for i, s := range res.Shares {
		shares[i] = bytes.Clone(custodian.Reveal(s))
	}
	return c, shares
}

// slUnseal gives c the shares and checks the progress after each.
func slUnseal(t *testing.T, c *custodian.Custodian, shares ...[]byte) *custodian.Status {
	t.Helper()
	var st *custodian.Status
	for i, sh := range shares {
		var err error
		if st, err = c.Unseal(bgCtx, sh); err != nil {
			t.Fatalf("Unseal(share %d): %v", i+1, err)
		}
		if last := i == len(shares)-1; !last && (st.Progress != i+1 || !st.Sealed) {
			t.Fatalf("after %d shares: progress %d, sealed %v", i+1, st.Progress, st.Sealed)
		}
	}
	return st
}

func TestSealShamirInitUnsealSeal(t *testing.T) {
	c, shares := slOpenShamir(t, 5, 3)
	st, err := c.Status(bgCtx)
	if err != nil || !st.Initialized || !st.Sealed || st.SealType != "shamir" || st.Shares != 5 || st.Threshold != 3 || st.Progress != 0 {
		t.Fatalf("Status after Init = %+v, %v; want initialized, sealed, shamir 5/3, progress 0", st, err)
	}
	if _, err := c.CreateKey(bgCtx, "k", nil); !errors.Is(err, custodian.ErrSealed) {
		t.Fatalf("CreateKey while sealed: err = %v, want ErrSealed", err)
	}
	if _, err := c.Init(bgCtx, custodian.InitOptions{}); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Fatalf("second Init: err = %v, want ErrAlreadyInitialized", err)
	}

	st = slUnseal(t, c, shares[4], shares[0], shares[2])
	if st.Sealed || st.Progress != 0 {
		t.Fatalf("after 3 of 3 shares: %+v, want unsealed", st)
	}
	if _, err := c.CreateKey(bgCtx, "k", nil); err != nil {
		t.Fatalf("CreateKey unsealed: %v", err)
	}
	ct, err := c.Encrypt(bgCtx, "k", []byte("before sealing"), nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Seal(bgCtx); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if st, _ := c.Status(bgCtx); !st.Sealed {
		t.Fatal("Status after Seal says unsealed")
	}
	for name, op := range map[string]func() error{
		"decrypt": func() error { _, err := c.Decrypt(bgCtx, ct, nil); return err },
		"encrypt": func() error { _, err := c.Encrypt(bgCtx, "k", []byte("x"), nil); return err },
		"get":     func() error { _, err := c.GetKey(bgCtx, "k"); return err },
		"list":    func() error { _, err := c.ListKeys(bgCtx, nil); return err },
		"rotate":  func() error { _, err := c.RotateKey(bgCtx, "k"); return err },
		"revoke":  func() error { _, err := c.RevokeKey(bgCtx, "k"); return err },
		"create":  func() error { _, err := c.CreateKey(bgCtx, "k2", nil); return err },
		"backup":  func() error { _, err := c.Backup(bgCtx, &bytes.Buffer{}); return err },
		"rotate-root": func() error {
			_, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{Shares: shares[:3]})
			return err
		},
	} {
		if err := op(); !errors.Is(err, custodian.ErrSealed) {
			t.Errorf("%s while sealed: err = %v, want ErrSealed", name, err)
		}
	}

	// Any three shares unseal; the key decrypts what it did before.
	slUnseal(t, c, shares[1], shares[3], shares[4])
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "before sealing" {
		t.Fatalf("Decrypt after unseal = %q, %v", pt, err)
	}
	// Unsealing an unsealed custodian changes nothing.
	if st, err := c.Unseal(bgCtx, shares[0]); err != nil || st.Sealed {
		t.Fatalf("Unseal when unsealed = %+v, %v", st, err)
	}
}

func TestSealWrongSharesRevealNothing(t *testing.T) {
	c, shares := slOpenShamir(t, 5, 3)
	_, others := slOpenShamir(t, 5, 3)

	// The same share twice is refused and does not count.
	slUnseal(t, c, shares[0])
	if _, err := c.Unseal(bgCtx, shares[0]); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("the same share twice: err = %v, want ErrInvalidArgument", err)
	}
	if st, _ := c.Status(bgCtx); st.Progress != 1 {
		t.Fatalf("a refused share counted: progress %d", st.Progress)
	}
	for _, bad := range [][]byte{nil, []byte(""), []byte("kcshare1:!!"), []byte("not a share"), shares[1][:12]} {
		if _, err := c.Unseal(bgCtx, bad); !errors.Is(err, custodian.ErrInvalidArgument) {
			t.Errorf("Unseal(%q): err = %v, want ErrInvalidArgument", bad, err)
		}
	}

	// Mixed shares reach the threshold, fail the check value, and reset.
	slUnseal(t, c, others[1])
	_, err := c.Unseal(bgCtx, others[2])
	if !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("mixed shares: err = %v, want ErrInvalidShares", err)
	}
	for _, sh := range append(shares, others...) {
		if strings.Contains(err.Error(), string(sh)) || strings.Contains(err.Error(), string(sh[9:20])) {
			t.Fatalf("the error names a share: %v", err)
		}
	}
	if st, _ := c.Status(bgCtx); !st.Sealed || st.Progress != 0 {
		t.Fatalf("after a failed unseal: %+v, want sealed with progress reset", st)
	}
	// Only the other custodian's shares: refused too.
	slUnseal(t, c, others[0], others[3])
	if _, err := c.Unseal(bgCtx, others[4]); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("another custodian's shares: err = %v, want ErrInvalidShares", err)
	}
	// The right ones still work.
	if st := slUnseal(t, c, shares[0], shares[1], shares[2]); st.Sealed {
		t.Fatal("the right shares did not unseal after failed attempts")
	}
}

func TestSealInitChecksSplit(t *testing.T) {
	for _, tc := range []struct{ n, threshold int }{{0, 1}, {3, 4}, {256, 3}, {5, 0}, {-1, -1}} {
		c, err := custodian.Open(bgCtx, custodian.Options{Store: memory.New(), Seal: shamir.Seal{}, RotationCheckInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Init(bgCtx, custodian.InitOptions{Shares: tc.n, Threshold: tc.threshold}); !errors.Is(err, custodian.ErrInvalidArgument) {
			t.Errorf("Init(%d, %d): err = %v, want ErrInvalidArgument", tc.n, tc.threshold, err)
		}
		if st, _ := c.Status(bgCtx); st.Initialized {
			t.Errorf("a refused Init(%d, %d) initialized the store", tc.n, tc.threshold)
		}
		c.Close()
	}
	// One share of threshold one is allowed (1 <= T <= N).
	c, shares := slOpenShamir(t, 1, 1)
	if st := slUnseal(t, c, shares[0]); st.Sealed {
		t.Fatal("1-of-1 did not unseal")
	}
}

func TestSealRekey(t *testing.T) {
	c, shares := slOpenShamir(t, 5, 3)
	slUnseal(t, c, shares[:3]...)
	if _, err := c.CreateKey(bgCtx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Encrypt(bgCtx, "k", []byte("kept"), nil)

	if _, err := c.Rekey(bgCtx, custodian.RekeyOptions{Shares: shares[:2]}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("Rekey with 2 of 3 shares: err = %v, want ErrInvalidArgument", err)
	}
	res, err := c.Rekey(bgCtx, custodian.RekeyOptions{Shares: [][]byte{shares[4], shares[1], shares[3]}, NewShares: 3, NewThreshold: 2})
	if err != nil {
		t.Fatalf("Rekey: %v", err)
	}
	if len(res.Shares) != 3 || res.Threshold != 2 {
		t.Fatalf("Rekey gave %d shares, threshold %d", len(res.Shares), res.Threshold)
	}
	// Still unsealed and working.
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "kept" {
		t.Fatalf("Decrypt after Rekey = %q, %v", pt, err)
	}
	if err := c.Seal(bgCtx); err != nil {
		t.Fatal(err)
	}
	// The old shares no longer unseal (the new threshold is two).
	slUnseal(t, c, shares[0])
	if _, err := c.Unseal(bgCtx, shares[1]); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("old shares after Rekey: err = %v, want ErrInvalidShares", err)
	}
	st, err := c.Status(bgCtx)
	if err != nil || st.Threshold != 2 || st.Shares != 3 {
		t.Fatalf("Status after Rekey: %+v, %v", st, err)
	}
	slUnseal(t, c, custodian.Reveal(res.Shares[2]), custodian.Reveal(res.Shares[0]))
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "kept" {
		t.Fatalf("Decrypt after unsealing with new shares = %q, %v", pt, err)
	}
}

func TestSealInMemoryModeRefusesSealing(t *testing.T) {
	c, err := custodian.New(custodian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, op := range map[string]func() error{
		"seal":        func() error { return c.Seal(bgCtx) },
		"init":        func() error { _, err := c.Init(bgCtx, custodian.InitOptions{}); return err },
		"rotate-root": func() error { _, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{}); return err },
		"backup":      func() error { _, err := c.Backup(bgCtx, &bytes.Buffer{}); return err },
	} {
		if err := op(); !errors.Is(err, custodian.ErrUnsupportedOperation) {
			t.Errorf("%s in memory mode: err = %v, want ErrUnsupportedOperation", name, err)
		}
	}
	if st, err := c.Status(bgCtx); err != nil || st.Sealed || !st.Initialized {
		t.Fatalf("Status in memory mode = %+v, %v", st, err)
	}
}

func TestOpenChecksItsInputs(t *testing.T) {
	dir := t.TempDir()
	kf, err := keyfile.Create(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custodian.Open(bgCtx, custodian.Options{Seal: kf}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("Open without a store: err = %v", err)
	}
	if _, err := custodian.Open(bgCtx, custodian.Options{Store: memory.New()}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("Open without a seal: err = %v", err)
	}
	// A store initialised under one seal kind refuses another.
	st := memory.New()
	c, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: kf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Init(bgCtx, custodian.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: shamir.Seal{}}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("Open with another seal kind: err = %v, want ErrInvalidArgument", err)
	}
	// Another key file does not unseal it.
	other, _ := keyfile.Create(filepath.Join(dir, "other"))
	if _, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: other}); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Errorf("Open with another key file: err = %v, want ErrInvalidShares", err)
	}
	if _, err := c.Init(bgCtx, custodian.InitOptions{Shares: 5, Threshold: 3}); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Init again: err = %v", err)
	}
}

func TestOpenDirPersistsAcrossRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := custodian.OpenDir(bgCtx, dir, custodian.Options{})
	if err != nil {
		t.Fatalf("OpenDir (first use): %v", err)
	}
	if st, _ := c.Status(bgCtx); st.Sealed || st.SealType != keyfile.Type {
		t.Fatalf("a new data directory is not unsealed by its key file: %+v", st)
	}
	if _, err := c.CreateKey(bgCtx, "payments", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKey(bgCtx, "payments"); err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Encrypt(bgCtx, "payments", []byte("survives"), nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{custodian.KeyFile: 0o600, custodian.StoreFile: 0o600, "": 0o700 | os.ModeDir} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, %v; want %v", name, fi.Mode(), err, mode)
		}
	}

	c, err = custodian.OpenDir(bgCtx, dir, custodian.Options{})
	if err != nil {
		t.Fatalf("OpenDir (restart): %v", err)
	}
	k, err := c.GetKey(bgCtx, "payments")
	if err != nil || k.LatestVersion != 2 {
		t.Fatalf("after restart: %+v, %v", k, err)
	}
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "survives" {
		t.Fatalf("Decrypt after restart = %q, %v", pt, err)
	}
	c.Close()

	// A key file others may read is refused, not used.
	if err := os.Chmod(filepath.Join(dir, custodian.KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := custodian.OpenDir(bgCtx, dir, custodian.Options{}); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("OpenDir with a 0644 key file: err = %v, want a refusal naming the mode", err)
	}
	// A store without its key file is not re-initialised over.
	if err := os.Remove(filepath.Join(dir, custodian.KeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := custodian.OpenDir(bgCtx, dir, custodian.Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("OpenDir without its key file: err = %v, want a refusal", err)
	}
}

// TestOpenShamirOverBolt: a Shamir-sealed bolt store opens sealed after a
// restart and unseals with a quorum.
func TestOpenShamirOverBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	open := func() *custodian.Custodian {
		st, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: shamir.Seal{}, RotationCheckInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	if st, _ := c.Status(bgCtx); st.Initialized {
		t.Fatal("a new store reports initialized")
	}
	res, err := c.Init(bgCtx, custodian.InitOptions{})
	if err != nil || len(res.Shares) != shamir.DefaultShares || res.Threshold != shamir.DefaultThreshold {
		t.Fatalf("Init with defaults: %d shares, threshold %d, %v", len(res.Shares), res.Threshold, err)
	}
	for _, s := range res.Shares {
		slUnseal(t, c, custodian.Reveal(s))
		if st, _ := c.Status(bgCtx); !st.Sealed {
			break
		}
	}
	if _, err := c.CreateKey(bgCtx, "k", nil); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c = open()
	defer c.Close()
	if st, _ := c.Status(bgCtx); !st.Sealed || !st.Initialized {
		t.Fatalf("a Shamir store after restart: %+v, want initialized and sealed", st)
	}
	slUnseal(t, c, custodian.Reveal(res.Shares[3]), custodian.Reveal(res.Shares[1]), custodian.Reveal(res.Shares[0]))
	if _, err := c.GetKey(bgCtx, "k"); err != nil {
		t.Fatalf("GetKey after restart and unseal: %v", err)
	}
}
