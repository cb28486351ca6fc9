package server_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
	"github.com/keycustodian/custodian/store/memory"
)

// TestRoutesHappyPath walks every route of the table through a success,
// and fails if a route was left out.
func TestRoutesHappyPath(t *testing.T) {
	covered := map[string]bool{}
	t.Run("keys", func(t *testing.T) { happyKeys(t, covered) })
	t.Run("crypto", func(t *testing.T) { happyCrypto(t, covered) })
	t.Run("lifecycle", func(t *testing.T) { happyLifecycle(t, covered) })
	t.Run("operator", func(t *testing.T) { happyOperator(t, covered) })
	t.Run("backup-restore", func(t *testing.T) { happyBackupRestore(t, covered) })
	t.Run("documents", func(t *testing.T) { happyDocuments(t, covered) })
	for _, r := range api.Routes {
		if !covered[r.Name] {
			t.Errorf("route %s (%s) has no happy-path test", r.Name, r.Pattern())
		}
	}
}

func happyKeys(t *testing.T, covered map[string]bool) {
	ts := newTestServer(t, server.Options{})

	covered[api.RouteCreateKey] = true
	k := ts.createKey("app/payments", custodian.AES256GCM, true)
	if k.Name != "app/payments" || k.Type != custodian.AES256GCM || k.State != custodian.StateEnabled || !k.Exportable || k.PrimaryVersion != 1 {
		t.Fatalf("created %+v", k)
	}
	ts.createKey("app/orders", "", false)
	ts.createKey("other", "", false)

	covered[api.RouteGetKey] = true
	var got api.Key
	ts.get("/v1/keys/app%2Fpayments", &got) // a / in a name travels as %2F
	if got.ID != k.ID || got.Name != k.Name {
		t.Fatalf("get: %+v, want %+v", got, k)
	}

	covered[api.RouteListKeys] = true
	var page api.ListKeysResponse
	ts.get("/v1/keys?prefix=app%2F&page_size=1", &page)
	if len(page.Keys) != 1 || page.Keys[0].Name != "app/orders" || page.NextPageToken == "" {
		t.Fatalf("first page: %+v", page)
	}
	var page2 api.ListKeysResponse
	ts.get("/v1/keys?prefix=app%2F&page_size=1&page_token="+page.NextPageToken, &page2)
	if len(page2.Keys) != 1 || page2.Keys[0].Name != "app/payments" || page2.NextPageToken != "" {
		t.Fatalf("second page: %+v", page2)
	}
	var all api.ListKeysResponse
	ts.get("/v1/keys", &all)
	if len(all.Keys) != 3 {
		t.Fatalf("list: %d keys, want 3", len(all.Keys))
	}

	covered[api.RouteUpdateKey] = true
	var upd api.Key
	ts.do(call{method: "PATCH", path: "/v1/keys/app%2Fpayments",
		body: `{"description":"card payments","labels":{"team":"pay"},"rotation_period":"90d"}`}).decode(t, &upd)
	if upd.Description != "card payments" || upd.Labels["team"] != "pay" || time.Duration(upd.RotationPeriod) != 90*24*time.Hour {
		t.Fatalf("updated: %+v", upd)
	}

	// {} removes every label; absent labels stay.
	ts.do(call{method: "PATCH", path: "/v1/keys/app%2Fpayments", body: `{"description":"still"}`}).decode(t, &upd)
	if upd.Labels["team"] != "pay" {
		t.Fatalf("labels dropped by an update without them: %+v", upd.Labels)
	}
	var cleared api.Key
	ts.do(call{method: "PATCH", path: "/v1/keys/app%2Fpayments", body: api.UpdateKeyRequest{Labels: map[string]string{}}}).decode(t, &cleared)
	if len(cleared.Labels) != 0 || cleared.Description != "still" {
		t.Fatalf("labels {} kept %v", cleared.Labels)
	}

	covered[api.RouteRotateKey] = true
	var rot api.Key
	ts.post("/v1/keys/app%2Fpayments/rotate", nil, &rot)
	if rot.PrimaryVersion != 2 || len(rot.Versions) != 2 {
		t.Fatalf("rotated: %+v", rot)
	}

	covered[api.RouteExportKey] = true
	var exp api.ExportKeyResponse
	ts.post("/v1/keys/app%2Fpayments/export", api.ExportKeyRequest{Version: 1}, &exp)
	if len(exp.Material) != 32 {
		t.Fatalf("exported %d bytes", len(exp.Material))
	}

	covered[api.RouteImportKey] = true
	material := make([]byte, 32)
	rand.Read(material)
	var imp api.Key
	ts.post("/v1/keys/imported/import", api.ImportKeyRequest{Material: material,
		CreateKeyRequest: api.CreateKeyRequest{Type: custodian.AES256GCM, Exportable: true}}, &imp)
	if imp.Name != "imported" || imp.Type != custodian.AES256GCM {
		t.Fatalf("imported: %+v", imp)
	}
	ts.post("/v1/keys/imported/export", map[string]any{}, &exp)
	if !bytes.Equal(exp.Material, material) {
		t.Fatal("the imported key exports other material")
	}
	// Raw AES-GCM output under the imported key opens with the material.
	var enc api.EncryptResponse
	ts.post("/v1/keys/imported/encrypt", api.EncryptRequest{Plaintext: []byte("interop"), Format: api.FormatRaw}, &enc)
	block, _ := aes.NewCipher(material)
	gcm, _ := cipher.NewGCM(block)
	if pt, err := gcm.Open(nil, enc.Raw[:12], enc.Raw[12:], nil); err != nil || string(pt) != "interop" {
		t.Fatalf("raw form does not open with the material: %v", err)
	}
}

func happyCrypto(t *testing.T, covered map[string]bool) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", custodian.AES256GCM, false)
	ts.createKey("other", custodian.AES256GCM, false)
	aad := []byte("context")

	covered[api.RouteEncrypt] = true
	var enc api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte("hello"), AssociatedData: aad}, &enc)
	if !strings.HasPrefix(enc.Ciphertext, "kc1:") || enc.Raw != nil {
		t.Fatalf("encrypt: %+v", enc)
	}

	covered[api.RouteDecrypt] = true
	var dec api.DecryptResponse
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext, AssociatedData: aad}, &dec)
	if string(dec.Plaintext) != "hello" {
		t.Fatalf("decrypt: %q", dec.Plaintext)
	}
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext, AssociatedData: aad, Key: "k"}, &dec)

	covered[api.RouteDecryptKey] = true
	dec = api.DecryptResponse{}
	ts.post("/v1/keys/k/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext, AssociatedData: aad}, &dec)
	if string(dec.Plaintext) != "hello" {
		t.Fatalf("decrypt by key: %q", dec.Plaintext)
	}

	var raw api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte("raw"), Format: api.FormatRaw}, &raw)
	if raw.Ciphertext != "" || len(raw.Raw) == 0 {
		t.Fatalf("raw encrypt: %+v", raw)
	}
	dec = api.DecryptResponse{}
	ts.post("/v1/keys/k/decrypt", api.DecryptRequest{Raw: raw.Raw, Format: api.FormatRaw}, &dec)
	if string(dec.Plaintext) != "raw" {
		t.Fatalf("raw decrypt: %q", dec.Plaintext)
	}

	covered[api.RouteRewrap] = true
	ts.post("/v1/keys/k/rotate", nil, &api.Key{})
	var rw api.RewrapResponse
	ts.post("/v1/rewrap", api.RewrapRequest{Ciphertext: enc.Ciphertext, AssociatedData: aad}, &rw)
	if rw.Ciphertext == enc.Ciphertext {
		t.Fatal("rewrap returned the same ciphertext")
	}
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: rw.Ciphertext, AssociatedData: aad}, &dec)
	if string(dec.Plaintext) != "hello" {
		t.Fatalf("rewrapped decrypts to %q", dec.Plaintext)
	}

	covered[api.RouteEncryptBatch] = true
	var eb api.BatchEncryptResponse
	ts.post("/v1/encrypt/batch", api.BatchEncryptRequest{Items: []api.BatchEncryptItem{
		{Key: "k", Plaintext: []byte("one")},
		{Key: "missing", Plaintext: []byte("two")},
		{Key: "other", Plaintext: []byte("three"), AssociatedData: aad},
	}}, &eb)
	if len(eb.Results) != 3 || eb.Results[0].Ciphertext == "" || eb.Results[1].Error == nil ||
		eb.Results[1].Error.Code != "key_not_found" || eb.Results[1].Ciphertext != "" || eb.Results[2].Ciphertext == "" {
		t.Fatalf("batch encrypt: %+v", eb)
	}

	covered[api.RouteDecryptBatch] = true
	var db api.BatchDecryptResponse
	ts.post("/v1/decrypt/batch", api.BatchDecryptRequest{Items: []api.BatchDecryptItem{
		{Ciphertext: eb.Results[2].Ciphertext, AssociatedData: aad},
		{Ciphertext: "not a ciphertext"},
		{Ciphertext: eb.Results[0].Ciphertext, Key: "other"},
		{Ciphertext: eb.Results[0].Ciphertext, Key: "k"},
	}}, &db)
	if len(db.Results) != 4 || string(db.Results[0].Plaintext) != "three" ||
		db.Results[1].Error == nil || db.Results[1].Error.Code != "invalid_ciphertext" ||
		db.Results[2].Error == nil || db.Results[2].Error.Code != "invalid_ciphertext" ||
		string(db.Results[3].Plaintext) != "one" {
		t.Fatalf("batch decrypt: %+v", db)
	}

	// An empty plaintext comes back as "", never null or absent.
	var empty api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte{}}, &empty)
	if r := ts.do(call{method: "POST", path: "/v1/decrypt", body: api.DecryptRequest{Ciphertext: empty.Ciphertext}}); string(r.Body) != `{"plaintext":""}`+"\n" {
		t.Errorf("empty plaintext: %s", r.Body)
	}
	if r := ts.do(call{method: "POST", path: "/v1/decrypt/batch", body: api.BatchDecryptRequest{Items: []api.BatchDecryptItem{{Ciphertext: empty.Ciphertext}}}}); string(r.Body) != `{"results":[{"plaintext":""}]}`+"\n" {
		t.Errorf("empty plaintext in a batch: %s", r.Body)
	}

	covered[api.RouteDataKey] = true
	var dk api.DataKeyResponse
	ts.post("/v1/keys/k/datakey", api.DataKeyRequest{Bytes: 16}, &dk)
	if len(dk.Plaintext) != 16 {
		t.Fatalf("data key: %d bytes", len(dk.Plaintext))
	}
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: dk.Ciphertext}, &dec)
	if !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Fatal("the data key's ciphertext does not decrypt to its plaintext")
	}
	dk = api.DataKeyResponse{}
	ts.post("/v1/keys/k/datakey", api.DataKeyRequest{NoPlaintext: true}, &dk)
	if dk.Plaintext != nil || dk.Ciphertext == "" {
		t.Fatalf("data key without plaintext: %+v", dk)
	}

	covered[api.RouteRandom] = true
	var rnd api.RandomResponse
	ts.post("/v1/random", api.RandomRequest{Bytes: 24}, &rnd)
	if len(rnd.Random) != 24 {
		t.Fatalf("random: %d bytes", len(rnd.Random))
	}

	// Signatures, checked with the standard library.
	ts.createKey("signer", custodian.ECDSAP256, false)
	covered[api.RoutePublicKey] = true
	var pub api.PublicKeyResponse
	ts.get("/v1/keys/signer/public", &pub)
	block, _ := pem.Decode(pub.PublicKey)
	if pub.Format != custodian.PEM || block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public key: %+v", pub)
	}
	var pubDER api.PublicKeyResponse
	ts.get("/v1/keys/signer/public?format=der&version=1", &pubDER)
	if pubDER.Format != custodian.DER || !bytes.Equal(pubDER.PublicKey, block.Bytes) {
		t.Fatal("DER public key differs from the PEM one")
	}
	spki, err := x509.ParsePKIXPublicKey(pubDER.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	covered[api.RouteSign] = true
	var sig api.SignResponse
	ts.post("/v1/keys/signer/sign", api.SignRequest{Message: []byte("msg")}, &sig)
	digest := sha256.Sum256([]byte("msg"))
	if !ecdsa.VerifyASN1(spki.(*ecdsa.PublicKey), digest[:], sig.Signature) || sig.KeyVersion != 1 || sig.Algorithm != custodian.AlgECDSASHA256 {
		t.Fatalf("signature does not verify with crypto/ecdsa: %+v", sig)
	}
	covered[api.RouteVerify] = true
	var ok api.VerifyResponse
	ts.post("/v1/keys/signer/verify", api.SignRequest{Message: []byte("msg"), Signature: sig.Signature}, &ok)
	if !ok.Valid {
		t.Fatal("verify: not valid")
	}

	ts.createKey("mac", custodian.HMACSHA256, true)
	covered[api.RouteMAC] = true
	var m api.MACResponse
	ts.post("/v1/keys/mac/mac", api.MACRequest{Message: []byte("msg")}, &m)
	var mk api.ExportKeyResponse
	ts.post("/v1/keys/mac/export", map[string]any{}, &mk)
	h := hmac.New(sha256.New, mk.Material)
	h.Write([]byte("msg"))
	if !hmac.Equal(h.Sum(nil), m.MAC) {
		t.Fatal("MAC differs from crypto/hmac's")
	}
	covered[api.RouteVerifyMAC] = true
	ok = api.VerifyResponse{}
	ts.post("/v1/keys/mac/verify-mac", api.MACRequest{Message: []byte("msg"), MAC: m.MAC}, &ok)
	if !ok.Valid {
		t.Fatal("verify-mac: not valid")
	}

	// Key agreement against a crypto/ecdh peer.
	ts.createKey("dh", custodian.X25519, false)
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	peerDER, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	covered[api.RouteAgree] = true
	var ag api.AgreeResponse
	ts.post("/v1/keys/dh/agree", api.AgreeRequest{Peer: peerDER}, &ag)
	var ours api.PublicKeyResponse
	ts.get("/v1/keys/dh/public?format=der", &ours)
	oursKey, err := x509.ParsePKIXPublicKey(ours.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := peer.ECDH(oursKey.(*ecdh.PublicKey))
	if !bytes.Equal(ag.SharedSecret, want) || ag.Key != nil {
		t.Fatal("shared secret differs from the peer's")
	}
	ag = api.AgreeResponse{}
	ts.post("/v1/keys/dh/agree", api.AgreeRequest{Peer: peerDER, DeriveKey: &api.DeriveKeyParams{Name: "derived", Info: []byte("v1"),
		CreateKeyRequest: api.CreateKeyRequest{Description: "from dh"}}}, &ag)
	if ag.SharedSecret != nil || ag.Key == nil || ag.Key.Name != "derived" || ag.Key.Type != custodian.AES256GCM || ag.Key.Description != "from dh" {
		t.Fatalf("derive: %+v", ag)
	}
}

func happyLifecycle(t *testing.T, covered map[string]bool) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", "", false)
	state := func(route, path string, body any, want custodian.State) {
		t.Helper()
		covered[route] = true
		var k api.Key
		ts.post(path, body, &k)
		if k.State != want {
			t.Fatalf("%s: state %s, want %s", path, k.State, want)
		}
	}
	state(api.RouteDisableKey, "/v1/keys/k/disable", nil, custodian.StateDisabled)
	state(api.RouteEnableKey, "/v1/keys/k/enable", nil, custodian.StateEnabled)
	state(api.RouteScheduleDel, "/v1/keys/k/schedule-deletion", api.ScheduleDeletionRequest{PendingDays: 7}, custodian.StatePendingDeletion)
	state(api.RouteCancelDel, "/v1/keys/k/cancel-deletion", nil, custodian.StateDisabled)
	state(api.RouteRevokeKey, "/v1/keys/k/revoke", nil, custodian.StateRevoked)
	var k api.Key
	ts.post("/v1/keys/k/schedule-deletion", map[string]any{}, &k)
	if got := k.DeletionDate.Sub(ts.clock.now()); got != custodian.DefaultDeletionWindow {
		t.Fatalf("default deletion window %s", got)
	}
	ts.clock.add(custodian.DefaultDeletionWindow + time.Hour)
	state(api.RouteDestroyKey, "/v1/keys/k/destroy", nil, custodian.StateDestroyed)

	covered[api.RouteRotateDueKeys] = true
	var upd api.Key
	ts.createKey("auto", "", false)
	ts.do(call{method: "PATCH", path: "/v1/keys/auto", body: `{"rotation_period":"1h"}`}).decode(t, &upd)
	ts.clock.add(2 * time.Hour)
	var due api.RotateDueKeysResponse
	ts.post("/v1/sys/rotate-due-keys", nil, &due)
	if due.Rotated != 1 {
		t.Fatalf("rotated %d keys, want 1", due.Rotated)
	}
}

func happyOperator(t *testing.T, covered map[string]bool) {
	ts := newShamirServer(t)

	covered[api.RouteHealth] = true
	r := ts.do(call{method: "GET", path: "/v1/sys/health", noAuth: true})
	var h api.HealthResponse
	if err := json.Unmarshal(r.Body, &h); r.Code != http.StatusServiceUnavailable || err != nil || h.Initialized || !h.Sealed || h.Version != "test-version" {
		t.Fatalf("health before init: HTTP %d %s", r.Code, r.Body)
	}

	covered[api.RouteSealStatus] = true
	var st custodian.Status
	ts.do(call{method: "GET", path: "/v1/sys/seal-status", noAuth: true}).decode(t, &st)
	if st.Initialized || !st.Sealed || st.SealType != "shamir" {
		t.Fatalf("status before init: %+v", st)
	}

	covered[api.RouteInit] = true
	var ini api.InitResponse
	ts.do(call{method: "POST", path: "/v1/sys/init", noAuth: true, body: api.InitRequest{Shares: 3, Threshold: 2}}).decode(t, &ini)
	if len(ini.Shares) != 3 || ini.Threshold != 2 || !strings.HasPrefix(ini.RootToken, "kct1.") {
		t.Fatalf("init: %d shares, threshold %d", len(ini.Shares), ini.Threshold)
	}
	ts.token = ini.RootToken

	covered[api.RouteUnseal] = true
	unseal := func(share string) custodian.Status {
		var st custodian.Status
		ts.do(call{method: "POST", path: "/v1/sys/unseal", noAuth: true, body: api.UnsealRequest{Share: share}}).decode(t, &st)
		return st
	}
	if st := unseal(ini.Shares[2]); !st.Sealed || st.Progress != 1 {
		t.Fatalf("after one share: %+v", st)
	}
	if st := unseal(ini.Shares[0]); st.Sealed {
		t.Fatalf("after two shares: %+v", st)
	}
	if r := ts.do(call{method: "GET", path: "/v1/sys/health", noAuth: true}); r.Code != http.StatusOK {
		t.Fatalf("health after unseal: HTTP %d", r.Code)
	}
	ts.createKey("k", "", false)
	var enc api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte("kept")}, &enc)

	covered[api.RouteRekey] = true
	var rk api.RekeyResponse
	ts.post("/v1/sys/rekey", api.RekeyRequest{Shares: ini.Shares[:2], NewShares: 4, NewThreshold: 3}, &rk)
	if len(rk.Shares) != 4 || rk.Threshold != 3 {
		t.Fatalf("rekey: %d shares, threshold %d", len(rk.Shares), rk.Threshold)
	}

	covered[api.RouteRotateRoot] = true
	var rr api.RekeyResponse
	ts.post("/v1/sys/rotate-root", api.RekeyRequest{Shares: rk.Shares[1:]}, &rr)
	if len(rr.Shares) != 4 || rr.Threshold != 3 || rr.ActiveTerm < 2 || rr.Resealed != 1 {
		t.Fatalf("rotate-root: %d shares, %+v", len(rr.Shares), rr)
	}

	covered[api.RouteRootToken] = true
	var tok api.RootTokenResponse
	ts.post("/v1/sys/root-token", api.RootTokenRequest{Shares: rr.Shares[:3]}, &tok)
	if !strings.HasPrefix(tok.RootToken, "kct1.") || tok.RootToken == ts.token {
		t.Fatal("root-token: no new token")
	}
	wantError(t, ts.do(call{method: "GET", path: "/v1/keys/k"}), "unauthorized")
	ts.token = tok.RootToken
	ts.get("/v1/keys/k", &api.Key{})

	covered[api.RouteSeal] = true
	var sealed custodian.Status
	ts.post("/v1/sys/seal", nil, &sealed)
	if !sealed.Sealed {
		t.Fatalf("seal: %+v", sealed)
	}
	wantError(t, ts.do(call{method: "GET", path: "/v1/keys/k"}), "sealed")
	for _, sh := range rr.Shares[:3] {
		st = unseal(sh)
	}
	if st.Sealed {
		t.Fatalf("the rotated shares do not unseal: %+v", st)
	}
	var dec api.DecryptResponse
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext}, &dec)
	if string(dec.Plaintext) != "kept" {
		t.Fatal("a ciphertext from before rekey and rotate-root does not decrypt")
	}
}

func happyBackupRestore(t *testing.T, covered map[string]bool) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("kept", "", false)
	var enc api.EncryptResponse
	ts.post("/v1/keys/kept/encrypt", api.EncryptRequest{Plaintext: []byte("restored")}, &enc)

	covered[api.RouteBackup] = true
	r := ts.do(call{method: "POST", path: "/v1/sys/backup"})
	if r.Code != http.StatusOK || r.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment; filename=") || !bytes.HasPrefix(r.Body, []byte("KCBACKUP\x01")) {
		t.Fatalf("backup: HTTP %d %v %q", r.Code, r.Header, r.Body[:min(len(r.Body), 16)])
	}

	// A new, uninitialized server over an empty store and the same key
	// file, with a Restore like the one package service provides.
	kf := ts.keyfile
	st2 := memory.New()
	c2 := openCustodian(t, st2, kf, nil)
	var gotShares []string
	srv2, _ := newServerFor(t, c2, server.Options{Restore: func(ctx context.Context, body io.Reader, shares [][]byte) (*custodian.BackupResult, error) {
		for _, sh := range shares { // the server wipes them afterwards
			gotShares = append(gotShares, string(sh))
		}
		res, err := custodian.Restore(ctx, body, custodian.RestoreOptions{Store: st2, Seal: kf})
		if err != nil {
			return nil, err
		}
		_, err = c2.Unseal(ctx, nil)
		return res, err
	}})
	ts2 := &testServer{t: t, c: c2, srv: srv2, token: ts.token}

	covered[api.RouteRestore] = true
	var res api.RestoreResponse
	ts2.do(call{method: "POST", path: "/v1/sys/restore", noAuth: true, body: r.Body,
		header: map[string]string{api.HeaderShares: " a , b,"}}).decode(t, &res)
	if res.Keys != 1 || res.Meta < 1 {
		t.Fatalf("restore: %+v", res)
	}
	if len(gotShares) != 2 || gotShares[0] != "a" || gotShares[1] != "b" {
		t.Fatalf("shares from %s: %q", api.HeaderShares, gotShares)
	}
	var dec api.DecryptResponse
	ts2.post("/v1/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext}, &dec)
	if string(dec.Plaintext) != "restored" {
		t.Fatal("the restored server does not decrypt the old ciphertext")
	}
	// Once initialized, a server refuses a second restore.
	wantError(t, ts2.do(call{method: "POST", path: "/v1/sys/restore", noAuth: true, body: r.Body}), "already_initialized")
}

func happyDocuments(t *testing.T, covered map[string]bool) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("a", "", false)
	ts.createKey("b", "", false)
	ts.post("/v1/keys/b/disable", nil, &api.Key{})

	covered[api.RouteOpenAPI] = true
	var doc map[string]any
	ts.do(call{method: "GET", path: "/v1/openapi.json", noAuth: true}).decode(t, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi: %v", doc["openapi"])
	}

	covered[api.RouteMetrics] = true
	r := ts.do(call{method: "GET", path: "/metrics", noAuth: true})
	if r.Code != http.StatusOK {
		t.Fatalf("metrics: HTTP %d", r.Code)
	}
	for _, want := range []string{
		`custodian_http_requests_total{code="ok",route="keys.create"} 2`,
		`custodian_http_request_duration_seconds_count{route="keys.create"} 2`,
		`custodian_keys{state="enabled"} 1`,
		`custodian_keys{state="disabled"} 1`,
		`custodian_keys{state="destroyed"} 0`,
		"custodian_sealed 0",
		"custodian_initialized 1",
		"go_goroutines",
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
