package custodian

import (
	"context"
	"fmt"

	"github.com/keycustodian/custodian/internal/dh"
)

// DHGenerateOptions configure GenerateDHParameters: SafePrime (p = 2q+1
// with g = 2, the seed's kind of parameters: one second to several minutes)
// with Bits from 2048 to 8192, or else DSA-style p, q, g (FIPS 186-4, a
// 256-bit q, about a second) with Bits 2048 or 3072 only; and an optional
// Progress callback.
type DHGenerateOptions = dh.GenerateOptions

// DHProgress is what the Progress callback of DHGenerateOptions receives.
type DHProgress = dh.Progress

// DHParameters are finite-field Diffie-Hellman domain parameters, freshly
// generated. They can be exported (PEM) and nothing else: no key of this
// package is made in them, because stored DH keys use the RFC 7919 groups
// (see GenerateDHParameters).
type DHParameters struct {
	group *dh.Group
}

// GenerateDHParameters generates fresh Diffie-Hellman parameters, as the
// original module's generate_diffie_hellman_params_and_key did on every
// call. It is slow and CPU-bound, so it honours ctx and reports progress:
// never call it on a request path.
//
// The result is for export only (DHParameters.PEM), for systems that
// insist on their own parameters and make their keys elsewhere. Stored DH
// keys (dh-ffdhe2048/3072/4096) always use the RFC 7919 groups: validated,
// well-known groups that need no generation and that peers such as TLS
// stacks already trust, where a key in arbitrary parameters would need
// them validated (primality, subgroup order) wherever the key is loaded or
// a peer's value checked against them, at a cost in time and in risk.
func GenerateDHParameters(ctx context.Context, opts DHGenerateOptions) (*DHParameters, error) {
	g, err := dh.GenerateParameters(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, opError("generate-dh-parameters", "", err)
		}
		return nil, opError("generate-dh-parameters", "", fmt.Errorf("%w: %w", ErrInvalidArgument, err))
	}
	return &DHParameters{group: g}, nil
}

// Bits is the size of the prime p.
func (p *DHParameters) Bits() int { return p.group.Bits() }

// PEM returns the parameters in the form OpenSSL writes for their kind:
// safe-prime parameters (SafePrime) as a PKCS#3 "DH PARAMETERS" block, p
// and g; DSA-style parameters as an ANSI X9.42 "X9.42 DH PARAMETERS" block
// (DomainParameters: p, g and q, which PKCS#3 cannot carry). Both are read
// by `openssl dhparam`, `openssl pkeyparam` and Python cryptography's
// load_pem_parameters.
func (p *DHParameters) PEM() []byte { return p.group.ParametersPEM() }
