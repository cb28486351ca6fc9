package dh

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// subjectPublicKeyInfo is SubjectPublicKeyInfo from RFC 5280.
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// MarshalPKIX returns k as a DER SubjectPublicKeyInfo whose BIT STRING holds
// y as an INTEGER. The algorithm is dhKeyAgreement with PKCS #3 parameters
// for safe-prime groups, byte for byte what openssl pkey -pubout writes for
// the RFC 7919 groups, and dhpublicnumber with X9.42 parameters otherwise.
func (k *PublicKey) MarshalPKIX() ([]byte, error) {
	if k == nil || !k.group.usable() {
		return nil, fmt.Errorf("%w: marshal: key is not initialised", ErrInvalidPublicKey)
	}
	oid, params := k.group.encodeParams()
	y := mustMarshal(new(big.Int).SetBytes(k.y))
	return asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: y, BitLength: 8 * len(y)},
	})
}

// ParsePKIX reads a DER SubjectPublicKeyInfo with either the dhKeyAgreement
// or the dhpublicnumber OID, validates its group as [ParseParameters] does
// and its value as [Group.NewPublicKey] does. Errors wrap
// [ErrInvalidParameters] or [ErrInvalidPublicKey].
func ParsePKIX(der []byte) (*PublicKey, error) {
	var spki subjectPublicKeyInfo
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a DER SubjectPublicKeyInfo", ErrInvalidPublicKey)
	}
	group, err := decodeParams(spki.Algorithm.Algorithm, spki.Algorithm.Parameters.FullBytes)
	if err != nil {
		return nil, err
	}
	if spki.PublicKey.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: public key BIT STRING is not whole bytes", ErrInvalidPublicKey)
	}
	var y *big.Int
	if rest, err := asn1.Unmarshal(spki.PublicKey.Bytes, &y); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: public key is not a DER INTEGER", ErrInvalidPublicKey)
	}
	return group.publicKey(y)
}
