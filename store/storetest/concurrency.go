package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/keycustodian/custodian/store"
)

// writers is how many goroutines the concurrency tests start.
const writers = 16

// testConcurrentCAS has every writer rotate one key in a read-modify-write
// loop, as two custodians rotating one key at once would: each success
// must add a distinct version, and none may be lost.
func testConcurrentCAS(t *testing.T, s store.Store) {
	k := newKey("id-1", "rotated")
	k.LatestVersion = 0
	mustCreate(t, s, k)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				if attempt > 100*writers {
					errs <- fmt.Errorf("no success after %d attempts", attempt)
					return
				}
				cur, err := s.Get(bg, "id-1")
				if err != nil {
					errs <- err
					return
				}
				cur.LatestVersion++
				_, err = s.Update(bg, cur, []store.Version{newVersion("id-1", cur.LatestVersion)})
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					errs <- err
				}
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("rotating writer: %v", err)
	}
	got, err := s.Get(bg, "id-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.LatestVersion != writers || got.Revision != writers+1 {
		t.Fatalf("after %d rotations: LatestVersion %d, Revision %d; want %d, %d",
			writers, got.LatestVersion, got.Revision, writers, writers+1)
	}
	want := make([]store.Version, writers)
	for i := range want {
		want[i] = newVersion("id-1", uint32(i+1))
	}
	wantVersions(t, s, "id-1", want...)
}

// testConcurrentCreateOneName races writers to create one name under
// different ids: exactly one wins, the rest get ErrExists.
func testConcurrentCreateOneName(t *testing.T, s store.Store) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("id-%02d", i)
			_, err := s.Create(bg, newKey(id, "contended"), []store.Version{newVersion(id, 1)})
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, id)
				mu.Unlock()
			case !errors.Is(err, store.ErrExists):
				t.Errorf("Create(%s): err = %v, want nil or ErrExists", id, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d creates of one name succeeded (%q), want 1", len(winners), winners)
	}
	got, err := s.Lookup(bg, "contended")
	if err != nil || got.ID != winners[0] {
		t.Fatalf("Lookup(contended) = %s, %v; want the winner %s", got.ID, err, winners[0])
	}
	for i := range writers {
		id := fmt.Sprintf("id-%02d", i)
		if _, err := s.Versions(bg, id); id != winners[0] && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("losing Create(%s) left versions behind: err = %v", id, err)
		}
	}
}

// testConcurrentCreateManyNames creates distinct keys at once: all succeed.
func testConcurrentCreateManyNames(t *testing.T, s store.Store) {
	const n = 4 * writers
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("id-%03d", i)
			if _, err := s.Create(bg, newKey(id, "name-"+id), []store.Version{newVersion(id, 1)}); err != nil {
				t.Errorf("Create(%s): %v", id, err)
			}
		})
	}
	wg.Wait()
	keys, err := s.List(bg, store.ListOptions{Limit: 2 * n})
	if err != nil || len(keys) != n {
		t.Fatalf("List after %d creates = %d keys, %v", n, len(keys), err)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("name-id-%03d", i); k.Name != want {
			t.Fatalf("List[%d] = %q, want %q", i, k.Name, want)
		}
	}
}

// testConcurrentMixedWrites has writers at once make writes that succeed
// and writes that are refused, as a store that commits concurrent writes
// together would put them in one transaction: each writer creates its own
// key, races the others for one name, updates its key from a stale
// revision (refused) and then from the right one, and sets its own meta
// record after a stale attempt. Every write gets its own outcome, and
// the refused ones leave no trace.
func testConcurrentMixedWrites(t *testing.T, s store.Store) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for i := range writers {
		wg.Go(func() {
			id, meta := fmt.Sprintf("id-%02d", i), fmt.Sprintf("meta-%02d", i)
			k, err := s.Create(bg, newKey(id, "own-"+id), []store.Version{newVersion(id, 1)})
			if err != nil {
				t.Errorf("Create(%s): %v", id, err)
				return
			}
			shared := fmt.Sprintf("shared-%02d", i)
			switch _, err := s.Create(bg, newKey(shared, "contended"), []store.Version{newVersion(shared, 1)}); {
			case err == nil:
				mu.Lock()
				winners = append(winners, shared)
				mu.Unlock()
			case !errors.Is(err, store.ErrExists):
				t.Errorf("Create(%s, contended): err = %v, want nil or ErrExists", shared, err)
			}
			stale := k.Clone()
			stale.Revision = 0
			stale.LatestVersion = 2
			if _, err := s.Update(bg, stale, []store.Version{newVersion(id, 2)}); !errors.Is(err, store.ErrConflict) {
				t.Errorf("Update(%s) at a stale revision: err = %v, want ErrConflict", id, err)
			}
			k.LatestVersion = 3
			if _, err := s.Update(bg, k, []store.Version{newVersion(id, 3)}); err != nil {
				t.Errorf("Update(%s): %v", id, err)
			}
			if err := s.PutMeta(bg, meta, []byte("stale"), []byte("x")); !errors.Is(err, store.ErrConflict) {
				t.Errorf("PutMeta(%s) from a stale value: err = %v, want ErrConflict", meta, err)
			}
			if err := s.PutMeta(bg, meta, nil, []byte(id)); err != nil {
				t.Errorf("PutMeta(%s): %v", meta, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(winners) != 1 {
		t.Fatalf("%d creates of one name succeeded (%q), want 1", len(winners), winners)
	}
	if got, err := s.Lookup(bg, "contended"); err != nil || got.ID != winners[0] {
		t.Fatalf("Lookup(contended) = %s, %v; want the winner %s", got.ID, err, winners[0])
	}
	for i := range writers {
		id, meta, shared := fmt.Sprintf("id-%02d", i), fmt.Sprintf("meta-%02d", i), fmt.Sprintf("shared-%02d", i)
		want := newKey(id, "own-"+id)
		want.LatestVersion = 3
		wantKey(t, s, withRevision(want, 2))
		wantVersions(t, s, id, newVersion(id, 1), newVersion(id, 3))
		if v, err := s.GetMeta(bg, meta); err != nil || string(v) != id {
			t.Fatalf("GetMeta(%s) = %q, %v; want %q", meta, v, err, id)
		}
		if _, err := s.Get(bg, shared); shared != winners[0] && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the refused Create(%s) left a key: err = %v", shared, err)
		}
	}
}
