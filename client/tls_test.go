package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
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
	"github.com/keycustodian/custodian/internal/testtls"
)

// tlsServer starts a fake over TLS with cert, requiring client
// certificates from clientCA if it is not nil. It counts handshakes.
func tlsServer(t *testing.T, cert tls.Certificate, clientCA *testtls.CA) (*fake, *atomic.Int32) {
	t.Helper()
	f := &fake{t: t, handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewUnstartedServer(f.mux())
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA != nil {
		cfg.ClientCAs, cfg.ClientAuth = clientCA.Pool(), tls.RequireAndVerifyClientCert
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
	ca := testtls.NewCA(t)
	f, conns := tlsServer(t, ca.Server("127.0.0.1", "custodian.test").TLS(), nil)
	ctx := context.Background()
	addr := f.srv.URL // https://127.0.0.1:port

	for name, opts := range map[string]client.Options{
		"CACertPEM":  {CACertPEM: ca.PEM},
		"CACertFile": {CACertFile: ca.File()},
		"ServerName": {CACertPEM: ca.PEM, ServerName: "custodian.test"},
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
	other := testtls.NewCA(t)
	for name, opts := range map[string]client.Options{
		"system roots": {},
		"another CA":   {CACertPEM: other.PEM},
		"wrong name":   {CACertPEM: ca.PEM, ServerName: "elsewhere.test"},
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
	serverCA, clientCA := testtls.NewCA(t), testtls.NewCA(t)
	f, _ := tlsServer(t, serverCA.Server("127.0.0.1").TLS(), clientCA)
	certFile, keyFile := clientCA.Client("operator").Files()
	ctx := context.Background()

	c, err := client.New(f.srv.URL, client.Options{Token: testToken, CACertPEM: serverCA.PEM, ClientCertFile: certFile, ClientKeyFile: keyFile})
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
	c, err = client.New(f.srv.URL, client.Options{Token: testToken, CACertPEM: serverCA.PEM, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetKey(ctx, "k")
	if err == nil || !strings.Contains(err.Error(), "certificate required") || !strings.Contains(err.Error(), "ClientCertFile") {
		t.Errorf("without a client certificate: %v", err)
	}
	// Over HTTP/2 the server's alert may be lost ("client conn could not
	// be established"); the client knows it was asked for a certificate.
	if !errors.Is(err, client.ErrClientCertificateRequired) {
		t.Errorf("without a client certificate: %v; want it to wrap ErrClientCertificateRequired", err)
	}
	var re *api.RemoteError
	if errors.As(err, &re) {
		t.Errorf("a handshake failure reads as a server response: %+v", re)
	}
	if n := len(f.seen()); n != 0 {
		t.Errorf("%d requests arrived without a client certificate", n)
	}

	// A certificate from another CA is refused the same way.
	otherCert, otherKey := testtls.NewCA(t).Client("mallory").Files()
	other, _ := client.New(f.srv.URL, client.Options{CACertPEM: serverCA.PEM, Retries: -1,
		ClientCertFile: otherCert, ClientKeyFile: otherKey})
	if _, err := other.GetKey(ctx, "k"); err == nil {
		t.Errorf("a client certificate from another CA was accepted")
	}

	// Once the server is gone, the same client says it cannot connect,
	// not that a certificate is wanted.
	f.srv.Close()
	if _, err := c.GetKey(ctx, "k"); err == nil || errors.Is(err, client.ErrClientCertificateRequired) {
		t.Errorf("with the server gone: %v; want a dial error, not ErrClientCertificateRequired", err)
	}
}

func TestOptionsChecked(t *testing.T) {
	ca := testtls.NewCA(t)
	certFile, keyFile := ca.Client("c").Files()
	for name, tc := range map[string]struct {
		addr string
		opts client.Options
		want string // in the error
	}{
		"cert without key":     {"https://kms:8200", client.Options{ClientCertFile: certFile}, "both"},
		"key without cert":     {"https://kms:8200", client.Options{ClientKeyFile: keyFile}, "both"},
		"key that is no key":   {"https://kms:8200", client.Options{ClientCertFile: certFile, ClientKeyFile: certFile}, "client certificate"},
		"missing CA file":      {"https://kms:8200", client.Options{CACertFile: filepath.Join(t.TempDir(), "none.pem")}, "CA certificate"},
		"CA file without PEM":  {"https://kms:8200", client.Options{CACertFile: writeFile(t, "x", []byte("junk"))}, "no PEM"},
		"CA PEM without PEM":   {"https://kms:8200", client.Options{CACertPEM: []byte("junk")}, "no PEM"},
		"HTTPClient and TLS":   {"https://kms:8200", client.Options{HTTPClient: &http.Client{}, CACertPEM: ca.PEM}, "not both"},
		"TLS over plain http":  {"http://127.0.0.1:8200", client.Options{CACertPEM: ca.PEM}, "plain http"},
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
	ca := testtls.NewCA(t)
	f, _ := tlsServer(t, ca.Server("127.0.0.1").TLS(), nil)

	t.Setenv(client.EnvAddr, f.srv.URL)
	t.Setenv(client.EnvToken, testToken+"\n") // pasted with its newline
	t.Setenv(client.EnvCACert, ca.File())
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
