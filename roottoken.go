package custodian

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal"
)

// The root token authenticates a server's administrator until identities
// and policies exist. Init returns it once; the store keeps its SHA-256
// hash and an HMAC of the hash under the root key, so a token planted by
// whoever can write to the database is refused. Tokens are "kct1." and 32
// random bytes in base64url.

const tokenPrefix = "kct1."

func newRootToken() (Secret, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Secret{}, err
	}
	return secret.New([]byte(tokenPrefix + base64.RawURLEncoding.EncodeToString(b))), nil
}

func tokenHash(token Secret) []byte {
	h := sha256.Sum256(secret.Reveal(token))
	return h[:]
}

func tokenMAC(root secret.Bytes, hash []byte) []byte {
	m := hmac.New(sha256.New, secret.Reveal(root))
	m.Write([]byte("keycustodian root token v1"))
	m.Write(hash)
	return m.Sum(nil)
}

// verifiedToken returns rec's token hash if its MAC verifies under root.
func verifiedToken(root secret.Bytes, rec *rootRecord) []byte {
	if rec.TokenHash == nil || !hmac.Equal(tokenMAC(root, rec.TokenHash), rec.TokenMAC) {
		return nil
	}
	return rec.TokenHash
}

// tokenReloadEvery bounds how often a wrong token makes the custodian read
// the root record again (another process may have made a new token).
const tokenReloadEvery = 5 * time.Second

// CheckRootToken reports whether token is the root token, comparing hashes
// in constant time. It needs the Custodian unsealed (the token's MAC is
// checked with the root key) and fails with ErrInvalidToken otherwise.
func (c *Custodian) CheckRootToken(ctx context.Context, token []byte) error {
	if _, err := c.unsealed(); err != nil {
		return err
	}
	h := sha256.Sum256(token)
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.token != nil && subtle.ConstantTimeCompare(h[:], c.root.token) == 1 {
		return nil
	}
	if now := time.Now(); now.Sub(c.root.tokenReload) > tokenReloadEvery && !c.root.root.IsZero() {
		c.root.tokenReload = now
		if rec, _, err := c.readRoot(ctx); err == nil {
			c.root.token = verifiedToken(c.root.root, rec)
		}
		if c.root.token != nil && subtle.ConstantTimeCompare(h[:], c.root.token) == 1 {
			return nil
		}
	}
	return ErrInvalidToken
}

// NewRootToken replaces the root token and returns the new one; the old
// one stops working. A Shamir seal needs a quorum of shares (whoever holds
// the token can use every key, so making one is the share holders' call);
// a key-file seal needs none. It works unsealed.
func (c *Custodian) NewRootToken(ctx context.Context, shares [][]byte) (Secret, error) {
	tok, err := c.newRootToken(ctx, shares)
	return tok, opError("new-root-token", "", err)
}

func (c *Custodian) newRootToken(ctx context.Context, shares [][]byte) (Secret, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.ephemeral {
		return Secret{}, fmt.Errorf("%w: an in-memory Custodian has no root token", ErrUnsupportedOperation)
	}
	if c.vault.Load() == nil {
		return Secret{}, ErrSealed
	}
	rec, raw, err := c.readRoot(ctx)
	if err != nil {
		return Secret{}, err
	}
	if _, ok := c.seal.(seal.Splitter); ok {
		if _, err := decodeQuorum(c.seal, shares, rec); err != nil {
			return Secret{}, err
		}
	} else if len(shares) > 0 {
		return Secret{}, fmt.Errorf("%w: a %s seal takes no shares", ErrInvalidArgument, c.seal.Type())
	}
	tok, err := newRootToken()
	if err != nil {
		return Secret{}, err
	}
	next := *rec
	next.TokenHash = tokenHash(tok)
	next.TokenMAC = tokenMAC(c.root.root, next.TokenHash)
	if err := c.writeRoot(ctx, raw, &next); err != nil {
		return Secret{}, err
	}
	c.root.token = next.TokenHash
	return tok, nil
}
