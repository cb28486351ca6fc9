package dh

import (
	"context"
	"errors"
	"flag"
	"math/big"
	"os"
	"testing"
	"time"
)

var slowTests = flag.Bool("dh.slow", os.Getenv("CUSTODIAN_SLOW_TESTS") == "1",
	"run 2048-bit safe-prime generation (seconds to minutes); also CUSTODIAN_SLOW_TESTS=1")

func TestGenerateOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		opts GenerateOptions
		ok   bool
	}{
		{GenerateOptions{Bits: 2048}, true},
		{GenerateOptions{Bits: 3072}, true},
		{GenerateOptions{Bits: 4096}, false},
		{GenerateOptions{Bits: 1024}, false},
		{GenerateOptions{}, false},
		{GenerateOptions{Bits: 2048, SafePrime: true}, true},
		{GenerateOptions{Bits: 5000, SafePrime: true}, true},
		{GenerateOptions{Bits: 1536, SafePrime: true}, false},
		{GenerateOptions{Bits: 8200, SafePrime: true}, false},
	} {
		err := tc.opts.check()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidParameters)) {
			t.Errorf("%+v: err = %v", tc.opts, err)
		}
	}
	// GenerateParameters applies the check before any work.
	if _, err := GenerateParameters(context.Background(), GenerateOptions{Bits: 512, SafePrime: true}); !errors.Is(err, ErrInvalidParameters) {
		t.Errorf("512-bit request: err = %v", err)
	}
}

// checkGeneratedGroup verifies the structure of a fresh group and that it
// survives its own encoding and full validation.
func checkGeneratedGroup(t *testing.T, g *Group, bits, qBits int) {
	t.Helper()
	p, q, gen := g.P(), g.Q(), g.G()
	if p.BitLen() != bits || q.BitLen() != qBits {
		t.Fatalf("p has %d bits, q %d; want %d and %d", p.BitLen(), q.BitLen(), bits, qBits)
	}
	if !p.ProbablyPrime(20) || !q.ProbablyPrime(20) {
		t.Fatal("p or q is not prime")
	}
	if new(big.Int).Mod(new(big.Int).Sub(p, big.NewInt(1)), q).Sign() != 0 {
		t.Fatal("q does not divide p-1")
	}
	if gen.Cmp(big.NewInt(1)) <= 0 || new(big.Int).Exp(gen, q, p).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("g does not have order q")
	}
	if g.Name() != "" {
		t.Errorf("fresh group named %q", g.Name())
	}
	a, b := mustGenerateKey(t, g), mustGenerateKey(t, g)
	s1, err1 := a.SharedSecret(b.PublicKey())
	s2, err2 := b.SharedSecret(a.PublicKey())
	if err1 != nil || err2 != nil || string(s1) != string(s2) {
		t.Fatalf("agreement failed: %v, %v", err1, err2)
	}
}

func TestGenerateFIPS186(t *testing.T) {
	t.Parallel()
	start := time.Now()
	var calls int
	g, err := GenerateParameters(context.Background(), GenerateOptions{
		Bits:     2048,
		Progress: func(Progress) { calls++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2048-bit FIPS 186-4 parameters: %d candidates, %v", calls, time.Since(start))
	checkGeneratedGroup(t, g, 2048, 256)
	if calls == 0 {
		t.Error("Progress was never called")
	}
	again, err := ParseParameters(g.ParametersPEM())
	if err != nil || !again.Equal(g) {
		t.Fatalf("fresh parameters do not survive ParseParameters: %v", err)
	}
}

func TestGenerateSafePrimeSmall(t *testing.T) {
	// 512 bits keeps the search to a fraction of a second; only tests can
	// ask generateParameters for less than 2048.
	g, err := generateParameters(context.Background(), GenerateOptions{Bits: 512, SafePrime: true})
	if err != nil {
		t.Fatal(err)
	}
	checkGeneratedGroup(t, g, 512, 511)
	p, q := g.P(), g.Q()
	if want := new(big.Int).Rsh(p, 1); q.Cmp(want) != 0 {
		t.Error("q is not (p-1)/2")
	}
	if r := new(big.Int).Mod(p, big.NewInt(24)).Int64(); r != 23 {
		t.Errorf("p ≡ %d (mod 24), want 23", r)
	}
	if g.G().Int64() != 2 || !g.safePrime {
		t.Error("safe-prime group without g = 2")
	}
}

func TestGenerateSafePrimeCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []Progress
	start := time.Now()
	_, err := GenerateParameters(ctx, GenerateOptions{
		Bits:      2048,
		SafePrime: true,
		Progress: func(p Progress) {
			seen = append(seen, p)
			if p.Candidates == 3 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(seen) != 3 || seen[2].Candidates != 3 || seen[2].Elapsed <= 0 {
		t.Errorf("progress reports %+v, want exactly 3", seen)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestGenerateCancelledContext(t *testing.T) {
	for _, safe := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		<-ctx.Done()
		_, err := GenerateParameters(ctx, GenerateOptions{Bits: 2048, SafePrime: safe})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SafePrime %v: err = %v, want context.DeadlineExceeded", safe, err)
		}
	}
}

func TestGenerateSafePrime2048(t *testing.T) {
	if !*slowTests {
		t.Skip("2048-bit safe-prime generation takes seconds to minutes; run with go test ./internal/dh -args -dh.slow, or CUSTODIAN_SLOW_TESTS=1")
	}
	start := time.Now()
	var last Progress
	g, err := GenerateParameters(context.Background(), GenerateOptions{
		Bits: 2048, SafePrime: true, Progress: func(p Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2048-bit safe prime: %d candidates, %v", last.Candidates, time.Since(start))
	checkGeneratedGroup(t, g, 2048, 2047)
	if again, err := ParseParameters(g.ParametersPEM()); err != nil || !again.Equal(g) {
		t.Fatalf("fresh parameters do not survive ParseParameters: %v", err)
	}
}

func TestSievePrimes(t *testing.T) {
	t.Parallel()
	primes := sievePrimes()
	if primes[0].r != 5 || primes[len(primes)-1].r != 65521 || len(primes) != 6542-2 {
		t.Fatalf("sieve primes: first %d, last %d, count %d", primes[0].r, primes[len(primes)-1].r, len(primes))
	}
	for _, sp := range primes[:100] {
		if safeStep*sp.stepInv%sp.r != 1 {
			t.Fatalf("bad inverse of 12 mod %d", sp.r)
		}
	}
	// Every candidate the sieve passes is free of small factors in both q
	// and 2q+1, and every one it rejects has one.
	q0, err := randomSafeStart(511)
	if err != nil {
		t.Fatal(err)
	}
	composite := sieveSafeWindow(q0)
	for k := range 500 {
		q := new(big.Int).Add(q0, big.NewInt(int64(safeStep*k)))
		p := new(big.Int).Add(new(big.Int).Lsh(q, 1), big.NewInt(1))
		if got := hasSmallFactor(q) || hasSmallFactor(p); got != composite[k] {
			t.Fatalf("k = %d: sieve says %v, trial division %v", k, composite[k], got)
		}
	}
}

func hasSmallFactor(n *big.Int) bool {
	m := new(big.Int)
	for _, sp := range sievePrimes() {
		if m.Mod(n, new(big.Int).SetUint64(sp.r)).Sign() == 0 {
			return true
		}
	}
	return false
}
