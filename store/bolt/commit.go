package bolt

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/internal/groupcommit"
	"github.com/keycustodian/custodian/store"
)

// DefaultMaxBatchSize is the most writes in one commit when
// Options.MaxBatchSize is zero.
const DefaultMaxBatchSize = 1000

// committer is group commit with a leader and no timer (see "Durability
// and concurrency" in the package documentation), over
// [groupcommit.Group]: a leader runs its write and those queued behind it
// in one read-write transaction, committed with one fsync.
type committer struct {
	db    *bolt.DB
	group *groupcommit.Group[*pending]

	txs atomic.Uint64 // read-write transactions begun, for tests
}

func newCommitter(db *bolt.DB, maxBatch int, delay time.Duration) *committer {
	c := &committer{db: db}
	c.group = groupcommit.New(maxBatch, delay, c.commit)
	return c
}

// pending is one write and, once its transaction has run, its outcome.
type pending struct {
	fn func(tx *bolt.Tx) (store.Key, error)

	out    store.Key
	refuse error // fn's refusal; fn wrote nothing
	err    error // the transaction failed: fn's writes did not land
}

// do runs fn in a transaction shared with concurrent writes and returns
// its outcome, or ctx's error if ctx ended before a leader took fn into
// a transaction. Once taken, fn's outcome is awaited whatever ctx does,
// so that an error never hides a write that landed.
func (c *committer) do(ctx context.Context, fn func(tx *bolt.Tx) (store.Key, error)) (*pending, error) {
	p := &pending{fn: fn}
	err := c.group.Do(ctx, p)
	var pe *groupcommit.PanicError
	if errors.As(err, &pe) {
		p.err = err // not a write function: bbolt itself panicked
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// commit runs batch's functions in one transaction. bbolt has no
// savepoints, so a function that fails (rather than refuses) makes the
// transaction roll back: that function then runs alone, in a transaction
// of its own whose failure is its alone, and the others run again without
// it, as bbolt's Batch does.
func (c *committer) commit(batch []*pending) {
	batch = slices.Clone(batch)
	for len(batch) > 0 {
		failed := -1
		c.txs.Add(1)
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, p := range batch {
				out, err := call(p.fn, tx)
				if abort := failure(err); abort != nil {
					failed = i
					return abort
				}
				p.out, p.refuse = out, err
			}
			return nil
		})
		if failed < 0 {
			for _, p := range batch {
				p.err = err
			}
			return
		}
		c.alone(batch[failed])
		batch = slices.Delete(batch, failed, failed+1)
	}
}

// alone runs p's function in a transaction of its own.
func (c *committer) alone(p *pending) {
	c.txs.Add(1)
	p.err = c.db.Update(func(tx *bolt.Tx) error {
		out, err := call(p.fn, tx)
		if abort := failure(err); abort != nil {
			return abort
		}
		p.out, p.refuse = out, err
		return nil
	})
}

// failure returns the error to abort the transaction with if a write
// function's err is a failure (a *txFailure or a panic), or nil if it is
// a result or a refusal.
func failure(err error) error {
	var f *txFailure
	if errors.As(err, &f) {
		return f.err
	}
	var pe *panicError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// call runs fn, turning a panic into a *panicError: a panic in one
// writer's function must not leave the leader's lock held and every
// other writer waiting. The panic is raised again in the writer whose
// function it was (see result).
func call(fn func(tx *bolt.Tx) (store.Key, error), tx *bolt.Tx) (k store.Key, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}

// panicError carries a write function's panic to its writer.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("write panicked: %v\n%s", p.value, p.stack)
}

// result returns p's outcome: its key and refusal, or the failure of its
// transaction. If p's function panicked, result panics in its writer's
// goroutine, with the panic's value and the stack where it happened.
func (p *pending) result() (out store.Key, refuse, err error) {
	var pe *panicError
	if errors.As(p.err, &pe) {
		panic(pe)
	}
	if p.err != nil {
		return store.Key{}, nil, p.err
	}
	return p.out, p.refuse, nil
}
