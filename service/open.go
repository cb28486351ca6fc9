package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/postgres"
)

// backend is what the service opens under the HTTP server: the store, the
// seal and the custodian over them.
type backend struct {
	// raw is the store itself; only Restore writes to it directly.
	raw store.Store
	// gate is held for writing while a restore writes to raw, so that
	// the custodian's own writes (it writes through gatedStore) wait.
	gate *sync.RWMutex
	seal seal.Seal
	c    *custodian.Custodian
	// spoolDir is where a restore keeps the backup while checking it.
	spoolDir string
	// closed is set, under gate, when the service stops.
	closed bool
}

// openBackend opens the configured store and seal and a custodian over
// them. A keyfile seal whose file does not exist gets a new one, which is
// removed again if the store turns out to need another.
func openBackend(ctx context.Context, cfg Config, log *slog.Logger) (*backend, error) {
	raw, spool, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sl, created, err := openSeal(cfg)
	if err != nil {
		raw.Close()
		return nil, err
	}
	b := &backend{raw: raw, gate: new(sync.RWMutex), seal: sl, spoolDir: spool}
	b.c, err = custodian.Open(ctx, custodian.Options{Store: gatedStore{Store: raw, gate: b.gate}, Seal: sl, Logger: log})
	if err != nil {
		raw.Close()
		if created {
			os.Remove(cfg.KeyFilePath())
			if errors.Is(err, custodian.ErrInvalidShares) {
				return nil, fmt.Errorf("the store is initialised but its key file %s did not exist: the keys cannot be unsealed without the original", cfg.KeyFilePath())
			}
		}
		return nil, err
	}
	if created {
		log.Info("created a new key file for the keyfile seal", "path", cfg.KeyFilePath())
	}
	return b, nil
}

// openStore opens bbolt in the data directory, or PostgreSQL, and returns
// with it the directory a restore may spool a backup to.
func openStore(ctx context.Context, cfg Config) (store.Store, string, error) {
	if cfg.PostgresDSN != "" {
		st, err := postgres.Open(ctx, cfg.PostgresDSN, postgres.Options{Schema: cfg.PostgresSchema})
		return st, os.TempDir(), err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("data directory: %w", err)
	}
	st, err := bolt.Open(filepath.Join(cfg.DataDir, custodian.StoreFile), bolt.Options{})
	return st, cfg.DataDir, err
}

// openSeal returns the configured seal, and whether it created the key
// file.
func openSeal(cfg Config) (seal.Seal, bool, error) {
	if cfg.SealType() == SealShamir {
		return shamir.Seal{}, false, nil
	}
	path := cfg.KeyFilePath()
	s, err := keyfile.Open(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("key file directory: %w", err)
	}
	s, err = keyfile.Create(path)
	return s, err == nil, err
}

// close closes the custodian, and with it the store. A restore writing to
// the store is let finish first, and none starts after. The gate is not
// held while the custodian closes: its background tasks may be writing,
// and it waits for them.
func (b *backend) close() error {
	b.gate.Lock()
	b.closed = true
	b.gate.Unlock()
	return b.c.Close()
}

// gatedStore is the store as the custodian sees it while a restore may
// write beside it. Reads pass, so that health and status answer during a
// restore. Key writes wait for the restore to end. A meta write (the root
// record: Init, Rekey, RotateRoot, a new root token) fails at once with
// store.ErrConflict, as if another process had written first, which it
// has; waiting would hold the custodian's seal lock, and Status with it,
// for the whole restore. Init reports it as ErrAlreadyInitialized.
type gatedStore struct {
	store.Store
	gate *sync.RWMutex
}

func (g gatedStore) Create(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	g.gate.RLock()
	defer g.gate.RUnlock()
	return g.Store.Create(ctx, k, versions)
}

func (g gatedStore) Update(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	g.gate.RLock()
	defer g.gate.RUnlock()
	return g.Store.Update(ctx, k, versions)
}

func (g gatedStore) PutMeta(ctx context.Context, name string, old, value []byte) error {
	if !g.gate.TryRLock() {
		return fmt.Errorf("a restore is writing the store: %w", store.ErrConflict)
	}
	defer g.gate.RUnlock()
	return g.Store.PutMeta(ctx, name, old, value)
}
