package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/testtls"
)

// The CLI over TLS with mutual authentication: CUSTODIAN_CACERT (or
// --ca-cert) verifies the server; --client-cert and --client-key, or
// their variables, authenticate the CLI; without either the command fails
// with one line.
func TestTLSAndMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := testtls.NewCA(t), testtls.NewCA(t)
	serverCAFile := serverCA.File()
	srvCert, srvKey := serverCA.Server("127.0.0.1").Files()
	cliCert, cliKey := clientCA.Client("operator").Files()
	strayCert, strayKey := serverCA.Client("stray").Files()

	srv := startServer(t, "server", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--seal", "keyfile",
		"--tls-cert", srvCert, "--tls-key", srvKey, "--tls-client-ca", clientCA.File())
	if srv.URL[:8] != "https://" {
		t.Fatalf("a TLS server listens on %s", srv.URL)
	}
	cl := newCLI(t, srv)
	mtls := []string{"--client-cert", cliCert, "--client-key", cliKey}
	run := func(env []string, stdin string, args ...string) result {
		t.Helper()
		return runCLI(t, append(srv.env(), env...), cl.dir, []byte(stdin), args...)
	}
	ok := func(r result) string {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.Stderr)
		}
		return r.Stdout
	}
	fail := func(r result, what, want string) {
		t.Helper()
		if r.Code != 1 || countLines(r.Stderr) != 1 || !strings.Contains(r.Stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and one line saying %q", what, r.Code, r.Stderr, want)
		}
	}

	// A key-file server starts uninitialized; init over mutual TLS.
	init := decode[api.InitResponse](t, ok(run(nil, "", append([]string{"operator", "init", "--ca-cert", serverCAFile, "-o", "json"}, mtls...)...)))
	if init.RootToken == "" || len(init.Shares) != 0 {
		t.Fatalf("operator init on a key-file server = %+v", init)
	}
	srv.Token = init.RootToken

	// Flags, then the environment.
	ok(run(nil, "", append([]string{"key", "create", "k", "--ca-cert", serverCAFile}, mtls...)...))
	env := []string{"CUSTODIAN_CACERT=" + serverCAFile, "CUSTODIAN_CLIENT_CERT=" + cliCert, "CUSTODIAN_CLIENT_KEY=" + cliKey}
	ct := ok(run(env, "over TLS", "encrypt", "--key", "k"))
	if pt := ok(run(env, ct, "decrypt")); pt != "over TLS" {
		t.Errorf("decrypt over mutual TLS = %q", pt)
	}

	// Refusals: an unknown server CA, no client certificate, a client
	// certificate from the wrong CA.
	fail(run([]string{"CUSTODIAN_CLIENT_CERT=" + cliCert, "CUSTODIAN_CLIENT_KEY=" + cliKey}, "", "key", "list"), "no CA certificate", "certificate signed by unknown authority")
	fail(run([]string{"CUSTODIAN_CACERT=" + serverCAFile}, "", "key", "list"), "no client certificate", "certificate required (give --client-cert and --client-key")
	fail(run([]string{"CUSTODIAN_CACERT=" + serverCAFile, "CUSTODIAN_CLIENT_CERT=" + strayCert, "CUSTODIAN_CLIENT_KEY=" + strayKey}, "", "key", "list"), "a client certificate of another CA", "")
	fail(run(append(env, "CUSTODIAN_CACERT="+filepath.Join(dir, "missing.pem")), "", "key", "list"), "a missing CA file", "missing.pem: no such file or directory")
	srv.stop()
}

func countLines(s string) int { return strings.Count(s, "\n") }
