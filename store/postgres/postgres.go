package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keycustodian/custodian/internal/groupcommit"
	"github.com/keycustodian/custodian/store"
)

// DefaultSchema is the schema of Options with an empty Schema.
const DefaultSchema = "custodian"

// DefaultConnectTimeout bounds each connection attempt when neither
// Options nor the DSN (connect_timeout) set one.
const DefaultConnectTimeout = 10 * time.Second

// Options configure [Open]. The zero value is valid.
type Options struct {
	// Schema holds every table of the store; Open creates it. Empty means
	// DefaultSchema. It is a name, quoted as given, at most 63 bytes.
	Schema string
	// ConnectTimeout bounds each connection attempt if the DSN sets no
	// connect_timeout. Zero means DefaultConnectTimeout; it must not be
	// negative.
	ConnectTimeout time.Duration
	// MaxBatchSize is the most writes that group commit puts in one
	// transaction. Zero means DefaultMaxBatchSize; 1 turns group commit
	// off. It must not be negative.
	MaxBatchSize int
}

func (o Options) check() (Options, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if len(o.Schema) > 63 || strings.ContainsRune(o.Schema, 0) {
		return o, fmt.Errorf("postgres store options: schema %q: must be 1 to 63 bytes without NUL", o.Schema)
	}
	if o.ConnectTimeout < 0 {
		return o, fmt.Errorf("postgres store options: negative connect timeout %v", o.ConnectTimeout)
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxBatchSize < 0 {
		return o, fmt.Errorf("postgres store options: negative batch size %d", o.MaxBatchSize)
	}
	if o.MaxBatchSize == 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	return o, nil
}

// Store is a [store.Store] in a PostgreSQL schema. It is safe for
// concurrent use, by goroutines and by processes sharing the schema.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	q       queries
	commits *committer
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a URL or key=value string, as
// pgx reads it), creates and migrates the schema, and returns the store.
// ctx bounds the connection and the migration, not the store's life.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password from its parse errors.
		return nil, fmt.Errorf("postgres store: parse dsn: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{pool: pool, schema: opts.Schema, q: newQueries(pgx.Identifier{opts.Schema}.Sanitize())}
	s.commits = newCommitter(s, opts.MaxBatchSize)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store %s:%d schema %q: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, opts.Schema, err)
	}
	return s, nil
}

// Schema returns the schema the store keeps its tables in.
func (s *Store) Schema() string { return s.schema }

// CommitStats reports how many group commits the store has made and how
// many writes they carried, since it was opened: their ratio is the mean
// batch, which grows with the number of concurrent writers.
func (s *Store) CommitStats() groupcommit.Stats {
	return s.commits.group.Stats()
}

// Close implements [store.Store]; it waits for connections in use to be
// returned and closes them all.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// isUniqueViolation reports whether err is SQLSTATE 23505 and returns the
// violated constraint's name.
func isUniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// inTx runs fn in a read-committed transaction and commits it if fn
// returns nil; otherwise it rolls back and returns fn's error. COMMIT is
// sent only once fn's statements have answered, so a write whose context
// ends before then never lands, even if the server goes on running a
// statement the ended call left behind; once sent, its answer is awaited
// (see commitTx).
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return commitTx(ctx, tx)
}
