package custodian

import (
	"context"
	"fmt"
)

// BatchEncryptItem is one item of EncryptBatch.
type BatchEncryptItem struct {
	Key            string
	Plaintext      []byte
	AssociatedData []byte
	Algorithm      Algorithm
}

// BatchEncryptResult is the result of one item: a ciphertext or an error.
type BatchEncryptResult struct {
	Ciphertext Ciphertext
	Err        error
}

// BatchDecryptItem is one item of DecryptBatch.
type BatchDecryptItem struct {
	Ciphertext     Ciphertext
	AssociatedData []byte
	// Key, if set, is the key the caller expects.
	Key string
}

// BatchDecryptResult is the result of one item: a plaintext or an error.
type BatchDecryptResult struct {
	Plaintext []byte
	Err       error
}

// EncryptBatch encrypts each item independently; results are in item
// order, and one item's failure does not stop the others. The error is
// non-nil only when the batch itself is refused (more than MaxBatch items).
func (c *Custodian) EncryptBatch(ctx context.Context, items []BatchEncryptItem) ([]BatchEncryptResult, error) {
	if err := checkBatch("encrypt-batch", len(items)); err != nil {
		return nil, err
	}
	out := make([]BatchEncryptResult, len(items))
	for i, it := range items {
		out[i].Ciphertext, out[i].Err = c.Encrypt(ctx, it.Key, it.Plaintext,
			&EncryptOptions{AssociatedData: it.AssociatedData, Algorithm: it.Algorithm})
	}
	return out, nil
}

// DecryptBatch decrypts each item independently, like EncryptBatch.
func (c *Custodian) DecryptBatch(ctx context.Context, items []BatchDecryptItem) ([]BatchDecryptResult, error) {
	if err := checkBatch("decrypt-batch", len(items)); err != nil {
		return nil, err
	}
	out := make([]BatchDecryptResult, len(items))
	for i, it := range items {
		out[i].Plaintext, out[i].Err = c.Decrypt(ctx, it.Ciphertext,
			&DecryptOptions{AssociatedData: it.AssociatedData, Key: it.Key})
	}
	return out, nil
}

func checkBatch(op string, n int) error {
	if n > MaxBatch {
		return opError(op, "", fmt.Errorf("%w: %d items, at most %d per batch", ErrInvalidArgument, n, MaxBatch))
	}
	return nil
}
