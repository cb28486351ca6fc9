package service

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/internal/testtls"
)

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsConfig is a server with a certificate from ca, which it returns.
func tlsConfig(t *testing.T, ca *testtls.CA) (Config, *testtls.Cert) {
	cfg := testConfig(t, io.Discard)
	cert := ca.Server("127.0.0.1")
	cfg.TLSCertFile, cfg.TLSKeyFile = cert.Files()
	return cfg, cert
}

func tlsClient(ca *testtls.CA, certs ...tls.Certificate) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs},
	}}
}

// serialOf is the serial number of cert, as getServing returns it.
func serialOf(cert *testtls.Cert) int64 { return cert.Leaf.SerialNumber.Int64() }

// getServing returns the serial of the certificate the server presented,
// and whether the request went over a connection used before.
func getServing(t *testing.T, client *http.Client, url string) (serial int64, reused bool) {
	t.Helper()
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/sys/health", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("response not over TLS 1.2+: %+v", resp.TLS)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), reused
}

func TestTLSReload(t *testing.T) {
	ca := testtls.NewCA(t)
	cfg, first := tlsConfig(t, ca)
	s, out := start(t, cfg)
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.Contains(out, s.URL()) {
		t.Fatalf("URL %s, output:\n%s", s.URL(), out)
	}

	old := tlsClient(ca)
	if got, _ := getServing(t, old, s.URL()); got != serialOf(first) {
		t.Fatalf("serving serial %d, want %d", got, serialOf(first))
	}

	// Replace the certificate on disk and reload.
	second := ca.Server("127.0.0.1")
	write(t, cfg.TLSCertFile, second.CertPEM)
	write(t, cfg.TLSKeyFile, second.KeyPEM)
	if err := s.ReloadTLS(); err != nil {
		t.Fatalf("ReloadTLS: %v", err)
	}
	if got, reused := getServing(t, tlsClient(ca), s.URL()); got != serialOf(second) || reused {
		t.Errorf("new connection after reload: serial %d (reused %v), want %d on a new connection", got, reused, serialOf(second))
	}
	// The connection made before the reload still works, on its session.
	if got, reused := getServing(t, old, s.URL()); got != serialOf(first) || !reused {
		t.Errorf("old connection after reload: serial %d, reused %v; want %d, reused", got, reused, serialOf(first))
	}

	// A reload that fails keeps the current certificate.
	write(t, cfg.TLSCertFile, []byte("not a certificate"))
	if err := s.ReloadTLS(); err == nil {
		t.Error("ReloadTLS of a broken certificate succeeded")
	}
	if got, _ := getServing(t, tlsClient(ca), s.URL()); got != serialOf(second) {
		t.Errorf("after a failed reload: serial %d, want %d", got, serialOf(second))
	}
}

func TestMutualTLS(t *testing.T) {
	ca, clientCA := testtls.NewCA(t), testtls.NewCA(t)
	cfg, cert := tlsConfig(t, ca)
	cfg.TLSClientCAFile = filepath.Join(t.TempDir(), "clients.pem")
	write(t, cfg.TLSClientCAFile, clientCA.PEM)
	s, _ := start(t, cfg)

	if _, err := tlsClient(ca).Get(s.URL() + "/v1/sys/health"); err == nil {
		t.Error("a client without a certificate was served")
	}
	stranger := testtls.NewCA(t)
	strangerCert := stranger.Client("stranger").TLS()
	if _, err := tlsClient(ca, strangerCert).Get(s.URL() + "/v1/sys/health"); err == nil {
		t.Error("a client with a certificate from another CA was served")
	}
	clientCert := clientCA.Client("operator").TLS()
	if got, _ := getServing(t, tlsClient(ca, clientCert), s.URL()); got != serialOf(cert) {
		t.Errorf("serial %d, want %d", got, serialOf(cert))
	}

	// Reloading with another client CA bundle changes who gets in.
	write(t, cfg.TLSClientCAFile, stranger.PEM)
	if err := s.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(ca, clientCert).Get(s.URL() + "/v1/sys/health"); err == nil {
		t.Error("after the reload, a client of the old client CA was served")
	}
	getServing(t, tlsClient(ca, strangerCert), s.URL())
}

// TLS lets a server listen off loopback; without a loopback address to
// spare, the test binds all interfaces on a free port.
func TestTLSOffLoopback(t *testing.T) {
	ca := testtls.NewCA(t)
	cfg, _ := tlsConfig(t, ca)
	cfg.Addr = "0.0.0.0:0"
	s, _ := start(t, cfg)
	_, port, _ := net.SplitHostPort(s.Addr().String())
	getServing(t, tlsClient(ca), "https://127.0.0.1:"+port)

	// HTTP/2 is offered, through the per-handshake config.
	h2 := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	resp, err := h2.Get("https://127.0.0.1:" + port + "/v1/sys/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
}

func TestTLSBadFiles(t *testing.T) {
	ca := testtls.NewCA(t)
	cfg, _ := tlsConfig(t, ca)
	cfg.TLSKeyFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Start(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("Start with a missing key = %v", err)
	}
	cfg, _ = tlsConfig(t, ca)
	cfg.TLSClientCAFile = filepath.Join(t.TempDir(), "empty.pem")
	write(t, cfg.TLSClientCAFile, []byte("no PEM here"))
	if _, err := Start(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("Start with an empty client CA bundle = %v", err)
	}
}
