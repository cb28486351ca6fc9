package dh

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
)

// pkcs8WithExponent encodes an arbitrary x for g, bypassing validation.
func pkcs8WithExponent(t testing.TB, g *Group, x *big.Int) []byte {
	t.Helper()
	oid, params := g.encodeParams()
	return mustMarshal(pkcs8{
		Algorithm:  pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: params}},
		PrivateKey: mustMarshal(x),
	})
}

// spkiWithValue encodes an arbitrary y for g, bypassing validation.
func spkiWithValue(t testing.TB, g *Group, y *big.Int) []byte {
	t.Helper()
	oid, params := g.encodeParams()
	yDER := mustMarshal(y)
	return mustMarshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: yDER, BitLength: 8 * len(yDER)},
	})
}

// customSafePrimeGroup is ffdhe2048's prime with g = p-2, a non-residue:
// a valid PKCS #3 group whose generator has order 2q, so Q() is nil.
func customSafePrimeGroup(t testing.TB) *Group {
	t.Helper()
	p := FFDHE2048().P()
	g, err := ParseParameters(mustMarshal(pkcs3Params{P: p, G: new(big.Int).Sub(p, big.NewInt(2))}))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParametersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		group   *Group
		pemType string
	}{
		{FFDHE2048(), "DH PARAMETERS"},
		{FFDHE3072(), "DH PARAMETERS"},
		{FFDHE4096(), "DH PARAMETERS"},
		{customSafePrimeGroup(t), "DH PARAMETERS"},
		{x942Group(t), "X9.42 DH PARAMETERS"},
	} {
		t.Run(tc.group.String(), func(t *testing.T) {
			out := tc.group.ParametersPEM()
			block, _ := pem.Decode(out)
			if block == nil || block.Type != tc.pemType {
				t.Fatalf("PEM block %v, want type %q", block, tc.pemType)
			}
			g, err := ParseParameters(out)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Equal(tc.group) {
				t.Fatal("round trip changed the group")
			}
			if tc.group.Name() != "" && g != tc.group {
				t.Error("named group not recognised by value")
			}
			if g2, err := ParseParameters(block.Bytes); err != nil || !g2.Equal(tc.group) {
				t.Errorf("DER form: %v", err)
			}
		})
	}
}

func TestParseParametersRecognisesNamedGroups(t *testing.T) {
	g := FFDHE2048()
	p, q := g.P(), g.Q()
	x942 := mustMarshal(x942Params{P: p, G: big.NewInt(2), Q: q})
	for name, in := range map[string][]byte{
		"pkcs3 der":                mustMarshal(pkcs3Params{P: p, G: big.NewInt(2)}),
		"pkcs3 privateValueLength": mustMarshal(pkcs3Params{P: p, G: big.NewInt(2), PrivateValueLength: 225}),
		"x942 der":                 x942,
		"x942 pem":                 pem.EncodeToMemory(&pem.Block{Type: "X9.42 DH PARAMETERS", Bytes: x942}),
		"x942 pem with j":          pem.EncodeToMemory(&pem.Block{Type: "X9.42 DH PARAMETERS", Bytes: mustMarshal(x942Params{P: p, G: big.NewInt(2), Q: q, J: big.NewInt(2)})}),
		"pem with preamble":        append([]byte("DH Parameters: (2048 bit)\n"), g.ParametersPEM()...),
	} {
		got, err := ParseParameters(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != g {
			t.Errorf("%s: got %v, want the FFDHE2048 singleton", name, got)
		}
	}
}

func TestParseParametersRejects(t *testing.T) {
	t.Parallel()
	ff := FFDHE2048()
	p, q := ff.P(), ff.Q()
	x := x942Group(t)
	xp, xq, xg := x.P(), x.Q(), x.G()
	composite := new(big.Int).Add(p, big.NewInt(2))
	for composite.ProbablyPrime(1) {
		composite.Add(composite, big.NewInt(2))
	}
	orderNotQ := big.NewInt(2)
	for new(big.Int).Exp(orderNotQ, xq, xp).Cmp(big.NewInt(1)) == 0 {
		orderNotQ.Add(orderNotQ, big.NewInt(1))
	}
	pkcs3 := func(p, g *big.Int) []byte { return mustMarshal(pkcs3Params{P: p, G: g}) }
	x942 := func(p, g, q *big.Int) []byte { return mustMarshal(x942Params{P: p, G: g, Q: q}) }
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not parameters")},
		{"wrong pem type", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkcs3(p, big.NewInt(2))})},
		{"data after pem", append(ff.ParametersPEM(), ff.ParametersPEM()...)},
		{"trailing der", append(pkcs3(p, big.NewInt(2)), 0)},
		{"extra element", mustMarshal(struct{ P, G, L, X *big.Int }{p, big.NewInt(2), big.NewInt(225), big.NewInt(7)})},
		{"explicit zero length", mustMarshal(struct{ P, G, L *big.Int }{p, big.NewInt(2), big.NewInt(0)})},
		{"length beyond p", mustMarshal(pkcs3Params{P: p, G: big.NewInt(2), PrivateValueLength: 4096})},
		{"1024-bit p", pkcs3(new(big.Int).Rsh(p, 1024), big.NewInt(2))},
		{"9000-bit p", pkcs3(new(big.Int).Lsh(p, 6952), big.NewInt(2))},
		{"negative p", pkcs3(new(big.Int).Neg(p), big.NewInt(2))},
		{"composite p", pkcs3(composite, big.NewInt(2))},
		{"g = 0", pkcs3(p, big.NewInt(0))},
		{"g = 1", pkcs3(p, big.NewInt(1))},
		{"g = p-1", pkcs3(p, new(big.Int).Sub(p, big.NewInt(1)))},
		{"g = p", pkcs3(p, p)},
		{"pkcs3 without safe prime", pkcs3(xp, xg)},
		{"q does not divide p-1", x942(xp, xg, new(big.Int).Add(xq, big.NewInt(2)))},
		{"q composite", x942(xp, xg, new(big.Int).Lsh(xq, 1))},
		{"q too small", x942(xp, xg, big.NewInt(65537))},
		{"g not of order q", x942(xp, orderNotQ, xq)},
		{"named p, non-residue g, q", x942(p, new(big.Int).Sub(p, big.NewInt(2)), q)},
		{"wrong j", mustMarshal(x942Params{P: xp, G: xg, Q: xq, J: big.NewInt(3)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseParameters(tc.in); !errors.Is(err, ErrInvalidParameters) {
				t.Fatalf("err = %v, want ErrInvalidParameters", err)
			}
		})
	}
}

func TestCustomSafePrimeGroup(t *testing.T) {
	g := customSafePrimeGroup(t)
	if g.Name() != "" || g.Q() != nil || g.ExponentBits() != 256 {
		t.Fatalf("Name, Q, ExponentBits = %q, %v, %d", g.Name(), g.Q(), g.ExponentBits())
	}
	// With q unknown only the range is checked: p-2, a non-residue, is a
	// fine public value here.
	p := g.P()
	if _, err := g.NewPublicKey(paddedBytes(new(big.Int).Sub(p, big.NewInt(2)), 256)); err != nil {
		t.Errorf("p-2: %v", err)
	}
	if _, err := g.NewPublicKey(paddedBytes(new(big.Int).Sub(p, big.NewInt(1)), 256)); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("p-1: err = %v", err)
	}
	a, b := mustGenerateKey(t, g), mustGenerateKey(t, g)
	s1, err1 := a.SharedSecret(b.PublicKey())
	s2, err2 := b.SharedSecret(a.PublicKey())
	if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("agreement failed: %v, %v", err1, err2)
	}
	if _, err := a.SharedSecret(mustGenerateKey(t, FFDHE2048()).PublicKey()); !errors.Is(err, ErrInvalidPublicKey) {
		t.Errorf("same p, different g: err = %v", err)
	}
}

func TestKeyEncodingRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		group *Group
		oid   asn1.ObjectIdentifier
	}{
		{FFDHE2048(), oidDHKeyAgreement},
		{FFDHE3072(), oidDHKeyAgreement},
		{customSafePrimeGroup(t), oidDHKeyAgreement},
		{x942Group(t), oidDHPublicNumber},
	} {
		t.Run(tc.group.String(), func(t *testing.T) {
			k := mustGenerateKey(t, tc.group)
			privDER, err := k.MarshalPKCS8()
			if err != nil {
				t.Fatal(err)
			}
			pubDER, err := k.PublicKey().MarshalPKIX()
			if err != nil {
				t.Fatal(err)
			}
			var info pkcs8
			if _, err := asn1.Unmarshal(privDER, &info); err != nil || !info.Algorithm.Algorithm.Equal(tc.oid) {
				t.Errorf("PKCS #8 algorithm %v, want %v (%v)", info.Algorithm.Algorithm, tc.oid, err)
			}
			var spki subjectPublicKeyInfo
			if _, err := asn1.Unmarshal(pubDER, &spki); err != nil || !spki.Algorithm.Algorithm.Equal(tc.oid) {
				t.Errorf("SPKI algorithm %v, want %v (%v)", spki.Algorithm.Algorithm, tc.oid, err)
			}
			k2, err := ParsePKCS8(privDER)
			if err != nil {
				t.Fatal(err)
			}
			pub2, err := ParsePKIX(pubDER)
			if err != nil {
				t.Fatal(err)
			}
			if !k2.Equal(k) || !pub2.Equal(k.PublicKey()) || !k2.PublicKey().Equal(pub2) {
				t.Fatal("round trip changed the key")
			}
			if tc.group.Name() != "" && (k2.Group() != tc.group || pub2.Group() != tc.group) {
				t.Error("named group not recognised by value")
			}
		})
	}
}

func TestOpenSSLFixtures(t *testing.T) {
	privDER := readFixture(t, "openssl_ffdhe2048.pem")
	pubDER := readFixture(t, "openssl_ffdhe2048_pub.pem")
	k, err := ParsePKCS8(privDER)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePKIX(pubDER)
	if err != nil {
		t.Fatal(err)
	}
	if k.Group() != FFDHE2048() || !k.PublicKey().Equal(pub) {
		t.Fatal("OpenSSL key pair does not match")
	}
	if len(k.x) != 32 {
		t.Errorf("225-bit OpenSSL exponent padded to %d bytes, want 32", len(k.x))
	}
	// We write byte for byte what OpenSSL writes.
	if again, _ := k.MarshalPKCS8(); !bytes.Equal(again, privDER) {
		t.Error("MarshalPKCS8 differs from OpenSSL's encoding")
	}
	if again, _ := pub.MarshalPKIX(); !bytes.Equal(again, pubDER) {
		t.Error("MarshalPKIX differs from OpenSSL's encoding")
	}
}

func TestPythonFixtures(t *testing.T) {
	for _, tc := range []struct {
		priv, pub string
		group     *Group
	}{
		{"python48_ffdhe2048.der", "python48_ffdhe2048_pub.der", FFDHE2048()},
		{"python38_x942.der", "python38_x942_pub.der", x942Group(t)},
	} {
		t.Run(tc.priv, func(t *testing.T) {
			k, err := ParsePKCS8(readFixture(t, tc.priv))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePKIX(readFixture(t, tc.pub))
			if err != nil {
				t.Fatal(err)
			}
			if !k.Group().Equal(tc.group) || !k.PublicKey().Equal(pub) {
				t.Fatal("Python key pair does not match")
			}
			if tc.group.Name() != "" && pub.Group() != tc.group {
				t.Error("dhpublicnumber encoding of a named group not recognised")
			}
			ours := mustGenerateKey(t, tc.group)
			s1, err1 := ours.SharedSecret(pub)
			s2, err2 := k.SharedSecret(ours.PublicKey())
			if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
				t.Fatalf("agreement with the Python key failed: %v, %v", err1, err2)
			}
		})
	}
}

func TestParsePKCS8Rejects(t *testing.T) {
	ff := FFDHE2048()
	x := x942Group(t)
	custom := customSafePrimeGroup(t)
	floor := new(big.Int).Lsh(big.NewInt(1), minExponentBits-1) // the smallest exponent allowed
	valid := pkcs8WithExponent(t, ff, floor)
	if _, err := ParsePKCS8(valid); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	rsa := mustMarshal(pkcs8{
		Algorithm:  pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, Parameters: asn1.NullRawValue},
		PrivateKey: mustMarshal(big.NewInt(12345)),
	})
	v2 := mustMarshal(struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{2, pkix.AlgorithmIdentifier{Algorithm: oidDHKeyAgreement, Parameters: asn1.RawValue{FullBytes: mustMarshal(pkcs3Params{P: ff.P(), G: big.NewInt(2)})}}, mustMarshal(big.NewInt(12345))})
	notInteger := mustMarshal(pkcs8{
		Algorithm:  pkix.AlgorithmIdentifier{Algorithm: oidDHKeyAgreement, Parameters: asn1.RawValue{FullBytes: mustMarshal(pkcs3Params{P: ff.P(), G: big.NewInt(2)})}},
		PrivateKey: []byte{4, 1, 7},
	})
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrInvalidPrivateKey},
		{"trailing data", append(append([]byte(nil), valid...), 0), ErrInvalidPrivateKey},
		{"rsa oid", rsa, ErrInvalidParameters},
		{"version 2", v2, ErrInvalidPrivateKey},
		{"x not an integer", notInteger, ErrInvalidPrivateKey},
		{"x = 0", pkcs8WithExponent(t, ff, big.NewInt(0)), ErrInvalidPrivateKey},
		{"x = 1", pkcs8WithExponent(t, ff, big.NewInt(1)), ErrInvalidPrivateKey},
		// Exponents in range for the group but too short to be secret.
		{"x = 2", pkcs8WithExponent(t, ff, big.NewInt(2)), ErrInvalidPrivateKey},
		{"x = 12345", pkcs8WithExponent(t, ff, big.NewInt(12345)), ErrInvalidPrivateKey},
		{"x = 2^191 - 1", pkcs8WithExponent(t, ff, new(big.Int).Sub(floor, big.NewInt(1))), ErrInvalidPrivateKey},
		{"x = 2, x942", pkcs8WithExponent(t, x, big.NewInt(2)), ErrInvalidPrivateKey},
		{"x = 2, no q", pkcs8WithExponent(t, custom, big.NewInt(2)), ErrInvalidPrivateKey},
		{"x = -5", pkcs8WithExponent(t, ff, big.NewInt(-5)), ErrInvalidPrivateKey},
		{"x = q", pkcs8WithExponent(t, ff, ff.Q()), ErrInvalidPrivateKey},
		{"x = q, x942", pkcs8WithExponent(t, x, x.Q()), ErrInvalidPrivateKey},
		{"x = p-1, no q", pkcs8WithExponent(t, custom, new(big.Int).Sub(custom.P(), big.NewInt(1))), ErrInvalidPrivateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePKCS8(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// The largest allowed exponents are accepted.
	for _, in := range [][]byte{
		pkcs8WithExponent(t, ff, new(big.Int).Sub(ff.Q(), big.NewInt(1))),
		pkcs8WithExponent(t, custom, new(big.Int).Sub(custom.P(), big.NewInt(2))),
	} {
		if _, err := ParsePKCS8(in); err != nil {
			t.Errorf("largest exponent: %v", err)
		}
	}
}

func TestParsePKIXRejects(t *testing.T) {
	ff := FFDHE2048()
	valid := spkiWithValue(t, ff, big.NewInt(4))
	if _, err := ParsePKIX(valid); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	oddBits := mustMarshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidDHKeyAgreement, Parameters: asn1.RawValue{FullBytes: mustMarshal(pkcs3Params{P: ff.P(), G: big.NewInt(2)})}},
		PublicKey: asn1.BitString{Bytes: []byte{2, 1, 4}, BitLength: 23},
	})
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrInvalidPublicKey},
		{"trailing data", append(append([]byte(nil), valid...), 0), ErrInvalidPublicKey},
		{"y = 1", spkiWithValue(t, ff, big.NewInt(1)), ErrInvalidPublicKey},
		{"y = -4", spkiWithValue(t, ff, big.NewInt(-4)), ErrInvalidPublicKey},
		{"y = p-1", spkiWithValue(t, ff, new(big.Int).Sub(ff.P(), big.NewInt(1))), ErrInvalidPublicKey},
		{"y = p+4", spkiWithValue(t, ff, new(big.Int).Add(ff.P(), big.NewInt(4))), ErrInvalidPublicKey},
		{"y non-residue", spkiWithValue(t, ff, new(big.Int).Sub(ff.P(), big.NewInt(2))), ErrInvalidPublicKey},
		{"bit string not whole bytes", oddBits, ErrInvalidPublicKey},
		{"bad parameters", spkiWithValue(t, &Group{p: big.NewInt(23), g: big.NewInt(2), safePrime: true}, big.NewInt(4)), ErrInvalidParameters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePKIX(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
