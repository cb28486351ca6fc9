package client

import (
	"context"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/secret"
)

// Sign signs message with the named key's primary version (or
// opts.Version). On error it returns a nil *Signature.
func (c *Client) Sign(ctx context.Context, name string, message []byte, opts *custodian.SignOptions) (*custodian.Signature, error) {
	if opts == nil {
		opts = &custodian.SignOptions{}
	}
	cl := newCall(api.RouteSign)
	cl.name = name
	cl.body = api.SignRequest{Message: message, Digest: opts.Digest, Algorithm: opts.Algorithm, Version: opts.Version}
	var resp api.SignResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.Signature) == 0 {
		return nil, badResponse(cl.route, "no signature")
	}
	return &custodian.Signature{Signature: resp.Signature, KeyVersion: resp.KeyVersion, Algorithm: resp.Algorithm}, nil
}

// Verify checks a signature made by the named key: nil if it verifies, an
// error matching custodian.ErrInvalidSignature if it does not. Like the
// library's, it checks against the primary version unless opts.Version
// names the one the signature was made with.
func (c *Client) Verify(ctx context.Context, name string, message, signature []byte, opts *custodian.SignOptions) error {
	if opts == nil {
		opts = &custodian.SignOptions{}
	}
	cl := newCall(api.RouteVerify)
	cl.name = name
	cl.body = api.SignRequest{Message: message, Digest: opts.Digest, Algorithm: opts.Algorithm, Version: opts.Version, Signature: signature}
	return c.verify(ctx, cl, custodian.OpVerify, name, custodian.ErrInvalidSignature)
}

// verify runs a verification. The API answers a failed one with an
// error; a success must say valid, or it is a failure too.
func (c *Client) verify(ctx context.Context, cl *call, op custodian.Operation, name string, invalid error) error {
	var resp api.VerifyResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return err
	}
	if !resp.Valid {
		return &custodian.Error{Op: string(op), Key: name, Err: invalid}
	}
	return nil
}

// MAC computes the HMAC of message under the named key. On error it
// returns a nil *MAC.
func (c *Client) MAC(ctx context.Context, name string, message []byte, opts *custodian.MACOptions) (*custodian.MAC, error) {
	if opts == nil {
		opts = &custodian.MACOptions{}
	}
	cl := newCall(api.RouteMAC)
	cl.name = name
	cl.body = api.MACRequest{Message: message, Version: opts.Version}
	var resp api.MACResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.MAC) == 0 {
		return nil, badResponse(cl.route, "no MAC")
	}
	return &custodian.MAC{MAC: resp.MAC, KeyVersion: resp.KeyVersion, Algorithm: resp.Algorithm}, nil
}

// VerifyMAC checks a MAC: nil if it verifies, an error matching
// custodian.ErrInvalidMAC if it does not.
func (c *Client) VerifyMAC(ctx context.Context, name string, message, mac []byte, opts *custodian.MACOptions) error {
	if opts == nil {
		opts = &custodian.MACOptions{}
	}
	cl := newCall(api.RouteVerifyMAC)
	cl.name = name
	cl.body = api.MACRequest{Message: message, Version: opts.Version, MAC: mac}
	return c.verify(ctx, cl, custodian.OpVerifyMAC, name, custodian.ErrInvalidMAC)
}

// Agree performs key agreement between the named key and a peer's public
// key and returns the raw shared secret; see custodian.Custodian.Agree.
func (c *Client) Agree(ctx context.Context, name string, peer []byte, opts *custodian.AgreeOptions) (custodian.Secret, error) {
	if opts == nil {
		opts = &custodian.AgreeOptions{}
	}
	cl := newCall(api.RouteAgree)
	cl.name = name
	cl.body = api.AgreeRequest{Peer: peer, Version: opts.Version}
	var resp api.AgreeResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return custodian.Secret{}, err
	}
	if len(resp.SharedSecret) == 0 {
		return custodian.Secret{}, badResponse(cl.route, "no shared secret")
	}
	return secret.Own(resp.SharedSecret), nil
}

// DeriveKey agrees a shared secret with peer, derives a key from it with
// HKDF-SHA-256 and stores that as a new aes256-gcm key named newName; the
// shared secret never leaves the server. It is never retried: it creates
// a key.
func (c *Client) DeriveKey(ctx context.Context, name string, peer []byte, newName string, opts *custodian.DeriveOptions) (*custodian.Key, error) {
	if opts == nil {
		opts = &custodian.DeriveOptions{}
	}
	cl := newCall(api.RouteAgree)
	cl.retry, cl.op = false, "derive-key"
	cl.name = name
	cl.body = api.AgreeRequest{Peer: peer, Version: opts.Version, DeriveKey: &api.DeriveKeyParams{
		Name: newName, Salt: opts.Salt, Info: opts.Info, CreateKeyRequest: createRequest("", &opts.Key),
	}}
	var resp api.AgreeResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	clear(resp.SharedSecret) // a server that sent it anyway
	if resp.Key == nil || resp.Key.ID == "" {
		return nil, badResponse(cl.route, "no derived key")
	}
	return resp.Key.ToKey(), nil
}

// ExportKey returns a version's key material, only for keys created
// exportable; see custodian.Custodian.ExportKey for its forms.
func (c *Client) ExportKey(ctx context.Context, name string, opts *custodian.ExportOptions) (custodian.Secret, error) {
	if opts == nil {
		opts = &custodian.ExportOptions{}
	}
	cl := newCall(api.RouteExportKey)
	cl.name = name
	cl.body = api.ExportKeyRequest{Version: opts.Version}
	var resp api.ExportKeyResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return custodian.Secret{}, err
	}
	if len(resp.Material) == 0 {
		return custodian.Secret{}, badResponse(cl.route, "no key material")
	}
	return secret.Own(resp.Material), nil
}

// Random returns n bytes from the server's crypto/rand,
// 1 <= n <= custodian.MaxRandomBytes.
func (c *Client) Random(ctx context.Context, n int) ([]byte, error) {
	cl := newCall(api.RouteRandom)
	cl.body = api.RandomRequest{Bytes: n}
	var resp api.RandomResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.Random) != n {
		return nil, badResponse(cl.route, "wrong number of random bytes")
	}
	return resp.Random, nil
}
