package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian/store"
)

// dumpPage is how many keys Dump reads at a time: memory stays bounded
// however many keys the store holds. A variable only so that a test can
// cross pages with a few keys.
var dumpPage = 256

// Dump implements [store.Store]. One REPEATABLE READ, READ ONLY
// transaction is the snapshot: PostgreSQL takes it at the first query and
// every later page reads from it, and it takes no lock that a writer
// waits for. The callbacks run between queries, never while a result is
// being read, so one that fails stops the dump without draining a result.
func (s *Store) Dump(ctx context.Context, meta func(name string, value []byte) error, key func(store.Key, []store.Version) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("dump: begin: %w", err)
	}
	// Nothing was written, so ending the snapshot cannot lose anything.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := dumpMeta(ctx, tx, s.q.allMeta, meta); err != nil {
		return err
	}
	for after := ""; ; {
		keys, err := queryKeys(ctx, tx, s.q.scan, after, dumpPage)
		if err != nil {
			return fmt.Errorf("dump: keys after id %q: %w", after, err)
		}
		if len(keys) == 0 {
			return nil
		}
		if err := s.sendPage(ctx, tx, keys, key); err != nil {
			return err
		}
		after = keys[len(keys)-1].ID
	}
}

// dumpMeta calls meta for every meta record. The records are few and
// small, so they are read whole before the first call.
func dumpMeta(ctx context.Context, tx pgx.Tx, query string, meta func(string, []byte) error) error {
	type record struct {
		name, value []byte
	}
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("dump: meta: %w", err)
	}
	records, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (record, error) {
		var rec record
		err := r.Scan(&rec.name, &rec.value)
		return rec, err
	})
	if err != nil {
		return fmt.Errorf("dump: meta: %w", err)
	}
	for _, rec := range records {
		if rec.value == nil {
			rec.value = []byte{}
		}
		if err := meta(string(rec.name), rec.value); err != nil {
			return err
		}
	}
	return nil
}

// sendPage reads the versions of keys, which are in id order, and calls
// key for each. Every key of the snapshot with an id between the first and
// the last is in keys, so the versions in that id range are theirs.
func (s *Store) sendPage(ctx context.Context, tx pgx.Tx, keys []store.Key, key func(store.Key, []store.Version) error) error {
	first, last := keys[0].ID, keys[len(keys)-1].ID
	vs, err := queryVersions(ctx, tx, s.q.versionsBetween, first, last)
	if err != nil {
		return fmt.Errorf("dump: versions of ids %q to %q: %w", first, last, err)
	}
	next := 0
	for _, k := range keys {
		start := next
		for next < len(vs) && vs[next].KeyID == k.ID {
			next++
		}
		// A full slice expression, so that a callback appending to its
		// versions cannot overwrite the next key's.
		if err := key(k, vs[start:next:next]); err != nil {
			return err
		}
	}
	if next != len(vs) {
		return fmt.Errorf("dump: versions of ids %q to %q: %d versions of no key read", first, last, len(vs)-next)
	}
	return nil
}
