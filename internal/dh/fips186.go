package dh

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"math/big"
)

// fips186Primes is the output of FIPS 186-4 appendix A.1.1.2. The seed and
// counter let anyone regenerate p and q, for example with
// openssl genpkey -genparam -algorithm DHX -pkeyopt type:fips186_4 -pkeyopt hexseed:...
type fips186Primes struct {
	p, q    *big.Int
	seed    []byte
	counter int
}

// fips186Hash returns an approved hash whose output is at least n bits, as
// A.1.1.2 requires.
func fips186Hash(n int) func() hash.Hash {
	switch {
	case n <= 256:
		return sha256.New
	case n <= 384:
		return sha512.New384
	default:
		return sha512.New
	}
}

// generateFIPS186 runs FIPS 186-4 appendix A.1.1.2 ("generation of the
// probable primes p and q using an approved hash function") for an L-bit p
// and an N-bit q, with seedlen = N. Step numbers refer to the standard.
func generateFIPS186(L, N int, t *tracker) (fips186Primes, error) {
	newHash := fips186Hash(N)
	outlen := newHash().Size() * 8
	n := (L+outlen-1)/outlen - 1 // step 3
	b := L - 1 - n*outlen        // step 4
	for {
		seed := make([]byte, N/8) // step 5
		if _, err := rand.Read(seed); err != nil {
			return fips186Primes{}, fmt.Errorf("dh: generate parameters: %w", err)
		}
		q := fips186Q(newHash, seed, N) // steps 6 and 7
		if err := t.next(); err != nil {
			return fips186Primes{}, err
		}
		if !q.ProbablyPrime(generationRounds) { // step 8
			continue
		}
		p, counter, err := fips186P(newHash, seed, q, L, n, b, t)
		if err != nil {
			return fips186Primes{}, err
		}
		if p != nil {
			return fips186Primes{p: p, q: q, seed: seed, counter: counter}, nil
		}
	}
}

// fips186Q computes q = 2^(N-1) + U + 1 - (U mod 2) with
// U = Hash(seed) mod 2^(N-1).
func fips186Q(newHash func() hash.Hash, seed []byte, N int) *big.Int {
	h := newHash()
	h.Write(seed)
	u := new(big.Int).SetBytes(h.Sum(nil))
	top := new(big.Int).Lsh(bigOne, uint(N-1))
	u.Mod(u, top)
	q := u.Add(u, top)
	return q.SetBit(q, 0, 1)
}

// fips186P runs steps 9 to 10 for one seed: up to 4L candidates for p
// derived from the seed. It returns a nil p when none is prime.
func fips186P(newHash func() hash.Hash, seed []byte, q *big.Int, L, n, b int, t *tracker) (*big.Int, int, error) {
	seedInt := new(big.Int).SetBytes(seed)
	seedMod := new(big.Int).Lsh(bigOne, uint(len(seed)*8))
	twoQ := new(big.Int).Lsh(q, 1)
	low := new(big.Int).Lsh(bigOne, uint(L-1))
	offset := 1
	for counter := 0; counter < 4*L; counter++ {
		w := fips186W(newHash, seedInt, seedMod, len(seed), offset, n, b)
		x := w.Add(w, low)              // 10.3
		c := new(big.Int).Mod(x, twoQ)  // 10.4
		p := x.Sub(x, c.Sub(c, bigOne)) // 10.5
		offset += n + 1                 // 10.9
		if p.Cmp(low) < 0 {             // 10.6
			continue
		}
		if err := t.next(); err != nil {
			return nil, 0, err
		}
		if p.ProbablyPrime(generationRounds) { // 10.7 and 10.8
			return p, counter, nil
		}
	}
	return nil, 0, nil
}

// fips186W computes W = V_0 + V_1·2^outlen + ... + (V_n mod 2^b)·2^(n·outlen)
// with V_j = Hash((seed + offset + j) mod 2^seedlen) (steps 10.1 and 10.2).
func fips186W(newHash func() hash.Hash, seed, seedMod *big.Int, seedBytes, offset, n, b int) *big.Int {
	w := new(big.Int)
	buf := make([]byte, seedBytes)
	s := new(big.Int)
	for j := n; j >= 0; j-- {
		s.Add(seed, big.NewInt(int64(offset+j)))
		s.Mod(s, seedMod)
		h := newHash()
		h.Write(s.FillBytes(buf))
		v := new(big.Int).SetBytes(h.Sum(nil))
		if j == n {
			v.Mod(v, new(big.Int).Lsh(bigOne, uint(b)))
		}
		w.Lsh(w, uint(h.Size()*8))
		w.Add(w, v)
	}
	return w
}

// generatorFIPS186 is the unverifiable generator of FIPS 186-4 appendix
// A.2.1 with h = 2, 3, ...: g = h^((p-1)/q) mod p, the first that is not 1.
// Everything here is public, so math/big is fine.
func generatorFIPS186(p, q *big.Int) *big.Int {
	e := new(big.Int).Sub(p, bigOne)
	e.Div(e, q)
	for h := big.NewInt(2); ; h.Add(h, bigOne) {
		g := new(big.Int).Exp(h, e, p)
		if g.Cmp(bigOne) != 0 {
			return g
		}
	}
}
