package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBatchItems is Options.MaxBatchItems when zero.
const DefaultMaxBatchItems = 1000

// DefaultKeyCountInterval is Options.KeyCountInterval when zero.
const DefaultKeyCountInterval = 5 * time.Minute

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives one line per request; nil means slog.Default().
	Logger *slog.Logger
	// Version is reported by the health check.
	Version string
	// MaxBatchItems bounds the items of one batch request: zero means
	// DefaultMaxBatchItems, at most custodian.MaxBatch.
	MaxBatchItems int
	// Registry receives the server's metrics and is what GET /metrics
	// serves; nil means a new registry, with the Go runtime's and the
	// process's collectors as well.
	Registry *prometheus.Registry
	// KeyCountInterval is how long the keys-by-state gauge keeps a count
	// before listing every key again; zero means DefaultKeyCountInterval.
	KeyCountInterval time.Duration
	// Restore writes a backup into the store under the server's
	// Custodian, for POST /v1/sys/restore; shares are a quorum of the
	// backup's root key shares (Shamir seal) or none (key file). The
	// caller owns the store and the seal, so it provides this: typically
	// custodian.Restore into the same store, then an unseal, after which
	// the Custodian must see the restored keys. The server calls it only
	// while its Custodian is not initialized. Nil refuses restores with
	// "unsupported_operation".
	Restore func(ctx context.Context, r io.Reader, shares [][]byte) (*custodian.BackupResult, error)
}

// Server is the native API over one Custodian. It is an http.Handler.
type Server struct {
	c        *custodian.Custodian
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	noRoute  http.Handler
	metrics  *metrics
	promHTTP http.Handler
	openapi  []byte
}

// New returns a Server for c. It registers its metrics with
// opts.Registry; Close unregisters them.
func New(c *custodian.Custodian, opts Options) (*Server, error) {
	if c == nil {
		return nil, fmt.Errorf("server: %w: no Custodian", custodian.ErrInvalidArgument)
	}
	switch {
	case opts.MaxBatchItems < 0 || opts.MaxBatchItems > custodian.MaxBatch:
		return nil, fmt.Errorf("server: %w: MaxBatchItems %d must be between 1 and %d (0 for %d)",
			custodian.ErrInvalidArgument, opts.MaxBatchItems, custodian.MaxBatch, DefaultMaxBatchItems)
	case opts.KeyCountInterval < 0:
		return nil, fmt.Errorf("server: %w: KeyCountInterval %s is negative", custodian.ErrInvalidArgument, opts.KeyCountInterval)
	}
	if opts.MaxBatchItems == 0 {
		opts.MaxBatchItems = DefaultMaxBatchItems
	}
	if opts.KeyCountInterval == 0 {
		opts.KeyCountInterval = DefaultKeyCountInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{c: c, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	m, err := newMetrics(c, opts)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.promHTTP = m.handler()
	if s.openapi, err = openAPIDocument(); err != nil {
		m.close()
		return nil, err
	}
	for _, rt := range api.Routes {
		b, ok := bindings[rt.Name]
		if !ok {
			m.close()
			return nil, fmt.Errorf("server: route %s has no handler", rt.Name)
		}
		s.mux.Handle(rt.Pattern(), s.adapt(rt, b))
	}
	s.noRoute = s.adapt(noRoute, binding{handle: (*Server).notFound})
	s.mux.Handle("/", s.noRoute)
	return s, nil
}

// Close unregisters the server's metrics, so that a new Server may
// register with the same registry. The Custodian stays open: it is the
// caller's.
func (s *Server) Close() { s.metrics.close() }

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// ServeMux answers a path that is not in canonical form with a plain
	// text redirect; an API client should not be sent elsewhere, so it is
	// an unknown route.
	if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && cleanPath(p) != p {
		s.noRoute.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath is ServeMux's canonical form of a path.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}
