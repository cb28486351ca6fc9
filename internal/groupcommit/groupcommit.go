// Package groupcommit lets concurrent writers share commits, with a
// leader and no timer: the group commit of both durable stores.
//
// A writer queues its write. If no commit is in flight, its writer leads
// at once: it takes its own write and every write queued by then (at most
// a batch) and commits them together, then hands the lead to the first
// writer that queued during the commit, and wakes the writers it
// committed. So a lone writer pays one commit, not a batch delay, and
// under load each commit carries what arrived during the one before:
// commits stay near the rate the disk syncs at, and the writes in each
// grow with the load. Before taking the queue, a leader yields the
// processor once, so that writers woken by the previous commit, which
// are runnable and about to queue again, join this one.
//
// A write's context counts until a leader takes the write into a batch:
// a write whose context ends while it is queued leaves the queue and never
// reaches a commit. Once taken, the writer waits for the commit whatever
// its context does, so that an error never hides a write that landed. The
// store's commit function decides what a taken write's context means to
// the commit itself.
package groupcommit

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Group runs the writes given to Do in shared commits. The zero value is
// not usable; make one with New.
type Group[W any] struct {
	maxBatch int
	delay    time.Duration
	commit   func(batch []W)

	mu      sync.Mutex
	queue   []*pending[W] // in arrival order; a leader's own write is first
	leading bool          // a writer leads: it is committing, or about to
	full    chan struct{} // signalled when the queue reaches maxBatch

	commits, writes atomic.Uint64 // for Stats
}

// Stats count a Group's commits and the writes they carried.
type Stats struct {
	Commits uint64 // batches handed to the commit function
	Writes  uint64 // writes in those batches
}

// Stats returns the counts so far. Writes/Commits is the mean batch.
func (g *Group[W]) Stats() Stats {
	return Stats{Commits: g.commits.Load(), Writes: g.writes.Load()}
}

// New returns a Group whose commits carry at most maxBatch writes each
// (at least 1) and run commit. commit receives the writes in arrival
// order and reports each one's outcome through the write itself (W is
// usually a pointer to a struct with result fields). A leader with delay
// above zero waits up to delay, or until maxBatch writes are queued,
// before each commit.
func New[W any](maxBatch int, delay time.Duration, commit func(batch []W)) *Group[W] {
	return &Group[W]{maxBatch: max(maxBatch, 1), delay: delay, commit: commit, full: make(chan struct{}, 1)}
}

// state is where a queued write is. Only Group.mu guards it.
type state int

const (
	queued state = iota
	leader       // handed the lead; still first in the queue
	taken        // in a batch: its commit is running or done
)

// pending is one write. Its leader sets panicked, if the commit panicked,
// then closes wake; a writer handed the lead finds wake closed and state
// leader.
type pending[W any] struct {
	w        W
	state    state
	wake     chan struct{}
	panicked any
}

// Do runs w in a commit shared with concurrent writes and returns nil
// once that commit has run: w's outcome is then wherever commit put it.
// It returns ctx's error, and w reaches no commit, if ctx ended before a
// leader took w into a batch. If commit panics, the panic is raised
// again in the leader's goroutine, and Do returns a *PanicError to the
// other writers of that batch.
func (g *Group[W]) Do(ctx context.Context, w W) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &pending[W]{w: w, wake: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.leading
	if lead {
		g.leading = true
		p.state = leader
	} else if g.delay > 0 && len(g.queue) >= g.maxBatch {
		select {
		case g.full <- struct{}{}:
		default:
		}
	}
	g.mu.Unlock()
	if !lead {
		select {
		case <-p.wake:
		case <-ctx.Done():
			g.mu.Lock()
			if p.state != taken { // queued, or handed the lead: leave
				g.leave(p)
				g.mu.Unlock()
				return ctx.Err()
			}
			g.mu.Unlock()
			<-p.wake
		}
		// wake was closed after the state was set: no lock needed.
		if p.state != leader {
			return p.outcome()
		}
	}
	// Let writers that are ready to queue do so before the batch is
	// taken: those the last commit woke are runnable and about to queue
	// again. A lone writer loses nothing (nothing else is runnable), and
	// under load a commit carries about 40 of 64 writers instead of 32.
	// Yielding again until the queue stops growing made batches larger
	// still but no faster.
	runtime.Gosched()
	if g.delay > 0 && !g.waitForCompany(ctx) {
		g.mu.Lock()
		g.leave(p)
		g.mu.Unlock()
		return ctx.Err()
	}
	g.lead(p)
	return nil
}

func (p *pending[W]) outcome() error {
	if p.panicked != nil {
		return &PanicError{Value: p.panicked}
	}
	return nil
}

// PanicError is what Do returns to the writers of a batch whose commit
// panicked, in the leader's goroutine, where the panic goes on. Their
// writes' outcomes are unknown: a commit that panics has not said what it
// did.
type PanicError struct {
	Value any // what the commit panicked with
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("group commit panicked: %v", e.Value)
}

// leave takes p, which was not taken, out of the queue, and passes the
// lead on if p held it. g.mu is held.
func (g *Group[W]) leave(p *pending[W]) {
	g.queue = slices.DeleteFunc(g.queue, func(q *pending[W]) bool { return q == p })
	if p.state == leader {
		g.handOff()
	}
}

// handOff gives the lead to the first queued writer, or gives it up when
// none is queued. g.mu is held.
func (g *Group[W]) handOff() {
	if len(g.queue) == 0 {
		g.leading = false
		return
	}
	next := g.queue[0]
	next.state = leader
	close(next.wake)
}

// lead commits self's write with the writes queued behind it, then hands
// the lead on and wakes the writers it committed, even if the commit
// panicked: no writer may wait for a leader that is gone.
func (g *Group[W]) lead(self *pending[W]) {
	g.mu.Lock()
	n := min(len(g.queue), g.maxBatch)
	batch := slices.Clone(g.queue[:n])
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:])
	g.queue = g.queue[:rest]
	ws := make([]W, len(batch))
	for i, p := range batch {
		p.state = taken
		ws[i] = p.w
	}
	g.mu.Unlock()
	g.commits.Add(1)
	g.writes.Add(uint64(len(ws)))

	defer func() {
		r := recover()
		g.mu.Lock()
		g.handOff()
		g.mu.Unlock()
		for _, p := range batch {
			if p != self {
				p.panicked = r
				close(p.wake)
			}
		}
		if r != nil {
			panic(r)
		}
	}()
	g.commit(ws)
}

// waitForCompany waits up to g.delay for the queue to fill. It returns
// false if ctx ended first.
func (g *Group[W]) waitForCompany(ctx context.Context) bool {
	select {
	case <-g.full: // a signal left over from an earlier wait
	default:
	}
	g.mu.Lock()
	full := len(g.queue) >= g.maxBatch
	g.mu.Unlock()
	if full {
		return true
	}
	t := time.NewTimer(g.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-g.full:
	case <-ctx.Done():
		return false
	}
	return true
}

// Queued is how many writes wait for a commit, the leader's included
// until it takes them; for tests.
func (g *Group[W]) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// Idle reports that no write is queued and no writer leads; for tests.
func (g *Group[W]) Idle() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue) == 0 && !g.leading
}
