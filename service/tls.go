package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// tlsFiles are the paths TLS material is read from.
type tlsFiles struct {
	cert, key, clientCA string
}

func (c Config) tlsFiles() tlsFiles {
	return tlsFiles{cert: c.TLSCertFile, key: c.TLSKeyFile, clientCA: c.TLSClientCAFile}
}

// certs serves TLS from material it can replace while connections are
// open: every handshake takes the current *tls.Config from an atomic
// pointer (tls.Config.GetConfigForClient), so a reload changes the
// certificate, the key and the client CAs of the next handshake, and a
// connection already established keeps the session it negotiated.
type certs struct {
	cur atomic.Pointer[tls.Config]
}

// load reads files into a fresh config and makes it current. On failure
// the current config stays.
func (t *certs) load(f tlsFiles) error {
	cfg, err := readTLS(f)
	if err != nil {
		return err
	}
	t.cur.Store(cfg)
	return nil
}

// serverConfig is the listener's config: its only job is to hand every
// handshake the current one.
func (t *certs) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return t.cur.Load(), nil
		},
		// GetCertificate is never reached while GetConfigForClient
		// returns a config with a certificate; it is here so that
		// http.Server.ServeTLS sees a config that has one.
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return &t.cur.Load().Certificates[0], nil
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// readTLS reads a certificate and key, and a client CA bundle if named.
func readTLS(f tlsFiles) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("tls: load certificate %s and key %s: %w", f.cert, f.key, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls: client CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: client CA bundle %s: %w", f.clientCA, errNoCerts)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

var errNoCerts = errors.New("no PEM certificates in the file")
