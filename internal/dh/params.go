package dh

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

var (
	// oidDHKeyAgreement is PKCS #3 dhKeyAgreement, which OpenSSL writes
	// for DH keys; its parameters are a DHParameter.
	oidDHKeyAgreement = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}
	// oidDHPublicNumber is ANSI X9.42 dhpublicnumber (RFC 3279 section
	// 2.3.3); its parameters are DomainParameters, which carry q.
	oidDHPublicNumber = asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}
)

// The PEM types OpenSSL uses for the two parameter encodings.
const (
	pemTypePKCS3 = "DH PARAMETERS"
	pemTypeX942  = "X9.42 DH PARAMETERS"
)

// pkcs3Params is DHParameter from PKCS #3 section 9.
type pkcs3Params struct {
	P, G               *big.Int
	PrivateValueLength int `asn1:"optional"`
}

// x942Params is DomainParameters from ANSI X9.42 (RFC 3279 section 2.3.3).
// Note the order: p, g, q.
type x942Params struct {
	P, G, Q    *big.Int
	J          *big.Int         `asn1:"optional"`
	Validation validationParams `asn1:"optional"`
}

// validationParams is ValidationParms: the FIPS 186 seed and counter. It is
// accepted but not checked, and never written, since Python cryptography 48
// cannot read DomainParameters that contain it.
type validationParams struct {
	Seed        asn1.BitString
	PgenCounter *big.Int
}

// ParametersPEM returns the group as PEM: a PKCS #3 "DH PARAMETERS" block
// for safe-prime groups, including the RFC 7919 ones (what openssl dhparam
// and Python cryptography's load_pem_parameters read), or an X9.42
// "X9.42 DH PARAMETERS" block carrying q for other groups, which PKCS #3
// cannot describe.
func (g *Group) ParametersPEM() []byte {
	_, der := g.encodeParams()
	typ := pemTypePKCS3
	if !g.safePrime {
		typ = pemTypeX942
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// encodeParams returns the algorithm OID and DER parameters for the group.
func (g *Group) encodeParams() (asn1.ObjectIdentifier, []byte) {
	if g.safePrime {
		return oidDHKeyAgreement, mustMarshal(pkcs3Params{P: g.p, G: g.g})
	}
	return oidDHPublicNumber, mustMarshal(x942Params{P: g.p, G: g.g, Q: g.q})
}

// mustMarshal encodes values that encoding/asn1 always accepts.
func mustMarshal(v any) []byte {
	der, err := asn1.Marshal(v)
	if err != nil {
		panic("dh: internal error: " + err.Error())
	}
	return der
}

// ParseParameters reads domain parameters in PEM ("DH PARAMETERS" or
// "X9.42 DH PARAMETERS") or DER. The RFC 7919 groups are recognised by
// value and returned as the same *Group as [FFDHE2048] and friends. Other
// groups must have a prime p of 2048 to 8192 bits and either a prime q of
// at least 224 bits that g generates, or, without q, a safe prime p. The
// primality tests (20 Miller-Rabin rounds plus Baillie-PSW) take about 0.2 s
// for a 2048-bit group and about 15 s for 8192 bits, the first time a
// group is seen; services that take parameters from untrusted peers should
// accept only named groups ([Group.Name] != ""), which cost nothing. A
// privateValueLength in PKCS #3 input is accepted and ignored. Errors wrap
// [ErrInvalidParameters].
func ParseParameters(pemOrDER []byte) (*Group, error) {
	block, rest := pem.Decode(pemOrDER)
	if block == nil {
		return parseParamsDER(pemOrDER)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrInvalidParameters)
	}
	switch block.Type {
	case pemTypePKCS3:
		return parsePKCS3(block.Bytes)
	case pemTypeX942:
		return parseX942(block.Bytes)
	}
	return nil, fmt.Errorf("%w: PEM type %q; %q or %q is allowed",
		ErrInvalidParameters, block.Type, pemTypePKCS3, pemTypeX942)
}

// parseParamsDER tells the two encodings apart: the third INTEGER is q in
// X9.42, at least 224 bits, but a bit count of at most 8192 in PKCS #3.
func parseParamsDER(der []byte) (*Group, error) {
	var x x942Params
	if rest, err := asn1.Unmarshal(der, &x); err == nil && len(rest) == 0 && x.Q.BitLen() > 16 {
		return parseX942(der)
	}
	return parsePKCS3(der)
}

// decodeParams reads the AlgorithmIdentifier parameters of a key.
func decodeParams(oid asn1.ObjectIdentifier, der []byte) (*Group, error) {
	switch {
	case oid.Equal(oidDHKeyAgreement):
		return parsePKCS3(der)
	case oid.Equal(oidDHPublicNumber):
		return parseX942(der)
	}
	return nil, fmt.Errorf("%w: algorithm %v; dhKeyAgreement (%v) or dhpublicnumber (%v) is allowed",
		ErrInvalidParameters, oid, oidDHKeyAgreement, oidDHPublicNumber)
}

func parsePKCS3(der []byte) (*Group, error) {
	v, err := unmarshalCanonical[pkcs3Params](der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS #3 DHParameter: %w", ErrInvalidParameters, err)
	}
	if v.PrivateValueLength < 0 || v.PrivateValueLength > v.P.BitLen() {
		return nil, fmt.Errorf("%w: privateValueLength %d is outside [0, %d]",
			ErrInvalidParameters, v.PrivateValueLength, v.P.BitLen())
	}
	return validGroup(v.P, v.G, nil)
}

func parseX942(der []byte) (*Group, error) {
	v, err := unmarshalCanonical[x942Params](der)
	if err != nil {
		return nil, fmt.Errorf("%w: X9.42 DomainParameters: %w", ErrInvalidParameters, err)
	}
	if v.J != nil && (v.Q.Sign() <= 0 || new(big.Int).Mul(v.J, v.Q).Cmp(new(big.Int).Sub(v.P, bigOne)) != 0) {
		return nil, fmt.Errorf("%w: cofactor j is not (p-1)/q", ErrInvalidParameters)
	}
	return validGroup(v.P, v.G, v.Q)
}

// unmarshalCanonical decodes DER and insists that re-encoding gives the
// same bytes, which rejects trailing data and extra SEQUENCE elements that
// encoding/asn1 would skip silently.
func unmarshalCanonical[T any](der []byte) (T, error) {
	var v T
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil {
		return v, err
	}
	if len(rest) != 0 {
		return v, fmt.Errorf("%d bytes of trailing data", len(rest))
	}
	again, err := asn1.Marshal(v)
	if err != nil || !bytes.Equal(again, der) {
		return v, errors.New("not in canonical DER form")
	}
	return v, nil
}
