package postgres_test

// Tests of group commit. They hold a transaction open on a table lock
// taken from another connection, queue writes behind it in a known order,
// and release it: the queued writes then share the next transaction.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/postgres"
	"github.com/keycustodian/custodian/store/storetest"
)

// lockTable locks one of schema's tables from another connection until
// the returned function is called.
func lockTable(t *testing.T, dsn, schema, table string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+pgx.Identifier{schema, table}.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() {
		defer conn.Close(ctx)
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

func groupTxs(s *postgres.Store) uint64 { txs, _ := postgres.GroupStats(s); return txs }

// lead starts w and waits until it leads a transaction: every later write
// queues until that transaction ends.
func lead(t *testing.T, s *postgres.Store, w func() error) *storetest.Call {
	t.Helper()
	before := groupTxs(s)
	c := storetest.Go(w)
	waitFor(t, "a write to lead", func() bool { return groupTxs(s) > before })
	return c
}

// enqueue starts each write in turn, waiting for it to queue before the
// next, so that they queue in order behind a transaction in flight.
func enqueue(t *testing.T, s *postgres.Store, writes ...func() error) []*storetest.Call {
	t.Helper()
	calls := make([]*storetest.Call, len(writes))
	base := postgres.Queued(s)
	for i, w := range writes {
		calls[i] = storetest.Go(w)
		waitFor(t, fmt.Sprintf("write %d to queue", i), func() bool { return postgres.Queued(s) == base+i+1 })
	}
	return calls
}

// hold starts a meta write that leads a transaction blocked on a lock of
// the meta table, and returns a function that releases it.
func hold(t *testing.T, s *postgres.Store, dsn, schema string) (release func()) {
	t.Helper()
	unlock := lockTable(t, dsn, schema, "meta")
	name := fmt.Sprint("held-", time.Now().UnixNano())
	c := lead(t, s, func() error { return s.PutMeta(context.Background(), name, nil, []byte("x")) })
	return func() {
		t.Helper()
		unlock()
		if err := c.Wait(t, "the held write"); err != nil {
			t.Fatalf("the held write: %v", err)
		}
	}
}

func testKey(id, name string) store.Key {
	return store.Key{ID: id, Name: name, Type: "aes256-gcm", State: "enabled", LatestVersion: 1, PrimaryVersion: 1}
}

func testVersion(id string, n uint32) store.Version {
	return store.Version{KeyID: id, Number: n, State: "enabled", Material: fmt.Appendf(nil, "sealed-%s-%d", id, n)}
}

// TestGroupCommitManyWriters has many writers create keys at once: every
// create is acknowledged, transactions are shared, and another store
// reads everything acknowledged.
func TestGroupCommitManyWriters(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	defer s.Close()
	ctx := context.Background()
	const writers, each = 64, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("id-%02d-%02d", w, i)
				if _, err := s.Create(ctx, testKey(id, "name-"+id), []store.Version{testVersion(id, 1)}); err != nil {
					t.Errorf("Create(%s): %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	txs, alone := postgres.GroupStats(s)
	t.Logf("%d creates in %d transactions", writers*each, txs)
	if txs >= writers*each || alone != 0 {
		t.Errorf("%d creates took %d transactions and %d ran alone; want fewer transactions, none alone", writers*each, txs, alone)
	}
	if !postgres.Idle(s) {
		t.Error("writes still queued or a leader after every write returned")
	}
	other := open(t, dsn, schema)
	defer other.Close()
	for w := range writers {
		for i := range each {
			id := fmt.Sprintf("id-%02d-%02d", w, i)
			if k, err := other.Lookup(ctx, "name-"+id); err != nil || k.ID != id || k.Revision != 1 {
				t.Fatalf("Lookup(name-%s) = %s at revision %d, %v", id, k.ID, k.Revision, err)
			}
			if v, err := other.Version(ctx, id, 1); err != nil || string(v.Material) != "sealed-"+id+"-1" {
				t.Fatalf("Version(%s, 1) = %q, %v", id, v.Material, err)
			}
		}
	}
}

// TestGroupCommitRefusals commits every kind of refusal beside successful
// writes in one transaction: each write gets its own outcome and message,
// the refusals write nothing, and none of them aborts the others. A write
// whose statement fails (un-destroying a key over a live name) runs alone
// and gets its own refusal, and the others still share one transaction.
func TestGroupCommitRefusals(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	defer s.Close()
	ctx := context.Background()
	x, err := s.Create(ctx, testKey("x", "existing"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := s.Create(ctx, store.Key{ID: "dead", Name: "existing", State: store.StateDestroyed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "m", nil, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	stale, next, renamed, undestroy := x.Clone(), x.Clone(), x.Clone(), dead.Clone()
	stale.Revision = 7
	next.Description, next.LatestVersion = "updated", 2
	renamed.Name = "renamed"
	undestroy.State = "enabled"
	missing := testKey("missing", "missing")
	missing.Revision = 1
	c := testKey("c", "c")
	cVersions := []store.Version{
		testVersion("c", 1),
		{KeyID: "c", Number: 2, State: store.StateDestroyed},                      // no material: NULL
		{KeyID: "c", Number: 3, State: "enabled", Material: []byte{}},             // empty material
		{KeyID: "c", Number: 4, State: "enabled", Created: time.Unix(1, 2).UTC()}, // a time
	}

	release := hold(t, s, dsn, schema)
	txs0, alone0 := postgres.GroupStats(s)
	writes := []struct {
		name string
		do   func() error
		want error  // a sentinel, or nil
		text string // in the error's message
	}{
		{"create a", func() error {
			_, err := s.Create(ctx, testKey("a", "n"), []store.Version{testVersion("a", 1)})
			return err
		}, nil, ""},
		{"create b over a's name", func() error {
			_, err := s.Create(ctx, testKey("b", "n"), []store.Version{testVersion("b", 1)})
			return err
		}, store.ErrExists, `key name "n"`},
		{"create x again", func() error { _, err := s.Create(ctx, testKey("x", "other"), nil); return err }, store.ErrExists, "key id x"},
		{"stale update", func() error { _, err := s.Update(ctx, stale, nil); return err }, store.ErrConflict, "at revision 1, not 7"},
		{"update of a missing key", func() error { _, err := s.Update(ctx, missing, nil); return err }, store.ErrNotFound, "key id missing"},
		{"rename", func() error { _, err := s.Update(ctx, renamed, nil); return err }, nil, "renaming"},
		{"undestroy over a live name", func() error { _, err := s.Update(ctx, undestroy, nil); return err }, store.ErrExists, "held by a key that is not destroyed"},
		{"stale meta", func() error { return s.PutMeta(ctx, "m", []byte("stale"), []byte("v2")) }, store.ErrConflict, `meta "m"`},
		{"update x", func() error { _, err := s.Update(ctx, next, []store.Version{testVersion("x", 2)}); return err }, nil, ""},
		{"create c", func() error { _, err := s.Create(ctx, c, cVersions); return err }, nil, ""},
		{"meta", func() error { return s.PutMeta(ctx, "m", []byte("v1"), []byte("v2")) }, nil, ""},
	}
	fns := make([]func() error, len(writes))
	for i, w := range writes {
		fns[i] = w.do
	}
	calls := enqueue(t, s, fns...)
	release()
	for i, w := range writes {
		err := calls[i].Wait(t, w.name)
		switch {
		case w.want == nil && w.text == "":
			if err != nil {
				t.Errorf("%s: %v", w.name, err)
			}
		case err == nil || (w.want != nil && !errors.Is(err, w.want)) || !strings.Contains(err.Error(), w.text):
			t.Errorf("%s: err = %v, want %v mentioning %q", w.name, err, w.want, w.text)
		}
	}
	txs, alone := postgres.GroupStats(s)
	// One transaction for the group, one more after the failing
	// statement rolled it back, and the failing write alone.
	if txs-txs0 != 2 || alone-alone0 != 1 {
		t.Errorf("the queued writes took %d group transactions and %d ran alone; want 2 and 1 (the undestroy)", txs-txs0, alone-alone0)
	}
	for name, id := range map[string]string{"n": "a", "existing": "x", "c": "c"} {
		if k, err := s.Lookup(ctx, name); err != nil || k.ID != id {
			t.Errorf("Lookup(%s) = %s, %v; want %s", name, k.ID, err, id)
		}
	}
	for _, id := range []string{"b", "missing"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s): err = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.Versions(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused create of b left versions: err = %v", err)
	}
	if k, err := s.Get(ctx, "x"); err != nil || k.Description != "updated" || k.Revision != 2 {
		t.Errorf("Get(x) = %q at revision %d, %v; want the update at revision 2", k.Description, k.Revision, err)
	}
	if k, err := s.Get(ctx, "dead"); err != nil || k.State != store.StateDestroyed || k.Revision != 1 {
		t.Errorf("Get(dead) = %s at revision %d, %v; want it untouched", k.State, k.Revision, err)
	}
	if vs, err := s.Versions(ctx, "x"); err != nil || len(vs) != 1 || vs[0].Number != 2 {
		t.Errorf("Versions(x) = %+v, %v; want version 2", vs, err)
	}
	vs, err := s.Versions(ctx, "c")
	if err != nil || len(vs) != len(cVersions) {
		t.Fatalf("Versions(c) = %d versions, %v; want %d", len(vs), err, len(cVersions))
	}
	if vs[1].Material != nil || vs[2].Material == nil || len(vs[2].Material) != 0 || !vs[3].Created.Equal(cVersions[3].Created) || !vs[1].Created.IsZero() {
		t.Errorf("Versions(c) = %+v: nil and empty material, or times, did not round-trip", vs)
	}
	if v, err := s.GetMeta(ctx, "m"); err != nil || string(v) != "v2" {
		t.Errorf("GetMeta(m) = %q, %v; want v2", v, err)
	}
}

// TestQueuedWriteCancelled ends the context of a write queued behind a
// transaction in flight: it returns the context's error at once and
// never lands.
func TestQueuedWriteCancelled(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	defer s.Close()
	release := hold(t, s, dsn, schema)
	wctx, cancel := context.WithCancel(context.Background())
	calls := enqueue(t, s,
		func() error { _, err := s.Create(wctx, testKey("w", "w"), nil); return err },
		func() error { _, err := s.Create(context.Background(), testKey("o", "o"), nil); return err },
	)
	cancel()
	if err := calls[0].Wait(t, "the cancelled write"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued write: err = %v, want context.Canceled", err)
	}
	if n := postgres.Queued(s); n != 1 {
		t.Fatalf("%d writes queued after the cancelled one left, want 1", n)
	}
	release()
	if err := calls[1].Wait(t, "the other write"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "w"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the cancelled write landed: Get(w) err = %v", err)
	}
	if !postgres.Idle(s) {
		t.Fatal("writes still queued or a leader")
	}
}

// TestTakenWriteContext ends the contexts of writes taken into a
// transaction that waits on a lock: while another write in it still
// wants its outcome, they wait for the commit and report it; once every
// write's context has ended, the transaction is abandoned before COMMIT
// and none of them lands.
func TestTakenWriteContext(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	defer s.Close()
	bg := context.Background()
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("all=%v", all), func(t *testing.T) {
			release := hold(t, s, dsn, schema)
			unlockVersions := lockTable(t, dsn, schema, "versions")
			ctxs := make([]context.Context, 2)
			cancels := make([]context.CancelFunc, 2)
			for i := range ctxs {
				ctxs[i], cancels[i] = context.WithCancel(bg)
				defer cancels[i]()
			}
			if !all {
				ctxs[1] = bg // the writer that still wants its outcome
			}
			id := func(i int) string { return fmt.Sprintf("%v-%d", all, i) }
			calls := enqueue(t, s,
				// Leads the next transaction; blocks on the versions lock.
				func() error {
					_, err := s.Create(ctxs[1], testKey(id(1), id(1)), []store.Version{testVersion(id(1), 1)})
					return err
				},
				func() error { _, err := s.Create(ctxs[0], testKey(id(0), id(0)), nil); return err },
			)
			txs := groupTxs(s)
			release()
			waitFor(t, "the next transaction", func() bool { return groupTxs(s) > txs && postgres.Queued(s) == 0 })
			cancels[0]()
			if calls[1].Returned(200 * time.Millisecond) {
				t.Fatalf("a taken write returned before its transaction ended: %v", calls[1].Wait(t, "the taken write"))
			}
			if all {
				cancels[1]()
				for i, c := range calls {
					if err := c.Wait(t, fmt.Sprintf("write %d", i)); !errors.Is(err, context.Canceled) {
						t.Errorf("write %d, every context ended: err = %v, want context.Canceled", i, err)
					}
				}
				unlockVersions() // no COMMIT was sent: nothing lands now
				for i := range 2 {
					if _, err := s.Get(bg, id(i)); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("write %d landed after every context ended: Get err = %v", i, err)
					}
				}
			} else {
				unlockVersions()
				for i, c := range calls {
					if err := c.Wait(t, fmt.Sprintf("write %d", i)); err != nil {
						t.Errorf("write %d: %v", i, err)
					}
					if _, err := s.Get(bg, id(i)); err != nil {
						t.Errorf("acknowledged write %d: Get: %v", i, err)
					}
				}
			}
			waitFor(t, "the store to be idle", func() bool { return postgres.Idle(s) })
		})
	}
}

// TestCancellationNeverLies races many writes against the ends of their
// contexts: every write that returned nil landed, and every one that
// returned its context's error did not.
func TestCancellationNeverLies(t *testing.T) {
	dsn := testDSN(t)
	s := open(t, dsn, freshSchema(t, dsn))
	defer s.Close()
	// Connect first: a connection attempt abandoned by every writer
	// waiting for it would be tried again by the next, all timing out.
	if _, err := s.Create(context.Background(), testKey("first", "first"), nil); err != nil {
		t.Fatal(err)
	}
	const writers, each = 32, 15
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		acked  = map[string]bool{}
		counts = map[string]int{}
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("id-%02d-%02d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(20000))*time.Microsecond)
				_, err := s.Create(ctx, testKey(id, id), []store.Version{testVersion(id, 1)})
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked[id] = true
					counts["ok"]++
				case errors.Is(err, context.DeadlineExceeded):
					acked[id] = false
					counts["ended"]++
				default:
					t.Errorf("Create(%s): %v", id, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	txs, alone := postgres.GroupStats(s)
	t.Logf("%v in %d transactions, %d alone", counts, txs, alone)
	for id, ok := range acked {
		_, err := s.Get(context.Background(), id)
		if landed := err == nil; landed != ok {
			t.Errorf("Create(%s) acknowledged %v, landed %v (%v)", id, ok, landed, err)
		}
	}
	if !postgres.Idle(s) {
		t.Error("writes still queued or a leader")
	}
}

// TestMaxBatchSize checks that no transaction takes more than
// MaxBatchSize writes.
func TestMaxBatchSize(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, MaxBatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := hold(t, s, dsn, schema)
	txs := groupTxs(s)
	var writes []func() error
	for i := range 5 {
		id := fmt.Sprint("id-", i)
		writes = append(writes, func() error { _, err := s.Create(context.Background(), testKey(id, id), nil); return err })
	}
	calls := enqueue(t, s, writes...)
	release()
	for i, c := range calls {
		if err := c.Wait(t, fmt.Sprintf("write %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := groupTxs(s) - txs; got != 3 {
		t.Fatalf("5 queued writes with MaxBatchSize 2 took %d transactions, want 3", got)
	}
}

// TestGroupCommitStatementFailure queues a create whose statement fails
// in a group (two versions numbered alike) among good creates: the group
// runs again without merging its creates, to find the failing one, which
// then runs alone, as the store ran every write before group commit (its
// versions upserted in turn, the last one kept); the others land.
func TestGroupCommitStatementFailure(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	defer s.Close()
	ctx := context.Background()
	twice := testVersion("dup", 1)
	twice.Material = []byte("second")
	release := hold(t, s, dsn, schema)
	txs0, alone0 := postgres.GroupStats(s)
	calls := enqueue(t, s,
		func() error {
			_, err := s.Create(ctx, testKey("a", "a"), []store.Version{testVersion("a", 1)})
			return err
		},
		func() error {
			_, err := s.Create(ctx, testKey("dup", "dup"), []store.Version{testVersion("dup", 1), twice})
			return err
		},
		func() error {
			_, err := s.Create(ctx, testKey("c", "c"), []store.Version{testVersion("c", 1)})
			return err
		},
	)
	release()
	for i, c := range calls {
		if err := c.Wait(t, fmt.Sprintf("write %d", i)); err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	txs, alone := postgres.GroupStats(s)
	// Merged (fails), one statement each (fails at dup), without dup.
	if txs-txs0 != 3 || alone-alone0 != 1 {
		t.Errorf("took %d group transactions and %d writes alone; want 3 and 1", txs-txs0, alone-alone0)
	}
	for _, id := range []string{"a", "c"} {
		if v, err := s.Version(ctx, id, 1); err != nil || string(v.Material) != "sealed-"+id+"-1" {
			t.Errorf("Version(%s, 1) = %q, %v", id, v.Material, err)
		}
	}
	if v, err := s.Version(ctx, "dup", 1); err != nil || string(v.Material) != "second" {
		t.Errorf("Version(dup, 1) = %q, %v; want the second of the two", v.Material, err)
	}
}
