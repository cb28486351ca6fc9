package server

import (
	"net/http"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// Encryption: the two ciphertext forms, rewrap, batches and data keys.

func (s *Server) encrypt(w http.ResponseWriter, r *http.Request) error {
	var req api.EncryptRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	defer clear(req.Plaintext)
	name := r.PathValue("name")
	switch req.Format {
	case "", api.FormatText:
		if req.Version != 0 {
			return badRequest("field \"version\" applies to the raw form; the text form uses the primary version")
		}
		ct, err := s.c.Encrypt(r.Context(), name, req.Plaintext,
			&custodian.EncryptOptions{AssociatedData: req.AssociatedData, Algorithm: req.Algorithm})
		if err != nil {
			return err
		}
		return reply(w, api.EncryptResponse{Ciphertext: ct.String()})
	case api.FormatRaw:
		raw, err := s.c.EncryptRaw(r.Context(), name, req.Plaintext,
			&custodian.RawOptions{AssociatedData: req.AssociatedData, Algorithm: req.Algorithm, Version: req.Version})
		if err != nil {
			return err
		}
		return reply(w, api.EncryptResponse{Raw: raw})
	}
	return badFormat(req.Format)
}

func badFormat(f string) error {
	return badRequest("field \"format\": %q; allowed: text, raw", f)
}

// decryptKey decrypts under the key named in the path: a text-form
// ciphertext made by that key (any other key's is invalid_ciphertext), or
// the raw form.
func (s *Server) decryptKey(w http.ResponseWriter, r *http.Request) error {
	var req api.DecryptRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	if req.Key != "" && req.Key != name {
		return badRequest("field \"key\" (%q) differs from the key named in the path", req.Key)
	}
	switch req.Format {
	case "", api.FormatText:
		req.Key = name
		return s.decryptText(w, r, &req)
	case api.FormatRaw:
		if req.Ciphertext != "" {
			return badRequest("field \"ciphertext\" is the text form; the raw form goes in \"raw\"")
		}
		pt, err := s.c.DecryptRaw(r.Context(), name, req.Raw,
			&custodian.RawOptions{AssociatedData: req.AssociatedData, Algorithm: req.Algorithm, Version: req.Version})
		if err != nil {
			return err
		}
		defer clear(pt)
		return reply(w, api.DecryptResponse{Plaintext: present(pt)})
	}
	return badFormat(req.Format)
}

// decrypt decrypts a text-form ciphertext, which names its key.
func (s *Server) decrypt(w http.ResponseWriter, r *http.Request) error {
	var req api.DecryptRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Format != "" && req.Format != api.FormatText {
		return badRequest("field \"format\": this route takes the text form; POST /v1/keys/{name}/decrypt takes the raw form")
	}
	return s.decryptText(w, r, &req)
}

func (s *Server) decryptText(w http.ResponseWriter, r *http.Request, req *api.DecryptRequest) error {
	switch {
	case len(req.Raw) > 0:
		return badRequest("field \"raw\" needs \"format\": \"raw\" and a key in the path")
	case req.Algorithm != "" || req.Version != 0:
		return badRequest("fields \"algorithm\" and \"version\" apply to the raw form; the text form names both")
	}
	ct, err := custodian.ParseCiphertext(req.Ciphertext)
	if err != nil {
		return err
	}
	pt, err := s.c.Decrypt(r.Context(), ct, &custodian.DecryptOptions{AssociatedData: req.AssociatedData, Key: req.Key})
	if err != nil {
		return err
	}
	defer clear(pt)
	return reply(w, api.DecryptResponse{Plaintext: present(pt)})
}

// present returns b, or an empty slice for nil: an empty plaintext is
// "" in JSON, not null, and not absent from a batch result, where absence
// would say neither plaintext nor error.
func present(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *Server) rewrap(w http.ResponseWriter, r *http.Request) error {
	var req api.RewrapRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ct, err := custodian.ParseCiphertext(req.Ciphertext)
	if err != nil {
		return err
	}
	out, err := s.c.Rewrap(r.Context(), ct, &custodian.RewrapOptions{AssociatedData: req.AssociatedData, Key: req.Key})
	if err != nil {
		return err
	}
	return reply(w, api.RewrapResponse{Ciphertext: out.String()})
}

func (s *Server) checkBatch(n int) error {
	if n > s.opts.MaxBatchItems {
		return badRequest("%d items, at most %d per batch on this server", n, s.opts.MaxBatchItems)
	}
	return nil
}

func (s *Server) encryptBatch(w http.ResponseWriter, r *http.Request) error {
	var req api.BatchEncryptRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.checkBatch(len(req.Items)); err != nil {
		return err
	}
	items := make([]custodian.BatchEncryptItem, len(req.Items))
	for i, it := range req.Items {
		items[i] = custodian.BatchEncryptItem{Key: it.Key, Plaintext: it.Plaintext, AssociatedData: it.AssociatedData, Algorithm: it.Algorithm}
	}
	defer func() {
		for _, it := range req.Items {
			clear(it.Plaintext)
		}
	}()
	res, err := s.c.EncryptBatch(r.Context(), items)
	if err != nil {
		return err
	}
	resp := api.BatchEncryptResponse{Results: make([]api.BatchEncryptResult, len(res))}
	for i, x := range res {
		if x.Err != nil {
			resp.Results[i].Error = s.itemError(w, r, x.Err, i)
			continue
		}
		resp.Results[i].Ciphertext = x.Ciphertext.String()
	}
	return reply(w, resp)
}

func (s *Server) decryptBatch(w http.ResponseWriter, r *http.Request) error {
	var req api.BatchDecryptRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.checkBatch(len(req.Items)); err != nil {
		return err
	}
	resp := api.BatchDecryptResponse{Results: make([]api.BatchDecryptResult, len(req.Items))}
	// Items whose text form does not parse fail alone; the rest go to
	// the library in one batch, and their results back to their places.
	items := make([]custodian.BatchDecryptItem, 0, len(req.Items))
	index := make([]int, 0, len(req.Items))
	for i, it := range req.Items {
		ct, err := custodian.ParseCiphertext(it.Ciphertext)
		if err != nil {
			resp.Results[i].Error = s.itemError(w, r, err, i)
			continue
		}
		items = append(items, custodian.BatchDecryptItem{Ciphertext: ct, AssociatedData: it.AssociatedData, Key: it.Key})
		index = append(index, i)
	}
	res, err := s.c.DecryptBatch(r.Context(), items)
	if err != nil {
		return err
	}
	defer func() {
		for _, x := range res {
			clear(x.Plaintext)
		}
	}()
	for j, x := range res {
		i := index[j]
		if x.Err != nil {
			resp.Results[i].Error = s.itemError(w, r, x.Err, i)
			continue
		}
		resp.Results[i].Plaintext = present(x.Plaintext)
	}
	return reply(w, resp)
}

func (s *Server) dataKey(w http.ResponseWriter, r *http.Request) error {
	var req api.DataKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	opts := &custodian.DataKeyOptions{Bytes: req.Bytes, AssociatedData: req.AssociatedData, Algorithm: req.Algorithm}
	if req.NoPlaintext {
		ct, err := s.c.GenerateDataKeyWithoutPlaintext(r.Context(), name, opts)
		if err != nil {
			return err
		}
		return reply(w, api.DataKeyResponse{Ciphertext: ct.String()})
	}
	dk, err := s.c.GenerateDataKey(r.Context(), name, opts)
	if err != nil {
		return err
	}
	defer dk.Plaintext.Wipe()
	// A data key's plaintext is the caller's to use: it leaves here.
	return reply(w, api.DataKeyResponse{Plaintext: custodian.Reveal(dk.Plaintext), Ciphertext: dk.Ciphertext.String()})
}
