package custodian

import (
	"context"
	"errors"
	"fmt"

	"github.com/keycustodian/custodian/internal/algo"
)

// SignOptions adjust Sign and Verify; nil means the defaults.
type SignOptions struct {
	// Algorithm overrides the key type's default: rsa-pss-sha256 for RSA
	// keys, ecdsa-sha256/384/512 for P-256/384/521, ed25519.
	Algorithm Algorithm
	// Digest says the message is already the digest of the algorithm's
	// hash (not available with ed25519).
	Digest bool
	// Version is the key version; zero means the primary version. Verify
	// needs the version the signature was made with (Signature.KeyVersion)
	// once the key has been rotated.
	Version int
}

// Signature is a signature in exactly the bytes a standard verifier
// expects: ASN.1 DER for ECDSA, 64 bytes for Ed25519, the RSA signature for
// RSA.
type Signature struct {
	Signature  []byte    `json:"signature"`
	KeyVersion int       `json:"key_version"`
	Algorithm  Algorithm `json:"algorithm"`
}

// Sign signs message with the named key's primary version (or
// opts.Version). On error it returns a nil *Signature.
func (c *Custodian) Sign(ctx context.Context, name string, message []byte, opts *SignOptions) (*Signature, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	var sig *Signature
	err := c.withSigner(ctx, name, opts, OpSign, func(k algo.Signer, alg Algorithm, v uint32) error {
		b, err := k.Sign(alg, message, opts.Digest)
		if err != nil {
			return err
		}
		sig = &Signature{Signature: b, KeyVersion: int(v), Algorithm: alg}
		return nil
	})
	if err != nil {
		return nil, opError(string(OpSign), name, err)
	}
	return sig, nil
}

// Verify checks a signature made by the named key: nil if it verifies,
// ErrInvalidSignature if it does not. Without opts.Version it checks
// against the primary version, so once the key has been rotated a
// signature made earlier fails unless the caller passes the version it was
// made with: keep Signature.KeyVersion beside the signature and give it as
// SignOptions.Version.
func (c *Custodian) Verify(ctx context.Context, name string, message, signature []byte, opts *SignOptions) error {
	if opts == nil {
		opts = &SignOptions{}
	}
	err := c.withSigner(ctx, name, opts, OpVerify, func(k algo.Signer, alg Algorithm, _ uint32) error {
		err := k.Verify(alg, message, signature, opts.Digest)
		if errors.Is(err, algo.ErrVerify) {
			return ErrInvalidSignature
		}
		return err
	})
	return opError(string(OpVerify), name, err)
}

func (c *Custodian) withSigner(ctx context.Context, name string, opts *SignOptions, op Operation, do func(algo.Signer, Algorithm, uint32) error) error {
	e, k, v, err := c.useVersion(ctx, name, opts.Version, op)
	if err != nil {
		return err
	}
	s, ok := k.(algo.Signer)
	if err := e.requireUsage(UsageSign); ok && err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: key type %s does not sign", ErrUnsupportedOperation, e.spec.Type)
	}
	alg := opts.Algorithm
	if alg == "" {
		alg = e.spec.DefaultSignature
	}
	if !e.spec.Allows(alg) {
		return fmt.Errorf("%w: key type %s cannot sign with %q", ErrUnsupportedOperation, e.spec.Type, alg)
	}
	return convertAlgoError(do(s, alg, v))
}

// opUsage is the usage each operation needs; operations absent from it
// (public-key) work for any usage.
var opUsage = map[Operation]KeyUsage{
	OpSign: UsageSign, OpVerify: UsageSign, OpMAC: UsageMAC, OpVerifyMAC: UsageMAC, OpAgree: UsageAgree,
}

// useVersion resolves a key, checks its state for op and loads a version.
func (c *Custodian) useVersion(ctx context.Context, name string, version int, op Operation) (*entry, algo.Key, uint32, error) {
	e, err := c.resolve(ctx, name)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := checkState(State(e.rec.State), op); err != nil {
		return nil, nil, 0, err
	}
	// Check usage before any material is opened.
	if u, ok := opUsage[op]; ok {
		if err := e.requireUsage(u); err != nil {
			return nil, nil, 0, err
		}
	}
	v, err := e.version(version, op)
	if err != nil {
		return nil, nil, 0, err
	}
	k, err := c.loadVersion(ctx, e, v)
	return e, k, v, err
}

// MACOptions adjust MAC and VerifyMAC; nil means the defaults.
type MACOptions struct {
	// Version is the key version; zero means the primary version.
	Version int
}

// MAC is a message authentication code.
type MAC struct {
	MAC        []byte    `json:"mac"`
	KeyVersion int       `json:"key_version"`
	Algorithm  Algorithm `json:"algorithm"`
}

// MAC computes the HMAC of message under the named key. On error it
// returns a nil *MAC.
func (c *Custodian) MAC(ctx context.Context, name string, message []byte, opts *MACOptions) (*MAC, error) {
	if opts == nil {
		opts = &MACOptions{}
	}
	var mac *MAC
	err := c.withMACer(ctx, name, opts, OpMAC, func(k algo.MACer, alg Algorithm, v uint32) error {
		tag, err := k.MAC(alg, message)
		if err != nil {
			return err
		}
		mac = &MAC{MAC: tag, KeyVersion: int(v), Algorithm: alg}
		return nil
	})
	if err != nil {
		return nil, opError(string(OpMAC), name, err)
	}
	return mac, nil
}

// VerifyMAC checks a MAC in constant time: nil if it verifies,
// ErrInvalidMAC if it does not. Like Verify, it uses the primary version
// unless opts.Version names the one the MAC was made with
// (MAC.KeyVersion).
func (c *Custodian) VerifyMAC(ctx context.Context, name string, message, mac []byte, opts *MACOptions) error {
	if opts == nil {
		opts = &MACOptions{}
	}
	err := c.withMACer(ctx, name, opts, OpVerifyMAC, func(k algo.MACer, alg Algorithm, _ uint32) error {
		err := k.VerifyMAC(alg, message, mac)
		if errors.Is(err, algo.ErrVerify) {
			return ErrInvalidMAC
		}
		return err
	})
	return opError(string(OpVerifyMAC), name, err)
}

func (c *Custodian) withMACer(ctx context.Context, name string, opts *MACOptions, op Operation, do func(algo.MACer, Algorithm, uint32) error) error {
	e, k, v, err := c.useVersion(ctx, name, opts.Version, op)
	if err != nil {
		return err
	}
	m, ok := k.(algo.MACer)
	if !ok {
		return fmt.Errorf("%w: key type %s does not compute MACs", ErrUnsupportedOperation, e.spec.Type)
	}
	return convertAlgoError(do(m, e.spec.DefaultAlgorithm(), v))
}
