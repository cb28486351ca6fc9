package bolt

// Tests of group commit (committer). They hold a commit open with a write
// whose function blocks inside the transaction, queue writes behind it in
// a known order, and release it: the queued writes then share the next
// transaction.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/storetest"
)

func openStore(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func newTestStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "keys.db"), opts)
	t.Cleanup(func() { s.Close() })
	return s
}

func testKey(id, name string) store.Key {
	return store.Key{ID: id, Name: name, Type: "aes256-gcm", State: "enabled", LatestVersion: 1, PrimaryVersion: 1}
}

func testVersion(id string) store.Version {
	return store.Version{KeyID: id, Number: 1, State: "enabled", Material: []byte("sealed-" + id)}
}

// hold starts a write whose function blocks inside its transaction until
// release is called, and returns once the function runs: meanwhile every
// write queues. release returns the held write's error.
func hold(t *testing.T, s *Store) (release func() error) {
	t.Helper()
	entered, unblock := make(chan struct{}), make(chan struct{})
	c := storetest.Go(func() error {
		_, err := s.write(context.Background(), func(tx *bolt.Tx) (store.Key, error) {
			close(entered)
			<-unblock
			return store.Key{}, nil
		})
		return err
	})
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the held write did not begin")
	}
	return func() error {
		close(unblock)
		return c.Wait(t, "the held write")
	}
}

// queueLen returns how many writes wait in s's queue.
func queueLen(s *Store) int {
	return s.commits.group.Queued()
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); queueLen(s) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", queueLen(s), n)
		}
	}
}

// enqueue starts each write in turn, waiting for it to queue before the
// next, so that they queue in order behind a held commit.
func enqueue(t *testing.T, s *Store, writes ...func() error) []*storetest.Call {
	t.Helper()
	calls := make([]*storetest.Call, len(writes))
	base := queueLen(s)
	for i, w := range writes {
		calls[i] = storetest.Go(w)
		waitQueued(t, s, base+i+1)
	}
	return calls
}

// idle checks that no write is queued and none leads.
func idle(t *testing.T, s *Store) {
	t.Helper()
	if !s.commits.group.Idle() {
		t.Fatalf("after every write returned: %d queued or a leader left; want none", s.commits.group.Queued())
	}
}

// TestGroupCommitManyWriters has many writers create keys at once: every
// create is acknowledged, commits are shared, and everything acknowledged
// is in the file when it is opened again.
func TestGroupCommitManyWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keys.db")
	s := openStore(t, path, Options{})
	const writers, each = 64, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("id-%02d-%02d", w, i)
				if _, err := s.Create(ctx, testKey(id, "name-"+id), []store.Version{testVersion(id)}); err != nil {
					t.Errorf("Create(%s): %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	idle(t, s)
	txs := s.commits.txs.Load()
	t.Logf("%d creates in %d transactions", writers*each, txs)
	if txs >= writers*each {
		t.Errorf("%d creates took %d transactions: no commit was shared", writers*each, txs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, Options{})
	defer s.Close()
	for w := range writers {
		for i := range each {
			id := fmt.Sprintf("id-%02d-%02d", w, i)
			if k, err := s.Lookup(ctx, "name-"+id); err != nil || k.ID != id || k.Revision != 1 {
				t.Fatalf("after reopening, Lookup(name-%s) = %s at revision %d, %v", id, k.ID, k.Revision, err)
			}
			if v, err := s.Version(ctx, id, 1); err != nil || string(v.Material) != "sealed-"+id {
				t.Fatalf("after reopening, Version(%s, 1) = %q, %v", id, v.Material, err)
			}
		}
	}
	checkLayout(t, s)
}

// TestGroupCommitRefusals commits refused writes with successful ones in
// one transaction: each gets its own outcome, and the refusals roll back
// nothing of the others.
func TestGroupCommitRefusals(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, Options{})
	x, err := s.Create(ctx, testKey("x", "existing"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "m", nil, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	stale := x.Clone()
	stale.Revision = 7
	next := x.Clone()
	next.Description = "updated"
	release := hold(t, s)
	before := s.commits.txs.Load()
	calls := enqueue(t, s,
		func() error {
			_, err := s.Create(ctx, testKey("a", "n"), []store.Version{testVersion("a")})
			return err
		},
		func() error {
			_, err := s.Create(ctx, testKey("b", "n"), []store.Version{testVersion("b")})
			return err
		},
		func() error { _, err := s.Update(ctx, stale, nil); return err },
		func() error { return s.PutMeta(ctx, "m", []byte("stale"), []byte("v2")) },
		func() error { _, err := s.Create(ctx, testKey("x", "other"), nil); return err },
		func() error { _, err := s.Update(ctx, next, nil); return err },
		func() error {
			_, err := s.Create(ctx, testKey("c", "c"), []store.Version{testVersion("c")})
			return err
		},
	)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	want := []error{nil, store.ErrExists, store.ErrConflict, store.ErrConflict, store.ErrExists, nil, nil}
	for i, c := range calls {
		if err := c.Wait(t, fmt.Sprintf("write %d", i)); !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("write %d: err = %v, want %v", i, err, want[i])
		}
	}
	if got := s.commits.txs.Load() - before; got != 1 {
		t.Errorf("the %d queued writes took %d transactions, want 1", len(calls), got)
	}
	for name, id := range map[string]string{"n": "a", "existing": "x", "c": "c"} {
		if k, err := s.Lookup(ctx, name); err != nil || k.ID != id {
			t.Errorf("Lookup(%s) = %s, %v; want %s", name, k.ID, err, id)
		}
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused create of b: Get(b) err = %v, want ErrNotFound", err)
	}
	if k, err := s.Get(ctx, "x"); err != nil || k.Description != "updated" || k.Revision != 2 {
		t.Errorf("Get(x) = %q at revision %d, %v; want the update at revision 2", k.Description, k.Revision, err)
	}
	if v, err := s.GetMeta(ctx, "m"); err != nil || string(v) != "v1" {
		t.Errorf("GetMeta(m) = %q, %v; want v1", v, err)
	}
	idle(t, s)
	checkLayout(t, s)
}

var errBoom = errors.New("boom")

// TestGroupCommitFailure queues writes that fail (a failed Put, a panic)
// among good ones: the failures roll back only themselves, a write that
// fails only beside others succeeds alone, and the good writes land.
func TestGroupCommitFailure(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, Options{})
	put := func(tx *bolt.Tx, name string) error {
		return tx.Bucket(bucketRecords).Put([]byte(name), []byte("x"))
	}
	flakyRuns := 0
	release := hold(t, s)
	calls := enqueue(t, s,
		func() error {
			_, err := s.Create(ctx, testKey("a", "a"), []store.Version{testVersion("a")})
			return err
		},
		// Writes, then fails: the write must not land.
		func() error {
			_, err := s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
				if err := put(tx, "failed"); err != nil {
					return store.Key{}, &txFailure{err}
				}
				return store.Key{}, &txFailure{errBoom}
			})
			return err
		},
		// Fails on its first run only, as a write that found the
		// transaction too big might: alone, it lands.
		func() error {
			_, err := s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
				flakyRuns++
				if err := put(tx, "flaky"); err != nil {
					return store.Key{}, &txFailure{err}
				}
				if flakyRuns == 1 {
					return store.Key{}, &txFailure{errBoom}
				}
				return store.Key{}, nil
			})
			return err
		},
		// Panics after writing: the panic reaches its caller only.
		func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("panicked: %v", v)
				}
			}()
			_, err = s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
				if err := put(tx, "panicked"); err != nil {
					return store.Key{}, &txFailure{err}
				}
				panic("write function bug")
			})
			return err
		},
		func() error {
			_, err := s.Create(ctx, testKey("c", "c"), []store.Version{testVersion("c")})
			return err
		},
	)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		err := c.Wait(t, fmt.Sprintf("write %d", i))
		switch i {
		case 1:
			if !errors.Is(err, errBoom) {
				t.Errorf("the failing write: err = %v, want boom", err)
			}
		case 3:
			if err == nil || !strings.Contains(err.Error(), "panicked: write panicked: write function bug") {
				t.Errorf("the panicking write: err = %v, want its panic", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	for _, id := range []string{"a", "c"} {
		if _, err := s.Version(ctx, id, 1); err != nil {
			t.Errorf("Version(%s, 1): %v", id, err)
		}
	}
	for name, want := range map[string]bool{"failed": false, "flaky": true, "panicked": false} {
		_, err := s.GetMeta(ctx, name)
		if got := err == nil; got != want || (err != nil && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("meta %s present = %v (%v), want %v", name, got, err, want)
		}
	}
	idle(t, s)
	checkLayout(t, s) // the creates that ran again took their sequence numbers again
	// The store still commits.
	if _, err := s.Create(ctx, testKey("d", "d"), nil); err != nil {
		t.Fatal(err)
	}
}

// TestQueuedWriteCancelled ends the context of a write queued behind a
// commit in flight: it returns the context's error at once and never lands.
func TestQueuedWriteCancelled(t *testing.T) {
	s := newTestStore(t, Options{})
	release := hold(t, s)
	wctx, cancel := context.WithCancel(context.Background())
	calls := enqueue(t, s,
		func() error { _, err := s.Create(wctx, testKey("w", "w"), nil); return err },
		func() error { _, err := s.Create(context.Background(), testKey("o", "o"), nil); return err },
	)
	cancel()
	if err := calls[0].Wait(t, "the cancelled write"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued write: err = %v, want context.Canceled", err)
	}
	if n := queueLen(s); n != 1 {
		t.Fatalf("%d writes queued after the cancelled one left, want 1", n)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := calls[1].Wait(t, "the other write"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "w"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the cancelled write landed: Get(w) err = %v", err)
	}
	idle(t, s)
}

// TestTakenWriteWaits ends the context of a write already taken into a
// transaction: the call waits for the commit and reports its success.
func TestTakenWriteWaits(t *testing.T) {
	s := newTestStore(t, Options{})
	release := hold(t, s)
	entered, unblock := make(chan struct{}), make(chan struct{})
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := enqueue(t, s,
		// Leads the next transaction, and blocks in it.
		func() error {
			_, err := s.write(context.Background(), func(tx *bolt.Tx) (store.Key, error) {
				close(entered)
				<-unblock
				return store.Key{}, nil
			})
			return err
		},
		func() error { _, err := s.Create(wctx, testKey("w", "w"), nil); return err },
	)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	<-entered // the second transaction has taken w
	cancel()
	if calls[1].Returned(50 * time.Millisecond) {
		t.Fatalf("a taken write returned before its transaction ended: %v", calls[1].Wait(t, "the taken write"))
	}
	close(unblock)
	for i, c := range calls {
		if err := c.Wait(t, fmt.Sprintf("write %d", i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if _, err := s.Get(context.Background(), "w"); err != nil {
		t.Fatalf("the acknowledged write: Get(w): %v", err)
	}
	idle(t, s)
}

// TestCancellationNeverLies races many writes against the ends of their
// contexts: every write that returned nil landed, and every one that
// returned the context's error did not, whether it was queued, handed the
// lead, or taken when its context ended.
func TestCancellationNeverLies(t *testing.T) {
	for _, opts := range []Options{{}, {MaxBatchSize: 3}, {MaxBatchDelay: 200 * time.Microsecond}} {
		t.Run(fmt.Sprintf("size=%d/delay=%v", opts.MaxBatchSize, opts.MaxBatchDelay), func(t *testing.T) {
			s := newTestStore(t, opts)
			const writers, each = 32, 40
			var (
				wg sync.WaitGroup
				mu sync.Mutex
				ok = map[string]bool{}
			)
			counts := map[string]int{}
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						id := fmt.Sprintf("id-%02d-%02d", w, i)
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(3000))*time.Microsecond)
						_, err := s.Create(ctx, testKey(id, id), nil)
						cancel()
						mu.Lock()
						switch {
						case err == nil:
							ok[id] = true
							counts["ok"]++
						case errors.Is(err, context.DeadlineExceeded):
							ok[id] = false
							counts["ended"]++
						default:
							t.Errorf("Create(%s): %v", id, err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("%v in %d transactions", counts, s.commits.txs.Load())
			for id, acked := range ok {
				_, err := s.Get(context.Background(), id)
				if landed := err == nil; landed != acked {
					t.Errorf("Create(%s) acknowledged %v, landed %v (%v)", id, acked, landed, err)
				}
			}
			idle(t, s)
		})
	}
}

// TestMaxBatchSize checks that no transaction takes more than
// MaxBatchSize writes.
func TestMaxBatchSize(t *testing.T) {
	s := newTestStore(t, Options{MaxBatchSize: 2})
	release := hold(t, s)
	before := s.commits.txs.Load()
	var writes []func() error
	for i := range 5 {
		id := fmt.Sprint("id-", i)
		writes = append(writes, func() error { _, err := s.Create(context.Background(), testKey(id, id), nil); return err })
	}
	calls := enqueue(t, s, writes...)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if err := c.Wait(t, fmt.Sprintf("write %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.commits.txs.Load() - before; got != 3 {
		t.Fatalf("5 queued writes with MaxBatchSize 2 took %d transactions, want 3", got)
	}
	idle(t, s)
}

// TestMaxBatchDelay checks the optional wait for company: a lone write
// waits it out, a full queue ends it, and a write whose context ends
// during it returns the context's error and does not land.
func TestMaxBatchDelay(t *testing.T) {
	ctx := context.Background()
	t.Run("lone", func(t *testing.T) {
		s := newTestStore(t, Options{MaxBatchDelay: 30 * time.Millisecond})
		begin := time.Now()
		if _, err := s.Create(ctx, testKey("a", "a"), nil); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took < 30*time.Millisecond {
			t.Fatalf("a lone write with a 30ms delay took %v", took)
		}
	})
	t.Run("full", func(t *testing.T) {
		s := newTestStore(t, Options{MaxBatchDelay: time.Hour, MaxBatchSize: 4})
		var wg sync.WaitGroup
		for i := range 4 {
			id := fmt.Sprint("id-", i)
			wg.Go(func() {
				if _, err := s.Create(ctx, testKey(id, id), nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait() // a full queue ended the hour's wait
		if got := s.commits.txs.Load(); got != 1 {
			t.Fatalf("4 writes with MaxBatchSize 4 took %d transactions, want 1", got)
		}
		idle(t, s)
	})
	t.Run("ended", func(t *testing.T) {
		s := newTestStore(t, Options{MaxBatchDelay: time.Hour})
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := s.Create(wctx, testKey("a", "a"), nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a write whose context ended during the delay: err = %v, want DeadlineExceeded", err)
		}
		if _, err := s.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a write whose context ended during the delay landed: Get err = %v", err)
		}
		idle(t, s)
	})
}
