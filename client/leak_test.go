package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
	"github.com/keycustodian/custodian/internal/leaktest"
	"github.com/keycustodian/custodian/internal/testtls"
)

// TestNoLeaks prints a client, its options and the errors of failed calls
// every way a program might, and checks that none shows the token, the
// client certificate's private key, or a request's plaintext.
func TestNoLeaks(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := "kct1." + base64.RawURLEncoding.EncodeToString(raw)
	plaintext := []byte("4111 1111 1111 1111 card number, expiry 12/29, cvv 123")

	ca := testtls.NewCA(t)
	cert := ca.Client("leaky")
	block, _ := pem.Decode(cert.KeyPEM)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{
		"token":          []byte(token),
		"token bytes":    raw,
		"client key DER": block.Bytes,
		"client key D":   priv.(*ecdsa.PrivateKey).D.Bytes(),
		"plaintext":      plaintext,
	}

	certFile, keyFile := cert.Files()
	opts := client.Options{Token: token, CACertPEM: ca.PEM, ClientCertFile: certFile,
		ClientKeyFile: keyFile, ServerName: "kms.test", RetryBackoff: time.Millisecond}
	c, err := client.New("https://127.0.0.1:1", opts)
	if err != nil {
		t.Fatal(err)
	}
	// A struct printed by fmt shows its unexported fields by reflection,
	// without calling their methods: the client keeps its token where
	// that walk cannot read it. Options holds the token as the string
	// given, which no type can hide from that walk; it is a value to pass
	// to New, not to keep.
	type holder struct {
		name string
		c    *client.Client
		v    client.Client
	}
	for what, v := range map[string]any{
		"*Client":                     c,
		"Client":                      *c,
		"Options":                     opts,
		"*Options":                    &opts,
		"[]*Client":                   []*client.Client{c},
		"struct holding a client":     holder{name: "kms", c: c, v: *c},
		"*struct holding a client":    &holder{c: c, v: *c},
		"struct holding options":      struct{ Opts client.Options }{opts},
		"Options with an HTTP client": client.Options{Token: token, HTTPClient: &http.Client{}},
	} {
		leaktest.Check(t, what, v, secrets)
	}
	// The client names its server, and says a token is set.
	if s := fmt.Sprint(c); !strings.Contains(s, "127.0.0.1:1") {
		t.Errorf("%%v of a client = %q, want its address", s)
	}
	if s := fmt.Sprintf("%#v", opts); !strings.Contains(s, "REDACTED") {
		t.Errorf("%%#v of options = %q, want the token shown as REDACTED", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "client", c, "options", opts)
	if paths, _ := leaktest.Leaks(map[string]string{"slog": buf.String()}, secrets); len(paths) > 0 {
		t.Errorf("slog leaks: %v", paths)
	}

	// Errors of failed calls: a connection refused, an API error, a
	// response the client cannot read (holding the plaintext), an
	// untrusted server.
	ctx := context.Background()
	errs := map[string]error{}
	_, errs["refused"] = c.Encrypt(ctx, "k", plaintext, nil)

	f := newFake(t)
	fc := f.client(client.Options{Token: token, Retries: -1})
	f.fail(api.RouteEncrypt, http.StatusConflict, "key_revoked", `encrypt "k": key is revoked`)
	_, errs["remote"] = fc.Encrypt(ctx, "k", plaintext, nil)
	f.handle(api.RouteEncrypt, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ciphertext": "` + string(plaintext) + `"`)) // echoes, and is cut short
	})
	_, errs["bad response"] = fc.Encrypt(ctx, "k", plaintext, nil)
	f.handle(api.RouteDecrypt, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"plaintext": "` + base64.StdEncoding.EncodeToString(plaintext) + `", "x": `))
	})
	_, errs["bad response with data"] = fc.Decrypt(ctx, []byte("ct"), nil)

	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tc, _ := client.New(tlsSrv.URL, client.Options{Token: token})
	_, errs["untrusted"] = tc.Encrypt(ctx, "k", plaintext, nil)

	for what, err := range errs {
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		leaktest.Check(t, what+" error", err, secrets)
		for e := err; e != nil; e = errors.Unwrap(e) {
			leaktest.Check(t, what+" wrapped error", e, secrets)
		}
	}
}
