package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/postgres"
)

// The multi-process test runs this test binary again as child processes,
// each a separate custodian sharing one schema. These variables tell a
// child what to do; TestMain runs it instead of the tests.
const (
	childSchemaVar = "CUSTODIAN_TEST_CHILD_SCHEMA" // the schema to open; set only in children
	childNameVar   = "CUSTODIAN_TEST_CHILD_NAME"   // the writer's name, written into its versions
	childStartVar  = "CUSTODIAN_TEST_CHILD_START"  // Unix nanoseconds at which to open the store
)

// rounds is how many rotations and meta increments each writer makes.
const rounds = 10

// sharedKey is the key every writer rotates.
var sharedKey = store.Key{ID: "rotated", Name: "rotated", State: "enabled"}

func TestMain(m *testing.M) {
	if schema := os.Getenv(childSchemaVar); schema != "" {
		if err := child(schema, os.Getenv(childNameVar), os.Getenv(childStartVar)); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", os.Getenv(childNameVar), err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is one process of TestProcesses: it waits for the common start,
// opens (and perhaps migrates) the schema, and writes. It prints "won N"
// for each version N its rotations created.
func child(schema, name, start string) error {
	ns, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return fmt.Errorf("start time: %w", err)
	}
	time.Sleep(time.Until(time.Unix(0, ns)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, os.Getenv(dsnVar), postgres.Options{Schema: schema})
	if err != nil {
		return err
	}
	defer s.Close()
	won, err := write(ctx, s, name)
	for _, n := range won {
		fmt.Printf("won %d\n", n)
	}
	return err
}

// write is one writer's work: create the shared key unless another writer
// has, rotate it and increment the meta counter rounds times each. It
// returns the version numbers its rotations created.
func write(ctx context.Context, s store.Store, name string) ([]uint32, error) {
	if _, err := s.Create(ctx, sharedKey, nil); err != nil && !errors.Is(err, store.ErrExists) {
		return nil, err
	}
	var won []uint32
	for range rounds {
		n, err := rotate(ctx, s, name)
		if err != nil {
			return won, err
		}
		won = append(won, n)
		if err := increment(ctx, s); err != nil {
			return won, err
		}
	}
	return won, nil
}

// rotate adds a version to the shared key by read-modify-write, as a
// custodian does, retrying on ErrConflict, and returns its number.
func rotate(ctx context.Context, s store.Store, writer string) (uint32, error) {
	for {
		k, err := s.Get(ctx, sharedKey.ID)
		if err != nil {
			return 0, err
		}
		k.LatestVersion++
		_, err = s.Update(ctx, k, []store.Version{{State: "enabled", Number: k.LatestVersion, Material: material(writer, k.LatestVersion)}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return k.LatestVersion, err
	}
}

// material names the writer of version n, so that a version overwritten
// by a writer that lost its race would show.
func material(writer string, n uint32) []byte { return fmt.Appendf(nil, "%s:%d", writer, n) }

// increment appends a byte to the meta record "counter" by compare-and-swap.
func increment(ctx context.Context, s store.Store) error {
	for {
		cur, err := s.GetMeta(ctx, "counter")
		if errors.Is(err, store.ErrNotFound) {
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		err = s.PutMeta(ctx, "counter", cur, append(bytes.Clone(cur), 'x'))
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

// checkWrites checks the store after writers finished: won maps each
// version a rotation created to the writer that reported it.
func checkWrites(t *testing.T, s store.Store, won map[uint32]string, writers int) {
	t.Helper()
	total := writers * rounds
	if len(won) != total {
		t.Fatalf("%d rotations reported %d distinct versions, want %d", total, len(won), total)
	}
	k, err := s.Get(t.Context(), sharedKey.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.LatestVersion != uint32(total) || k.Revision != uint64(total)+1 {
		t.Fatalf("after %d rotations: LatestVersion %d, Revision %d; want %d, %d", total, k.LatestVersion, k.Revision, total, total+1)
	}
	vs, err := s.Versions(t.Context(), sharedKey.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != total {
		t.Fatalf("the key has %d versions, want %d", len(vs), total)
	}
	for i, v := range vs {
		n := uint32(i + 1)
		if writer, ok := won[n]; v.Number != n || !ok || !bytes.Equal(v.Material, material(writer, n)) {
			t.Fatalf("version %d = number %d material %q; want the one of %q, which reported it", n, v.Number, v.Material, writer)
		}
	}
	counter, err := s.GetMeta(t.Context(), "counter")
	if err != nil || len(counter) != total {
		t.Fatalf("meta counter = %d increments, %v; want %d", len(counter), err, total)
	}
}

// addWins records the versions a writer reported, failing on one reported twice.
func addWins(t *testing.T, won map[uint32]string, writer string, versions []uint32) {
	t.Helper()
	for _, n := range versions {
		if other, dup := won[n]; dup {
			t.Fatalf("version %d was created by both %s and %s", n, other, writer)
		}
		won[n] = writer
	}
}

// TestProcesses starts several processes at once on a schema that does not
// exist yet: they migrate it once, create one key once between them, and
// rotate it and increment a meta counter without losing a write.
func TestProcesses(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const procs = 4
	start := time.Now().Add(time.Second) // after every process has started
	type result struct {
		name           string
		stdout, stderr bytes.Buffer
		cmd            *exec.Cmd
	}
	results := make([]*result, procs)
	for i := range results {
		r := &result{name: fmt.Sprintf("p%d", i)}
		r.cmd = exec.CommandContext(t.Context(), exe, "-test.run=^$")
		r.cmd.Env = append(os.Environ(), childSchemaVar+"="+schema, childNameVar+"="+r.name,
			fmt.Sprintf("%s=%d", childStartVar, start.UnixNano()))
		r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		results[i] = r
	}
	won := map[uint32]string{}
	for _, r := range results {
		if err := r.cmd.Wait(); err != nil {
			t.Fatalf("process %s: %v\n%s", r.name, err, r.stderr.Bytes())
		}
		addWins(t, won, r.name, parseWins(t, r.name, r.stdout.String()))
	}
	wantSchemaVersions(t, dsn, schema)
	s := open(t, dsn, schema)
	defer s.Close()
	checkWrites(t, s, won, procs)
}

// parseWins reads a child's "won N" lines.
func parseWins(t *testing.T, name, out string) []uint32 {
	t.Helper()
	var wins []uint32
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		n, err := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "won "), 10, 32)
		if err != nil {
			t.Fatalf("process %s printed %q", name, sc.Text())
		}
		wins = append(wins, uint32(n))
	}
	return wins
}

// TestTwoStores is TestProcesses in one process: two stores with separate
// connection pools, several writers on each.
func TestTwoStores(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	stores := []*postgres.Store{open(t, dsn, schema), open(t, dsn, schema)}
	for _, s := range stores {
		defer s.Close()
	}
	const perStore = 4
	var (
		wg    sync.WaitGroup
		names []string
		wins  = make([][]uint32, len(stores)*perStore)
	)
	for i, s := range stores {
		for j := range perStore {
			w, name := len(names), fmt.Sprintf("store%d/writer%d", i, j)
			names = append(names, name)
			wg.Go(func() {
				var err error
				if wins[w], err = write(t.Context(), s, name); err != nil {
					t.Errorf("writer %s: %v", name, err)
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	won := map[uint32]string{}
	for w, name := range names {
		addWins(t, won, name, wins[w])
	}
	checkWrites(t, stores[1], won, len(stores)*perStore)
}
