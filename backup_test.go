package custodian_test

// Tests of Backup and Restore: a round trip over every kind of key and
// state into a fresh bbolt directory and into memory, the Shamir seal's
// quorum, refused targets, a backup taken while writers run (read back by
// an independent decoder of the format documented in backup.go), and the
// refusals of Backup. Damaged backups are in integrity_test.go, the
// absence of plaintext material in atrest_test.go.
//
// Helpers here are prefixed "bk": other files of this test package are
// written by other people.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/memory"
)

// bkOpen opens a Custodian over s with sl, closed when the test ends.
// Automatic rotation is off so that nothing changes behind the test.
func bkOpen(t testing.TB, s store.Store, sl seal.Seal, now func() time.Time) *custodian.Custodian {
	t.Helper()
	c, err := custodian.Open(t.Context(), custodian.Options{Store: s, Seal: sl, Now: now, RotationCheckInterval: -1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// bkKeyfile creates a key file in a new directory.
func bkKeyfile(t testing.TB) (*keyfile.Seal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unseal.key")
	s, err := keyfile.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// bkOpenKeyfile opens and initialises a Custodian over s with a new key
// file; it returns the key file's path.
func bkOpenKeyfile(t testing.TB, s store.Store) (*custodian.Custodian, string) {
	t.Helper()
	sl, path := bkKeyfile(t)
	c := bkOpen(t, s, sl, nil)
	if _, err := c.Init(t.Context(), custodian.InitOptions{}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return c, path
}

// bkOpenShamir opens a Custodian over s with a Shamir seal, initialises
// it 5/3 and unseals it with the first three shares. It returns the
// shares in text form.
func bkOpenShamir(t testing.TB, s store.Store) (*custodian.Custodian, [][]byte) {
	t.Helper()
	c := bkOpen(t, s, shamir.Seal{}, nil)
	res, err := c.Init(t.Context(), custodian.InitOptions{Shares: 5, Threshold: 3})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	var shares [][]byte
	for _, sh := range res.Shares {
		shares = append(shares, bytes.Clone(custodian.Reveal(sh)))
	}
	bkUnseal(t, c, shares[:3]...)
	return c, shares
}

func bkUnseal(t testing.TB, c *custodian.Custodian, shares ...[]byte) {
	t.Helper()
	var st *custodian.Status
	for _, sh := range shares {
		var err error
		if st, err = c.Unseal(t.Context(), sh); err != nil {
			t.Fatalf("Unseal: %v", err)
		}
	}
	if st == nil || st.Sealed {
		t.Fatalf("still sealed after %d shares: %+v", len(shares), st)
	}
}

// bkRoot recombines the root key from shares, as an operator holding a
// quorum could: the independent decoder needs it.
func bkRoot(t testing.TB, texts [][]byte) []byte {
	t.Helper()
	var shares [][]byte
	for _, s := range texts {
		sh, err := shamir.DecodeShare(string(s))
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, sh)
	}
	root, err := shamir.Seal{}.Combine(shares)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func bkBackup(t testing.TB, c *custodian.Custodian) ([]byte, *custodian.BackupResult) {
	t.Helper()
	var buf bytes.Buffer
	res, err := c.Backup(t.Context(), &buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes(), res
}

// bkCheck is one observable behaviour of a key: an operation whose
// outcome (bytes, or the sentinel it fails with) must be the same before
// the backup and after the restore.
type bkCheck struct {
	what string
	want error // nil: the operation succeeds
	do   func(ctx context.Context, c *custodian.Custodian) ([]byte, error)
}

func bkDecrypts(what string, ct custodian.Ciphertext, aad []byte, want error) bkCheck {
	return bkCheck{what, want, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
		return c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad})
	}}
}

// run runs the check on c and fails unless its outcome is the expected
// one and, when same is not nil, gives the same bytes.
func (ck bkCheck) run(t *testing.T, c *custodian.Custodian, same []byte) []byte {
	t.Helper()
	got, err := ck.do(t.Context(), c)
	switch {
	case ck.want == nil && err != nil:
		t.Errorf("%s: %v", ck.what, err)
	case ck.want != nil && !errors.Is(err, ck.want):
		t.Errorf("%s: err = %v, want %v", ck.what, err, ck.want)
	case same != nil && !bytes.Equal(got, same):
		t.Errorf("%s: got %x, want %x as before", ck.what, got, same)
	}
	return got
}

// bkFixture is a Custodian holding keys of many types, versions and
// states, and the checks that describe them.
type bkFixture struct {
	c         *custodian.Custodian
	clock     *lcClock
	checks    []bkCheck
	destroyed *custodian.Key // the tombstone whose name was taken again
	keys      int            // every key record, the tombstone included
}

// bkPopulate fills c (whose clock is clock) and records its checks.
func bkPopulate(t *testing.T, c *custodian.Custodian, clock *lcClock) *bkFixture {
	t.Helper()
	ctx := t.Context()
	f := &bkFixture{c: c, clock: clock}
	create := func(name string, opts *custodian.CreateOptions) {
		t.Helper()
		if _, err := c.CreateKey(ctx, name, opts); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		f.keys++
	}
	rotate := func(name string) {
		t.Helper()
		if _, err := c.RotateKey(ctx, name); err != nil {
			t.Fatalf("rotate %s: %v", name, err)
		}
	}
	encrypt := func(name string, aad []byte, want error) {
		t.Helper()
		pt := fmt.Appendf(nil, "secret under %s, %d", name, len(f.checks))
		ct, err := c.Encrypt(ctx, name, pt, &custodian.EncryptOptions{AssociatedData: aad})
		if err != nil {
			t.Fatalf("encrypt %s: %v", name, err)
		}
		f.checks = append(f.checks, bkDecrypts("decrypt under "+name, ct, aad, want))
	}
	msg := []byte("a message to sign and authenticate")

	// Symmetric encryption, with several versions each.
	create("aes", &custodian.CreateOptions{Type: custodian.AES256GCM, Description: "three versions",
		Labels: map[string]string{"team": "payments", "env": "prod"}, RotationPeriod: 90 * 24 * time.Hour})
	for range 2 {
		encrypt("aes", []byte("aad"), nil)
		rotate("aes")
	}
	encrypt("aes", nil, nil)
	create("chacha", &custodian.CreateOptions{Type: custodian.ChaCha20Poly1305})
	encrypt("chacha", nil, custodian.ErrKeyVersionNotAllowed) // below the minimum set next
	rotate("chacha")
	encrypt("chacha", nil, nil)
	two := 2
	if _, err := c.UpdateKey(ctx, "chacha", custodian.KeyUpdate{MinDecryptionVersion: &two}); err != nil {
		t.Fatal(err)
	}
	create("cbc", &custodian.CreateOptions{Type: custodian.AES256CBC})
	encrypt("cbc", []byte("cbc aad"), nil)
	create("rsa", &custodian.CreateOptions{Type: custodian.RSA2048})
	encrypt("rsa", nil, nil)

	// Signatures: verification of every version, public keys, and
	// Ed25519's deterministic signatures byte for byte.
	create("ecdsa", &custodian.CreateOptions{Type: custodian.ECDSAP256})
	for v := 1; v <= 2; v++ {
		sig, err := c.Sign(ctx, "ecdsa", msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.checks = append(f.checks,
			bkCheck{fmt.Sprintf("verify ecdsa v%d", v), nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
				return nil, c.Verify(ctx, "ecdsa", msg, sig.Signature, &custodian.SignOptions{Version: sig.KeyVersion})
			}},
			bkCheck{fmt.Sprintf("public key ecdsa v%d", v), nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
				return c.PublicKey(ctx, "ecdsa", &custodian.PublicKeyOptions{Version: v})
			}})
		if v == 1 {
			rotate("ecdsa")
		}
	}
	create("ed25519", &custodian.CreateOptions{Type: custodian.Ed25519})
	rotate("ed25519")
	for v := 1; v <= 2; v++ {
		f.checks = append(f.checks, bkCheck{fmt.Sprintf("sign ed25519 v%d", v), nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
			s, err := c.Sign(ctx, "ed25519", msg, &custodian.SignOptions{Version: v})
			if err != nil {
				return nil, err
			}
			return s.Signature, nil
		}})
	}

	// MACs, recomputed byte for byte under each version.
	create("hmac", &custodian.CreateOptions{Type: custodian.HMACSHA256})
	rotate("hmac")
	rotate("hmac")
	for v := 1; v <= 3; v++ {
		f.checks = append(f.checks, bkCheck{fmt.Sprintf("mac hmac v%d", v), nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
			m, err := c.MAC(ctx, "hmac", msg, &custodian.MACOptions{Version: v})
			if err != nil {
				return nil, err
			}
			if err := c.VerifyMAC(ctx, "hmac", msg, m.MAC, &custodian.MACOptions{Version: v}); err != nil {
				return nil, err
			}
			return m.MAC, nil
		}})
	}

	// Key agreement: the same shared secret with a fixed peer.
	create("x25519", &custodian.CreateOptions{Type: custodian.X25519})
	peer, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.checks = append(f.checks, bkCheck{"agree x25519", nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
		s, err := c.Agree(ctx, "x25519", peer.PublicKey().Bytes(), nil)
		return custodian.Reveal(s), err
	}})

	// States: revoked, disabled, and destroyed with its name taken again.
	create("revoked", nil)
	encrypt("revoked", nil, custodian.ErrKeyRevoked)
	if _, err := c.RevokeKey(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	create("disabled", nil)
	encrypt("disabled", nil, custodian.ErrKeyDisabled)
	if _, err := c.DisableKey(ctx, "disabled"); err != nil {
		t.Fatal(err)
	}
	create("reused", nil)
	encrypt("reused", nil, custodian.ErrKeyDestroyed)
	if _, err := c.ScheduleKeyDeletion(ctx, "reused", 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * 24 * time.Hour)
	if f.destroyed, err = c.DestroyKey(ctx, "reused"); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	create("reused", &custodian.CreateOptions{Type: custodian.HMACSHA256})
	f.checks = append(f.checks, bkCheck{"mac under the new holder of a destroyed key's name", nil, func(ctx context.Context, c *custodian.Custodian) ([]byte, error) {
		m, err := c.MAC(ctx, "reused", msg, nil)
		if err != nil {
			return nil, err
		}
		return m.MAC, nil
	}})
	// Pending deletion, scheduled after the clock moved so it is not due.
	create("pending", nil)
	encrypt("pending", nil, custodian.ErrKeyPendingDeletion)
	if _, err := c.ScheduleKeyDeletion(ctx, "pending", 0); err != nil {
		t.Fatal(err)
	}
	return f
}

// bkKeys returns every listed key as JSON, by name: the whole public
// record, versions and states included.
func bkKeys(t *testing.T, c *custodian.Custodian) map[string]string {
	t.Helper()
	out := map[string]string{}
	opts := &custodian.ListOptions{PageSize: 7} // several pages
	for {
		page, err := c.ListKeys(t.Context(), opts)
		if err != nil {
			t.Fatalf("ListKeys: %v", err)
		}
		for _, k := range page.Keys {
			g, err := c.GetKey(t.Context(), k.Name)
			if err != nil {
				t.Fatalf("GetKey %s: %v", k.Name, err)
			}
			a, _ := json.Marshal(k)
			b, _ := json.Marshal(g)
			if !bytes.Equal(a, b) {
				t.Errorf("ListKeys and GetKey disagree on %s:\n%s\n%s", k.Name, a, b)
			}
			out[k.Name] = string(a)
		}
		if page.NextPageToken == "" {
			return out
		}
		opts.PageToken = page.NextPageToken
	}
}

func bkSameKeys(t *testing.T, want, got map[string]string) {
	t.Helper()
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("key %s is missing after restore", name)
		} else if g != w {
			t.Errorf("key %s differs after restore:\n got %s\nwant %s", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("key %s appeared after restore", name)
		}
	}
}

// bkCheckTombstone checks, in the restored store itself, that the
// destroyed key is there by id with its versions wiped.
func bkCheckTombstone(t *testing.T, s store.Store, k *custodian.Key) {
	t.Helper()
	rec, err := s.Get(t.Context(), k.ID)
	if err != nil {
		t.Fatalf("tombstone %s: %v", k.ID, err)
	}
	if rec.Name != k.Name || rec.State != string(custodian.StateDestroyed) {
		t.Errorf("tombstone %s: name %q state %q, want %q destroyed", k.ID, rec.Name, rec.State, k.Name)
	}
	vs, err := s.Versions(t.Context(), k.ID)
	if err != nil || len(vs) != k.LatestVersion {
		t.Fatalf("tombstone versions: %d, %v; want %d", len(vs), err, k.LatestVersion)
	}
	for _, v := range vs {
		if v.State != string(custodian.VersionDestroyed) || len(v.Material) != 0 {
			t.Errorf("tombstone version %d: state %q, %d bytes of material", v.Number, v.State, len(v.Material))
		}
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := t.Context()
	clock := lcNewClock()
	dir := t.TempDir()
	c, err := custodian.OpenDir(ctx, dir, custodian.Options{Now: clock.Now, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f := bkPopulate(t, c, clock)
	wantKeys := bkKeys(t, c)
	before := make([][]byte, len(f.checks))
	for i, ck := range f.checks {
		before[i] = ck.run(t, c, nil)
	}
	if t.Failed() {
		t.Fatal("the fixture does not behave as expected before the backup")
	}
	data, res := bkBackup(t, c)
	if res.Keys != f.keys || res.Meta < 1 {
		t.Fatalf("Backup = %+v, want %d keys and the root record", res, f.keys)
	}
	keyPath := filepath.Join(dir, custodian.KeyFile)

	targets := []struct {
		name string
		open func(t *testing.T) (store.Store, string)
	}{
		{"bolt in a new directory", func(t *testing.T) (store.Store, string) {
			dir := t.TempDir()
			s, err := bolt.Open(filepath.Join(dir, custodian.StoreFile), bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s, dir
		}},
		{"memory", func(t *testing.T) (store.Store, string) { return memory.New(), "" }},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			s, newDir := tg.open(t)
			sl, err := keyfile.Open(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			got, err := custodian.Restore(t.Context(), bytes.NewReader(data), custodian.RestoreOptions{Store: s, Seal: sl})
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if *got != *res {
				t.Errorf("Restore = %+v, Backup wrote %+v", got, res)
			}
			bkCheckTombstone(t, s, f.destroyed)
			r := bkOpen(t, s, sl, clock.Now)
			verify := func(t *testing.T, r *custodian.Custodian) {
				bkSameKeys(t, wantKeys, bkKeys(t, r))
				for i, ck := range f.checks {
					ck.run(t, r, before[i])
				}
			}
			verify(t, r)
			if newDir == "" {
				return
			}
			// The restored directory is a data directory: with the key
			// file beside it, OpenDir opens it as it is.
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			kf, err := os.ReadFile(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(newDir, custodian.KeyFile), kf, 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := custodian.OpenDir(t.Context(), newDir, custodian.Options{Now: clock.Now, RotationCheckInterval: -1})
			if err != nil {
				t.Fatalf("OpenDir on the restored directory: %v", err)
			}
			t.Cleanup(func() { _ = d.Close() })
			verify(t, d)
		})
	}
}

func TestBackupRestoreShamir(t *testing.T) {
	ctx := t.Context()
	c, shares := bkOpenShamir(t, memory.New())
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	pt := []byte("sealed under a Shamir root")
	ct, err := c.Encrypt(ctx, "k", pt, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := bkBackup(t, c)

	_, foreign := bkOpenShamir(t, memory.New())
	kf, _ := bkKeyfile(t)
	target := memory.New()
	refusals := []struct {
		name   string
		seal   seal.Seal
		shares [][]byte
		want   error
	}{
		{"no shares", shamir.Seal{}, nil, custodian.ErrInvalidArgument},
		{"two shares of three", shamir.Seal{}, shares[3:5], custodian.ErrInvalidArgument},
		{"shares of another init", shamir.Seal{}, foreign[:3], custodian.ErrInvalidShares},
		{"two right shares and a foreign one", shamir.Seal{}, [][]byte{shares[0], shares[1], foreign[2]}, custodian.ErrInvalidShares},
		{"one share three times", shamir.Seal{}, [][]byte{shares[0], shares[0], shares[0]}, custodian.ErrInvalidShares},
		{"a share that is not one", shamir.Seal{}, [][]byte{shares[0], shares[1], []byte("kcshare1:!!")}, custodian.ErrInvalidArgument},
		{"a key file seal", kf, nil, custodian.ErrInvalidArgument},
	}
	for _, r := range refusals {
		_, err := custodian.Restore(ctx, bytes.NewReader(data), custodian.RestoreOptions{Store: target, Seal: r.seal, Shares: r.shares})
		if !errors.Is(err, r.want) {
			t.Errorf("Restore with %s: err = %v, want %v", r.name, err, r.want)
		}
		bkWantEmpty(t, target, "after Restore with "+r.name)
	}

	// Three shares other than those that unsealed at backup time.
	if _, err := custodian.Restore(ctx, bytes.NewReader(data), custodian.RestoreOptions{Store: target, Seal: shamir.Seal{}, Shares: shares[2:5]}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	r := bkOpen(t, target, shamir.Seal{}, nil)
	st, err := r.Status(ctx)
	if err != nil || !st.Initialized || !st.Sealed || st.SealType != shamir.Type || st.Shares != 5 || st.Threshold != 3 {
		t.Fatalf("Status of the restored store = %+v, %v; want initialized, sealed, shamir 5/3", st, err)
	}
	if _, err := r.Decrypt(ctx, ct, nil); !errors.Is(err, custodian.ErrSealed) {
		t.Fatalf("Decrypt before unsealing: err = %v, want ErrSealed", err)
	}
	bkUnseal(t, r, shares[4], shares[1], shares[3])
	got, err := r.Decrypt(ctx, ct, nil)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt after restore = %q, %v; want %q", got, err, pt)
	}
}

// bkWantEmpty fails unless s holds no root record and no key.
func bkWantEmpty(t *testing.T, s store.Store, when string) {
	t.Helper()
	if _, err := s.GetMeta(t.Context(), "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: the store holds a root record (err %v)", when, err)
	}
	if keys, err := s.Scan(t.Context(), "", 10); err != nil || len(keys) != 0 {
		t.Errorf("%s: the store holds %d keys (err %v)", when, len(keys), err)
	}
}

func TestRestoreRefusesANonEmptyStore(t *testing.T) {
	ctx := t.Context()
	c, keyPath := bkOpenKeyfile(t, memory.New())
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	data, _ := bkBackup(t, c)
	sl, err := keyfile.Open(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	restore := func(s store.Store) error {
		_, err := custodian.Restore(ctx, bytes.NewReader(data), custodian.RestoreOptions{Store: s, Seal: sl})
		return err
	}

	restored := memory.New()
	if err := restore(restored); err != nil {
		t.Fatalf("first Restore: %v", err)
	}
	if err := restore(restored); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Restore into a restored store: err = %v, want ErrAlreadyInitialized", err)
	}

	initialized := memory.New()
	bkOpenKeyfile(t, initialized)
	if err := restore(initialized); !errors.Is(err, custodian.ErrAlreadyInitialized) {
		t.Errorf("Restore into an initialised store without keys: err = %v, want ErrAlreadyInitialized", err)
	}

	keysOnly := memory.New()
	if _, err := keysOnly.Create(ctx, store.Key{ID: "0123456789abcdef01234567", Name: "stray", State: "enabled"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := restore(keysOnly); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("Restore into a store holding keys but no root: err = %v, want ErrInvalidArgument", err)
	}
	if _, err := keysOnly.GetMeta(ctx, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused Restore wrote a root record (err %v)", err)
	}
	if keys, _ := keysOnly.Scan(ctx, "", 10); len(keys) != 1 {
		t.Errorf("the refused Restore left %d keys, want the 1 that was there", len(keys))
	}

	for name, opts := range map[string]custodian.RestoreOptions{
		"no store": {Seal: sl},
		"no seal":  {Store: memory.New()},
	} {
		if _, err := custodian.Restore(ctx, bytes.NewReader(data), opts); !errors.Is(err, custodian.ErrInvalidArgument) {
			t.Errorf("Restore with %s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
}

// bkLayout is where the parts of a backup file lie, read from the format
// documented in backup.go.
type bkLayout struct {
	headerLen  [2]int   // the header's uint32 length
	header     [2]int   // the header JSON
	wrappedLen [2]int   // the wrapped file key's uint16 length
	wrapped    [2]int   // the wrapped file key
	digest     [2]int   // SHA-256 of everything before it
	chunks     [][2]int // each chunk, its uint32 length first
}

func bkParseLayout(t testing.TB, data []byte) bkLayout {
	t.Helper()
	var l bkLayout
	p := len("KCBACKUP\x01")
	if !bytes.HasPrefix(data, []byte("KCBACKUP\x01")) {
		t.Fatalf("backup starts %q", data[:min(len(data), 9)])
	}
	span := func(n int) [2]int {
		if p+n > len(data) {
			t.Fatalf("backup is %d bytes, layout needs %d", len(data), p+n)
		}
		s := [2]int{p, p + n}
		p += n
		return s
	}
	l.headerLen = span(4)
	l.header = span(int(binary.BigEndian.Uint32(data[l.headerLen[0]:])))
	l.wrappedLen = span(2)
	l.wrapped = span(int(binary.BigEndian.Uint16(data[l.wrappedLen[0]:])))
	l.digest = span(sha256.Size)
	for p < len(data) {
		start := p
		n := int(binary.BigEndian.Uint32(data[span(4)[0]:]))
		span(n)
		l.chunks = append(l.chunks, [2]int{start, p})
	}
	return l
}

// bkDecodedKey is a key record of the backup's plaintext, as the format
// documents it.
type bkDecodedKey struct {
	Key struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		State          string `json:"state"`
		PrimaryVersion uint32 `json:"primary_version"`
		LatestVersion  uint32 `json:"latest_version"`
	} `json:"key"`
	Versions []struct {
		Number   uint32 `json:"number"`
		State    string `json:"state"`
		Material []byte `json:"material"`
	} `json:"versions"`
}

type bkDecoded struct {
	header map[string]any
	meta   []string
	keys   []bkDecodedKey
	end    struct{ Meta, Keys int }
	plain  []byte
}

func bkGCM(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bkDecode reads a backup with the root key, written from the format's
// description at the top of backup.go rather than from its code.
func bkDecode(t testing.TB, data, root []byte) *bkDecoded {
	t.Helper()
	l := bkParseLayout(t, data)
	if sum := sha256.Sum256(data[:l.digest[0]]); !bytes.Equal(sum[:], data[l.digest[0]:l.digest[1]]) {
		t.Fatal("decode: the digest does not match")
	}
	d := &bkDecoded{}
	if err := json.Unmarshal(data[l.header[0]:l.header[1]], &d.header); err != nil {
		t.Fatalf("decode: header: %v", err)
	}
	w := data[l.wrapped[0]:l.wrapped[1]]
	fileKey, err := bkGCM(t, root).Open(nil, w[:12], w[12:], data[:l.header[1]])
	if err != nil {
		t.Fatalf("decode: the file key does not open under the root key: %v", err)
	}
	a := bkGCM(t, fileKey)
	for i, ch := range l.chunks {
		nonce := make([]byte, 12)
		binary.BigEndian.PutUint64(nonce[3:11], uint64(i))
		if i == len(l.chunks)-1 {
			nonce[11] = 1
		}
		p, err := a.Open(nil, nonce, data[ch[0]+4:ch[1]], nil)
		if err != nil {
			t.Fatalf("decode: chunk %d of %d: %v", i, len(l.chunks), err)
		}
		d.plain = append(d.plain, p...)
	}
	for rest := d.plain; ; {
		if len(rest) < 5 {
			t.Fatalf("decode: %d bytes after the last whole record, and no 'e' record", len(rest))
		}
		typ, n := rest[0], binary.BigEndian.Uint32(rest[1:5])
		body := rest[5 : 5+n]
		rest = rest[5+n:]
		var err error
		switch typ {
		case 'm':
			var m struct{ Name string }
			err = json.Unmarshal(body, &m)
			d.meta = append(d.meta, m.Name)
		case 'k':
			var k bkDecodedKey
			err = json.Unmarshal(body, &k)
			d.keys = append(d.keys, k)
		case 'e':
			if err := json.Unmarshal(body, &d.end); err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Fatalf("decode: %d bytes after the 'e' record", len(rest))
			}
			return d
		default:
			t.Fatalf("decode: record type %q", typ)
		}
		if err != nil {
			t.Fatalf("decode: record %q: %v", typ, err)
		}
	}
}

// bkGateWriter collects a backup, running gate before its first write:
// the backup has read its snapshot's first records by then.
type bkGateWriter struct {
	bytes.Buffer
	once sync.Once
	gate func()
}

func (w *bkGateWriter) Write(p []byte) (int, error) {
	w.once.Do(w.gate)
	return w.Buffer.Write(p)
}

// bkSealed is a ciphertext made by a writer, with the key version that
// made it.
type bkSealed struct {
	name    string
	version int
	ct      custodian.Ciphertext
	pt      []byte
}

func TestBackupConsistentWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"bolt", func(t *testing.T) store.Store {
			s, err := bolt.Open(filepath.Join(t.TempDir(), custodian.StoreFile), bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"memory", func(t *testing.T) store.Store { return memory.New() }},
	} {
		t.Run(tc.name, func(t *testing.T) { bkConsistentWhileWriting(t, tc.open(t)) })
	}
}

func bkConsistentWhileWriting(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, shares := bkOpenShamir(t, s)
	root := bkRoot(t, shares[:3])

	var (
		mu      sync.Mutex
		created []string
		sealed  []bkSealed
		acks    atomic.Int64
		failed  atomic.Pointer[error]
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	record := func(name string, version int) error {
		pt := fmt.Appendf(nil, "%s v%d", name, version)
		ct, err := c.Encrypt(ctx, name, pt, nil)
		if err != nil {
			return err
		}
		mu.Lock()
		sealed = append(sealed, bkSealed{name, version, ct, pt})
		mu.Unlock()
		return nil
	}
	write := func(g, i int) error {
		name := fmt.Sprintf("w%d-%04d", g, i)
		k, err := c.CreateKey(ctx, name, nil)
		if err != nil {
			return err
		}
		mu.Lock()
		created = append(created, name)
		mu.Unlock()
		acks.Add(1)
		if err := record(name, k.PrimaryVersion); err != nil {
			return err
		}
		// Rotate one of this writer's own keys: only it touches them, so
		// the version it gets back is the one its next encryption uses.
		old := fmt.Sprintf("w%d-%04d", g, i/2)
		if k, err = c.RotateKey(ctx, old); err != nil {
			return err
		}
		acks.Add(1)
		return record(old, k.PrimaryVersion)
	}
	// Seed keys, each with a ciphertext, so the first backup holds some.
	for i := range 20 {
		if err := write(9, i); err != nil {
			t.Fatal(err)
		}
	}
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := write(g, i); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	waitAcks := func(n int64) int64 {
		base := acks.Load()
		deadline := time.Now().Add(20 * time.Second)
		for acks.Load() < base+n && time.Now().Before(deadline) && failed.Load() == nil {
			time.Sleep(time.Millisecond)
		}
		return acks.Load() - base
	}
	for round := range 2 {
		waitAcks(20) // writers at work before the backup begins
		mu.Lock()
		before := slices.Clone(created)
		mu.Unlock()
		const during = 40
		var seen int64
		w := &bkGateWriter{gate: func() { seen = waitAcks(during) }}
		res, err := c.Backup(ctx, w)
		if err != nil {
			t.Fatalf("round %d: Backup: %v", round, err)
		}
		mu.Lock()
		after := len(created)
		mu.Unlock()
		if err := failed.Load(); err != nil {
			t.Fatalf("a writer failed: %v", *err)
		}
		if seen < during {
			t.Fatalf("round %d: only %d writes were acknowledged while the backup held its snapshot: writers are blocked by a backup", round, seen)
		}
		bkCheckSnapshot(t, w.Bytes(), root, res, before, after)
		bkCheckRestoredSnapshot(t, w.Bytes(), shares, res, func() []bkSealed {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(sealed)
		}())
	}
}

// bkCheckSnapshot decodes a backup taken while writers ran and checks it
// is one consistent state: every key with all of its versions, every key
// acknowledged before the backup began, none created after it ended.
func bkCheckSnapshot(t *testing.T, data, root []byte, res *custodian.BackupResult, before []string, after int) {
	t.Helper()
	d := bkDecode(t, data, root)
	if d.header["seal"] != shamir.Type || d.header["shares"] != 5.0 || d.header["threshold"] != 3.0 {
		t.Errorf("header %v, want a shamir seal of 5 shares, threshold 3", d.header)
	}
	if d.end.Keys != len(d.keys) || d.end.Meta != len(d.meta) || res.Keys != len(d.keys) || res.Meta != len(d.meta) {
		t.Errorf("'e' record %+v, Backup returned %+v; the file holds %d meta and %d key records", d.end, res, len(d.meta), len(d.keys))
	}
	if !slices.Contains(d.meta, "root") {
		t.Errorf("meta records %v lack the root record", d.meta)
	}
	names := map[string]bool{}
	for _, k := range d.keys {
		names[k.Key.Name] = true
		if k.Key.State != string(custodian.StateEnabled) || k.Key.PrimaryVersion != k.Key.LatestVersion || int(k.Key.LatestVersion) != len(k.Versions) {
			t.Errorf("key %s: state %s, primary %d, latest %d, %d versions: not one consistent record", k.Key.Name, k.Key.State, k.Key.PrimaryVersion, k.Key.LatestVersion, len(k.Versions))
		}
		for i, v := range k.Versions {
			if v.Number != uint32(i+1) || v.State != string(custodian.VersionEnabled) || len(v.Material) == 0 {
				t.Errorf("key %s: version %d of %d is number %d, state %s, %d bytes", k.Key.Name, i+1, len(k.Versions), v.Number, v.State, len(v.Material))
			}
		}
	}
	for _, name := range before {
		if !names[name] {
			t.Errorf("key %s, acknowledged before the backup began, is not in it", name)
		}
	}
	if len(d.keys) > after {
		t.Errorf("the backup holds %d keys; only %d were acknowledged when it ended", len(d.keys), after)
	}
}

// bkCheckRestoredSnapshot restores the backup and decrypts every logged
// ciphertext whose key version is in it.
func bkCheckRestoredSnapshot(t *testing.T, data []byte, shares [][]byte, res *custodian.BackupResult, sealed []bkSealed) {
	t.Helper()
	ctx := t.Context()
	target := memory.New()
	got, err := custodian.Restore(ctx, bytes.NewReader(data), custodian.RestoreOptions{Store: target, Seal: shamir.Seal{}, Shares: shares[1:4]})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if *got != *res {
		t.Errorf("Restore = %+v, Backup wrote %+v", got, res)
	}
	r := bkOpen(t, target, shamir.Seal{}, nil)
	bkUnseal(t, r, shares[0], shares[2], shares[4])
	latest := map[string]int{}
	opts := &custodian.ListOptions{PageSize: 1000}
	for {
		page, err := r.ListKeys(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			latest[k.Name] = k.LatestVersion
		}
		if opts.PageToken = page.NextPageToken; opts.PageToken == "" {
			break
		}
	}
	if len(latest) != res.Keys {
		t.Errorf("the restored store lists %d keys; the backup holds %d", len(latest), res.Keys)
	}
	checked := 0
	for _, s := range sealed {
		if v, ok := latest[s.name]; !ok || s.version > v {
			continue
		}
		pt, err := r.Decrypt(ctx, s.ct, nil)
		if err != nil || !bytes.Equal(pt, s.pt) {
			t.Errorf("%s v%d: Decrypt after restore = %q, %v; want %q", s.name, s.version, pt, err, s.pt)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no logged ciphertext was under a key version in the backup")
	}
}

func TestBackupRefusals(t *testing.T) {
	ctx := t.Context()
	inMemory, err := custodian.New(custodian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inMemory.Close()
	if _, err := inMemory.Backup(ctx, io.Discard); !errors.Is(err, custodian.ErrUnsupportedOperation) {
		t.Errorf("Backup of New's custodian: err = %v, want ErrUnsupportedOperation", err)
	}

	uninitialized := bkOpen(t, memory.New(), shamir.Seal{}, nil)
	if _, err := uninitialized.Backup(ctx, io.Discard); !errors.Is(err, custodian.ErrSealed) {
		t.Errorf("Backup before Init: err = %v, want ErrSealed", err)
	}
	sealed := bkOpen(t, memory.New(), shamir.Seal{}, nil)
	res, err := sealed.Init(ctx, custodian.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if _, err := sealed.Backup(ctx, &w); !errors.Is(err, custodian.ErrSealed) || w.Len() != 0 {
		t.Errorf("Backup while sealed after Init: err = %v, %d bytes written; want ErrSealed, none", err, w.Len())
	}
	for _, sh := range res.Shares[:res.Threshold] {
		if _, err := sealed.Unseal(ctx, custodian.Reveal(sh)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sealed.Backup(ctx, io.Discard); err != nil {
		t.Fatalf("Backup unsealed: %v", err)
	}
	if err := sealed.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.Backup(ctx, io.Discard); !errors.Is(err, custodian.ErrSealed) {
		t.Errorf("Backup after Seal: err = %v, want ErrSealed", err)
	}

	closed, _ := bkOpenKeyfile(t, memory.New())
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := closed.Backup(ctx, io.Discard); !errors.Is(err, custodian.ErrClosed) {
		t.Errorf("Backup after Close: err = %v, want ErrClosed", err)
	}
}

// bkHookStore runs onDump as a backup starts reading the store.
type bkHookStore struct {
	store.Store
	onDump func()
}

func (s *bkHookStore) Dump(ctx context.Context, meta func(string, []byte) error, key func(store.Key, []store.Version) error) error {
	if s.onDump != nil {
		s.onDump()
	}
	return s.Store.Dump(ctx, meta, key)
}

// A Seal while a backup runs must not leave a backup that nothing can
// restore: the backup either completes under the root key it began with,
// or fails as sealed.
func TestBackupSealedMidway(t *testing.T) {
	ctx := t.Context()
	hs := &bkHookStore{Store: memory.New()}
	c, keyPath := bkOpenKeyfile(t, hs)
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, "k", []byte("before the seal"), nil)
	if err != nil {
		t.Fatal(err)
	}
	hs.onDump = func() {
		if err := c.Seal(ctx); err != nil {
			t.Errorf("Seal: %v", err)
		}
	}
	var buf bytes.Buffer
	_, err = c.Backup(ctx, &buf)
	if errors.Is(err, custodian.ErrSealed) {
		return
	}
	if err != nil {
		t.Fatalf("Backup sealed midway: err = %v, want success or ErrSealed", err)
	}
	sl, err := keyfile.Open(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	target := memory.New()
	if _, err := custodian.Restore(ctx, bytes.NewReader(buf.Bytes()), custodian.RestoreOptions{Store: target, Seal: sl}); err != nil {
		t.Fatalf("the backup that succeeded does not restore: %v", err)
	}
	if pt, err := bkOpen(t, target, sl, nil).Decrypt(ctx, ct, nil); err != nil || string(pt) != "before the seal" {
		t.Fatalf("Decrypt after restore = %q, %v", pt, err)
	}
}
