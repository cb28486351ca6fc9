package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// FuzzHandler drives the whole handler with arbitrary methods, paths and
// bodies, with and without the token. Whatever comes in, the answer is
// below 500 (503 only as "sealed", should an input seal the server), and
// every error answer is a JSON error body whose code and status are a row
// of api.Codes. The seed corpus in testdata/fuzz/FuzzHandler holds a
// request for every route and some hostile ones.
func FuzzHandler(f *testing.F) {
	ts := newTestServer(f, server.Options{MaxBatchItems: 50})
	ts.createKey("k", "", true)
	ts.createKey("sig", "ecdsa-p256", false)
	var enc api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte("seed")}, &enc)
	f.Add("POST", "/v1/decrypt", []byte(`{"ciphertext":"`+enc.Ciphertext+`"}`), true)
	f.Add("POST", "/v1/keys/k/encrypt", []byte(`{"plaintext":"aGk=","associated_data":"eA=="}`), true)
	f.Add("GET", "/v1/keys?prefix=k&page_size=2", []byte(nil), false)

	rows := map[string]int{}
	for _, c := range api.Codes {
		rows[c.Code] = c.Status
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte, auth bool) {
		req, err := http.NewRequest(method, "http://custodian.test"+path, bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+ts.token)
		}
		rec := httptest.NewRecorder()
		ts.srv.ServeHTTP(rec, req)
		// An input that sealed the server must not shadow the next ones.
		if st, err := ts.c.Status(bg); err == nil && st.Sealed {
			if _, err := ts.c.Unseal(bg, nil); err != nil {
				t.Fatalf("unseal after %s %q: %v", method, path, err)
			}
		}
		if rec.Header().Get(api.HeaderRequestID) == "" {
			t.Errorf("%s %q: no request id", method, path)
		}
		if rec.Code < 400 {
			// An input that replaced the root token hands it over.
			var tok api.RootTokenResponse
			if json.Unmarshal(rec.Body.Bytes(), &tok) == nil && tok.RootToken != "" {
				ts.token = tok.RootToken
			}
			return
		}
		var eb api.ErrorBody
		dec := json.NewDecoder(rec.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&eb); err != nil {
			// Health answers 503 with its own body, not an error.
			var h api.HealthResponse
			if rec.Code == http.StatusServiceUnavailable && json.Unmarshal(rec.Body.Bytes(), &h) == nil {
				return
			}
			t.Fatalf("%s %q: HTTP %d without an error body: %v", method, path, rec.Code, err)
		}
		status, ok := rows[eb.Error.Code]
		if !ok || status != rec.Code || eb.Error.Message == "" {
			t.Fatalf("%s %q: HTTP %d with code %q (%q)", method, path, rec.Code, eb.Error.Code, eb.Error.Message)
		}
		if rec.Code >= 500 && eb.Error.Code != "sealed" {
			t.Fatalf("%s %q (%d body bytes, auth %v): HTTP %d %s: %s", method, path, len(body), auth, rec.Code, eb.Error.Code, eb.Error.Message)
		}
	})
}
