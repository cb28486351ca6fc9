package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// testCA is a CA made for one test, and certificates it issues.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
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
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate for the names (IPs or DNS names) and
// usage, with its key, as tls.Certificate and as PEM.
func (ca *testCA) issue(t *testing.T, usage x509.ExtKeyUsage, names ...string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

// tlsServer starts a fake over TLS with cert, requiring client
// certificates from clientCA if it is not nil. It counts handshakes.
func tlsServer(t *testing.T, cert tls.Certificate, clientCA *testCA) (*fake, *atomic.Int32) {
	t.Helper()
	f := &fake{t: t, handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewUnstartedServer(f.mux())
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.cert)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	var conns atomic.Int32
	f.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	// The refused handshakes are the point; keep them out of the output.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.TLS = cfg
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.reply(api.RouteGetKey, api.Key{ID: "id", Name: "k"})
	return f, &conns
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLS(t *testing.T) {
	ca := newCA(t, "custodian test CA")
	cert, _, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1", "custodian.test")
	f, conns := tlsServer(t, cert, nil)
	ctx := context.Background()
	addr := f.srv.URL // https://127.0.0.1:port

	for name, opts := range map[string]client.Options{
		"CACertPEM":  {CACertPEM: ca.pem},
		"CACertFile": {CACertFile: writeFile(t, "ca.pem", ca.pem)},
		"ServerName": {CACertPEM: ca.pem, ServerName: "custodian.test"},
	} {
		opts.Token = testToken
		c, err := client.New(addr, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k, err := c.GetKey(ctx, "k"); err != nil || k.Name != "k" {
			t.Errorf("%s: GetKey = %v, %v", name, k, err)
		}
		if auth := f.seen()[0].Header.Get("Authorization"); auth != "Bearer "+testToken {
			t.Errorf("%s: Authorization %q", name, auth)
		}
		c.Close()
	}

	// Without the CA the server is an impostor: a clear error, never
	// retried, and the token never sent.
	other := newCA(t, "another CA")
	for name, opts := range map[string]client.Options{
		"system roots": {},
		"another CA":   {CACertPEM: other.pem},
		"wrong name":   {CACertPEM: ca.pem, ServerName: "elsewhere.test"},
	} {
		opts.Token = testToken
		c, err := client.New(addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		conns.Store(0)
		_, err = c.GetKey(ctx, "k")
		var cve *tls.CertificateVerificationError
		if !errors.As(err, &cve) {
			t.Errorf("%s: %v, want a certificate verification error", name, err)
		} else if !strings.Contains(err.Error(), "CACertFile") || !strings.Contains(err.Error(), api.RouteGetKey) {
			t.Errorf("%s: %q does not name the route or say how to trust the server", name, err)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%s: %d connections; a certificate error is not retried", name, n)
		}
		if n := len(f.seen()); n != 0 {
			t.Errorf("%s: %d requests reached the server", name, n)
		}
	}
}

func TestMTLS(t *testing.T) {
	serverCA, clientCA := newCA(t, "server CA"), newCA(t, "client CA")
	cert, _, _ := serverCA.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	f, _ := tlsServer(t, cert, clientCA)
	_, certPEM, keyPEM := clientCA.issue(t, x509.ExtKeyUsageClientAuth, "operator")
	certFile, keyFile := writeFile(t, "client.pem", certPEM), writeFile(t, "client-key.pem", keyPEM)
	ctx := context.Background()

	c, err := client.New(f.srv.URL, client.Options{Token: testToken, CACertPEM: serverCA.pem, ClientCertFile: certFile, ClientKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKey(ctx, "k"); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
	if n := len(f.seen()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}

	// Without one the server ends the handshake: the error says a
	// certificate was wanted, and no request arrives.
	c, err = client.New(f.srv.URL, client.Options{Token: testToken, CACertPEM: serverCA.pem, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetKey(ctx, "k")
	if err == nil || !strings.Contains(err.Error(), "certificate required") || !strings.Contains(err.Error(), "ClientCertFile") {
		t.Errorf("without a client certificate: %v", err)
	}
	var re *api.RemoteError
	if errors.As(err, &re) {
		t.Errorf("a handshake failure reads as a server response: %+v", re)
	}
	if n := len(f.seen()); n != 0 {
		t.Errorf("%d requests arrived without a client certificate", n)
	}

	// A certificate from another CA is refused the same way.
	_, otherCert, otherKey := newCA(t, "rogue CA").issue(t, x509.ExtKeyUsageClientAuth, "mallory")
	c, _ = client.New(f.srv.URL, client.Options{CACertPEM: serverCA.pem, Retries: -1,
		ClientCertFile: writeFile(t, "m.pem", otherCert), ClientKeyFile: writeFile(t, "m-key.pem", otherKey)})
	if _, err := c.GetKey(ctx, "k"); err == nil {
		t.Errorf("a client certificate from another CA was accepted")
	}
}

func TestOptionsChecked(t *testing.T) {
	ca := newCA(t, "ca")
	_, certPEM, keyPEM := ca.issue(t, x509.ExtKeyUsageClientAuth, "c")
	certFile := writeFile(t, "c.pem", certPEM)
	for name, tc := range map[string]struct {
		addr string
		opts client.Options
		want string // in the error
	}{
		"cert without key":     {"https://kms:8200", client.Options{ClientCertFile: certFile}, "both"},
		"key without cert":     {"https://kms:8200", client.Options{ClientKeyFile: writeFile(t, "k.pem", keyPEM)}, "both"},
		"key that is no key":   {"https://kms:8200", client.Options{ClientCertFile: certFile, ClientKeyFile: certFile}, "client certificate"},
		"missing CA file":      {"https://kms:8200", client.Options{CACertFile: filepath.Join(t.TempDir(), "none.pem")}, "CA certificate"},
		"CA file without PEM":  {"https://kms:8200", client.Options{CACertFile: writeFile(t, "x", []byte("junk"))}, "no PEM"},
		"CA PEM without PEM":   {"https://kms:8200", client.Options{CACertPEM: []byte("junk")}, "no PEM"},
		"HTTPClient and TLS":   {"https://kms:8200", client.Options{HTTPClient: &http.Client{}, CACertPEM: ca.pem}, "not both"},
		"TLS over plain http":  {"http://127.0.0.1:8200", client.Options{CACertPEM: ca.pem}, "plain http"},
		"negative timeout":     {"https://kms:8200", client.Options{Timeout: -time.Second}, "negative"},
		"token with a newline": {"https://kms:8200", client.Options{Token: "kct1.abc\r\nX-Evil: 1"}, "header"},
		"user agent, newline":  {"https://kms:8200", client.Options{UserAgent: "x\nX-Evil: 1"}, "line break"},
	} {
		_, err := client.New(tc.addr, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.want)
		}
	}
}

// TestAddresses: plain http only to loopback, where the token cannot
// cross a network; https anywhere; nothing else.
func TestAddresses(t *testing.T) {
	for addr, ok := range map[string]bool{
		"https://kms.internal:8200":      true,
		"https://10.0.0.5:8200":          true,
		"https://kms.internal/prefix/":   true,
		"http://127.0.0.1:8200":          true,
		"http://127.0.0.2:8200":          true,
		"http://localhost:8200":          true,
		"http://[::1]:8200":              true,
		"http://10.0.0.5:8200":           false,
		"http://kms.internal:8200":       false,
		"http://0.0.0.0:8200":            false,
		"http://[::]:8200":               false,
		"http://localhost.evil.com:8200": false,
		"http://127.0.0.1.nip.io:8200":   false,
		"ftp://kms.internal":             false,
		"kms.internal:8200":              false,
		"127.0.0.1:8200":                 false,
		"":                               false,
		"https://user:pw@kms.internal":   false,
		"https://kms.internal/?x=1":      false,
		"https://":                       false,
	} {
		c, err := client.New(addr, client.Options{})
		if ok != (err == nil) {
			t.Errorf("New(%q) = %v, want ok %v", addr, err, ok)
		}
		if ok && err == nil && strings.HasSuffix(c.Addr(), "/") {
			t.Errorf("Addr() = %q keeps a trailing slash", c.Addr())
		}
	}
	_, err := client.New("http://10.0.0.5:8200", client.Options{})
	if err == nil || !strings.Contains(err.Error(), "https") || !strings.Contains(err.Error(), "10.0.0.5") {
		t.Errorf("plain http refusal %q does not say what to do", err)
	}
	_, err = client.New("https://user:pw@kms.internal", client.Options{})
	if err != nil && strings.Contains(err.Error(), "pw") {
		t.Errorf("refusal shows the password: %v", err)
	}
}

// TestPathPrefix: an address with a path (a proxy mounting the API under
// a prefix) keeps it before every route.
func TestPathPrefix(t *testing.T) {
	f := newFake(t)
	f.reply(api.RouteGetKey, api.Key{ID: "id", Name: "a/b"})
	mux := http.NewServeMux()
	mux.Handle("/kms/", http.StripPrefix("/kms", f.srv.Config.Handler))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := client.New(srv.URL+"/kms/", client.Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKey(context.Background(), "a/b"); err != nil {
		t.Fatal(err)
	}
	if r := f.seen()[0]; r.Name != "a/b" || r.Path != "/v1/keys/a%2Fb" {
		t.Errorf("request for %q at %s", r.Name, r.Path)
	}
}

func TestFromEnv(t *testing.T) {
	ca := newCA(t, "env CA")
	cert, _, _ := ca.issue(t, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	f, _ := tlsServer(t, cert, nil)

	t.Setenv(client.EnvAddr, f.srv.URL)
	t.Setenv(client.EnvToken, testToken+"\n") // pasted with its newline
	t.Setenv(client.EnvCACert, writeFile(t, "ca.pem", ca.pem))
	t.Setenv(client.EnvClientCert, "")
	t.Setenv(client.EnvClientKey, "")
	c, err := client.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetKey(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if auth := f.seen()[0].Header.Get("Authorization"); auth != "Bearer "+testToken {
		t.Errorf("Authorization %q", auth)
	}

	t.Setenv(client.EnvAddr, "")
	if _, err := client.FromEnv(); err == nil || !strings.Contains(err.Error(), client.EnvAddr) {
		t.Errorf("FromEnv without an address: %v", err)
	}
	t.Setenv(client.EnvAddr, "http://192.0.2.1:8200")
	if _, err := client.FromEnv(); err == nil {
		t.Errorf("FromEnv accepted plain http to a remote host")
	}
	t.Setenv(client.EnvAddr, "https://127.0.0.1:8200")
	t.Setenv(client.EnvCACert, filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := client.FromEnv(); err == nil {
		t.Errorf("FromEnv accepted a missing CA file")
	}
}
