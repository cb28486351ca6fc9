package custodian

import "github.com/keycustodian/custodian/internal/algo"

// KeyType names a kind of key. The strings are persisted and sent over the
// API as they are.
type KeyType = algo.KeyType

// Key types. AES256GCM is the default.
const (
	// Symmetric encryption.
	AES256GCM        = algo.AES256GCM
	ChaCha20Poly1305 = algo.ChaCha20Poly1305
	// AES256CBC is the seed's AES-256-CBC with PKCS#7 padding. Legacy: for
	// data exchanged with systems that speak it; see docs/algorithms.md.
	AES256CBC = algo.AES256CBC

	// RSA: encryption (OAEP, PKCS#1 v1.5) and signatures (PSS, PKCS#1 v1.5).
	RSA2048 = algo.RSA2048
	RSA3072 = algo.RSA3072
	RSA4096 = algo.RSA4096

	// Signatures.
	ECDSAP256 = algo.ECDSAP256
	ECDSAP384 = algo.ECDSAP384
	ECDSAP521 = algo.ECDSAP521
	Ed25519   = algo.Ed25519

	// Key agreement.
	X25519      = algo.X25519
	ECDHP256    = algo.ECDHP256
	ECDHP384    = algo.ECDHP384
	ECDHP521    = algo.ECDHP521
	DHFFDHE2048 = algo.DHFFDHE2048
	DHFFDHE3072 = algo.DHFFDHE3072
	DHFFDHE4096 = algo.DHFFDHE4096

	// Message authentication.
	HMACSHA256 = algo.HMACSHA256
	HMACSHA512 = algo.HMACSHA512

	// HPKEX25519MLKEM768 is hybrid public-key encryption (RFC 9180) with the
	// post-quantum hybrid KEM ML-KEM-768 + X25519 and AES-256-GCM.
	HPKEX25519MLKEM768 = algo.HPKEX25519MLKEM768
)

// DefaultKeyType is the type of a key created without one.
const DefaultKeyType = AES256GCM

// KeyTypes lists every key type.
func KeyTypes() []KeyType { return algo.Types() }

// Algorithm names the algorithm of an operation: the same strings in the
// library, the API and the CLI. The zero value means the key type's default.
type Algorithm = algo.Algorithm

// Algorithms.
const (
	// Encryption.
	AlgAES256GCM          = algo.EncAES256GCM
	AlgChaCha20Poly1305   = algo.EncChaCha20Poly1305
	AlgAES256CBC          = algo.EncAES256CBC // legacy
	AlgRSAOAEPSHA256      = algo.EncRSAOAEPSHA256
	AlgRSAOAEPSHA1        = algo.EncRSAOAEPSHA1 // interoperability only
	AlgRSAPKCS1v15        = algo.EncRSAPKCS1v15 // legacy, the seed's padding
	AlgHPKEX25519MLKEM768 = algo.EncHPKEX25519MLKEM768

	// Signatures.
	AlgRSAPSSSHA256      = algo.SigRSAPSSSHA256
	AlgRSAPSSSHA384      = algo.SigRSAPSSSHA384
	AlgRSAPSSSHA512      = algo.SigRSAPSSSHA512
	AlgRSAPKCS1v15SHA256 = algo.SigRSAPKCS1v15SHA256
	AlgRSAPKCS1v15SHA384 = algo.SigRSAPKCS1v15SHA384
	AlgRSAPKCS1v15SHA512 = algo.SigRSAPKCS1v15SHA512
	AlgECDSASHA256       = algo.SigECDSASHA256
	AlgECDSASHA384       = algo.SigECDSASHA384
	AlgECDSASHA512       = algo.SigECDSASHA512
	AlgEd25519           = algo.SigEd25519

	// MACs.
	AlgHMACSHA256 = algo.MACHMACSHA256
	AlgHMACSHA512 = algo.MACHMACSHA512
)

// KeyUsage says what a key is for, fixed at creation: encryption, signing,
// MACs or key agreement. Only RSA keys have a choice (encrypt, the default,
// or sign): one RSA key never both decrypts and signs, so that a principal
// allowed to decrypt with it, PKCS#1 v1.5 included, cannot use it as a
// signing oracle. AWS KMS and Google Cloud KMS make the same separation.
type KeyUsage = algo.Purpose

// Key usages.
const (
	UsageEncrypt = algo.PurposeEncrypt
	UsageSign    = algo.PurposeSign
	UsageMAC     = algo.PurposeMAC
	UsageAgree   = algo.PurposeAgree
)

// State is a key's lifecycle state, persisted as its string. The zero value
// is not a state.
type State string

// The lifecycle states; docs/lifecycle.md has the table of what each allows.
const (
	StateEnabled         State = "enabled"
	StateDisabled        State = "disabled"
	StateRevoked         State = "revoked"
	StatePendingDeletion State = "pending-deletion"
	StateDestroyed       State = "destroyed"
)

// VersionState is the state of one key version.
type VersionState string

// Version states. A version's material exists until it is destroyed, which
// happens when its key is destroyed.
const (
	VersionEnabled   VersionState = "enabled"
	VersionDestroyed VersionState = "destroyed"
)
