package api

import (
	"time"

	"github.com/keycustodian/custodian"
)

// Request and response bodies. Binary fields are []byte, which
// encoding/json carries as standard base64. Servers decode requests with
// unknown fields refused; clients ignore unknown response fields, so a
// newer server may add some.

// Key is a key's metadata, as custodian.Key, with the rotation period as
// a Go duration string ("2160h0m0s").
type Key struct {
	ID                   string                  `json:"id"`
	Name                 string                  `json:"name"`
	Type                 custodian.KeyType       `json:"type"`
	Usage                custodian.KeyUsage      `json:"usage"`
	Description          string                  `json:"description,omitempty"`
	Labels               map[string]string       `json:"labels,omitempty"`
	Exportable           bool                    `json:"exportable"`
	State                custodian.State         `json:"state"`
	DeletionDate         time.Time               `json:"deletion_date,omitzero"`
	Created              time.Time               `json:"created"`
	Updated              time.Time               `json:"updated"`
	PrimaryVersion       int                     `json:"primary_version"`
	LatestVersion        int                     `json:"latest_version"`
	MinDecryptionVersion int                     `json:"min_decryption_version"`
	RotationPeriod       Duration                `json:"rotation_period,omitzero"`
	Versions             []custodian.VersionInfo `json:"versions"`
}

// FromKey converts a library key.
func FromKey(k *custodian.Key) *Key {
	if k == nil {
		return nil
	}
	return &Key{
		ID: k.ID, Name: k.Name, Type: k.Type, Usage: k.Usage, Description: k.Description,
		Labels: k.Labels, Exportable: k.Exportable, State: k.State, DeletionDate: k.DeletionDate,
		Created: k.Created, Updated: k.Updated, PrimaryVersion: k.PrimaryVersion,
		LatestVersion: k.LatestVersion, MinDecryptionVersion: k.MinDecryptionVersion,
		RotationPeriod: Duration(k.RotationPeriod), Versions: k.Versions,
	}
}

// ToKey converts back to a library key.
func (k *Key) ToKey() *custodian.Key {
	if k == nil {
		return nil
	}
	return &custodian.Key{
		ID: k.ID, Name: k.Name, Type: k.Type, Usage: k.Usage, Description: k.Description,
		Labels: k.Labels, Exportable: k.Exportable, State: k.State, DeletionDate: k.DeletionDate,
		Created: k.Created, Updated: k.Updated, PrimaryVersion: k.PrimaryVersion,
		LatestVersion: k.LatestVersion, MinDecryptionVersion: k.MinDecryptionVersion,
		RotationPeriod: time.Duration(k.RotationPeriod), Versions: k.Versions,
	}
}

// CreateKeyRequest creates a key (POST /v1/keys).
type CreateKeyRequest struct {
	Name           string             `json:"name"`
	Type           custodian.KeyType  `json:"type,omitempty"`
	Usage          custodian.KeyUsage `json:"usage,omitempty"`
	Description    string             `json:"description,omitempty"`
	Labels         map[string]string  `json:"labels,omitempty"`
	Exportable     bool               `json:"exportable,omitempty"`
	RotationPeriod Duration           `json:"rotation_period,omitzero"`
}

// Options returns the library's options.
func (r *CreateKeyRequest) Options() *custodian.CreateOptions {
	return &custodian.CreateOptions{Type: r.Type, Usage: r.Usage, Description: r.Description,
		Labels: r.Labels, Exportable: r.Exportable, RotationPeriod: time.Duration(r.RotationPeriod)}
}

// ImportKeyRequest creates a key from material (POST /v1/keys/{name}/import).
type ImportKeyRequest struct {
	Material []byte `json:"material"`
	CreateKeyRequest
}

// ListKeysResponse is a page of keys (GET /v1/keys?prefix=&page_size=&page_token=).
type ListKeysResponse struct {
	Keys          []*Key `json:"keys"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// UpdateKeyRequest changes a key's settings; absent fields stay.
type UpdateKeyRequest struct {
	Description          *string           `json:"description,omitempty"`
	Labels               map[string]string `json:"labels,omitzero"` // {} removes every label
	MinDecryptionVersion *int              `json:"min_decryption_version,omitempty"`
	RotationPeriod       *Duration         `json:"rotation_period,omitempty"`
}

// ScheduleDeletionRequest schedules a key's destruction.
type ScheduleDeletionRequest struct {
	// PendingDays is the waiting period, 7 to 30; zero means 30.
	PendingDays int `json:"pending_days,omitempty"`
}

// ExportKeyRequest exports an exportable key's material.
type ExportKeyRequest struct {
	Version int `json:"version,omitempty"`
}

// ExportKeyResponse holds the material: raw bytes for symmetric keys,
// PKCS#8 DER for asymmetric ones.
type ExportKeyResponse struct {
	Material []byte `json:"material"`
}

// PublicKeyResponse holds a public key (GET /v1/keys/{name}/public?format=pem|der&version=N).
type PublicKeyResponse struct {
	Format    custodian.PublicKeyFormat `json:"format"`
	PublicKey []byte                    `json:"public_key"`
}

// Ciphertext forms.
const (
	// FormatText is the self-describing ciphertext, text form ("kc1:…").
	FormatText = "text"
	// FormatRaw is the bare algorithm output, as OpenSSL and the original
	// module produce and read it (aes256-cbc: IV ‖ ciphertext; RSA: the
	// RSA ciphertext), carried base64 in Raw.
	FormatRaw = "raw"
)

// EncryptRequest encrypts under a key (POST /v1/keys/{name}/encrypt).
type EncryptRequest struct {
	Plaintext      []byte              `json:"plaintext"`
	AssociatedData []byte              `json:"associated_data,omitempty"`
	Algorithm      custodian.Algorithm `json:"algorithm,omitempty"`
	// Format is "text" (default) or "raw".
	Format string `json:"format,omitempty"`
	// Version picks a key version for the raw form; zero is the primary.
	Version int `json:"version,omitempty"`
}

// EncryptResponse holds the ciphertext: Ciphertext in text form, or Raw.
type EncryptResponse struct {
	Ciphertext string `json:"ciphertext,omitempty"`
	Raw        []byte `json:"raw,omitempty"`
}

// DecryptRequest decrypts: POST /v1/decrypt takes a text-form Ciphertext
// (Key optional: the key the caller expects); POST /v1/keys/{name}/decrypt
// also takes Raw with Format "raw".
type DecryptRequest struct {
	Ciphertext     string              `json:"ciphertext,omitempty"`
	Raw            []byte              `json:"raw,omitempty"`
	Format         string              `json:"format,omitempty"`
	Key            string              `json:"key,omitempty"`
	AssociatedData []byte              `json:"associated_data,omitempty"`
	Algorithm      custodian.Algorithm `json:"algorithm,omitempty"`
	Version        int                 `json:"version,omitempty"`
}

// DecryptResponse holds the plaintext.
type DecryptResponse struct {
	Plaintext []byte `json:"plaintext"`
}

// RewrapRequest re-encrypts a ciphertext under its key's primary version.
type RewrapRequest struct {
	Ciphertext     string `json:"ciphertext"`
	Key            string `json:"key,omitempty"`
	AssociatedData []byte `json:"associated_data,omitempty"`
}

// RewrapResponse holds the new ciphertext.
type RewrapResponse struct {
	Ciphertext string `json:"ciphertext"`
}

// BatchEncryptRequest encrypts many items, at most the server's limit.
type BatchEncryptRequest struct {
	Items []BatchEncryptItem `json:"items"`
}

// BatchEncryptItem is one item.
type BatchEncryptItem struct {
	Key            string              `json:"key"`
	Plaintext      []byte              `json:"plaintext"`
	AssociatedData []byte              `json:"associated_data,omitempty"`
	Algorithm      custodian.Algorithm `json:"algorithm,omitempty"`
}

// BatchEncryptResponse has one result per item, in item order.
type BatchEncryptResponse struct {
	Results []BatchEncryptResult `json:"results"`
}

// BatchEncryptResult is a ciphertext or an error.
type BatchEncryptResult struct {
	Ciphertext string       `json:"ciphertext,omitempty"`
	Error      *ErrorDetail `json:"error,omitempty"`
}

// BatchDecryptRequest decrypts many items.
type BatchDecryptRequest struct {
	Items []BatchDecryptItem `json:"items"`
}

// BatchDecryptItem is one item.
type BatchDecryptItem struct {
	Ciphertext     string `json:"ciphertext"`
	Key            string `json:"key,omitempty"`
	AssociatedData []byte `json:"associated_data,omitempty"`
}

// BatchDecryptResponse has one result per item, in item order.
type BatchDecryptResponse struct {
	Results []BatchDecryptResult `json:"results"`
}

// BatchDecryptResult is a plaintext or an error.
type BatchDecryptResult struct {
	Plaintext []byte       `json:"plaintext,omitzero"` // an empty plaintext is ""
	Error     *ErrorDetail `json:"error,omitempty"`
}

// DataKeyRequest generates a data key (POST /v1/keys/{name}/datakey).
type DataKeyRequest struct {
	// Bytes is the data key's length; zero means 32.
	Bytes          int                 `json:"bytes,omitempty"`
	AssociatedData []byte              `json:"associated_data,omitempty"`
	Algorithm      custodian.Algorithm `json:"algorithm,omitempty"`
	// NoPlaintext returns only the encrypted data key.
	NoPlaintext bool `json:"no_plaintext,omitempty"`
}

// DataKeyResponse holds the data key and its encryption.
type DataKeyResponse struct {
	Plaintext  []byte `json:"plaintext,omitempty"`
	Ciphertext string `json:"ciphertext"`
}

// SignRequest signs (POST /v1/keys/{name}/sign) and, with Signature set,
// verifies (POST /v1/keys/{name}/verify).
type SignRequest struct {
	Message   []byte              `json:"message"`
	Digest    bool                `json:"digest,omitempty"`
	Algorithm custodian.Algorithm `json:"algorithm,omitempty"`
	Version   int                 `json:"version,omitempty"`
	Signature []byte              `json:"signature,omitempty"`
}

// SignResponse is the signature, the exact bytes a standard verifier takes.
type SignResponse struct {
	Signature  []byte              `json:"signature"`
	KeyVersion int                 `json:"key_version"`
	Algorithm  custodian.Algorithm `json:"algorithm"`
}

// MACRequest computes (POST …/mac) or, with MAC set, verifies (POST …/verify-mac).
type MACRequest struct {
	Message []byte `json:"message"`
	Version int    `json:"version,omitempty"`
	MAC     []byte `json:"mac,omitempty"`
}

// MACResponse is the MAC.
type MACResponse struct {
	MAC        []byte              `json:"mac"`
	KeyVersion int                 `json:"key_version"`
	Algorithm  custodian.Algorithm `json:"algorithm"`
}

// VerifyResponse answers a successful verification; a failed one is an
// error (invalid_signature, invalid_mac).
type VerifyResponse struct {
	Valid bool `json:"valid"`
}

// AgreeRequest performs key agreement with a peer public key (PEM or DER
// SPKI, or the raw public value). With DeriveKey set, the shared secret
// becomes a new stored aes256-gcm key through HKDF-SHA-256 and is never
// returned.
type AgreeRequest struct {
	Peer      []byte           `json:"peer"`
	Version   int              `json:"version,omitempty"`
	DeriveKey *DeriveKeyParams `json:"derive_key,omitempty"`
}

// DeriveKeyParams name and configure the derived key.
type DeriveKeyParams struct {
	Name string `json:"name"`
	Salt []byte `json:"salt,omitempty"`
	Info []byte `json:"info,omitempty"`
	CreateKeyRequest
}

// AgreeResponse holds the shared secret, or the derived key.
type AgreeResponse struct {
	SharedSecret []byte `json:"shared_secret,omitempty"`
	Key          *Key   `json:"key,omitempty"`
}

// RandomRequest asks for random bytes.
type RandomRequest struct {
	Bytes int `json:"bytes"`
}

// RandomResponse holds them.
type RandomResponse struct {
	Random []byte `json:"random"`
}

// HealthResponse is the health check's body, 200 or 503.
type HealthResponse struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Version     string `json:"version"`
}

// InitRequest initializes the server.
type InitRequest struct {
	Shares    int `json:"shares,omitempty"`
	Threshold int `json:"threshold,omitempty"`
}

// InitResponse carries the shares (Shamir seal) and the root token, shown
// this once.
type InitResponse struct {
	Shares    []string `json:"shares,omitempty"`
	Threshold int      `json:"threshold,omitempty"`
	RootToken string   `json:"root_token"`
}

// UnsealRequest gives one share.
type UnsealRequest struct {
	Share string `json:"share"`
}

// RekeyRequest replaces the root key and shares (sys/rekey), or with
// RotateRoot, also the data-encryption key (sys/rotate-root).
type RekeyRequest struct {
	Shares       []string `json:"shares,omitempty"`
	NewShares    int      `json:"new_shares,omitempty"`
	NewThreshold int      `json:"new_threshold,omitempty"`
}

// RekeyResponse carries the new shares.
type RekeyResponse struct {
	Shares     []string `json:"shares,omitempty"`
	Threshold  int      `json:"threshold,omitempty"`
	ActiveTerm uint32   `json:"active_term,omitempty"`
	Resealed   int      `json:"resealed,omitempty"`
}

// RootTokenRequest asks for a new root token (sys/root-token): a quorum of
// shares under a Shamir seal, none under a key file.
type RootTokenRequest struct {
	Shares []string `json:"shares,omitempty"`
}

// RootTokenResponse carries the new root token, shown this once.
type RootTokenResponse struct {
	RootToken string `json:"root_token"`
}

// RotateDueKeysResponse counts the keys rotated.
type RotateDueKeysResponse struct {
	Rotated int `json:"rotated"`
}

// RestoreResponse counts what a restore wrote. A restore is authorized by
// the backup's own root key: shares in the X-Custodian-Shares header
// (comma-separated) for a Shamir seal, or the server's key file.
type RestoreResponse struct {
	Meta int `json:"meta"`
	Keys int `json:"keys"`
}

// Header names.
const (
	// HeaderRequestID is on every response.
	HeaderRequestID = "X-Request-Id"
	// HeaderShares carries a restore's shares.
	HeaderShares = "X-Custodian-Shares"
)
