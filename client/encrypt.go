package client

import (
	"context"
	"fmt"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/secret"
)

// parseCiphertext reads a ciphertext the server returned.
func parseCiphertext(route, text string) (custodian.Ciphertext, error) {
	if text == "" {
		return nil, badResponse(route, "no ciphertext")
	}
	ct, err := custodian.ParseCiphertext(text)
	if err != nil {
		return nil, badResponse(route, "the ciphertext is not in text form")
	}
	return ct, nil
}

// Encrypt encrypts plaintext under the primary version of the named key
// and returns a self-describing ciphertext.
func (c *Client) Encrypt(ctx context.Context, name string, plaintext []byte, opts *custodian.EncryptOptions) (custodian.Ciphertext, error) {
	if opts == nil {
		opts = &custodian.EncryptOptions{}
	}
	cl := newCall(api.RouteEncrypt)
	cl.name = name
	cl.body = api.EncryptRequest{Plaintext: plaintext, AssociatedData: opts.AssociatedData, Algorithm: opts.Algorithm, Format: api.FormatText}
	var resp api.EncryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return parseCiphertext(cl.route, resp.Ciphertext)
}

// Decrypt decrypts a ciphertext made by Encrypt.
func (c *Client) Decrypt(ctx context.Context, ct custodian.Ciphertext, opts *custodian.DecryptOptions) ([]byte, error) {
	if opts == nil {
		opts = &custodian.DecryptOptions{}
	}
	cl := newCall(api.RouteDecrypt)
	cl.body = api.DecryptRequest{Ciphertext: ct.String(), Key: opts.Key, AssociatedData: opts.AssociatedData}
	var resp api.DecryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return resp.Plaintext, nil
}

// EncryptRaw encrypts without the self-describing header, in the bare form
// other tools read (see custodian.Custodian.EncryptRaw).
func (c *Client) EncryptRaw(ctx context.Context, name string, plaintext []byte, opts *custodian.RawOptions) ([]byte, error) {
	if opts == nil {
		opts = &custodian.RawOptions{}
	}
	cl := newCall(api.RouteEncrypt)
	cl.name = name
	cl.body = api.EncryptRequest{Plaintext: plaintext, AssociatedData: opts.AssociatedData, Algorithm: opts.Algorithm,
		Format: api.FormatRaw, Version: opts.Version}
	var resp api.EncryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.Raw) == 0 {
		return nil, badResponse(cl.route, "no raw ciphertext")
	}
	return resp.Raw, nil
}

// DecryptRaw decrypts EncryptRaw's output, or the same form made by
// another tool.
func (c *Client) DecryptRaw(ctx context.Context, name string, raw []byte, opts *custodian.RawOptions) ([]byte, error) {
	if opts == nil {
		opts = &custodian.RawOptions{}
	}
	cl := newCall(api.RouteDecryptKey)
	cl.name = name
	cl.body = api.DecryptRequest{Raw: raw, Format: api.FormatRaw, AssociatedData: opts.AssociatedData,
		Algorithm: opts.Algorithm, Version: opts.Version}
	var resp api.DecryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return resp.Plaintext, nil
}

// Rewrap re-encrypts a ciphertext under its key's primary version; the
// plaintext never leaves the server.
func (c *Client) Rewrap(ctx context.Context, ct custodian.Ciphertext, opts *custodian.RewrapOptions) (custodian.Ciphertext, error) {
	if opts == nil {
		opts = &custodian.RewrapOptions{}
	}
	cl := newCall(api.RouteRewrap)
	cl.body = api.RewrapRequest{Ciphertext: ct.String(), Key: opts.Key, AssociatedData: opts.AssociatedData}
	var resp api.RewrapResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return parseCiphertext(cl.route, resp.Ciphertext)
}

// EncryptBatch encrypts each item independently; results are in item
// order, each item's error an *api.RemoteError. The error is non-nil only
// when the batch itself fails.
func (c *Client) EncryptBatch(ctx context.Context, items []custodian.BatchEncryptItem) ([]custodian.BatchEncryptResult, error) {
	req := api.BatchEncryptRequest{Items: make([]api.BatchEncryptItem, len(items))}
	for i, it := range items {
		req.Items[i] = api.BatchEncryptItem{Key: it.Key, Plaintext: it.Plaintext, AssociatedData: it.AssociatedData, Algorithm: it.Algorithm}
	}
	cl := newCall(api.RouteEncryptBatch)
	cl.body = req
	var resp api.BatchEncryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(items) {
		return nil, badResponse(cl.route, fmt.Sprintf("%d results for %d items", len(resp.Results), len(items)))
	}
	out := make([]custodian.BatchEncryptResult, len(items))
	for i, r := range resp.Results {
		if r.Error != nil {
			out[i].Err = itemError(r.Error, cl.requestID)
			continue
		}
		ct, err := parseCiphertext(cl.route, r.Ciphertext)
		if err != nil {
			return nil, err
		}
		out[i].Ciphertext = ct
	}
	return out, nil
}

// DecryptBatch decrypts each item independently, like EncryptBatch.
func (c *Client) DecryptBatch(ctx context.Context, items []custodian.BatchDecryptItem) ([]custodian.BatchDecryptResult, error) {
	req := api.BatchDecryptRequest{Items: make([]api.BatchDecryptItem, len(items))}
	for i, it := range items {
		req.Items[i] = api.BatchDecryptItem{Ciphertext: it.Ciphertext.String(), Key: it.Key, AssociatedData: it.AssociatedData}
	}
	cl := newCall(api.RouteDecryptBatch)
	cl.body = req
	var resp api.BatchDecryptResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(items) {
		return nil, badResponse(cl.route, fmt.Sprintf("%d results for %d items", len(resp.Results), len(items)))
	}
	out := make([]custodian.BatchDecryptResult, len(items))
	for i, r := range resp.Results {
		if r.Error != nil {
			out[i].Err = itemError(r.Error, cl.requestID)
			continue
		}
		out[i].Plaintext = r.Plaintext
		if out[i].Plaintext == nil {
			out[i].Plaintext = []byte{} // omitempty dropped an empty plaintext
		}
	}
	return out, nil
}

// GenerateDataKey returns a fresh random data key, in plaintext and
// encrypted under the primary version of the named key.
func (c *Client) GenerateDataKey(ctx context.Context, name string, opts *custodian.DataKeyOptions) (*custodian.DataKey, error) {
	resp, err := c.dataKey(ctx, name, opts, false)
	if err != nil {
		return nil, err
	}
	if len(resp.Plaintext) == 0 {
		return nil, badResponse(api.RouteDataKey, "no plaintext data key")
	}
	ct, err := parseCiphertext(api.RouteDataKey, resp.Ciphertext)
	if err != nil {
		return nil, err
	}
	return &custodian.DataKey{Plaintext: secret.Own(resp.Plaintext), Ciphertext: ct}, nil
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey for a caller that only
// stores the encrypted key now; the plaintext never leaves the server.
func (c *Client) GenerateDataKeyWithoutPlaintext(ctx context.Context, name string, opts *custodian.DataKeyOptions) (custodian.Ciphertext, error) {
	resp, err := c.dataKey(ctx, name, opts, true)
	if err != nil {
		return nil, err
	}
	clear(resp.Plaintext) // a server that sent it anyway
	return parseCiphertext(api.RouteDataKey, resp.Ciphertext)
}

func (c *Client) dataKey(ctx context.Context, name string, opts *custodian.DataKeyOptions, noPlaintext bool) (*api.DataKeyResponse, error) {
	if opts == nil {
		opts = &custodian.DataKeyOptions{}
	}
	cl := newCall(api.RouteDataKey)
	cl.name = name
	cl.body = api.DataKeyRequest{Bytes: opts.Bytes, AssociatedData: opts.AssociatedData, Algorithm: opts.Algorithm, NoPlaintext: noPlaintext}
	var resp api.DataKeyResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &resp, nil
}
