package custodian

import (
	"context"
	"encoding/pem"
	"fmt"

	"github.com/keycustodian/custodian/internal/algo"
)

// PublicKeyFormat selects the encoding of an exported public key.
type PublicKeyFormat string

// Public key formats.
const (
	// PEM is a "PUBLIC KEY" block of SubjectPublicKeyInfo, what OpenSSL
	// and most libraries read. HPKE keys, which have no SPKI encoding, are
	// an "HPKE PUBLIC KEY" block of the KEM's serialized public key.
	PEM PublicKeyFormat = "pem"
	// DER is SubjectPublicKeyInfo DER (HPKE: the raw serialized key).
	DER PublicKeyFormat = "der"
)

// PublicKeyOptions adjust PublicKey; nil means PEM of the primary version.
type PublicKeyOptions struct {
	Format  PublicKeyFormat
	Version int
}

// PublicKey returns the public half of an asymmetric key.
func (c *Custodian) PublicKey(ctx context.Context, name string, opts *PublicKeyOptions) ([]byte, error) {
	b, err := c.publicKey(ctx, name, opts)
	return b, opError(string(OpPublicKey), name, err)
}

func (c *Custodian) publicKey(ctx context.Context, name string, opts *PublicKeyOptions) ([]byte, error) {
	if opts == nil {
		opts = &PublicKeyOptions{}
	}
	if opts.Format == "" {
		opts.Format = PEM
	}
	if opts.Format != PEM && opts.Format != DER {
		return nil, fmt.Errorf("%w: public key format %q; allowed: pem, der", ErrInvalidArgument, opts.Format)
	}
	e, k, _, err := c.useVersion(ctx, name, opts.Version, OpPublicKey)
	if err != nil {
		return nil, err
	}
	p, ok := k.(algo.PublicKeyer)
	if !ok {
		return nil, fmt.Errorf("%w: key type %s has no public key", ErrUnsupportedOperation, e.spec.Type)
	}
	der, err := p.PublicKey()
	if err != nil || opts.Format == DER {
		return der, err
	}
	blockType := "PUBLIC KEY"
	if p.PublicKeyIsRaw() {
		blockType = "HPKE PUBLIC KEY"
	}
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), nil
}

// ExportOptions adjust ExportKey; nil means the primary version.
type ExportOptions struct {
	Version int
}

// ExportKey returns a version's key material, only for keys created
// exportable: raw bytes for symmetric and HMAC keys, PKCS#8 DER for RSA,
// ECDSA, Ed25519, X25519, ECDH and DH keys, the KEM's private key bytes for
// HPKE. The same forms ImportKey takes.
func (c *Custodian) ExportKey(ctx context.Context, name string, opts *ExportOptions) (Secret, error) {
	s, err := c.export(ctx, name, opts)
	return s, opError(string(OpExport), name, err)
}

func (c *Custodian) export(ctx context.Context, name string, opts *ExportOptions) (Secret, error) {
	if opts == nil {
		opts = &ExportOptions{}
	}
	e, err := c.resolve(ctx, name)
	if err != nil {
		return Secret{}, err
	}
	if err := checkState(State(e.rec.State), OpExport); err != nil {
		return Secret{}, err
	}
	if !e.rec.Exportable {
		return Secret{}, fmt.Errorf("%w: key was not created exportable", ErrUnsupportedOperation)
	}
	v, err := e.version(opts.Version, OpExport)
	if err != nil {
		return Secret{}, err
	}
	vt, err := c.unsealed()
	if err != nil {
		return Secret{}, err
	}
	return c.openVersion(ctx, vt, e.rec, v)
}
