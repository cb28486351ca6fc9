package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// TestHostileInput: malformed requests each get their documented 4xx code
// and a JSON error body; never a 500, a panic or a hang.
func TestHostileInput(t *testing.T) {
	ts := newTestServer(t, server.Options{MaxBatchItems: 10})
	ts.createKey("k", "", false)
	ts.createKey("other", "", false)
	ts.createKey("sig", custodian.ECDSAP256, false)
	ts.createKey("mac", custodian.HMACSHA256, false)
	ts.createKey("off", "", false)
	ts.post("/v1/keys/off/disable", nil, &api.Key{})
	ts.createKey("exp", "", true)
	ts.post("/v1/keys/exp/rotate", nil, &api.Key{})
	ts.do(call{method: "PATCH", path: "/v1/keys/exp", body: `{"min_decryption_version":2}`}).decode(t, &api.Key{})
	var enc api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte("x")}, &enc)

	long := strings.Repeat("n", custodian.MaxNameLength+1)
	items := func(n int) string {
		return `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"key":"k","plaintext":""},`, n), ",") + `]}`
	}
	const badArg = "invalid_argument"
	cases := []struct {
		name, method, path string
		body               any
		header             map[string]string
		want               string
	}{
		// Bodies that are not one well-formed JSON object.
		{"truncated JSON", "POST", "/v1/keys/k/encrypt", `{"plaintext":`, nil, badArg},
		{"not JSON", "POST", "/v1/keys/k/encrypt", `plaintext=aGk=`, nil, badArg},
		{"XML", "POST", "/v1/keys", `<key name="x"/>`, nil, badArg},
		{"unquoted key", "POST", "/v1/keys/k/encrypt", `{plaintext: "aGk="}`, nil, badArg},
		{"trailing garbage", "POST", "/v1/keys/k/encrypt", `{"plaintext":"aGk="} x`, nil, badArg},
		{"two objects", "POST", "/v1/keys/k/encrypt", `{"plaintext":"aGk="}{}`, nil, badArg},
		{"array", "POST", "/v1/keys/k/encrypt", `[]`, nil, badArg},
		{"string", "POST", "/v1/keys/k/encrypt", `"aGk="`, nil, badArg},
		{"null", "POST", "/v1/keys/k/encrypt", `null`, nil, badArg},
		{"number", "POST", "/v1/random", `32`, nil, badArg},
		{"missing body", "POST", "/v1/keys/k/encrypt", nil, nil, badArg},
		{"blank body", "POST", "/v1/keys", "  \n", nil, badArg},
		{"deep nesting", "POST", "/v1/keys", `{"labels":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, nil, badArg},
		{"unknown field", "POST", "/v1/keys/k/encrypt", `{"plaintext":"aGk=","plain_text":"aGk="}`, nil, badArg},
		{"unknown nested field", "POST", "/v1/encrypt/batch", `{"items":[{"key":"k","plaintext":"","x":1}]}`, nil, badArg},
		{"body on a body-less route", "POST", "/v1/keys/k/rotate", `{}`, nil, badArg},
		{"body on a GET", "GET", "/v1/keys/k", `{"name":"k"}`, nil, badArg},

		// Wrong types and bad encodings.
		{"bad base64", "POST", "/v1/keys/k/encrypt", `{"plaintext":"!!!"}`, nil, badArg},
		{"url base64", "POST", "/v1/keys/k/encrypt", `{"plaintext":"-_-_"}`, nil, badArg},
		{"plaintext number", "POST", "/v1/keys/k/encrypt", `{"plaintext":123}`, nil, badArg},
		{"bytes string", "POST", "/v1/random", `{"bytes":"32"}`, nil, badArg},
		{"bytes float", "POST", "/v1/random", `{"bytes":32.5}`, nil, badArg},
		{"items object", "POST", "/v1/encrypt/batch", `{"items":{}}`, nil, badArg},
		{"pending_days string", "POST", "/v1/keys/k/schedule-deletion", `{"pending_days":"7"}`, nil, badArg},
		{"labels array", "PATCH", "/v1/keys/k", `{"labels":["a"]}`, nil, badArg},
		{"bad duration", "PATCH", "/v1/keys/k", `{"rotation_period":"forever"}`, nil, badArg},
		{"numeric duration", "PATCH", "/v1/keys/k", `{"rotation_period":3600}`, nil, badArg},
		{"negative duration", "PATCH", "/v1/keys/k", `{"rotation_period":"-1h"}`, nil, badArg},
		{"short rotation", "PATCH", "/v1/keys/k", `{"rotation_period":"1m"}`, nil, badArg},
		{"version overflow", "POST", "/v1/keys/k/export", `{"version":99999999999999999999}`, nil, badArg},
		{"ciphertext not text form", "POST", "/v1/decrypt", `{"ciphertext":"aGVsbG8="}`, nil, "invalid_ciphertext"},
		{"empty ciphertext", "POST", "/v1/decrypt", `{}`, nil, "invalid_ciphertext"},
		{"bad format", "POST", "/v1/keys/k/encrypt", `{"plaintext":"","format":"xml"}`, nil, badArg},
		{"raw form on /v1/decrypt", "POST", "/v1/decrypt", `{"raw":"aGk=","format":"raw"}`, nil, badArg},
		{"raw bytes without format", "POST", "/v1/keys/k/decrypt", `{"raw":"aGk="}`, nil, badArg},
		{"version with text form", "POST", "/v1/keys/k/encrypt", `{"plaintext":"","version":1}`, nil, badArg},
		{"path and body keys differ", "POST", "/v1/keys/k/decrypt", `{"ciphertext":"` + enc.Ciphertext + `","key":"other"}`, nil, badArg},
		{"import name differs", "POST", "/v1/keys/k2/import", `{"name":"k3","material":"aGk="}`, nil, badArg},

		// Sizes.
		{"over SmallBody", "POST", "/v1/keys", `{"description":"` + strings.Repeat("a", api.SmallBody) + `"}`, nil, "too_large"},
		{"over DataBody", "POST", "/v1/keys/k/encrypt", `{"plaintext":"` + strings.Repeat("A", api.DataBody) + `"}`, nil, "too_large"},
		{"over SmallBody, chunked", "POST", "/v1/keys", chunked(`{"description":"` + strings.Repeat("a", api.SmallBody) + `"}`), nil, "too_large"},
		{"random 1e9 bytes", "POST", "/v1/random", `{"bytes":1000000000}`, nil, badArg},
		{"random 1e9 as float", "POST", "/v1/random", `{"bytes":1e9}`, nil, badArg},
		{"random 0 bytes", "POST", "/v1/random", `{}`, nil, badArg},
		{"random -1 bytes", "POST", "/v1/random", `{"bytes":-1}`, nil, badArg},
		{"datakey -1 bytes", "POST", "/v1/keys/k/datakey", `{"bytes":-1}`, nil, badArg},
		{"datakey 1e9 bytes", "POST", "/v1/keys/k/datakey", `{"bytes":1000000000}`, nil, badArg},
		{"page_size 1e6", "GET", "/v1/keys?page_size=1e6", nil, nil, badArg},
		{"page_size 1000000", "GET", "/v1/keys?page_size=1000000", nil, nil, badArg},
		{"page_size -1", "GET", "/v1/keys?page_size=-1", nil, nil, badArg},
		{"page_size twice", "GET", "/v1/keys?page_size=1&page_size=2", nil, nil, badArg},
		{"bad page token", "GET", "/v1/keys?page_token=%21%21", nil, nil, badArg},
		{"bad query escape", "GET", "/v1/keys?prefix=%zz", nil, nil, badArg},
		{"unknown query parameter", "GET", "/v1/keys?limit=5", nil, nil, badArg},
		{"query on a route without", "POST", "/v1/keys/k/rotate?force=1", nil, nil, badArg},
		{"public version -1", "GET", "/v1/keys/sig/public?version=-1", nil, nil, badArg},
		{"public format", "GET", "/v1/keys/sig/public?format=jwk", nil, nil, badArg},
		{"pending_days huge", "POST", "/v1/keys/k/schedule-deletion", `{"pending_days":9223372036854775807}`, nil, badArg},
		{"pending_days 1e18", "POST", "/v1/keys/k/schedule-deletion", `{"pending_days":1e18}`, nil, badArg},
		{"pending_days 3", "POST", "/v1/keys/k/schedule-deletion", `{"pending_days":3}`, nil, badArg},
		{"pending_days -7", "POST", "/v1/keys/k/schedule-deletion", `{"pending_days":-7}`, nil, badArg},
		{"batch over the limit", "POST", "/v1/encrypt/batch", items(11), nil, badArg},
		{"decrypt batch over the limit", "POST", "/v1/decrypt/batch", `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"ciphertext":""},`, 11), ",") + `]}`, nil, badArg},
		{"init shares 1e6", "POST", "/v1/sys/init", `{"shares":1000000,"threshold":3}`, nil, "already_initialized"},

		// Names.
		{"empty name", "POST", "/v1/keys", `{"name":""}`, nil, badArg},
		{"name with a space", "POST", "/v1/keys", `{"name":"bad name"}`, nil, badArg},
		{"name with bad chars", "POST", "/v1/keys", `{"name":"bad!name<script>"}`, nil, badArg},
		{"name starting with a dot", "POST", "/v1/keys", `{"name":".hidden"}`, nil, badArg},
		{"name too long", "POST", "/v1/keys", `{"name":"` + long + `"}`, nil, badArg},
		{"name invalid UTF-8", "POST", "/v1/keys", "{\"name\":\"\xff\xfe\"}", nil, badArg},
		{"name NUL", "POST", "/v1/keys", `{"name":"a\u0000b"}`, nil, badArg},
		{"path name with a space", "POST", "/v1/keys/bad%20name/encrypt", `{"plaintext":""}`, nil, badArg},
		{"path name too long", "GET", "/v1/keys/" + long, nil, nil, badArg},
		{"path name dot-dot", "GET", "/v1/keys/a%2F..%2Fb", nil, nil, "key_not_found"},
		{"empty path name", "POST", "/v1/keys//encrypt", `{"plaintext":""}`, nil, "no_route"},
		{"bad type", "POST", "/v1/keys", `{"name":"x","type":"rot13"}`, nil, badArg},
		{"bad label", "POST", "/v1/keys", `{"name":"x","labels":{"Bad Label":"v"}}`, nil, badArg},

		// Keys and ciphertexts that do not fit.
		{"ciphertext for another key", "POST", "/v1/decrypt", `{"ciphertext":"` + enc.Ciphertext + `","key":"other"}`, nil, "invalid_ciphertext"},
		{"ciphertext for another key, by path", "POST", "/v1/keys/other/decrypt", `{"ciphertext":"` + enc.Ciphertext + `"}`, nil, "invalid_ciphertext"},
		{"ciphertext for a missing key", "POST", "/v1/keys/nope/decrypt", `{"ciphertext":"` + enc.Ciphertext + `"}`, nil, "invalid_ciphertext"},
		{"ciphertext with other aad", "POST", "/v1/decrypt", `{"ciphertext":"` + enc.Ciphertext + `","associated_data":"aGk="}`, nil, "invalid_ciphertext"},
		{"tampered ciphertext", "POST", "/v1/decrypt", `{"ciphertext":"` + flipLast(enc.Ciphertext) + `"}`, nil, "invalid_ciphertext"},
		{"raw garbage", "POST", "/v1/keys/k/decrypt", `{"raw":"aGk=","format":"raw"}`, nil, "invalid_ciphertext"},
		{"rewrap for another key", "POST", "/v1/rewrap", `{"ciphertext":"` + enc.Ciphertext + `","key":"other"}`, nil, "invalid_ciphertext"},
		{"missing key", "POST", "/v1/keys/nope/encrypt", `{"plaintext":""}`, nil, "key_not_found"},
		{"existing key", "POST", "/v1/keys", `{"name":"k"}`, nil, "key_exists"},
		{"disabled key", "POST", "/v1/keys/off/encrypt", `{"plaintext":""}`, nil, "key_disabled"},
		{"cancel without deletion", "POST", "/v1/keys/k/cancel-deletion", nil, nil, "invalid_key_state"},
		{"sign with AES", "POST", "/v1/keys/k/sign", `{"message":""}`, nil, "unsupported_operation"},
		{"export non-exportable", "POST", "/v1/keys/k/export", `{}`, nil, "unsupported_operation"},
		{"public of AES", "GET", "/v1/keys/k/public", nil, nil, "unsupported_operation"},
		{"agree with AES", "POST", "/v1/keys/k/agree", `{"peer":"aGk="}`, nil, "unsupported_operation"},
		{"bad signature", "POST", "/v1/keys/sig/verify", `{"message":"","signature":"aGk="}`, nil, "invalid_signature"},
		{"signature on sign", "POST", "/v1/keys/sig/sign", `{"message":"","signature":"aGk="}`, nil, badArg},
		{"bad mac", "POST", "/v1/keys/mac/verify-mac", `{"message":"","mac":"aGk="}`, nil, "invalid_mac"},
		{"mac on mac", "POST", "/v1/keys/mac/mac", `{"message":"","mac":"aGk="}`, nil, badArg},
		{"missing version", "POST", "/v1/keys/exp/export", `{"version":7}`, nil, badArg},
		{"version below minimum", "POST", "/v1/keys/exp/export", `{"version":1}`, nil, "key_version_not_allowed"},

		// Operator routes.
		{"init again", "POST", "/v1/sys/init", `{}`, nil, "already_initialized"},
		{"rekey a key file", "POST", "/v1/sys/rekey", `{"shares":["a","b"]}`, nil, "unsupported_operation"},
		{"root-token with shares for a key file", "POST", "/v1/sys/root-token", `{"shares":["kcshare1:a"]}`, nil, badArg},
		{"restore unsupported", "POST", "/v1/sys/restore", "KCBACKUP", nil, "unsupported_operation"},

		// Routing.
		{"unknown path", "GET", "/v1/nothing", nil, nil, "no_route"},
		{"unknown root", "GET", "/", nil, nil, "no_route"},
		{"trailing slash", "GET", "/v1/keys/", nil, nil, "no_route"},
		{"dot segments", "GET", "/v1/keys/../keys", nil, nil, "no_route"},
		{"double slash", "GET", "//v1/keys", nil, nil, "no_route"},
		{"wrong method", "DELETE", "/v1/keys/k", nil, nil, "method_not_allowed"},
		{"PUT on keys", "PUT", "/v1/keys", `{}`, nil, "method_not_allowed"},
		{"GET on encrypt", "GET", "/v1/keys/k/encrypt", nil, nil, "method_not_allowed"},
		{"OPTIONS", "OPTIONS", "/v1/keys", nil, nil, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.doWithin(t, 10*time.Second, call{method: tc.method, path: tc.path, body: tc.body, header: tc.header})
			d := wantError(t, res, tc.want)
			t.Logf("HTTP %d %s: %s", res.Code, d.Code, d.Message)
			if strings.Contains(d.Message, "internal") {
				t.Errorf("message %q", d.Message)
			}
			if tc.want == "method_not_allowed" && res.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// chunked is a body sent without a Content-Length.
type chunked string

// doWithin is do with a deadline: a request that hangs fails the test.
func (ts *testServer) doWithin(t *testing.T, d time.Duration, c call) *response {
	t.Helper()
	done := make(chan *response, 1)
	go func() {
		if b, ok := c.body.(chunked); ok {
			done <- ts.doChunked(c, string(b))
			return
		}
		done <- ts.do(c)
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("%s %s: no response within %s", c.method, c.path, d)
		return nil
	}
}

// doChunked sends body with an unknown length, as a chunked upload is.
func (ts *testServer) doChunked(c call, body string) *response {
	req := httptest.NewRequest(c.method, "http://custodian.test"+c.path, io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+ts.token)
	rec := httptest.NewRecorder()
	ts.srv.ServeHTTP(rec, req)
	return &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func flipLast(ct string) string {
	last := ct[len(ct)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return ct[:len(ct)-1] + string(repl)
}

// TestHostileOverHTTP sends the worst bodies over a real connection, where
// the limits of net/http's server apply as well: a declared length over
// the limit is refused before the body is read.
func TestHostileOverHTTP(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", "", false)
	hs := httptest.NewServer(ts.srv)
	defer hs.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, path string, body io.Reader, length int64) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, body)
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	// 1 GiB announced, a few bytes sent: refused at once, without
	// waiting for the rest. (net/http's client will not send a length it
	// cannot keep, so this is written by hand.)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /v1/keys/k/encrypt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n{\"plaintext\":", ts.token, 1<<30)
	raw, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("announced 1 GiB: %v", err)
	}
	b, _ := io.ReadAll(raw.Body)
	if raw.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte(`"too_large"`)) {
		t.Fatalf("announced 1 GiB: HTTP %d %s", raw.StatusCode, b)
	}
	// An endless chunked body stops at the limit.
	resp, b := send("POST", "/v1/keys/k/encrypt", io.MultiReader(strings.NewReader(`{"plaintext":"`), endless{}), -1)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte(`"too_large"`)) {
		t.Fatalf("endless body: HTTP %d %s", resp.StatusCode, b)
	}
	// The connection pool still works.
	resp, b = send("GET", "/v1/keys/k", nil, 0)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after hostile bodies: HTTP %d %s", resp.StatusCode, b)
	}
}

// endless reads as "AAAA…" forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

// TestRoundTripErrorIdentity: the code of an error response maps back,
// with api.ErrorFor, to the sentinel the library returns for the same
// call, and the message is the library's own.
func TestRoundTripErrorIdentity(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", "", false)
	ts.createKey("other", "", false)
	ts.createKey("sig", custodian.ECDSAP256, false)
	ts.createKey("off", "", false)
	ts.post("/v1/keys/off/disable", nil, &api.Key{})
	ts.createKey("gone", "", false)
	ts.post("/v1/keys/gone/revoke", nil, &api.Key{})
	ct, err := ts.c.Encrypt(bg, "k", []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := ts.c
	for _, tc := range []struct {
		name   string
		req    call
		lib    func() error
		wantIs error
	}{
		{"not found", call{method: "GET", path: "/v1/keys/missing"},
			func() error { _, err := c.GetKey(bg, "missing"); return err }, custodian.ErrKeyNotFound},
		{"exists", call{method: "POST", path: "/v1/keys", body: `{"name":"k"}`},
			func() error { _, err := c.CreateKey(bg, "k", nil); return err }, custodian.ErrKeyExists},
		{"disabled", call{method: "POST", path: "/v1/keys/off/encrypt", body: `{"plaintext":""}`},
			func() error { _, err := c.Encrypt(bg, "off", nil, nil); return err }, custodian.ErrKeyDisabled},
		{"revoked", call{method: "POST", path: "/v1/keys/gone/encrypt", body: `{"plaintext":""}`},
			func() error { _, err := c.Encrypt(bg, "gone", nil, nil); return err }, custodian.ErrKeyRevoked},
		{"other key", call{method: "POST", path: "/v1/decrypt", body: `{"ciphertext":"` + ct.String() + `","key":"other"}`},
			func() error {
				_, err := c.Decrypt(bg, ct, &custodian.DecryptOptions{Key: "other"})
				return err
			}, custodian.ErrInvalidCiphertext},
		{"bad signature", call{method: "POST", path: "/v1/keys/sig/verify", body: `{"message":"","signature":"aGk="}`},
			func() error { return c.Verify(bg, "sig", []byte{}, []byte("hi"), nil) }, custodian.ErrInvalidSignature},
		{"unsupported", call{method: "POST", path: "/v1/keys/k/export", body: `{}`},
			func() error { _, err := c.ExportKey(bg, "k", nil); return err }, custodian.ErrUnsupportedOperation},
		{"invalid argument", call{method: "POST", path: "/v1/random", body: `{"bytes":1000000000}`},
			func() error { _, err := c.Random(bg, 1e9); return err }, custodian.ErrInvalidArgument},
		{"bad name", call{method: "GET", path: "/v1/keys/bad%20name"},
			func() error { _, err := c.GetKey(bg, "bad name"); return err }, custodian.ErrInvalidArgument},
		{"state", call{method: "POST", path: "/v1/keys/k/cancel-deletion"},
			func() error { _, err := c.CancelKeyDeletion(bg, "k"); return err }, custodian.ErrInvalidKeyState},
		{"already initialized", call{method: "POST", path: "/v1/sys/init", body: `{}`},
			func() error { _, err := c.Init(bg, custodian.InitOptions{}); return err }, custodian.ErrAlreadyInitialized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ts.do(tc.req).errorBody(t)
			libErr := tc.lib()
			if !errors.Is(libErr, tc.wantIs) {
				t.Fatalf("the library returned %v, not %v", libErr, tc.wantIs)
			}
			sentinel := api.ErrorFor(d.Code)
			if !errors.Is(libErr, sentinel) {
				t.Errorf("code %q maps to %v, which the library's %v does not match", d.Code, sentinel, libErr)
			}
			if sentinel != tc.wantIs {
				t.Errorf("code %q maps to %v, want %v", d.Code, sentinel, tc.wantIs)
			}
			if d.Message != libErr.Error() {
				t.Errorf("message %q, the library's %q", d.Message, libErr.Error())
			}
			remote := &api.RemoteError{Code: d.Code, Message: d.Message}
			if !errors.Is(remote, tc.wantIs) {
				t.Errorf("api.RemoteError with code %q does not match %v", d.Code, tc.wantIs)
			}
		})
	}
	// Sealed last: it ends the test's key operations.
	ts.post("/v1/sys/seal", nil, &custodian.Status{})
	d := ts.do(call{method: "GET", path: "/v1/keys/k"}).errorBody(t)
	_, libErr := c.GetKey(bg, "k")
	if api.ErrorFor(d.Code) != custodian.ErrSealed || !errors.Is(libErr, custodian.ErrSealed) {
		t.Errorf("sealed: code %q, library %v", d.Code, libErr)
	}
}
