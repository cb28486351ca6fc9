// Package dh implements finite-field Diffie-Hellman over the RFC 7919
// groups, with the legacy parameter generation the original Python
// KeyCustodian had.
//
// The common case needs three calls: pick a group ([FFDHE2048],
// [FFDHE3072], [FFDHE4096], [FFDHE6144] or [FFDHE8192]), create a key with
// [Group.GenerateKey], and agree on a secret with [PrivateKey.SharedSecret].
// Keys travel as PKCS #8
// ([PrivateKey.MarshalPKCS8], [ParsePKCS8]) and SubjectPublicKeyInfo
// ([PublicKey.MarshalPKIX], [ParsePKIX]); domain parameters as PEM
// ([Group.ParametersPEM], [ParseParameters]). [GenerateParameters] creates
// fresh groups for the few deployments that were set up with their own.
//
// # Threat model
//
// Private keys are long-lived: a key manager holds static DH keys and
// answers many agreements with them, so every peer value is hostile until
// checked. [PrivateKey.SharedSecret] and every constructor of [PublicKey]
// require 2 <= y <= p-2 and, when the prime order q of the generator's
// subgroup is known, y^q = 1 (mod p) (NIST SP 800-56A Rev. 3,
// section 5.6.2.3.1, full public-key validation). A shared secret of 1 is
// rejected. Groups read from outside must either carry q or use a safe
// prime; groups whose subgroup structure is unknown would let a peer
// confine the exponent to small subgroups and recover a static key piece by
// piece (Lim and Lee, CRYPTO 1997), so they are refused. Validating a
// custom group costs primality tests (about 0.2 s at 2048 bits, 15 s at
// 8192); results are cached per group, but code that accepts keys or
// parameters from untrusted peers should insist on a named group.
//
// Arithmetic on private exponents is constant time: y = g^x and the shared
// secret are computed with filippo.io/bigmod (the standard library's RSA
// arithmetic, exported), whose Exp runs in a time that depends only on the
// byte length of the exponent, never on its value. math/big works on public
// values (parameter validation and generation, peer validation), and on the
// exponent only when a key is imported or exported, to range-check it and
// convert it to or from a DER INTEGER, which reveals nothing beyond the
// length of the encoding.
//
// A [PrivateKey] never prints its exponent: fmt, log/slog and encoding/json
// see a redacted description. The exponent leaves the package only through
// [PrivateKey.MarshalPKCS8].
//
// # Compatibility
//
// Encodings match what OpenSSL 3 writes for DH keys: PKCS #3 DHParameter
// with the dhKeyAgreement OID (1.2.840.113549.1.3.1) for safe-prime groups,
// including the RFC 7919 groups, and X9.42 DomainParameters with the
// dhpublicnumber OID (1.2.840.10046.2.1) for groups with a small subgroup
// order q. Both OIDs are accepted when parsing: Python cryptography 48
// writes dhpublicnumber with q even for the RFC 7919 groups (38 wrote
// dhKeyAgreement, like OpenSSL). Groups are
// recognised by value, so an RFC 7919 group read in either form is the same
// *Group as [FFDHE2048] and friends.
//
// Shared secrets are left-padded to the byte length of p, as RFC 7919,
// RFC 2631, NIST SP 800-56A and Python cryptography do. The OpenSSL 3
// command line does not pad by default; pass -pkeyopt pad:1 to
// openssl pkeyutl -derive to compare.
//
// # Private exponent sizes
//
// Fresh keys use short exponents (RFC 7919 section 5.2, NIST SP 800-56A
// Rev. 3 section 5.6.1.1.4): x is uniform in [2^191, 2^n), or in
// [2^191, q) when q is smaller than 2^n (the floor is explained below). n
// is 256 bits for p below 3072 bits, 320 below 4096, 384 below 6144 and
// 448 from there up ([Group.ExponentBits]). Each is a multiple of 64 that
// covers, for the RFC 7919 group at the bottom of its class, both the
// appendix A recommendation (225, 275 and 325 bits; 375 and 400 for
// ffdhe6144 and ffdhe8192, which share 448) and twice the group's NIST
// SP 800-57 security strength (224, 256, 304, 352 and 400 bits), and none
// is below 256. OpenSSL uses the RFC minimums; the extra bits cost at
// most about 15% more time per exponentiation.
//
// Imported exponents ([ParsePKCS8]) must have at least 192 bits
// (x >= 2^191) in every group, besides lying below q (or p-1). The floor
// refuses exponents too short to be secret: x = 2, hand-made test keys,
// truncated randomness, 160-bit exponents sized for 1024-bit-era groups.
// It is not 224 bits, twice ffdhe2048's 112-bit strength, because one key
// cannot show the range its exponent was drawn from: OpenSSL 3 draws
// ffdhe2048 exponents uniformly below 2^225, so about a quarter of its keys
// have fewer than 224 bits (12 of 60 keys generated with
// openssl genpkey -algorithm DH -pkeyopt group:ffdhe2048, OpenSSL 3.0.19,
// had 216 to 223 bits), and a 224-bit floor would refuse them. 192 is 224
// less 32 bits of margin: an exponent drawn uniformly below 2^224, the NIST
// SP 800-56A minimum for ffdhe2048, falls under it once in 2^33 keys;
// OpenSSL's once in 2^34; ours, drawn below 2^256 or more, never, because
// [Group.GenerateKey] applies the same floor. Larger groups keep the same
// floor rather than one scaled to their strength, so that keys from
// implementations with a fixed 256-bit exponent still import.
package dh
