package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// write is a test write: commit records the batch it was in.
type write struct {
	id    int
	batch int // the commit that carried it, from 1
}

// recorder is a commit function that can be held open.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	hold    chan struct{} // if set, each commit waits until it is closed
	entered chan struct{} // signalled as each commit begins
}

func newRecorder() *recorder {
	return &recorder{entered: make(chan struct{}, 100)}
}

func (r *recorder) commit(batch []*write) {
	r.entered <- struct{}{}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]int, len(batch))
	for i, w := range batch {
		ids[i] = w.id
		w.batch = len(r.batches) + 1
	}
	r.batches = append(r.batches, ids)
}

// waitQueued waits until g has n writes queued.
func waitQueued(t *testing.T, g *Group[*write], n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); g.Queued() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", g.Queued(), n)
		}
	}
}

func TestLoneWriterCommitsAtOnce(t *testing.T) {
	r := newRecorder()
	g := New(10, 0, r.commit)
	w := &write{id: 1}
	if err := g.Do(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if w.batch != 1 || len(r.batches) != 1 || !g.Idle() {
		t.Fatalf("batch %d, batches %v, idle %v; want one commit of the one write, then idle", w.batch, r.batches, g.Idle())
	}
}

// TestWritesQueuedDuringACommitShareTheNext holds a commit open while
// writes queue, and checks that they share the next commit, in arrival
// order, at most maxBatch at a time.
func TestWritesQueuedDuringACommitShareTheNext(t *testing.T) {
	r := newRecorder()
	r.hold = make(chan struct{})
	g := New(3, 0, r.commit)
	ctx := context.Background()
	var wg sync.WaitGroup
	do := func(w *write) {
		wg.Go(func() {
			if err := g.Do(ctx, w); err != nil {
				t.Error(err)
			}
		})
	}
	do(&write{id: 0})
	<-r.entered // the first commit runs, held
	for i := 1; i <= 4; i++ {
		do(&write{id: i})
		waitQueued(t, g, i)
	}
	close(r.hold)
	wg.Wait()
	want := [][]int{{0}, {1, 2, 3}, {4}}
	if len(r.batches) != len(want) {
		t.Fatalf("batches %v, want %v", r.batches, want)
	}
	for i := range want {
		if len(r.batches[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", r.batches, want)
		}
		for j := range want[i] {
			if r.batches[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", r.batches, want)
			}
		}
	}
	if !g.Idle() {
		t.Fatal("not idle after every write returned")
	}
	if st := g.Stats(); st != (Stats{Commits: 3, Writes: 5}) {
		t.Fatalf("Stats() = %+v, want 3 commits of 5 writes", st)
	}
}

// TestContextEndsWhileQueued checks that a queued write whose context
// ends leaves the queue and reaches no commit, and that the writes behind
// it go on.
func TestContextEndsWhileQueued(t *testing.T) {
	r := newRecorder()
	r.hold = make(chan struct{})
	g := New(1, 0, r.commit) // one write a commit: the second queued is handed the lead
	bg := context.Background()
	first := make(chan error, 1)
	go func() { first <- g.Do(bg, &write{id: 0}) }()
	<-r.entered

	ctx, cancel := context.WithCancel(bg)
	gone := &write{id: 1}
	errs := make(chan error, 2)
	go func() { errs <- g.Do(ctx, gone) }()
	waitQueued(t, g, 1)
	last := &write{id: 2}
	go func() { errs <- g.Do(bg, last) }()
	waitQueued(t, g, 2)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled write returned %v, want context.Canceled", err)
	}
	close(r.hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if gone.batch != 0 || last.batch != 2 || len(r.batches) != 2 || !g.Idle() {
		t.Fatalf("cancelled write in batch %d, last in %d, batches %v, idle %v; want 0, 2, [[0] [2]], idle", gone.batch, last.batch, r.batches, g.Idle())
	}
}

func TestEndedContextNeverQueues(t *testing.T) {
	r := newRecorder()
	g := New(10, 0, r.commit)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Do(ctx, &write{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	if len(r.batches) != 0 || !g.Idle() {
		t.Fatalf("batches %v, idle %v; want none, idle", r.batches, g.Idle())
	}
}

// TestPanicWakesTheBatch checks that a commit that panics raises the
// panic in its leader and tells the batch's other writers, and that the
// group goes on working.
func TestPanicWakesTheBatch(t *testing.T) {
	hold := make(chan struct{})
	entered := make(chan struct{}, 10)
	var commits atomic.Int32
	g := New(10, 0, func(batch []*write) {
		entered <- struct{}{}
		if commits.Add(1) == 1 {
			<-hold
			return
		}
		if len(batch) > 1 {
			panic("boom")
		}
	})
	bg := context.Background()
	go g.Do(bg, &write{id: 0})
	<-entered
	leaderPanic := make(chan any, 1)
	other := make(chan error, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		g.Do(bg, &write{id: 1}) // first queued: leads the next commit
	}()
	waitQueued(t, g, 1)
	go func() { other <- g.Do(bg, &write{id: 2}) }()
	waitQueued(t, g, 2)
	close(hold)
	if v := <-leaderPanic; v != "boom" {
		t.Fatalf("the leader recovered %v, want the commit's panic", v)
	}
	var pe *PanicError
	if err := <-other; !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("the other writer got %v, want a *PanicError of the commit's panic", err)
	}
	if err := g.Do(bg, &write{id: 3}); err != nil || !g.Idle() {
		t.Fatalf("after the panic: Do = %v, idle %v; want nil, idle", err, g.Idle())
	}
}

// TestDelayWaitsForCompany checks that with a delay the leader waits for
// the batch to fill, and commits at once when it does.
func TestDelayWaitsForCompany(t *testing.T) {
	r := newRecorder()
	g := New(3, time.Hour, r.commit)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := g.Do(context.Background(), &write{id: i}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait() // an hour's delay: this returns only because the batch filled
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Fatalf("batches %v, want one of 3", r.batches)
	}

	g = New(3, time.Hour, r.commit)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Do(ctx, &write{id: 9}); !errors.Is(err, context.DeadlineExceeded) || !g.Idle() {
		t.Fatalf("a leader waiting alone: Do = %v, idle %v; want its context's error, idle", err, g.Idle())
	}
}

// TestManyWriters checks under the race detector that every write of
// many concurrent writers is committed exactly once, in fewer commits.
func TestManyWriters(t *testing.T) {
	r := newRecorder()
	r.entered = make(chan struct{}, 100_000)
	g := New(1000, 0, r.commit)
	const writers, each = 32, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				wr := &write{id: w*each + i}
				if err := g.Do(context.Background(), wr); err != nil || wr.batch == 0 {
					t.Errorf("write %d: Do = %v, batch %d", wr.id, err, wr.batch)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[int]int{}
	for _, b := range r.batches {
		for _, id := range b {
			seen[id]++
		}
	}
	for id := range writers * each {
		if seen[id] != 1 {
			t.Fatalf("write %d committed %d times", id, seen[id])
		}
	}
	t.Logf("%d writes in %d commits", writers*each, len(r.batches))
	if !g.Idle() {
		t.Fatal("not idle after every write returned")
	}
}

// TestLeaderThatGivesUpPassesTheLead has a leader's context end while it
// waits for company: the lead passes to the next write in the queue.
func TestLeaderThatGivesUpPassesTheLead(t *testing.T) {
	r := newRecorder()
	g := New(3, time.Hour, r.commit)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	errs := make(chan error, 4)
	go func() { errs <- g.Do(ctx, &write{id: 1}) }()
	waitQueued(t, g, 1)
	next := []*write{{id: 2}, {id: 3}, {id: 4}}
	go func() { errs <- g.Do(bg, next[0]) }()
	waitQueued(t, g, 2)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("the leader that gave up returned %v, want context.Canceled", err)
	}
	waitQueued(t, g, 1)
	for _, w := range next[1:] {
		go func() { errs <- g.Do(bg, w) }()
	}
	for range next {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(r.batches) != 1 || len(r.batches[0]) != 3 || r.batches[0][0] != 2 {
		t.Fatalf("batches %v, want [[2 3 4]] in any order after 2", r.batches)
	}
}
