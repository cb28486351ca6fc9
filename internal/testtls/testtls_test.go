package testtls_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"testing"

	"github.com/keycustodian/custodian/internal/testtls"
)

// TestIssued: a server certificate verifies for its hosts, a client
// certificate for client authentication, each only under its own CA.
func TestIssued(t *testing.T) {
	ca, other := testtls.NewCA(t), testtls.NewCA(t)
	if ca.Cert.Subject.CommonName == other.Cert.Subject.CommonName {
		t.Errorf("two CAs named %q", ca.Cert.Subject.CommonName)
	}
	srv := ca.Server("127.0.0.1", "custodian.test")
	for _, host := range []string{"127.0.0.1", "custodian.test"} {
		if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "elsewhere.test"}); err == nil {
		t.Error("the server certificate verified for a host it does not name")
	}
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: other.Pool()}); err == nil {
		t.Error("the server certificate verified under another CA")
	}
	cli := ca.Client("operator")
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := cli.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: clientAuth}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: clientAuth}); err == nil {
		t.Error("the server certificate verified as a client's")
	}
	if pair := cli.TLS(); pair.Leaf == nil || !pair.Leaf.Equal(cli.Leaf) {
		t.Error("TLS() is not the issued certificate")
	}
	if srv.Leaf.SerialNumber.Cmp(cli.Leaf.SerialNumber) == 0 {
		t.Error("two certificates with one serial number")
	}
}

// TestFiles: the files hold the PEM, readable by the owner only.
func TestFiles(t *testing.T) {
	ca := testtls.NewCA(t)
	c := ca.Client("c")
	certFile, keyFile := c.Files()
	for path, want := range map[string][]byte{ca.File(): ca.PEM, certFile: c.CertPEM, keyFile: c.KeyPEM} {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: %v, or not the PEM", path, err)
		}
		if fi, err := os.Stat(path); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, fi.Mode())
		}
	}
}
