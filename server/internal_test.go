package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// TestBindingsMatchRoutes: every binding is a route of the table (New
// checks the converse).
func TestBindingsMatchRoutes(t *testing.T) {
	names := map[string]bool{}
	for _, r := range api.Routes {
		if names[r.Name] {
			t.Errorf("route %s twice in the table", r.Name)
		}
		names[r.Name] = true
		if _, ok := bindings[r.Name]; !ok {
			t.Errorf("route %s has no handler", r.Name)
		}
	}
	for name := range bindings {
		if !names[name] {
			t.Errorf("handler for %s, which is not in api.Routes", name)
		}
	}
}

// adapted returns a Server (over an in-memory Custodian, enough for
// public routes) and the handler of a public test route running h.
func adapted(t *testing.T, h handlerFunc) (http.Handler, *LogBuffer) {
	t.Helper()
	c, err := custodian.New(custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	logs := &LogBuffer{}
	s, err := New(c, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rt := api.Route{Name: "test", Method: "POST", Path: "/test", Timeout: 50 * time.Millisecond, Public: true}
	return s.adapt(rt, binding{handle: h}), logs
}

func serve(h http.Handler) (*httptest.ResponseRecorder, api.ErrorBody) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/test", nil))
	var b api.ErrorBody
	json.Unmarshal(rec.Body.Bytes(), &b)
	return rec, b
}

// TestPanicIsInternal: a panicking handler gives 500 "internal" with the
// request id, the log gets the panic and its stack, the process lives.
func TestPanicIsInternal(t *testing.T) {
	h, logs := adapted(t, func(*Server, http.ResponseWriter, *http.Request) error {
		var m map[string]int
		m["boom"]++ // a nil map: a real bug's panic
		return nil
	})
	rec, b := serve(h)
	id := rec.Header().Get(api.HeaderRequestID)
	if rec.Code != 500 || b.Error.Code != "internal" || b.Error.Message != "internal error; request id "+id {
		t.Fatalf("HTTP %d %+v", rec.Code, b)
	}
	if l := logs.String(); !strings.Contains(l, "assignment to entry in nil map") || !strings.Contains(l, "internal_test.go") || !strings.Contains(l, id) {
		t.Fatalf("the log lacks the panic, its stack or the id:\n%s", l)
	}
}

// TestUnknownErrorIsHidden: an error outside the table reaches the log,
// not the client.
func TestUnknownErrorIsHidden(t *testing.T) {
	h, logs := adapted(t, func(*Server, http.ResponseWriter, *http.Request) error {
		return errors.New("pq: password authentication failed for user \"custodian\" at 10.0.0.7")
	})
	rec, b := serve(h)
	if rec.Code != 500 || b.Error.Code != "internal" || strings.Contains(b.Error.Message, "10.0.0.7") {
		t.Fatalf("HTTP %d %+v", rec.Code, b)
	}
	if !strings.Contains(logs.String(), "10.0.0.7") {
		t.Fatal("the log lacks the cause")
	}
}

// TestTimeout: a handler that outlives the route's timeout gets 503
// "timeout".
func TestTimeout(t *testing.T) {
	h, _ := adapted(t, func(_ *Server, _ http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done()
		return r.Context().Err()
	})
	start := time.Now()
	rec, b := serve(h)
	if rec.Code != 503 || b.Error.Code != "timeout" {
		t.Fatalf("HTTP %d %+v", rec.Code, b)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

// TestErrorAfterBodyAborts: an error once the body has begun (a backup
// stream) cuts the connection rather than end a truncated body cleanly.
func TestErrorAfterBodyAborts(t *testing.T) {
	h, logs := adapted(t, func(_ *Server, w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bytes.Repeat([]byte("x"), 100))
		http.NewResponseController(w).Flush()
		return errors.New("the store went away")
	})
	hs := httptest.NewServer(h)
	defer hs.Close()
	hs.Config.ErrorLog = nil
	resp, err := http.Post(hs.URL+"/test", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || err == nil {
		t.Fatalf("HTTP %d, read error %v: want a broken body", resp.StatusCode, err)
	}
	if !strings.Contains(logs.String(), "the store went away") {
		t.Fatal("the log lacks the cause")
	}
}

// TestFlushThroughWrapper: the response writer wrapper still lets a
// handler flush (http.ResponseController unwraps it).
func TestFlushThroughWrapper(t *testing.T) {
	h, _ := adapted(t, func(_ *Server, w http.ResponseWriter, _ *http.Request) error {
		w.Write([]byte("x"))
		return http.NewResponseController(w).Flush()
	})
	rec, _ := serve(h)
	if rec.Code != 200 || !rec.Flushed {
		t.Fatalf("HTTP %d, flushed %v", rec.Code, rec.Flushed)
	}
}

// TestNewChecksOptions: out-of-range options are refused.
func TestNewChecksOptions(t *testing.T) {
	c, err := custodian.New(custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, o := range []Options{{MaxBatchItems: -1}, {MaxBatchItems: custodian.MaxBatch + 1}, {KeyCountInterval: -time.Second}} {
		if s, err := New(c, o); !errors.Is(err, custodian.ErrInvalidArgument) {
			t.Errorf("New(%+v) = %v, %v", o, s, err)
		}
	}
	if _, err := New(nil, Options{}); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("New(nil) = %v", err)
	}
	// Two servers on one registry: the second is refused until the first
	// is closed.
	s1, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := s1.metrics.reg
	if _, err := New(c, Options{Registry: reg}); err == nil {
		t.Fatal("two servers registered the same metrics")
	}
	s1.Close()
	s2, err := New(c, Options{Registry: reg})
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	s2.Close()
}

// TestKeyCountIsCached: a scrape within the interval reuses the count.
func TestKeyCountIsCached(t *testing.T) {
	c, err := custodian.New(custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.CreateKey(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(c, Options{KeyCountInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scrape := func() string {
		rec := httptest.NewRecorder()
		s.promHTTP.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if m := scrape(); !strings.Contains(m, `custodian_keys{state="enabled"} 1`) {
		t.Fatalf("first scrape:\n%s", m)
	}
	if _, err := c.CreateKey(ctx, "b", nil); err != nil {
		t.Fatal(err)
	}
	if m := scrape(); !strings.Contains(m, `custodian_keys{state="enabled"} 1`) {
		t.Fatal("the second scrape counted again within the interval")
	}
	s.metrics.keys.mu.Lock()
	s.metrics.keys.at = time.Now().Add(-2 * time.Hour)
	s.metrics.keys.mu.Unlock()
	if m := scrape(); !strings.Contains(m, `custodian_keys{state="enabled"} 2`) {
		t.Fatal("the count was not renewed after the interval")
	}
}
