package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
)

// DB returns s's bbolt database, so that benchmarks can commit beside the
// store on the same file.
func DB(s *Store) *bolt.DB { return s.db }

// WriteRaw runs fn through s's group commit, as Create does its puts.
func WriteRaw(s *Store, fn func(*bolt.Tx) error) error {
	_, err := s.write(context.Background(), func(tx *bolt.Tx) (store.Key, error) {
		if err := fn(tx); err != nil {
			return store.Key{}, &txFailure{err}
		}
		return store.Key{}, nil
	})
	return err
}
