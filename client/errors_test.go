package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// TestErrorCodes sends every row of the error table back to the client and
// checks that the error is an *api.RemoteError with the response's fields,
// matches the row's sentinel with errors.Is and no other row's (beyond
// what the library's own error would match), and is retried only when
// transient.
func TestErrorCodes(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken, Retries: 2})
	ctx := context.Background()
	for _, row := range api.Codes {
		t.Run(row.Code, func(t *testing.T) {
			msg := `get "payments": ` + row.Err.Error()
			f.fail(api.RouteGetKey, row.Status, row.Code, msg)
			_, err := c.GetKey(ctx, "payments")
			if !errors.Is(err, row.Err) {
				t.Fatalf("error %v does not match %v", err, row.Err)
			}
			var re *api.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not an *api.RemoteError", err)
			}
			if re.Status != row.Status || re.Code != row.Code || re.Message != msg || re.RequestID != "fake-"+api.RouteGetKey {
				t.Errorf("RemoteError = %+v", re)
			}
			if err.Error() != msg {
				t.Errorf("Error() = %q, want the server's message %q", err.Error(), msg)
			}
			for _, other := range api.Codes {
				if other.Err != row.Err && errors.Is(err, other.Err) && !alsoIs(row.Err, other.Err) {
					t.Errorf("error matches %v too", other.Err)
				}
			}
			attempts := len(f.seen())
			wantAttempts := 1
			if row.Status == http.StatusServiceUnavailable && (row.Code == "unavailable" || row.Code == "timeout") {
				wantAttempts = 3
			}
			if attempts != wantAttempts {
				t.Errorf("%d attempts, want %d", attempts, wantAttempts)
			}
		})
	}
}

// alsoIs reports whether the library's errors for sentinel match other as
// well: a refusal because of a key's state is ErrInvalidKeyState too.
func alsoIs(sentinel, other error) bool {
	switch sentinel {
	case custodian.ErrKeyDisabled, custodian.ErrKeyRevoked, custodian.ErrKeyPendingDeletion, custodian.ErrKeyDestroyed:
		return other == custodian.ErrInvalidKeyState
	}
	return false
}

// TestStateErrorsMatchInvalidKeyState: the library's refusal because of a
// key's state matches the state's sentinel and ErrInvalidKeyState, so the
// client's must too.
func TestStateErrorsMatchInvalidKeyState(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	for _, code := range []string{"key_disabled", "key_revoked", "key_pending_deletion", "key_destroyed"} {
		f.fail(api.RouteEncrypt, http.StatusConflict, code, "encrypt: "+code)
		_, err := c.Encrypt(context.Background(), "k", []byte("x"), nil)
		if !errors.Is(err, api.ErrorFor(code)) || !errors.Is(err, custodian.ErrInvalidKeyState) {
			t.Errorf("%s: %v does not match both %v and ErrInvalidKeyState", code, err, api.ErrorFor(code))
		}
	}
	f.fail(api.RouteGetKey, http.StatusNotFound, "key_not_found", "get: key not found")
	if _, err := c.GetKey(context.Background(), "k"); errors.Is(err, custodian.ErrInvalidKeyState) {
		t.Errorf("key_not_found matches ErrInvalidKeyState")
	}
}

// TestUnknownCode: a newer server's code is an internal error here, with
// the code kept for the caller to read.
func TestUnknownCode(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	f.fail(api.RouteGetKey, http.StatusTeapot, "quota_exceeded", "too many keys")
	_, err := c.GetKey(context.Background(), "k")
	var re *api.RemoteError
	if !errors.As(err, &re) || re.Code != "quota_exceeded" || !errors.Is(err, api.ErrInternal) {
		t.Errorf("unknown code: %v (%+v)", err, re)
	}
}

// TestNonJSONErrors: an error page from a proxy or load balancer becomes a
// RemoteError by its status, naming the status and never quoting the page.
func TestNonJSONErrors(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken, Retries: -1})
	for _, tc := range []struct {
		status   int
		body     string
		code     string
		sentinel error
	}{
		{http.StatusBadGateway, "<html><body>bad gateway SECRETPAGE</body></html>", "unavailable", custodian.ErrClosed},
		{http.StatusServiceUnavailable, "upstream connect error SECRETPAGE", "unavailable", custodian.ErrClosed},
		{http.StatusGatewayTimeout, "", "unavailable", custodian.ErrClosed},
		{http.StatusInternalServerError, "oops SECRETPAGE", "internal", api.ErrInternal},
		{http.StatusNotFound, "404 page not found SECRETPAGE", "internal", api.ErrInternal},
		{http.StatusRequestEntityTooLarge, "<html>413 SECRETPAGE</html>", "too_large", api.ErrTooLarge},
		{http.StatusBadRequest, `{"error": "a string, not the API's object"}`, "internal", api.ErrInternal},
		{http.StatusFound, "", "internal", api.ErrInternal}, // redirects are not followed
	} {
		f.handle(api.RouteGetKey, func(w http.ResponseWriter, r *http.Request) {
			if tc.status == http.StatusFound {
				w.Header().Set("Location", "https://elsewhere.example/steal")
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		})
		_, err := c.GetKey(context.Background(), "k")
		var re *api.RemoteError
		if !errors.As(err, &re) {
			t.Errorf("HTTP %d: %v (%T), want an *api.RemoteError", tc.status, err, err)
			continue
		}
		if re.Status != tc.status || re.Code != tc.code || !errors.Is(err, tc.sentinel) {
			t.Errorf("HTTP %d: %+v, want code %s matching %v", tc.status, re, tc.code, tc.sentinel)
		}
		msg := err.Error()
		if !strings.Contains(msg, http.StatusText(tc.status)) || !strings.Contains(msg, api.RouteGetKey) {
			t.Errorf("HTTP %d: message %q does not name the status and the route", tc.status, msg)
		}
		if strings.Contains(msg, "SECRETPAGE") {
			t.Errorf("HTTP %d: message quotes the body: %q", tc.status, msg)
		}
	}
}

// TestBadResponses: a 2xx the client cannot read is ErrBadResponse, not
// a zero value passed off as a result, and its message does not quote the
// body (which might hold plaintext).
func TestBadResponses(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	ctx := context.Background()
	for name, body := range map[string]string{
		"not JSON":        "<html>PLAINTEXTSECRET</html>",
		"empty":           "",
		"no ciphertext":   `{"raw": "UExBSU5URVhUU0VDUkVU"}`,
		"wrong type":      `{"ciphertext": 42}`,
		"not text form":   `{"ciphertext": "PLAINTEXTSECRET"}`,
		"trailing values": `{"ciphertext": "kc1:AAAA"} {"x": "PLAINTEXTSECRET"}`,
	} {
		f.handle(api.RouteEncrypt, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(body))
		})
		_, err := c.Encrypt(ctx, "k", []byte("x"), nil)
		if !errors.Is(err, client.ErrBadResponse) {
			t.Errorf("%s: %v, want ErrBadResponse", name, err)
		} else if strings.Contains(err.Error(), "PLAINTEXTSECRET") {
			t.Errorf("%s: message quotes the body: %v", name, err)
		}
		if n := len(f.seen()); n != 1 {
			t.Errorf("%s: %d attempts; a bad response is not retried", name, n)
		}
	}
	// Unknown fields are a newer server's, and ignored.
	ct1, _ := testCiphertext(t)
	f.reply(api.RouteEncrypt, map[string]any{"ciphertext": ct1.String(), "key_version": 3, "future": map[string]int{"x": 1}})
	if got, err := c.Encrypt(ctx, "k", []byte("x"), nil); err != nil || got.String() != ct1.String() {
		t.Errorf("response with unknown fields: %v, %v", got, err)
	}
	// A verification the server calls invalid without an error is a
	// failed verification.
	f.reply(api.RouteVerify, api.VerifyResponse{Valid: false})
	if err := c.Verify(ctx, "k", []byte("m"), []byte("s"), nil); !errors.Is(err, custodian.ErrInvalidSignature) {
		t.Errorf("valid=false: %v", err)
	}
	f.reply(api.RouteVerifyMAC, map[string]any{})
	if err := c.VerifyMAC(ctx, "k", []byte("m"), []byte("s"), nil); !errors.Is(err, custodian.ErrInvalidMAC) {
		t.Errorf("no valid field: %v", err)
	}
}

// TestHealthWhenSealed: a sealed server's 503 health report is a report,
// not an error; an error body or a proxy's page is an error.
func TestHealthWhenSealed(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Retries: -1})
	ctx := context.Background()
	f.handle(api.RouteHealth, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, api.HealthResponse{Initialized: true, Sealed: true, Version: "v"})
	})
	h, err := c.Health(ctx)
	if err != nil || !h.Sealed || !h.Initialized {
		t.Errorf("sealed health = %+v, %v", h, err)
	}
	f.fail(api.RouteHealth, http.StatusServiceUnavailable, "unavailable", "shutting down")
	if _, err := c.Health(ctx); !errors.Is(err, custodian.ErrClosed) {
		t.Errorf("error body: %v", err)
	}
	f.handle(api.RouteHealth, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("no healthy upstream"))
	})
	if _, err := c.Health(ctx); !errors.Is(err, custodian.ErrClosed) {
		t.Errorf("proxy page: %v", err)
	}
	f.fail(api.RouteHealth, http.StatusInternalServerError, "internal", "internal error")
	if _, err := c.Health(ctx); !errors.Is(err, api.ErrInternal) {
		t.Errorf("500: %v", err)
	}
}

// TestLocalRefusals: what the API cannot carry is refused before sending,
// with the error the library would give.
func TestLocalRefusals(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"empty name": func() error { _, err := c.GetKey(ctx, ""); return err },
		"dot name":   func() error { _, err := c.RotateKey(ctx, ".."); return err },
		"half day": func() error {
			_, err := c.ScheduleKeyDeletion(ctx, "k", 7*24*time.Hour+12*time.Hour)
			return err
		},
		"negative window": func() error { _, err := c.ScheduleKeyDeletion(ctx, "k", -7*24*time.Hour); return err },
	} {
		err := call()
		var ce *custodian.Error
		if !errors.Is(err, custodian.ErrInvalidArgument) || !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *custodian.Error matching ErrInvalidArgument", name, err)
		}
	}
	if _, err := c.DecryptDataAES(ctx, "k", "not base64!"); !errors.Is(err, custodian.ErrInvalidCiphertext) {
		t.Errorf("DecryptDataAES of non-base64: %v", err)
	}
	if n := len(f.seen()); n != 0 {
		t.Errorf("%d requests sent for calls refused locally", n)
	}
}
