package dh

import "errors"

// ErrInvalidPublicKey reports a peer public value that must not be used: out
// of the range [2, p-2], outside the subgroup of prime order q, from another
// group, or one that yields a shared secret of 1.
var ErrInvalidPublicKey = errors.New("dh: invalid public key")

// ErrInvalidPrivateKey reports a private key whose exponent is out of range
// for its group.
var ErrInvalidPrivateKey = errors.New("dh: invalid private key")

// ErrInvalidParameters reports domain parameters (or generation options)
// that are malformed, too small or too large, not prime where they must be,
// or whose generator is not of the stated order.
var ErrInvalidParameters = errors.New("dh: invalid parameters")
