package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian/internal/pgtest"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/postgres"
	"github.com/keycustodian/custodian/store/storetest"
)

// dsnVar names the environment variable holding the test database's DSN.
const dsnVar = pgtest.DSNVar

var (
	testDSN     = pgtest.DSN
	freshSchema = pgtest.FreshSchema
)

func open(t *testing.T, dsn, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("Open(schema %s): %v", schema, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, dsn, freshSchema(t, dsn))
	})
}

// TestConformanceSmallBatches runs the suite with at most two writes per
// transaction, so that its concurrent writers queue behind one another.
func TestConformanceSmallBatches(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: freshSchema(t, dsn), MaxBatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// schemaVersions returns the versions recorded in schema_migrations.
func schemaVersions(t *testing.T, dsn, schema string) []int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT version FROM `+pgx.Identifier{schema}.Sanitize()+`.schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func wantSchemaVersions(t *testing.T, dsn, schema string) {
	t.Helper()
	got := schemaVersions(t, dsn, schema)
	if len(got) != postgres.SchemaVersion {
		t.Fatalf("schema_migrations holds %v, want versions 1 to %d once each", got, postgres.SchemaVersion)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("schema_migrations holds %v, want versions 1 to %d once each", got, postgres.SchemaVersion)
		}
	}
}

func TestMigrateTwiceKeepsData(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, dsn, schema)
	k := store.Key{ID: "id-1", Name: "kept", State: "enabled"}
	if _, err := s.Create(context.Background(), k, nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
	s.Close()
	s = open(t, dsn, schema)
	defer s.Close()
	if got, err := s.Get(context.Background(), "id-1"); err != nil || got.Name != "kept" {
		t.Fatalf("Get after reopening = %+v, %v", got, err)
	}
	wantSchemaVersions(t, dsn, schema)
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	wantSchemaVersions(t, dsn, schema)
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	open(t, dsn, schema).Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	newer := postgres.SchemaVersion + 1
	if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema}.Sanitize()+`.schema_migrations (version) VALUES ($1)`, newer); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if !errors.Is(err, postgres.ErrNewerSchema) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a schema at version %d: err = %v, want ErrNewerSchema", newer, err)
	}
	t.Logf("Open of a newer schema: %v", err)
	if got := schemaVersions(t, dsn, schema); len(got) != newer || got[newer-1] != newer {
		t.Fatalf("a refused Open changed schema_migrations to %v", got)
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	testDSN(t) // only where PostgreSQL tests run, so the network is known
	for name, dsn := range map[string]string{
		"closed port":  "postgres://postgres@127.0.0.1:1/test?sslmode=disable",
		"unroutable":   "postgres://postgres@10.255.255.1:5432/test?sslmode=disable",
		"no such host": "postgres://postgres@custodian-no-such-host.invalid:5432/test?sslmode=disable",
	} {
		t.Run(name, func(t *testing.T) {
			const timeout = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			s, err := postgres.Open(ctx, dsn, postgres.Options{})
			elapsed := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", dsn)
			}
			if elapsed > timeout+time.Second {
				t.Fatalf("Open(%s) took %v, want at most about %v", dsn, elapsed, timeout)
			}
			t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
		})
	}
}

// TestConnectTimeoutWithoutDeadline checks that Options.ConnectTimeout
// bounds a connection attempt even when the context has no deadline.
func TestConnectTimeoutWithoutDeadline(t *testing.T) {
	testDSN(t)
	start := time.Now()
	s, err := postgres.Open(context.Background(), "postgres://postgres@10.255.255.1:5432/test?sslmode=disable",
		postgres.Options{ConnectTimeout: 500 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("Open of an unroutable address succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Open took %v with a 500ms connect timeout", elapsed)
	}
}

func TestOptions(t *testing.T) {
	for _, opts := range []postgres.Options{
		{Schema: string(make([]byte, 64))},
		{Schema: "a\x00b"},
		{ConnectTimeout: -time.Second},
		{MaxBatchSize: -1},
	} {
		if s, err := postgres.Open(context.Background(), "postgres://127.0.0.1:1/x", opts); err == nil {
			s.Close()
			t.Errorf("Open with %+v succeeded", opts)
		}
	}
}

func TestUpdateUndestroyOverLiveName(t *testing.T) {
	dsn := testDSN(t)
	s := open(t, dsn, freshSchema(t, dsn))
	defer s.Close()
	ctx := context.Background()
	old, err := s.Create(ctx, store.Key{ID: "old", Name: "n", State: store.StateDestroyed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, store.Key{ID: "new", Name: "n", State: "enabled"}, nil); err != nil {
		t.Fatal(err)
	}
	old.State = "enabled"
	if _, err := s.Update(ctx, old, nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("un-destroying a key whose name is held: err = %v, want ErrExists", err)
	}
}

func TestRefusesBadText(t *testing.T) {
	dsn := testDSN(t)
	s := open(t, dsn, freshSchema(t, dsn))
	defer s.Close()
	for i, k := range []store.Key{
		{ID: "a", Name: "n", State: "bad\xff"},
		{ID: "b", Name: "n", Labels: map[string]string{"x": "nul\x00"}},
		{ID: "c", Name: "n", Created: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := s.Create(context.Background(), k, nil); err == nil {
			t.Errorf("Create #%d (%+v) succeeded", i, k)
		}
		if _, err := s.Get(context.Background(), k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused Create #%d stored its key: %v", i, err)
		}
	}
}

// TestNameHolder checks which of the keys sharing a name Lookup and List
// answer with: the live one, whatever the order of creation, else the most
// recently created tombstone.
func TestNameHolder(t *testing.T) {
	dsn := testDSN(t)
	s := open(t, dsn, freshSchema(t, dsn))
	defer s.Close()
	ctx := context.Background()
	wantHolder := func(want string) {
		t.Helper()
		if got, err := s.Lookup(ctx, "n"); err != nil || got.ID != want {
			t.Fatalf("Lookup(n) = %s, %v; want %s", got.ID, err, want)
		}
		list, err := s.List(ctx, store.ListOptions{Prefix: "n", Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID != want {
			t.Fatalf("List(n) = %d keys (first %+v), %v; want %s alone", len(list), list, err, want)
		}
	}
	var live store.Key
	for _, step := range []struct{ id, state, holder string }{
		{"a", store.StateDestroyed, "a"},
		{"b", store.StateDestroyed, "b"}, // a newer tombstone
		{"c", "enabled", "c"},            // a live key takes the name
		{"d", store.StateDestroyed, "c"}, // a later tombstone does not
	} {
		k, err := s.Create(ctx, store.Key{ID: step.id, Name: "n", State: step.state}, nil)
		if err != nil {
			t.Fatalf("Create(%s): %v", step.id, err)
		}
		if step.state != store.StateDestroyed {
			live = k
		}
		wantHolder(step.holder)
	}
	// Once the live key is destroyed, d is the most recently created tombstone.
	live.State = store.StateDestroyed
	if _, err := s.Update(ctx, live, nil); err != nil {
		t.Fatal(err)
	}
	wantHolder("d")
}

// TestDumpAcrossPages checks that Dump's pages are one snapshot: writes
// made while it calls back for the first key, to keys of later pages and
// between them, are not seen, and every key comes with its own versions.
func TestDumpAcrossPages(t *testing.T) {
	dsn := testDSN(t)
	defer postgres.SetDumpPage(3)()
	s := open(t, dsn, freshSchema(t, dsn))
	defer s.Close()
	ctx := context.Background()
	var want []store.Key
	for i := range 10 {
		id := fmt.Sprintf("id-%02d", i)
		var vs []store.Version
		for n := range i % 3 { // zero, one or two versions, so pages end on each
			vs = append(vs, store.Version{KeyID: id, Number: uint32(n + 1), State: "enabled", Material: []byte(id)})
		}
		k, err := s.Create(ctx, store.Key{ID: id, Name: "name-" + id, State: "enabled"}, vs)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k)
	}
	var got []store.Key
	err := s.Dump(ctx, func(string, []byte) error { return nil }, func(k store.Key, vs []store.Version) error {
		if len(vs) != len(got)%3 {
			return fmt.Errorf("key %s came with %d versions, want %d", k.ID, len(vs), len(got)%3)
		}
		for _, v := range vs {
			if v.KeyID != k.ID {
				return fmt.Errorf("key %s came with a version of %s", k.ID, v.KeyID)
			}
		}
		if len(got) == 0 {
			if err := writeDuringDump(ctx, s, want); err != nil {
				return err
			}
		}
		got = append(got, k)
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Dump returned %d keys, want the %d present when it began", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Revision != 1 {
			t.Fatalf("Dump key %d = %s at revision %d, want %s at 1", i, got[i].ID, got[i].Revision, want[i].ID)
		}
	}
}

// writeDuringDump updates the last key, creates keys between and after the
// existing ones, and sets a meta record.
func writeDuringDump(ctx context.Context, s store.Store, keys []store.Key) error {
	last := keys[len(keys)-1]
	last.LatestVersion = 9
	if _, err := s.Update(ctx, last, []store.Version{{KeyID: last.ID, Number: 9, State: "enabled"}}); err != nil {
		return err
	}
	for _, id := range []string{"id-05a", "id-99"} {
		if _, err := s.Create(ctx, store.Key{ID: id, Name: "late-" + id, State: "enabled"}, nil); err != nil {
			return err
		}
	}
	return s.PutMeta(ctx, "late", nil, []byte("x"))
}

// TestBlockedCallsEndWithTheirContext locks every table from another
// connection, so that a call waits in the server: the end of its context
// must end it promptly with the context's error, and a write so ended must
// not land once the lock is released. The store has one connection, on
// which each statement is already prepared: then the server receives the
// whole statement before it waits, and would run it after the lock.
func TestBlockedCallsEndWithTheirContext(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	s := open(t, withParam(t, dsn, "pool_max_conns", "1"), schema)
	defer s.Close()
	ctx := context.Background()
	k, err := s.Create(ctx, store.Key{ID: "id-1", Name: "n", State: "enabled"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "m", nil, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	ends := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 100*time.Millisecond) }, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, end := range ends {
		for _, c := range blockedCalls(s, k) {
			if err := c.warm(ctx); err != nil && !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrConflict) {
				t.Fatalf("%s before the lock: %v", c.name, err)
			}
			release := lockTables(t, dsn, schema)
			ctx, cancel := end.ctx()
			start := time.Now()
			err := c.call(ctx)
			elapsed := time.Since(start)
			cancel()
			release()
			if elapsed > 3*time.Second {
				t.Errorf("%s ended by %s after %v", c.name, end.name, elapsed)
			}
			if !errors.Is(err, end.want) {
				t.Errorf("%s ended by %s: err = %v, want %v", c.name, end.name, err, end.want)
			}
			wantUnchanged(t, s, c.name+" ended by "+end.name)
		}
	}
}

// withParam returns dsn, a URL or key=value string, with one more parameter.
func withParam(t *testing.T, dsn, name, value string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " " + name + "=" + value
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// blockedCall is a call of a method that reads or writes a table, and one
// that prepares the same statements without writing anything.
type blockedCall struct {
	name       string
	call, warm func(context.Context) error
}

// blockedCalls returns one blockedCall per method of s; none of the
// writes may land (see wantUnchanged).
func blockedCalls(s store.Store, k store.Key) []blockedCall {
	next, stale := k.Clone(), k.Clone()
	next.LatestVersion = 1
	stale.Revision = 0
	v1 := []store.Version{{KeyID: k.ID, Number: 1, State: "enabled"}}
	read := func(name string, call func(context.Context) error) blockedCall {
		return blockedCall{name, call, call}
	}
	return []blockedCall{
		read("Get", func(ctx context.Context) error { _, err := s.Get(ctx, k.ID); return err }),
		read("Lookup", func(ctx context.Context) error { _, err := s.Lookup(ctx, k.Name); return err }),
		read("List", func(ctx context.Context) error { _, err := s.List(ctx, store.ListOptions{Limit: 1}); return err }),
		read("Scan", func(ctx context.Context) error { _, err := s.Scan(ctx, "", 1); return err }),
		read("Versions", func(ctx context.Context) error { _, err := s.Versions(ctx, k.ID); return err }),
		read("GetMeta", func(ctx context.Context) error { _, err := s.GetMeta(ctx, "m"); return err }),
		read("Dump", func(ctx context.Context) error {
			return s.Dump(ctx, func(string, []byte) error { return nil }, func(store.Key, []store.Version) error { return nil })
		}),
		{"Create",
			func(ctx context.Context) error {
				_, err := s.Create(ctx, store.Key{ID: "id-2", Name: "other", State: "enabled"}, v1)
				return err
			},
			func(ctx context.Context) error { _, err := s.Create(ctx, k, v1); return err }, // ErrExists
		},
		{"Update",
			func(ctx context.Context) error { _, err := s.Update(ctx, next, v1); return err },
			func(ctx context.Context) error { _, err := s.Update(ctx, stale, v1); return err }, // ErrConflict
		},
		{"PutMeta",
			func(ctx context.Context) error { return s.PutMeta(ctx, "m", []byte("v1"), []byte("v2")) },
			func(ctx context.Context) error { return s.PutMeta(ctx, "m", []byte("stale"), []byte("v2")) },
		},
	}
}

// wantUnchanged checks that none of the writes of blockedCalls landed.
func wantUnchanged(t *testing.T, s store.Store, after string) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.Get(ctx, "id-1"); err != nil || got.Revision != 1 {
		t.Fatalf("after %s: Get(id-1) = revision %d, %v; want revision 1", after, got.Revision, err)
	}
	if _, err := s.Get(ctx, "id-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after %s: Get(id-2): err = %v, want ErrNotFound", after, err)
	}
	if got, err := s.GetMeta(ctx, "m"); err != nil || string(got) != "v1" {
		t.Fatalf("after %s: GetMeta(m) = %q, %v; want v1", after, got, err)
	}
}

// lockTables locks the store's tables from another connection until the
// returned function is called. That function then waits until the server
// has finished every statement that waited for the lock, so that a write
// that would land has landed.
func lockTables(t *testing.T, dsn, schema string) (release func()) {
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
	sch := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, `LOCK TABLE `+sch+`.keys, `+sch+`.versions, `+sch+`.meta IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() {
		defer conn.Close(ctx)
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var busy int
			err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE pid <> pg_backend_pid() AND state <> 'idle' AND strpos(query, $1) > 0`, schema).Scan(&busy)
			if err != nil {
				t.Fatal(err)
			}
			if busy == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d statements still running 10s after the lock was released", busy)
			}
		}
	}
}
