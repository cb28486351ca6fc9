package custodian

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/secret"
)

// AgreeOptions adjust Agree; nil means the defaults.
type AgreeOptions struct {
	// Version is the key version; zero means the primary version.
	Version int
}

// Agree performs key agreement between the named key and a peer's public
// key, and returns the raw shared secret. peer is PEM or DER
// SubjectPublicKeyInfo (or, for X25519 and ECDH, the raw point). Peer keys
// are validated: points on the curve, DH values in the prime-order subgroup.
//
// A raw shared secret is not a uniformly random key: feed it to a KDF, or
// use DeriveKey, which does that and keeps the result inside.
func (c *Custodian) Agree(ctx context.Context, name string, peer []byte, opts *AgreeOptions) (Secret, error) {
	s, err := c.agree(ctx, name, peer, opts)
	return s, opError(string(OpAgree), name, err)
}

func (c *Custodian) agree(ctx context.Context, name string, peer []byte, opts *AgreeOptions) (Secret, error) {
	if opts == nil {
		opts = &AgreeOptions{}
	}
	e, k, _, err := c.useVersion(ctx, name, opts.Version, OpAgree)
	if err != nil {
		return Secret{}, err
	}
	a, ok := k.(algo.Agreer)
	if !ok {
		return Secret{}, fmt.Errorf("%w: key type %s does not do key agreement", ErrUnsupportedOperation, e.spec.Type)
	}
	s, err := a.Agree(peer)
	return s, convertAlgoError(err)
}

// DeriveOptions adjust DeriveKey.
type DeriveOptions struct {
	// Version of the agreeing key; zero means the primary version.
	Version int
	// Salt and Info are HKDF-SHA-256's salt and info (RFC 5869). Both
	// sides of the agreement must use the same values.
	Salt, Info []byte
	// Key holds the new key's settings. Its Type must be empty or
	// aes256-gcm.
	Key CreateOptions
}

// DeriveKey agrees a shared secret with peer like Agree, derives a 32-byte
// key from it with HKDF-SHA-256, and stores that as a new aes256-gcm key
// named newName. The shared secret never leaves the Custodian.
func (c *Custodian) DeriveKey(ctx context.Context, name string, peer []byte, newName string, opts *DeriveOptions) (*Key, error) {
	if opts == nil {
		opts = &DeriveOptions{}
	}
	if opts.Key.Type != "" && opts.Key.Type != AES256GCM {
		return nil, opError("derive-key", name, fmt.Errorf("%w: derived keys are aes256-gcm, not %s", ErrInvalidArgument, opts.Key.Type))
	}
	shared, err := c.agree(ctx, name, peer, &AgreeOptions{Version: opts.Version})
	if err != nil {
		return nil, opError("derive-key", name, err)
	}
	defer shared.Wipe()
	derived, err := hkdf.Key(sha256.New, Reveal(shared), opts.Salt, string(opts.Info), 32)
	if err != nil {
		return nil, opError("derive-key", name, err)
	}
	m := secret.Own(derived)
	defer m.Wipe()
	create := opts.Key
	create.Type = AES256GCM
	k, err := c.create(ctx, newName, &create, &m)
	return k, opError("derive-key", newName, err)
}
