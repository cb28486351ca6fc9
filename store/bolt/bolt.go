package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/keycustodian/custodian/internal/groupcommit"
	"github.com/keycustodian/custodian/store"
)

// ErrLocked is wrapped by the error of an [Open] that could not lock the
// file because another store has it open.
var ErrLocked = errors.New("store file is locked by another open store")

// Options configure [Open]. The zero value is valid.
type Options struct {
	// Timeout is how long Open waits for the file lock before failing
	// with ErrLocked. Zero means one second; it must not be negative.
	Timeout time.Duration
	// MaxBatchDelay is how long a commit waits, before it begins, for
	// more writes to join it, unless MaxBatchSize writes are already
	// queued. Zero, the default, means no wait: writes that arrive while
	// a commit is in flight already share the next one (see the package
	// documentation), so a delay only slows a lone writer. (Before group
	// commit was the store's own, zero meant bbolt's 10ms.)
	MaxBatchDelay time.Duration
	// MaxBatchSize is the most writes in one commit. Zero means
	// DefaultMaxBatchSize.
	MaxBatchSize int
	// InitialMmapSize is how much of the file bbolt maps at first; a
	// write that grows the file past the mapped size waits for open read
	// transactions such as a backup's. Zero means DefaultInitialMmapSize.
	InitialMmapSize int
}

// DefaultInitialMmapSize is the address space mapped when
// Options.InitialMmapSize is zero; it costs no memory until used.
const DefaultInitialMmapSize = 1 << 30

// DefaultTimeout is the lock wait of Options with a zero Timeout.
const DefaultTimeout = time.Second

func (o Options) check() (Options, error) {
	if o.Timeout < 0 || o.MaxBatchDelay < 0 || o.MaxBatchSize < 0 || o.InitialMmapSize < 0 {
		return o, fmt.Errorf("bolt store options: negative timeout, batch delay, batch size or mmap size")
	}
	if o.InitialMmapSize == 0 {
		o.InitialMmapSize = DefaultInitialMmapSize
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBatchSize == 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	return o, nil
}

// Store is a [store.Store] in a bbolt file. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	path    string
	commits *committer
}

var _ store.Store = (*Store)(nil)

// Open opens the store in the file at path, creating the file (mode 0600)
// and its parent directory (mode 0700) if they do not exist.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt store %s: create directory: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, InitialMmapSize: opts.InitialMmapSize})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt store %s: no lock after %v: %w (%w)", path, opts.Timeout, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt store %s: open: %w", path, err)
	}
	if err := db.Update(initLayout); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt store %s: %w", path, err)
	}
	return &Store{db: db, path: path, commits: newCommitter(db, opts.MaxBatchSize, opts.MaxBatchDelay)}, nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// CommitStats reports how many group commits the store has made and how
// many writes they carried, since it was opened: their ratio is the mean
// batch, which grows with the number of concurrent writers.
func (s *Store) CommitStats() groupcommit.Stats {
	return s.commits.group.Stats()
}

// Close implements [store.Store]; it releases the file lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt store %s: close: %w", s.path, err)
	}
	return nil
}

// maxIDLen is bbolt's key size: an id is a key of the ids bucket.
const maxIDLen = bolt.MaxKeySize

// checkKey refuses ids and names that cannot be bbolt keys.
func checkKey(k store.Key) error {
	switch {
	case k.ID == "" || len(k.ID) > maxIDLen:
		return fmt.Errorf("key id %q: must be 1 to %d bytes", k.ID, maxIDLen)
	case k.Name == "" || len(k.Name) > bolt.MaxKeySize:
		return fmt.Errorf("key name %q: must be 1 to %d bytes", k.Name, bolt.MaxKeySize)
	}
	return nil
}

// write runs fn in a read-write transaction shared with concurrent
// writers (see committer) and returns once that transaction is committed
// and fsync'd, or has failed. fn reports a refusal (ErrExists,
// ErrConflict, …) through its result, not as a *txFailure, and makes no
// change before deciding to refuse: a refusal then costs nothing to the
// writes sharing the transaction, whereas a failure rolls it back and
// makes them run again. So fn may run more than once and must not depend
// on earlier runs.
//
// write returns ctx's error only if ctx ended before fn was taken into a
// transaction; once taken, it waits for the outcome.
func (s *Store) write(ctx context.Context, fn func(tx *bolt.Tx) (store.Key, error)) (store.Key, error) {
	p, err := s.commits.do(ctx, fn)
	if err != nil {
		return store.Key{}, err
	}
	out, refuse, err := p.result()
	if err != nil {
		return store.Key{}, fmt.Errorf("bolt store %s: commit: %w", s.path, err)
	}
	return out, refuse
}

// txFailure marks an error that must abort the transaction (a failed Put),
// as opposed to a refusal decided before any change.
type txFailure struct{ err error }

func (f *txFailure) Error() string { return f.err.Error() }
func (f *txFailure) Unwrap() error { return f.err }

// Create implements [store.Store]. The key gets the next sequence number
// of the keys bucket, so that its records append to keys and versions
// (see "File layout" in the package documentation).
func (s *Store) Create(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	if err := checkKey(k); err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	k.Revision = 1
	id, name := []byte(k.ID), []byte(k.Name)
	recs := encodeRecords(k, versions)
	return s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
		b := bucketsOf(tx, withAll)
		if b.ids.Get(id) != nil {
			return store.Key{}, fmt.Errorf("key id %s: %w", k.ID, store.ErrExists)
		}
		held := false
		if seq := b.names.Get(name); seq != nil {
			h, err := b.holder(k.Name, seq)
			if err != nil {
				return store.Key{}, fmt.Errorf("key name %q: holder: %w", k.Name, err)
			}
			held = h.State != store.StateDestroyed
		}
		if held && k.State != store.StateDestroyed {
			return store.Key{}, fmt.Errorf("key name %q: %w", k.Name, store.ErrExists)
		}
		seq, err := b.keys.NextSequence()
		if err != nil {
			return store.Key{}, &txFailure{err}
		}
		if !held {
			if err := b.names.Put(name, seqKey(seq)); err != nil {
				return store.Key{}, &txFailure{err}
			}
		}
		if err := b.ids.Put(id, seqKey(seq)); err != nil {
			return store.Key{}, &txFailure{err}
		}
		if err := b.put(seq, recs); err != nil {
			return store.Key{}, &txFailure{err}
		}
		return k, nil
	})
}

// Update implements [store.Store].
func (s *Store) Update(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	if err := checkKey(k); err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	next := k.Clone()
	next.Revision++
	recs := encodeRecords(next, versions)
	return s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
		b := bucketsOf(tx, withIDs|withKeys|withVersions)
		cur, seq, err := b.getKey(k.ID)
		if err != nil {
			return store.Key{}, err
		}
		if cur.Revision != k.Revision {
			return store.Key{}, fmt.Errorf("key id %s at revision %d, not %d: %w", k.ID, cur.Revision, k.Revision, store.ErrConflict)
		}
		if k.Name != cur.Name {
			return store.Key{}, fmt.Errorf("key id %s: renaming is not supported", k.ID)
		}
		if err := b.put(seq, recs); err != nil {
			return store.Key{}, &txFailure{err}
		}
		return next, nil
	})
}

// read runs fn in a read-only transaction after checking ctx.
func (s *Store) read(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// Get implements [store.Store].
func (s *Store) Get(ctx context.Context, id string) (store.Key, error) {
	var k store.Key
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		k, _, err = bucketsOf(tx, withIDs|withKeys).getKey(id)
		return err
	})
	return k, err
}

// Lookup implements [store.Store].
func (s *Store) Lookup(ctx context.Context, name string) (store.Key, error) {
	var k store.Key
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		b := bucketsOf(tx, withNames|withKeys)
		seq := b.names.Get([]byte(name))
		if seq == nil {
			return fmt.Errorf("key name %q: %w", name, store.ErrNotFound)
		}
		k, err = b.holder(name, seq)
		return err
	})
	return k, err
}

// List implements [store.Store].
func (s *Store) List(ctx context.Context, opts store.ListOptions) ([]store.Key, error) {
	if opts.Limit <= 0 {
		return nil, fmt.Errorf("list limit %d: must be positive", opts.Limit)
	}
	var out []store.Key
	err := s.read(ctx, func(tx *bolt.Tx) error {
		out = nil
		b := bucketsOf(tx, withNames|withKeys)
		c := b.names.Cursor()
		start := opts.Prefix
		if opts.After > start {
			start = opts.After
		}
		name, seq := c.Seek([]byte(start))
		if name != nil && string(name) == opts.After {
			name, seq = c.Next()
		}
		for ; name != nil && len(out) < opts.Limit; name, seq = c.Next() {
			if !bytes.HasPrefix(name, []byte(opts.Prefix)) {
				break
			}
			k, err := b.holder(string(name), seq)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	return out, err
}

// Version implements [store.Store].
func (s *Store) Version(ctx context.Context, keyID string, number uint32) (store.Version, error) {
	var v store.Version
	err := s.read(ctx, func(tx *bolt.Tx) error {
		b := bucketsOf(tx, withIDs|withVersions)
		seq, err := b.seqOf(keyID)
		if err != nil {
			return fmt.Errorf("version %d of %w", number, err)
		}
		v, err = b.version(seq, keyID, number)
		return err
	})
	return v, err
}

// Versions implements [store.Store].
func (s *Store) Versions(ctx context.Context, keyID string) ([]store.Version, error) {
	var out []store.Version
	err := s.read(ctx, func(tx *bolt.Tx) error {
		out = []store.Version{}
		b := bucketsOf(tx, withIDs|withVersions)
		seq, err := b.seqOf(keyID)
		if err != nil {
			return err
		}
		vs, err := readVersions(b.versions.Cursor(), seq, keyID)
		out = append(out, vs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scan implements [store.Store]: it walks ids, in id order, and reads
// each key's record by its sequence number.
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]store.Key, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("scan limit %d: must be positive", limit)
	}
	var out []store.Key
	err := s.read(ctx, func(tx *bolt.Tx) error {
		out = nil
		b := bucketsOf(tx, withIDs|withKeys)
		c := b.ids.Cursor()
		id, seq := c.Seek([]byte(after))
		if id != nil && string(id) == after {
			id, seq = c.Next()
		}
		for ; id != nil && len(out) < limit; id, seq = c.Next() {
			k, err := b.keyAtValue(string(id), seq)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	return out, err
}

// GetMeta implements [store.Store].
func (s *Store) GetMeta(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.read(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Get([]byte(name))
		if b == nil {
			return fmt.Errorf("meta %q: %w", name, store.ErrNotFound)
		}
		v = bytes.Clone(b)
		if v == nil {
			v = []byte{}
		}
		return nil
	})
	return v, err
}

// PutMeta implements [store.Store].
func (s *Store) PutMeta(ctx context.Context, name string, old, value []byte) error {
	if name == "" || len(name) > store.MaxMetaName {
		return fmt.Errorf("meta name %q: must be 1 to %d bytes", name, store.MaxMetaName)
	}
	old, value = bytes.Clone(old), bytes.Clone(value)
	_, err := s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
		b := tx.Bucket(bucketRecords)
		cur := b.Get([]byte(name))
		if (cur != nil) != (old != nil) || !bytes.Equal(cur, old) {
			return store.Key{}, fmt.Errorf("meta %q: %w", name, store.ErrConflict)
		}
		var err error
		if value == nil {
			err = b.Delete([]byte(name))
		} else {
			err = b.Put([]byte(name), value)
		}
		if err != nil {
			return store.Key{}, &txFailure{err}
		}
		return store.Key{}, nil
	})
	return err
}

// Dump implements [store.Store]: one read-only transaction is the snapshot.
func (s *Store) Dump(ctx context.Context, meta func(string, []byte) error, key func(store.Key, []store.Version) error) error {
	return s.read(ctx, func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketRecords).ForEach(func(name, v []byte) error {
			if v := bytes.Clone(v); v != nil {
				return meta(string(name), v)
			}
			return meta(string(name), []byte{})
		})
		if err != nil {
			return err
		}
		b := bucketsOf(tx, withAll)
		versions := b.versions.Cursor()
		c := b.ids.Cursor()
		for id, seqValue := c.First(); id != nil; id, seqValue = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			seq, err := parseSeq(seqValue)
			if err != nil {
				return fmt.Errorf("key id %s: %w", id, err)
			}
			k, err := b.keyAt(seq, string(id))
			if err != nil {
				return err
			}
			vs, err := readVersions(versions, seq, k.ID)
			if err != nil {
				return err
			}
			if err := key(k, vs); err != nil {
				return err
			}
		}
		return nil
	})
}
