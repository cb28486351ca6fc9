package custodian

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/envelope"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// DefaultCacheSize is how many keys, and how many loaded key versions, a
// Custodian keeps in memory when Options.CacheSize is zero.
const DefaultCacheSize = 10_000

// Options configure a Custodian. The zero value is the original module's
// mode: an in-memory store whose contents die with the process, sealed under
// a random root key that never leaves it.
type Options struct {
	// Store keeps key records; nil means a new in-memory store.
	Store store.Store
	// CacheSize bounds the keys and loaded key versions kept in memory.
	CacheSize int
	// Now is the clock; nil means time.Now. Tests use it to move time.
	Now func() time.Time
}

// Custodian manages keys. It is safe for concurrent use.
type Custodian struct {
	store   store.Store
	barrier *barrier.Barrier
	now     func() time.Time

	// The caches hold immutable snapshots. epoch counts completed writes:
	// a reader that loaded a record from the store caches it only if no
	// write completed meanwhile, so a slow reader never caches a record
	// older than one a writer already published. Writers always publish,
	// and a snapshot never replaces one of a higher revision.
	epoch    atomic.Uint64
	publish  sync.Mutex
	byName   *lru.Cache[string, *entry]
	byID     *lru.Cache[string, *entry]
	versions *lru.Cache[versionRef, algo.Key]
}

// entry is a cached snapshot of one key's record.
type entry struct {
	rec     store.Key
	spec    *algo.Spec
	kid     envelope.KeyID
	primary atomic.Pointer[algo.Key] // loaded primary version, filled lazily
}

// versionRef names a loaded key version. It includes the material's
// binding, so a record whose bound facts changed in the store never hits a
// version loaded under the old facts: it loads, and fails to open.
type versionRef struct {
	id      string
	version uint32
	binding string
}

// New returns a Custodian over opts.Store.
func New(opts Options) (*Custodian, error) {
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("%w: cache size %d is negative", ErrInvalidArgument, opts.CacheSize)
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Store == nil {
		opts.Store = memory.New()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b, err := barrier.NewEphemeral()
	if err != nil {
		return nil, err
	}
	c := &Custodian{store: opts.Store, barrier: b, now: opts.Now}
	if c.byName, err = lru.New[string, *entry](opts.CacheSize); err != nil {
		return nil, err
	}
	if c.byID, err = lru.New[string, *entry](opts.CacheSize); err != nil {
		return nil, err
	}
	if c.versions, err = lru.New[versionRef, algo.Key](opts.CacheSize); err != nil {
		return nil, err
	}
	return c, nil
}

// Close releases the store. The Custodian must not be used afterwards.
func (c *Custodian) Close() error {
	c.byName.Purge()
	c.byID.Purge()
	c.versions.Purge()
	return c.store.Close()
}

// newEntry builds a snapshot; a record of an unknown type is corruption.
func newEntry(rec store.Key) (*entry, error) {
	spec, ok := algo.Lookup(KeyType(rec.Type))
	if !ok {
		return nil, fmt.Errorf("stored key has unknown type %q", rec.Type)
	}
	e := &entry{rec: rec, spec: spec}
	if _, err := hex.Decode(e.kid[:], []byte(rec.ID)); err != nil || len(rec.ID) != 2*envelope.KeyIDSize {
		return nil, fmt.Errorf("stored key has malformed id %q", rec.ID)
	}
	return e, nil
}

// publishEntry makes a freshly written record visible to readers.
func (c *Custodian) publishEntry(rec store.Key) (*entry, error) {
	e, err := newEntry(rec)
	if err != nil {
		return nil, err
	}
	c.publish.Lock()
	defer c.publish.Unlock()
	c.epoch.Add(1)
	c.insertLocked(e)
	return e, nil
}

// insertLocked caches e unless the cache holds something newer. The caller
// holds c.publish.
func (c *Custodian) insertLocked(e *entry) {
	if old, ok := c.byID.Peek(e.rec.ID); ok && old.rec.Revision > e.rec.Revision {
		return
	}
	c.byID.Add(e.rec.ID, e)
	if old, ok := c.byName.Peek(e.rec.Name); !ok || supersedes(e, old) {
		c.byName.Add(e.rec.Name, e)
	}
}

// supersedes reports whether e should replace old as the cached holder of
// their name. For one key, the higher revision wins. Between two keys, a
// tombstone never displaces a key that is not destroyed: a name is
// released only by destruction, so the live holder is the newer one,
// whichever of their writers publishes last.
func supersedes(e, old *entry) bool {
	if e.rec.ID == old.rec.ID {
		return e.rec.Revision >= old.rec.Revision
	}
	return e.rec.State != string(StateDestroyed) || old.rec.State == string(StateDestroyed)
}

// resolve returns the snapshot of the key holding name.
func (c *Custodian) resolve(ctx context.Context, name string) (*entry, error) {
	if e, ok := c.byName.Get(name); ok {
		return e, nil
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	return c.load(func() (store.Key, error) { return c.store.Lookup(ctx, name) })
}

// resolveID returns the snapshot of the key with the given id.
func (c *Custodian) resolveID(ctx context.Context, id string) (*entry, error) {
	if e, ok := c.byID.Get(id); ok {
		return e, nil
	}
	return c.load(func() (store.Key, error) { return c.store.Get(ctx, id) })
}

func (c *Custodian) load(get func() (store.Key, error)) (*entry, error) {
	epoch := c.epoch.Load()
	rec, err := get()
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	e, err := newEntry(rec)
	if err != nil {
		return nil, err
	}
	// Check and insert under the lock, so that no write publishes between
	// them and is then overwritten by this older read.
	c.publish.Lock()
	if c.epoch.Load() == epoch {
		c.insertLocked(e)
	}
	c.publish.Unlock()
	return e, nil
}

// loadVersion returns a loaded key version of e, from cache when it can.
func (c *Custodian) loadVersion(ctx context.Context, e *entry, n uint32) (algo.Key, error) {
	if n == e.rec.PrimaryVersion {
		if k := e.primary.Load(); k != nil {
			return *k, nil
		}
	}
	binding := materialBinding(e.rec)
	ref := versionRef{id: e.rec.ID, version: n, binding: binding}
	k, ok := c.versions.Get(ref)
	if !ok {
		epoch := c.epoch.Load()
		v, err := c.store.Version(ctx, e.rec.ID, n)
		if err != nil {
			return nil, err
		}
		if v.State == string(VersionDestroyed) {
			return nil, ErrKeyDestroyed
		}
		m, err := c.barrier.Open(barrier.KindMaterial, e.rec.ID, n, binding, v.Material)
		if err != nil {
			return nil, err
		}
		k, err = e.spec.Load(m)
		if err != nil {
			return nil, err
		}
		c.publish.Lock()
		if c.epoch.Load() == epoch {
			c.versions.Add(ref, k)
		}
		c.publish.Unlock()
	}
	if n == e.rec.PrimaryVersion {
		e.primary.Store(&k)
	}
	return k, nil
}

// mutate applies change to the current record of the key holding name and
// writes it back, retrying when another writer got there first. change
// returns the versions to write with the record, or errUnchanged to skip
// the write.
func (c *Custodian) mutate(ctx context.Context, name string, change func(rec *store.Key, now time.Time) ([]store.Version, error)) (store.Key, error) {
	if err := validateName(name); err != nil {
		return store.Key{}, err
	}
	for {
		rec, err := c.store.Lookup(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return store.Key{}, ErrKeyNotFound
		}
		if err != nil {
			return store.Key{}, err
		}
		now := c.now().UTC()
		versions, err := change(&rec, now)
		if errors.Is(err, errUnchanged) {
			return rec, nil
		}
		if err != nil {
			return store.Key{}, err
		}
		rec.Updated = now
		out, err := c.store.Update(ctx, rec, versions)
		if errors.Is(err, store.ErrConflict) {
			if err := ctx.Err(); err != nil {
				return store.Key{}, err
			}
			continue
		}
		if err != nil {
			return store.Key{}, err
		}
		if _, err := c.publishEntry(out); err != nil {
			return store.Key{}, err
		}
		return out, nil
	}
}

// errUnchanged tells mutate that the change is a no-op.
var errUnchanged = errors.New("unchanged")

// describe returns the public view of a record, with its versions.
func (c *Custodian) describe(ctx context.Context, rec store.Key) (*Key, error) {
	vs, err := c.store.Versions(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	return keyFromRecord(rec, vs), nil
}

// sealVersion seals material as version n of the key rec describes.
func (c *Custodian) sealVersion(rec *store.Key, n uint32, m secret.Bytes, now time.Time) (store.Version, error) {
	sealed, err := c.barrier.Seal(barrier.KindMaterial, rec.ID, n, materialBinding(*rec), m)
	if err != nil {
		return store.Version{}, err
	}
	return store.Version{KeyID: rec.ID, Number: n, Created: now, State: string(VersionEnabled), Material: sealed}, nil
}

// materialBinding is what a sealed version is bound to besides its key id
// and number: the key's immutable type, usage and exportability.
func materialBinding(rec store.Key) string {
	return fmt.Sprintf("type=%s usage=%s exportable=%t", rec.Type, rec.Usage, rec.Exportable)
}

func newKeyID() (string, error) {
	var id envelope.KeyID
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}
