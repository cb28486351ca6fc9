// Package seal defines how KeyCustodian protects its root key: the one
// key from which every other key in the store is reachable.
//
// A process starts sealed: it holds the store but not the root key, and
// can do nothing with keys. Unsealing gives it the root key, which opens
// the keyring (the data-encryption keys that seal every record); sealing
// drops both from memory.
//
// Two kinds of seal exist:
//
//   - a [Splitter] (package seal/shamir) never stores the root key: it is
//     split into shares held by people, and unsealing collects a
//     threshold of them;
//   - a [Wrapper] (package seal/keyfile; later an HSM) keeps a key of its
//     own that wraps the root key, and unseals without an operator.
//
// Implementations are used by the custodian package; programs choose one
// and pass it to custodian.Open.
package seal

import "context"

// Seal protects the root key.
type Seal interface {
	// Type is the kind's stable name ("shamir", "keyfile"). It is recorded
	// in the store at initialisation; a store refuses another kind.
	Type() string
}

// Splitter is a seal whose root key exists only as shares.
type Splitter interface {
	Seal
	// Split splits root into n shares of which any threshold recombine it.
	Split(root []byte, n, threshold int) ([][]byte, error)
	// Combine recombines shares. Shares of different secrets combine to
	// garbage without error: the caller checks the result.
	Combine(shares [][]byte) ([]byte, error)
}

// Wrapper is a seal that wraps the root key under a key of its own, so
// that the custodian can unseal itself. The wrapped root key is kept in
// the store; the wrapping key never is.
type Wrapper interface {
	Seal
	// Wrap encrypts root. The result is stored and later given to Unwrap.
	Wrap(ctx context.Context, root []byte) ([]byte, error)
	// Unwrap recovers the root key from what Wrap returned. It fails,
	// never returns garbage, when wrapped was made under another key.
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}
