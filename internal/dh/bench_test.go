package dh

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// The BigInt benchmarks are the raw math/big baseline for the same
// operation and exponent size: variable time, no validation. The gap is
// the price of constant-time arithmetic and peer validation.

func BenchmarkSharedSecretFFDHE2048(b *testing.B) {
	benchmarkSharedSecret(b, FFDHE2048())
}

func BenchmarkBigIntExpFFDHE2048(b *testing.B) {
	benchmarkBigIntExp(b, FFDHE2048())
}

func benchmarkBigIntExp(b *testing.B, g *Group) {
	alice, bob := mustGenerateKey(b, g), mustGenerateKey(b, g)
	x := new(big.Int).SetBytes(alice.x)
	y := new(big.Int).SetBytes(bob.PublicKey().Bytes())
	p := g.P()
	for b.Loop() {
		new(big.Int).Exp(y, x, p)
	}
}

func BenchmarkGenerateKeyFFDHE2048(b *testing.B) {
	g := FFDHE2048()
	for b.Loop() {
		if _, err := g.GenerateKey(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBigIntGenerateKeyFFDHE2048(b *testing.B) {
	g := FFDHE2048()
	p, gen := g.P(), g.G()
	bound := new(big.Int).Lsh(big.NewInt(1), uint(g.ExponentBits()))
	for b.Loop() {
		x, err := rand.Int(rand.Reader, bound)
		if err != nil {
			b.Fatal(err)
		}
		new(big.Int).Exp(gen, x, p)
	}
}

// BenchmarkSharedSecret compares the other sizes with their baseline.
// bigmod has assembly for 1024-, 1536- and 2048-bit moduli only, so the
// larger groups run its generic code.
func BenchmarkSharedSecret(b *testing.B) {
	for _, g := range []*Group{FFDHE3072(), FFDHE4096(), x942Group(b)} {
		b.Run(g.String()+"/bigmod", func(b *testing.B) { benchmarkSharedSecret(b, g) })
		b.Run(g.String()+"/bigint", func(b *testing.B) { benchmarkBigIntExp(b, g) })
	}
}

func benchmarkSharedSecret(b *testing.B, g *Group) {
	alice, bob := mustGenerateKey(b, g), mustGenerateKey(b, g)
	peer := bob.PublicKey()
	for b.Loop() {
		if _, err := alice.SharedSecret(peer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePKCS8FFDHE2048 is the cost of reloading a stored key.
func BenchmarkParsePKCS8FFDHE2048(b *testing.B) {
	der, err := mustGenerateKey(b, FFDHE2048()).MarshalPKCS8()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParsePKCS8(der); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewPublicKeyFFDHE2048 is peer validation: range plus the
// Legendre symbol that replaces y^q for safe primes.
func BenchmarkNewPublicKeyFFDHE2048(b *testing.B) {
	y := mustGenerateKey(b, FFDHE2048()).PublicKey().Bytes()
	for b.Loop() {
		if _, err := FFDHE2048().NewPublicKey(y); err != nil {
			b.Fatal(err)
		}
	}
}
