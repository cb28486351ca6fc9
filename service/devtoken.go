package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/secret"
)

// devRootToken returns the dev server's root token, and keeps it in
// DATA/dev-root-token (mode 0600) so that a restart prints the same one.
//
// A new store is initialised here, and the token Init returns is written.
// An initialised store's token is read back from the file and checked
// against the store; if the file is missing (a crash between Init and the
// write, or someone deleted it) or holds a token the store no longer
// accepts, a new token replaces the old one (NewRootToken: a keyfile seal
// needs no shares), and the file is written again. The token never goes
// to the logs; Start prints it to its out writer.
func devRootToken(ctx context.Context, c *custodian.Custodian, dataDir string, log *slog.Logger) (custodian.Secret, error) {
	path := filepath.Join(dataDir, DevTokenFile)
	st, err := c.Status(ctx)
	if err != nil {
		return custodian.Secret{}, err
	}
	if !st.Initialized {
		res, err := c.Init(ctx, custodian.InitOptions{})
		if err != nil {
			return custodian.Secret{}, fmt.Errorf("dev mode: initialize: %w", err)
		}
		log.Info("dev mode: initialized a new store", "data_dir", dataDir)
		return res.RootToken, writeToken(path, res.RootToken)
	}
	tok, err := readToken(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Warn("dev mode: the root token file is missing; making a new root token", "path", path)
	case err != nil:
		return custodian.Secret{}, err
	default:
		err := c.CheckRootToken(ctx, custodian.Reveal(tok))
		if err == nil {
			return tok, nil
		}
		if !errors.Is(err, custodian.ErrInvalidToken) {
			return custodian.Secret{}, fmt.Errorf("dev mode: check the root token: %w", err)
		}
		log.Warn("dev mode: the root token file holds a token the store no longer accepts; making a new root token", "path", path)
	}
	tok, err = c.NewRootToken(ctx, nil)
	if err != nil {
		return custodian.Secret{}, fmt.Errorf("dev mode: new root token: %w", err)
	}
	return tok, writeToken(path, tok)
}

// readToken reads a token file, refusing one that group or others may
// read or write, as keyfile.Open refuses such a key file.
func readToken(path string) (custodian.Secret, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return custodian.Secret{}, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return custodian.Secret{}, fmt.Errorf("dev root token file %s has mode %v: others may have read it; remove it (a new token is made) or chmod 600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return custodian.Secret{}, err
	}
	tok := secret.New(bytes.TrimSpace(b))
	clear(b)
	return tok, nil
}

// writeToken replaces the token file atomically: a new file written with
// mode 0600 and synced, then renamed over the old one.
func writeToken(path string, tok custodian.Secret) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("dev root token file: %w", err)
	}
	_, err = f.Write(append(append([]byte(nil), custodian.Reveal(tok)...), '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dev root token file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
