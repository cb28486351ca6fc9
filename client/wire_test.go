package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
)

// wireCase is one client call against the fake: the request it must send
// and what it makes of the fake's answer.
type wireCase struct {
	name  string
	route string
	// reply is the fake's 200 answer; nil means an empty body.
	reply any
	call  func(ctx context.Context, c *client.Client) (any, error)
	// want* describe the request: the {name} wildcard, the raw query and
	// the body (nil: none), decoded strictly into a value of wantBody's
	// type and compared as JSON.
	wantName  string
	wantQuery string
	wantBody  any
	// check inspects the result.
	check func(t *testing.T, got any)
}

// testCiphertext returns real ciphertexts from an in-memory Custodian, so
// that the client's parsing of the text form is exercised.
func testCiphertext(t *testing.T) (custodian.Ciphertext, custodian.Ciphertext) {
	t.Helper()
	ctx := context.Background()
	kms, err := custodian.New(custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kms.Close() })
	if _, err := kms.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	a, _ := kms.Encrypt(ctx, "k", []byte("one"), nil)
	b, _ := kms.Encrypt(ctx, "k", []byte("two"), nil)
	return a, b
}

func TestWire(t *testing.T) {
	ct1, ct2 := testCiphertext(t)
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	key := &api.Key{
		ID: "0123456789abcdef01234567", Name: "team/payments", Type: custodian.AES256GCM, Usage: custodian.UsageEncrypt,
		Description: "d", Labels: map[string]string{"env": "prod"}, Exportable: true, State: custodian.StateEnabled,
		Created: created, Updated: created, PrimaryVersion: 1, LatestVersion: 1, MinDecryptionVersion: 1,
		RotationPeriod: api.Duration(90 * 24 * time.Hour),
		Versions:       []custodian.VersionInfo{{Version: 1, Created: created, State: custodian.VersionEnabled}},
	}
	wantKey := func(t *testing.T, got any) {
		t.Helper()
		if !reflect.DeepEqual(got, key.ToKey()) {
			t.Errorf("key = %+v\nwant %+v", got, key.ToKey())
		}
	}
	equal := func(want any) func(*testing.T, any) {
		return func(t *testing.T, got any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("result = %#v, want %#v", got, want)
			}
		}
	}
	sameSecret := func(want string) func(*testing.T, any) {
		return func(t *testing.T, got any) {
			t.Helper()
			if s, ok := got.(custodian.Secret); !ok || string(custodian.Reveal(s)) != want {
				t.Errorf("secret = %v (%T), want %q", got, got, want)
			}
		}
	}
	desc, minv, period := "new", 2, 48*time.Hour
	apiPeriod := api.Duration(period)
	empty := ""

	cases := []wireCase{
		{name: "CreateKey", route: api.RouteCreateKey, reply: key,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateKey(ctx, "team/payments", &custodian.CreateOptions{Type: custodian.AES256GCM, Description: "d",
					Labels: map[string]string{"env": "prod"}, Exportable: true, RotationPeriod: 90 * 24 * time.Hour})
			},
			wantBody: api.CreateKeyRequest{Name: "team/payments", Type: custodian.AES256GCM, Description: "d",
				Labels: map[string]string{"env": "prod"}, Exportable: true, RotationPeriod: api.Duration(90 * 24 * time.Hour)},
			check: wantKey},
		{name: "CreateKey nil options", route: api.RouteCreateKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.CreateKey(ctx, "k", nil) },
			wantBody: api.CreateKeyRequest{Name: "k"}, check: wantKey},
		{name: "ImportKey", route: api.RouteImportKey, reply: key,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ImportKey(ctx, "team/payments", []byte("material"), &custodian.CreateOptions{Type: custodian.AES256CBC})
			},
			wantName: "team/payments",
			wantBody: api.ImportKeyRequest{Material: []byte("material"), CreateKeyRequest: api.CreateKeyRequest{Name: "team/payments", Type: custodian.AES256CBC}},
			check:    wantKey},
		{name: "GetKey", route: api.RouteGetKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.GetKey(ctx, "team/payments") },
			wantName: "team/payments", check: wantKey},
		{name: "ListKeys", route: api.RouteListKeys, reply: api.ListKeysResponse{Keys: []*api.Key{key, key}, NextPageToken: "next"},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListKeys(ctx, &custodian.ListOptions{Prefix: "team/", PageToken: "tok&=", PageSize: 2})
			},
			wantQuery: "page_size=2&page_token=tok%26%3D&prefix=team%2F",
			check:     equal(&custodian.KeyPage{Keys: []*custodian.Key{key.ToKey(), key.ToKey()}, NextPageToken: "next"})},
		{name: "ListKeys empty", route: api.RouteListKeys, reply: api.ListKeysResponse{Keys: []*api.Key{}},
			call:  func(ctx context.Context, c *client.Client) (any, error) { return c.ListKeys(ctx, nil) },
			check: equal(&custodian.KeyPage{})},
		{name: "UpdateKey", route: api.RouteUpdateKey, reply: key,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateKey(ctx, "k", custodian.KeyUpdate{Description: &desc, MinDecryptionVersion: &minv, RotationPeriod: &period})
			},
			wantName: "k", wantBody: api.UpdateKeyRequest{Description: &desc, MinDecryptionVersion: &minv, RotationPeriod: &apiPeriod},
			check: wantKey},
		{name: "UpdateKey clears labels and description", route: api.RouteUpdateKey, reply: key,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.UpdateKey(ctx, "k", custodian.KeyUpdate{Description: &empty, Labels: map[string]string{}})
			},
			// Compared as JSON: "labels": {} must be sent.
			wantName: "k", wantBody: map[string]any{"description": "", "labels": map[string]any{}}, check: wantKey},
		{name: "RotateKey", route: api.RouteRotateKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.RotateKey(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "EnableKey", route: api.RouteEnableKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.EnableKey(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "DisableKey", route: api.RouteDisableKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.DisableKey(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "RevokeKey", route: api.RouteRevokeKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.RevokeKey(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "InvalidateKey", route: api.RouteRevokeKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.InvalidateKey(ctx, "k") },
			wantName: "k", check: equal("Key Revocation Successful")},
		{name: "ScheduleKeyDeletion", route: api.RouteScheduleDel, reply: key,
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ScheduleKeyDeletion(ctx, "k", 7*24*time.Hour)
			},
			wantName: "k", wantBody: api.ScheduleDeletionRequest{PendingDays: 7}, check: wantKey},
		{name: "ScheduleKeyDeletion default", route: api.RouteScheduleDel, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.ScheduleKeyDeletion(ctx, "k", 0) },
			wantName: "k", wantBody: api.ScheduleDeletionRequest{}, check: wantKey},
		{name: "CancelKeyDeletion", route: api.RouteCancelDel, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.CancelKeyDeletion(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "DestroyKey", route: api.RouteDestroyKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.DestroyKey(ctx, "k") },
			wantName: "k", check: wantKey},
		{name: "PublicKey", route: api.RoutePublicKey, reply: api.PublicKeyResponse{Format: custodian.DER, PublicKey: []byte("spki")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.PublicKey(ctx, "k", &custodian.PublicKeyOptions{Format: custodian.DER, Version: 3})
			},
			wantName: "k", wantQuery: "format=der&version=3", check: equal([]byte("spki"))},
		{name: "PublicKey default", route: api.RoutePublicKey, reply: api.PublicKeyResponse{Format: custodian.PEM, PublicKey: []byte("pem")},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.PublicKey(ctx, "k", nil) },
			wantName: "k", check: equal([]byte("pem"))},
		{name: "ExportKey", route: api.RouteExportKey, reply: api.ExportKeyResponse{Material: []byte("key bytes")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ExportKey(ctx, "k", &custodian.ExportOptions{Version: 2})
			},
			wantName: "k", wantBody: api.ExportKeyRequest{Version: 2}, check: sameSecret("key bytes")},
		{name: "ExportKey nil options", route: api.RouteExportKey, reply: api.ExportKeyResponse{Material: []byte("key bytes")},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.ExportKey(ctx, "k", nil) },
			wantName: "k", wantBody: api.ExportKeyRequest{}, check: sameSecret("key bytes")},

		{name: "Encrypt", route: api.RouteEncrypt, reply: api.EncryptResponse{Ciphertext: ct1.String()},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Encrypt(ctx, "k", []byte("pt"), &custodian.EncryptOptions{AssociatedData: []byte("aad"), Algorithm: custodian.AlgAES256GCM})
			},
			wantName: "k", wantBody: api.EncryptRequest{Plaintext: []byte("pt"), AssociatedData: []byte("aad"), Algorithm: custodian.AlgAES256GCM, Format: api.FormatText},
			check: equal(ct1)},
		{name: "Decrypt", route: api.RouteDecrypt, reply: api.DecryptResponse{Plaintext: []byte("pt")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Decrypt(ctx, ct1, &custodian.DecryptOptions{AssociatedData: []byte("aad"), Key: "k"})
			},
			wantBody: api.DecryptRequest{Ciphertext: ct1.String(), Key: "k", AssociatedData: []byte("aad")}, check: equal([]byte("pt"))},
		{name: "EncryptRaw", route: api.RouteEncrypt, reply: api.EncryptResponse{Raw: []byte("raw")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.EncryptRaw(ctx, "k", []byte("pt"), &custodian.RawOptions{Algorithm: custodian.AlgRSAPKCS1v15, Version: 2})
			},
			wantName: "k", wantBody: api.EncryptRequest{Plaintext: []byte("pt"), Algorithm: custodian.AlgRSAPKCS1v15, Format: api.FormatRaw, Version: 2},
			check: equal([]byte("raw"))},
		{name: "DecryptRaw", route: api.RouteDecryptKey, reply: api.DecryptResponse{Plaintext: []byte("pt")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DecryptRaw(ctx, "k", []byte("raw"), &custodian.RawOptions{AssociatedData: []byte("a"), Algorithm: custodian.AlgAES256CBC, Version: 1})
			},
			wantName: "k", wantBody: api.DecryptRequest{Raw: []byte("raw"), Format: api.FormatRaw, AssociatedData: []byte("a"), Algorithm: custodian.AlgAES256CBC, Version: 1},
			check: equal([]byte("pt"))},
		{name: "Rewrap", route: api.RouteRewrap, reply: api.RewrapResponse{Ciphertext: ct2.String()},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Rewrap(ctx, ct1, &custodian.RewrapOptions{AssociatedData: []byte("a"), Key: "k"})
			},
			wantBody: api.RewrapRequest{Ciphertext: ct1.String(), Key: "k", AssociatedData: []byte("a")}, check: equal(ct2)},
		{name: "EncryptDataAES", route: api.RouteEncrypt, reply: api.EncryptResponse{Raw: []byte("iv and ciphertext")},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.EncryptDataAES(ctx, "k", "hello") },
			wantName: "k", wantBody: api.EncryptRequest{Plaintext: []byte("hello"), Algorithm: custodian.AlgAES256CBC, Format: api.FormatRaw},
			check: equal(base64.StdEncoding.EncodeToString([]byte("iv and ciphertext")))},
		{name: "DecryptDataRSA", route: api.RouteDecryptKey, reply: api.DecryptResponse{Plaintext: []byte("hello")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DecryptDataRSA(ctx, "u", base64.StdEncoding.EncodeToString([]byte("rsa")))
			},
			wantName: "u", wantBody: api.DecryptRequest{Raw: []byte("rsa"), Format: api.FormatRaw, Algorithm: custodian.AlgRSAPKCS1v15},
			check: equal("hello")},
		{name: "EstablishAESKey", route: api.RouteCreateKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.EstablishAESKey(ctx, "id") },
			wantBody: api.CreateKeyRequest{Name: "id", Type: custodian.AES256CBC, Description: "seed establish_aes_key"}, check: wantKey},
		{name: "GenerateRSAPair", route: api.RouteCreateKey, reply: key,
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.GenerateRSAPair(ctx, "user") },
			wantBody: api.CreateKeyRequest{Name: "user", Type: custodian.RSA2048, Description: "seed generate_rsa_pair"}, check: wantKey},
		{name: "GenerateDataKey", route: api.RouteDataKey, reply: api.DataKeyResponse{Plaintext: []byte("dk"), Ciphertext: ct1.String()},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				dk, err := c.GenerateDataKey(ctx, "k", &custodian.DataKeyOptions{Bytes: 16, AssociatedData: []byte("a")})
				if err != nil {
					return nil, err
				}
				return []any{string(custodian.Reveal(dk.Plaintext)), dk.Ciphertext}, nil
			},
			wantName: "k", wantBody: api.DataKeyRequest{Bytes: 16, AssociatedData: []byte("a")}, check: equal([]any{"dk", ct1})},
		{name: "GenerateDataKeyWithoutPlaintext", route: api.RouteDataKey, reply: api.DataKeyResponse{Ciphertext: ct1.String()},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GenerateDataKeyWithoutPlaintext(ctx, "k", nil)
			},
			wantName: "k", wantBody: api.DataKeyRequest{NoPlaintext: true}, check: equal(ct1)},

		{name: "Sign", route: api.RouteSign, reply: api.SignResponse{Signature: []byte("sig"), KeyVersion: 2, Algorithm: custodian.AlgEd25519},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Sign(ctx, "k", []byte("m"), &custodian.SignOptions{Algorithm: custodian.AlgECDSASHA256, Digest: true, Version: 2})
			},
			wantName: "k", wantBody: api.SignRequest{Message: []byte("m"), Digest: true, Algorithm: custodian.AlgECDSASHA256, Version: 2},
			check: equal(&custodian.Signature{Signature: []byte("sig"), KeyVersion: 2, Algorithm: custodian.AlgEd25519})},
		{name: "Verify", route: api.RouteVerify, reply: api.VerifyResponse{Valid: true},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.Verify(ctx, "k", []byte("m"), []byte("sig"), &custodian.SignOptions{Version: 1})
			},
			wantName: "k", wantBody: api.SignRequest{Message: []byte("m"), Signature: []byte("sig"), Version: 1}},
		{name: "MAC", route: api.RouteMAC, reply: api.MACResponse{MAC: []byte("tag"), KeyVersion: 1, Algorithm: custodian.AlgHMACSHA256},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.MAC(ctx, "k", []byte("m"), nil) },
			wantName: "k", wantBody: api.MACRequest{Message: []byte("m")},
			check: equal(&custodian.MAC{MAC: []byte("tag"), KeyVersion: 1, Algorithm: custodian.AlgHMACSHA256})},
		{name: "VerifyMAC", route: api.RouteVerifyMAC, reply: api.VerifyResponse{Valid: true},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.VerifyMAC(ctx, "k", []byte("m"), []byte("tag"), &custodian.MACOptions{Version: 2})
			},
			wantName: "k", wantBody: api.MACRequest{Message: []byte("m"), MAC: []byte("tag"), Version: 2}},
		{name: "Agree", route: api.RouteAgree, reply: api.AgreeResponse{SharedSecret: []byte("shared")},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Agree(ctx, "k", []byte("peer"), &custodian.AgreeOptions{Version: 1})
			},
			wantName: "k", wantBody: api.AgreeRequest{Peer: []byte("peer"), Version: 1}, check: sameSecret("shared")},
		{name: "DeriveKey", route: api.RouteAgree, reply: api.AgreeResponse{Key: key},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.DeriveKey(ctx, "k", []byte("peer"), "derived", &custodian.DeriveOptions{Salt: []byte("s"), Info: []byte("i"),
					Key: custodian.CreateOptions{Description: "from agreement", Exportable: true}})
			},
			wantName: "k",
			wantBody: api.AgreeRequest{Peer: []byte("peer"), DeriveKey: &api.DeriveKeyParams{Name: "derived", Salt: []byte("s"), Info: []byte("i"),
				CreateKeyRequest: api.CreateKeyRequest{Description: "from agreement", Exportable: true}}},
			check: wantKey},
		{name: "Random", route: api.RouteRandom, reply: api.RandomResponse{Random: []byte("0123")},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.Random(ctx, 4) },
			wantBody: api.RandomRequest{Bytes: 4}, check: equal([]byte("0123"))},

		{name: "SealStatus", route: api.RouteSealStatus, reply: custodian.Status{Initialized: true, Sealed: true, SealType: "shamir", Shares: 5, Threshold: 3, Progress: 1},
			call:  func(ctx context.Context, c *client.Client) (any, error) { return c.SealStatus(ctx) },
			check: equal(&custodian.Status{Initialized: true, Sealed: true, SealType: "shamir", Shares: 5, Threshold: 3, Progress: 1})},
		{name: "Health", route: api.RouteHealth, reply: api.HealthResponse{Initialized: true, Version: "v1"},
			call:  func(ctx context.Context, c *client.Client) (any, error) { return c.Health(ctx) },
			check: equal(&api.HealthResponse{Initialized: true, Version: "v1"})},
		{name: "Unseal", route: api.RouteUnseal, reply: custodian.Status{Initialized: true, Sealed: true, Threshold: 3, Progress: 2},
			call:     func(ctx context.Context, c *client.Client) (any, error) { return c.Unseal(ctx, []byte("kcshare1:abc")) },
			wantBody: api.UnsealRequest{Share: "kcshare1:abc"},
			check:    equal(&custodian.Status{Initialized: true, Sealed: true, Threshold: 3, Progress: 2})},
		{name: "Seal", route: api.RouteSeal, reply: custodian.Status{Initialized: true, Sealed: true},
			call: func(ctx context.Context, c *client.Client) (any, error) { return nil, c.Seal(ctx) }},
		{name: "Init", route: api.RouteInit, reply: api.InitResponse{Shares: []string{"s1", "s2"}, Threshold: 2, RootToken: "kct1.tok"},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				res, err := c.Init(ctx, custodian.InitOptions{Shares: 2, Threshold: 2})
				if err != nil {
					return nil, err
				}
				return []string{string(custodian.Reveal(res.Shares[0])), string(custodian.Reveal(res.Shares[1])),
					string(custodian.Reveal(res.RootToken)), string(rune('0' + res.Threshold))}, nil
			},
			wantBody: api.InitRequest{Shares: 2, Threshold: 2}, check: equal([]string{"s1", "s2", "kct1.tok", "2"})},
		{name: "Rekey", route: api.RouteRekey, reply: api.RekeyResponse{Shares: []string{"n1", "n2", "n3"}, Threshold: 2},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				res, err := c.Rekey(ctx, custodian.RekeyOptions{Shares: [][]byte{[]byte("o1"), []byte("o2")}, NewShares: 3, NewThreshold: 2})
				if err != nil {
					return nil, err
				}
				return []any{len(res.Shares), string(custodian.Reveal(res.Shares[2])), res.Threshold, res.RootToken.IsZero()}, nil
			},
			wantBody: api.RekeyRequest{Shares: []string{"o1", "o2"}, NewShares: 3, NewThreshold: 2}, check: equal([]any{3, "n3", 2, true})},
		{name: "RotateRoot", route: api.RouteRotateRoot, reply: api.RekeyResponse{ActiveTerm: 4, Resealed: 17},
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RotateRoot(ctx, custodian.RotateRootOptions{})
			},
			wantBody: api.RekeyRequest{}, check: equal(&custodian.RootRotation{ActiveTerm: 4, Resealed: 17})},
		{name: "RotateDueKeys", route: api.RouteRotateDueKeys, reply: api.RotateDueKeysResponse{Rotated: 3},
			call:  func(ctx context.Context, c *client.Client) (any, error) { return c.RotateDueKeys(ctx) },
			check: equal(3)},
	}

	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.reply(tc.route, tc.reply)
			got, err := tc.call(ctx, c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := f.seen()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			req := reqs[0]
			if req.Route != tc.route {
				t.Fatalf("route %s, want %s", req.Route, tc.route)
			}
			if req.Name != tc.wantName {
				t.Errorf("name %q, want %q", req.Name, tc.wantName)
			}
			if req.Query != tc.wantQuery {
				t.Errorf("query %q, want %q", req.Query, tc.wantQuery)
			}
			checkBody(t, req, tc.wantBody)
			checkHeaders(t, req)
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// checkBody checks that a request has no body when none is wanted, and
// otherwise one that decodes strictly into the wanted type and holds the
// wanted values.
func checkBody(t *testing.T, req recorded, want any) {
	t.Helper()
	if want == nil {
		if len(req.Body) != 0 {
			t.Errorf("body %s, want none (the server refuses a body on a route without one)", req.Body)
		}
		return
	}
	if _, isMap := want.(map[string]any); !isMap {
		v := reflect.New(reflect.TypeOf(want))
		decodeStrict(t, req.Body, v.Interface())
	}
	if !sameJSON(t, req.Body, want) {
		b, _ := jsonMarshal(want)
		t.Errorf("body %s\nwant %s", req.Body, b)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// checkHeaders checks the token goes to non-public routes only, and the
// user agent and request id are set.
func checkHeaders(t *testing.T, req recorded) {
	t.Helper()
	auth := req.Header.Get("Authorization")
	if api.RouteByName(req.Route).Public {
		if auth != "" {
			t.Errorf("Authorization %q sent to the public route %s", auth, req.Route)
		}
	} else if auth != "Bearer "+testToken {
		t.Errorf("Authorization %q, want the bearer token", auth)
	}
	if ua := req.Header.Get("User-Agent"); ua != client.DefaultUserAgent {
		t.Errorf("User-Agent %q", ua)
	}
	if id := req.Header.Get(api.HeaderRequestID); len(id) != 16 {
		t.Errorf("X-Request-Id %q, want 16 hex digits", id)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// TestWireBatch checks batch requests and per-item results: ciphertexts,
// plaintexts and errors that match their sentinel.
func TestWireBatch(t *testing.T) {
	ct1, ct2 := testCiphertext(t)
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	ctx := context.Background()

	f.reply(api.RouteEncryptBatch, api.BatchEncryptResponse{Results: []api.BatchEncryptResult{
		{Ciphertext: ct1.String()},
		{Error: &api.ErrorDetail{Code: "key_revoked", Message: `encrypt "gone": key is revoked`}},
	}})
	res, err := c.EncryptBatch(ctx, []custodian.BatchEncryptItem{
		{Key: "a", Plaintext: []byte("x"), AssociatedData: []byte("ad"), Algorithm: custodian.AlgAES256GCM},
		{Key: "gone", Plaintext: []byte("y")},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := f.seen()[0]
	checkBody(t, req, api.BatchEncryptRequest{Items: []api.BatchEncryptItem{
		{Key: "a", Plaintext: []byte("x"), AssociatedData: []byte("ad"), Algorithm: custodian.AlgAES256GCM},
		{Key: "gone", Plaintext: []byte("y")},
	}})
	if !bytes.Equal(res[0].Ciphertext, ct1) || res[0].Err != nil {
		t.Errorf("item 0 = %v, %v", res[0].Ciphertext, res[0].Err)
	}
	checkItemError(t, res[1].Err, "key_revoked", http.StatusConflict, custodian.ErrKeyRevoked)
	if res[1].Ciphertext != nil {
		t.Errorf("item 1 has a ciphertext beside its error")
	}

	f.reply(api.RouteDecryptBatch, api.BatchDecryptResponse{Results: []api.BatchDecryptResult{
		{Error: &api.ErrorDetail{Code: "invalid_ciphertext", Message: "decrypt: invalid ciphertext"}},
		{Plaintext: []byte("two")},
		{}, // an empty plaintext, dropped by omitempty
	}})
	dres, err := c.DecryptBatch(ctx, []custodian.BatchDecryptItem{
		{Ciphertext: ct1, Key: "k"}, {Ciphertext: ct2, AssociatedData: []byte("ad")}, {Ciphertext: ct2},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, f.seen()[0], api.BatchDecryptRequest{Items: []api.BatchDecryptItem{
		{Ciphertext: ct1.String(), Key: "k"}, {Ciphertext: ct2.String(), AssociatedData: []byte("ad")}, {Ciphertext: ct2.String()},
	}})
	checkItemError(t, dres[0].Err, "invalid_ciphertext", http.StatusBadRequest, custodian.ErrInvalidCiphertext)
	if string(dres[1].Plaintext) != "two" || dres[1].Err != nil {
		t.Errorf("item 1 = %q, %v", dres[1].Plaintext, dres[1].Err)
	}
	if dres[2].Plaintext == nil || len(dres[2].Plaintext) != 0 || dres[2].Err != nil {
		t.Errorf("item 2 = %#v, %v; want an empty plaintext", dres[2].Plaintext, dres[2].Err)
	}

	// A result count that does not match is the server's fault, not a
	// silently shorter slice.
	f.reply(api.RouteDecryptBatch, api.BatchDecryptResponse{Results: []api.BatchDecryptResult{{Plaintext: []byte("x")}}})
	if _, err := c.DecryptBatch(ctx, []custodian.BatchDecryptItem{{Ciphertext: ct1}, {Ciphertext: ct2}}); !errors.Is(err, client.ErrBadResponse) {
		t.Errorf("short results: %v, want ErrBadResponse", err)
	}
	// The batch itself refused.
	f.fail(api.RouteEncryptBatch, http.StatusBadRequest, "invalid_argument", "20000 items, at most 1000 per batch on this server")
	if _, err := c.EncryptBatch(ctx, make([]custodian.BatchEncryptItem, 2)); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Errorf("refused batch: %v", err)
	}
}

func checkItemError(t *testing.T, err error, code string, status int, sentinel error) {
	t.Helper()
	var re *api.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("item error %v (%T) is not an *api.RemoteError", err, err)
	}
	if re.Code != code || re.Status != status || re.RequestID == "" {
		t.Errorf("item error = %+v, want code %s status %d and a request id", re, code, status)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("item error %v does not match %v", err, sentinel)
	}
}

// TestWireStreams checks Backup and Restore: the body streams both ways,
// restore's shares travel in their header, and neither needs the client to
// hold the whole file.
func TestWireStreams(t *testing.T) {
	f := newFake(t)
	c := f.client(client.Options{Token: testToken})
	ctx := context.Background()
	backup := bytes.Repeat([]byte("backup chunk "), 100000)

	f.handle(api.RouteBackup, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(backup)
	})
	var buf bytes.Buffer
	n, err := c.Backup(ctx, &buf)
	if err != nil || n != int64(len(backup)) || !bytes.Equal(buf.Bytes(), backup) {
		t.Fatalf("Backup = %d, %v; %d bytes arrived, want %d", n, err, buf.Len(), len(backup))
	}
	req := f.seen()[0]
	checkHeaders(t, req)
	if len(req.Body) != 0 {
		t.Errorf("backup request has a body")
	}

	f.reply(api.RouteRestore, api.RestoreResponse{Meta: 2, Keys: 40})
	res, err := c.Restore(ctx, bytes.NewReader(backup), [][]byte{[]byte("kcshare1:a\n"), []byte("kcshare1:b")})
	if err != nil || *res != (custodian.BackupResult{Meta: 2, Keys: 40}) {
		t.Fatalf("Restore = %+v, %v", res, err)
	}
	req = f.seen()[0]
	checkHeaders(t, req)
	if !bytes.Equal(req.Body, backup) {
		t.Errorf("restore sent %d bytes, want the %d of the backup", len(req.Body), len(backup))
	}
	if got := req.Header.Get(api.HeaderShares); got != "kcshare1:a,kcshare1:b" {
		t.Errorf("%s: %q", api.HeaderShares, got)
	}

	// A backup cut short (the server aborts the stream when the backup
	// fails midway) is an error, not a short file that looks whole.
	f.handle(api.RouteBackup, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(backup[:1000])
		panic(http.ErrAbortHandler)
	})
	buf.Reset()
	if _, err := c.Backup(ctx, &buf); err == nil {
		t.Errorf("a truncated backup succeeded")
	} else if n := len(f.seen()); n != 1 {
		t.Errorf("backup sent %d times; it is never retried", n)
	}
	// The caller's writer failing is its own error.
	f.handle(api.RouteBackup, func(w http.ResponseWriter, r *http.Request) { w.Write(backup) })
	errFull := errors.New("disk full")
	if _, err := c.Backup(ctx, failingWriter{errFull}); !errors.Is(err, errFull) {
		t.Errorf("Backup to a failing writer: %v", err)
	}
	// A share with a comma would split in the header.
	if _, err := c.Restore(ctx, strings.NewReader("x"), [][]byte{[]byte("a,b")}); !errors.Is(err, custodian.ErrInvalidShares) {
		t.Errorf("share with a comma: %v", err)
	}
	if reqs := f.seen(); len(reqs) != 1 { // the failing-writer backup only
		t.Errorf("%d requests; the bad share must not be sent", len(reqs))
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
