package custodian

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/keycustodian/custodian/internal/secret"
)

// Secret is key material handed to the caller: a data key's plaintext, an
// agreed secret, an exported key. It prints as REDACTED through fmt, slog,
// JSON and text encoders; Reveal is the one way to read its bytes.
type Secret = secret.Bytes

// Reveal returns a secret's bytes. Every call is a place where key material
// leaves the library's protection; keep them few and obvious.
func Reveal(s Secret) []byte { return secret.Reveal(s) }

// DataKeyOptions adjust GenerateDataKey; nil means a 32-byte key.
type DataKeyOptions struct {
	// Bytes is the data key's length: 32 (an AES-256 key) when zero, at
	// most MaxRandomBytes.
	Bytes          int
	AssociatedData []byte
	Algorithm      Algorithm
}

// DataKey is a fresh random key and its encryption under a managed key
// (envelope encryption): use Plaintext to encrypt data locally, discard it,
// and store Ciphertext beside the data.
type DataKey struct {
	// Plaintext is empty from GenerateDataKeyWithoutPlaintext.
	Plaintext  Secret
	Ciphertext Ciphertext
}

// GenerateDataKey returns a fresh random data key from crypto/rand, in
// plaintext and encrypted under the primary version of the named key.
func (c *Custodian) GenerateDataKey(ctx context.Context, name string, opts *DataKeyOptions) (*DataKey, error) {
	dk, err := c.dataKey(ctx, name, opts)
	return dk, opError("generate-data-key", name, err)
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey for a caller that only
// stores the encrypted key now and decrypts it later, where it is used.
func (c *Custodian) GenerateDataKeyWithoutPlaintext(ctx context.Context, name string, opts *DataKeyOptions) (Ciphertext, error) {
	dk, err := c.dataKey(ctx, name, opts)
	if err != nil {
		return nil, opError("generate-data-key", name, err)
	}
	dk.Plaintext.Wipe()
	return dk.Ciphertext, nil
}

func (c *Custodian) dataKey(ctx context.Context, name string, opts *DataKeyOptions) (*DataKey, error) {
	if opts == nil {
		opts = &DataKeyOptions{}
	}
	n := opts.Bytes
	if n == 0 {
		n = 32
	}
	pt, err := randomBytes(n)
	if err != nil {
		return nil, err
	}
	ct, err := c.encrypt(ctx, name, pt, &EncryptOptions{AssociatedData: opts.AssociatedData, Algorithm: opts.Algorithm})
	if err != nil {
		clear(pt)
		return nil, err
	}
	return &DataKey{Plaintext: secret.Own(pt), Ciphertext: ct}, nil
}

// Random returns n bytes from crypto/rand, 1 <= n <= MaxRandomBytes.
func (c *Custodian) Random(_ context.Context, n int) ([]byte, error) {
	b, err := randomBytes(n)
	return b, opError("random", "", err)
}

func randomBytes(n int) ([]byte, error) {
	if n < 1 || n > MaxRandomBytes {
		return nil, fmt.Errorf("%w: %d bytes requested, allowed 1 to %d", ErrInvalidArgument, n, MaxRandomBytes)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}
