package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// createRequest converts the library's options; nil means the defaults.
func createRequest(name string, opts *custodian.CreateOptions) api.CreateKeyRequest {
	r := api.CreateKeyRequest{Name: name}
	if opts != nil {
		r.Type, r.Usage, r.Description, r.Labels = opts.Type, opts.Usage, opts.Description, opts.Labels
		r.Exportable, r.RotationPeriod = opts.Exportable, api.Duration(opts.RotationPeriod)
	}
	return r
}

// keyCall runs a call whose response is a key.
func (c *Client) keyCall(ctx context.Context, cl *call) (*custodian.Key, error) {
	var k api.Key
	cl.out = &k
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if k.Name == "" || k.ID == "" {
		return nil, badResponse(cl.route, "no key in the response")
	}
	return k.ToKey(), nil
}

// CreateKey creates a key with fresh material; opts may be nil for a
// non-exportable aes256-gcm key. It is never retried.
func (c *Client) CreateKey(ctx context.Context, name string, opts *custodian.CreateOptions) (*custodian.Key, error) {
	cl := newCall(api.RouteCreateKey)
	cl.body = createRequest(name, opts)
	return c.keyCall(ctx, cl)
}

// ImportKey creates a key from external material (see
// custodian.Custodian.ImportKey for its forms); opts.Type is required.
func (c *Client) ImportKey(ctx context.Context, name string, material []byte, opts *custodian.CreateOptions) (*custodian.Key, error) {
	cl := newCall(api.RouteImportKey)
	cl.name = name
	cl.body = api.ImportKeyRequest{Material: material, CreateKeyRequest: createRequest(name, opts)}
	return c.keyCall(ctx, cl)
}

// GetKey returns a key's metadata, in any state.
func (c *Client) GetKey(ctx context.Context, name string) (*custodian.Key, error) {
	cl := newCall(api.RouteGetKey)
	cl.name = name
	return c.keyCall(ctx, cl)
}

// ListKeys returns a page of keys whose names start with opts.Prefix, in
// name order; opts may be nil.
func (c *Client) ListKeys(ctx context.Context, opts *custodian.ListOptions) (*custodian.KeyPage, error) {
	cl := newCall(api.RouteListKeys)
	cl.query = url.Values{}
	if opts != nil {
		setQuery(cl.query, "prefix", opts.Prefix)
		setQuery(cl.query, "page_token", opts.PageToken)
		if opts.PageSize != 0 {
			cl.query.Set("page_size", strconv.Itoa(opts.PageSize))
		}
	}
	var resp api.ListKeysResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	page := &custodian.KeyPage{NextPageToken: resp.NextPageToken}
	for _, k := range resp.Keys {
		if k == nil {
			return nil, badResponse(cl.route, "a null key in the list")
		}
		page.Keys = append(page.Keys, k.ToKey())
	}
	return page, nil
}

func setQuery(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// updateKeyRequest is api.UpdateKeyRequest with Labels sent whenever it is
// non-nil: an empty map removes every label, as custodian.KeyUpdate says,
// where api.UpdateKeyRequest's omitempty would drop it and leave the
// labels as they were.
type updateKeyRequest struct {
	Description          *string           `json:"description,omitempty"`
	Labels               map[string]string `json:"labels,omitzero"`
	MinDecryptionVersion *int              `json:"min_decryption_version,omitempty"`
	RotationPeriod       *api.Duration     `json:"rotation_period,omitempty"`
}

// UpdateKey changes a key's description, labels, minimum decryption
// version or rotation period; nil fields of u stay as they are.
func (c *Client) UpdateKey(ctx context.Context, name string, u custodian.KeyUpdate) (*custodian.Key, error) {
	cl := newCall(api.RouteUpdateKey)
	cl.name = name
	r := updateKeyRequest{Description: u.Description, Labels: u.Labels, MinDecryptionVersion: u.MinDecryptionVersion}
	if u.RotationPeriod != nil {
		d := api.Duration(*u.RotationPeriod)
		r.RotationPeriod = &d
	}
	cl.body = r
	return c.keyCall(ctx, cl)
}

// nameCall runs a call that takes only a key's name and returns the key.
func (c *Client) nameCall(ctx context.Context, route, name string) (*custodian.Key, error) {
	cl := newCall(route)
	cl.name = name
	return c.keyCall(ctx, cl)
}

// RotateKey adds a new version with fresh material and makes it primary.
// It is never retried: a retry after a lost response would add a second
// version.
func (c *Client) RotateKey(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteRotateKey, name)
}

// EnableKey returns a disabled key to use.
func (c *Client) EnableKey(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteEnableKey, name)
}

// DisableKey stops every use of a key until it is enabled again.
func (c *Client) DisableKey(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteDisableKey, name)
}

// RevokeKey makes a key unusable for good (the seed's invalidate_key).
func (c *Client) RevokeKey(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteRevokeKey, name)
}

// ScheduleKeyDeletion schedules a key's destruction after window: zero
// means custodian.DefaultDeletionWindow. The API carries whole days, so
// window must be a whole number of days (7 to 30).
func (c *Client) ScheduleKeyDeletion(ctx context.Context, name string, window time.Duration) (*custodian.Key, error) {
	const day = 24 * time.Hour
	refuse := func(format string, args ...any) error {
		return &custodian.Error{Op: string(custodian.OpScheduleDeletion), Key: name,
			Err: fmt.Errorf("%w: "+format, append([]any{custodian.ErrInvalidArgument}, args...)...)}
	}
	switch {
	case window != 0 && (window < custodian.MinDeletionWindow || window > custodian.MaxDeletionWindow):
		// The library's refusal, word for word; a negative window would
		// otherwise reach the server as a count it refuses differently.
		return nil, refuse("deletion window %s must be between %d and %d days", window,
			custodian.MinDeletionWindow/day, custodian.MaxDeletionWindow/day)
	case window%day != 0:
		return nil, refuse("deletion window %s is not a whole number of days, which is all the API carries", window)
	}
	cl := newCall(api.RouteScheduleDel)
	cl.name = name
	cl.body = api.ScheduleDeletionRequest{PendingDays: int(window / day)}
	return c.keyCall(ctx, cl)
}

// CancelKeyDeletion cancels a scheduled deletion.
func (c *Client) CancelKeyDeletion(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteCancelDel, name)
}

// DestroyKey wipes the material of a key whose deletion window has passed.
func (c *Client) DestroyKey(ctx context.Context, name string) (*custodian.Key, error) {
	return c.nameCall(ctx, api.RouteDestroyKey, name)
}

// PublicKey returns the public half of an asymmetric key, PEM unless
// opts asks for DER.
func (c *Client) PublicKey(ctx context.Context, name string, opts *custodian.PublicKeyOptions) ([]byte, error) {
	cl := newCall(api.RoutePublicKey)
	cl.name = name
	cl.query = url.Values{}
	if opts != nil {
		setQuery(cl.query, "format", string(opts.Format))
		if opts.Version != 0 {
			cl.query.Set("version", strconv.Itoa(opts.Version))
		}
	}
	var resp api.PublicKeyResponse
	cl.out = &resp
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	if len(resp.PublicKey) == 0 {
		return nil, badResponse(cl.route, "no public key")
	}
	return resp.PublicKey, nil
}
