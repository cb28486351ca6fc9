package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian/store"
)

// encodeVersions checks versions and returns their column values, stored
// under keyID, before a transaction begins.
func encodeVersions(keyID string, versions []store.Version) ([][]any, error) {
	rows := make([][]any, len(versions))
	for i, v := range versions {
		row, err := encodeVersion(keyID, v)
		if err != nil {
			return nil, err
		}
		rows[i] = row
	}
	return rows, nil
}

// putVersions upserts rows of encodeVersions in tx, in one round trip.
func (s *Store) putVersions(ctx context.Context, tx pgx.Tx, keyID string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, row := range rows {
		b.Queue(s.q.upsertVersion, row...)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for _, row := range rows {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("key id %s version %d: write: %w", keyID, row[1], err)
		}
	}
	return br.Close()
}

// Create implements [store.Store]. The partial unique index keys_live_name
// decides races for a name: of two live keys, the later finds the name
// taken (or, alone, gets SQLSTATE 23505), and a destroyed key is outside
// the index, so it never takes a name.
func (s *Store) Create(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	row, err := encodeKey(k)
	if err != nil {
		return store.Key{}, err
	}
	vrows, err := encodeVersions(k.ID, versions)
	if err != nil {
		return store.Key{}, err
	}
	args := append(slices.Clone(row.withoutRevision()), versionArrays(vrows)...)
	err = s.commits.do(ctx, write{
		create: &createArgs{k: k, row: row.withoutRevision(), versions: vrows},
		queue:  func(b *pgx.Batch) { b.Queue(s.q.createKey, args...) },
		read: func(br pgx.BatchResults) (error, error) {
			var created int64
			if err := br.QueryRow().Scan(&created); err != nil {
				return nil, fmt.Errorf("key id %s: create: %w", k.ID, err)
			}
			if created == 1 {
				return nil, nil
			}
			return &unexplained{func(ctx context.Context, tx pgx.Tx) error {
				return s.whyNotCreated(ctx, tx, k)
			}}, nil
		},
		alone: func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.q.insertKey, row.withoutRevision()...); err != nil {
				if constraint, ok := isUniqueViolation(err); ok {
					if constraint == "keys_pkey" {
						return fmt.Errorf("key id %s: %w", k.ID, store.ErrExists)
					}
					return fmt.Errorf("key name %q: %w", k.Name, store.ErrExists)
				}
				return fmt.Errorf("key id %s: create: %w", k.ID, err)
			}
			return s.putVersions(ctx, tx, k.ID, vrows)
		},
	})
	if err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	k.Revision = 1
	return k, nil
}

// whyNotCreated explains a create that inserted nothing: the id was
// taken, or else the name. It runs after the group's other writes, one
// of which may have taken the id since; the refusal is right either way.
func (s *Store) whyNotCreated(ctx context.Context, tx pgx.Tx, k store.Key) error {
	var idTaken bool
	if err := tx.QueryRow(ctx, s.q.keyExists, k.ID).Scan(&idTaken); err != nil {
		return fmt.Errorf("key id %s: create: %w", k.ID, err)
	}
	if idTaken {
		return fmt.Errorf("key id %s: %w", k.ID, store.ErrExists)
	}
	return fmt.Errorf("key name %q: %w", k.Name, store.ErrExists)
}

// Update implements [store.Store]. The UPDATE is the compare-and-swap: a
// concurrent writer's UPDATE of the row waits for this one's transaction,
// then re-checks revision against the committed row and matches nothing.
func (s *Store) Update(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	row, err := encodeKey(k)
	if err != nil {
		return store.Key{}, err
	}
	vrows, err := encodeVersions(k.ID, versions)
	if err != nil {
		return store.Key{}, err
	}
	args := append(slices.Clone(row), versionArrays(vrows)...)
	err = s.commits.do(ctx, write{
		// The key's state, read in a statement of its own right after
		// the update, explains an update that matched nothing, as
		// whyNotUpdated does: a later statement sees rows that
		// concurrent transactions committed meanwhile.
		queue: func(b *pgx.Batch) {
			b.Queue(s.q.updateKeyVersions, args...)
			b.Queue(s.q.keyState, k.ID)
		},
		read: func(br pgx.BatchResults) (error, error) {
			var updated int64
			if err := br.QueryRow().Scan(&updated); err != nil {
				return nil, fmt.Errorf("key id %s: update: %w", k.ID, err)
			}
			var (
				rev  int64
				name []byte
			)
			err := br.QueryRow().Scan(&rev, &name)
			if updated == 1 {
				if err != nil {
					return nil, fmt.Errorf("key id %s: update: %w", k.ID, err)
				}
				return nil, nil
			}
			return explainUpdate(k, rev, name, err)
		},
		alone: func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, s.q.updateKey, row...)
			if _, ok := isUniqueViolation(err); ok {
				return fmt.Errorf("key id %s: name %q is held by a key that is not destroyed: %w", k.ID, k.Name, store.ErrExists)
			}
			if err != nil {
				return fmt.Errorf("key id %s: update: %w", k.ID, err)
			}
			if tag.RowsAffected() == 0 {
				return s.whyNotUpdated(ctx, tx, k)
			}
			// The row stays locked until commit, so no other writer's
			// versions of this key interleave with these.
			return s.putVersions(ctx, tx, k.ID, vrows)
		},
	})
	if err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	k.Revision++
	return k, nil
}

// whyNotUpdated explains an UPDATE that matched no row.
func (s *Store) whyNotUpdated(ctx context.Context, tx pgx.Tx, k store.Key) error {
	var (
		rev  int64
		name []byte
	)
	err := tx.QueryRow(ctx, s.q.keyState, k.ID).Scan(&rev, &name)
	refusal, err := explainUpdate(k, rev, name, err)
	if err != nil {
		return err
	}
	return refusal
}

// explainUpdate turns the key's state, read after an update of k that
// matched no row (readErr the error of that read), into the update's
// refusal, or returns the read's failure.
func explainUpdate(k store.Key, rev int64, name []byte, readErr error) (refusal, err error) {
	switch {
	case errors.Is(readErr, pgx.ErrNoRows):
		return fmt.Errorf("key id %s: %w", k.ID, store.ErrNotFound), nil
	case readErr != nil:
		return nil, fmt.Errorf("key id %s: update: %w", k.ID, readErr)
	case uint64(rev) != k.Revision:
		return fmt.Errorf("key id %s at revision %d, not %d: %w", k.ID, rev, k.Revision, store.ErrConflict), nil
	default:
		return fmt.Errorf("key id %s: renaming %q to %q is not supported", k.ID, name, k.Name), nil
	}
}

// getOne runs a query for one key; no row is ErrNotFound named by what.
func (s *Store) getOne(ctx context.Context, what, query string, arg any) (store.Key, error) {
	if err := ctx.Err(); err != nil {
		return store.Key{}, err
	}
	k, err := scanKey(s.pool.QueryRow(ctx, query, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Key{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("%s: read: %w", what, err)
	}
	return k, nil
}

// Get implements [store.Store].
func (s *Store) Get(ctx context.Context, id string) (store.Key, error) {
	return s.getOne(ctx, fmt.Sprintf("key id %s", id), s.q.getKey, id)
}

// Lookup implements [store.Store].
func (s *Store) Lookup(ctx context.Context, name string) (store.Key, error) {
	return s.getOne(ctx, fmt.Sprintf("key name %q", name), s.q.lookup, []byte(name))
}

// prefixEnd returns the least byte string greater than every string that
// starts with prefix, or nil if there is none (prefix is empty or all 0xff).
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// queryKeys runs a query of keyColumns and collects its rows.
func queryKeys(ctx context.Context, q querier, query string, args ...any) ([]store.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Key, error) { return scanKey(r) })
}

// querier is what queryKeys needs of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// List implements [store.Store].
func (s *Store) List(ctx context.Context, opts store.ListOptions) ([]store.Key, error) {
	if opts.Limit <= 0 {
		return nil, fmt.Errorf("list limit %d: must be positive", opts.Limit)
	}
	query, args := s.q.listAll, []any{[]byte(opts.Prefix), []byte(opts.After), opts.Limit}
	if end := prefixEnd(opts.Prefix); end != nil {
		query, args = s.q.listBounded, append(args, end)
	}
	keys, err := queryKeys(ctx, s.pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list prefix %q after %q: %w", opts.Prefix, opts.After, err)
	}
	return keys, nil
}

// Scan implements [store.Store].
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]store.Key, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("scan limit %d: must be positive", limit)
	}
	keys, err := queryKeys(ctx, s.pool, s.q.scan, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan after id %q: %w", after, err)
	}
	return keys, nil
}

// Version implements [store.Store].
func (s *Store) Version(ctx context.Context, keyID string, number uint32) (store.Version, error) {
	if err := ctx.Err(); err != nil {
		return store.Version{}, err
	}
	v, err := scanVersion(s.pool.QueryRow(ctx, s.q.version, keyID, int64(number)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Version{}, fmt.Errorf("key id %s version %d: %w", keyID, number, store.ErrNotFound)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("key id %s version %d: read: %w", keyID, number, err)
	}
	return v, nil
}

// queryVersions runs a query of versionColumns and collects its rows.
func queryVersions(ctx context.Context, q querier, query string, args ...any) ([]store.Version, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Version, error) { return scanVersion(r) })
}

// Versions implements [store.Store].
func (s *Store) Versions(ctx context.Context, keyID string) ([]store.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := queryVersions(ctx, s.pool, s.q.versions, keyID)
	if err != nil {
		return nil, fmt.Errorf("key id %s versions: %w", keyID, err)
	}
	if len(out) > 0 {
		return out, nil
	}
	// Keys are never deleted, so a key seen now had no versions above.
	var exists bool
	if err := s.pool.QueryRow(ctx, s.q.keyExists, keyID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("key id %s versions: %w", keyID, err)
	}
	if !exists {
		return nil, fmt.Errorf("key id %s: %w", keyID, store.ErrNotFound)
	}
	return []store.Version{}, nil
}
