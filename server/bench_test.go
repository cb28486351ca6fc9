package server_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// benchClients is how many clients send at once, each on its own
// keep-alive connection.
const benchClients = 64

// BenchmarkEncryptHTTP encrypts 1 KiB over loopback HTTP with keep-alive
// and 64 concurrent clients: impl=server is the full server (token check,
// strict decoding, the library's Encrypt, metrics, a JSON log line to
// io.Discard); impl=bare is a plain net/http handler in the same process
// doing the same AES-256-GCM seal with a cached cipher.AEAD under the
// same JSON bodies. docs/performance.md records both and the ratio. Both
// report requests per second and the process's CPU time per request
// (clients included), the steadier figure on a busy machine.
//
//	go test -run '^$' -bench EncryptHTTP -count 6 ./server
func BenchmarkEncryptHTTP(b *testing.B) {
	plaintext := make([]byte, 1024)
	rand.Read(plaintext)
	body, _ := json.Marshal(api.EncryptRequest{Plaintext: plaintext})

	b.Run("impl=server", func(b *testing.B) {
		ts := newTestServer(b, server.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
		ts.createKey("bench", "", false)
		hs := httptest.NewServer(ts.srv)
		defer hs.Close()
		loadHTTP(b, hs.URL+"/v1/keys/bench/encrypt", body, "Bearer "+ts.token)
	})
	b.Run("impl=bare", func(b *testing.B) {
		hs := httptest.NewServer(bareEncrypt(b))
		defer hs.Close()
		loadHTTP(b, hs.URL+"/encrypt", body, "")
	})
}

// bareEncrypt is the baseline: decode, seal, encode, nothing else.
func bareEncrypt(b *testing.B) http.Handler {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.EncryptRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		out := make([]byte, 12, 12+len(req.Plaintext)+aead.Overhead())
		rand.Read(out)
		out = aead.Seal(out, out, req.Plaintext, req.AssociatedData)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(api.EncryptResponse{Ciphertext: base64.RawURLEncoding.EncodeToString(out)})
	})
}

// loadHTTP sends b.N requests from benchClients goroutines and reports
// requests per second.
func loadHTTP(b *testing.B, url string, body []byte, auth string) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var failed atomic.Value
	send := func() {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			failed.Store(err.Error())
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed.Store(resp.Status)
		}
	}
	// Open the connections before the clock starts.
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(send)
	}
	wg.Wait()

	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				send()
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatalf("a request failed: %v", f)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	// CPU time per request, clients included: on a machine shared with
	// other work, a steadier measure than the rate.
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	}
}
