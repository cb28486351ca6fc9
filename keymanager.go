package custodian

import (
	"context"
	"time"
)

// KeyManager is every key operation, satisfied alike by the embedded
// *Custodian and by the remote client (package client), so that a program
// switches between in-process and remote key management by changing the
// line that makes one:
//
//	var km custodian.KeyManager = kms                  // in-process
//	var km custodian.KeyManager = client.New(addr, …)  // over the network
//
// Errors wrap the same sentinels either way. Operating the key manager
// itself (Init, Unseal, Seal, Rekey, RotateRoot, Backup) is not part of it:
// a remote client does those with the root token's authority.
type KeyManager interface {
	CreateKey(ctx context.Context, name string, opts *CreateOptions) (*Key, error)
	ImportKey(ctx context.Context, name string, material []byte, opts *CreateOptions) (*Key, error)
	GetKey(ctx context.Context, name string) (*Key, error)
	ListKeys(ctx context.Context, opts *ListOptions) (*KeyPage, error)
	UpdateKey(ctx context.Context, name string, u KeyUpdate) (*Key, error)
	RotateKey(ctx context.Context, name string) (*Key, error)
	EnableKey(ctx context.Context, name string) (*Key, error)
	DisableKey(ctx context.Context, name string) (*Key, error)
	RevokeKey(ctx context.Context, name string) (*Key, error)
	ScheduleKeyDeletion(ctx context.Context, name string, window time.Duration) (*Key, error)
	CancelKeyDeletion(ctx context.Context, name string) (*Key, error)
	DestroyKey(ctx context.Context, name string) (*Key, error)
	PublicKey(ctx context.Context, name string, opts *PublicKeyOptions) ([]byte, error)
	ExportKey(ctx context.Context, name string, opts *ExportOptions) (Secret, error)

	Encrypt(ctx context.Context, name string, plaintext []byte, opts *EncryptOptions) (Ciphertext, error)
	Decrypt(ctx context.Context, ct Ciphertext, opts *DecryptOptions) ([]byte, error)
	EncryptRaw(ctx context.Context, name string, plaintext []byte, opts *RawOptions) ([]byte, error)
	DecryptRaw(ctx context.Context, name string, raw []byte, opts *RawOptions) ([]byte, error)
	Rewrap(ctx context.Context, ct Ciphertext, opts *RewrapOptions) (Ciphertext, error)
	EncryptBatch(ctx context.Context, items []BatchEncryptItem) ([]BatchEncryptResult, error)
	DecryptBatch(ctx context.Context, items []BatchDecryptItem) ([]BatchDecryptResult, error)
	GenerateDataKey(ctx context.Context, name string, opts *DataKeyOptions) (*DataKey, error)
	GenerateDataKeyWithoutPlaintext(ctx context.Context, name string, opts *DataKeyOptions) (Ciphertext, error)

	Sign(ctx context.Context, name string, message []byte, opts *SignOptions) (*Signature, error)
	Verify(ctx context.Context, name string, message, signature []byte, opts *SignOptions) error
	MAC(ctx context.Context, name string, message []byte, opts *MACOptions) (*MAC, error)
	VerifyMAC(ctx context.Context, name string, message, mac []byte, opts *MACOptions) error
	Agree(ctx context.Context, name string, peer []byte, opts *AgreeOptions) (Secret, error)
	DeriveKey(ctx context.Context, name string, peer []byte, newName string, opts *DeriveOptions) (*Key, error)
	Random(ctx context.Context, n int) ([]byte, error)

	// The original module's operations.
	EstablishAESKey(ctx context.Context, id string) (*Key, error)
	EncryptDataAES(ctx context.Context, id, plaintext string) (string, error)
	DecryptDataAES(ctx context.Context, id, ciphertext string) (string, error)
	GenerateRSAPair(ctx context.Context, user string) (*Key, error)
	EncryptDataRSA(ctx context.Context, user, plaintext string) (string, error)
	DecryptDataRSA(ctx context.Context, user, ciphertext string) (string, error)
	InvalidateKey(ctx context.Context, id string) (string, error)
}

var _ KeyManager = (*Custodian)(nil)
