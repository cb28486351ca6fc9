package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/secret"
)

// Operating the key manager: the calls an operator makes, with the root
// token's authority (init, unseal, seal status and restore need none).

// healthBody is the health check's body, or an error body from a server
// too broken to say more.
type healthBody struct {
	api.HealthResponse
	Error *api.ErrorDetail `json:"error"`
}

// Health asks whether the server is initialized and unsealed. A sealed
// or uninitialized server answers too (with 503, for load balancers):
// that is a health report, not an error.
func (c *Client) Health(ctx context.Context) (*api.HealthResponse, error) {
	cl := newCall(api.RouteHealth)
	cl.accept = []int{http.StatusServiceUnavailable}
	var body healthBody
	cl.out = &body
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if body.Error != nil {
		// The server, up but failing, answered with an error body.
		return nil, &api.RemoteError{Status: http.StatusServiceUnavailable, Code: body.Error.Code, Message: body.Error.Message, RequestID: cl.requestID}
	}
	return &body.HealthResponse, nil
}

// SealStatus returns the seal's status: initialized, sealed, unseal
// progress.
func (c *Client) SealStatus(ctx context.Context) (*custodian.Status, error) {
	cl := newCall(api.RouteSealStatus)
	var st custodian.Status
	cl.out = &st
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &st, nil
}

// Init initializes the server and returns, this once, the unseal shares
// (Shamir seal) and the root token. It is never retried: a lost response
// would have lost them, and the server is initialized already.
func (c *Client) Init(ctx context.Context, opts custodian.InitOptions) (*custodian.InitResult, error) {
	cl := newCall(api.RouteInit)
	cl.body = api.InitRequest{Shares: opts.Shares, Threshold: opts.Threshold}
	var resp api.InitResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if resp.RootToken == "" {
		return nil, badResponse(cl.route, "no root token")
	}
	return &custodian.InitResult{Shares: secrets(resp.Shares), Threshold: resp.Threshold, RootToken: secret.New([]byte(resp.RootToken))}, nil
}

// Unseal gives the server one share of the root key, in text form, and
// returns the seal's status; under a seal that unseals by itself, share is
// nil.
func (c *Client) Unseal(ctx context.Context, share []byte) (*custodian.Status, error) {
	cl := newCall(api.RouteUnseal)
	cl.body = api.UnsealRequest{Share: string(share)}
	var st custodian.Status
	cl.out = &st
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &st, nil
}

// Seal drops the root key from the server's memory; every key operation
// fails with custodian.ErrSealed until it is unsealed.
func (c *Client) Seal(ctx context.Context) error {
	return c.do(ctx, newCall(api.RouteSeal))
}

// Rekey replaces the root key of a Shamir seal and returns the new
// shares, given a quorum of the current ones.
func (c *Client) Rekey(ctx context.Context, opts custodian.RekeyOptions) (*custodian.InitResult, error) {
	resp, err := c.rekey(ctx, api.RouteRekey, opts.Shares, opts.NewShares, opts.NewThreshold)
	if err != nil {
		return nil, err
	}
	return &custodian.InitResult{Shares: secrets(resp.Shares), Threshold: resp.Threshold}, nil
}

// RotateRoot replaces the root key and the data-encryption key and
// re-seals every record; see custodian.Custodian.RotateRoot.
func (c *Client) RotateRoot(ctx context.Context, opts custodian.RotateRootOptions) (*custodian.RootRotation, error) {
	resp, err := c.rekey(ctx, api.RouteRotateRoot, opts.Shares, opts.NewShares, opts.NewThreshold)
	if err != nil {
		return nil, err
	}
	return &custodian.RootRotation{
		InitResult: custodian.InitResult{Shares: secrets(resp.Shares), Threshold: resp.Threshold},
		ActiveTerm: resp.ActiveTerm, Resealed: resp.Resealed,
	}, nil
}

func (c *Client) rekey(ctx context.Context, route string, shares [][]byte, n, t int) (*api.RekeyResponse, error) {
	cl := newCall(route)
	req := api.RekeyRequest{NewShares: n, NewThreshold: t}
	for _, s := range shares {
		req.Shares = append(req.Shares, string(s))
	}
	cl.body = req
	var resp api.RekeyResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &resp, nil
}

func secrets(texts []string) []custodian.Secret {
	if len(texts) == 0 {
		return nil
	}
	out := make([]custodian.Secret, len(texts))
	for i, s := range texts {
		out[i] = secret.New([]byte(s))
	}
	return out
}

// RotateDueKeys rotates every key whose rotation period has passed and
// returns how many it rotated.
func (c *Client) RotateDueKeys(ctx context.Context) (int, error) {
	cl := newCall(api.RouteRotateDueKeys)
	var resp api.RotateDueKeysResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return 0, err
	}
	return resp.Rotated, nil
}

// Backup streams an encrypted, consistent backup of the server's store to
// w and returns how many bytes it wrote. If it fails, w holds part of a
// file that restore refuses.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	cl := newCall(api.RouteBackup)
	cl.download = w
	err := c.do(ctx, cl)
	return cl.written, err
}

// Restore sends a backup to an uninitialized server, with a quorum of the
// backup's shares in text form for a Shamir seal (none for a key-file
// seal, whose server holds the key). r is sent as it is read, and the call
// is never retried.
func (c *Client) Restore(ctx context.Context, r io.Reader, shares [][]byte) (*custodian.BackupResult, error) {
	cl := newCall(api.RouteRestore)
	cl.stream = r
	if len(shares) > 0 {
		texts := make([]string, len(shares))
		for i, s := range shares {
			t := strings.TrimSpace(string(s))
			if t == "" || strings.ContainsAny(t, ",\r\n") {
				return nil, &custodian.Error{Op: "restore", Err: fmt.Errorf("%w: share %d is empty or holds a comma or line break", custodian.ErrInvalidShares, i+1)}
			}
			texts[i] = t
		}
		cl.header = http.Header{api.HeaderShares: {strings.Join(texts, ",")}}
	}
	var resp api.RestoreResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &custodian.BackupResult{Meta: resp.Meta, Keys: resp.Keys}, nil
}

// NewRootToken replaces the root token and returns the new one, this
// once; the old one stops working. A Shamir seal needs a quorum of shares.
// It is never retried: a lost response would have lost the token.
func (c *Client) NewRootToken(ctx context.Context, shares [][]byte) (custodian.Secret, error) {
	cl := newCall(api.RouteRootToken)
	req := api.RootTokenRequest{}
	for _, s := range shares {
		req.Shares = append(req.Shares, string(s))
	}
	cl.body = req
	var resp api.RootTokenResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return custodian.Secret{}, err
	}
	if resp.RootToken == "" {
		return custodian.Secret{}, badResponse(cl.route, "no root token")
	}
	return secret.New([]byte(resp.RootToken)), nil
}
