package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// routePath fills a route's {name} wildcard.
func routePath(r api.Route, name string) string {
	return strings.ReplaceAll(r.Path, "{name}", name)
}

// TestSealedRefusals: while sealed, every route that needs a token is 503
// "sealed" (with a token or without), health is 503 with its body, and
// seal status answers.
func TestSealedRefusals(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", "", false)
	var st custodian.Status
	ts.post("/v1/sys/seal", nil, &st)
	if !st.Sealed {
		t.Fatal("not sealed")
	}
	for _, r := range api.Routes {
		if r.Public {
			continue
		}
		for _, auth := range []bool{true, false} {
			var body any
			if r.BodyLimit > 0 {
				body = "{}"
			}
			res := ts.do(call{method: r.Method, path: routePath(r, "k"), body: body, noAuth: !auth})
			d := wantError(t, res, "sealed")
			if !strings.Contains(d.Message, "sealed") {
				t.Errorf("%s: message %q", r.Name, d.Message)
			}
		}
	}

	res := ts.do(call{method: "GET", path: "/v1/sys/health", noAuth: true})
	var h api.HealthResponse
	if err := json.Unmarshal(res.Body, &h); err != nil || res.Code != http.StatusServiceUnavailable || !h.Initialized || !h.Sealed || h.Version != "test-version" {
		t.Fatalf("sealed health: HTTP %d %s", res.Code, res.Body)
	}
	ts.do(call{method: "GET", path: "/v1/sys/seal-status", noAuth: true}).decode(t, &st)
	if !st.Initialized || !st.Sealed {
		t.Fatalf("sealed status: %+v", st)
	}
	// Metrics still answer, without key counts.
	m := ts.do(call{method: "GET", path: "/metrics", noAuth: true})
	if m.Code != http.StatusOK || !strings.Contains(string(m.Body), "custodian_sealed 1") || strings.Contains(string(m.Body), "custodian_keys{") {
		t.Fatalf("sealed metrics: HTTP %d\n%s", m.Code, m.Body)
	}

	// A key-file seal unseals with no share, and the token works again.
	ts.do(call{method: "POST", path: "/v1/sys/unseal", noAuth: true, body: "{}"}).decode(t, &st)
	if st.Sealed {
		t.Fatal("still sealed")
	}
	ts.get("/v1/keys/k", &api.Key{})
}

// TestAuth: every route that needs a token refuses a missing, malformed or
// wrong one with 401 and an error body, before reading the body.
func TestAuth(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	ts.createKey("k", "", false)
	wrong := ts.token[:len(ts.token)-1] + "A"
	if wrong == ts.token {
		wrong = ts.token[:len(ts.token)-1] + "B"
	}
	for _, r := range api.Routes {
		if r.Public {
			continue
		}
		for name, hdr := range map[string]map[string]string{
			"missing":     {},
			"wrong":       {"Authorization": "Bearer " + wrong},
			"empty":       {"Authorization": "Bearer "},
			"basic":       {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+ts.token))},
			"no scheme":   {"Authorization": ts.token},
			"other token": {"Authorization": "Bearer kct1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		} {
			// A body that would be refused if read: auth comes first.
			res := ts.do(call{method: r.Method, path: routePath(r, "k"), body: "not json", noAuth: true, header: hdr})
			wantError(t, res, "unauthorized")
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", r.Name, name)
			}
		}
	}
	// Public routes need none.
	for _, p := range []string{"/v1/sys/health", "/v1/sys/seal-status", "/v1/openapi.json", "/metrics"} {
		if res := ts.do(call{method: "GET", path: p, noAuth: true}); res.Code != http.StatusOK {
			t.Errorf("GET %s without a token: HTTP %d", p, res.Code)
		}
	}
	// The scheme is case-insensitive (RFC 9110).
	res := ts.do(call{method: "GET", path: "/v1/keys/k", noAuth: true, header: map[string]string{"Authorization": "bearer " + ts.token}})
	if res.Code != http.StatusOK {
		t.Fatalf("lowercase scheme: HTTP %d %s", res.Code, res.Body)
	}
}

// TestRequestID: a sane incoming id is kept, anything else replaced by a
// fresh one, on successes and errors alike.
func TestRequestID(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	fresh := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for given, keep := range map[string]bool{
		"":                      false,
		"abc-DEF_123":           true,
		strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false,
		"../../etc/passwd":      false,
		"a b":                   false,
		"ünï":                   false,
		"id\r\nX-Evil: 1":       false,
	} {
		for _, path := range []string{"/v1/sys/health", "/v1/nowhere"} {
			res := ts.do(call{method: "GET", path: path, header: map[string]string{api.HeaderRequestID: given}})
			got := res.Header.Get(api.HeaderRequestID)
			switch {
			case keep && got != given:
				t.Errorf("%s: id %q replaced by %q", path, given, got)
			case !keep && !fresh.MatchString(got):
				t.Errorf("%s: id %q gave %q, want 32 hex digits", path, given, got)
			}
		}
	}
	a := ts.do(call{method: "GET", path: "/v1/sys/health"}).Header.Get(api.HeaderRequestID)
	b := ts.do(call{method: "GET", path: "/v1/sys/health"}).Header.Get(api.HeaderRequestID)
	if a == b {
		t.Fatal("two requests got the same id")
	}
}

// TestLogsHoldNoSecrets drives requests that carry a token, plaintexts,
// data keys, exported material and shares, and checks that the log has a
// line per request and none of those.
func TestLogsHoldNoSecrets(t *testing.T) {
	ts := newShamirServer(t)
	var ini api.InitResponse
	ts.do(call{method: "POST", path: "/v1/sys/init", noAuth: true, body: api.InitRequest{Shares: 2, Threshold: 2}}).decode(t, &ini)
	ts.token = ini.RootToken
	for _, sh := range ini.Shares {
		ts.do(call{method: "POST", path: "/v1/sys/unseal", noAuth: true, body: api.UnsealRequest{Share: sh}}).decode(t, &custodian.Status{})
	}
	ts.createKey("k", "", true)
	plaintext := "attack at dawn, the password is hunter2"
	var enc api.EncryptResponse
	ts.post("/v1/keys/k/encrypt", api.EncryptRequest{Plaintext: []byte(plaintext)}, &enc)
	var dec api.DecryptResponse
	ts.post("/v1/decrypt", api.DecryptRequest{Ciphertext: enc.Ciphertext}, &dec)
	var dk api.DataKeyResponse
	ts.post("/v1/keys/k/datakey", map[string]any{}, &dk)
	var exp api.ExportKeyResponse
	ts.post("/v1/keys/k/export", map[string]any{}, &exp)
	// Failures too: a wrong token, a bad body quoting a secret.
	ts.do(call{method: "GET", path: "/v1/keys/k", token: ts.token + "x"})
	ts.do(call{method: "POST", path: "/v1/keys/k/encrypt", body: `{"plaintext":"` + plaintext + `"}`})
	ts.do(call{method: "POST", path: "/v1/random", body: `{"bytes":"` + plaintext + `"}`})

	logs := ts.log.String()
	lines := strings.Count(logs, `"msg":"request"`)
	if lines != 11 {
		t.Errorf("%d request log lines, want 11:\n%s", lines, logs)
	}
	b64 := base64.StdEncoding.EncodeToString
	for what, secret := range map[string]string{
		"token": ini.RootToken, "token body": strings.TrimPrefix(ini.RootToken, "kct1."),
		"share 0": ini.Shares[0], "share 1": ini.Shares[1],
		"plaintext": plaintext, "plaintext b64": b64([]byte(plaintext)), "hunter2": "hunter2",
		"data key": b64(dk.Plaintext), "material": b64(exp.Material),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", what)
		}
	}
	for _, want := range []string{`"route":"keys.encrypt"`, `"key":"k"`, `"code":"unauthorized"`, `"status":401`, `"request_id":"`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}
