package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/keycustodian/custodian/store"
)

// ErrLocked is wrapped by the error of an [Open] that could not lock the
// file because another store has it open.
var ErrLocked = errors.New("store file is locked by another open store")

// layoutVersion is the value of meta/format: the layout of buckets and keys
// described in the package documentation.
const layoutVersion byte = 1

var (
	bucketMeta     = []byte("meta")
	bucketRecords  = []byte("records")
	bucketKeys     = []byte("keys")
	bucketNames    = []byte("names")
	bucketVersions = []byte("versions")
	metaFormat     = []byte("format")
)

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

// initLayout creates the buckets of a new file and checks the layout
// version of an existing one.
func initLayout(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	switch f := meta.Get(metaFormat); {
	case f == nil:
		if err := meta.Put(metaFormat, []byte{layoutVersion}); err != nil {
			return err
		}
	case len(f) != 1 || f[0] != layoutVersion:
		return fmt.Errorf("layout version %v: unsupported (this build reads %d)", f, layoutVersion)
	}
	for _, name := range [][]byte{bucketRecords, bucketKeys, bucketNames, bucketVersions} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close implements [store.Store]; it releases the file lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt store %s: close: %w", s.path, err)
	}
	return nil
}

// versionKey returns the versions-bucket key of a version of id:
// uint16 len(id) | id | uint32 number. With number 0 and the last four
// bytes dropped it is the prefix of every version of id.
func versionKey(id string, number uint32) []byte {
	b := make([]byte, 0, 2+len(id)+4)
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	b = append(b, id...)
	return binary.BigEndian.AppendUint32(b, number)
}

// maxIDLen keeps a version key (2 + id + 4 bytes) within bbolt's key size.
const maxIDLen = bolt.MaxKeySize - 6

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

// getKey reads and decodes the key with id, or returns ErrNotFound.
func getKey(tx *bolt.Tx, id string) (store.Key, error) {
	b := tx.Bucket(bucketKeys).Get([]byte(id))
	if b == nil {
		return store.Key{}, fmt.Errorf("key id %s: %w", id, store.ErrNotFound)
	}
	k, err := decodeKey(b)
	if err != nil {
		return store.Key{}, fmt.Errorf("key id %s: %w", id, err)
	}
	return k, nil
}

// putKey writes k and versions.
func putKey(tx *bolt.Tx, k store.Key, versions []store.Version) error {
	if err := tx.Bucket(bucketKeys).Put([]byte(k.ID), encodeKey(k)); err != nil {
		return err
	}
	vb := tx.Bucket(bucketVersions)
	for _, v := range versions {
		if err := vb.Put(versionKey(k.ID, v.Number), encodeVersion(v)); err != nil {
			return err
		}
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
	if err := ctx.Err(); err != nil {
		return store.Key{}, err
	}
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

// Create implements [store.Store].
func (s *Store) Create(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	if err := checkKey(k); err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	k.Revision = 1
	rec := []byte(k.ID)
	return s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
		if tx.Bucket(bucketKeys).Get(rec) != nil {
			return store.Key{}, fmt.Errorf("key id %s: %w", k.ID, store.ErrExists)
		}
		names := tx.Bucket(bucketNames)
		held := false
		if holder := names.Get([]byte(k.Name)); holder != nil {
			h, err := getKey(tx, string(holder))
			if err != nil {
				return store.Key{}, fmt.Errorf("key name %q: holder: %w", k.Name, err)
			}
			held = h.State != store.StateDestroyed
		}
		if held && k.State != store.StateDestroyed {
			return store.Key{}, fmt.Errorf("key name %q: %w", k.Name, store.ErrExists)
		}
		if !held {
			if err := names.Put([]byte(k.Name), rec); err != nil {
				return store.Key{}, &txFailure{err}
			}
		}
		if err := putKey(tx, k, versions); err != nil {
			return store.Key{}, &txFailure{err}
		}
		return k.Clone(), nil
	})
}

// Update implements [store.Store].
func (s *Store) Update(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	if err := checkKey(k); err != nil {
		return store.Key{}, err
	}
	k = k.Clone()
	return s.write(ctx, func(tx *bolt.Tx) (store.Key, error) {
		cur, err := getKey(tx, k.ID)
		if err != nil {
			return store.Key{}, err
		}
		if cur.Revision != k.Revision {
			return store.Key{}, fmt.Errorf("key id %s at revision %d, not %d: %w", k.ID, cur.Revision, k.Revision, store.ErrConflict)
		}
		if k.Name != cur.Name {
			return store.Key{}, fmt.Errorf("key id %s: renaming is not supported", k.ID)
		}
		next := k.Clone()
		next.Revision++
		if err := putKey(tx, next, versions); err != nil {
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
		k, err = getKey(tx, id)
		return err
	})
	return k, err
}

// Lookup implements [store.Store].
func (s *Store) Lookup(ctx context.Context, name string) (store.Key, error) {
	var k store.Key
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bucketNames).Get([]byte(name))
		if id == nil {
			return fmt.Errorf("key name %q: %w", name, store.ErrNotFound)
		}
		k, err = getKey(tx, string(id))
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
		c := tx.Bucket(bucketNames).Cursor()
		start := opts.Prefix
		if opts.After > start {
			start = opts.After
		}
		name, id := c.Seek([]byte(start))
		if name != nil && string(name) == opts.After {
			name, id = c.Next()
		}
		for ; name != nil && len(out) < opts.Limit; name, id = c.Next() {
			if !bytes.HasPrefix(name, []byte(opts.Prefix)) {
				break
			}
			k, err := getKey(tx, string(id))
			if err != nil {
				return fmt.Errorf("key name %q: %w", name, err)
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
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		b := tx.Bucket(bucketVersions).Get(versionKey(keyID, number))
		if b == nil {
			return fmt.Errorf("key id %s version %d: %w", keyID, number, store.ErrNotFound)
		}
		if v, err = decodeVersion(b); err != nil {
			return fmt.Errorf("key id %s version %d: %w", keyID, number, err)
		}
		return nil
	})
	return v, err
}

// Versions implements [store.Store].
func (s *Store) Versions(ctx context.Context, keyID string) ([]store.Version, error) {
	var out []store.Version
	err := s.read(ctx, func(tx *bolt.Tx) error {
		out = []store.Version{}
		if tx.Bucket(bucketKeys).Get([]byte(keyID)) == nil {
			return fmt.Errorf("key id %s: %w", keyID, store.ErrNotFound)
		}
		vs, err := readVersions(tx.Bucket(bucketVersions).Cursor(), keyID)
		out = append(out, vs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readVersions decodes every version of keyID with c, in number order.
func readVersions(c *bolt.Cursor, keyID string) ([]store.Version, error) {
	var out []store.Version
	prefix := versionKey(keyID, 0)
	prefix = prefix[:len(prefix)-4]
	for k, b := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, b = c.Next() {
		v, err := decodeVersion(b)
		if err != nil {
			return nil, fmt.Errorf("key id %s version %x: %w", keyID, k[len(prefix):], err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Scan implements [store.Store].
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]store.Key, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("scan limit %d: must be positive", limit)
	}
	var out []store.Key
	err := s.read(ctx, func(tx *bolt.Tx) error {
		out = nil
		c := tx.Bucket(bucketKeys).Cursor()
		id, b := c.Seek([]byte(after))
		if id != nil && string(id) == after {
			id, b = c.Next()
		}
		for ; id != nil && len(out) < limit; id, b = c.Next() {
			k, err := decodeKey(b)
			if err != nil {
				return fmt.Errorf("key id %s: %w", id, err)
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
		versions := tx.Bucket(bucketVersions).Cursor()
		c := tx.Bucket(bucketKeys).Cursor()
		for id, b := c.First(); id != nil; id, b = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k, err := decodeKey(b)
			if err != nil {
				return fmt.Errorf("key id %s: %w", id, err)
			}
			vs, err := readVersions(versions, k.ID)
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
