package custodian

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/envelope"
)

// EncryptOptions adjust Encrypt and EncryptRaw; nil means the defaults.
type EncryptOptions struct {
	// AssociatedData is authenticated with the ciphertext but not encrypted;
	// decryption needs the same bytes.
	AssociatedData []byte
	// Algorithm overrides the key type's default (for RSA keys:
	// rsa-oaep-sha256; rsa-oaep-sha1 and rsa-pkcs1v15 for interoperability).
	Algorithm Algorithm
}

// DecryptOptions adjust Decrypt; nil means the defaults.
type DecryptOptions struct {
	AssociatedData []byte
	// Key, if set, is the name of the key the caller expects: a ciphertext
	// made under another key is refused as ErrInvalidCiphertext.
	Key string
}

// RawOptions adjust EncryptRaw and DecryptRaw.
type RawOptions struct {
	AssociatedData []byte
	Algorithm      Algorithm
	// Version is the key version to use; zero means the primary version.
	Version int
}

// encryptSlack covers the largest symmetric overhead beyond the header:
// CBC's IV, padding block and HMAC (16 + 16 + 32).
const encryptSlack = 64

// Encrypt encrypts plaintext under the primary version of the named key
// and returns a self-describing ciphertext. Symmetric keys, RSA keys
// (OAEP-SHA-256 by default) and HPKE keys encrypt.
func (c *Custodian) Encrypt(ctx context.Context, name string, plaintext []byte, opts *EncryptOptions) (Ciphertext, error) {
	ct, err := c.encrypt(ctx, name, plaintext, opts)
	if err != nil {
		return nil, opError(string(OpEncrypt), name, err)
	}
	return ct, nil
}

func (c *Custodian) encrypt(ctx context.Context, name string, plaintext []byte, opts *EncryptOptions) (Ciphertext, error) {
	if opts == nil {
		opts = &EncryptOptions{}
	}
	e, err := c.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	k, alg, err := c.encrypter(ctx, e, opts.Algorithm, e.rec.PrimaryVersion, OpEncrypt)
	if err != nil {
		return nil, err
	}
	if !selfDescribing(alg) {
		return nil, fmt.Errorf("%w: %s cannot authenticate a ciphertext header; use rsa-oaep-sha256, or EncryptRaw for the legacy form", ErrUnsupportedOperation, alg)
	}
	return c.sealWith(e, k, alg, e.rec.PrimaryVersion, plaintext, opts.AssociatedData)
}

// selfDescribing reports whether alg may be used in a self-describing
// ciphertext. rsa-pkcs1v15 may not: it binds no header, so changing one bit
// of an rsa-oaep-sha256 header (0x10 -> 0x12) would send an OAEP ciphertext
// to PKCS #1 v1.5 decryption, whose success or failure is Bleichenbacher's
// oracle on every OAEP ciphertext of the key. Its raw form (EncryptRaw,
// DecryptRaw, the seed's EncryptDataRSA) stays, for interoperability.
func selfDescribing(alg Algorithm) bool { return alg != AlgRSAPKCS1v15 }

// sealWith builds header and body in one buffer.
func (c *Custodian) sealWith(e *entry, k algo.Encrypter, alg Algorithm, version uint32, plaintext, aad []byte) (Ciphertext, error) {
	buf := make([]byte, 0, envelope.HeaderSize+len(plaintext)+encryptSlack)
	buf = envelope.AppendHeader(buf, envelope.Header{Algorithm: alg, KeyID: e.kid, Version: version})
	ct, err := k.Seal(buf, alg, buf[:envelope.HeaderSize], plaintext, aad)
	if err != nil {
		return nil, convertAlgoError(err)
	}
	return ct, nil
}

// encrypter checks that e may encrypt with alg (default if empty) and loads
// the version.
func (c *Custodian) encrypter(ctx context.Context, e *entry, alg Algorithm, version uint32, op Operation) (algo.Encrypter, Algorithm, error) {
	if err := checkState(State(e.rec.State), op); err != nil {
		return nil, "", err
	}
	if err := e.requireUsage(UsageEncrypt); err != nil {
		return nil, "", err
	}
	if alg == "" {
		alg = e.spec.DefaultAlgorithm()
	}
	if _, ok := envelope.Code(alg); !ok || !e.spec.Allows(alg) {
		return nil, "", fmt.Errorf("%w: key type %s cannot encrypt with %q", ErrUnsupportedOperation, e.spec.Type, alg)
	}
	k, err := c.loadVersion(ctx, e, version)
	if err != nil {
		return nil, "", err
	}
	enc, ok := k.(algo.Encrypter)
	if !ok {
		return nil, "", fmt.Errorf("%w: key type %s does not encrypt", ErrUnsupportedOperation, e.spec.Type)
	}
	return enc, alg, nil
}

// Decrypt decrypts a ciphertext made by Encrypt. Every failure that could
// tell an attacker something about the ciphertext is ErrInvalidCiphertext:
// malformed input, any modified byte, a key or version that does not exist,
// different associated data. Refusals because of the key's state name the
// state (ErrKeyRevoked, ...); a genuine ciphertext from a version below the
// key's minimum decryption version is ErrKeyVersionNotAllowed.
func (c *Custodian) Decrypt(ctx context.Context, ct Ciphertext, opts *DecryptOptions) ([]byte, error) {
	if opts == nil {
		opts = &DecryptOptions{}
	}
	pt, e, _, err := c.decrypt(ctx, ct, opts)
	if err != nil {
		return nil, opError(string(OpDecrypt), entryName(e, opts.Key), err)
	}
	return pt, nil
}

// entryName is the key name an error should carry: the one the caller
// named when it named one (never the name of another key a ciphertext
// happens to point at), else the ciphertext's key.
func entryName(e *entry, expected string) string {
	if expected != "" || e == nil {
		return expected
	}
	return e.rec.Name
}

// decrypt returns the plaintext, the key's snapshot and the header.
func (c *Custodian) decrypt(ctx context.Context, ct Ciphertext, opts *DecryptOptions) ([]byte, *entry, envelope.Header, error) {
	h, header, body, err := envelope.Parse(ct)
	if err != nil {
		return nil, nil, h, ErrInvalidCiphertext
	}
	e, err := c.resolveID(ctx, hex.EncodeToString(h.KeyID[:]))
	if errors.Is(err, ErrKeyNotFound) {
		return nil, nil, h, ErrInvalidCiphertext
	}
	if err != nil {
		return nil, nil, h, err
	}
	if opts.Key != "" && opts.Key != e.rec.Name {
		return nil, e, h, ErrInvalidCiphertext
	}
	if err := checkState(State(e.rec.State), OpDecrypt); err != nil {
		return nil, e, h, err
	}
	if h.Version > e.rec.LatestVersion || !e.spec.Allows(h.Algorithm) || !selfDescribing(h.Algorithm) ||
		e.requireUsage(UsageEncrypt) != nil {
		return nil, e, h, ErrInvalidCiphertext
	}
	k, err := c.loadVersion(ctx, e, h.Version)
	if err != nil {
		return nil, e, h, err
	}
	dec, ok := k.(algo.Encrypter)
	if !ok {
		return nil, e, h, ErrInvalidCiphertext
	}
	pt, err := dec.Open(h.Algorithm, header, body, opts.AssociatedData)
	if err != nil {
		return nil, e, h, ErrInvalidCiphertext
	}
	// Authenticate first, then apply policy: a forged version number never
	// gets further than the line above.
	if h.Version < e.rec.MinDecryptionVersion {
		clear(pt)
		return nil, e, h, fmt.Errorf("%w: version %d, minimum %d", ErrKeyVersionNotAllowed, h.Version, e.rec.MinDecryptionVersion)
	}
	return pt, e, h, nil
}

// RewrapOptions adjust Rewrap; nil means the defaults.
type RewrapOptions struct {
	AssociatedData []byte
	// Key, if set, is the name of the key the caller expects.
	Key string
}

// Rewrap decrypts a ciphertext and encrypts the plaintext again under the
// primary version of the same key, with the same algorithm and associated
// data, without the plaintext ever leaving the Custodian. Use it after a
// rotation, before raising the minimum decryption version.
func (c *Custodian) Rewrap(ctx context.Context, ct Ciphertext, opts *RewrapOptions) (Ciphertext, error) {
	if opts == nil {
		opts = &RewrapOptions{}
	}
	pt, e, h, err := c.decrypt(ctx, ct, &DecryptOptions{AssociatedData: opts.AssociatedData, Key: opts.Key})
	if err != nil {
		return nil, opError("rewrap", entryName(e, opts.Key), err)
	}
	defer clear(pt)
	k, alg, err := c.encrypter(ctx, e, h.Algorithm, e.rec.PrimaryVersion, OpEncrypt)
	if err != nil {
		return nil, opError("rewrap", e.rec.Name, err)
	}
	out, err := c.sealWith(e, k, alg, e.rec.PrimaryVersion, pt, opts.AssociatedData)
	return out, opError("rewrap", e.rec.Name, err)
}

// EncryptRaw encrypts without the self-describing header, in the bare form
// other tools understand: for aes256-cbc the original module's IV ||
// ciphertext; for AEAD keys nonce || ciphertext || tag; for RSA the RSA
// ciphertext; for HPKE enc || ciphertext. Decrypting it needs the key name,
// the algorithm and the version (DecryptRaw).
//
// The raw aes256-cbc and rsa-pkcs1v15 forms are unauthenticated legacy
// formats: use them only to exchange data with systems that need them.
func (c *Custodian) EncryptRaw(ctx context.Context, name string, plaintext []byte, opts *RawOptions) ([]byte, error) {
	out, err := c.raw(ctx, name, opts, func(k algo.Encrypter, alg Algorithm, aad []byte) ([]byte, error) {
		return k.SealRaw(alg, plaintext, aad)
	}, OpEncrypt)
	return out, opError(string(OpEncrypt), name, err)
}

// DecryptRaw decrypts EncryptRaw's output, or the same form made by
// another tool (OpenSSL, Python cryptography, the original module).
func (c *Custodian) DecryptRaw(ctx context.Context, name string, raw []byte, opts *RawOptions) ([]byte, error) {
	out, err := c.raw(ctx, name, opts, func(k algo.Encrypter, alg Algorithm, aad []byte) ([]byte, error) {
		pt, err := k.OpenRaw(alg, raw, aad)
		if err != nil {
			return nil, ErrInvalidCiphertext
		}
		return pt, nil
	}, OpDecrypt)
	return out, opError(string(OpDecrypt), name, err)
}

func (c *Custodian) raw(ctx context.Context, name string, opts *RawOptions, do func(algo.Encrypter, Algorithm, []byte) ([]byte, error), op Operation) ([]byte, error) {
	if opts == nil {
		opts = &RawOptions{}
	}
	e, err := c.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkState(State(e.rec.State), op); err != nil {
		return nil, err
	}
	v, err := e.version(opts.Version, op)
	if err != nil {
		return nil, err
	}
	k, alg, err := c.encrypter(ctx, e, opts.Algorithm, v, op)
	if err != nil {
		return nil, err
	}
	out, err := do(k, alg, opts.AssociatedData)
	return out, convertAlgoError(err)
}

// version picks a version for op: zero means primary; an explicit version
// must exist and, for operations that read old data, not be below the
// minimum decryption version.
func (e *entry) version(v int, op Operation) (uint32, error) {
	if v == 0 {
		return e.rec.PrimaryVersion, nil
	}
	if v < 1 || v > int(e.rec.LatestVersion) {
		return 0, fmt.Errorf("%w: key has versions 1 to %d, not %d", ErrInvalidArgument, e.rec.LatestVersion, v)
	}
	if uint32(v) < e.rec.MinDecryptionVersion {
		return 0, fmt.Errorf("%w: version %d, minimum %d", ErrKeyVersionNotAllowed, v, e.rec.MinDecryptionVersion)
	}
	return uint32(v), nil
}

// convertAlgoError maps the algorithm layer's errors to the library's.
func convertAlgoError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, algo.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupportedOperation, err)
	case errors.Is(err, algo.ErrInvalidInput), errors.Is(err, algo.ErrInvalidMaterial):
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	case errors.Is(err, algo.ErrDecrypt):
		return ErrInvalidCiphertext
	}
	return err
}
