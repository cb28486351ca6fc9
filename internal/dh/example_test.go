package dh_test

import (
	"bytes"
	"fmt"

	"github.com/keycustodian/custodian/internal/dh"
)

func Example() {
	alice, err := dh.FFDHE2048().GenerateKey()
	if err != nil {
		panic(err)
	}
	bob, err := dh.FFDHE2048().GenerateKey()
	if err != nil {
		panic(err)
	}
	// Each side sends the other its public key, for example as
	// MarshalPKIX output, and checks it with ParsePKIX.
	s1, err := alice.SharedSecret(bob.PublicKey())
	if err != nil {
		panic(err)
	}
	s2, err := bob.SharedSecret(alice.PublicKey())
	if err != nil {
		panic(err)
	}
	fmt.Println(bytes.Equal(s1, s2), len(s1))
	// Output: true 256
}

func ExamplePrivateKey_String() {
	k, err := dh.FFDHE3072().GenerateKey()
	if err != nil {
		panic(err)
	}
	fmt.Println(k)
	fmt.Printf("%#v\n", k)
	// Output:
	// dh.PrivateKey(ffdhe3072, REDACTED)
	// dh.PrivateKey(ffdhe3072, REDACTED)
}

func ExampleParseParameters() {
	// What openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048
	// prints.
	pemBytes := dh.FFDHE2048().ParametersPEM()
	g, err := dh.ParseParameters(pemBytes)
	if err != nil {
		panic(err)
	}
	fmt.Println(g.Name(), g.Bits(), g.ExponentBits(), g == dh.FFDHE2048())
	// Output: ffdhe2048 2048 256 true
}
