package custodian

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/keycustodian/custodian/internal/algo"
)

// The original Python KeyCustodian's operations, one to one, under their Go
// names. Each is a thin layer over the general API and documents which call
// it stands for; README.md has the mapping table.
//
// They produce the seed's bytes: AES ciphertexts are base64(IV ||
// AES-256-CBC(PKCS7(plaintext))), RSA ciphertexts base64 of the raw
// PKCS#1 v1.5 ciphertext, so data moves to and from OpenSSL, Python
// cryptography and the original module unchanged. Both are legacy,
// unauthenticated formats, never the default of the general API.

// EstablishAESKey is the seed's establish_aes_key(id): it creates an
// aes256-cbc key named id with 256 bits from crypto/rand. Unlike the seed
// it does not return the key bytes; create the key with CreateKey and
// Exportable to take them out.
func (c *Custodian) EstablishAESKey(ctx context.Context, id string) (*Key, error) {
	return c.CreateKey(ctx, id, &CreateOptions{Type: AES256CBC, Description: "seed establish_aes_key"})
}

// EncryptDataAES is the seed's encrypt_data_aes(id, text): AES-256-CBC with
// PKCS#7 padding and a fresh random IV, returned as base64(IV || ciphertext).
func (c *Custodian) EncryptDataAES(ctx context.Context, id, plaintext string) (string, error) {
	return c.encryptSeed(ctx, id, plaintext, AlgAES256CBC)
}

// DecryptDataAES is the seed's decrypt_data_aes(id, ciphertext).
func (c *Custodian) DecryptDataAES(ctx context.Context, id, ciphertext string) (string, error) {
	return c.decryptSeed(ctx, id, ciphertext, AlgAES256CBC)
}

// GenerateRSAPair is the seed's generate_rsa_pair(user): an RSA-2048 key
// named user.
func (c *Custodian) GenerateRSAPair(ctx context.Context, user string) (*Key, error) {
	return c.CreateKey(ctx, user, &CreateOptions{Type: RSA2048, Description: "seed generate_rsa_pair"})
}

// EncryptDataRSA is the seed's encrypt_data_rsa(user, text): RSA PKCS#1
// v1.5 encryption, base64 of the RSA ciphertext.
func (c *Custodian) EncryptDataRSA(ctx context.Context, user, plaintext string) (string, error) {
	return c.encryptSeed(ctx, user, plaintext, AlgRSAPKCS1v15)
}

// DecryptDataRSA is the seed's decrypt_data_rsa(user, ciphertext).
func (c *Custodian) DecryptDataRSA(ctx context.Context, user, ciphertext string) (string, error) {
	return c.decryptSeed(ctx, user, ciphertext, AlgRSAPKCS1v15)
}

// DHKeyPair is what GenerateDiffieHellmanParamsAndKey returns: the stored
// key and its public half. The private half stays in the Custodian; use
// Agree or DeriveKey with the key's name.
type DHKeyPair struct {
	Key *Key
	// PublicKey is PEM SubjectPublicKeyInfo; Parameters PKCS#3 PEM.
	PublicKey  []byte
	Parameters []byte
}

// GenerateDiffieHellmanParamsAndKey is the seed's
// generate_diffie_hellman_params_and_key(): 2048-bit Diffie-Hellman
// parameters and a key pair. The seed generated fresh parameters on every
// call (seconds to minutes); this uses the standard RFC 7919 ffdhe2048
// group instead, which is at least as strong and what TLS uses. Fresh
// parameters are still available from GenerateDHParameters. Unlike the seed,
// the key is stored under a name.
func (c *Custodian) GenerateDiffieHellmanParamsAndKey(ctx context.Context, name string) (*DHKeyPair, error) {
	k, err := c.CreateKey(ctx, name, &CreateOptions{Type: DHFFDHE2048, Description: "seed generate_diffie_hellman_params_and_key"})
	if err != nil {
		return nil, err
	}
	pub, err := c.PublicKey(ctx, name, nil)
	if err != nil {
		return nil, err
	}
	params, _ := algo.DHParameters(DHFFDHE2048)
	return &DHKeyPair{Key: k, PublicKey: pub, Parameters: params}, nil
}

// InvalidateKey is the seed's invalidate_key(id): it revokes the key, so
// that every later use fails with ErrKeyRevoked. It returns the seed's
// message on success.
func (c *Custodian) InvalidateKey(ctx context.Context, id string) (string, error) {
	if _, err := c.RevokeKey(ctx, id); err != nil {
		return "", err
	}
	return "Key Revocation Successful", nil
}

func (c *Custodian) encryptSeed(ctx context.Context, name, plaintext string, alg Algorithm) (string, error) {
	raw, err := c.EncryptRaw(ctx, name, []byte(plaintext), &RawOptions{Algorithm: alg})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

func (c *Custodian) decryptSeed(ctx context.Context, name, ciphertext string, alg Algorithm) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", opError(string(OpDecrypt), name, fmt.Errorf("%w: not base64", ErrInvalidCiphertext))
	}
	pt, err := c.DecryptRaw(ctx, name, raw, &RawOptions{Algorithm: alg})
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
