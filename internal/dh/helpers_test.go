package dh

import (
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// readFixture returns a file from testdata, decoding PEM when it is PEM.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(data); block != nil {
		return block.Bytes
	}
	return data
}

func mustGenerateKey(t testing.TB, g *Group) *PrivateKey {
	t.Helper()
	k, err := g.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// x942Group parses the OpenSSL-generated X9.42 fixture: a 2048-bit p with a
// 256-bit q, the kind of group GenerateParameters makes without SafePrime.
func x942Group(t testing.TB) *Group {
	t.Helper()
	g, err := ParseParameters(readFixture(t, "openssl_x942_params.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// paddedBytes encodes n big-endian in exactly size bytes.
func paddedBytes(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }

func hexInt(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return n
}
