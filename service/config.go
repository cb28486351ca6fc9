package service

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Config is every setting of a running server. Default gives the
// defaults; LoadFile, ApplyEnv and Set lay a file, the environment and
// flags over them; Validate checks the result. The yaml tags are the keys
// of the config file, and Settings lists each key with its environment
// variable and flag.
type Config struct {
	// Addr is the listen address, host:port. Port 0 picks a free port.
	Addr string `yaml:"listen_addr"`
	// TLSCertFile and TLSKeyFile are a PEM certificate chain and its
	// private key. Both or neither; without them the server speaks plain
	// HTTP, which is allowed only on a loopback address.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TLSClientCAFile is a PEM bundle of CAs: when set, every client must
	// present a certificate that one of them issued (mutual TLS).
	TLSClientCAFile string `yaml:"tls_client_ca_file"`

	// DataDir holds the bbolt store (custodian.db), and by default the
	// key file and, in dev mode, the root token.
	DataDir string `yaml:"data_dir"`
	// PostgresDSN, when set, stores keys in PostgreSQL instead of bbolt.
	PostgresDSN string `yaml:"postgres_dsn"`
	// PostgresSchema is the schema that holds the tables; empty means
	// the store's default.
	PostgresSchema string `yaml:"postgres_schema"`

	// Seal protects the root key: "shamir" or "keyfile". Empty means
	// shamir, or keyfile in dev mode.
	Seal string `yaml:"seal"`
	// KeyFile is the key file of a keyfile seal; empty means unseal.key in
	// DataDir.
	KeyFile string `yaml:"key_file"`

	// LogFormat is "text" or "json"; LogLevel is a slog level name
	// ("debug", "info", "warn", "error").
	LogFormat string `yaml:"log_format"`
	LogLevel  string `yaml:"log_level"`

	// Limits on requests and connections; see http.Server.
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// requests in flight before closing their connections.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxBatchItems bounds the items of one batch request.
	MaxBatchItems int `yaml:"max_batch_items"`
	// MaxConcurrentRequests bounds the requests handled at once; more
	// wait for a slot.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`

	// Dev is `custodian server --dev`: an auto-initialised, auto-unsealed
	// server on loopback whose root token is printed and kept in DataDir.
	Dev bool `yaml:"dev"`
	// InsecurePlainHTTP lets a server that is not in dev mode speak plain
	// HTTP, on a loopback address only: behind a TLS-terminating proxy on
	// the same host, or in tests. Without it only dev mode may.
	InsecurePlainHTTP bool `yaml:"insecure_plain_http"`

	// Version is the binary's version, reported by the health endpoint.
	// It is not a setting: the binary fills it in. Empty means the module
	// version from the build information.
	Version string `yaml:"-"`
	// LogOutput receives the logs; nil means os.Stderr. Not a setting.
	LogOutput io.Writer `yaml:"-"`

	// handlerWrap lets this package's tests put a handler in front of the
	// server's.
	handlerWrap func(http.Handler) http.Handler
}

// Seal types.
const (
	SealShamir  = "shamir"
	SealKeyFile = "keyfile"
)

// Files the server keeps in its data directory, beside custodian.StoreFile
// and custodian.KeyFile.
const (
	// DevTokenFile holds the dev server's root token, mode 0600.
	DevTokenFile = "dev-root-token"
)

// Defaults.
const (
	DefaultAddr                  = "127.0.0.1:8200"
	DefaultDataDir               = "./custodian-data"
	DefaultMaxHeaderBytes        = 64 << 10
	DefaultReadHeaderTimeout     = 10 * time.Second
	DefaultIdleTimeout           = 2 * time.Minute
	DefaultShutdownTimeout       = 30 * time.Second
	DefaultMaxBatchItems         = 1000
	DefaultMaxConcurrentRequests = 1024
)

// DefaultRequestTimeout is the default read and write timeout: the
// longest route timeout in api.Routes (backup and restore) and a minute
// more. The connection-level timeouts are a backstop; each route's own
// bound is the server package's, from the route table.
var DefaultRequestTimeout = longestRoute() + time.Minute

func longestRoute() time.Duration {
	var d time.Duration
	for _, r := range api.Routes {
		d = max(d, r.Timeout)
	}
	return d
}

// Default returns the defaults of every setting.
func Default() Config {
	return Config{
		Addr:                  DefaultAddr,
		DataDir:               DefaultDataDir,
		LogFormat:             "text",
		LogLevel:              "info",
		MaxHeaderBytes:        DefaultMaxHeaderBytes,
		ReadHeaderTimeout:     DefaultReadHeaderTimeout,
		ReadTimeout:           DefaultRequestTimeout,
		WriteTimeout:          DefaultRequestTimeout,
		IdleTimeout:           DefaultIdleTimeout,
		ShutdownTimeout:       DefaultShutdownTimeout,
		MaxBatchItems:         DefaultMaxBatchItems,
		MaxConcurrentRequests: DefaultMaxConcurrentRequests,
	}
}

// SealType returns the seal in force: Seal, or its default for the mode.
func (c Config) SealType() string {
	switch {
	case c.Seal != "":
		return c.Seal
	case c.Dev:
		return SealKeyFile
	default:
		return SealShamir
	}
}

// KeyFilePath returns the key file in force: KeyFile, or unseal.key in
// the data directory.
func (c Config) KeyFilePath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return filepath.Join(c.DataDir, custodian.KeyFile)
}

// TLS reports whether the server speaks TLS.
func (c Config) TLS() bool { return c.TLSCertFile != "" || c.TLSKeyFile != "" }

// Validate checks every setting and returns one error naming each bad
// one, with its config key, flag and environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, settingError(key, fmt.Sprintf(format, args...)))
	}

	host, loopback, err := splitAddr(c.Addr)
	if err != nil {
		bad("listen_addr", "%q: %v", c.Addr, err)
	}
	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		bad("tls_key_file", "empty, but tls_cert_file is set: give both or neither")
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		bad("tls_cert_file", "empty, but tls_key_file is set: give both or neither")
	}
	if c.TLSClientCAFile != "" && !c.TLS() {
		bad("tls_client_ca_file", "mutual TLS needs TLS: set tls_cert_file and tls_key_file")
	}
	if err == nil && !c.TLS() && !loopback {
		bad("listen_addr", "%q: TLS is required off loopback: set tls_cert_file and tls_key_file, or listen on 127.0.0.1", c.Addr)
	}
	if err == nil && !c.TLS() && loopback && !c.Dev && !c.InsecurePlainHTTP {
		bad("tls_cert_file", "empty: outside dev mode the server needs TLS (tls_cert_file and tls_key_file); on loopback behind a local TLS proxy, set insecure_plain_http")
	}
	if err == nil && c.Dev && !loopback {
		bad("listen_addr", "%q: dev mode listens on loopback only (%s is not a loopback address)", c.Addr, hostOrAll(host))
	}

	if c.DataDir == "" {
		bad("data_dir", "empty")
	}
	if c.Dev && c.PostgresDSN != "" {
		bad("postgres_dsn", "dev mode keeps everything in the data directory; unset postgres_dsn or drop --dev")
	}
	switch c.Seal {
	case "", SealKeyFile:
	case SealShamir:
		if c.Dev {
			bad("seal", "dev mode unseals by itself with a key file; unset seal or drop --dev")
		}
	default:
		bad("seal", "%q: want %q or %q", c.Seal, SealShamir, SealKeyFile)
	}

	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q: want \"text\" or \"json\"", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log_level", "%v", err)
	}

	positive := []struct {
		key string
		n   int64
	}{
		{"max_header_bytes", int64(c.MaxHeaderBytes)},
		{"read_header_timeout", int64(c.ReadHeaderTimeout)},
		{"read_timeout", int64(c.ReadTimeout)},
		{"write_timeout", int64(c.WriteTimeout)},
		{"idle_timeout", int64(c.IdleTimeout)},
		{"shutdown_timeout", int64(c.ShutdownTimeout)},
		{"max_batch_items", int64(c.MaxBatchItems)},
		{"max_concurrent_requests", int64(c.MaxConcurrentRequests)},
	}
	for _, p := range positive {
		if p.n <= 0 {
			bad(p.key, "must be positive: every request is bounded")
		}
	}
	return errors.Join(errs...)
}

// settingError names a setting every way it can be given.
func settingError(key, problem string) error {
	if s, ok := settingByKey(key); ok {
		return fmt.Errorf("setting %s (--%s, %s): %s", s.Key, s.Flag, s.Env, problem)
	}
	return fmt.Errorf("setting %s: %s", key, problem)
}

// splitAddr checks a listen address and reports its host and whether the
// host is a loopback address: an IP in 127.0.0.0/8 or ::1, or
// "localhost". An empty host means every interface, not loopback.
func splitAddr(addr string) (host string, loopback bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return "", false, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return host, isLoopbackHost(host), nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func hostOrAll(host string) string {
	if host == "" {
		return "an empty host (every interface)"
	}
	return host
}

// parseLevel reads a slog level: a name, or a name with an offset
// ("info+2"), case-insensitively.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not a log level (debug, info, warn, error)", s)
	}
	return l, nil
}
