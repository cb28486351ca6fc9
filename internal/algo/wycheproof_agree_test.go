package algo_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/internal/wycheproof"
)

// ecdh_test_schema_v1, ecdh_ecpoint_test_schema_v1 and xdh_comp_schema_v1.
type agreeGroup struct {
	Curve    string      `json:"curve"`
	Encoding string      `json:"encoding"` // "asn" (SPKI DER) or "ecpoint" (raw point); absent for X25519
	Tests    []agreeTest `json:"tests"`
}

type agreeTest struct {
	wycheproof.Test
	Public  wycheproof.Hex `json:"public"`
	Private wycheproof.Hex `json:"private"`
	Shared  wycheproof.Hex `json:"shared"`
}

// agreeKey wraps a raw private scalar in PKCS#8 and loads it as typ through
// Spec.Import and Spec.Load, the path a caller's imported key takes.
func agreeKey(t *testing.T, typ algo.KeyType, curve ecdh.Curve, scalar []byte) (algo.Agreer, error) {
	t.Helper()
	priv, err := curve.NewPrivateKey(scalar)
	if err != nil {
		return nil, fmt.Errorf("private scalar: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	k, err := loadKey(t, typ, der)
	if err != nil {
		return nil, err
	}
	a, ok := k.(algo.Agreer)
	if !ok {
		return nil, fmt.Errorf("%s key is not an Agreer", typ)
	}
	return a, nil
}

// fixedScalar normalises a Wycheproof private scalar (an ASN.1 integer's
// bytes: possibly with a leading 00, possibly shorter than the field) to
// exactly size bytes, as crypto/ecdh wants it.
func fixedScalar(b []byte, size int) ([]byte, error) {
	for len(b) > size && b[0] == 0 {
		b = b[1:]
	}
	if len(b) > size {
		return nil, fmt.Errorf("private scalar of %d bytes for a %d-byte curve", len(b), size)
	}
	return append(make([]byte, size-len(b), size), b...), nil
}

// acceptableOutcomes counts, per flag, the acceptable vectors we accepted
// and rejected, for the log.
type acceptableOutcomes struct {
	accepted, reject map[string]int
}

func (o *acceptableOutcomes) add(tc *wycheproof.Test, accepted bool) {
	if o.accepted == nil {
		o.accepted, o.reject = map[string]int{}, map[string]int{}
	}
	key := strings.Join(tc.Flags, "+")
	if accepted {
		o.accepted[key]++
	} else {
		o.reject[key]++
	}
}

func (o *acceptableOutcomes) log(t *testing.T, name string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(o.accepted)) {
		t.Logf("%s: acceptable %s: %d accepted", name, k, o.accepted[k])
	}
	for _, k := range slices.Sorted(maps.Keys(o.reject)) {
		t.Logf("%s: acceptable %s: %d rejected (ErrInvalidInput)", name, k, o.reject[k])
	}
}

// TestWycheproofECDH runs the NIST-curve ECDH vectors through ecdh-pNNN keys:
// the private scalar is wrapped as PKCS#8 and imported, and Agree takes the
// peer key as the vector gives it (SubjectPublicKeyInfo DER, or the raw point
// in the ecpoint file). Valid vectors must give the shared secret; invalid
// ones must fail with ErrInvalidInput.
//
// Acceptable vectors are pinned by kind in ecdhAcceptable: a rejection must
// be ErrInvalidInput from ParseECDHPublicKey (a deliberate rejection, not a
// panic or another error), an acceptance must give the right secret, and a
// kind we reject must stay rejected, so that a change in what crypto/x509 or
// crypto/ecdh accept is noticed. Each file logs its outcomes by flag.
func TestWycheproofECDH(t *testing.T) {
	curves := map[string]struct {
		typ   algo.KeyType
		curve ecdh.Curve
		size  int
	}{
		"secp256r1": {algo.ECDHP256, ecdh.P256(), 32},
		"secp384r1": {algo.ECDHP384, ecdh.P384(), 48},
		"secp521r1": {algo.ECDHP521, ecdh.P521(), 66},
	}
	files := []string{
		"ecdh_secp256r1_test.json",
		"ecdh_secp384r1_test.json",
		"ecdh_secp521r1_test.json",
		"ecdh_secp256r1_ecpoint_test.json",
	}
	forEachFile(t, files, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[agreeGroup](t, name, tally)
		var outcomes acceptableOutcomes
		// The files reuse a few dozen private keys across a thousand vectors;
		// loading each once keeps the P-384 and P-521 files fast under -race.
		keys := map[string]algo.Agreer{}
		for _, g := range f.TestGroups {
			c, ok := curves[g.Curve]
			if !ok || (g.Encoding != "asn" && g.Encoding != "ecpoint") {
				for range g.Tests {
					tally.Skip(fmt.Sprintf("curve %s, encoding %s", g.Curve, g.Encoding))
				}
				continue
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				scalar, err := fixedScalar(tc.Private, c.size)
				if err != nil {
					t.Errorf("%s %v: %v", name, &tc.Test, err)
					continue
				}
				k, ok := keys[string(scalar)]
				if !ok {
					if k, err = agreeKey(t, c.typ, c.curve, scalar); err != nil {
						t.Errorf("%s %v: load private key: %v", name, &tc.Test, err)
						continue
					}
					keys[string(scalar)] = k
				}
				shared, err := k.Agree(tc.Public)
				checkAgree(t, name, &tc.Test, shared, err, tc.Shared, &outcomes)
			}
		}
		outcomes.log(t, name)
	})
}

// checkAgree asserts an agreement against a vector. Acceptable vectors
// follow ecdhAcceptable.
func checkAgree(t *testing.T, name string, tc *wycheproof.Test, shared secret.Bytes, err error, want []byte, outcomes *acceptableOutcomes) {
	t.Helper()
	got := secret.Reveal(shared)
	switch tc.Result {
	case wycheproof.Valid:
		if err != nil {
			t.Errorf("%s %v: unexpected error: %v", name, tc, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s %v: shared secret %x, want %x", name, tc, got, want)
		}
	case wycheproof.Invalid:
		if !errors.Is(err, algo.ErrInvalidInput) {
			t.Errorf("%s %v: got (%x, %v), want %v", name, tc, got, err, algo.ErrInvalidInput)
		}
	case wycheproof.Acceptable:
		outcomes.add(tc, err == nil)
		policy := ecdhAcceptable(tc)
		switch {
		case policy == "":
			t.Errorf("%s %v: acceptable vector of a kind with no policy; decide one in ecdhAcceptable", name, tc)
		case err == nil && policy == rejectAcceptable:
			t.Errorf("%s %v: accepted (shared %x), but we expect to reject this kind of key; if crypto/x509 or crypto/ecdh changed, review ecdhAcceptable", name, tc, got)
		case err == nil && !bytes.Equal(got, want):
			t.Errorf("%s %v: accepted with shared secret %x, want %x", name, tc, got, want)
		case err != nil && !errors.Is(err, algo.ErrInvalidInput):
			t.Errorf("%s %v: rejected with %v, want %v", name, tc, err, algo.ErrInvalidInput)
		}
	}
}

// What we do with a kind of acceptable vector.
const (
	// rejectAcceptable: Agree must fail with ErrInvalidInput.
	rejectAcceptable = "reject"
	// eitherAcceptable: Agree may fail with ErrInvalidInput or succeed with
	// the vector's shared secret; nothing else.
	eitherAcceptable = "either"
)

// ecdhAcceptable is our policy for acceptable ECDH vectors, by flag.
//
//   - CompressedPublic/CompressedPoint: rejected. crypto/x509 and
//     crypto/ecdh take uncompressed points only, and Agree documents the raw
//     form as an uncompressed point.
//   - UnnamedCurve (explicit curve parameters, with or without a modified
//     cofactor, generator or order): rejected. crypto/x509 parses named
//     curves only, which is the safe choice: explicit parameters invite
//     invalid-curve attacks.
//   - InvalidAsn: either. crypto/x509 rejects most malformed
//     SubjectPublicKeyInfo encodings, but tolerates extra elements after the
//     BIT STRING or after the curve OID inside the SEQUENCEs (16 vectors per
//     file at this commit). The point itself is still parsed and validated,
//     so the secret is the right one; Agree does not use the peer's bytes
//     for anything else.
func ecdhAcceptable(tc *wycheproof.Test) string {
	switch {
	case tc.HasFlag("CompressedPublic"), tc.HasFlag("CompressedPoint"), tc.HasFlag("UnnamedCurve"):
		return rejectAcceptable
	case tc.HasFlag("InvalidAsn"):
		return eitherAcceptable
	}
	return ""
}

// TestWycheproofX25519 runs the X25519 vectors through x25519 keys: the raw
// private key is wrapped as PKCS#8 and imported, and Agree takes the raw
// 32-byte peer key.
//
// Acceptable vectors (twist points, non-canonical and low-order public keys)
// are accepted with the RFC 7748 result, except those whose shared secret is
// all zeros: crypto/ecdh refuses that result (RFC 7748, section 6.1), so for
// exactly those vectors Agree must fail with ErrInvalidInput.
func TestWycheproofX25519(t *testing.T) {
	forEachFile(t, []string{"x25519_test.json"}, func(t *testing.T, name string, tally *wycheproof.Tally) {
		f := loadVectors[agreeGroup](t, name, tally)
		var zeroRejected int
		for _, g := range f.TestGroups {
			if g.Curve != "curve25519" {
				for range g.Tests {
					tally.Skip("curve " + g.Curve)
				}
				continue
			}
			for i := range g.Tests {
				tc := &g.Tests[i]
				tally.Run()
				k, err := agreeKey(t, algo.X25519, ecdh.X25519(), tc.Private)
				if err != nil {
					t.Errorf("%s %v: load private key: %v", name, &tc.Test, err)
					continue
				}
				shared, err := k.Agree(tc.Public)
				got := secret.Reveal(shared)
				allZero := len(tc.Shared) > 0 && bytes.Count(tc.Shared, []byte{0}) == len(tc.Shared)
				switch {
				case tc.Result == wycheproof.Invalid:
					if !errors.Is(err, algo.ErrInvalidInput) {
						t.Errorf("%s %v: got (%x, %v), want %v", name, &tc.Test, got, err, algo.ErrInvalidInput)
					}
				case allZero:
					if tc.Result != wycheproof.Acceptable {
						t.Errorf("%s %v: an all-zero shared secret marked %s; expected only acceptable ones", name, &tc.Test, tc.Result)
					}
					if !errors.Is(err, algo.ErrInvalidInput) {
						t.Errorf("%s %v: all-zero shared secret: got (%x, %v), want %v", name, &tc.Test, got, err, algo.ErrInvalidInput)
					}
					zeroRejected++
				default: // valid, or acceptable with a non-zero result
					if err != nil {
						t.Errorf("%s %v: unexpected error: %v", name, &tc.Test, err)
					} else if !bytes.Equal(got, tc.Shared) {
						t.Errorf("%s %v: shared secret %x, want %x", name, &tc.Test, got, tc.Shared)
					}
				}
			}
		}
		t.Logf("%s: %d acceptable vectors with an all-zero shared secret rejected as expected", name, zeroRejected)
	})
}
