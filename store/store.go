// Package store defines where KeyCustodian keeps keys: a narrow [Store]
// interface that an in-memory map, an embedded bbolt file and PostgreSQL
// implement alike.
//
// A store holds records, not secrets: key material arrives already sealed
// under the root key ([Version.Material] is ciphertext), so a store never
// sees plaintext key material and a stolen database reveals none.
//
// # Concurrency
//
// Implementations are safe for concurrent use. Writers race through
// optimistic concurrency: every [Key] carries a Revision, and [Store.Update]
// succeeds only if the stored revision is still the one the caller read,
// otherwise it returns [ErrConflict] and the caller re-reads and retries.
// Two processes rotating one key at once therefore get two distinct versions.
package store

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"time"
)

// Errors every implementation returns, so that callers can use errors.Is.
var (
	// ErrNotFound: no key with that id or name, or no such version.
	ErrNotFound = errors.New("not found")
	// ErrExists: the name is held by a key that is not destroyed, or the id exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: the key changed since the caller read it.
	ErrConflict = errors.New("revision conflict")
)

// StateDestroyed is the state of a key whose name may be taken again.
// It is the only state a store interprets.
const StateDestroyed = "destroyed"

// Key is the stored record of a key's metadata. Strings hold the stable
// names of types and states.
type Key struct {
	ID          string
	Name        string
	Type        string
	Usage       string
	Description string
	Labels      map[string]string
	Exportable  bool

	State string
	// StateBeforeDeletion is the state to return to when a scheduled deletion is cancelled.
	StateBeforeDeletion string
	DeletionDate        time.Time

	Created time.Time
	Updated time.Time

	PrimaryVersion       uint32
	LatestVersion        uint32
	MinDecryptionVersion uint32
	RotationPeriod       time.Duration

	// Seal authenticates every other field but Revision under the root
	// key, so that a record edited or swapped in the store is detected
	// when it is read. The custodian computes it; a store keeps it as given.
	Seal []byte

	// Revision counts the key's updates. The store sets it: 1 on Create,
	// incremented by each Update.
	Revision uint64
}

// Clone returns a deep copy of k.
func (k Key) Clone() Key {
	k.Labels = maps.Clone(k.Labels)
	k.Seal = bytes.Clone(k.Seal)
	return k
}

// Version is one version of a key's material.
type Version struct {
	KeyID   string
	Number  uint32
	Created time.Time
	State   string
	// Material is the version's key material sealed under the root key;
	// empty once destroyed.
	Material []byte
}

// Clone returns a deep copy of v.
func (v Version) Clone() Version {
	v.Material = bytes.Clone(v.Material)
	return v
}

// ListOptions selects a page of keys in name order.
type ListOptions struct {
	Prefix string // only names starting with Prefix
	After  string // only names after this one (the previous page's last name)
	Limit  int    // at most this many; must be positive
}

// Store keeps key records. Every method returns copies: callers may keep
// and modify what they receive.
type Store interface {
	// Create stores a new key with its versions, setting Revision to 1.
	// It returns ErrExists if the id exists, or if the name is held by a
	// key whose state is not StateDestroyed and k is not destroyed either
	// (a destroyed key's name is released; its record stays reachable by
	// id). A destroyed k never takes a name from a key that is not
	// destroyed: it is stored, reachable by id only. (Restoring a backup
	// creates tombstones and live keys in id order, not history's order.)
	Create(ctx context.Context, k Key, versions []Version) (Key, error)
	// Get returns the key with the given id, or ErrNotFound.
	Get(ctx context.Context, id string) (Key, error)
	// Lookup returns the key holding name, or ErrNotFound.
	Lookup(ctx context.Context, name string) (Key, error)
	// List returns keys holding names that match opts, in byte order of name.
	List(ctx context.Context, opts ListOptions) ([]Key, error)
	// Update replaces the key with k's id if its stored revision equals
	// k.Revision, and stores versions (new or replacing ones with the same
	// number) in the same atomic step. It returns the stored key with its
	// new revision, ErrConflict if the revision moved, or ErrNotFound.
	Update(ctx context.Context, k Key, versions []Version) (Key, error)
	// Version returns one version of a key, or ErrNotFound.
	Version(ctx context.Context, keyID string, number uint32) (Version, error)
	// Versions returns every version of a key, in ascending number order.
	Versions(ctx context.Context, keyID string) ([]Version, error)
	// Scan returns up to limit keys whose ids sort after the id after, in
	// byte order of id, destroyed keys included: the walk that re-seals
	// every record under a new root key. limit must be positive.
	Scan(ctx context.Context, after string, limit int) ([]Key, error)

	// GetMeta returns the value of the meta record name, or ErrNotFound.
	// Meta records are the few small values the custodian keeps beside
	// the keys: the seal's configuration and the sealed keyring.
	GetMeta(ctx context.Context, name string) ([]byte, error)
	// PutMeta sets the meta record name to value if its stored value is
	// old, where a nil old means the record must not exist; a nil value
	// deletes it. Otherwise it writes nothing and returns ErrConflict.
	PutMeta(ctx context.Context, name string, old, value []byte) error

	// Dump reads one consistent snapshot of the whole store, while writes
	// go on: it calls meta for every meta record in byte order of name,
	// then key for every key in byte order of id, destroyed ones included,
	// with all its versions in ascending order. It stops at the first
	// error a callback returns and returns it. Callbacks own what they
	// receive and must not call the store.
	Dump(ctx context.Context, meta func(name string, value []byte) error, key func(Key, []Version) error) error

	// Close releases the store's resources.
	Close() error
}

// MaxMetaName bounds the length of a meta record's name.
const MaxMetaName = 128
