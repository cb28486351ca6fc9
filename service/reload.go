package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Reload applies the settings of next that can change while the server
// runs (those whose Setting.Live is true): the log level, and the TLS
// certificate, key and client CA bundle, which are read from disk again
// even when their paths did not change. Connections already established
// keep their session; the next handshake uses the new material. If
// reading it fails, the old material stays, the error is logged and
// returned, and the log level is still applied. Other settings that
// differ from the running ones are logged as needing a restart.
func (s *Service) Reload(next Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := next.Validate(); err != nil {
		s.log.Error("reload: the new configuration is invalid; nothing changed", "err", err)
		return err
	}
	for _, st := range settings {
		if !st.Live && st.get(next) != st.get(s.cfg) {
			s.log.Warn("reload: setting changed; restart the server to apply it", "setting", st.Key)
		}
	}
	if l, err := parseLevel(next.LogLevel); err == nil && next.LogLevel != s.cfg.LogLevel {
		s.level.Set(l)
		s.cfg.LogLevel = next.LogLevel
		s.log.Warn("reload: log level changed", "level", next.LogLevel)
	}
	if s.certs == nil {
		if next.TLS() {
			s.log.Warn("reload: TLS settings given to a server started without TLS; restart to apply them")
		}
		return nil
	}
	if !next.TLS() {
		s.log.Warn("reload: a server started with TLS keeps it; restart to turn it off")
		return nil
	}
	if err := s.certs.load(next.tlsFiles()); err != nil {
		s.log.Error("reload: TLS material unreadable; keeping the old", "err", err)
		return err
	}
	s.cfg.TLSCertFile, s.cfg.TLSKeyFile, s.cfg.TLSClientCAFile = next.TLSCertFile, next.TLSKeyFile, next.TLSClientCAFile
	s.log.Info("reload: TLS certificate reloaded", "cert", next.TLSCertFile, "client_ca", next.TLSClientCAFile)
	return nil
}

// ReloadTLS reads the TLS certificate, key and client CA bundle again
// from the configured paths; see Reload.
func (s *Service) ReloadTLS() error {
	s.reloadMu.Lock()
	cfg := s.cfg
	s.reloadMu.Unlock()
	return s.Reload(cfg)
}

// RunWithSignals is `custodian server`: it loads the configuration, starts
// the server, and serves until ctx is cancelled or SIGINT or SIGTERM
// arrives, then shuts down gracefully (a second signal kills the process
// at once). SIGHUP calls load again and applies the result with Reload;
// an error from load is logged and the running configuration kept.
func RunWithSignals(ctx context.Context, load func() (Config, error), out io.Writer) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	s, err := Start(ctx, cfg, out)
	if err != nil {
		return err
	}
	for {
		select {
		case <-hup:
			s.log.Info("SIGHUP: reloading")
			next, err := load()
			if err != nil {
				s.log.Error("reload: cannot load the configuration; keeping the running one", "err", err)
				continue
			}
			s.Reload(next)
		case <-s.Done():
			return s.stop(ctx)
		case <-ctx.Done():
			// From here on a second signal has its default effect.
			stop()
			if err := s.stop(ctx); err != nil {
				return err
			}
			if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
				return fmt.Errorf("stopped: %w", err)
			}
			return nil
		}
	}
}
