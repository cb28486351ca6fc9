package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// cannedTransport answers every request with one status and body,
// without a network.
type cannedTransport struct {
	status int
	body   []byte
}

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: t.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(t.body)), Request: r, ContentLength: int64(len(t.body)),
	}, nil
}

// fuzzCalls are client calls whose responses the fuzzer writes.
var fuzzCalls = []func(context.Context, *client.Client) error{
	func(ctx context.Context, c *client.Client) error { _, err := c.GetKey(ctx, "k"); return err },
	func(ctx context.Context, c *client.Client) error { _, err := c.ListKeys(ctx, nil); return err },
	func(ctx context.Context, c *client.Client) error {
		_, err := c.Encrypt(ctx, "k", []byte("x"), nil)
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.Decrypt(ctx, custodian.Ciphertext("x"), nil)
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.EncryptBatch(ctx, make([]custodian.BatchEncryptItem, 2))
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.DecryptBatch(ctx, make([]custodian.BatchDecryptItem, 2))
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.GenerateDataKey(ctx, "k", nil)
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.Sign(ctx, "k", []byte("m"), nil)
		return err
	},
	func(ctx context.Context, c *client.Client) error {
		return c.Verify(ctx, "k", []byte("m"), []byte("s"), nil)
	},
	func(ctx context.Context, c *client.Client) error {
		_, err := c.Agree(ctx, "k", []byte("p"), nil)
		return err
	},
	func(ctx context.Context, c *client.Client) error { _, err := c.Health(ctx); return err },
	func(ctx context.Context, c *client.Client) error {
		_, err := c.Init(ctx, custodian.InitOptions{})
		return err
	},
	func(ctx context.Context, c *client.Client) error { _, err := c.Backup(ctx, io.Discard); return err },
	func(ctx context.Context, c *client.Client) error { _, err := c.Random(ctx, 4); return err },
}

// FuzzResponse gives the client arbitrary responses. Whatever arrives, it
// must not panic, and its error must say what happened: a non-2xx status
// is an *api.RemoteError carrying that status, a 2xx it cannot read is
// ErrBadResponse.
func FuzzResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"id":"0123456789abcdef01234567","name":"k"}`},
		{200, `{"results":[{"ciphertext":"kc1:AAAA"},{"error":{"code":"key_revoked","message":"m"}}]}`},
		{200, `{"keys":[null]}`},
		{409, `{"error":{"code":"key_revoked","message":"encrypt \"k\": key is revoked"}}`},
		{503, `{"initialized":true,"sealed":true}`},
		{502, `<html>bad gateway</html>`},
		{200, `{"signature":"AA==","key_version":-1}`},
		{200, ``},
	} {
		for i := range fuzzCalls {
			f.Add(uint8(i), uint16(seed.status), []byte(seed.body))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200 to 599
		c, err := client.New("http://127.0.0.1:1", client.Options{Retries: -1,
			HTTPClient: &http.Client{Transport: cannedTransport{status: code, body: body}}})
		if err != nil {
			t.Fatal(err)
		}
		err = fuzzCalls[int(which)%len(fuzzCalls)](context.Background(), c)
		var re *api.RemoteError
		switch {
		case err == nil:
			if code > 299 && code != http.StatusServiceUnavailable {
				t.Fatalf("HTTP %d succeeded", code)
			}
		case code > 299:
			if !errors.As(err, &re) || (re.Status != code && code != http.StatusServiceUnavailable) {
				t.Fatalf("HTTP %d: %v (%T), want an *api.RemoteError of that status", code, err, err)
			}
		case errors.Is(err, custodian.ErrInvalidSignature):
			// A verification not answered "valid" fails closed.
		case !errors.Is(err, client.ErrBadResponse) && !errors.As(err, &re):
			t.Fatalf("HTTP %d: %v (%T), want ErrBadResponse", code, err, err)
		}
	})
}
