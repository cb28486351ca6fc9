package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keycustodian/custodian/internal/groupcommit"
	"github.com/keycustodian/custodian/store"
)

// DefaultMaxBatchSize is the most writes in one transaction when
// Options.MaxBatchSize is zero.
const DefaultMaxBatchSize = 128

// write is one Create, Update or PutMeta in the two forms group commit
// runs it in.
type write struct {
	// queue adds the write's statements to a group's pipeline. They
	// refuse (a taken name, a moved revision) by writing nothing and
	// saying so in their results, never by failing, so that one refusal
	// does not abort the transaction the group shares.
	queue func(b *pgx.Batch)
	// read reads the results of queue's statements, in order. It returns
	// the write's refusal, or err if a statement failed: a failure
	// aborts the group's transaction. A refusal of type *unexplained is
	// explained once the pipeline has been read.
	read func(br pgx.BatchResults) (refusal, err error)
	// alone runs the write in a transaction of its own, as the store did
	// before group commit: for a write whose statement failed in a group.
	alone func(ctx context.Context, tx pgx.Tx) error
	// create is set for a Create: the creates of a group are merged into
	// one statement (createKeys) rather than one statement each.
	create *createArgs
}

// createArgs are a Create's values, for createKeys.
type createArgs struct {
	k        store.Key
	row      []any   // encodeKey's values, without the revision
	versions [][]any // encodeVersions' rows
}

// unexplained is a refusal that needs a query to say what was refused.
type unexplained struct {
	explain func(ctx context.Context, tx pgx.Tx) error
}

func (u *unexplained) Error() string { return "refused" }

// committer is group commit with a leader (see "Group commit" in the
// package documentation), over [groupcommit.Group]: a leader runs its
// write and every write queued by then (up to maxBatch) in one
// transaction, in one pipelined round trip, and commits it with one WAL
// flush.
type committer struct {
	s     *Store
	group *groupcommit.Group[*pending]

	txs, alone atomic.Uint64 // group transactions begun, and writes run alone; for tests
}

func newCommitter(s *Store, maxBatch int) *committer {
	c := &committer{s: s}
	c.group = groupcommit.New(maxBatch, 0, c.commit)
	return c
}

// pending is one queued write and, once its transaction has run, err.
type pending struct {
	ctx context.Context
	w   write
	err error // the write's refusal or failure; nil once it landed
}

// do runs w in a transaction shared with concurrent writes and returns
// its refusal or failure, or ctx's error if ctx ended before a leader took
// w into a transaction. A taken write waits for its transaction, which is
// abandoned (before COMMIT, so nothing lands) only once the contexts of
// all its writes have ended.
func (c *committer) do(ctx context.Context, w write) error {
	p := &pending{ctx: ctx, w: w}
	err := c.group.Do(ctx, p)
	var pe *groupcommit.PanicError
	if errors.As(err, &pe) {
		return fmt.Errorf("postgres store: %w", err)
	}
	if err != nil {
		return err
	}
	return p.err
}

// commit runs batch in one transaction, under a context that ends when
// the contexts of all the batch's writes have ended. A write whose
// statement fails aborts the transaction: it then runs alone, in a
// transaction of its own whose failure is its own, and the others run
// again without it.
func (c *committer) commit(batch []*pending) {
	ctx, stop := groupContext(batch)
	defer stop()
	rest := slices.Clone(batch)
	merge := true
	for len(rest) > 0 {
		failed, err := c.try(ctx, rest, merge)
		if errors.Is(err, errMerged) {
			merge = false // find the culprit, one statement per write
			continue
		}
		if failed < 0 {
			if err != nil {
				for _, p := range rest {
					p.err = groupError(ctx, p, err)
				}
			}
			return
		}
		p := rest[failed]
		rest = slices.Delete(rest, failed, failed+1)
		c.alone.Add(1)
		p.err = groupError(ctx, p, c.s.inTx(ctx, func(tx pgx.Tx) error { return p.w.alone(ctx, tx) }))
	}
}

// groupError is what p's writer is told of err, the outcome of the
// transaction p was in, run under the group's context ctx: p's own
// context's error if every writer in the group gave up and err is a
// failure (nothing landed, unless a COMMIT went unanswered), else err.
func groupError(ctx context.Context, p *pending, err error) error {
	if err != nil && ctx.Err() != nil && p.ctx.Err() != nil {
		return p.ctx.Err()
	}
	return err
}

// groupContext returns a context that ends when the contexts of all of
// batch's writes have ended, and a function releasing it.
func groupContext(batch []*pending) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var live atomic.Int64
	live.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, p := range batch {
		stops[i] = context.AfterFunc(p.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// errMerged says that the statement of a group's merged creates failed.
var errMerged = errors.New("merged creates failed")

// try runs batch in one transaction: BEGIN, one pipeline of the writes'
// statements, a query for each refusal that needs explaining, COMMIT.
// With merge, the creates go in one statement (see mergeCreates). It
// returns the index of a write whose statement failed, after rolling
// back, or -1 and the transaction's error: errMerged if the merged
// creates' statement failed. Each write's err is set only if the
// transaction commits.
func (c *committer) try(ctx context.Context, batch []*pending, merge bool) (failed int, err error) {
	c.txs.Add(1)
	tx, err := c.s.pool.Begin(ctx)
	if err != nil {
		return -1, fmt.Errorf("postgres store: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
	merged := make([]bool, len(batch))
	b := &pgx.Batch{}
	if merge {
		if indexes := mergeCreates(batch); indexes != nil {
			b.Queue(c.s.q.createKeys, createArrays(batch, indexes)...)
			for _, i := range indexes {
				merged[i] = true
			}
		}
	}
	for i, p := range batch {
		if !merged[i] {
			p.w.queue(b)
		}
	}
	refusals := make([]error, len(batch))
	br := tx.SendBatch(ctx, b)
	failed, err = c.read(ctx, br, batch, merged, refusals)
	if closeErr := br.Close(); err == nil && failed < 0 && closeErr != nil {
		err = fmt.Errorf("postgres store: %w", closeErr)
	}
	if failed >= 0 || err != nil {
		return failed, err
	}
	for i, r := range refusals {
		var u *unexplained
		if errors.As(r, &u) {
			refusals[i] = u.explain(ctx, tx)
		}
	}
	// COMMIT goes only once every statement has answered, so a
	// transaction abandoned before then never lands.
	if err := commitTx(ctx, tx); err != nil {
		return -1, err
	}
	for i, p := range batch {
		p.err = refusals[i]
	}
	return -1, nil
}

// read reads the results of try's pipeline into refusals: first the
// merged creates' ids, then each other write's. It returns the index of
// a write whose statement failed, or -1 and an error: errMerged if the
// merged statement failed.
func (c *committer) read(ctx context.Context, br pgx.BatchResults, batch []*pending, merged []bool, refusals []error) (failed int, err error) {
	statementFailed := func(err error) bool {
		var pgErr *pgconn.PgError
		return ctx.Err() == nil && errors.As(err, &pgErr)
	}
	if slices.Contains(merged, true) {
		rows, _ := br.Query()
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if statementFailed(err) {
			return -1, errMerged
		}
		if err != nil {
			return -1, fmt.Errorf("postgres store: create: %w", err)
		}
		inserted := make(map[string]bool, len(ids))
		for _, id := range ids {
			inserted[id] = true
		}
		for i, p := range batch {
			if a := p.w.create; merged[i] && !inserted[a.k.ID] {
				refusals[i] = &unexplained{func(ctx context.Context, tx pgx.Tx) error {
					return c.s.whyNotCreated(ctx, tx, a.k)
				}}
			}
		}
	}
	for i, p := range batch {
		if merged[i] {
			continue
		}
		refusal, err := p.w.read(br)
		if statementFailed(err) {
			return i, nil
		}
		if err != nil {
			return -1, err
		}
		refusals[i] = refusal
	}
	return -1, nil
}

// mergeCreates returns the indexes in batch of the creates to merge into
// one statement: all but those whose id an earlier create has (whose
// statements then follow, and find the id taken), or none if fewer than
// two. One statement saves PostgreSQL the per-statement work of each.
func mergeCreates(batch []*pending) []int {
	var (
		merged []int
		ids    = map[string]bool{}
	)
	for i, p := range batch {
		if a := p.w.create; a != nil && !ids[a.k.ID] {
			ids[a.k.ID] = true
			merged = append(merged, i)
		}
	}
	if len(merged) < 2 {
		return nil
	}
	return merged
}

// commitWait bounds the wait for the answer to a COMMIT once sent.
const commitWait = 10 * time.Second

// commitTx commits tx. Once COMMIT is sent, the end of ctx no longer
// abandons it: the answer is awaited for up to commitWait, so that a
// writer whose context ended meanwhile is told whether its write landed.
// Only a server that does not answer within commitWait leaves that
// unknown, as any connection lost at that moment does.
func commitTx(ctx context.Context, tx pgx.Tx) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitWait)
	defer cancel()
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres store: commit: %w", err)
	}
	return nil
}
