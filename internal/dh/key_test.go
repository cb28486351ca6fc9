package dh

import (
	"bytes"
	"errors"
	"math/big"
	"sync"
	"testing"
)

func TestAgreement(t *testing.T) {
	for _, g := range []*Group{FFDHE2048(), FFDHE3072(), FFDHE4096(), x942Group(t)} {
		t.Run(g.String(), func(t *testing.T) {
			alice, bob := mustGenerateKey(t, g), mustGenerateKey(t, g)
			s1, err := alice.SharedSecret(bob.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			s2, err := bob.SharedSecret(alice.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(s1, s2) {
				t.Fatal("shared secrets differ")
			}
			if len(s1) != (g.Bits()+7)/8 {
				t.Errorf("secret is %d bytes, want %d", len(s1), (g.Bits()+7)/8)
			}
			// Cross-check the constant-time arithmetic with math/big.
			want := new(big.Int).Exp(new(big.Int).SetBytes(bob.PublicKey().Bytes()),
				new(big.Int).SetBytes(alice.x), g.P())
			if !bytes.Equal(s1, paddedBytes(want, len(s1))) {
				t.Error("secret differs from math/big")
			}
		})
	}
}

func TestGeneratedExponentRange(t *testing.T) {
	for _, g := range []*Group{FFDHE2048(), FFDHE3072(), x942Group(t)} {
		bound := new(big.Int).Lsh(big.NewInt(1), uint(shortExponentBits(g.Bits())))
		if q := g.Q(); q.Cmp(bound) < 0 {
			bound = q
		}
		var top int
		for range 64 {
			k := mustGenerateKey(t, g)
			x := new(big.Int).SetBytes(k.x)
			if x.BitLen() < minExponentBits || x.Cmp(bound) >= 0 {
				t.Fatalf("%v: exponent out of [2^%d, %d-bit bound)", g, minExponentBits-1, bound.BitLen())
			}
			top = max(top, x.BitLen())
			pub := new(big.Int).Exp(g.G(), x, g.P())
			if !bytes.Equal(k.PublicKey().Bytes(), paddedBytes(pub, (g.Bits()+7)/8)) {
				t.Fatalf("%v: y is not g^x", g)
			}
		}
		// 64 uniform draws all below 2^(n-4) would happen with
		// probability 2^-256: the full range is in use.
		if top < bound.BitLen()-4 {
			t.Errorf("%v: largest exponent has %d bits, expected about %d", g, top, bound.BitLen())
		}
	}
}

// TestHasMinBits checks the constant-time length test GenerateKey uses
// against math/big, at and around every byte boundary.
func TestHasMinBits(t *testing.T) {
	for _, size := range []int{1, 2, 24, 25, 32} {
		for n := 1; n <= size*8; n++ {
			for _, v := range []*big.Int{
				big.NewInt(0),
				new(big.Int).Lsh(big.NewInt(1), uint(n-1)),                                     // 2^(n-1): n bits
				new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(n-1)), big.NewInt(1)),    // n-1 bits
				new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(size*8)), big.NewInt(1)), // all ones
			} {
				if v.BitLen() > size*8 {
					continue
				}
				if got, want := hasMinBits(paddedBytes(v, size), n), v.BitLen() >= n; got != want {
					t.Fatalf("hasMinBits(%x, %d) = %t, want %t", v, n, got, want)
				}
			}
		}
	}
}

func TestPeerValidation(t *testing.T) {
	g := FFDHE2048()
	p := g.P()
	size := (g.Bits() + 7) / 8
	nonResidue := big.NewInt(3)
	for big.Jacobi(nonResidue, p) != -1 {
		nonResidue.Add(nonResidue, big.NewInt(1))
	}
	add := func(n int64) *big.Int { return new(big.Int).Add(p, big.NewInt(n)) }
	for _, tc := range []struct {
		name string
		y    *big.Int
	}{
		{"zero", big.NewInt(0)},
		{"one", big.NewInt(1)},
		{"p-1", add(-1)},
		{"p", p},
		{"p+1", add(1)},
		{"p-2 (order 2q)", add(-2)},
		{"small non-residue", nonResidue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.NewPublicKey(paddedBytes(tc.y, size))
			if !errors.Is(err, ErrInvalidPublicKey) {
				t.Fatalf("NewPublicKey: err = %v, want ErrInvalidPublicKey", err)
			}
			// SharedSecret validates again, for keys built around the
			// constructors.
			k := mustGenerateKey(t, g)
			_, err = k.SharedSecret(&PublicKey{group: g, y: paddedBytes(tc.y, size)})
			if !errors.Is(err, ErrInvalidPublicKey) {
				t.Fatalf("SharedSecret: err = %v, want ErrInvalidPublicKey", err)
			}
		})
	}
	if _, err := g.NewPublicKey(big.NewInt(4).Bytes()); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("short encoding: err = %v, want ErrInvalidPublicKey", err)
	}
	if _, err := g.NewPublicKey(paddedBytes(big.NewInt(4), size)); err != nil {
		t.Errorf("4 = 2^2 is in the subgroup: %v", err)
	}
}

func TestPeerValidationSubgroup(t *testing.T) {
	// In an X9.42 group most of [2, p-2] lies outside the subgroup of
	// order q; h = 2 is such a value unless it happens to be g.
	g := x942Group(t)
	size := (g.Bits() + 7) / 8
	outside := big.NewInt(2)
	for new(big.Int).Exp(outside, g.Q(), g.P()).Cmp(big.NewInt(1)) == 0 {
		outside.Add(outside, big.NewInt(1))
	}
	if _, err := g.NewPublicKey(paddedBytes(outside, size)); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("element of order not q: err = %v, want ErrInvalidPublicKey", err)
	}
	if _, err := g.NewPublicKey(paddedBytes(g.G(), size)); err != nil {
		t.Fatalf("g itself: %v", err)
	}
}

func TestPeerFromOtherGroup(t *testing.T) {
	k := mustGenerateKey(t, FFDHE2048())
	for _, g := range []*Group{FFDHE3072(), x942Group(t)} {
		other := mustGenerateKey(t, g)
		if _, err := k.SharedSecret(other.PublicKey()); !errors.Is(err, ErrInvalidPublicKey) {
			t.Errorf("%v peer: err = %v, want ErrInvalidPublicKey", g, err)
		}
	}
	if _, err := k.SharedSecret(nil); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("nil peer: err = %v", err)
	}
	if _, err := k.SharedSecret(&PublicKey{}); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("zero peer: err = %v", err)
	}
}

func TestSharedSecretKeepsLeadingZeros(t *testing.T) {
	t.Parallel()
	g := FFDHE2048()
	peer := mustGenerateKey(t, g).PublicKey()
	for i := 0; ; i++ {
		k := mustGenerateKey(t, g)
		s, err := k.SharedSecret(peer)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 256 {
			t.Fatalf("secret is %d bytes", len(s))
		}
		if s[0] == 0 {
			return
		}
		if i > 5000 { // probability (255/256)^5000 < 1e-8
			t.Fatal("no secret with a leading zero byte in 5000 tries")
		}
	}
}

func TestEqual(t *testing.T) {
	g := FFDHE2048()
	a, b := mustGenerateKey(t, g), mustGenerateKey(t, g)
	der, err := a.MarshalPKCS8()
	if err != nil {
		t.Fatal(err)
	}
	a2, err := ParsePKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(a2) || a.Equal(b) || a.Equal(nil) || a.Equal("x") {
		t.Error("PrivateKey.Equal")
	}
	if !a.PublicKey().Equal(a2.PublicKey()) || a.PublicKey().Equal(b.PublicKey()) || a.PublicKey().Equal(a) {
		t.Error("PublicKey.Equal")
	}
	if a.Group() != g || a.PublicKey().Group() != g {
		t.Error("Group accessors")
	}
}

func TestZeroValuesDoNotPanic(t *testing.T) {
	var g Group
	if _, err := g.GenerateKey(); err == nil {
		t.Error("GenerateKey on zero Group succeeded")
	}
	if _, err := g.NewPublicKey(make([]byte, 256)); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("NewPublicKey on zero Group: %v", err)
	}
	var k PrivateKey
	if _, err := k.SharedSecret(mustGenerateKey(t, FFDHE2048()).PublicKey()); err == nil {
		t.Error("SharedSecret on zero PrivateKey succeeded")
	}
	if _, err := k.MarshalPKCS8(); err == nil {
		t.Error("MarshalPKCS8 on zero PrivateKey succeeded")
	}
	var pub PublicKey
	if _, err := pub.MarshalPKIX(); err == nil {
		t.Error("MarshalPKIX on zero PublicKey succeeded")
	}
}

// TestConcurrentUse shares a group and a key between goroutines; run with
// -race.
func TestConcurrentUse(t *testing.T) {
	g := FFDHE2048()
	k := mustGenerateKey(t, g)
	peer := mustGenerateKey(t, g).PublicKey()
	want, err := k.SharedSecret(peer)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 8 {
				got, err := k.SharedSecret(peer)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("concurrent SharedSecret: %v", err)
					return
				}
				if _, err := g.GenerateKey(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
