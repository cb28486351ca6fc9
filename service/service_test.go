package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store/bolt"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a server on a free loopback port over a new data
// directory, logging to logs.
func testConfig(t *testing.T, logs io.Writer) Config {
	t.Helper()
	c := Default()
	c.Addr = "127.0.0.1:0"
	c.DataDir = filepath.Join(t.TempDir(), "data")
	c.LogLevel = "debug"
	c.LogOutput = logs
	c.Version = "test"
	c.InsecurePlainHTTP = true // the TLS tests add certificates
	return c
}

// start starts a Service and shuts it down at the end of the test.
func start(t *testing.T, cfg Config) (*Service, string) {
	t.Helper()
	var out bytes.Buffer
	s, err := Start(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { shutdown(t, s) })
	return s, out.String()
}

func shutdown(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

type health struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Version     string `json:"version"`
}

func getHealth(t *testing.T, client *http.Client, base string) (int, health) {
	t.Helper()
	resp, err := client.Get(base + "/v1/sys/health")
	if err != nil {
		t.Fatalf("GET health: %v", err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("health body: %v", err)
	}
	return resp.StatusCode, h
}

var (
	urlLine   = regexp.MustCompile(`(?m)^KeyCustodian dev server listening on (http://127\.0\.0\.1:(\d+))$`)
	tokenLine = regexp.MustCompile(`(?m)^Root token: (kct1\.[A-Za-z0-9_-]{43}) `)
)

// devOutput checks what a dev server printed and returns its token.
func devOutput(t *testing.T, s *Service, out string) string {
	t.Helper()
	m := urlLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output has no URL line:\n%s", out)
	}
	if m[1] != s.URL() || m[2] == "0" {
		t.Errorf("printed %s; bound %s", m[1], s.URL())
	}
	tm := tokenLine.FindStringSubmatch(out)
	if tm == nil {
		t.Fatalf("output has no root token line:\n%s", out)
	}
	for _, line := range []string{"export CUSTODIAN_ADDR=" + s.URL(), "export CUSTODIAN_TOKEN=" + tm[1]} {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(line) + `$`).MatchString(out) {
			t.Errorf("output lacks the line %q:\n%s", line, out)
		}
	}
	return tm[1]
}

func TestDevMode(t *testing.T) {
	logs := new(syncBuffer)
	cfg := testConfig(t, logs)
	cfg.Dev = true
	ctx := context.Background()

	s, out := start(t, cfg)
	token := devOutput(t, s, out)

	tokenFile := filepath.Join(cfg.DataDir, DevTokenFile)
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", tokenFile, fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(tokenFile); strings.TrimSpace(string(b)) != token {
		t.Errorf("token file holds %q, printed %q", b, token)
	}
	if err := s.b.c.CheckRootToken(ctx, []byte(token)); err != nil {
		t.Errorf("printed token: %v", err)
	}
	code, h := getHealth(t, http.DefaultClient, s.URL())
	if code != http.StatusOK || !h.Initialized || h.Sealed {
		t.Errorf("health = %d %+v, want 200, initialized and unsealed", code, h)
	}

	// A key made now survives a restart, and so does the token.
	if _, err := s.b.c.CreateKey(ctx, "restart", nil); err != nil {
		t.Fatal(err)
	}
	ct, err := s.b.c.Encrypt(ctx, "restart", []byte("kept"), nil)
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, s)

	s2, out2 := start(t, cfg)
	if got := devOutput(t, s2, out2); got != token {
		t.Errorf("restart printed token %q, want the first one %q", got, token)
	}
	if pt, err := s2.b.c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "kept" {
		t.Errorf("after restart: Decrypt = %q, %v", pt, err)
	}
	shutdown(t, s2)

	// A lost token file gets a new token, and the old one stops working.
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	s3, out3 := start(t, cfg)
	token3 := devOutput(t, s3, out3)
	if token3 == token {
		t.Error("a new token was not made for the missing token file")
	}
	if err := s3.b.c.CheckRootToken(ctx, []byte(token3)); err != nil {
		t.Errorf("new token: %v", err)
	}
	if err := s3.b.c.CheckRootToken(ctx, []byte(token)); !errors.Is(err, custodian.ErrInvalidToken) {
		t.Errorf("old token after replacement: %v, want ErrInvalidToken", err)
	}
	if b, _ := os.ReadFile(tokenFile); strings.TrimSpace(string(b)) != token3 {
		t.Errorf("token file not rewritten: %q", b)
	}
	if pt, err := s3.b.c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "kept" {
		t.Errorf("after new token: Decrypt = %q, %v", pt, err)
	}
	shutdown(t, s3)

	for _, tok := range []string{token, token3} {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("the logs contain a root token:\n%s", logs)
		}
	}
}

func TestDevTokenFileTooOpen(t *testing.T) {
	cfg := testConfig(t, io.Discard)
	cfg.Dev = true
	s, _ := start(t, cfg)
	shutdown(t, s)
	tokenFile := filepath.Join(cfg.DataDir, DevTokenFile)
	if err := os.Chmod(tokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "others may have read it") {
		t.Fatalf("Start with a 0644 token file = %v", err)
	}
	// The failed start released the store.
	st, err := bolt.Open(filepath.Join(cfg.DataDir, custodian.StoreFile), bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("store still locked after a failed start: %v", err)
	}
	st.Close()
}

// Plain HTTP off loopback is refused before anything is bound or opened.
func TestRefusePlainHTTPOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8200", ":0", "[::]:0"} {
		for _, dev := range []bool{false, true} {
			cfg := testConfig(t, io.Discard)
			cfg.Addr, cfg.Dev = addr, dev
			_, err := Start(context.Background(), cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "TLS is required off loopback") {
				t.Errorf("Start(%s, dev %v) = %v, want TLS is required off loopback", addr, dev, err)
			}
			if _, serr := os.Stat(cfg.DataDir); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("Start(%s) made the data directory before refusing", addr)
			}
		}
	}
}

// A production server with a Shamir seal starts uninitialised and sealed,
// prints no secret, and reports 503 to a load balancer.
func TestProductionShamirStartsSealed(t *testing.T) {
	cfg := testConfig(t, io.Discard)
	s, out := start(t, cfg)
	if strings.Contains(out, "kct1.") || strings.Contains(out, "export") {
		t.Errorf("production output shows a secret or export lines:\n%s", out)
	}
	if !strings.Contains(out, "listening on "+s.URL()) || !strings.Contains(out, "operator init") {
		t.Errorf("output:\n%s", out)
	}
	code, h := getHealth(t, http.DefaultClient, s.URL())
	if code != http.StatusServiceUnavailable || h.Initialized || !h.Sealed {
		t.Errorf("health = %d %+v, want 503, uninitialized and sealed", code, h)
	}
	if _, err := os.Stat(cfg.KeyFilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a Shamir server made a key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, DevTokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a production server wrote a dev token file: %v", err)
	}
}

// A keyfile server whose store is initialised refuses to start with a
// key file that was lost, and does not leave a new one behind.
func TestKeyFileLost(t *testing.T) {
	cfg := testConfig(t, io.Discard)
	cfg.Dev = true
	s, _ := start(t, cfg)
	shutdown(t, s)
	if err := os.Remove(cfg.KeyFilePath()); err != nil {
		t.Fatal(err)
	}
	cfg.Dev, cfg.Seal = false, SealKeyFile
	_, err := Start(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot be unsealed") {
		t.Fatalf("Start without the key file = %v", err)
	}
	if _, err := os.Stat(cfg.KeyFilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed start left a new key file: %v", err)
	}
}

func TestDevRefusesShamirStore(t *testing.T) {
	cfg := testConfig(t, io.Discard)
	s, _ := start(t, cfg)
	if _, err := s.b.c.Init(context.Background(), custodian.InitOptions{Shares: 1, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	shutdown(t, s)
	cfg.Dev = true
	if _, err := Start(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "shamir") {
		t.Fatalf("dev start on a Shamir store = %v", err)
	}
}

// log_format json gives one JSON object per line, start-up included.
func TestJSONLogs(t *testing.T) {
	logs := new(syncBuffer)
	cfg := testConfig(t, logs)
	cfg.LogFormat = "json"
	s, _ := start(t, cfg)
	getHealth(t, http.DefaultClient, s.URL())
	shutdown(t, s)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var sawListening bool
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == "listening" && rec["url"] == s.URL() {
			sawListening = true
		}
	}
	if !sawListening {
		t.Errorf("no JSON \"listening\" record with the URL in:\n%s", logs)
	}
}
