package cli

import (
	"context"
	"io"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Remote is everything the commands ask of a key manager: every key
// operation (custodian.KeyManager) and operating the server. The client
// package provides it over the network; tests may provide it in-process.
type Remote interface {
	custodian.KeyManager

	// Health is the load balancers' view: initialized, sealed, version.
	Health(ctx context.Context) (*api.HealthResponse, error)
	// SealStatus is the seal's detail: type, shares, threshold, progress.
	SealStatus(ctx context.Context) (*custodian.Status, error)
	Init(ctx context.Context, opts custodian.InitOptions) (*custodian.InitResult, error)
	Unseal(ctx context.Context, share []byte) (*custodian.Status, error)
	Seal(ctx context.Context) error
	Rekey(ctx context.Context, opts custodian.RekeyOptions) (*custodian.InitResult, error)
	RotateRoot(ctx context.Context, opts custodian.RotateRootOptions) (*custodian.RootRotation, error)
	RotateDueKeys(ctx context.Context) (int, error)
	// Backup streams an encrypted backup to w and returns its size.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	Restore(ctx context.Context, r io.Reader, shares [][]byte) (*custodian.BackupResult, error)
	// NewRootToken replaces the root token (a quorum of shares under a
	// Shamir seal).
	NewRootToken(ctx context.Context, shares [][]byte) (custodian.Secret, error)
}

// ClientOptions say where the key manager is and how to reach it; Main
// fills them from CUSTODIAN_* variables and the global flags.
type ClientOptions struct {
	// Addr is the server's address (CUSTODIAN_ADDR, --addr).
	Addr string
	// Token is the root token (CUSTODIAN_TOKEN, or --token-file).
	Token string
	// CACertFile verifies the server's certificate (CUSTODIAN_CACERT, --ca-cert).
	CACertFile string
	// ClientCertFile and ClientKeyFile authenticate this client for mTLS
	// (CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY, --client-cert, --client-key).
	ClientCertFile, ClientKeyFile string
}
