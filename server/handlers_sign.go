package server

import (
	"net/http"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Signatures, MACs, key agreement and random bytes.

func (s *Server) sign(w http.ResponseWriter, r *http.Request) error {
	var req api.SignRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.Signature) > 0 {
		return badRequest("field \"signature\" is for POST /v1/keys/{name}/verify")
	}
	sig, err := s.c.Sign(r.Context(), r.PathValue("name"), req.Message,
		&custodian.SignOptions{Algorithm: req.Algorithm, Digest: req.Digest, Version: req.Version})
	if err != nil {
		return err
	}
	return reply(w, api.SignResponse{Signature: sig.Signature, KeyVersion: sig.KeyVersion, Algorithm: sig.Algorithm})
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var req api.SignRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	err := s.c.Verify(r.Context(), r.PathValue("name"), req.Message, req.Signature,
		&custodian.SignOptions{Algorithm: req.Algorithm, Digest: req.Digest, Version: req.Version})
	if err != nil {
		return err
	}
	return reply(w, api.VerifyResponse{Valid: true})
}

func (s *Server) mac(w http.ResponseWriter, r *http.Request) error {
	var req api.MACRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.MAC) > 0 {
		return badRequest("field \"mac\" is for POST /v1/keys/{name}/verify-mac")
	}
	m, err := s.c.MAC(r.Context(), r.PathValue("name"), req.Message, &custodian.MACOptions{Version: req.Version})
	if err != nil {
		return err
	}
	return reply(w, api.MACResponse{MAC: m.MAC, KeyVersion: m.KeyVersion, Algorithm: m.Algorithm})
}

func (s *Server) verifyMAC(w http.ResponseWriter, r *http.Request) error {
	var req api.MACRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.c.VerifyMAC(r.Context(), r.PathValue("name"), req.Message, req.MAC, &custodian.MACOptions{Version: req.Version}); err != nil {
		return err
	}
	return reply(w, api.VerifyResponse{Valid: true})
}

// agree returns the shared secret, or with derive_key stores a key derived
// from it and returns that key's metadata: the secret then never leaves.
func (s *Server) agree(w http.ResponseWriter, r *http.Request) error {
	var req api.AgreeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	if d := req.DeriveKey; d != nil {
		k, err := s.c.DeriveKey(r.Context(), name, req.Peer, d.Name, &custodian.DeriveOptions{
			Version: req.Version, Salt: d.Salt, Info: d.Info, Key: *d.CreateKeyRequest.Options()})
		if err != nil {
			return err
		}
		return reply(w, api.AgreeResponse{Key: api.FromKey(k)})
	}
	secret, err := s.c.Agree(r.Context(), name, req.Peer, &custodian.AgreeOptions{Version: req.Version})
	if err != nil {
		return err
	}
	defer secret.Wipe()
	// The caller asked for the raw shared secret: it leaves here.
	return reply(w, api.AgreeResponse{SharedSecret: custodian.Reveal(secret)})
}

func (s *Server) random(w http.ResponseWriter, r *http.Request) error {
	var req api.RandomRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	b, err := s.c.Random(r.Context(), req.Bytes)
	if err != nil {
		return err
	}
	return reply(w, api.RandomResponse{Random: b})
}
