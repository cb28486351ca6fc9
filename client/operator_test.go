package client_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/client"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/memory"
)

// TestOperatorCalls drives the operator's calls through the client: init
// and unseal with Shamir shares, seal, rekey, root rotation, a wrong
// token, health and seal status along the way.
func TestOperatorCalls(t *testing.T) {
	ls := startServer(t, memory.New(), shamir.Seal{}, nil, nil)
	ctx := context.Background()
	anon, err := client.New(ls.url, client.Options{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h, err := anon.Health(ctx)
	if err != nil || h.Initialized || !h.Sealed || h.Version != "test" {
		t.Fatalf("Health before init = %+v, %v", h, err)
	}
	if _, err := anon.CreateKey(ctx, "k", nil); !errors.Is(err, custodian.ErrNotInitialized) {
		t.Errorf("CreateKey before init: %v, want ErrNotInitialized", err)
	}
	res, err := anon.Init(ctx, custodian.InitOptions{Shares: 3, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shares) != 3 || res.Threshold != 2 || res.RootToken.IsZero() {
		t.Fatalf("Init = %d shares, threshold %d, token set %v", len(res.Shares), res.Threshold, !res.RootToken.IsZero())
	}
	if _, err := anon.Init(ctx, custodian.InitOptions{}); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Init again: %v", err)
	}
	c, err := client.New(ls.url, client.Options{Token: string(custodian.Reveal(res.RootToken)), RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, "k", nil); !errors.Is(err, custodian.ErrSealed) {
		t.Errorf("CreateKey sealed: %v", err)
	}
	unseal := func(shares []custodian.Secret) {
		t.Helper()
		for i, sh := range shares[:2] {
			st, err := anon.Unseal(ctx, custodian.Reveal(sh))
			if err != nil {
				t.Fatalf("Unseal %d: %v", i, err)
			}
			if st.Sealed != (i == 0) {
				t.Fatalf("after share %d: %+v", i+1, st)
			}
		}
	}
	unseal(res.Shares)
	st, err := anon.SealStatus(ctx)
	if err != nil || st.Sealed || !st.Initialized || st.SealType != "shamir" || st.Shares != 3 || st.Threshold != 2 {
		t.Errorf("SealStatus = %+v, %v", st, err)
	}
	if h, err := anon.Health(ctx); err != nil || h.Sealed || !h.Initialized {
		t.Errorf("Health unsealed = %+v, %v", h, err)
	}
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, "k", []byte("survives"), nil)
	if err != nil {
		t.Fatal(err)
	}

	// The token is checked.
	if _, err := anon.GetKey(ctx, "k"); !errors.Is(err, custodian.ErrInvalidToken) {
		t.Errorf("GetKey without a token: %v", err)
	}
	wrong, _ := client.New(ls.url, client.Options{Token: "kct1.wrong"})
	if _, err := wrong.GetKey(ctx, "k"); !errors.Is(err, custodian.ErrInvalidToken) {
		t.Errorf("GetKey with a wrong token: %v", err)
	}

	// Rekey: new shares; the old ones stop working.
	old := res.Shares
	rk, err := c.Rekey(ctx, custodian.RekeyOptions{Shares: [][]byte{custodian.Reveal(old[1]), custodian.Reveal(old[2])}, NewShares: 4, NewThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rk.Shares) != 4 || rk.Threshold != 2 || !rk.RootToken.IsZero() {
		t.Fatalf("Rekey = %d shares, threshold %d", len(rk.Shares), rk.Threshold)
	}
	if _, err := c.Rekey(ctx, custodian.RekeyOptions{Shares: [][]byte{custodian.Reveal(old[0]), custodian.Reveal(old[1])}}); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Errorf("Rekey with old shares: %v", err)
	}
	if err := c.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, ct, nil); !errors.Is(err, custodian.ErrSealed) {
		t.Errorf("Decrypt sealed: %v", err)
	}
	if h, err := anon.Health(ctx); err != nil || !h.Sealed {
		t.Errorf("Health sealed = %+v, %v", h, err)
	}
	anon.Unseal(ctx, custodian.Reveal(old[0]))
	if _, err := anon.Unseal(ctx, custodian.Reveal(old[1])); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Errorf("Unseal with old shares: %v", err)
	}
	unseal(rk.Shares)
	if pt, err := c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "survives" {
		t.Errorf("Decrypt after rekey: %q, %v", pt, err)
	}

	// Root rotation: every record re-sealed, new shares.
	rr, err := c.RotateRoot(ctx, custodian.RotateRootOptions{Shares: [][]byte{custodian.Reveal(rk.Shares[0]), custodian.Reveal(rk.Shares[3])}})
	if err != nil {
		t.Fatal(err)
	}
	if rr.ActiveTerm < 2 || rr.Resealed < 1 || len(rr.Shares) != 4 {
		t.Errorf("RotateRoot = term %d, resealed %d, %d shares", rr.ActiveTerm, rr.Resealed, len(rr.Shares))
	}
	if pt, err := c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "survives" {
		t.Errorf("Decrypt after root rotation: %q, %v", pt, err)
	}
	if _, err := c.RotateRoot(ctx, custodian.RotateRootOptions{}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("RotateRoot without shares: %v", err)
	}
}

// TestBackupRestore backs up a server through the client, restores the
// backup into a new one, and reads the keys there with the same token.
func TestBackupRestore(t *testing.T) {
	clk := &testClock{t: scenarioStart}
	kf := newKeyfileSeal(t)
	src := startServer(t, memory.New(), kf, clk, nil)
	ctx := context.Background()
	res, err := src.kms.Init(ctx, custodian.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := string(custodian.Reveal(res.RootToken))
	c, _ := client.New(src.url, client.Options{Token: token})
	if _, err := c.CreateKey(ctx, "due", &custodian.CreateOptions{RotationPeriod: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, "due", []byte("restored"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Hour)
	if n, err := c.RotateDueKeys(ctx); err != nil || n != 1 {
		t.Errorf("RotateDueKeys = %d, %v", n, err)
	}

	var backup strings.Builder
	n, err := c.Backup(ctx, &backup)
	if err != nil || n == 0 || int(n) != backup.Len() {
		t.Fatalf("Backup = %d, %v (%d bytes)", n, err, backup.Len())
	}

	dstStore := memory.New()
	dst := startServer(t, dstStore, kf, nil, func(kms *custodian.Custodian) func(context.Context, io.Reader, [][]byte) (*custodian.BackupResult, error) {
		return func(ctx context.Context, r io.Reader, shares [][]byte) (*custodian.BackupResult, error) {
			res, err := custodian.Restore(ctx, r, custodian.RestoreOptions{Store: dstStore, Seal: kf, Shares: shares})
			if err != nil {
				return nil, err
			}
			_, err = kms.Unseal(ctx, nil)
			return res, err
		}
	})
	anon, _ := client.New(dst.url, client.Options{})
	// A damaged backup is refused.
	damaged := []byte(backup.String())
	damaged[len(damaged)/2] ^= 1
	if _, err := anon.Restore(ctx, strings.NewReader(string(damaged)), nil); err == nil {
		t.Fatalf("Restore of a damaged backup succeeded")
	}
	rres, err := anon.Restore(ctx, strings.NewReader(backup.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rres.Keys != 1 {
		t.Errorf("Restore = %+v", rres)
	}
	// The restored server has the keys, and the backup's root token.
	rc, _ := client.New(dst.url, client.Options{Token: token})
	k, err := rc.GetKey(ctx, "due")
	if err != nil || k.PrimaryVersion != 2 {
		t.Fatalf("GetKey on the restored server = %+v, %v", k, err)
	}
	if pt, err := rc.Decrypt(ctx, ct, nil); err != nil || string(pt) != "restored" {
		t.Errorf("Decrypt on the restored server: %q, %v", pt, err)
	}
	// Restoring into an initialized server is refused.
	if _, err := anon.Restore(ctx, strings.NewReader(backup.String()), nil); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Restore into an initialized server: %v", err)
	}
	// A server without a restore hook says so.
	if _, err := c.Restore(ctx, strings.NewReader(backup.String()), nil); !errors.Is(err, custodian.ErrUnsupportedOperation) {
		t.Errorf("Restore without support: %v", err)
	}
}
