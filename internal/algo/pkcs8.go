package algo

import (
	"encoding/pem"
	"fmt"

	"crypto/x509"

	"github.com/keycustodian/custodian/internal/secret"
)

// marshalPKCS8 encodes a private key as the stored form of asymmetric types.
func marshalPKCS8(k any) (secret.Bytes, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.Own(der), nil
}

// pkcs8Material accepts imported PKCS#8 as DER or as a "PRIVATE KEY" PEM
// block; the spec's loader checks that it is the right kind of key.
func pkcs8Material(raw []byte) (secret.Bytes, error) {
	if block, _ := pem.Decode(raw); block != nil {
		if block.Type != "PRIVATE KEY" {
			return secret.Bytes{}, fmt.Errorf("%w: PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", ErrInvalidMaterial, block.Type)
		}
		raw = block.Bytes
	}
	// Re-encode what x509 parses, so the stored form is canonical: x509
	// ignores trailing bytes, which would otherwise be stored and exported
	// back. Finite-field DH keys, which x509 does not know, are checked by
	// their own strict parser when the spec loads them.
	if k, err := x509.ParsePKCS8PrivateKey(raw); err == nil {
		return marshalPKCS8(k)
	}
	return secret.New(raw), nil
}
