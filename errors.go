package custodian

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error the library returns wraps one of them, with
// the operation and the key's name, so callers test with errors.Is. The
// server maps each to a stable code and the client maps the code back, so
// errors.Is works over the network too.
var (
	// ErrKeyNotFound: no key has that name.
	ErrKeyNotFound = errors.New("key not found")
	// ErrKeyExists: a live key already has that name.
	ErrKeyExists = errors.New("key already exists")
	// ErrKeyDisabled: the key is disabled; enable it to use it again.
	ErrKeyDisabled = errors.New("key is disabled")
	// ErrKeyRevoked: the key was revoked (the seed's invalidate_key); no
	// operation will ever use it again.
	ErrKeyRevoked = errors.New("key is revoked")
	// ErrKeyPendingDeletion: the key is scheduled for deletion; cancel the
	// deletion to use it again.
	ErrKeyPendingDeletion = errors.New("key is pending deletion")
	// ErrKeyDestroyed: the key's material was destroyed.
	ErrKeyDestroyed = errors.New("key is destroyed")
	// ErrInvalidKeyState: the operation needs the key in another state
	// (cancelling a deletion that was never scheduled, destroying a key whose
	// deletion window is still open). State-specific refusals wrap the
	// state's own sentinel (ErrKeyDisabled, ...) as well.
	ErrInvalidKeyState = errors.New("operation not allowed in the key's state")
	// ErrKeyVersionNotAllowed: the ciphertext, signature or MAC is from a key
	// version below the key's minimum decryption version.
	ErrKeyVersionNotAllowed = errors.New("key version is below the minimum decryption version")
	// ErrInvalidCiphertext: the ciphertext is malformed, was modified, names
	// no known key or version, or the associated data differs. It is
	// deliberately one error for every cause.
	ErrInvalidCiphertext = errors.New("invalid ciphertext")
	// ErrInvalidSignature: the signature does not verify.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrInvalidMAC: the MAC does not verify.
	ErrInvalidMAC = errors.New("invalid mac")
	// ErrUnsupportedOperation: the key's type cannot do this (sign with an
	// AES key, export a non-exportable key, an algorithm the type lacks).
	ErrUnsupportedOperation = errors.New("unsupported operation")
	// ErrInvalidArgument: caller input is malformed or out of range.
	ErrInvalidArgument = errors.New("invalid argument")

	// ErrSealed: the custodian does not hold the root key; unseal it.
	ErrSealed = errors.New("custodian is sealed")
	// ErrNotInitialized: the store has no root key yet; initialise it.
	ErrNotInitialized = errors.New("custodian is not initialized")
	// ErrAlreadyInitialized: the store already has a root key.
	ErrAlreadyInitialized = errors.New("custodian is already initialized")
	// ErrInvalidShares: the unseal shares (or key file) given do not
	// reconstruct the root key: wrong, mixed or repeated shares. The
	// error never says which share was wrong.
	ErrInvalidShares = errors.New("the shares do not reconstruct the root key")
	// ErrIntegrity: a stored record fails its check under the root key:
	// the store was modified outside KeyCustodian, or is damaged.
	ErrIntegrity = errors.New("stored record fails its integrity check")
	// ErrInvalidToken: the root token given is missing or wrong.
	ErrInvalidToken = errors.New("missing or invalid token")
	// ErrClosed: the Custodian was closed.
	ErrClosed = errors.New("custodian is closed")
)

// Error is the error type of every failed operation on a key. It names the
// operation and the key; Err wraps the sentinel and detail.
type Error struct {
	Op  string // "encrypt", "rotate", ...
	Key string // the key's name, or its id when only the id is known
	Err error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + strconv.Quote(e.Key) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// opError wraps err with the operation and key, unless it already is one.
func opError(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Key: key, Err: err}
}
