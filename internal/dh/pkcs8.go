package dh

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// pkcs8 is PrivateKeyInfo from RFC 5208. The optional attributes (and the
// public key of RFC 5958 version 1) are ignored when parsing.
type pkcs8 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// MarshalPKCS8 returns k as an unencrypted DER PKCS #8 PrivateKeyInfo whose
// OCTET STRING holds x as an INTEGER, with the same algorithm and parameters
// as [PublicKey.MarshalPKIX]. This is the only way the exponent leaves the
// package; seal the result before it leaves the process.
func (k *PrivateKey) MarshalPKCS8() ([]byte, error) {
	if k == nil || !k.group.usable() {
		return nil, fmt.Errorf("%w: marshal: key is not initialised", ErrInvalidPrivateKey)
	}
	oid, params := k.group.encodeParams()
	return asn1.Marshal(pkcs8{
		Algorithm:  pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: params}},
		PrivateKey: mustMarshal(new(big.Int).SetBytes(k.x)),
	})
}

// ParsePKCS8 reads an unencrypted DER PKCS #8 DH private key with either
// the dhKeyAgreement or the dhpublicnumber OID, as written by
// [PrivateKey.MarshalPKCS8], OpenSSL or Python cryptography. The group is
// validated as [ParseParameters] does, and x must have at least 192 bits
// and lie below q, or below p-1 when q is unknown: x in [2^191, q-1] or
// [2^191, p-2] (see "Private exponent sizes" in the package
// documentation). The public value is recomputed from x. Errors wrap
// [ErrInvalidParameters] or [ErrInvalidPrivateKey] and never contain key
// material.
func ParsePKCS8(der []byte) (*PrivateKey, error) {
	var info pkcs8
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a DER PKCS #8 PrivateKeyInfo", ErrInvalidPrivateKey)
	}
	if info.Version != 0 && info.Version != 1 {
		return nil, fmt.Errorf("%w: PKCS #8 version %d; 0 or 1 is allowed", ErrInvalidPrivateKey, info.Version)
	}
	group, err := decodeParams(info.Algorithm.Algorithm, info.Algorithm.Parameters.FullBytes)
	if err != nil {
		return nil, err
	}
	var x *big.Int
	if rest, err := asn1.Unmarshal(info.PrivateKey, &x); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: private key is not a DER INTEGER", ErrInvalidPrivateKey)
	}
	xBytes, err := group.importExponent(x)
	if err != nil {
		return nil, err
	}
	return group.newPrivateKey(xBytes), nil
}

// importExponent range-checks x and pads it for Exp. The comparisons use
// math/big; on values this far apart in size they reveal no more than the
// DER length of x already does.
func (g *Group) importExponent(x *big.Int) ([]byte, error) {
	upper, bound := g.q, "q-1" // upper is exclusive
	if upper == nil {
		upper, bound = new(big.Int).Sub(g.p, bigOne), "p-2"
	}
	if x.Sign() <= 0 || x.BitLen() < minExponentBits || x.Cmp(upper) >= 0 {
		return nil, fmt.Errorf("%w: exponent is outside [2^%d, %s] for %v: private exponents need at least %d bits",
			ErrInvalidPrivateKey, minExponentBits-1, bound, g, minExponentBits)
	}
	size := max((g.xBoundBits+7)/8, (x.BitLen()+7)/8)
	return x.FillBytes(make([]byte, size)), nil
}
