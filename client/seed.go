package client

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/keycustodian/custodian"
)

// The original Python module's operations, as the library has them (its
// seed.go), made from the general calls so that the bytes are the same:
// AES ciphertexts base64(IV || AES-256-CBC(PKCS7(plaintext))), RSA
// ciphertexts base64 of the raw PKCS#1 v1.5 ciphertext.

// EstablishAESKey is the seed's establish_aes_key(id): an aes256-cbc key
// named id.
func (c *Client) EstablishAESKey(ctx context.Context, id string) (*custodian.Key, error) {
	return c.CreateKey(ctx, id, &custodian.CreateOptions{Type: custodian.AES256CBC, Description: "seed establish_aes_key"})
}

// EncryptDataAES is the seed's encrypt_data_aes(id, text).
func (c *Client) EncryptDataAES(ctx context.Context, id, plaintext string) (string, error) {
	return c.encryptSeed(ctx, id, plaintext, custodian.AlgAES256CBC)
}

// DecryptDataAES is the seed's decrypt_data_aes(id, ciphertext).
func (c *Client) DecryptDataAES(ctx context.Context, id, ciphertext string) (string, error) {
	return c.decryptSeed(ctx, id, ciphertext, custodian.AlgAES256CBC)
}

// GenerateRSAPair is the seed's generate_rsa_pair(user): an RSA-2048 key
// named user.
func (c *Client) GenerateRSAPair(ctx context.Context, user string) (*custodian.Key, error) {
	return c.CreateKey(ctx, user, &custodian.CreateOptions{Type: custodian.RSA2048, Description: "seed generate_rsa_pair"})
}

// EncryptDataRSA is the seed's encrypt_data_rsa(user, text).
func (c *Client) EncryptDataRSA(ctx context.Context, user, plaintext string) (string, error) {
	return c.encryptSeed(ctx, user, plaintext, custodian.AlgRSAPKCS1v15)
}

// DecryptDataRSA is the seed's decrypt_data_rsa(user, ciphertext).
func (c *Client) DecryptDataRSA(ctx context.Context, user, ciphertext string) (string, error) {
	return c.decryptSeed(ctx, user, ciphertext, custodian.AlgRSAPKCS1v15)
}

// InvalidateKey is the seed's invalidate_key(id): it revokes the key and
// returns the seed's message.
func (c *Client) InvalidateKey(ctx context.Context, id string) (string, error) {
	if _, err := c.RevokeKey(ctx, id); err != nil {
		return "", err
	}
	return "Key Revocation Successful", nil
}

func (c *Client) encryptSeed(ctx context.Context, name, plaintext string, alg custodian.Algorithm) (string, error) {
	raw, err := c.EncryptRaw(ctx, name, []byte(plaintext), &custodian.RawOptions{Algorithm: alg})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

func (c *Client) decryptSeed(ctx context.Context, name, ciphertext string, alg custodian.Algorithm) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", &custodian.Error{Op: string(custodian.OpDecrypt), Key: name, Err: fmt.Errorf("%w: not base64", custodian.ErrInvalidCiphertext)}
	}
	pt, err := c.DecryptRaw(ctx, name, raw, &custodian.RawOptions{Algorithm: alg})
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
