package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/store"
)

// restore is server.Options.Restore: it restores a backup into the store
// the running custodian is open on. The design is in the package doc
// ("Restoring into a running server"); in short:
//
//  1. Refuse unless the custodian is uninitialised.
//  2. Check the whole backup first: restore it into a store that keeps
//     nothing, while copying the bytes read to a spool file. A truncated
//     upload, a tampered chunk or a wrong key file or share fails here,
//     with nothing written.
//  3. Hold the gate, so that the custodian's own writes (an Init racing
//     the restore, say) wait, and restore from the spool file into the
//     real store. The client going away no longer stops it.
//  4. A keyfile seal unseals at once; a Shamir seal stays sealed until
//     the operators unseal with the backup's shares.
func (b *backend) restore(ctx context.Context, r io.Reader, shares [][]byte, log *slog.Logger) (*custodian.BackupResult, error) {
	st, err := b.c.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Initialized {
		return nil, fmt.Errorf("%w: restore needs a server that was never initialized: start one on an empty data directory or PostgreSQL schema", custodian.ErrAlreadyInitialized)
	}
	if _, ok := b.seal.(seal.Wrapper); ok && len(shares) > 0 {
		return nil, fmt.Errorf("%w: a %s seal takes no shares", custodian.ErrInvalidArgument, b.seal.Type())
	}
	opts := custodian.RestoreOptions{Seal: b.seal, Shares: shares}

	spool, err := os.CreateTemp(b.spoolDir, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: spool file: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	check := opts
	check.Store = discardStore{}
	if _, err := custodian.Restore(ctx, io.TeeReader(r, spool), check); err != nil {
		return nil, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("restore: spool file: %w", err)
	}

	b.gate.Lock()
	if b.closed {
		b.gate.Unlock()
		return nil, custodian.ErrClosed
	}
	opts.Store = b.raw
	res, err := custodian.Restore(context.WithoutCancel(ctx), bufio.NewReader(spool), opts)
	b.gate.Unlock()
	if err != nil {
		log.Error("restore failed after the backup checked out: the store may hold part of it; stop the server and restore into an empty one", "err", err)
		return nil, err
	}
	log.Info("restored a backup", "keys", res.Keys, "meta", res.Meta, "seal", b.seal.Type())
	if _, ok := b.seal.(seal.Wrapper); ok {
		if _, err := b.c.Unseal(ctx, nil); err != nil {
			return res, fmt.Errorf("restored, but unsealing failed: %w", err)
		}
	} else {
		// Someone may have unsealed with a quorum while the records
		// were still arriving; start from a clean, complete view.
		if err := b.c.Seal(ctx); err != nil {
			return res, err
		}
		// Reading the status reads the restored root record: the
		// custodian then refuses key operations as sealed, not as
		// uninitialized, until the operators unseal.
		if _, err := b.c.Status(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// discardStore is an empty store that keeps nothing it is given: Restore
// into it checks a backup end to end without writing it anywhere.
type discardStore struct{}

var _ store.Store = discardStore{}

func (discardStore) Create(_ context.Context, k store.Key, _ []store.Version) (store.Key, error) {
	return k, nil
}
func (discardStore) Get(context.Context, string) (store.Key, error) {
	return store.Key{}, store.ErrNotFound
}
func (discardStore) Lookup(context.Context, string) (store.Key, error) {
	return store.Key{}, store.ErrNotFound
}
func (discardStore) List(context.Context, store.ListOptions) ([]store.Key, error) { return nil, nil }
func (discardStore) Update(context.Context, store.Key, []store.Version) (store.Key, error) {
	return store.Key{}, store.ErrNotFound
}
func (discardStore) Version(context.Context, string, uint32) (store.Version, error) {
	return store.Version{}, store.ErrNotFound
}
func (discardStore) Versions(context.Context, string) ([]store.Version, error) { return nil, nil }
func (discardStore) Scan(context.Context, string, int) ([]store.Key, error)    { return nil, nil }
func (discardStore) GetMeta(context.Context, string) ([]byte, error)           { return nil, store.ErrNotFound }
func (discardStore) PutMeta(context.Context, string, []byte, []byte) error     { return nil }
func (discardStore) Dump(context.Context, func(string, []byte) error, func(store.Key, []store.Version) error) error {
	return nil
}
func (discardStore) Close() error { return nil }
