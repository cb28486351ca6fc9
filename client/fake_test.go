package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// fake is a stand-in for the server: it routes exactly api.Routes through
// a ServeMux built from their patterns (so the client's paths are checked
// against the table), records each request, and answers with the handler
// a test set for the route, or 501 for a route no test expects.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	requests []recorded
}

// recorded is one request as the fake saw it.
type recorded struct {
	Route   string
	Method  string
	Path    string // escaped, as sent
	Name    string // the {name} wildcard, unescaped
	Query   string
	Header  http.Header
	Body    []byte
	Arrived time.Time
}

func newFake(t *testing.T) *fake {
	f := &fake{t: t, handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(f.mux())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) mux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range api.Routes {
		mux.HandleFunc(rt.Pattern(), func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.requests = append(f.requests, recorded{
				Route: rt.Name, Method: r.Method, Path: r.URL.EscapedPath(), Name: r.PathValue("name"),
				Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Arrived: time.Now(),
			})
			h := f.handlers[rt.Name]
			f.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			w.Header().Set(api.HeaderRequestID, "fake-"+rt.Name)
			if h == nil {
				writeError(w, http.StatusNotImplemented, "internal", "the fake has no handler for "+rt.Name)
				return
			}
			h(w, r)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.t.Errorf("request to %s %s, which is no route of api.Routes", r.Method, r.URL.EscapedPath())
		writeError(w, http.StatusNotFound, "no_route", "no such route")
	})
	return mux
}

// handle sets the handler of a route.
func (f *fake) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[route] = h
}

// reply makes the route answer v with status 200.
func (f *fake) reply(route string, v any) {
	f.handle(route, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, v) })
}

// fail makes the route answer an API error.
func (f *fake) fail(route string, status int, code, msg string) {
	f.handle(route, func(w http.ResponseWriter, r *http.Request) { writeError(w, status, code, msg) })
}

// seen returns the requests so far, and forgets them.
func (f *fake) seen() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// client returns a client of the fake with a token and quick retries.
func (f *fake) client(opts client.Options) *client.Client {
	f.t.Helper()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	c, err := client.New(f.srv.URL, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg}})
}

// decodeStrict decodes a recorded body as the server does: one JSON
// object, no unknown fields.
func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("request body %s: %v", body, err)
	}
	if dec.More() {
		t.Fatalf("request body %s: more than one value", body)
	}
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(t *testing.T, got []byte, want any) bool {
	t.Helper()
	wb, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body %q: %v", got, err)
	}
	json.Unmarshal(wb, &w)
	gb, _ := json.Marshal(g)
	wb, _ = json.Marshal(w)
	return bytes.Equal(gb, wb)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// testToken is the root token the fake's clients send.
const testToken = "kct1.test-token"
