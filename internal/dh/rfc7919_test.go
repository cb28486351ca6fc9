package dh

import (
	"math/big"
	"testing"
)

// eTimes2k returns floor(2^k · e), summing 2^k/n! with 64 guard bits.
func eTimes2k(k int) *big.Int {
	const guard = 64
	scale := new(big.Int).Lsh(big.NewInt(1), uint(k+guard))
	sum := new(big.Int)
	term := new(big.Int).Set(scale) // scale / 0!
	for n := int64(1); term.Sign() > 0; n++ {
		sum.Add(sum, term)
		term.Div(term, big.NewInt(n))
	}
	return sum.Rsh(sum, guard)
}

// TestRFC7919Formula rebuilds each prime from its definition in RFC 7919
// appendix A, p = 2^b - 2^(b-64) + {[2^(b-130) e] + X} · 2^64 - 1, so the
// hex constants are checked against something other than a second copy.
func TestRFC7919Formula(t *testing.T) {
	for _, tc := range []struct {
		group *Group
		bits  int
		x     int64
	}{
		{FFDHE2048(), 2048, 560316},
		{FFDHE3072(), 3072, 2625351},
		{FFDHE4096(), 4096, 5736041},
		{FFDHE6144(), 6144, 15705020},
		{FFDHE8192(), 8192, 10965728},
	} {
		t.Run(tc.group.Name(), func(t *testing.T) {
			b := tc.bits
			p := new(big.Int).Lsh(big.NewInt(1), uint(b))
			p.Sub(p, new(big.Int).Lsh(big.NewInt(1), uint(b-64)))
			mid := eTimes2k(b - 130)
			mid.Add(mid, big.NewInt(tc.x))
			p.Add(p, mid.Lsh(mid, 64))
			p.Sub(p, big.NewInt(1))
			if p.Cmp(tc.group.P()) != 0 {
				t.Errorf("p differs from the RFC 7919 formula")
			}
		})
	}
}

func TestRFC7919Properties(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		group        *Group
		name         string
		bits, expLen int
	}{
		{FFDHE2048(), "ffdhe2048", 2048, 256},
		{FFDHE3072(), "ffdhe3072", 3072, 320},
		{FFDHE4096(), "ffdhe4096", 4096, 384},
		{FFDHE6144(), "ffdhe6144", 6144, 448},
		{FFDHE8192(), "ffdhe8192", 8192, 448},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.group
			if g.Name() != tc.name || g.Bits() != tc.bits || g.ExponentBits() != tc.expLen {
				t.Errorf("Name, Bits, ExponentBits = %q, %d, %d; want %q, %d, %d",
					g.Name(), g.Bits(), g.ExponentBits(), tc.name, tc.bits, tc.expLen)
			}
			p, q := g.P(), g.Q()
			if g.G().Cmp(big.NewInt(2)) != 0 {
				t.Errorf("g = %v, want 2", g.G())
			}
			if want := new(big.Int).Rsh(p, 1); q.Cmp(want) != 0 {
				t.Errorf("q is not (p-1)/2")
			}
			if big.Jacobi(g.G(), p) != 1 {
				t.Errorf("g is not a quadratic residue")
			}
			// Primality and order of the two largest take tens of
			// seconds; the formula test pins their values in the
			// default run.
			if tc.bits <= 4096 || *slowTests {
				if !p.ProbablyPrime(20) || !q.ProbablyPrime(20) {
					t.Errorf("p or q is not prime")
				}
				if new(big.Int).Exp(g.G(), q, p).Cmp(big.NewInt(1)) != 0 {
					t.Errorf("g does not have order q")
				}
			}
			if g != tc.group || FFDHE2048() != FFDHE2048() {
				t.Errorf("named groups are not singletons")
			}
		})
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	g := FFDHE2048()
	g.P().SetInt64(5)
	g.G().SetInt64(5)
	g.Q().SetInt64(5)
	if g.P().Cmp(big.NewInt(5)) == 0 || g.G().Int64() != 2 || g.Q().Cmp(big.NewInt(5)) == 0 {
		t.Fatal("accessors expose internal state")
	}
}

func TestShortExponentBits(t *testing.T) {
	// Each size must reach the RFC 7919 appendix A minimum and twice the
	// NIST SP 800-57 strength, and at least 256.
	for _, tc := range []struct{ pBits, rfcMin, nist int }{
		{2048, 225, 224}, {3072, 275, 256}, {4096, 325, 304}, {6144, 375, 352}, {8192, 400, 400},
	} {
		n := shortExponentBits(tc.pBits)
		if n < 256 || n < tc.rfcMin || n < tc.nist || n%64 != 0 {
			t.Errorf("shortExponentBits(%d) = %d", tc.pBits, n)
		}
	}
}
