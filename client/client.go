package client

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/secret"
)

// Options configure a Client. The zero value talks to a loopback server
// without a token (health, seal status, init and unseal work without one).
//
// Options print with the token redacted, but hold it as the string given:
// a struct that keeps Options in an unexported field and is printed with
// fmt shows it, since fmt reads such fields without calling their
// methods. Pass Options to New and keep the *Client, which holds the
// token where no printing reaches it.
type Options struct {
	// Token is the root token, sent as "Authorization: Bearer <token>" to
	// every route that needs one.
	Token string

	// HTTPClient, if set, makes the requests as it is configured, except
	// that redirects are never followed; the TLS options below must then
	// be empty.
	HTTPClient *http.Client

	// CACertFile and CACertPEM name PEM certificates of the CAs that the
	// server's certificate must chain to, instead of the system's roots;
	// both may be set.
	CACertFile string
	CACertPEM  []byte
	// ClientCertFile and ClientKeyFile are a PEM certificate and its
	// private key, presented to a server that requires client
	// certificates (mTLS). Set both or neither.
	ClientCertFile, ClientKeyFile string
	// ServerName is the name the server's certificate must carry, when it
	// differs from the host in the address.
	ServerName string

	// Timeout bounds each attempt of a call. Zero means the route's own
	// timeout on the server plus a few seconds, so that the server's
	// timeout answers first: ten seconds or so for most calls, longer for
	// key generation, root rotation, backup and restore.
	Timeout time.Duration
	// Retries is how many times a call that changes no state is tried
	// again after a transient failure. Zero means DefaultRetries;
	// negative turns retrying off.
	Retries int
	// RetryBackoff is the wait before the first retry; each later one
	// doubles it, up to MaxRetryBackoff, with jitter. Zero means
	// DefaultRetryBackoff.
	RetryBackoff time.Duration
	// UserAgent is sent as the User-Agent header; empty means
	// DefaultUserAgent.
	UserAgent string
}

// Defaults of Options.
const (
	DefaultRetries      = 3
	DefaultRetryBackoff = 100 * time.Millisecond
	// MaxRetryBackoff caps the wait between two attempts.
	MaxRetryBackoff = 5 * time.Second
	// DefaultUserAgent names this client.
	DefaultUserAgent = "keycustodian-go-client/1"
	// timeoutMargin is added to a route's server-side timeout when
	// Options.Timeout is zero.
	timeoutMargin = 5 * time.Second
)

// Environment variables read by FromEnv, the same the CLI reads.
const (
	EnvAddr       = "CUSTODIAN_ADDR"
	EnvToken      = "CUSTODIAN_TOKEN"
	EnvCACert     = "CUSTODIAN_CACERT"
	EnvClientCert = "CUSTODIAN_CLIENT_CERT"
	EnvClientKey  = "CUSTODIAN_CLIENT_KEY"
)

// String describes the options without the token.
func (o Options) String() string {
	var b strings.Builder
	b.WriteString("client.Options{")
	sep := ""
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s%s: %s", sep, name, value)
			sep = ", "
		}
	}
	if o.Token != "" {
		field("Token", secret.Redacted)
	}
	if o.HTTPClient != nil {
		field("HTTPClient", "set")
	}
	field("CACertFile", quoteIf(o.CACertFile))
	if len(o.CACertPEM) > 0 {
		field("CACertPEM", fmt.Sprintf("%d bytes", len(o.CACertPEM)))
	}
	field("ClientCertFile", quoteIf(o.ClientCertFile))
	field("ClientKeyFile", quoteIf(o.ClientKeyFile))
	field("ServerName", quoteIf(o.ServerName))
	if o.Timeout != 0 {
		field("Timeout", o.Timeout.String())
	}
	if o.Retries != 0 {
		field("Retries", fmt.Sprint(o.Retries))
	}
	if o.RetryBackoff != 0 {
		field("RetryBackoff", o.RetryBackoff.String())
	}
	field("UserAgent", quoteIf(o.UserAgent))
	b.WriteString("}")
	return b.String()
}

func quoteIf(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", s)
}

// GoString is String: the token is never printed.
func (o Options) GoString() string { return o.String() }

// Format implements fmt.Formatter so that every verb prints String rather
// than fmt walking the fields, Token among them.
func (o Options) Format(f fmt.State, verb rune) { formatAs(f, verb, o.String()) }

// LogValue implements slog.LogValuer.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON writes the options with the token redacted and the HTTP
// client left out.
func (o Options) MarshalJSON() ([]byte, error) {
	type view struct {
		Token          string        `json:"token,omitempty"`
		CACertFile     string        `json:"ca_cert_file,omitempty"`
		ClientCertFile string        `json:"client_cert_file,omitempty"`
		ClientKeyFile  string        `json:"client_key_file,omitempty"`
		ServerName     string        `json:"server_name,omitempty"`
		Timeout        time.Duration `json:"timeout,omitempty"`
		Retries        int           `json:"retries,omitempty"`
		RetryBackoff   time.Duration `json:"retry_backoff,omitempty"`
		UserAgent      string        `json:"user_agent,omitempty"`
	}
	v := view{CACertFile: o.CACertFile, ClientCertFile: o.ClientCertFile, ClientKeyFile: o.ClientKeyFile,
		ServerName: o.ServerName, Timeout: o.Timeout, Retries: o.Retries, RetryBackoff: o.RetryBackoff, UserAgent: o.UserAgent}
	if o.Token != "" {
		v.Token = secret.Redacted
	}
	return jsonMarshal(v)
}

func formatAs(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	_, _ = io.WriteString(f, s)
}

// Client calls a KeyCustodian server. It is safe for concurrent use.
type Client struct {
	base      *url.URL // scheme, host and any path prefix, without a trailing slash
	token     secret.Bytes
	hc        *http.Client
	timeout   time.Duration
	retries   int
	backoff   time.Duration
	userAgent string
	// hasCert says a client certificate is configured, for error hints.
	hasCert bool
	// certAsked says a server asked for a client certificate, and got
	// none, in a TLS handshake.
	certAsked *atomic.Bool
}

var _ custodian.KeyManager = (*Client)(nil)

// New returns a client of the server at addr: "https://host:port", or
// "http://127.0.0.1:port" for a server on the same machine. Plain http to
// any other host is refused, since the token would cross the network in
// the clear.
func New(addr string, opts Options) (*Client, error) {
	base, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if err := checkToken(opts.Token); err != nil {
		return nil, err
	}
	if strings.ContainsAny(opts.UserAgent, "\r\n\x00") {
		return nil, errors.New("client: the user agent holds a line break")
	}
	certAsked := new(atomic.Bool)
	hc, err := httpClient(base, opts, certAsked)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base: base, token: secret.New([]byte(opts.Token)), hc: hc, timeout: opts.Timeout,
		retries: opts.Retries, backoff: opts.RetryBackoff, userAgent: opts.UserAgent,
		hasCert: opts.ClientCertFile != "", certAsked: certAsked,
	}
	if c.timeout < 0 {
		return nil, fmt.Errorf("client: timeout %s is negative", c.timeout)
	}
	if c.backoff < 0 {
		return nil, fmt.Errorf("client: retry backoff %s is negative", c.backoff)
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.backoff == 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// FromEnv returns a client configured as the CLI is, from CUSTODIAN_ADDR,
// CUSTODIAN_TOKEN, CUSTODIAN_CACERT (a CA certificate file) and, for
// mTLS, CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY.
func FromEnv() (*Client, error) {
	addr, opts := OptionsFromEnv()
	if addr == "" {
		return nil, fmt.Errorf("client: %s is not set; export %s=https://HOST:8200 (or the address custodian server prints)", EnvAddr, EnvAddr)
	}
	return New(addr, opts)
}

// OptionsFromEnv returns the address and options FromEnv uses, for a
// program that changes some before calling New.
func OptionsFromEnv() (addr string, opts Options) {
	return strings.TrimSpace(os.Getenv(EnvAddr)), Options{
		Token:          strings.TrimSpace(os.Getenv(EnvToken)),
		CACertFile:     os.Getenv(EnvCACert),
		ClientCertFile: os.Getenv(EnvClientCert),
		ClientKeyFile:  os.Getenv(EnvClientKey),
	}
}

// Addr returns the server's address.
func (c *Client) Addr() string { return c.base.String() }

// Close closes idle connections. The client stays usable.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// String names the server, never the token.
func (c Client) String() string {
	if c.base == nil {
		return "custodian client (not configured)"
	}
	return "custodian client for " + c.base.String()
}

// GoString is like String, in Go syntax; the token is never printed.
func (c Client) GoString() string {
	addr := ""
	if c.base != nil {
		addr = c.base.String()
	}
	tok := ""
	if !c.token.IsZero() {
		tok = ", token: " + secret.Redacted
	}
	return fmt.Sprintf("&client.Client{addr: %q%s}", addr, tok)
}

// Format implements fmt.Formatter so that every verb prints String or, for
// %#v, GoString, rather than fmt walking the fields.
func (c Client) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	formatAs(f, verb, c.String())
}

// LogValue implements slog.LogValuer.
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes the address only.
func (c Client) MarshalJSON() ([]byte, error) {
	addr := ""
	if c.base != nil {
		addr = c.base.String()
	}
	return jsonMarshal(struct {
		Addr string `json:"addr"`
	}{addr})
}

// parseAddr checks addr and returns it as a base URL.
func parseAddr(addr string) (*url.URL, error) {
	if addr == "" {
		return nil, errors.New("client: no server address; want https://HOST:PORT")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("client: server address %q: %w", addr, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("client: server address %q: want https://HOST:PORT (or http:// to a loopback address)", addr)
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("client: server address %q has no host", addr)
	case u.User != nil:
		return nil, fmt.Errorf("client: server address must not hold credentials; use Options.Token")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("client: server address %q must not have a query or fragment", addr)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("client: refusing plain http to %s: the token and every plaintext would cross the network unencrypted; use https (plain http is for loopback addresses only)", u.Host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken refuses a token that cannot travel in a header. The error
// never shows the token.
func checkToken(t string) error {
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return fmt.Errorf("client: the token holds a character (at byte %d) that cannot travel in an HTTP header; copy it again", i)
		}
	}
	return nil
}
