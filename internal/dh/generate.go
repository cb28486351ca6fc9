package dh

import (
	"context"
	"fmt"
	"math/big"
	"time"
)

// GenerateOptions configures [GenerateParameters].
type GenerateOptions struct {
	// Bits is the size of p: 2048 to 8192 for safe primes, 2048 or 3072
	// (the FIPS 186-4 sizes with a 256-bit q) otherwise.
	Bits int
	// SafePrime selects p = 2q+1 with g = 2, the kind of group Python
	// cryptography's dh.generate_parameters(2, 2048) (OpenSSL's
	// DH_generate_parameters) makes, and what the Python KeyCustodian's
	// parameters look like. It takes from about a second to a minute or
	// more for 2048 bits. Without it, p and q are
	// FIPS 186-4 appendix A.1.1.2 probable primes with a 256-bit q and g
	// comes from appendix A.2.1, which takes about a second.
	SafePrime bool
	// Progress, if set, is called before each candidate gets a
	// probabilistic primality test, from the calling goroutine.
	Progress func(Progress)
}

// Progress reports how far a [GenerateParameters] call has got.
type Progress struct {
	// Candidates counts the numbers given a primality test so far,
	// including this one.
	Candidates int
	// Elapsed is the time since the call started.
	Elapsed time.Duration
}

// check validates the options, as GenerateParameters would.
func (o GenerateOptions) check() error {
	if o.SafePrime {
		if o.Bits < minPrimeBits || o.Bits > maxPrimeBits {
			return fmt.Errorf("%w: %d-bit safe prime requested; %d to %d bits are allowed",
				ErrInvalidParameters, o.Bits, minPrimeBits, maxPrimeBits)
		}
		return nil
	}
	if o.Bits != 2048 && o.Bits != 3072 {
		return fmt.Errorf("%w: %d-bit FIPS 186-4 parameters requested; 2048 or 3072 bits are allowed (use SafePrime for other sizes)",
			ErrInvalidParameters, o.Bits)
	}
	return nil
}

// GenerateParameters creates a fresh group. It is slow (see
// [GenerateOptions]) and belongs in setup tools, never on a request path;
// the RFC 7919 groups are the better choice wherever peers accept them.
// Cancelling ctx stops the search before the next candidate, and the
// returned error wraps ctx.Err(). Invalid options wrap
// [ErrInvalidParameters].
func GenerateParameters(ctx context.Context, opts GenerateOptions) (*Group, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return generateParameters(ctx, opts)
}

// generateParameters skips the size checks, so tests can use small sizes.
func generateParameters(ctx context.Context, opts GenerateOptions) (*Group, error) {
	t := &tracker{ctx: ctx, start: time.Now(), report: opts.Progress}
	if opts.SafePrime {
		p, q, err := searchSafePrime(opts.Bits, t)
		if err != nil {
			return nil, err
		}
		return newGroup("", p, big.NewInt(2), q, true), nil
	}
	r, err := generateFIPS186(opts.Bits, 256, t)
	if err != nil {
		return nil, err
	}
	return newGroup("", r.p, generatorFIPS186(r.p, r.q), r.q, false), nil
}

// tracker counts candidates, reports progress and notices cancellation.
type tracker struct {
	ctx        context.Context
	start      time.Time
	report     func(Progress)
	candidates int
}

// next is called before each primality test.
func (t *tracker) next() error {
	if err := t.ctx.Err(); err != nil {
		return fmt.Errorf("dh: generate parameters: stopped after %d candidates: %w", t.candidates, err)
	}
	t.candidates++
	if t.report != nil {
		t.report(Progress{Candidates: t.candidates, Elapsed: time.Since(t.start)})
	}
	return nil
}
