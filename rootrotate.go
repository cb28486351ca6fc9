package custodian

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/store"
)

// RotateRootOptions configure RotateRoot. A Shamir seal needs a quorum of
// the current shares (the authority to replace the root key is the share
// holders', not the caller's) and may change the split; other seals need
// nothing.
type RotateRootOptions struct {
	Shares       [][]byte
	NewShares    int
	NewThreshold int
}

// RootRotation reports a finished root rotation.
type RootRotation struct {
	// InitResult holds the new shares of a Shamir seal.
	InitResult
	// ActiveTerm is the keyring term every record is now sealed under.
	ActiveTerm uint32 `json:"active_term"`
	// Resealed counts the keys whose records were sealed again.
	Resealed int `json:"resealed"`
}

// RotateRoot replaces the root key and the data-encryption key, and
// re-seals every record under the new ones, online: operations go on
// throughout, and every record opens at every moment, because the keyring
// keeps the old term until the last record has moved.
//
// In order: a new root key and a keyring with a new active term are
// written in one atomic step; from then on every write seals under the
// new term; a walk re-seals every older record, ResealBatch keys at a
// time; last, the old term is dropped. If the walk is interrupted (the
// context ends, the process stops, the Custodian is sealed), it resumes
// in the background at the next unseal, and the old root key no longer
// opens anything from the first step on.
func (c *Custodian) RotateRoot(ctx context.Context, opts RotateRootOptions) (*RootRotation, error) {
	res, err := c.rotateRoot(ctx, opts)
	return res, opError("rotate-root", "", err)
}

func (c *Custodian) rotateRoot(ctx context.Context, opts RotateRootOptions) (*RootRotation, error) {
	// An unfinished rotation completes first: a keyring holds at most the
	// terms of one rotation.
	if _, err := c.finishReseal(ctx); err != nil {
		return nil, err
	}
	res, err := c.switchRoot(ctx, opts)
	if err != nil {
		return nil, err
	}
	n, err := c.finishReseal(ctx)
	if err != nil {
		c.resumeReseal()
		return nil, fmt.Errorf("the new root key is in place; re-sealing stopped and resumes in the background: %w", err)
	}
	res.Resealed = n
	return res, nil
}

// switchRoot writes a new root key and a keyring with a new active term,
// and installs them once no write sealed under the old keyring is still
// running.
func (c *Custodian) switchRoot(ctx context.Context, opts RotateRootOptions) (*RootRotation, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.ephemeral {
		return nil, fmt.Errorf("%w: an in-memory Custodian has no root key to rotate", ErrUnsupportedOperation)
	}
	if c.vault.Load() == nil {
		return nil, ErrSealed
	}
	rec, raw, err := c.readRoot(ctx)
	if err != nil {
		return nil, err
	}
	n, t := opts.NewShares, opts.NewThreshold
	if _, ok := c.seal.(seal.Splitter); ok {
		if _, err := decodeQuorum(c.seal, opts.Shares, rec); err != nil {
			return nil, err
		}
		if n == 0 && t == 0 {
			n, t = rec.Shares, rec.Threshold
		}
	} else if len(opts.Shares) > 0 {
		return nil, fmt.Errorf("%w: a %s seal takes no shares", ErrInvalidArgument, c.seal.Type())
	}
	kr, err := c.root.keyring.WithNewTerm()
	if err != nil {
		return nil, err
	}
	root, err := barrier.NewKey()
	if err != nil {
		return nil, err
	}
	next := *rec
	shares, err := c.protectRoot(ctx, &next, root, kr, n, t)
	if err != nil {
		return nil, err
	}
	if err := c.writeRoot(ctx, raw, &next); err != nil {
		return nil, err
	}
	old := c.vault.Load()
	if err := c.install(root, kr, false); err != nil {
		return nil, err
	}
	// Wait for writes that sealed under the old keyring: every write from
	// here on seals under the new term, so the walk misses nothing.
	old.writers.Lock()
	old.writers.Unlock() //nolint:staticcheck // an empty critical section: waiting is the point
	return &RootRotation{InitResult: *shares, ActiveTerm: kr.Active}, nil
}

// finishReseal re-seals every record not under the active term, then
// drops the other terms from the keyring. It returns how many keys it
// re-sealed; with a single-term keyring it does nothing.
func (c *Custodian) finishReseal(ctx context.Context) (int, error) {
	c.resealMu.Lock()
	defer c.resealMu.Unlock()
	c.sealing.Lock()
	terms := len(c.root.keyring.Terms)
	c.sealing.Unlock()
	if terms <= 1 {
		return 0, nil
	}
	n, err := c.resealAll(ctx)
	if err != nil {
		return n, err
	}
	return n, c.dropOldTerms(ctx)
}

// resealAll walks every key, by id, and re-seals the stale ones.
func (c *Custodian) resealAll(ctx context.Context) (int, error) {
	n := 0
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		keys, err := c.store.Scan(ctx, after, c.opts.ResealBatch)
		if err != nil {
			return n, err
		}
		done, err := c.resealPage(ctx, keys)
		n += done
		if err != nil {
			return n, err
		}
		if len(keys) < c.opts.ResealBatch {
			return n, nil
		}
		after = keys[len(keys)-1].ID
	}
}

// resealPage re-seals a page of keys concurrently, so that their writes
// share commits (a bbolt batch, one fsync) instead of paying one each.
func (c *Custodian) resealPage(ctx context.Context, keys []store.Key) (int, error) {
	var (
		wg    sync.WaitGroup
		n     atomic.Int64
		first atomic.Pointer[error]
	)
	for _, k := range keys {
		wg.Go(func() {
			done, err := c.resealKey(ctx, k)
			if err != nil {
				err = fmt.Errorf("re-seal key id %s: %w", k.ID, err)
				first.CompareAndSwap(nil, &err)
			}
			if done {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return int(n.Load()), *err
	}
	return int(n.Load()), nil
}

// resealKey writes k back with every seal under the active term, if any
// is not; sealedStore does the sealing. A concurrent writer wins, and the
// key is read again.
func (c *Custodian) resealKey(ctx context.Context, k store.Key) (bool, error) {
	for {
		v, err := c.unsealed()
		if err != nil {
			return false, err
		}
		vs, err := c.store.Versions(ctx, k.ID)
		if err != nil {
			return false, err
		}
		if !stale(k, vs, v.barrier.Active()) {
			return false, nil
		}
		out, err := c.store.Update(ctx, k, vs)
		if errors.Is(err, store.ErrConflict) {
			if k, err = c.store.Get(ctx, k.ID); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		_, err = c.publishEntry(out)
		return true, err
	}
}

// stale reports whether a key's record or any version's material is
// sealed under a term other than active.
func stale(k store.Key, vs []store.Version, active uint32) bool {
	if t, _ := barrier.TermOf(k.Seal); t != active {
		return true
	}
	for _, v := range vs {
		if t, _ := barrier.TermOf(v.Material); len(v.Material) > 0 && t != active {
			return true
		}
	}
	return false
}

// dropOldTerms removes every term but the active one from the keyring,
// once the walk has moved every record.
func (c *Custodian) dropOldTerms(ctx context.Context) error {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.vault.Load() == nil {
		return ErrSealed
	}
	rec, raw, err := c.readRoot(ctx)
	if err != nil {
		return err
	}
	if rec.ActiveTerm != c.root.keyring.Active {
		return fmt.Errorf("the root record changed during re-sealing (term %d, expected %d); try again", rec.ActiveTerm, c.root.keyring.Active)
	}
	kr := c.root.keyring.OnlyActive()
	sealed, err := barrier.SealKeyring(c.root.root, kr)
	if err != nil {
		return err
	}
	next := *rec
	next.Keyring, next.Terms = sealed, []uint32{kr.Active}
	if err := c.writeRoot(ctx, raw, &next); err != nil {
		return err
	}
	return c.install(c.root.root, kr, false)
}

// resumeReseal finishes an interrupted root rotation in the background.
// The caller holds c.sealing (install) or nothing.
func (c *Custodian) resumeReseal() {
	if !c.resealing.CompareAndSwap(false, true) {
		return
	}
	c.goTask(func(ctx context.Context) {
		defer c.resealing.Store(false)
		if _, err := c.finishReseal(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrSealed) {
			c.opts.logError("resuming the root rotation's re-sealing", err)
		}
	})
}
