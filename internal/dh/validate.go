package dh

import (
	"fmt"
	"math/big"
	"sync"

	"filippo.io/bigmod"
)

const (
	// minPrimeBits is the smallest p accepted: 112-bit security (NIST SP
	// 800-57 part 1, table 2), and what the Python KeyCustodian generated.
	minPrimeBits = 2048
	// maxPrimeBits bounds the work a hostile parameter set can cause.
	maxPrimeBits = 8192
	// minSubgroupBits is twice the 112-bit security of the smallest p.
	minSubgroupBits = 224
	// generationRounds is the number of Miller-Rabin rounds for fresh
	// primes, on top of the Baillie-PSW test big.Int.ProbablyPrime always
	// runs: the largest count FIPS 186-4 table C.1 asks for (MR alone).
	generationRounds = 64
	// validationRounds is the count for primes read from outside. Against
	// crafted input the extra rounds add little (math/big derives its bases
	// from the input), Baillie-PSW has no known counterexample, and every
	// round on a hostile 8192-bit p costs a third of a second.
	validationRounds = 20
)

// checkPublic performs NIST SP 800-56A Rev. 3 full public-key validation of
// the peer value y, a public number, so variable-time math/big is fine here.
func (g *Group) checkPublic(y *big.Int) error {
	pMinus1 := new(big.Int).Sub(g.p, bigOne)
	if y.Cmp(bigOne) <= 0 || y.Cmp(pMinus1) >= 0 {
		return fmt.Errorf("%w: value is outside [2, p-2] for %v", ErrInvalidPublicKey, g)
	}
	if g.q == nil {
		// g generates the whole group of a safe prime: its only small
		// subgroup, {1, p-1}, is excluded by the range check.
		return nil
	}
	if !g.inSubgroup(y) {
		return fmt.Errorf("%w: value is not in the subgroup of order q of %v", ErrInvalidPublicKey, g)
	}
	return nil
}

// inSubgroup reports whether y^q = 1 (mod p). For a safe prime the
// subgroup of order q = (p-1)/2 is exactly the quadratic residues, so the
// Legendre symbol answers at a small fraction of the cost of raising y to
// a 2047-bit q.
func (g *Group) inSubgroup(y *big.Int) bool {
	if g.safePrime {
		return big.Jacobi(y, g.p) == 1
	}
	yNat, err := bigmod.NewNat().SetBytes(y.Bytes(), g.pMod)
	if err != nil {
		return false
	}
	return bigmod.NewNat().Exp(yNat, g.q.Bytes(), g.pMod).IsOne() == 1
}

var bigOne = big.NewInt(1)

// validGroup returns the Group for parameters read from outside: the named
// RFC 7919 group when they match one, otherwise a custom group after full
// validation. q may be nil (PKCS #3), in which case p must be a safe prime.
func validGroup(p, g, q *big.Int) (*Group, error) {
	if p == nil || g == nil {
		return nil, fmt.Errorf("%w: missing p or g", ErrInvalidParameters)
	}
	// The cache key drops signs, so negative values must not reach it.
	if p.Sign() <= 0 || g.Sign() <= 0 || (q != nil && q.Sign() <= 0) {
		return nil, fmt.Errorf("%w: p, g and q must be positive", ErrInvalidParameters)
	}
	if named := namedGroup(p, g, q); named != nil {
		return named, nil
	}
	key := groupKey{p: string(p.Bytes()), g: string(g.Bytes())}
	if q != nil {
		key.q = string(q.Bytes())
	}
	if cached := groupCache.get(key); cached != nil {
		return cached, nil
	}
	group, err := checkCustomGroup(p, g, q)
	if err != nil {
		return nil, err
	}
	groupCache.put(key, group)
	return group, nil
}

// checkCustomGroup validates parameters that are not an RFC 7919 group.
// The cheap structural checks come first, so that malformed input costs
// microseconds and only plausible groups pay for primality tests.
func checkCustomGroup(p, g, q *big.Int) (*Group, error) {
	if err := checkShape(p, g); err != nil {
		return nil, err
	}
	if q == nil {
		return safePrimeGroup(p, g)
	}
	return subgroupGroup(p, g, q)
}

func checkShape(p, g *big.Int) error {
	if p.BitLen() < minPrimeBits || p.BitLen() > maxPrimeBits {
		return fmt.Errorf("%w: p has %d bits; between %d and %d are allowed",
			ErrInvalidParameters, p.BitLen(), minPrimeBits, maxPrimeBits)
	}
	pMinus1 := new(big.Int).Sub(p, bigOne)
	if g.Cmp(bigOne) <= 0 || g.Cmp(pMinus1) >= 0 {
		return fmt.Errorf("%w: g is outside [2, p-2]", ErrInvalidParameters)
	}
	return nil
}

// safePrimeGroup accepts a PKCS #3 group only when p and (p-1)/2 are both
// prime, as its subgroups are then too few to confine an exponent.
func safePrimeGroup(p, g *big.Int) (*Group, error) {
	q := new(big.Int).Rsh(p, 1)
	if !p.ProbablyPrime(validationRounds) {
		return nil, fmt.Errorf("%w: p is not prime", ErrInvalidParameters)
	}
	if !q.ProbablyPrime(validationRounds) {
		return nil, fmt.Errorf("%w: parameters without q must use a safe prime p = 2q+1, and (p-1)/2 is not prime",
			ErrInvalidParameters)
	}
	if big.Jacobi(g, p) != 1 {
		// g is a non-residue, so it generates the whole group of order 2q.
		return newGroup("", p, g, nil, true), nil
	}
	return newGroup("", p, g, q, true), nil
}

// subgroupGroup accepts X9.42 parameters: q prime, q | p-1 and g of order q.
func subgroupGroup(p, g, q *big.Int) (*Group, error) {
	if q.BitLen() < minSubgroupBits || q.Cmp(p) >= 0 {
		return nil, fmt.Errorf("%w: q has %d bits; at least %d and fewer than p are required",
			ErrInvalidParameters, q.BitLen(), minSubgroupBits)
	}
	pMinus1 := new(big.Int).Sub(p, bigOne)
	if new(big.Int).Mod(pMinus1, q).Sign() != 0 {
		return nil, fmt.Errorf("%w: q does not divide p-1", ErrInvalidParameters)
	}
	if new(big.Int).Exp(g, q, p).Cmp(bigOne) != 0 {
		return nil, fmt.Errorf("%w: g does not generate the subgroup of order q", ErrInvalidParameters)
	}
	if !q.ProbablyPrime(validationRounds) {
		return nil, fmt.Errorf("%w: q is not prime", ErrInvalidParameters)
	}
	if !p.ProbablyPrime(validationRounds) {
		return nil, fmt.Errorf("%w: p is not prime", ErrInvalidParameters)
	}
	safe := new(big.Int).Rsh(p, 1).Cmp(q) == 0
	return newGroup("", p, g, q, safe), nil
}

// groupKey identifies validated custom parameters by value.
type groupKey struct{ p, g, q string }

// validatedGroups remembers custom groups that passed validation, so that
// reloading stored keys does not repeat seconds of primality testing.
type validatedGroups struct {
	mu     sync.Mutex
	groups map[groupKey]*Group
}

// groupCacheSize bounds the memory hostile inputs can pin; deployments use
// a handful of custom groups at most.
const groupCacheSize = 64

var groupCache = &validatedGroups{groups: make(map[groupKey]*Group)}

func (c *validatedGroups) get(k groupKey) *Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[k]
}

func (c *validatedGroups) put(k groupKey, g *Group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.groups) >= groupCacheSize {
		clear(c.groups)
	}
	c.groups[k] = g
}
