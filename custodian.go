package custodian

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/envelope"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/store"
)

// DefaultCacheSize is how many keys, and how many loaded key versions, a
// Custodian keeps in memory when Options.CacheSize is zero.
const DefaultCacheSize = 10_000

// Custodian manages keys. It is safe for concurrent use.
//
// A Custodian is sealed or unsealed. Sealed, it holds the store but not
// the root key, and refuses every key operation with ErrSealed; unsealing
// gives it the root key, from which it opens the keyring that seals every
// record. See Open, Unseal and Seal.
type Custodian struct {
	backend store.Store
	store   store.Store // backend behind sealedStore: records checked on the way in and out
	seal    seal.Seal
	now     func() time.Time
	opts    Options

	// vault is the unsealed state; nil while sealed.
	vault atomic.Pointer[vault]

	// sealing serialises seal state changes (unseal, seal, rekey, root
	// rotation) and guards the fields below.
	sealing sync.Mutex
	root    rootState

	// resealMu serialises re-sealing walks; resealing is set while one
	// runs in the background.
	resealMu  sync.Mutex
	resealing atomic.Bool

	tasks tasks
	// closed is set by Close, before the background tasks are stopped.
	closed atomic.Bool
	// initialized is set once this process has seen a root record, so
	// that a refused operation says "not initialized" rather than
	// "sealed" on a store that has no root key yet.
	initialized atomic.Bool
}

// vault is what unsealing gives a Custodian: the barrier over the keyring
// and the caches of everything opened with it. A seal or a root rotation
// replaces the whole vault, so nothing cached under one root key outlives
// it. The caches hold immutable snapshots.
type vault struct {
	barrier *barrier.Barrier

	// writers is read-held by every store write sealed with this vault.
	// A root rotation swaps in the next vault, then takes writers
	// exclusively: once it has them, every later write is sealed under the
	// new keyring, and the walk that re-seals older records misses none.
	writers sync.RWMutex

	// epoch counts completed writes: a reader that loaded a record from
	// the store caches it only if no write completed meanwhile, so a slow
	// reader never caches a record older than one a writer already
	// published. Writers always publish, and a snapshot never replaces one
	// of a higher revision.
	epoch    atomic.Uint64
	publish  sync.Mutex
	byName   *lru.Cache[string, *entry]
	byID     *lru.Cache[string, *entry]
	versions *lru.Cache[versionRef, algo.Key]
}

func newVault(b *barrier.Barrier, cacheSize int) (*vault, error) {
	v := &vault{barrier: b}
	var err error
	if v.byName, err = lru.New[string, *entry](cacheSize); err != nil {
		return nil, err
	}
	if v.byID, err = lru.New[string, *entry](cacheSize); err != nil {
		return nil, err
	}
	if v.versions, err = lru.New[versionRef, algo.Key](cacheSize); err != nil {
		return nil, err
	}
	return v, nil
}

// drop empties the vault's caches. Operations still holding the vault
// finish with it; it is garbage once they are done.
func (v *vault) drop() {
	v.byName.Purge()
	v.byID.Purge()
	v.versions.Purge()
}

// unsealed returns the current vault, or ErrSealed.
func (c *Custodian) unsealed() (*vault, error) {
	if v := c.vault.Load(); v != nil {
		return v, nil
	}
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.initialized.Load() {
		return nil, ErrNotInitialized
	}
	return nil, ErrSealed
}

// entry is a cached snapshot of one key's record.
type entry struct {
	rec     store.Key
	spec    *algo.Spec
	kid     envelope.KeyID
	primary atomic.Pointer[algo.Key] // loaded primary version, filled lazily
	binding string                   // materialBinding(rec)
}

// versionRef names a loaded key version. It includes the material's
// binding, so a record whose bound facts changed in the store never hits a
// version loaded under the old facts: it loads, and fails to open.
type versionRef struct {
	id      string
	version uint32
	binding string
}

// New returns an unsealed Custodian over opts.Store (a new in-memory store
// if nil) with a random root key that exists only in this process: the
// original module's mode. A store that outlives the process needs a seal
// that outlives it too: use Open.
func New(opts Options) (*Custodian, error) {
	c, err := newCustodian(opts)
	if err != nil {
		return nil, err
	}
	kr, err := barrier.NewKeyring()
	if err != nil {
		return nil, err
	}
	b, err := kr.Barrier()
	if err != nil {
		return nil, err
	}
	v, err := newVault(b, c.opts.CacheSize)
	if err != nil {
		return nil, err
	}
	c.vault.Store(v)
	c.root = rootState{ephemeral: true}
	c.initialized.Store(true)
	c.startTasks()
	c.kickRotation()
	return c, nil
}

func newCustodian(opts Options) (*Custodian, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, err
	}
	c := &Custodian{backend: opts.Store, seal: opts.Seal, now: opts.Now, opts: opts}
	c.store = &sealedStore{Store: opts.Store, c: c}
	c.tasks.init()
	return c, nil
}

// Close seals the Custodian, stops its background tasks and closes the
// store. The Custodian must not be used afterwards.
func (c *Custodian) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.tasks.stop()
	c.sealing.Lock()
	c.dropVault()
	c.sealing.Unlock()
	return c.backend.Close()
}

// dropVault seals: the vault is swapped out and emptied. The caller holds
// c.sealing.
func (c *Custodian) dropVault() {
	if v := c.vault.Swap(nil); v != nil {
		v.drop()
	}
	c.root.root.Wipe()
	c.root.root = secret.Bytes{}
}

// newEntry builds a snapshot; a record of an unknown type is corruption.
func newEntry(rec store.Key) (*entry, error) {
	spec, ok := algo.Lookup(KeyType(rec.Type))
	if !ok {
		return nil, fmt.Errorf("stored key has unknown type %q", rec.Type)
	}
	e := &entry{rec: rec, spec: spec, binding: materialBinding(rec)}
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
	v := c.vault.Load()
	if v == nil {
		return e, nil // sealed meanwhile: nothing to publish to
	}
	v.publish.Lock()
	defer v.publish.Unlock()
	v.epoch.Add(1)
	v.insertLocked(e, false)
	return e, nil
}

// insertLocked caches e unless the cache holds something newer. The caller
// holds v.publish. holder says that the store gave e as the holder of its
// name (a lookup by name); a record read by id or just written is cached
// under its name only if it is live, or replaces the same key's entry: a
// tombstone read by id (to decrypt an old ciphertext) must not shadow the
// live key that took its name.
func (v *vault) insertLocked(e *entry, holder bool) {
	if old, ok := v.byID.Peek(e.rec.ID); ok && old.rec.Revision > e.rec.Revision {
		return
	}
	v.byID.Add(e.rec.ID, e)
	old, ok := v.byName.Peek(e.rec.Name)
	switch {
	case ok && supersedes(e, old),
		!ok && (holder || e.rec.State != string(StateDestroyed)):
		v.byName.Add(e.rec.Name, e)
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
	v, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	if e, ok := v.byName.Get(name); ok {
		return e, nil
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	return v.load(true, func() (store.Key, error) { return c.store.Lookup(ctx, name) })
}

// resolveID returns the snapshot of the key with the given id.
func (c *Custodian) resolveID(ctx context.Context, id string) (*entry, error) {
	v, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	if e, ok := v.byID.Get(id); ok {
		return e, nil
	}
	return v.load(false, func() (store.Key, error) { return c.store.Get(ctx, id) })
}

func (v *vault) load(byName bool, get func() (store.Key, error)) (*entry, error) {
	epoch := v.epoch.Load()
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
	v.publish.Lock()
	if v.epoch.Load() == epoch {
		v.insertLocked(e, byName)
	}
	v.publish.Unlock()
	return e, nil
}

// loadVersion returns a loaded key version of e, from cache when it can.
func (c *Custodian) loadVersion(ctx context.Context, e *entry, n uint32) (algo.Key, error) {
	if n == e.rec.PrimaryVersion {
		if k := e.primary.Load(); k != nil {
			return *k, nil
		}
	}
	vt, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	ref := versionRef{id: e.rec.ID, version: n, binding: e.binding}
	k, ok := vt.versions.Get(ref)
	if !ok {
		epoch := vt.epoch.Load()
		m, err := c.openVersion(ctx, vt, e.rec, n)
		if err != nil {
			return nil, err
		}
		k, err = e.spec.Load(m)
		if err != nil {
			return nil, err
		}
		vt.publish.Lock()
		if vt.epoch.Load() == epoch {
			vt.versions.Add(ref, k)
		}
		vt.publish.Unlock()
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

// openVersion reads version n of rec and opens its material.
func (c *Custodian) openVersion(ctx context.Context, vt *vault, rec store.Key, n uint32) (secret.Bytes, error) {
	v, err := c.store.Version(ctx, rec.ID, n)
	if err != nil {
		return secret.Bytes{}, err
	}
	if v.State == string(VersionDestroyed) {
		return secret.Bytes{}, ErrKeyDestroyed
	}
	m, err := vt.barrier.Open(barrier.KindMaterial, rec.ID, n, materialBinding(rec), v.Material)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("%w: key id %s version %d", errCorruptRecord, rec.ID, n)
	}
	return m, nil
}

// sealVersion seals material as version n of the key rec describes.
func (c *Custodian) sealVersion(rec *store.Key, n uint32, m secret.Bytes, now time.Time) (store.Version, error) {
	vt, err := c.unsealed()
	if err != nil {
		return store.Version{}, err
	}
	sealed, err := vt.barrier.Seal(barrier.KindMaterial, rec.ID, n, materialBinding(*rec), m)
	if err != nil {
		return store.Version{}, err
	}
	return store.Version{KeyID: rec.ID, Number: n, Created: now, State: string(VersionEnabled), Material: sealed}, nil
}

// materialBinding is what a sealed version is bound to besides its key id
// and number: the key's immutable type, usage and exportability.
func materialBinding(rec store.Key) string {
	return "type=" + rec.Type + " usage=" + rec.Usage + " exportable=" + strconv.FormatBool(rec.Exportable)
}

func newKeyID() (string, error) {
	var id envelope.KeyID
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}
