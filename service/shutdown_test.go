package service

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store/bolt"
)

// slowRoute serves GET /test/slow in front of the API: it counts the
// request in, then answers 200 when release closes, or 503 if the
// request's context ends first.
func slowRoute(entered chan<- struct{}, release <-chan struct{}, cancelled *atomic.Int32) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/test/slow" {
				h.ServeHTTP(w, r)
				return
			}
			entered <- struct{}{}
			select {
			case <-release:
				io.WriteString(w, "done")
			case <-r.Context().Done():
				cancelled.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
	}
}

// runInBackground runs Run and returns its URL, from what it printed,
// and a channel that receives its result.
func runInBackground(t *testing.T, ctx context.Context, cfg Config) (string, <-chan error) {
	t.Helper()
	out := new(syncBuffer)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, out) }()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], done
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
	}
	t.Fatal("Run printed no URL")
	return "", nil
}

func reopenStore(t *testing.T, cfg Config) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(cfg.DataDir, custodian.StoreFile), bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the store was not closed: %v", err)
	}
	st.Close()
}

// Cancelling Run's context lets requests in flight finish with 200, stops
// new connections, and closes the store.
func TestGracefulShutdown(t *testing.T) {
	const inFlight = 5
	entered, release := make(chan struct{}, inFlight), make(chan struct{})
	var cancelled atomic.Int32
	cfg := testConfig(t, io.Discard)
	cfg.Dev = true
	cfg.handlerWrap = slowRoute(entered, release, &cancelled)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, done := runInBackground(t, ctx, cfg)

	type result struct {
		code int
		body string
		err  error
	}
	results := make(chan result, inFlight)
	for range inFlight {
		go func() {
			// A client of its own: one connection per request.
			resp, err := (&http.Client{Transport: &http.Transport{}}).Get(url + "/test/slow")
			if err != nil {
				results <- result{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- result{resp.StatusCode, string(b), err}
		}()
	}
	for range inFlight {
		<-entered
	}
	cancel()

	// New connections are refused once the listener closes, while the
	// requests in flight are still waiting.
	host := strings.TrimPrefix(url, "http://")
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if conn, err := net.Dial("tcp", host); err != nil {
			refused = true
			break
		} else {
			conn.Close()
		}
	}
	if !refused {
		t.Error("the server still accepted connections after shutdown began")
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned with requests still in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}

	close(release)
	for range inFlight {
		r := <-results
		if r.err != nil || r.code != http.StatusOK || r.body != "done" {
			t.Errorf("in-flight request: %d %q %v; want 200 done", r.code, r.body, r.err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its requests finished")
	}
	if n := cancelled.Load(); n != 0 {
		t.Errorf("%d requests saw their context cancelled", n)
	}
	reopenStore(t, cfg)
}

// A request still running at the shutdown timeout has its context
// cancelled and its connection closed; the store is closed all the same.
func TestShutdownTimeout(t *testing.T) {
	entered, never := make(chan struct{}, 1), make(chan struct{})
	var cancelled atomic.Int32
	cfg := testConfig(t, io.Discard)
	cfg.Dev = true
	cfg.ShutdownTimeout = 200 * time.Millisecond
	cfg.handlerWrap = slowRoute(entered, never, &cancelled)
	ctx, cancel := context.WithCancel(context.Background())
	url, done := runInBackground(t, ctx, cfg)

	go func() {
		resp, err := http.Get(url + "/test/slow")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	began := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the shutdown timeout")
	}
	if d := time.Since(began); d < cfg.ShutdownTimeout {
		t.Errorf("Run returned after %v, before the shutdown timeout", d)
	}
	for deadline := time.Now().Add(5 * time.Second); cancelled.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if cancelled.Load() != 1 {
		t.Error("the request cut off at the timeout did not see its context cancelled")
	}
	reopenStore(t, cfg)
}

// MaxConcurrentRequests lets that many in; the next waits, and is served
// when a slot frees.
func TestMaxConcurrentRequests(t *testing.T) {
	entered, release := make(chan struct{}, 2), make(chan struct{})
	var cancelled atomic.Int32
	cfg := testConfig(t, io.Discard)
	cfg.Dev = true
	cfg.MaxConcurrentRequests = 1
	cfg.handlerWrap = slowRoute(entered, release, &cancelled)
	s, _ := start(t, cfg)

	codes := make(chan int, 2)
	get := func() {
		resp, err := (&http.Client{Transport: &http.Transport{}}).Get(s.URL() + "/test/slow")
		if err != nil {
			codes <- 0
			return
		}
		resp.Body.Close()
		codes <- resp.StatusCode
	}
	go get()
	<-entered
	go get()
	select {
	case <-entered:
		t.Fatal("a second request got in past a limit of one")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-entered
	for range 2 {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("status %d", c)
		}
	}
}

func TestReloadLogLevel(t *testing.T) {
	logs := new(syncBuffer)
	cfg := testConfig(t, logs)
	cfg.LogLevel = "info"
	s, _ := start(t, cfg)

	s.log.Debug("hidden at info")
	next := cfg
	next.LogLevel = "debug"
	next.MaxBatchItems = 5 // not live
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	s.log.Debug("shown at debug")
	if got := logs.String(); strings.Contains(got, "hidden at info") || !strings.Contains(got, "shown at debug") {
		t.Errorf("log level not applied:\n%s", got)
	}
	if !regexp.MustCompile(`restart the server to apply it.*setting=max_batch_items`).MatchString(logs.String()) {
		t.Errorf("a changed setting that needs a restart was not reported:\n%s", logs)
	}

	bad := next
	bad.LogLevel = "silent"
	if err := s.Reload(bad); err == nil || !strings.Contains(err.Error(), "log_level") {
		t.Errorf("Reload(invalid) = %v", err)
	}
	s.log.Debug("still debug")
	if !strings.Contains(logs.String(), "still debug") {
		t.Error("an invalid reload changed the log level")
	}
}
