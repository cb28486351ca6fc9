package dh

import (
	"bytes"
	"testing"
)

// The fuzz targets check that parsers never panic and that everything they
// accept survives a round trip through our encoder. Custom groups make
// each input cost a primality test, so expect a low rate.

func FuzzParsePKIX(f *testing.F) {
	f.Add(readFixture(f, "openssl_ffdhe2048_pub.pem"))
	f.Add(readFixture(f, "python48_ffdhe2048_pub.der"))
	f.Add(readFixture(f, "python38_x942_pub.der"))
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKIX(der)
		if err != nil {
			return
		}
		again, err := k.MarshalPKIX()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePKIX(again)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParsePKCS8(f *testing.F) {
	f.Add(readFixture(f, "openssl_ffdhe2048.pem"))
	f.Add(readFixture(f, "python48_ffdhe2048.der"))
	f.Add(readFixture(f, "python38_x942.der"))
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKCS8(der)
		if err != nil {
			return
		}
		again, err := k.MarshalPKCS8()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePKCS8(again)
		if err != nil || !k2.Equal(k) || !k2.PublicKey().Equal(k.PublicKey()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParseParameters(f *testing.F) {
	f.Add(FFDHE2048().ParametersPEM())
	_, der := FFDHE3072().encodeParams()
	f.Add(der)
	f.Add(readFixture(f, "openssl_x942_params.pem"))
	f.Fuzz(func(t *testing.T, in []byte) {
		g, err := ParseParameters(in)
		if err != nil {
			return
		}
		out := g.ParametersPEM()
		g2, err := ParseParameters(out)
		if err != nil || !g2.Equal(g) || !bytes.Equal(g2.ParametersPEM(), out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
