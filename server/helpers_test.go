package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/server"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

var bg = context.Background()

// testServer is a Server over a key-file-sealed Custodian on an in-memory
// store, initialized and unsealed, with its root token.
type testServer struct {
	t       testing.TB
	c       *custodian.Custodian
	srv     *server.Server
	token   string
	log     *server.LogBuffer
	clock   *clock
	keyfile *keyfile.Seal
}

// clock is a settable clock for the Custodian, so tests can pass
// deletion windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKeyfile(t testing.TB) *keyfile.Seal {
	t.Helper()
	kf, err := keyfile.Create(filepath.Join(t.TempDir(), "unseal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// openCustodian opens st under sl without initializing it.
func openCustodian(t testing.TB, st store.Store, sl seal.Seal, clk *clock) *custodian.Custodian {
	t.Helper()
	opts := custodian.Options{Store: st, Seal: sl, RotationCheckInterval: -1, Logger: slog.New(slog.DiscardHandler)}
	if clk != nil {
		opts.Now = clk.now
	}
	c, err := custodian.Open(bg, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newServerFor(t testing.TB, c *custodian.Custodian, opts server.Options) (*server.Server, *server.LogBuffer) {
	t.Helper()
	logs := &server.LogBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Version == "" {
		opts.Version = "test-version"
	}
	srv, err := server.New(c, opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv, logs
}

// newTestServer returns an unsealed server with a root token.
func newTestServer(t testing.TB, opts server.Options) *testServer {
	t.Helper()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	kf := newKeyfile(t)
	c := openCustodian(t, memory.New(), kf, clk)
	res, err := c.Init(bg, custodian.InitOptions{})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	srv, logs := newServerFor(t, c, opts)
	return &testServer{t: t, c: c, srv: srv, token: string(custodian.Reveal(res.RootToken)), log: logs, clock: clk, keyfile: kf}
}

// newShamirServer returns a server over an uninitialized Shamir-sealed
// Custodian.
func newShamirServer(t testing.TB) *testServer {
	t.Helper()
	c := openCustodian(t, memory.New(), shamir.Seal{}, nil)
	srv, logs := newServerFor(t, c, server.Options{})
	return &testServer{t: t, c: c, srv: srv, log: logs}
}

// response is a recorded response.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// errorBody decodes an error response, failing the test if it is not one.
func (r *response) errorBody(t testing.TB) api.ErrorDetail {
	t.Helper()
	var b api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("HTTP %d: body is not an error body (%v): %q", r.Code, err, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return b.Error
}

// decode decodes a success, failing the test on any other status.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if r.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Code, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.Body)
	}
}

// call describes one request.
type call struct {
	method, path string
	body         any // string: sent as is; nil: no body; else JSON
	noAuth       bool
	token        string
	header       map[string]string
}

func (ts *testServer) do(c call) *response {
	ts.t.Helper()
	var body io.Reader = http.NoBody
	switch b := c.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req := httptest.NewRequest(c.method, "http://custodian.test"+c.path, body)
	if !c.noAuth {
		tok := ts.token
		if c.token != "" {
			tok = c.token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get(api.HeaderRequestID) == "" {
		ts.t.Errorf("%s %s: no %s header", c.method, c.path, api.HeaderRequestID)
	}
	return &response{Code: res.StatusCode, Header: res.Header, Body: b}
}

// post sends an authorized JSON request and decodes a success into out.
func (ts *testServer) post(path string, in, out any) {
	ts.t.Helper()
	ts.do(call{method: "POST", path: path, body: in}).decode(ts.t, out)
}

func (ts *testServer) get(path string, out any) {
	ts.t.Helper()
	ts.do(call{method: "GET", path: path}).decode(ts.t, out)
}

// wantError checks that a response is the error with code, and returns
// its detail.
func wantError(t testing.TB, r *response, code string) api.ErrorDetail {
	t.Helper()
	d := r.errorBody(t)
	if d.Code != code {
		t.Fatalf("HTTP %d code %q (%s), want %q", r.Code, d.Code, d.Message, code)
	}
	var row api.Code
	for _, c := range api.Codes {
		if c.Code == code {
			row = c
		}
	}
	if r.Code != row.Status {
		t.Errorf("code %s came with HTTP %d, want %d", code, r.Code, row.Status)
	}
	return d
}

func (ts *testServer) createKey(name string, typ custodian.KeyType, exportable bool) *api.Key {
	ts.t.Helper()
	var k api.Key
	ts.post("/v1/keys", api.CreateKeyRequest{Name: name, Type: typ, Exportable: exportable}, &k)
	return &k
}
