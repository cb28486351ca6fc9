// Package testtls makes the TLS material of tests: a certificate
// authority made for one test, and server and client certificates it
// issues, as PEM, as a tls.Certificate and as files in the test's
// temporary directory. Every certificate is valid from an hour ago to an
// hour from now, with a fresh P-256 key.
//
// It is an ordinary package, not a _test.go file, so that the tests of
// several packages (client, service, e2e) can share one CA instead of
// each writing its own; like internal/leaktest, only tests import it.
package testtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for one test.
type CA struct {
	// Cert is the CA's self-signed certificate; PEM is its PEM encoding.
	Cert *x509.Certificate
	PEM  []byte

	t   testing.TB
	key *ecdsa.PrivateKey
}

// cas numbers the CAs, so that no two share a subject: a verifier that
// finds a CA by subject would otherwise try the wrong one and say so in
// its error.
var cas atomic.Int64

// NewCA makes a CA, named for the test in its subject.
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca := &CA{t: t, key: newKey(t)}
	tmpl := template(t, fmt.Sprintf("%s CA %d", t.Name(), cas.Add(1)))
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca.PEM = pemBlock("CERTIFICATE", der)
	return ca
}

// Pool is a pool holding only the CA, to trust it as a client (RootCAs)
// or as a server (ClientCAs).
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// File writes the CA certificate to a new file and returns its path.
func (ca *CA) File() string {
	ca.t.Helper()
	return writeFile(ca.t, "ca.pem", ca.PEM)
}

// Server issues a server certificate for hosts, each an IP address or a
// DNS name; the first is also its common name.
func (ca *CA) Server(hosts ...string) *Cert {
	ca.t.Helper()
	tmpl := template(ca.t, hosts[0])
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl)
}

// Client issues a client certificate with the common name name.
func (ca *CA) Client(name string) *Cert {
	ca.t.Helper()
	tmpl := template(ca.t, name)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.issue(tmpl)
}

func (ca *CA) issue(tmpl *x509.Certificate) *Cert {
	t := ca.t
	t.Helper()
	key := newKey(t)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Leaf: leaf, CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", pkcs8), t: t}
}

// Cert is a certificate a CA issued, with its private key.
type Cert struct {
	// Leaf is the certificate; its serial number is random, so tests can
	// tell which of two certificates a server presented.
	Leaf *x509.Certificate
	// CertPEM is the certificate and KeyPEM its PKCS #8 private key, PEM
	// encoded.
	CertPEM, KeyPEM []byte

	t testing.TB
}

// TLS is the certificate and key for a tls.Config.
func (c *Cert) TLS() tls.Certificate {
	c.t.Helper()
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		c.t.Fatal(err)
	}
	return pair
}

// Files writes the certificate and the key to new files, mode 0600, and
// returns their paths.
func (c *Cert) Files() (certFile, keyFile string) {
	c.t.Helper()
	return writeFile(c.t, "cert.pem", c.CertPEM), writeFile(c.t, "key.pem", c.KeyPEM)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// template is what every certificate has: a random, positive serial
// number, the common name, and an hour's validity either side of now.
func template(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeFile writes b to a file named name in a new temporary directory of
// the test.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
