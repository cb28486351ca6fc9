package service

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	custodian "github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// Service is a running server: the store, the seal and the custodian
// behind an HTTP server. Start makes one; Shutdown stops it.
type Service struct {
	cfg   Config
	log   *slog.Logger
	level *slog.LevelVar
	b     *backend
	http  *http.Server
	ln    net.Listener
	certs *certs // nil without TLS
	url   string

	reloadMu sync.Mutex // serialises Reload; guards cfg's live settings

	served   chan struct{} // closed when Serve returns
	serveErr error         // Serve's error, other than ErrServerClosed

	stopOnce sync.Once
	stopErr  error
	cancel   context.CancelFunc // cancels requests' base context
}

// Start validates cfg, opens the store, the seal and the custodian, binds
// the listen address and serves in the background. It prints to out the
// URL it serves on (the real port when the address asks for port 0) and,
// in dev mode, the root token and the two export lines a user pastes.
// Nothing secret goes to out outside dev mode, nor ever to the logs.
// ctx bounds the start-up only; stop the Service with Shutdown.
func Start(ctx context.Context, cfg Config, out io.Writer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = buildVersion()
	}
	log, level := newLogger(cfg)
	s := &Service{cfg: cfg, log: log, level: level, served: make(chan struct{})}

	if cfg.TLS() {
		s.certs = new(certs)
		if err := s.certs.load(cfg.tlsFiles()); err != nil {
			return nil, err
		}
	}
	ln, err := s.listen(ctx)
	if err != nil {
		return nil, err
	}
	s.ln = ln

	if s.b, err = openBackend(ctx, cfg, log); err != nil {
		ln.Close()
		return nil, err
	}
	var token custodian.Secret
	if cfg.Dev {
		if token, err = devRootToken(ctx, s.b.c, cfg.DataDir, log); err != nil {
			s.b.close()
			ln.Close()
			return nil, err
		}
	}
	h, err := s.handler()
	if err != nil {
		s.b.close()
		ln.Close()
		return nil, err
	}
	s.serve(h)
	s.announce(ctx, out, token)
	return s, nil
}

// listen binds the address. Plain HTTP is checked once more against the
// address actually bound, in case "localhost" resolved to something else.
func (s *Service) listen(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	ap, _ := netip.ParseAddrPort(ln.Addr().String())
	if (s.certs == nil || s.cfg.Dev) && !ap.Addr().Unmap().IsLoopback() {
		ln.Close()
		return nil, settingError("listen_addr", fmt.Sprintf("%q bound %s, which is not loopback: TLS is required off loopback", s.cfg.Addr, ln.Addr()))
	}
	scheme := "http"
	if s.certs != nil {
		scheme = "https"
		ln = tls.NewListener(ln, s.certs.serverConfig())
	}
	s.url = scheme + "://" + ln.Addr().String()
	return ln, nil
}

// handler builds the API handler over the custodian, with the bound on
// concurrent requests in front.
func (s *Service) handler() (http.Handler, error) {
	h, err := server.New(s.b.c, server.Options{
		Logger:        s.log,
		Version:       s.cfg.Version,
		MaxBatchItems: s.cfg.MaxBatchItems,
		Restore: func(ctx context.Context, r io.Reader, shares [][]byte) (*custodian.BackupResult, error) {
			return s.b.restore(ctx, r, shares, s.log)
		},
	})
	if err != nil {
		return nil, err
	}
	var hh http.Handler = h
	if s.cfg.handlerWrap != nil {
		hh = s.cfg.handlerWrap(hh)
	}
	return limitConcurrency(hh, s.cfg.MaxConcurrentRequests), nil
}

func (s *Service) serve(h http.Handler) {
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
			s.log.Error("serve failed", "err", err)
		}
	}()
}

// announce tells the user where the server is: on out, the URL and, in
// dev mode, the root token and the export lines; in the logs, the URL and
// the seal's state.
func (s *Service) announce(ctx context.Context, out io.Writer, token custodian.Secret) {
	st, err := s.b.c.Status(ctx)
	if err != nil {
		st = &custodian.Status{}
	}
	s.log.Info("listening", "url", s.url, "dev", s.cfg.Dev, "seal", s.cfg.SealType(),
		"initialized", st.Initialized, "sealed", st.Sealed, "version", s.cfg.Version)
	if !s.cfg.Dev {
		fmt.Fprintf(out, "KeyCustodian server listening on %s\n", s.url)
		if !st.Initialized {
			fmt.Fprintf(out, "Not initialized: run `custodian operator init` against it.\n")
		} else if st.Sealed {
			fmt.Fprintf(out, "Sealed: run `custodian operator unseal` with %d shares.\n", st.Threshold)
		}
		return
	}
	fmt.Fprintf(out, `KeyCustodian dev server listening on %[1]s
Data directory: %[2]s (keys persist across restarts)
Root token: %[3]s (also in %[4]s)

Development mode: the unseal key and the root token are stored beside the
keys. Do not use it for keys that matter. To use this server, paste:

    export CUSTODIAN_ADDR=%[1]s
    export CUSTODIAN_TOKEN=%[3]s

`, s.url, s.cfg.DataDir, custodian.Reveal(token), filepath.Join(s.cfg.DataDir, DevTokenFile))
}

// URL returns the base URL the server serves on, with the bound port.
func (s *Service) URL() string { return s.url }

// Addr returns the bound address.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// Done is closed when the server stops serving: after Shutdown, or when
// serving fails (Err says why).
func (s *Service) Done() <-chan struct{} { return s.served }

// Err returns why serving stopped, once Done is closed; nil after a
// Shutdown.
func (s *Service) Err() error {
	select {
	case <-s.served:
		return s.serveErr
	default:
		return nil
	}
}

// Shutdown stops the server gracefully: it stops accepting connections,
// lets requests in flight finish until ctx ends, then closes the
// connections that remain, and closes the custodian and its store. It is
// safe to call more than once; later calls return the first's result.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.log.Info("shutting down: waiting for requests in flight")
		var errs []error
		if err := s.http.Shutdown(ctx); err != nil {
			s.log.Warn("requests still in flight at the shutdown timeout; closing their connections", "err", err)
			s.cancel()
			if err := s.http.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		<-s.served
		s.cancel()
		if err := s.b.close(); err != nil {
			errs = append(errs, fmt.Errorf("close the store: %w", err))
		}
		s.stopErr = errors.Join(errs...)
		s.log.Info("stopped")
	})
	return s.stopErr
}

// Run starts a server with cfg and serves until ctx is cancelled, then
// shuts down gracefully within cfg.ShutdownTimeout. It returns nil after
// a clean shutdown. RunWithSignals adds the operating system's signals.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	s, err := Start(ctx, cfg, out)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
	return s.stop(ctx)
}

// stop shuts down within the configured timeout, even when ctx is already
// cancelled, and returns why serving stopped if it failed.
func (s *Service) stop(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(s.Err(), s.Shutdown(sctx))
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

func newLogger(cfg Config) (*slog.Logger, *slog.LevelVar) {
	w := cfg.LogOutput
	if w == nil {
		w = os.Stderr
	}
	level := new(slog.LevelVar)
	l, _ := parseLevel(cfg.LogLevel)
	level.Set(l)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}

// limitConcurrency lets at most n requests into h at once; the rest wait
// for a slot until their context ends.
func limitConcurrency(h http.Handler, n int) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			row := api.CodeFor(custodian.ErrClosed)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(row.Status)
			json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: row.Code, Message: "the server is busy or stopping; try again"}})
			return
		}
		defer func() { <-slots }()
		h.ServeHTTP(w, r)
	})
}
