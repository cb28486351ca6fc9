package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keycustodian/custodian/store"
)

// GetMeta implements [store.Store].
func (s *Store) GetMeta(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var v []byte
	err := s.pool.QueryRow(ctx, s.q.getMeta, []byte(name)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("meta %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("meta %q: read: %w", name, err)
	}
	if v == nil {
		v = []byte{} // an empty value is a value: only a missing record is nil
	}
	return v, nil
}

// PutMeta implements [store.Store]. Its compare and swap is one
// conditional statement (see queries), run in a transaction shared with
// concurrent writes (see committer). Alone, the statement would commit on
// the server even after its context ended the call, if it was waiting for
// a lock; in a transaction whose COMMIT is never sent it cannot land.
func (s *Store) PutMeta(ctx context.Context, name string, old, value []byte) error {
	if name == "" || len(name) > store.MaxMetaName {
		return fmt.Errorf("meta name %q: must be 1 to %d bytes", name, store.MaxMetaName)
	}
	query, args := s.putMetaStatement([]byte(name), old, value)
	result := func(tag pgconn.CommandTag, err error) (refusal, failure error) {
		if err != nil {
			return nil, fmt.Errorf("meta %q: write: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("meta %q: %w", name, store.ErrConflict), nil
		}
		return nil, nil
	}
	return s.commits.do(ctx, write{
		queue: func(b *pgx.Batch) { b.Queue(query, args...) },
		read:  func(br pgx.BatchResults) (error, error) { return result(br.Exec()) },
		alone: func(ctx context.Context, tx pgx.Tx) error {
			refusal, err := result(tx.Exec(ctx, query, args...))
			if err != nil {
				return err
			}
			return refusal
		},
	})
}

// putMetaStatement chooses PutMeta's statement. A nil slice is absence;
// an empty one is an empty value (pgx sends it as an empty bytea, not
// as NULL).
func (s *Store) putMetaStatement(name, old, value []byte) (string, []any) {
	switch {
	case old == nil && value == nil:
		return s.q.noMeta, []any{name}
	case old == nil:
		return s.q.insertMeta, []any{name, value}
	case value == nil:
		return s.q.deleteMeta, []any{name, old}
	default:
		return s.q.updateMeta, []any{name, old, value}
	}
}
