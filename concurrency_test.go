package custodian_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// lcSealed is a ciphertext a test made, with its plaintext.
type lcSealed struct {
	ct custodian.Ciphertext
	pt []byte
}

// lcLog collects what concurrent goroutines made.
type lcLog struct {
	mu      sync.Mutex
	sealed  []lcSealed
	rotated []int // the version each successful RotateKey returned
}

func (l *lcLog) addSealed(ct custodian.Ciphertext, pt []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sealed = append(l.sealed, lcSealed{ct, pt})
}

func (l *lcLog) addRotated(v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotated = append(l.rotated, v)
}

// lcCheckVersions asserts that no version was lost: every successful
// rotation returned a distinct version, the latest version is 1 plus the
// number of rotations, and GetKey lists every version.
func lcCheckVersions(t *testing.T, c *custodian.Custodian, name string, rotated []int) *custodian.Key {
	t.Helper()
	k, err := c.GetKey(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(rotated))
	want := make([]int, len(rotated))
	for i := range want {
		want[i] = i + 2
	}
	if !slices.Equal(got, want) {
		t.Errorf("successful rotations returned versions %v, want each of 2..%d once", got, len(rotated)+1)
	}
	if k.LatestVersion != 1+len(rotated) || k.PrimaryVersion != k.LatestVersion {
		t.Errorf("latest version %d, primary %d, after %d rotations", k.LatestVersion, k.PrimaryVersion, len(rotated))
	}
	if len(k.Versions) != k.LatestVersion {
		t.Errorf("GetKey lists %d versions, latest is %d", len(k.Versions), k.LatestVersion)
	}
	for i, v := range k.Versions {
		if v.Version != i+1 || v.State != custodian.VersionEnabled {
			t.Errorf("listed version %d: number %d, state %s", i+1, v.Version, v.State)
		}
	}
	return k
}

// lcHeaderVersion reads the key version from a ciphertext's header
// (docs/formats.md: big-endian at offset 14).
func lcHeaderVersion(ct custodian.Ciphertext) uint32 { return binary.BigEndian.Uint32(ct[14:18]) }

// TestConcurrencyRotateEncryptRevoke runs encryption and decryption on one
// key while other goroutines rotate it, and then revokes it while all of
// them keep going. No rotation may be lost, every ciphertext must decrypt
// until the revocation, and none may decrypt once RevokeKey has returned.
func TestConcurrencyRotateEncryptRevoke(t *testing.T) {
	ctx := context.Background()
	c, _ := lcNewCustodian(t, nil)
	const (
		name      = "busy"
		workers   = 4
		rotators  = 2
		opsEach   = 40 // phase 1 encryptions per worker
		rotations = 8  // phase 1 rotations per rotator
	)
	if _, err := c.CreateKey(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	var log lcLog
	seal := func(w, i int, phase string) ([]byte, custodian.Ciphertext, error) {
		pt := fmt.Appendf(nil, "%s worker %d message %d", phase, w, i)
		ct, err := c.Encrypt(ctx, name, pt, &custodian.EncryptOptions{AssociatedData: pt[:6]})
		return pt, ct, err
	}
	open := func(pt []byte, ct custodian.Ciphertext) ([]byte, error) {
		return c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: pt[:6], Key: name})
	}

	// Phase 1: encrypt, decrypt and rotate at once; everything succeeds.
	// Workers keep going until the rotators are done, so that the two
	// overlap.
	var wg sync.WaitGroup
	var rotating atomic.Int32
	rotating.Store(rotators)
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < opsEach || (rotating.Load() > 0 && i < 50*opsEach); i++ {
				pt, ct, err := seal(w, i, "first")
				if err != nil {
					t.Errorf("Encrypt: %v", err)
					return
				}
				if got, err := open(pt, ct); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("Decrypt of a fresh ciphertext (version %d) = %q, %v", lcHeaderVersion(ct), got, err)
					return
				}
				log.addSealed(ct, pt)
			}
		})
	}
	for range rotators {
		wg.Go(func() {
			defer rotating.Add(-1)
			for range rotations {
				k, err := c.RotateKey(ctx, name)
				if err != nil {
					t.Errorf("RotateKey: %v", err)
					return
				}
				if k.PrimaryVersion != k.LatestVersion {
					t.Errorf("RotateKey returned primary %d, latest %d", k.PrimaryVersion, k.LatestVersion)
				}
				log.addRotated(k.LatestVersion)
				time.Sleep(200 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	k := lcCheckVersions(t, c, name, log.rotated)
	// Every version's material is there and works.
	for v := 1; v <= k.LatestVersion; v++ {
		opts := &custodian.RawOptions{Version: v}
		raw, err := c.EncryptRaw(ctx, name, []byte("per version"), opts)
		if err != nil {
			t.Fatalf("EncryptRaw with version %d: %v", v, err)
		}
		if pt, err := c.DecryptRaw(ctx, name, raw, opts); err != nil || string(pt) != "per version" {
			t.Errorf("DecryptRaw with version %d = %q, %v", v, pt, err)
		}
	}
	versionsUsed := map[uint32]bool{}
	for _, s := range log.sealed {
		versionsUsed[lcHeaderVersion(s.ct)] = true
		if got, err := open(s.pt, s.ct); err != nil || !bytes.Equal(got, s.pt) {
			t.Errorf("Decrypt after the rotations (version %d) = %q, %v", lcHeaderVersion(s.ct), got, err)
		}
	}
	t.Logf("phase 1: %d ciphertexts under %d versions, %d rotations", len(log.sealed), len(versionsUsed), len(log.rotated))

	// Phase 2: the same, while the key is revoked. An operation that
	// started after RevokeKey returned must fail with ErrKeyRevoked; one
	// that overlapped it may succeed or fail so; nothing else may happen.
	var revoked atomic.Bool
	var progress, rotatedBefore atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i, post := 0, 0; post < 3; i++ {
				progress.Add(1)
				after := revoked.Load()
				if after {
					post++
				}
				pt, ct, err := seal(w, i, "second")
				switch {
				case err == nil && after:
					t.Errorf("Encrypt that started after RevokeKey returned succeeded")
				case err == nil:
					log.addSealed(ct, pt)
					after := revoked.Load()
					got, err := open(pt, ct)
					switch {
					case err == nil && after:
						t.Errorf("Decrypt that started after RevokeKey returned succeeded")
					case err == nil && !bytes.Equal(got, pt):
						t.Errorf("Decrypt = %q, want %q", got, pt)
					case err != nil && !errors.Is(err, custodian.ErrKeyRevoked):
						t.Errorf("Decrypt during revocation: %v; want success or ErrKeyRevoked", err)
					}
				case !errors.Is(err, custodian.ErrKeyRevoked):
					t.Errorf("Encrypt during revocation: %v; want success or ErrKeyRevoked", err)
				}
			}
		})
	}
	for range rotators {
		wg.Go(func() {
			for post := 0; post < 2; {
				progress.Add(1)
				after := revoked.Load()
				if after {
					post++
				}
				k, err := c.RotateKey(ctx, name)
				switch {
				case err == nil && after:
					t.Errorf("RotateKey that started after RevokeKey returned succeeded")
				case err == nil:
					log.addRotated(k.LatestVersion)
					rotatedBefore.Add(1)
				case !errors.Is(err, custodian.ErrKeyRevoked):
					t.Errorf("RotateKey during revocation: %v; want success or ErrKeyRevoked", err)
				}
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); (progress.Load() < 10*(workers+rotators) || rotatedBefore.Load() < 4) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	if _, err := c.RevokeKey(ctx, name); err != nil {
		t.Errorf("RevokeKey: %v", err)
	}
	revoked.Store(true)
	wg.Wait()

	if k, err := c.GetKey(ctx, name); err != nil || k.State != custodian.StateRevoked {
		t.Fatalf("GetKey = %v, %v; want revoked", k, err)
	}
	lcCheckVersions(t, c, name, log.rotated)
	for _, s := range log.sealed {
		_, err := open(s.pt, s.ct)
		lcCheckRefusal(t, err, custodian.StateRevoked, "decrypt", name)
		if _, err := c.Rewrap(ctx, s.ct, &custodian.RewrapOptions{AssociatedData: s.pt[:6]}); !errors.Is(err, custodian.ErrKeyRevoked) {
			t.Errorf("Rewrap after revocation: err = %v, want ErrKeyRevoked", err)
		}
	}
	t.Logf("in all: %d ciphertexts, %d rotations", len(log.sealed), len(log.rotated))
}

// TestConcurrentCreateSameName races CreateKey calls for one name: exactly
// one wins, every other gets ErrKeyExists. Between rounds the winner is
// destroyed, so later rounds race for a released name.
func TestConcurrentCreateSameName(t *testing.T) {
	ctx := context.Background()
	c, clock := lcNewCustodian(t, nil)
	const (
		name   = "contested"
		racers = 16
	)
	var ids []string
	for round := range 4 {
		start := make(chan struct{})
		keys := make([]*custodian.Key, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				keys[i], errs[i] = c.CreateKey(ctx, name, &custodian.CreateOptions{Description: fmt.Sprint(i)})
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Errorf("round %d: racers %d and %d both created %q", round, winner, i, name)
				}
				winner = i
				continue
			}
			var e *custodian.Error
			if !errors.Is(err, custodian.ErrKeyExists) || !errors.As(err, &e) || e.Op != "create" || e.Key != name {
				t.Errorf("round %d: racer %d: %v; want create %q: ErrKeyExists", round, i, err, name)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer created the key", round)
		}
		k, err := c.GetKey(ctx, name)
		if err != nil || k.ID != keys[winner].ID || k.Description != fmt.Sprint(winner) || k.State != custodian.StateEnabled {
			t.Fatalf("round %d: GetKey = %+v, %v; want the winner's key", round, k, err)
		}
		if slices.Contains(ids, k.ID) {
			t.Errorf("round %d: key id %s was used before", round, k.ID)
		}
		ids = append(ids, k.ID)
		if _, err := c.Encrypt(ctx, name, []byte("x"), nil); err != nil {
			t.Errorf("round %d: Encrypt with the winner: %v", round, err)
		}
		lcPutInState(t, c, clock, name, custodian.StateDestroyed)
	}
}

// lcHookStore is an in-memory store that runs a hook after a successful
// Update or List, so that a test can put another operation in exactly the
// window between the store's write and the Custodian's next step.
type lcHookStore struct {
	*memory.Store
	mu          sync.Mutex
	afterUpdate func(store.Key)
	afterList   func()
}

func lcNewHookStore() *lcHookStore { return &lcHookStore{Store: memory.New()} }

func (s *lcHookStore) setAfterUpdate(f func(store.Key)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterUpdate = f
}

func (s *lcHookStore) setAfterList(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterList = f
}

func (s *lcHookStore) Update(ctx context.Context, k store.Key, vs []store.Version) (store.Key, error) {
	out, err := s.Store.Update(ctx, k, vs)
	s.mu.Lock()
	f := s.afterUpdate
	s.mu.Unlock()
	if err == nil && f != nil {
		f(out)
	}
	return out, err
}

func (s *lcHookStore) List(ctx context.Context, opts store.ListOptions) ([]store.Key, error) {
	out, err := s.Store.List(ctx, opts)
	s.listed(err)
	return out, err
}

// Scan calls the afterList hook too: the sweeps list keys by scanning.
func (s *lcHookStore) Scan(ctx context.Context, after string, limit int) ([]store.Key, error) {
	out, err := s.Store.Scan(ctx, after, limit)
	s.listed(err)
	return out, err
}

func (s *lcHookStore) listed(err error) {
	s.mu.Lock()
	f := s.afterList
	s.mu.Unlock()
	if err == nil && f != nil {
		f()
	}
}

// TestConcurrentDestroyDueKeysAndCancel cancels a due key's
// deletion between DestroyDueKeys listing it and destroying it, as an
// operator racing the background sweeper would. The key must survive and
// must not be counted as destroyed.
func TestConcurrentDestroyDueKeysAndCancel(t *testing.T) {
	ctx := context.Background()
	hs := lcNewHookStore()
	c, clock := lcNewCustodian(t, hs)
	if _, err := c.CreateKey(ctx, "due", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, "due", 7*lcDay); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * lcDay)
	var once sync.Once
	hs.setAfterList(func() {
		once.Do(func() {
			if _, err := c.CancelKeyDeletion(ctx, "due"); err != nil {
				t.Errorf("cancel: %v", err)
			}
		})
	})
	n, err := c.DestroyDueKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := c.GetKey(ctx, "due"); err != nil || k.State != custodian.StateDisabled {
		t.Fatalf("GetKey = %v, %v; want the cancelled key disabled", k, err)
	}
	if n != 0 {
		t.Errorf("DestroyDueKeys = %d, want 0: it destroyed nothing", n)
	}
}

// TestConcurrentDestroyAndRecreate recreates a name in the window between
// DestroyKey writing the tombstone and the Custodian publishing it to its
// cache. The new key must be usable afterwards: a tombstone must never
// shadow the live key that now holds its name.
func TestConcurrentDestroyAndRecreate(t *testing.T) {
	ctx := context.Background()
	hs := lcNewHookStore()
	c, clock := lcNewCustodian(t, hs)
	const name = "reused"
	if _, err := c.CreateKey(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	oldCT, err := c.Encrypt(ctx, name, []byte("old"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, name, 7*lcDay); err != nil {
		t.Fatal(err)
	}
	clock.Advance(7 * lcDay)

	paused, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hs.setAfterUpdate(func(k store.Key) {
		if k.State == store.StateDestroyed {
			once.Do(func() { close(paused); <-release })
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.DestroyKey(ctx, name)
		done <- err
	}()
	select {
	case <-paused:
	case <-time.After(10 * time.Second):
		t.Fatal("DestroyKey never wrote the tombstone")
	}
	fresh, err := c.CreateKey(ctx, name, nil)
	close(release)
	if err != nil {
		t.Fatalf("CreateKey after the tombstone was written: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hs.setAfterUpdate(nil)

	if k, err := c.GetKey(ctx, name); err != nil || k.ID != fresh.ID || k.State != custodian.StateEnabled {
		t.Fatalf("GetKey = %v, %v; want the new key, enabled", k, err)
	}
	if _, err := c.Encrypt(ctx, name, []byte("new"), nil); err != nil {
		t.Errorf("Encrypt with the new key: %v", err)
	}
	if _, err := c.RotateKey(ctx, name); err != nil {
		t.Errorf("RotateKey of the new key: %v", err)
	}
	if _, err := c.Decrypt(ctx, oldCT, nil); !errors.Is(err, custodian.ErrKeyDestroyed) {
		t.Errorf("Decrypt of the old key's ciphertext: err = %v, want ErrKeyDestroyed", err)
	}
}
