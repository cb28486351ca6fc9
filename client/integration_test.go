package client_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/client"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/server"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// The integration tests run the real server (package server) over a real
// Custodian, and drive it through the client.

// testClock is the Custodian's clock, moved by the tests to pass deletion
// windows.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// scenarioStart is the time each run of the scenario begins at.
var scenarioStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// liveServer is a server over a Custodian, on a loopback port.
type liveServer struct {
	kms   *custodian.Custodian
	url   string
	store store.Store
}

// startServer opens a Custodian over st and sl (not initialized unless
// the store is), serves it, and returns both. restore, if set, is the
// server's restore hook.
func startServer(t *testing.T, st store.Store, sl seal.Seal, clk *testClock, restore func(*custodian.Custodian) func(context.Context, io.Reader, [][]byte) (*custodian.BackupResult, error)) *liveServer {
	t.Helper()
	opts := custodian.Options{Store: st, Seal: sl, RotationCheckInterval: -1, Logger: slog.New(slog.DiscardHandler)}
	if clk != nil {
		opts.Now = clk.now
	}
	kms, err := custodian.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kms.Close() })
	sopts := server.Options{Logger: slog.New(slog.DiscardHandler), Version: "test"}
	if restore != nil {
		sopts.Restore = restore(kms)
	}
	srv, err := server.New(kms, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &liveServer{kms: kms, url: hs.URL, store: st}
}

func newKeyfileSeal(t *testing.T) *keyfile.Seal {
	t.Helper()
	kf, err := keyfile.Create(filepath.Join(t.TempDir(), "unseal.key"))
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// TestSameAsEmbedded runs one scenario of every KeyManager operation
// against the embedded Custodian and, through the client, against a
// server over the same Custodian, and checks that results and errors
// match: the same errors.Is identities, the same messages.
func TestSameAsEmbedded(t *testing.T) {
	clk := &testClock{t: scenarioStart}
	kf := newKeyfileSeal(t)
	ls := startServer(t, memory.New(), kf, clk, nil)
	ctx := context.Background()
	res, err := ls.kms.Init(ctx, custodian.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(ls.url, client.Options{Token: string(custodian.Reveal(res.RootToken)), RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	peerKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := x509.MarshalPKIXPublicKey(peerKey.PublicKey())
	if err != nil {
		t.Fatal(err)
	}

	for name, km := range map[string]custodian.KeyManager{"embedded": ls.kms, "client": c} {
		if km == nil {
			t.Fatalf("%s is nil", name)
		}
	}
	local := run(t, ls.kms, "embedded/", clk, peer)
	remote := run(t, c, "remote/", clk, peer)
	if testing.Verbose() {
		t.Logf("transcript:\n%s", strings.Join(remote, "\n"))
	}
	for i := range max(len(local), len(remote)) {
		var l, r string
		if i < len(local) {
			l = local[i]
		}
		if i < len(remote) {
			r = remote[i]
		}
		if l != r {
			t.Errorf("step %d differs:\n  embedded: %s\n  client:   %s", i, l, r)
		}
	}

	// What one made, the other reads: the client's ciphertexts decrypt
	// in-process and the reverse, and a signature made remotely verifies
	// locally.
	ct, err := c.Encrypt(ctx, "embedded/imported", []byte("across"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := ls.kms.Decrypt(ctx, ct, nil); err != nil || string(pt) != "across" {
		t.Errorf("embedded Decrypt of the client's ciphertext: %q, %v", pt, err)
	}
	ct, _ = ls.kms.Encrypt(ctx, "remote/imported", []byte("back"), nil)
	if pt, err := c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "back" {
		t.Errorf("client Decrypt of the embedded ciphertext: %q, %v", pt, err)
	}
	sig, err := c.Sign(ctx, "embedded/ec", []byte("m"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.kms.Verify(ctx, "embedded/ec", []byte("m"), sig.Signature, nil); err != nil {
		t.Errorf("embedded Verify of the client's signature: %v", err)
	}
	s1, _ := c.Agree(ctx, "embedded/x", peer, nil)
	s2, _ := ls.kms.Agree(ctx, "embedded/x", peer, nil)
	if s1.IsZero() || !s1.Equal(s2) {
		t.Errorf("the client's and the embedded shared secrets differ")
	}
	e1, _ := c.ExportKey(ctx, "embedded/cbc", nil)
	e2, _ := ls.kms.ExportKey(ctx, "embedded/cbc", nil)
	if e1.IsZero() || !e1.Equal(e2) {
		t.Errorf("the client's and the embedded exports differ")
	}
}

// TestConcurrentUse shares one client among many goroutines, as a service
// does: every round trip must come back to its own caller.
func TestConcurrentUse(t *testing.T) {
	ls := startServer(t, memory.New(), newKeyfileSeal(t), nil, nil)
	ctx := context.Background()
	res, err := ls.kms.Init(ctx, custodian.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(ls.url, client.Options{Token: string(custodian.Reveal(res.RootToken))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateKey(ctx, "shared", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Go(func() {
			for i := range 20 {
				msg := fmt.Sprintf("goroutine %d message %d", g, i)
				ct, err := c.Encrypt(ctx, "shared", []byte(msg), &custodian.EncryptOptions{AssociatedData: []byte(msg)})
				if err != nil {
					errs <- err
					return
				}
				pt, err := c.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: []byte(msg)})
				if err != nil || string(pt) != msg {
					errs <- fmt.Errorf("%s came back as %q, %v", msg, pt, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
