package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues certificates for the TLS tests.
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
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate and key, PEM-encoded, with the given
// serial number: for 127.0.0.1 when server, else a client certificate.
func (ca *testCA) issue(t *testing.T, serial int64, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsConfig is a server with TLS material from ca, serial 1.
func tlsConfig(t *testing.T, ca *testCA) Config {
	cfg := testConfig(t, io.Discard)
	dir := t.TempDir()
	cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.issue(t, 1, true)
	write(t, cfg.TLSCertFile, c)
	write(t, cfg.TLSKeyFile, k)
	return cfg
}

func tlsClient(ca *testCA, certs ...tls.Certificate) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool(), Certificates: certs},
	}}
}

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
	ca := newCA(t, "test CA")
	cfg := tlsConfig(t, ca)
	s, out := start(t, cfg)
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.Contains(out, s.URL()) {
		t.Fatalf("URL %s, output:\n%s", s.URL(), out)
	}

	old := tlsClient(ca)
	if serial, _ := getServing(t, old, s.URL()); serial != 1 {
		t.Fatalf("serving serial %d, want 1", serial)
	}

	// Replace the certificate on disk and reload.
	c, k := ca.issue(t, 2, true)
	write(t, cfg.TLSCertFile, c)
	write(t, cfg.TLSKeyFile, k)
	if err := s.ReloadTLS(); err != nil {
		t.Fatalf("ReloadTLS: %v", err)
	}
	if serial, reused := getServing(t, tlsClient(ca), s.URL()); serial != 2 || reused {
		t.Errorf("new connection after reload: serial %d (reused %v), want 2 on a new connection", serial, reused)
	}
	// The connection made before the reload still works, on its session.
	if serial, reused := getServing(t, old, s.URL()); serial != 1 || !reused {
		t.Errorf("old connection after reload: serial %d, reused %v; want 1, reused", serial, reused)
	}

	// A reload that fails keeps the current certificate.
	write(t, cfg.TLSCertFile, []byte("not a certificate"))
	if err := s.ReloadTLS(); err == nil {
		t.Error("ReloadTLS of a broken certificate succeeded")
	}
	if serial, _ := getServing(t, tlsClient(ca), s.URL()); serial != 2 {
		t.Errorf("after a failed reload: serial %d, want 2", serial)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "server CA")
	clientCA := newCA(t, "client CA")
	cfg := tlsConfig(t, ca)
	cfg.TLSClientCAFile = filepath.Join(t.TempDir(), "clients.pem")
	write(t, cfg.TLSClientCAFile, clientCA.pem)
	s, _ := start(t, cfg)

	if _, err := tlsClient(ca).Get(s.URL() + "/v1/sys/health"); err == nil {
		t.Error("a client without a certificate was served")
	}
	stranger := newCA(t, "stranger CA")
	sc, sk := stranger.issue(t, 9, false)
	strangerCert, err := tls.X509KeyPair(sc, sk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(ca, strangerCert).Get(s.URL() + "/v1/sys/health"); err == nil {
		t.Error("a client with a certificate from another CA was served")
	}
	cc, ck := clientCA.issue(t, 7, false)
	clientCert, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	if serial, _ := getServing(t, tlsClient(ca, clientCert), s.URL()); serial != 1 {
		t.Errorf("serial %d", serial)
	}

	// Reloading with another client CA bundle changes who gets in.
	write(t, cfg.TLSClientCAFile, stranger.pem)
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
	ca := newCA(t, "test CA")
	cfg := tlsConfig(t, ca)
	cfg.Addr = "0.0.0.0:0"
	s, _ := start(t, cfg)
	_, port, _ := net.SplitHostPort(s.Addr().String())
	getServing(t, tlsClient(ca), "https://127.0.0.1:"+port)

	// HTTP/2 is offered, through the per-handshake config.
	h2 := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: ca.pool()}}}
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
	ca := newCA(t, "test CA")
	cfg := tlsConfig(t, ca)
	cfg.TLSKeyFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Start(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("Start with a missing key = %v", err)
	}
	cfg = tlsConfig(t, ca)
	cfg.TLSClientCAFile = filepath.Join(t.TempDir(), "empty.pem")
	write(t, cfg.TLSClientCAFile, []byte("no PEM here"))
	if _, err := Start(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("Start with an empty client CA bundle = %v", err)
	}
}
