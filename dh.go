package custodian

import (
	"context"
	"fmt"

	"github.com/keycustodian/custodian/internal/dh"
)

// DHGenerateOptions configure GenerateDHParameters: Bits (at least 2048),
// SafePrime (p = 2q+1, the seed's kind of parameters: one second to several
// minutes) or DSA-style p, q, g (about a second), and an optional Progress
// callback.
type DHGenerateOptions = dh.GenerateOptions

// DHProgress is what the Progress callback of DHGenerateOptions receives.
type DHProgress = dh.Progress

// DHParameters are finite-field Diffie-Hellman domain parameters.
type DHParameters struct {
	group *dh.Group
}

// GenerateDHParameters generates fresh Diffie-Hellman parameters, as the
// original module's generate_diffie_hellman_params_and_key did on every
// call. It is slow and CPU-bound, so it honours ctx and reports progress:
// never call it on a request path. Stored DH keys (dh-ffdhe2048/3072/4096)
// use the RFC 7919 groups instead, which need no generation and which peers
// such as TLS stacks already trust; fresh parameters are for systems that
// insist on their own.
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

// PEM returns the parameters as a PKCS#3 "DH PARAMETERS" block, readable by
// `openssl dhparam` and Python cryptography's load_pem_parameters.
func (p *DHParameters) PEM() []byte { return p.group.ParametersPEM() }
