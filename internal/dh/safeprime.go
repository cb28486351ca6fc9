package dh

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
)

// Safe primes are searched the way OpenSSL's DH_generate_parameters with
// generator 2 does it: q ≡ 11 (mod 12), hence p = 2q+1 ≡ 23 (mod 24), so
// that 3 divides neither and 2 is a quadratic residue mod p, which makes g = 2
// generate the subgroup of prime order q. Candidates q = q0 + 12k, k in a
// window after a random q0, are sieved for small factors of q and of 2q+1
// before any primality test; a new random q0 starts each window.

const (
	// sieveLimit bounds the small primes used for sieving.
	sieveLimit = 1 << 16
	// sieveWindow is the number of candidates per random start.
	sieveWindow = 1 << 16
	// safeStep keeps q ≡ 11 (mod 12) from one candidate to the next.
	safeStep = 12
)

// sievePrime is an odd prime r >= 5 with the inverse of safeStep mod r.
type sievePrime struct{ r, stepInv uint64 }

var sievePrimes = sync.OnceValue(func() []sievePrime {
	composite := make([]bool, sieveLimit)
	var primes []sievePrime
	for r := 2; r < sieveLimit; r++ {
		if composite[r] {
			continue
		}
		for m := r * r; m < sieveLimit; m += r {
			composite[m] = true
		}
		if r >= 5 {
			primes = append(primes, sievePrime{r: uint64(r), stepInv: powMod(safeStep, uint64(r)-2, uint64(r))})
		}
	}
	return primes
})

// powMod returns b^e mod m for m < 2^32 (Fermat inverses of the sieve).
func powMod(b, e, m uint64) uint64 {
	result, b := uint64(1), b%m
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			result = result * b % m
		}
		b = b * b % m
	}
	return result
}

// searchSafePrime returns a bits-bit safe prime p and q = (p-1)/2.
func searchSafePrime(bits int, t *tracker) (*big.Int, *big.Int, error) {
	for {
		q0, err := randomSafeStart(bits - 1)
		if err != nil {
			return nil, nil, fmt.Errorf("dh: generate parameters: %w", err)
		}
		if err := t.ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("dh: generate parameters: %w", err)
		}
		p, q, err := testWindow(q0, bits, sieveSafeWindow(q0), t)
		if err != nil || p != nil {
			return p, q, err
		}
	}
}

// randomSafeStart returns a random qBits-bit number that is 11 mod 12 and
// leaves room for a full window below 2^qBits.
func randomSafeStart(qBits int) (*big.Int, error) {
	top := new(big.Int).Lsh(bigOne, uint(qBits-1))
	span := new(big.Int).Sub(top, big.NewInt(safeStep*(sieveWindow+1)))
	q0, err := rand.Int(rand.Reader, span)
	if err != nil {
		return nil, err
	}
	q0.Add(q0, top) // q0 in [2^(qBits-1), 2^qBits - 12·(window+1))
	r := new(big.Int).Mod(q0, big.NewInt(safeStep)).Int64()
	return q0.Add(q0, big.NewInt(11-r)), nil
}

// sieveSafeWindow marks k when q0 + 12k or 2(q0 + 12k)+1 has a factor below
// sieveLimit.
func sieveSafeWindow(q0 *big.Int) []bool {
	composite := make([]bool, sieveWindow)
	rBig, modBig := new(big.Int), new(big.Int)
	for _, sp := range sievePrimes() {
		r := sp.r
		a := modBig.Mod(q0, rBig.SetUint64(r)).Uint64()
		// q ≡ 0 (mod r) when k ≡ -a/12, and 2q+1 ≡ 0 when q ≡ (r-1)/2,
		// that is k ≡ ((r-1)/2 - a)/12.
		markProgression(composite, (r-a)%r*sp.stepInv%r, r)
		markProgression(composite, ((r-1)/2+r-a)%r*sp.stepInv%r, r)
	}
	return composite
}

func markProgression(composite []bool, start, step uint64) {
	for k := start; k < uint64(len(composite)); k += step {
		composite[k] = true
	}
}

// testWindow runs the primality tests on the survivors of the sieve. The
// cheap Baillie-PSW test on both numbers screens candidates before the
// full number of rounds.
func testWindow(q0 *big.Int, bits int, composite []bool, t *tracker) (p, q *big.Int, err error) {
	step := big.NewInt(safeStep)
	q = new(big.Int).Set(q0)
	for k := range composite {
		if k > 0 {
			q.Add(q, step)
		}
		if composite[k] {
			continue
		}
		if err := t.next(); err != nil {
			return nil, nil, err
		}
		if !q.ProbablyPrime(0) {
			continue
		}
		p = new(big.Int).Lsh(q, 1)
		p.SetBit(p, 0, 1)
		if p.BitLen() == bits && p.ProbablyPrime(0) &&
			q.ProbablyPrime(generationRounds) && p.ProbablyPrime(generationRounds) {
			return p, q, nil
		}
	}
	return nil, nil, nil
}
