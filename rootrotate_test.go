package custodian_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// rrOpenKeyfile opens a key-file-sealed Custodian over st, initialising
// st if it is new.
func rrOpenKeyfile(t *testing.T, st store.Store, kf *keyfile.Seal, opts custodian.Options) *custodian.Custodian {
	t.Helper()
	opts.Store, opts.Seal = st, kf
	if opts.RotationCheckInterval == 0 {
		opts.RotationCheckInterval = -1
	}
	c, err := custodian.Open(bgCtx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if s, _ := c.Status(bgCtx); !s.Initialized {
		if _, err := c.Init(bgCtx, custodian.InitOptions{}); err != nil {
			t.Fatalf("Init: %v", err)
		}
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rrKeyfile(t *testing.T) *keyfile.Seal {
	t.Helper()
	kf, err := keyfile.Create(filepath.Join(t.TempDir(), "unseal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// rrTerms returns the keyring terms every record and every version's
// material in st is sealed under.
func rrTerms(t *testing.T, st store.Store) map[uint32]int {
	t.Helper()
	terms := map[uint32]int{}
	err := st.Dump(bgCtx, func(string, []byte) error { return nil }, func(k store.Key, vs []store.Version) error {
		term, _ := barrier.TermOf(k.Seal)
		terms[term]++
		for _, v := range vs {
			if len(v.Material) > 0 {
				term, _ := barrier.TermOf(v.Material)
				terms[term]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return terms
}

// TestRotateRootOnline rotates the root key while writers and readers
// run: every ciphertext made before, during and after decrypts, no
// operation fails, and afterwards every record is sealed under the new
// term only.
func TestRotateRootOnline(t *testing.T) {
	st := memory.New()
	c := rrOpenKeyfile(t, st, rrKeyfile(t), custodian.Options{ResealBatch: 7})
	const keys = 120
	type sample struct {
		ct custodian.Ciphertext
		pt string
	}
	var (
		mu      sync.Mutex
		samples []sample
	)
	for i := range keys {
		name := fmt.Sprintf("k-%03d", i)
		if _, err := c.CreateKey(bgCtx, name, nil); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := c.RotateKey(bgCtx, name); err != nil {
				t.Fatal(err)
			}
		}
		ct, err := c.Encrypt(bgCtx, name, []byte(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, sample{ct, name})
	}
	before := rrTerms(t, st)
	if len(before) != 1 || before[1] == 0 {
		t.Fatalf("before rotation, records are under terms %v; want only term 1", before)
	}

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		ops     atomic.Int64
		failure = make(chan error, 8)
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("k-%03d", (w*31+i)%keys)
				var err error
				switch i % 4 {
				case 0, 1:
					var ct custodian.Ciphertext
					if ct, err = c.Encrypt(bgCtx, name, []byte(name), nil); err == nil {
						mu.Lock()
						samples = append(samples, sample{ct, name})
						mu.Unlock()
					}
				case 2:
					mu.Lock()
					s := samples[(w+i*7)%len(samples)]
					mu.Unlock()
					var pt []byte
					if pt, err = c.Decrypt(bgCtx, s.ct, nil); err == nil && string(pt) != s.pt {
						err = fmt.Errorf("decrypted %q, want %q", pt, s.pt)
					}
				case 3:
					if i%40 == 3 {
						_, err = c.RotateKey(bgCtx, name)
					} else {
						_, err = c.CreateKey(bgCtx, fmt.Sprintf("new-%d-%d", w, i), nil)
					}
				}
				if err != nil {
					select {
					case failure <- fmt.Errorf("writer %d op %d on %s: %w", w, i, name, err):
					default:
					}
					return
				}
				ops.Add(1)
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	res, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{})
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(failure)
	if err != nil {
		t.Fatalf("RotateRoot: %v", err)
	}
	for err := range failure {
		t.Errorf("during rotation: %v", err)
	}
	if ops.Load() == 0 {
		t.Fatal("no operation ran during the rotation")
	}
	if res.ActiveTerm != 2 || res.Resealed < keys || len(res.Shares) != 0 {
		t.Fatalf("RotateRoot = %+v; want term 2, at least %d keys re-sealed, no shares", res, keys)
	}
	after := rrTerms(t, st)
	if len(after) != 1 || after[2] == 0 {
		t.Fatalf("after rotation, records are under terms %v; want only term 2", after)
	}
	if s, _ := c.Status(bgCtx); s.Terms != 1 || s.ActiveTerm != 2 {
		t.Fatalf("Status after rotation: %+v", s)
	}
	for _, s := range samples {
		if pt, err := c.Decrypt(bgCtx, s.ct, nil); err != nil || string(pt) != s.pt {
			t.Fatalf("Decrypt(%s) after rotation = %q, %v", s.pt, pt, err)
		}
	}
	// A second rotation moves everything again.
	if res, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{}); err != nil || res.ActiveTerm != 3 {
		t.Fatalf("second RotateRoot = %+v, %v", res, err)
	}
	if after := rrTerms(t, st); len(after) != 1 || after[3] == 0 {
		t.Fatalf("after a second rotation: terms %v", after)
	}
}

// TestRotateRootShamir needs a quorum of the current shares, gives new
// shares, and the old ones stop working.
func TestRotateRootShamir(t *testing.T) {
	c, shares := slOpenShamir(t, 5, 3)
	slUnseal(t, c, shares[:3]...)
	if _, err := c.CreateKey(bgCtx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Encrypt(bgCtx, "k", []byte("kept"), nil)
	if _, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("RotateRoot without shares: err = %v, want ErrInvalidArgument", err)
	}
	_, others := slOpenShamir(t, 5, 3)
	if _, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{Shares: others[:3]}); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("RotateRoot with another store's shares: err = %v, want ErrInvalidShares", err)
	}
	res, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{Shares: shares[2:]})
	if err != nil {
		t.Fatalf("RotateRoot: %v", err)
	}
	if len(res.Shares) != 5 || res.Threshold != 3 || res.ActiveTerm != 2 || res.Resealed != 1 {
		t.Fatalf("RotateRoot = %d shares, %+v", len(res.Shares), res)
	}
	if err := c.Seal(bgCtx); err != nil {
		t.Fatal(err)
	}
	slUnseal(t, c, shares[0], shares[1])
	if _, err := c.Unseal(bgCtx, shares[2]); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("old shares after RotateRoot: err = %v, want ErrInvalidShares", err)
	}
	slUnseal(t, c, custodian.Reveal(res.Shares[0]), custodian.Reveal(res.Shares[4]), custodian.Reveal(res.Shares[2]))
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "kept" {
		t.Fatalf("Decrypt after rotation and unseal = %q, %v", pt, err)
	}
}

// TestRotateRootSurvivesRestart: a rotated key-file store reopens.
func TestRotateRootSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c, err := custodian.OpenDir(bgCtx, dir, custodian.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(bgCtx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Encrypt(bgCtx, "k", []byte("kept"), nil)
	if _, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = custodian.OpenDir(bgCtx, dir, custodian.Options{})
	if err != nil {
		t.Fatalf("OpenDir after RotateRoot: %v", err)
	}
	defer c.Close()
	if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != "kept" {
		t.Fatalf("Decrypt after rotation and restart = %q, %v", pt, err)
	}
}
