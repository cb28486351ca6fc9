// Package memory is a [store.Store] that keeps records in process memory:
// the original KeyCustodian's mode, and the store of tests. Everything is
// lost when the process ends.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/keycustodian/custodian/store"
)

// Store is an in-memory [store.Store]. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	keys     map[string]store.Key                // by id
	names    map[string]string                   // name -> id
	versions map[string]map[uint32]store.Version // id -> number -> version
	meta     map[string][]byte
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		keys:     make(map[string]store.Key),
		names:    make(map[string]string),
		versions: make(map[string]map[uint32]store.Version),
		meta:     make(map[string][]byte),
	}
}

// Create implements [store.Store].
func (s *Store) Create(_ context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return store.Key{}, fmt.Errorf("key id %s: %w", k.ID, store.ErrExists)
	}
	id, held := s.names[k.Name]
	held = held && s.keys[id].State != store.StateDestroyed
	if held && k.State != store.StateDestroyed {
		return store.Key{}, fmt.Errorf("key name %q: %w", k.Name, store.ErrExists)
	}
	k = k.Clone()
	k.Revision = 1
	s.keys[k.ID] = k
	if !held {
		s.names[k.Name] = k.ID
	}
	vs := make(map[uint32]store.Version, len(versions))
	for _, v := range versions {
		vs[v.Number] = v.Clone()
	}
	s.versions[k.ID] = vs
	return k.Clone(), nil
}

// Get implements [store.Store].
func (s *Store) Get(_ context.Context, id string) (store.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[id]
	if !ok {
		return store.Key{}, fmt.Errorf("key id %s: %w", id, store.ErrNotFound)
	}
	return k.Clone(), nil
}

// Lookup implements [store.Store].
func (s *Store) Lookup(_ context.Context, name string) (store.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.names[name]
	if !ok {
		return store.Key{}, fmt.Errorf("key name %q: %w", name, store.ErrNotFound)
	}
	return s.keys[id].Clone(), nil
}

// List implements [store.Store].
func (s *Store) List(_ context.Context, opts store.ListOptions) ([]store.Key, error) {
	if opts.Limit <= 0 {
		return nil, fmt.Errorf("list limit %d: must be positive", opts.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	for name := range s.names {
		if strings.HasPrefix(name, opts.Prefix) && name > opts.After {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = names[:min(len(names), opts.Limit)]
	out := make([]store.Key, len(names))
	for i, name := range names {
		out[i] = s.keys[s.names[name]].Clone()
	}
	return out, nil
}

// Update implements [store.Store].
func (s *Store) Update(_ context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.keys[k.ID]
	if !ok {
		return store.Key{}, fmt.Errorf("key id %s: %w", k.ID, store.ErrNotFound)
	}
	if cur.Revision != k.Revision {
		return store.Key{}, fmt.Errorf("key id %s at revision %d, not %d: %w", k.ID, cur.Revision, k.Revision, store.ErrConflict)
	}
	if k.Name != cur.Name {
		return store.Key{}, fmt.Errorf("key id %s: renaming is not supported", k.ID)
	}
	k = k.Clone()
	k.Revision++
	s.keys[k.ID] = k
	for _, v := range versions {
		s.versions[k.ID][v.Number] = v.Clone()
	}
	return k.Clone(), nil
}

// Version implements [store.Store].
func (s *Store) Version(_ context.Context, keyID string, number uint32) (store.Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.versions[keyID][number]
	if !ok {
		return store.Version{}, fmt.Errorf("key id %s version %d: %w", keyID, number, store.ErrNotFound)
	}
	return v.Clone(), nil
}

// Versions implements [store.Store].
func (s *Store) Versions(_ context.Context, keyID string) ([]store.Version, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	vs, ok := s.versions[keyID]
	if !ok {
		return nil, fmt.Errorf("key id %s: %w", keyID, store.ErrNotFound)
	}
	out := make([]store.Version, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Clone())
	}
	slices.SortFunc(out, byNumber)
	return out, nil
}

// Scan implements [store.Store].
func (s *Store) Scan(_ context.Context, after string, limit int) ([]store.Key, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("scan limit %d: must be positive", limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id := range s.keys {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), limit)]
	out := make([]store.Key, len(ids))
	for i, id := range ids {
		out[i] = s.keys[id].Clone()
	}
	return out, nil
}

// GetMeta implements [store.Store].
func (s *Store) GetMeta(_ context.Context, name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.meta[name]
	if !ok {
		return nil, fmt.Errorf("meta %q: %w", name, store.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

// PutMeta implements [store.Store].
func (s *Store) PutMeta(_ context.Context, name string, old, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.meta[name]
	if ok != (old != nil) || !bytes.Equal(cur, old) {
		return fmt.Errorf("meta %q: %w", name, store.ErrConflict)
	}
	if value == nil {
		delete(s.meta, name)
	} else {
		s.meta[name] = append([]byte{}, value...)
	}
	return nil
}

// Dump implements [store.Store]. It copies the store under the lock and
// calls back after releasing it, so writers never wait for the callbacks.
func (s *Store) Dump(_ context.Context, meta func(string, []byte) error, key func(store.Key, []store.Version) error) error {
	type entry struct {
		k  store.Key
		vs []store.Version
	}
	s.mu.RLock()
	metaCopy := make(map[string][]byte, len(s.meta))
	for name, v := range s.meta {
		metaCopy[name] = bytes.Clone(v)
	}
	keys := make([]entry, 0, len(s.keys))
	for id, k := range s.keys {
		vs := make([]store.Version, 0, len(s.versions[id]))
		for _, v := range s.versions[id] {
			vs = append(vs, v.Clone())
		}
		keys = append(keys, entry{k.Clone(), vs})
	}
	s.mu.RUnlock()

	for _, name := range slices.Sorted(maps.Keys(metaCopy)) {
		if err := meta(name, metaCopy[name]); err != nil {
			return err
		}
	}
	slices.SortFunc(keys, func(a, b entry) int { return strings.Compare(a.k.ID, b.k.ID) })
	for _, e := range keys {
		slices.SortFunc(e.vs, byNumber)
		if err := key(e.k, e.vs); err != nil {
			return err
		}
	}
	return nil
}

func byNumber(a, b store.Version) int { return cmp.Compare(a.Number, b.Number) }

// Close implements [store.Store]; it drops every record.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.keys)
	clear(s.names)
	clear(s.versions)
	clear(s.meta)
	return nil
}
