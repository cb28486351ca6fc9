package custodian

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store/bolt"
)

// Files of the embedded default in its data directory.
const (
	// StoreFile is the bbolt file that holds the keys, sealed.
	StoreFile = "custodian.db"
	// KeyFile holds the key that wraps the root key.
	KeyFile = "unseal.key"
)

// OpenDir opens the embedded default in dir, with no set-up: one bbolt
// file (StoreFile) sealed under a root key that a key file (KeyFile)
// unseals. On first use it creates the directory (mode 0700), the key file
// (0600) and the store, and initialises it; afterwards it opens and
// unseals them. opts.Store and opts.Seal must be nil.
//
// The key file next to the store is convenient, not strong: whoever
// copies the directory has every key. For production, keep the key file
// elsewhere (Open with keyfile.Open) or use a Shamir seal.
func OpenDir(ctx context.Context, dir string, opts Options) (*Custodian, error) {
	if opts.Store != nil || opts.Seal != nil {
		return nil, fmt.Errorf("%w: OpenDir chooses the store and the seal; use Open for others", ErrInvalidArgument)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, KeyFile)
	s, err := keyfile.Open(keyPath)
	created := false
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, StoreFile)); serr == nil {
			return nil, fmt.Errorf("%s exists but its key file %s is missing: the keys cannot be unsealed without it", filepath.Join(dir, StoreFile), keyPath)
		}
		s, err = keyfile.Create(keyPath)
		created = true
	}
	if err != nil {
		return nil, err
	}
	st, err := bolt.Open(filepath.Join(dir, StoreFile), bolt.Options{})
	if err != nil {
		return nil, err
	}
	opts.Store, opts.Seal = st, s
	c, err := Open(ctx, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	if status, err := c.Status(ctx); err != nil || !status.Initialized {
		if err == nil {
			_, err = c.Init(ctx, InitOptions{})
		}
		if err != nil {
			c.Close()
			if created {
				os.Remove(keyPath)
			}
			return nil, err
		}
	}
	return c, nil
}
