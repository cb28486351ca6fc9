package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// A dev server stopped with SIGTERM and started again on its data
// directory has every key, the same root token, and decrypts and
// verifies what it made before.
func TestRestartPersistence(t *testing.T) {
	srv := startDev(t, "")
	c := srv.client(t)
	cl := newCLI(t, srv)
	ctx := t.Context()
	types := []custodian.KeyType{custodian.AES256GCM, custodian.AES256CBC, custodian.RSA2048, custodian.Ed25519, custodian.HMACSHA256, custodian.X25519}
	for _, typ := range types {
		if _, err := c.CreateKey(ctx, string(typ), &custodian.CreateOptions{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	cl.ok("", "key", "rotate", "aes256-gcm")
	ct := cl.ok("persisted", "encrypt", "--key", "aes256-gcm")
	raw := cl.ok("persisted", "encrypt", "--key", "aes256-cbc", "--format", "raw")
	sig := cl.write("sig", []byte(cl.ok("persisted", "sign", "--key", "ed25519")))
	mac := cl.write("mac", []byte(cl.ok("persisted", "mac", "--key", "hmac-sha256")))
	pub := cl.ok("", "key", "public", "x25519")
	before := cl.ok("", "key", "list")
	token := srv.Token
	srv.stop()

	srv = startDev(t, srv.DataDir)
	if srv.Token != token {
		t.Errorf("the root token changed across a restart")
	}
	cl.s = srv
	if after := cl.ok("", "key", "list"); after != before {
		t.Errorf("key list before the restart:\n%s\nafter:\n%s", before, after)
	}
	if pt := cl.ok(ct, "decrypt"); pt != "persisted" {
		t.Errorf("decrypt after the restart = %q", pt)
	}
	if pt := cl.ok(raw, "decrypt", "--key", "aes256-cbc", "--format", "raw"); pt != "persisted" {
		t.Errorf("raw decrypt after the restart = %q", pt)
	}
	cl.ok("persisted", "verify", "--key", "ed25519", "--signature", sig)
	cl.ok("persisted", "verify-mac", "--key", "hmac-sha256", "--mac", mac)
	if got := cl.ok("", "key", "public", "x25519"); got != pub {
		t.Error("the x25519 public key changed across the restart")
	}
	k := decode[api.Key](t, cl.ok("", "key", "show", "aes256-gcm", "-o", "json"))
	if k.PrimaryVersion != 2 {
		t.Errorf("after the restart the rotated key's primary version is %d", k.PrimaryVersion)
	}
	srv.stop()
}

// A production-style server from a config file with a Shamir seal: it
// starts uninitialized, refuses key operations until initialized and
// unsealed, and init, unseal, seal, rekey, rotate-root, backup and
// restore all work remotely through the CLI.
func TestSealedServer(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("listen_addr: 127.0.0.1:0\ninsecure_plain_http: true\ndata_dir: %s\nseal: shamir\n", dataDir)), 0o600)
	srv := startServer(t, "server", "--config", config)
	if !srv.banner("Not initialized: run `custodian operator init`") {
		t.Errorf("the banner of an uninitialized server:\n%s", srv.out)
	}
	cl := newCLI(t, srv)

	st := decode[map[string]any](t, cl.ok("", "status", "-o", "json"))
	if st["initialized"] != false || st["sealed"] != true {
		t.Errorf("status of a new Shamir server = %v", st)
	}
	cl.fail(`^custodian: .*custodian is not initialized\n$`, "", "key", "list")
	r := cl.run("", "key", "list", "-o", "json")
	if body := decode[api.ErrorBody](t, r.Stdout); r.Code != 1 || body.Error.Code != "not_initialized" {
		t.Errorf("key list -o json on an uninitialized server: exit %d, %+v", r.Code, body)
	}

	// init: shares and the root token, once; then sealed.
	init := decode[api.InitResponse](t, cl.ok("", "operator", "init", "--shares", "3", "--threshold", "2", "-o", "json"))
	if len(init.Shares) != 3 || init.Threshold != 2 || init.RootToken == "" {
		t.Fatalf("operator init = %+v", init)
	}
	cl.fail(`already initialized`, "", "operator", "init")
	srv.Token = init.RootToken
	cl.fail(`^custodian: .*custodian is sealed\n$`, "", "key", "list")
	cl.fail(`^custodian: .*custodian is sealed\n$`, "x", "encrypt", "--key", "k")
	ss := decode[custodian.Status](t, cl.ok("", "operator", "status", "-o", "json"))
	if !ss.Initialized || !ss.Sealed || ss.Threshold != 2 || ss.Shares != 3 || ss.SealType != "shamir" {
		t.Errorf("operator status after init = %+v", ss)
	}

	// unseal: one share on stdin, one as an argument.
	unseal := func(shares ...string) {
		t.Helper()
		for i, s := range shares {
			out := cl.ok(s+"\n", "operator", "unseal")
			want := fmt.Sprintf("unseal progress: %d of %d\n", i+1, len(shares))
			if i == len(shares)-1 {
				want = "unsealed\n"
			}
			if out != want {
				t.Fatalf("operator unseal #%d printed %q, want %q", i+1, out, want)
			}
		}
	}
	if out := cl.ok("", "operator", "unseal", init.Shares[0]); out != "unseal progress: 1 of 2\n" {
		t.Errorf("operator unseal SHARE printed %q", out)
	}
	if out := cl.ok(init.Shares[2]+"\n", "operator", "unseal"); out != "unsealed\n" {
		t.Errorf("the second share: %q", out)
	}
	cl.ok("", "key", "create", "k")
	ct := cl.ok("sealed no more", "encrypt", "--key", "k")

	// seal, refused, unseal again.
	if out := cl.ok("", "operator", "seal"); out != "sealed\n" {
		t.Errorf("operator seal printed %q", out)
	}
	cl.fail(`custodian is sealed`, ct, "decrypt")
	if h := decode[api.HealthResponse](t, cl.ok("", "status", "-o", "json")); !h.Sealed {
		t.Error("status after operator seal says unsealed")
	}
	unseal(init.Shares[1], init.Shares[0])
	if pt := cl.ok(ct, "decrypt"); pt != "sealed no more" {
		t.Errorf("decrypt after unseal = %q", pt)
	}

	// backup under the first root key, for the restore below.
	cl.ok("", "backup", "first.backup")

	// rekey: new shares; the old ones stop working.
	quorum := cl.write("quorum", []byte(init.Shares[0]+"\n"+init.Shares[1]+"\n"))
	rk := decode[api.RekeyResponse](t, cl.ok("", "operator", "rekey", "--shares-file", quorum, "--new-shares", "4", "--new-threshold", "3", "-o", "json"))
	if len(rk.Shares) != 4 || rk.Threshold != 3 {
		t.Fatalf("operator rekey = %+v", rk)
	}
	cl.ok("", "operator", "seal")
	r = cl.run(init.Shares[0]+"\n", "operator", "unseal")
	r2 := cl.run(init.Shares[1]+"\n", "operator", "unseal")
	r3 := cl.run(init.Shares[2]+"\n", "operator", "unseal")
	if r.Code == 0 && r2.Code == 0 && r3.Code == 0 && r3.Stdout == "unsealed\n" {
		t.Error("the old shares unsealed the server after a rekey")
	}
	if h := decode[api.HealthResponse](t, cl.ok("", "status", "-o", "json")); !h.Sealed {
		t.Fatal("the old shares unsealed the server after a rekey")
	}
	// A failed attempt may leave shares pending; start the new quorum afresh.
	if cur := decode[custodian.Status](t, cl.ok("", "operator", "status", "-o", "json")); cur.Progress != 0 {
		t.Logf("unseal progress after the refused shares: %d", cur.Progress)
	}
	cl.ok(rk.Shares[3]+"\n", "operator", "unseal")
	cl.ok(rk.Shares[1]+"\n", "operator", "unseal")
	if out := cl.ok(rk.Shares[0]+"\n", "operator", "unseal"); out != "unsealed\n" {
		t.Fatalf("unseal with the new shares: %q", out)
	}

	// rotate-root: every key re-sealed, new shares.
	out := cl.ok("", "operator", "rotate-root", "--share", rk.Shares[0], "--share", rk.Shares[1], "--share", rk.Shares[2])
	if !strings.HasPrefix(out, "Root key rotated: term 2, 1 keys re-sealed.") || strings.Count(out, "Unseal share ") != 4 {
		t.Errorf("operator rotate-root printed:\n%s", out)
	}
	newShares := sharesFrom(out)
	if pt := cl.ok(ct, "decrypt"); pt != "sealed no more" {
		t.Errorf("decrypt after rotate-root = %q", pt)
	}

	// A restart comes back sealed; the newest shares unseal it.
	srv.stop()
	token := srv.Token
	srv = startServer(t, "server", "--config", config)
	srv.Token = token
	cl.s = srv
	if !srv.banner("Sealed: run `custodian operator unseal` with 3 shares") {
		t.Errorf("the banner of a sealed server:\n%s", srv.out)
	}
	cl.fail(`custodian is sealed`, ct, "decrypt")
	unseal(newShares[0], newShares[2], newShares[3])
	if pt := cl.ok(ct, "decrypt"); pt != "sealed no more" {
		t.Errorf("decrypt after the restart = %q", pt)
	}
	srv.stop()

	// restore the first backup into a new, uninitialized Shamir server,
	// authorized by the shares it was made under.
	restoreDir := filepath.Join(dir, "restored")
	rs := startServer(t, "server", "--addr", "127.0.0.1:0", "--insecure-plain-http", "--data", restoreDir, "--seal", "shamir")
	rcl := newCLI(t, rs)
	backup := cl.path("first.backup")
	rcl.fail(`shares do not reconstruct`, "", "restore", backup, "--share", rk.Shares[0], "--share", rk.Shares[1], "--share", rk.Shares[2])
	res := decode[map[string]any](t, rcl.ok("", "restore", backup, "--share", init.Shares[2], "--share", init.Shares[0], "-o", "json"))
	if res["keys"] != float64(1) {
		t.Errorf("restore = %v", res)
	}
	rs.Token = init.RootToken
	rcl.fail(`custodian is sealed`, ct, "decrypt")
	rcl.ok(init.Shares[0]+"\n", "operator", "unseal")
	rcl.ok(init.Shares[1]+"\n", "operator", "unseal")
	if pt := rcl.ok(ct, "decrypt"); pt != "sealed no more" {
		t.Errorf("decrypt on the restored server = %q", pt)
	}
	rcl.fail(`already initialized`, "", "restore", backup, "--share", init.Shares[0], "--share", init.Shares[1])
	rs.stop()
}

// sharesFrom reads "Unseal share N: S" lines.
func sharesFrom(out string) []string {
	var shares []string
	for _, line := range strings.Split(out, "\n") {
		if _, s, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(line, "Unseal share ") {
			shares = append(shares, s)
		}
	}
	return shares
}

// Flags win over the environment, which wins over the config file.
func TestServerSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	fileDir, envDir, flagDir := filepath.Join(dir, "file"), filepath.Join(dir, "env"), filepath.Join(dir, "flag")
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("listen_addr: 127.0.0.1:0\ndata_dir: %s\ndev: true\n", fileDir)), 0o600)
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, nil, fileDir},
		{[]string{"CUSTODIAN_DATA_DIR=" + envDir}, nil, envDir},
		{[]string{"CUSTODIAN_DATA_DIR=" + envDir}, []string{"--data", flagDir}, flagDir},
		{[]string{"CUSTODIAN_CONFIG=" + config, "CUSTODIAN_DATA_DIR=" + envDir}, []string{"--data", flagDir}, flagDir},
	} {
		args := []string{"server"}
		if !strings.Contains(strings.Join(tc.env, " "), "CUSTODIAN_CONFIG=") {
			args = append(args, "--config", config)
		}
		srv := startServerEnv(t, tc.env, append(args, tc.args...)...)
		srv.stop()
		if _, err := os.Stat(filepath.Join(tc.want, custodian.StoreFile)); err != nil {
			t.Errorf("env %v, flags %v: no store in %s: %v", tc.env, tc.args, tc.want, err)
		}
		for _, d := range []string{fileDir, envDir, flagDir} {
			if d != tc.want {
				os.RemoveAll(d)
			}
		}
		os.RemoveAll(tc.want)
	}
}

// SIGTERM under load: many clients create and rotate keys; the server is
// stopped in the middle, started again, and every write it acknowledged
// is there.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	srv := startDev(t, "")
	c := srv.client(t)
	ctx := t.Context()

	var (
		mu       sync.Mutex
		acked    = map[string]int{} // key name -> highest acknowledged version
		total    atomic.Int64
		stopping atomic.Bool
		early    []error // errors before SIGTERM: none allowed
		late     atomic.Int64
	)
	record := func(name string, version int, err error) bool {
		if err != nil {
			if stopping.Load() {
				late.Add(1)
			} else {
				mu.Lock()
				early = append(early, err)
				mu.Unlock()
			}
			return false
		}
		mu.Lock()
		acked[name] = max(acked[name], version)
		mu.Unlock()
		total.Add(1)
		return true
	}
	const workers = 24
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				name := fmt.Sprintf("load-%02d-%04d", w, i)
				k, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Type: custodian.HMACSHA256})
				if !record(name, 1, err) {
					if stopping.Load() {
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				for range 2 {
					k, err = c.RotateKey(ctx, name)
					v := 0
					if err == nil {
						v = k.LatestVersion
					}
					if !record(name, v, err) {
						break
					}
				}
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for total.Load() < 600 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stopping.Store(true)
	srv.stop() // SIGTERM mid-way; it must exit 0
	close(done)
	wg.Wait()
	if len(early) > 0 {
		t.Fatalf("%d errors before the shutdown, the first: %v", len(early), early[0])
	}
	if total.Load() < 100 {
		t.Fatalf("only %d acknowledged writes before the shutdown: the test proves little", total.Load())
	}
	t.Logf("%d acknowledged writes over %d keys; %d refused during the shutdown", total.Load(), len(acked), late.Load())

	srv = startDev(t, srv.DataDir)
	c = srv.client(t)
	missing := 0
	for name, v := range acked {
		k, err := c.GetKey(ctx, name)
		switch {
		case errors.Is(err, custodian.ErrKeyNotFound):
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged key %s is missing after the restart", name)
			}
		case err != nil:
			t.Fatal(err)
		case k.LatestVersion < v:
			t.Errorf("key %s: version %d was acknowledged, the restarted server has %d", name, v, k.LatestVersion)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged keys are missing", missing, len(acked))
	}
	// The restarted server works.
	if _, err := c.MAC(ctx, "load-00-0000", []byte("x"), nil); err != nil {
		t.Error(err)
	}
	var buf bytes.Buffer
	if _, err := c.Backup(ctx, &buf); err != nil || buf.Len() == 0 {
		t.Errorf("backup after the restart: %v", err)
	}
	srv.stop()
}

// operator new-root-token replaces the root token: the new one works, the
// old one is refused.
func TestNewRootToken(t *testing.T) {
	srv := startDev(t, "")
	cl := newCLI(t, srv)
	r := cl.run("", "operator", "new-root-token", "-o", "json")
	tok := decode[api.RootTokenResponse](t, r.Stdout)
	if r.Code != 0 || tok.RootToken == "" || tok.RootToken == srv.Token {
		t.Fatalf("operator new-root-token: exit %d, %+v, %s", r.Code, tok, r.Stderr)
	}
	cl.fail(`missing or invalid token`, "", "key", "list")
	srv.Token = tok.RootToken
	cl.ok("", "key", "list")
	srv.stop()
}
