package custodian

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/keycustodian/custodian/store"
)

// tasks runs a Custodian's background goroutines and stops them on Close.
type tasks struct {
	mu      sync.Mutex // guards stopped and wg.Add against stop
	stopped bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	// kick asks the rotation loop to look for due keys now.
	kick chan struct{}
}

func (t *tasks) init() {
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.kick = make(chan struct{}, 1)
}

// goTask runs fn in the background with a context that ends on Close.
func (c *Custodian) goTask(fn func(ctx context.Context)) {
	t := &c.tasks
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.wg.Go(func() { fn(t.ctx) })
}

// stop cancels every task and waits for them.
func (t *tasks) stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
}

// startTasks starts automatic rotation, and the destruction of keys whose
// deletion window has passed, unless it is turned off.
func (c *Custodian) startTasks() {
	if c.opts.RotationCheckInterval < 0 {
		return
	}
	c.goTask(func(ctx context.Context) {
		tick := time.NewTicker(c.opts.RotationCheckInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-c.tasks.kick:
			}
			if c.vault.Load() == nil {
				continue
			}
			if _, err := c.sweep(ctx, true, true); err != nil && ctx.Err() == nil && !errors.Is(err, ErrSealed) {
				c.opts.logError("automatic rotation and destruction", err)
			}
		}
	})
}

// kickRotation asks the rotation loop to look for due keys now: on
// unsealing, so that rotations missed while the process was down happen
// once at start.
func (c *Custodian) kickRotation() {
	select {
	case c.tasks.kick <- struct{}{}:
	default:
	}
}

// RotateDueKeys rotates every enabled key whose rotation period has passed
// since its primary version was created, and returns how many it rotated.
// A key overdue by several periods is rotated once. A key that fails does
// not stop the others; the error names each (up to ten). The background
// task does this every Options.RotationCheckInterval and on unsealing.
func (c *Custodian) RotateDueKeys(ctx context.Context) (int, error) {
	res, err := c.sweep(ctx, true, false)
	return res.rotated, opError("rotate-due", "", err)
}

// DestroyDueKeys destroys every key pending deletion whose window has
// passed, and returns how many it destroyed. The background task does this
// too, with automatic rotation.
func (c *Custodian) DestroyDueKeys(ctx context.Context) (int, error) {
	res, err := c.sweep(ctx, false, true)
	return res.destroyed, opError("destroy-due", "", err)
}

type sweepResult struct{ rotated, destroyed int }

// sweep reads every key record once and rotates the keys due for rotation
// and destroys those due for destruction, as asked. It reads the backend's
// records: each key is read again, and checked, on the write path, and one
// damaged record must not stop the others.
func (c *Custodian) sweep(ctx context.Context, rotate, destroy bool) (sweepResult, error) {
	var res sweepResult
	if _, err := c.unsealed(); err != nil {
		return res, err
	}
	var (
		failed []error
		after  string
	)
	fail := func(op, name string, err error) {
		if len(failed) < 10 {
			failed = append(failed, opError(op, name, err))
		}
	}
	const page = 500
	for {
		keys, err := c.backend.Scan(ctx, after, page)
		if err != nil {
			return res, err
		}
		for _, k := range keys {
			switch {
			case rotate && k.RotationPeriod > 0 && k.State == string(StateEnabled):
				rotated, err := c.rotateIfDue(ctx, k)
				if err != nil {
					fail("rotate", k.Name, err)
				}
				if rotated {
					res.rotated++
				}
			case destroy && k.State == string(StatePendingDeletion) && !c.now().Before(k.DeletionDate):
				_, err := c.DestroyKey(ctx, k.Name)
				switch {
				case err == nil:
					res.destroyed++
				case errors.Is(err, ErrInvalidKeyState):
					// Cancelled since the scan: not due any more.
				default:
					fail("destroy", k.Name, err)
				}
			}
		}
		if len(keys) < page {
			return res, errors.Join(failed...)
		}
		after = keys[len(keys)-1].ID
	}
}

// rotateIfDue rotates k if its primary version is older than its rotation
// period, deciding again on the record it rewrites.
func (c *Custodian) rotateIfDue(ctx context.Context, k store.Key) (bool, error) {
	rotated := false
	due := func(rec *store.Key, now time.Time) (bool, error) {
		if rec.ID != k.ID || rec.RotationPeriod <= 0 {
			return false, nil
		}
		v, err := c.store.Version(ctx, rec.ID, rec.PrimaryVersion)
		if err != nil {
			return false, err
		}
		rotated = !now.Before(v.Created.Add(rec.RotationPeriod))
		return rotated, nil
	}
	if v, err := c.store.Version(ctx, k.ID, k.PrimaryVersion); err != nil {
		return false, err
	} else if c.now().Before(v.Created.Add(k.RotationPeriod)) {
		return false, nil // not due: no need to take the write path
	}
	_, err := c.rotate(ctx, k.Name, due)
	if errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrInvalidKeyState) {
		return false, nil // renamed, destroyed or disabled meanwhile
	}
	return rotated && err == nil, err
}

// CountKeys returns how many keys are in each state, destroyed tombstones
// included: the keys-by-state metric. It reads every key record without
// its versions or any key material (about a second for a million keys),
// so callers cache the answer.
func (c *Custodian) CountKeys(ctx context.Context) (map[State]int, error) {
	if _, err := c.unsealed(); err != nil {
		return nil, opError("count", "", err)
	}
	counts := map[State]int{}
	after := ""
	const page = 1000
	for {
		keys, err := c.backend.Scan(ctx, after, page)
		if err != nil {
			return nil, opError("count", "", err)
		}
		for _, k := range keys {
			counts[State(k.State)]++
		}
		if len(keys) < page {
			return counts, nil
		}
		after = keys[len(keys)-1].ID
	}
}
