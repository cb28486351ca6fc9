package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
)

// httpClient returns the HTTP client for opts: the caller's, or one with
// its own transport configured for TLS. Either way redirects are not
// followed: the API never redirects, and following one could carry the
// token or a request body to another server.
//
// Without a client certificate, certAsked is set when a server asks for
// one during a handshake, so that a failure after it can say so.
func httpClient(base *url.URL, opts Options, certAsked *atomic.Bool) (*http.Client, error) {
	tlsSet := opts.CACertFile != "" || len(opts.CACertPEM) > 0 || opts.ClientCertFile != "" ||
		opts.ClientKeyFile != "" || opts.ServerName != ""
	if opts.HTTPClient != nil {
		if tlsSet {
			return nil, errors.New("client: set TLS options on Options.HTTPClient's transport, or leave HTTPClient nil; not both")
		}
		hc := *opts.HTTPClient
		hc.CheckRedirect = noRedirects
		return &hc, nil
	}
	if tlsSet && base.Scheme != "https" {
		return nil, fmt.Errorf("client: TLS options given for the plain http address %s", base)
	}
	cfg, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.Certificates == nil {
		// TLS 1.3 finishes the client's handshake before the server has
		// judged its certificate, so a refusal comes later: as an alert
		// on the first read, or, over HTTP/2, as a connection "that could
		// not be established", the alert lost. The request itself is
		// the only moment the client knows it was asked.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			certAsked.Store(true)
			return &tls.Certificate{}, nil // none: as without the callback
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	// Many goroutines share one client against one server: keep their
	// connections rather than open and close one per call.
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, CheckRedirect: noRedirects}, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// tlsConfig builds the TLS configuration of opts.
func tlsConfig(opts Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: opts.ServerName}
	if opts.CACertFile != "" || len(opts.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if opts.CACertFile != "" {
			pem, err := os.ReadFile(opts.CACertFile)
			if err != nil {
				return nil, fmt.Errorf("client: CA certificate: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("client: CA certificate %s holds no PEM certificate", opts.CACertFile)
			}
		}
		if len(opts.CACertPEM) > 0 && !pool.AppendCertsFromPEM(opts.CACertPEM) {
			return nil, errors.New("client: Options.CACertPEM holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	switch {
	case opts.ClientCertFile != "" && opts.ClientKeyFile != "":
		// Loaded once: a rotated client certificate needs a new Client.
		cert, err := tls.LoadX509KeyPair(opts.ClientCertFile, opts.ClientKeyFile)
		if err != nil {
			// tls's errors name files and PEM types, never key bytes.
			return nil, fmt.Errorf("client: client certificate %s and key %s: %w", opts.ClientCertFile, opts.ClientKeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case opts.ClientCertFile != "" || opts.ClientKeyFile != "":
		return nil, errors.New("client: mTLS needs both ClientCertFile and ClientKeyFile")
	}
	return cfg, nil
}
