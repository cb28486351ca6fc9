package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian/api"
)

// testCA issues certificates for one test.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	File string // the CA certificate, PEM
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, dir: dir, cert: cert, key: key, File: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key for name and returns their files.
func (ca *testCA) issue(name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t := ca.t
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", pkcs8)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The CLI over TLS with mutual authentication: CUSTODIAN_CACERT (or
// --ca-cert) verifies the server; --client-cert and --client-key, or
// their variables, authenticate the CLI; without either the command fails
// with one line.
func TestTLSAndMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA := newTestCA(t, dir, "server")
	clientCA := newTestCA(t, dir, "client")
	srvCert, srvKey := serverCA.issue("custodian", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := clientCA.issue("operator", x509.ExtKeyUsageClientAuth)
	strayCert, strayKey := serverCA.issue("stray", x509.ExtKeyUsageClientAuth)

	srv := startServer(t, "server", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--seal", "keyfile",
		"--tls-cert", srvCert, "--tls-key", srvKey, "--tls-client-ca", clientCA.File)
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
	init := decode[api.InitResponse](t, ok(run(nil, "", append([]string{"operator", "init", "--ca-cert", serverCA.File, "-o", "json"}, mtls...)...)))
	if init.RootToken == "" || len(init.Shares) != 0 {
		t.Fatalf("operator init on a key-file server = %+v", init)
	}
	srv.Token = init.RootToken

	// Flags, then the environment.
	ok(run(nil, "", append([]string{"key", "create", "k", "--ca-cert", serverCA.File}, mtls...)...))
	env := []string{"CUSTODIAN_CACERT=" + serverCA.File, "CUSTODIAN_CLIENT_CERT=" + cliCert, "CUSTODIAN_CLIENT_KEY=" + cliKey}
	ct := ok(run(env, "over TLS", "encrypt", "--key", "k"))
	if pt := ok(run(env, ct, "decrypt")); pt != "over TLS" {
		t.Errorf("decrypt over mutual TLS = %q", pt)
	}

	// Refusals: an unknown server CA, no client certificate, a client
	// certificate from the wrong CA.
	fail(run([]string{"CUSTODIAN_CLIENT_CERT=" + cliCert, "CUSTODIAN_CLIENT_KEY=" + cliKey}, "", "key", "list"), "no CA certificate", "certificate signed by unknown authority")
	fail(run([]string{"CUSTODIAN_CACERT=" + serverCA.File}, "", "key", "list"), "no client certificate", "certificate required (give --client-cert and --client-key")
	fail(run([]string{"CUSTODIAN_CACERT=" + serverCA.File, "CUSTODIAN_CLIENT_CERT=" + strayCert, "CUSTODIAN_CLIENT_KEY=" + strayKey}, "", "key", "list"), "a client certificate of another CA", "")
	fail(run(append(env, "CUSTODIAN_CACERT="+filepath.Join(dir, "missing.pem")), "", "key", "list"), "a missing CA file", "missing.pem: no such file or directory")
	srv.stop()
}

func countLines(s string) int { return strings.Count(s, "\n") }
