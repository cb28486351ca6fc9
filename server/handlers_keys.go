package server

import (
	"context"
	"net/http"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Keys: creation, metadata and lifecycle. Each handler is one library
// call; the library validates names and settings.

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	k, err := s.c.CreateKey(r.Context(), req.Name, req.Options())
	if err != nil {
		return err
	}
	return reply(w, api.FromKey(k))
}

func (s *Server) importKey(w http.ResponseWriter, r *http.Request) error {
	var req api.ImportKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	defer clear(req.Material)
	name := r.PathValue("name")
	if req.Name != "" && req.Name != name {
		return badRequest("field \"name\" (%q) differs from the key named in the path", req.Name)
	}
	k, err := s.c.ImportKey(r.Context(), name, req.Material, req.Options())
	if err != nil {
		return err
	}
	return reply(w, api.FromKey(k))
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	size, err := intParam(r, "page_size")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := s.c.ListKeys(r.Context(), &custodian.ListOptions{
		Prefix: q.Get("prefix"), PageToken: q.Get("page_token"), PageSize: size})
	if err != nil {
		return err
	}
	resp := api.ListKeysResponse{Keys: make([]*api.Key, 0, len(page.Keys)), NextPageToken: page.NextPageToken}
	for _, k := range page.Keys {
		resp.Keys = append(resp.Keys, api.FromKey(k))
	}
	return reply(w, resp)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.GetKey)
}

func (s *Server) updateKey(w http.ResponseWriter, r *http.Request) error {
	var req api.UpdateKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u := custodian.KeyUpdate{Description: req.Description, Labels: req.Labels, MinDecryptionVersion: req.MinDecryptionVersion}
	if req.RotationPeriod != nil {
		p := time.Duration(*req.RotationPeriod)
		u.RotationPeriod = &p
	}
	k, err := s.c.UpdateKey(r.Context(), r.PathValue("name"), u)
	if err != nil {
		return err
	}
	return reply(w, api.FromKey(k))
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.RotateKey)
}

func (s *Server) enableKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.EnableKey)
}

func (s *Server) disableKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.DisableKey)
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.RevokeKey)
}

func (s *Server) cancelDeletion(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.CancelKeyDeletion)
}

func (s *Server) destroyKey(w http.ResponseWriter, r *http.Request) error {
	return s.keyCall(w, r, s.c.DestroyKey)
}

// keyCall answers a body-less call on the key named in the path with the
// key's metadata.
func (s *Server) keyCall(w http.ResponseWriter, r *http.Request, call func(context.Context, string) (*custodian.Key, error)) error {
	k, err := call(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return reply(w, api.FromKey(k))
}

// maxPendingDays keeps pending_days × 24 h far from overflowing; the
// library refuses anything over 30 days anyway.
const maxPendingDays = 1 << 20

func (s *Server) scheduleDeletion(w http.ResponseWriter, r *http.Request) error {
	var req api.ScheduleDeletionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.PendingDays < 0 || req.PendingDays > maxPendingDays {
		return badRequest("field \"pending_days\": %d is out of range (7 to 30, or 0 for 30)", req.PendingDays)
	}
	window := time.Duration(req.PendingDays) * 24 * time.Hour
	k, err := s.c.ScheduleKeyDeletion(r.Context(), r.PathValue("name"), window)
	if err != nil {
		return err
	}
	return reply(w, api.FromKey(k))
}

func (s *Server) publicKey(w http.ResponseWriter, r *http.Request) error {
	version, err := intParam(r, "version")
	if err != nil {
		return err
	}
	format := custodian.PublicKeyFormat(r.URL.Query().Get("format"))
	if format == "" {
		format = custodian.PEM
	}
	pub, err := s.c.PublicKey(r.Context(), r.PathValue("name"), &custodian.PublicKeyOptions{Format: format, Version: version})
	if err != nil {
		return err
	}
	return reply(w, api.PublicKeyResponse{Format: format, PublicKey: pub})
}

func (s *Server) exportKey(w http.ResponseWriter, r *http.Request) error {
	var req api.ExportKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	m, err := s.c.ExportKey(r.Context(), r.PathValue("name"), &custodian.ExportOptions{Version: req.Version})
	if err != nil {
		return err
	}
	defer m.Wipe()
	// The export door: material leaves the process here, on purpose.
	return reply(w, api.ExportKeyResponse{Material: custodian.Reveal(m)})
}
