package bolt

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
)

// DefaultMaxBatchSize is the most writes in one commit when
// Options.MaxBatchSize is zero.
const DefaultMaxBatchSize = 1000

// committer is group commit with a leader and no timer (see "Durability
// and concurrency" in the package documentation). A writer queues its
// write; if no writer is leading, it leads: it takes the queue (its own
// write first, up to maxBatch) into one read-write transaction, commits it
// with one fsync, hands the lead to the first writer that queued meanwhile,
// and hands every taken writer its result. A lone writer therefore commits
// at once, and under load each commit carries everything that arrived
// during the previous one.
type committer struct {
	db       *bolt.DB
	maxBatch int
	delay    time.Duration

	mu      sync.Mutex
	queue   []*pending // in arrival order; a leader's own write is first
	leading bool       // a writer leads: it is committing, or about to
	full    chan struct{}

	txs atomic.Uint64 // read-write transactions begun, for tests
}

func newCommitter(db *bolt.DB, maxBatch int, delay time.Duration) *committer {
	return &committer{db: db, maxBatch: maxBatch, delay: delay, full: make(chan struct{}, 1)}
}

// pendingState is where a queued write is. Only committer.mu guards it.
type pendingState int

const (
	queued pendingState = iota
	leader              // handed the lead; still first in the queue
	taken               // in a transaction: its result is coming
	gone                // left the queue when its context ended
)

// pending is one write. Its leader sets the result fields, then closes
// wake; a writer handed the lead finds wake closed and state leader.
type pending struct {
	fn    func(tx *bolt.Tx) (store.Key, error)
	state pendingState
	wake  chan struct{}

	out    store.Key
	refuse error // fn's refusal; fn wrote nothing
	err    error // the transaction failed: fn's writes did not land
}

// do runs fn in a transaction shared with concurrent writes and returns
// its outcome, or ctx's error if ctx ended before a leader took fn into
// a transaction. Once taken, fn's outcome is awaited whatever ctx does,
// so that an error never hides a write that landed.
func (c *committer) do(ctx context.Context, fn func(tx *bolt.Tx) (store.Key, error)) (*pending, error) {
	p := &pending{fn: fn, wake: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	lead := !c.leading
	if lead {
		c.leading = true
		p.state = leader
	} else if c.delay > 0 && len(c.queue) >= c.maxBatch {
		select {
		case c.full <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	if !lead {
		select {
		case <-p.wake:
		case <-ctx.Done():
			c.mu.Lock()
			switch p.state {
			case queued:
				c.remove(p)
				c.mu.Unlock()
				return nil, ctx.Err()
			case leader: // not taken: pass the lead on
				c.remove(p)
				c.handOff()
				c.mu.Unlock()
				return nil, ctx.Err()
			}
			c.mu.Unlock()
			<-p.wake
		}
		// wake was closed after the state was set: no lock needed.
		if p.state != leader {
			return p, nil
		}
	}
	if err := c.lead(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// remove takes p, which was not taken, out of the queue. c.mu is held.
func (c *committer) remove(p *pending) {
	if i := slices.Index(c.queue, p); i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
	}
	p.state = gone
}

// handOff gives the lead to the first queued writer, or gives it up when
// none is queued. c.mu is held.
func (c *committer) handOff() {
	if len(c.queue) == 0 {
		c.leading = false
		return
	}
	next := c.queue[0]
	next.state = leader
	close(next.wake)
}

// lead commits self's write with the writes queued behind it, then hands
// the lead on before waking the writers it committed. It returns ctx's
// error if ctx ends while it waits for company, self not yet taken.
func (c *committer) lead(ctx context.Context, self *pending) error {
	if c.delay > 0 && !c.waitForCompany(ctx) {
		c.mu.Lock()
		c.remove(self)
		c.handOff()
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Lock()
	n := min(len(c.queue), c.maxBatch)
	batch := slices.Clone(c.queue[:n])
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	for _, p := range batch {
		p.state = taken
	}
	c.mu.Unlock()

	c.commit(batch)

	c.mu.Lock()
	c.handOff()
	c.mu.Unlock()
	for _, p := range batch {
		if p != self {
			close(p.wake)
		}
	}
	return nil
}

// waitForCompany waits up to c.delay for the queue to fill. It returns
// false if ctx ended first.
func (c *committer) waitForCompany(ctx context.Context) bool {
	select {
	case <-c.full: // a signal left over from an earlier wait
	default:
	}
	c.mu.Lock()
	full := len(c.queue) >= c.maxBatch
	c.mu.Unlock()
	if full {
		return true
	}
	t := time.NewTimer(c.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.full:
	case <-ctx.Done():
		return false
	}
	return true
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
