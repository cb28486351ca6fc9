package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// failThen makes a route answer status/code n times, then succeed with ok.
func failThen(f *fake, route string, n int, status int, code string, ok any) {
	var calls atomic.Int32
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		if int(calls.Add(1)) <= n {
			writeError(w, status, code, "try again")
			return
		}
		writeJSON(w, http.StatusOK, ok)
	})
}

func TestRetryTransient(t *testing.T) {
	ct1, _ := testCiphertext(t)
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusServiceUnavailable, "unavailable"},
		{http.StatusServiceUnavailable, "timeout"},
		{http.StatusBadGateway, "internal"},
		{http.StatusGatewayTimeout, "internal"},
	} {
		t.Run(fmt.Sprint(tc.status, tc.code), func(t *testing.T) {
			f := newFake(t)
			c := f.client(client.Options{Token: testToken})
			failThen(f, api.RouteEncrypt, 2, tc.status, tc.code, api.EncryptResponse{Ciphertext: ct1.String()})
			got, err := c.Encrypt(context.Background(), "k", []byte("plaintext"), &custodian.EncryptOptions{AssociatedData: []byte("ad")})
			if err != nil || !bytes.Equal(got, ct1) {
				t.Fatalf("Encrypt = %v, %v", got, err)
			}
			reqs := f.seen()
			if len(reqs) != 3 {
				t.Fatalf("%d attempts, want 3", len(reqs))
			}
			for i, r := range reqs[1:] {
				if !bytes.Equal(r.Body, reqs[0].Body) || len(r.Body) == 0 {
					t.Errorf("attempt %d sent %q, the first %q", i+2, r.Body, reqs[0].Body)
				}
				if r.Header.Get(api.HeaderRequestID) != reqs[0].Header.Get(api.HeaderRequestID) {
					t.Errorf("attempt %d has another request id", i+2)
				}
			}
		})
	}
}

func TestRetryNotTransient(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusServiceUnavailable, "sealed"},
		{http.StatusServiceUnavailable, "not_initialized"},
		{http.StatusInternalServerError, "internal"},
		{http.StatusNotFound, "key_not_found"},
		{http.StatusUnauthorized, "unauthorized"},
	} {
		f := newFake(t)
		c := f.client(client.Options{Token: testToken})
		failThen(f, api.RouteEncrypt, 1, tc.status, tc.code, api.EncryptResponse{})
		_, err := c.Encrypt(context.Background(), "k", []byte("x"), nil)
		if !errors.Is(err, api.ErrorFor(tc.code)) {
			t.Errorf("%s: %v", tc.code, err)
		}
		if n := len(f.seen()); n != 1 {
			t.Errorf("%s: %d attempts, want 1", tc.code, n)
		}
	}
}

// TestNoRetryOfStateChanges: a call that changes state is sent once, even
// on a failure that would be retried for a read, since the lost response
// may hide a change made.
func TestNoRetryOfStateChanges(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken, Retries: 5})
	ctx := context.Background()
	for route, call := range map[string]func() error{
		api.RouteCreateKey: func() error { _, err := c.CreateKey(ctx, "k", nil); return err },
		api.RouteImportKey: func() error {
			_, err := c.ImportKey(ctx, "k", []byte("m"), &custodian.CreateOptions{Type: custodian.AES256GCM})
			return err
		},
		api.RouteRotateKey:     func() error { _, err := c.RotateKey(ctx, "k"); return err },
		api.RouteUpdateKey:     func() error { _, err := c.UpdateKey(ctx, "k", custodian.KeyUpdate{}); return err },
		api.RouteRevokeKey:     func() error { _, err := c.RevokeKey(ctx, "k"); return err },
		api.RouteScheduleDel:   func() error { _, err := c.ScheduleKeyDeletion(ctx, "k", 0); return err },
		api.RouteDestroyKey:    func() error { _, err := c.DestroyKey(ctx, "k"); return err },
		api.RouteInit:          func() error { _, err := c.Init(ctx, custodian.InitOptions{}); return err },
		api.RouteUnseal:        func() error { _, err := c.Unseal(ctx, []byte("s")); return err },
		api.RouteSeal:          func() error { return c.Seal(ctx) },
		api.RouteRekey:         func() error { _, err := c.Rekey(ctx, custodian.RekeyOptions{}); return err },
		api.RouteRotateRoot:    func() error { _, err := c.RotateRoot(ctx, custodian.RotateRootOptions{}); return err },
		api.RouteRotateDueKeys: func() error { _, err := c.RotateDueKeys(ctx); return err },
		api.RouteBackup:        func() error { _, err := c.Backup(ctx, &bytes.Buffer{}); return err },
		api.RouteRestore:       func() error { _, err := c.Restore(ctx, bytes.NewReader([]byte("b")), nil); return err },
		"derive":               func() error { _, err := c.DeriveKey(ctx, "k", []byte("p"), "new", nil); return err },
	} {
		r := route
		if r == "derive" {
			r = api.RouteAgree
		}
		f.fail(r, http.StatusServiceUnavailable, "unavailable", "restarting")
		if err := call(); !errors.Is(err, custodian.ErrClosed) {
			t.Errorf("%s: %v", route, err)
		}
		if n := len(f.seen()); n != 1 {
			t.Errorf("%s: sent %d times, want once", route, n)
		}
	}
	// Agree without deriving changes nothing, and is retried.
	f.fail(api.RouteAgree, http.StatusServiceUnavailable, "unavailable", "restarting")
	c.Agree(ctx, "k", []byte("p"), nil)
	if n := len(f.seen()); n != 6 {
		t.Errorf("agree: sent %d times, want 6", n)
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.fail(api.RouteGetKey, http.StatusServiceUnavailable, "unavailable", "restarting")
	for retries, want := range map[int]int{-1: 1, 0: 1 + client.DefaultRetries, 1: 2, 4: 5} {
		c := f.client(client.Options{Token: testToken, Retries: retries})
		_, err := c.GetKey(ctx, "k")
		var re *api.RemoteError
		if !errors.As(err, &re) || re.Code != "unavailable" {
			t.Errorf("Retries %d: %v, want the last RemoteError", retries, err)
		}
		if n := len(f.seen()); n != want {
			t.Errorf("Retries %d: %d attempts, want %d", retries, n, want)
		}
	}
}

// TestRetryBackoff: waits double from RetryBackoff; jitter takes at most
// half of each.
func TestRetryBackoff(t *testing.T) {
	f := newFake(t)
	base := 40 * time.Millisecond
	c := f.client(client.Options{Token: testToken, Retries: 3, RetryBackoff: base})
	f.fail(api.RouteGetKey, http.StatusServiceUnavailable, "unavailable", "restarting")
	c.GetKey(context.Background(), "k")
	reqs := f.seen()
	if len(reqs) != 4 {
		t.Fatalf("%d attempts, want 4", len(reqs))
	}
	for i := 1; i < len(reqs); i++ {
		gap := reqs[i].Arrived.Sub(reqs[i-1].Arrived)
		full := base << (i - 1)
		if gap < full/2 {
			t.Errorf("wait %d was %s, want at least %s", i, gap, full/2)
		}
	}
}

// TestRetryStopsWithContext: a cancelled context ends the waiting at once,
// and the error says both why it stopped and what failed last.
func TestRetryStopsWithContext(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken, Retries: 10, RetryBackoff: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	f.handle(api.RouteGetKey, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "restarting")
		time.AfterFunc(20*time.Millisecond, cancel)
	})
	start := time.Now()
	_, err := c.GetKey(ctx, "k")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s after the context ended", took)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, custodian.ErrClosed) {
		t.Errorf("error %v, want context.Canceled and the last failure", err)
	}
	if n := len(f.seen()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}

	// A context already ended sends nothing worth waiting for.
	_, err = c.GetKey(ctx, "k")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
}

// TestRetryTransportErrors: a refused or reset connection is retried for
// a read, not for a state change; an attempt over Options.Timeout is
// retried too.
func TestRetryTransportErrors(t *testing.T) {
	f := newFake(t)
	ct1, _ := testCiphertext(t)
	f.reply(api.RouteEncrypt, api.EncryptResponse{Ciphertext: ct1.String()})
	f.reply(api.RouteCreateKey, api.Key{ID: "id", Name: "k"})
	rt := &flakyTransport{next: http.DefaultTransport, fail: 2, err: syscall.ECONNREFUSED}
	c, err := client.New(f.srv.URL, client.Options{Token: testToken, RetryBackoff: time.Millisecond, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Encrypt(ctx, "k", []byte("x"), nil); err != nil {
		t.Errorf("Encrypt after two refused connections: %v", err)
	}
	if n := rt.calls.Load(); n != 3 {
		t.Errorf("%d round trips, want 3", n)
	}

	rt.calls.Store(0)
	rt.err = syscall.ECONNRESET
	_, err = c.CreateKey(ctx, "k", nil)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("CreateKey over a reset connection: %v", err)
	}
	if n := rt.calls.Load(); n != 1 {
		t.Errorf("CreateKey: %d round trips, want 1", n)
	}
	// The error names the route and the server, and wraps the cause.
	if msg := err.Error(); !contains(msg, api.RouteCreateKey) || !contains(msg, f.srv.URL) {
		t.Errorf("transport error %q does not name the route and the address", msg)
	}

	// An attempt slower than Options.Timeout is abandoned and retried.
	var slow atomic.Int32
	f.handle(api.RouteGetKey, func(w http.ResponseWriter, r *http.Request) {
		if slow.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, http.StatusOK, api.Key{ID: "id", Name: "k"})
	})
	c = f.client(client.Options{Token: testToken, Timeout: 100 * time.Millisecond})
	f.seen()
	if _, err := c.GetKey(ctx, "k"); err != nil {
		t.Errorf("GetKey after a slow attempt: %v", err)
	}
	if n := len(f.seen()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

// flakyTransport fails its first round trips with err, before sending.
type flakyTransport struct {
	next  http.RoundTripper
	fail  int32
	err   error
	calls atomic.Int32
}

func (t *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.calls.Add(1) <= t.fail {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("dial tcp: %w", t.err)
	}
	return t.next.RoundTrip(r)
}
