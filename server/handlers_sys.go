package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Operating the key manager: health, seal, root key, backup.

// health answers 200 only when the custodian serves keys, so that a load
// balancer sends traffic to unsealed servers alone; the body is the same
// either way.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	st, err := s.c.Status(r.Context())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !st.Initialized || st.Sealed {
		status = http.StatusServiceUnavailable
	}
	return writeJSON(w, status, api.HealthResponse{Initialized: st.Initialized, Sealed: st.Sealed, Version: s.opts.Version})
}

func (s *Server) sealStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.c.Status(r.Context())
	if err != nil {
		return err
	}
	return reply(w, st)
}

// initialize and rootToken are the two places a root token leaves the
// server.
func (s *Server) initialize(w http.ResponseWriter, r *http.Request) error {
	var req api.InitRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	res, err := s.c.Init(r.Context(), custodian.InitOptions{Shares: req.Shares, Threshold: req.Threshold})
	if err != nil {
		return err
	}
	defer wipeInit(res)
	return reply(w, api.InitResponse{Shares: reveal(res.Shares), Threshold: res.Threshold,
		RootToken: string(custodian.Reveal(res.RootToken))})
}

// reveal returns shares' text forms; they leave the server here, once.
func reveal(shares []custodian.Secret) []string {
	var out []string
	for _, sh := range shares {
		out = append(out, string(custodian.Reveal(sh)))
	}
	return out
}

func wipeInit(res *custodian.InitResult) {
	for _, sh := range res.Shares {
		sh.Wipe()
	}
	res.RootToken.Wipe()
}

func (s *Server) unseal(w http.ResponseWriter, r *http.Request) error {
	var req api.UnsealRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	var share []byte
	if req.Share != "" {
		share = []byte(req.Share)
		defer clear(share)
	}
	st, err := s.c.Unseal(r.Context(), share)
	if err != nil {
		return err
	}
	return reply(w, st)
}

func (s *Server) seal(w http.ResponseWriter, r *http.Request) error {
	if err := s.c.Seal(r.Context()); err != nil {
		return err
	}
	return s.sealStatus(w, r)
}

func (s *Server) rekey(w http.ResponseWriter, r *http.Request) error {
	var req api.RekeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	shares := shareBytes(req.Shares)
	defer wipeAll(shares)
	res, err := s.c.Rekey(r.Context(), custodian.RekeyOptions{Shares: shares, NewShares: req.NewShares, NewThreshold: req.NewThreshold})
	if err != nil {
		return err
	}
	defer wipeInit(res)
	return reply(w, api.RekeyResponse{Shares: reveal(res.Shares), Threshold: res.Threshold})
}

func (s *Server) rotateRoot(w http.ResponseWriter, r *http.Request) error {
	var req api.RekeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	shares := shareBytes(req.Shares)
	defer wipeAll(shares)
	res, err := s.c.RotateRoot(r.Context(), custodian.RotateRootOptions{Shares: shares, NewShares: req.NewShares, NewThreshold: req.NewThreshold})
	if err != nil {
		return err
	}
	defer wipeInit(&res.InitResult)
	return reply(w, api.RekeyResponse{Shares: reveal(res.Shares), Threshold: res.Threshold,
		ActiveTerm: res.ActiveTerm, Resealed: res.Resealed})
}

func shareBytes(texts []string) [][]byte {
	var out [][]byte
	for _, t := range texts {
		out = append(out, []byte(t))
	}
	return out
}

func wipeAll(bs [][]byte) {
	for _, b := range bs {
		clear(b)
	}
}

// rootToken replaces the root token; the old one stops working at once.
// Under a Shamir seal it needs a quorum of shares: whoever holds the token
// can use every key, so making one is the share holders' call.
func (s *Server) rootToken(w http.ResponseWriter, r *http.Request) error {
	var req api.RootTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	shares := shareBytes(req.Shares)
	defer wipeAll(shares)
	tok, err := s.c.NewRootToken(r.Context(), shares)
	if err != nil {
		return err
	}
	defer tok.Wipe()
	return reply(w, api.RootTokenResponse{RootToken: string(custodian.Reveal(tok))})
}

func (s *Server) rotateDueKeys(w http.ResponseWriter, r *http.Request) error {
	n, err := s.c.RotateDueKeys(r.Context())
	if err != nil {
		return err
	}
	return reply(w, api.RotateDueKeysResponse{Rotated: n})
}

// backup streams the backup as it is made. An error before the first
// byte is an ordinary error response; one after it cuts the connection
// (see adapt), and the truncated file is one Restore refuses.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="custodian-%s.kcbackup"`, time.Now().UTC().Format("20060102T150405Z")))
	_, err := s.c.Backup(r.Context(), w)
	if rw, ok := w.(*responseWriter); err != nil && ok && !rw.wroteHeader {
		h.Del("Content-Disposition")
	}
	return err
}

// restore writes a backup into the store of an uninitialized server,
// through the caller's Options.Restore. The backup's own root key
// authorizes it: its shares in X-Custodian-Shares, or the server's key
// file.
func (s *Server) restore(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Restore == nil {
		return fmt.Errorf("restore: %w: this server was started without restore support", custodian.ErrUnsupportedOperation)
	}
	st, err := s.c.Status(r.Context())
	if err != nil {
		return err
	}
	if st.Initialized {
		return fmt.Errorf("restore: %w: restore into a new, uninitialized server", custodian.ErrAlreadyInitialized)
	}
	var shares [][]byte
	for t := range strings.SplitSeq(r.Header.Get(api.HeaderShares), ",") {
		if t = strings.TrimSpace(t); t != "" {
			shares = append(shares, []byte(t))
		}
	}
	defer wipeAll(shares)
	res, err := s.opts.Restore(r.Context(), r.Body, shares)
	if err != nil {
		return err
	}
	return reply(w, api.RestoreResponse{Meta: res.Meta, Keys: res.Keys})
}

// notFound answers requests no route matches: 405 with Allow when the
// path is a route's with another method, else 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	if p := r.URL.EscapedPath(); cleanPath(p) != p {
		return fmt.Errorf("%w: %s is not in canonical form", api.ErrNoRoute, r.URL.Path)
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 || r.Method == http.MethodConnect {
		return fmt.Errorf("%w: %s", api.ErrNoRoute, r.URL.Path)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return fmt.Errorf("%w: %s %s; allowed: %s", api.ErrMethodNotAllowed, r.Method, r.URL.Path, strings.Join(allow, ", "))
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.openapi)
	return err
}

func (s *Server) metricsPage(w http.ResponseWriter, r *http.Request) error {
	s.promHTTP.ServeHTTP(w, r)
	return nil
}
