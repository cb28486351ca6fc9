package server_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/server"
)

// librarySentinels is every sentinel of the root package's errors.go, by
// name. TestEverySentinelHasACode parses errors.go, so a new sentinel
// fails the test until it is listed here and given a row in api.Codes.
var librarySentinels = map[string]error{
	"ErrKeyNotFound":          custodian.ErrKeyNotFound,
	"ErrKeyExists":            custodian.ErrKeyExists,
	"ErrKeyDisabled":          custodian.ErrKeyDisabled,
	"ErrKeyRevoked":           custodian.ErrKeyRevoked,
	"ErrKeyPendingDeletion":   custodian.ErrKeyPendingDeletion,
	"ErrKeyDestroyed":         custodian.ErrKeyDestroyed,
	"ErrInvalidKeyState":      custodian.ErrInvalidKeyState,
	"ErrKeyVersionNotAllowed": custodian.ErrKeyVersionNotAllowed,
	"ErrInvalidCiphertext":    custodian.ErrInvalidCiphertext,
	"ErrInvalidSignature":     custodian.ErrInvalidSignature,
	"ErrInvalidMAC":           custodian.ErrInvalidMAC,
	"ErrUnsupportedOperation": custodian.ErrUnsupportedOperation,
	"ErrInvalidArgument":      custodian.ErrInvalidArgument,
	"ErrSealed":               custodian.ErrSealed,
	"ErrNotInitialized":       custodian.ErrNotInitialized,
	"ErrAlreadyInitialized":   custodian.ErrAlreadyInitialized,
	"ErrInvalidShares":        custodian.ErrInvalidShares,
	"ErrIntegrity":            custodian.ErrIntegrity,
	"ErrInvalidToken":         custodian.ErrInvalidToken,
	"ErrClosed":               custodian.ErrClosed,
}

func TestEverySentinelHasACode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
					declared = append(declared, n.Name)
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no sentinels in errors.go")
	}
	for _, name := range declared {
		if _, ok := librarySentinels[name]; !ok {
			t.Errorf("errors.go declares %s; list it in librarySentinels and give it a row in api.Codes", name)
		}
	}
	for name, sentinel := range librarySentinels {
		if !slices.Contains(declared, name) {
			t.Errorf("librarySentinels lists %s, which errors.go no longer declares", name)
		}
		row := api.CodeFor(sentinel)
		if row.Err != sentinel {
			t.Errorf("%s maps to code %q (for %v): it has no row of its own, or a row above shadows it", name, row.Code, row.Err)
		}
		if api.ErrorFor(row.Code) != sentinel {
			t.Errorf("code %q maps back to %v, not %s", row.Code, api.ErrorFor(row.Code), name)
		}
	}
	// Codes are unique, and every status is an error status.
	seen := map[string]bool{}
	for _, c := range api.Codes {
		if seen[c.Code] {
			t.Errorf("code %q twice", c.Code)
		}
		seen[c.Code] = true
		if c.Status < 400 || http.StatusText(c.Status) == "" {
			t.Errorf("code %q has status %d", c.Code, c.Status)
		}
	}
	// A state error matches its own sentinel, not the general one.
	stateErr := &custodian.Error{Op: "encrypt", Key: "k", Err: errors.Join(custodian.ErrKeyDisabled, custodian.ErrInvalidKeyState)}
	if c := api.CodeFor(stateErr); c.Code != "key_disabled" {
		t.Errorf("a disabled-key error maps to %q", c.Code)
	}
}

// TestOpenAPIListsEveryRoute checks the served document against the route
// table: each route under its path and method, with its name, summary and
// security, and every schema reference resolving.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	ts := newTestServer(t, server.Options{})
	res := ts.do(call{method: "GET", path: "/v1/openapi.json", noAuth: true})
	if res.Code != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d %s", res.Code, res.Header.Get("Content-Type"))
	}
	type operation struct {
		OperationID string                `json:"operationId"`
		Summary     string                `json:"summary"`
		Security    []map[string][]string `json:"security"`
		Parameters  []struct {
			Name, In string
		} `json:"parameters"`
		RequestBody *struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"requestBody"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	var doc struct {
		OpenAPI    string                          `json:"openapi"`
		Paths      map[string]map[string]operation `json:"paths"`
		Components struct {
			Schemas         map[string]json.RawMessage `json:"schemas"`
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok {
		t.Fatal("no bearer security scheme")
	}
	ops := 0
	for _, p := range doc.Paths {
		ops += len(p)
	}
	if ops != len(api.Routes) {
		t.Errorf("%d operations in the document, %d routes in the table", ops, len(api.Routes))
	}
	for _, r := range api.Routes {
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s (%s) is not in the document", r.Name, r.Pattern())
			continue
		}
		if op.OperationID != r.Name || op.Summary != r.Summary {
			t.Errorf("%s: operationId %q, summary %q", r.Pattern(), op.OperationID, op.Summary)
		}
		secured := len(op.Security) == 1 && op.Security[0]["bearer"] != nil
		if secured == r.Public || (r.Public && len(op.Security) != 0) {
			t.Errorf("%s: security %v for a route with Public %v", r.Name, op.Security, r.Public)
		}
		if strings.Contains(r.Path, "{name}") && !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool {
			return p.Name == "name" && p.In == "path"
		}) {
			t.Errorf("%s: no path parameter name", r.Name)
		}
		if (r.BodyLimit > 0) != (op.RequestBody != nil) {
			t.Errorf("%s: body limit %d, request body in the document: %v", r.Name, r.BodyLimit, op.RequestBody != nil)
		}
		if _, ok := op.Responses["200"]; !ok {
			t.Errorf("%s: no 200 response", r.Name)
		}
		if _, ok := op.Responses["default"]; !ok {
			t.Errorf("%s: no error response", r.Name)
		}
	}
	for _, ref := range regexp.MustCompile(`"\$ref": "#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(res.Body), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("reference to a missing schema %s", ref[1])
		}
	}
	for _, want := range []string{"EncryptRequest", "Key", "VersionInfo", "ErrorBody", "Status", "BatchDecryptResult"} {
		if _, ok := doc.Components.Schemas[want]; !ok {
			t.Errorf("no schema %s", want)
		}
	}
	// Fields of embedded structs are flattened as encoding/json does.
	var imp struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	json.Unmarshal(doc.Components.Schemas["ImportKeyRequest"], &imp)
	for _, f := range []string{"material", "name", "type", "exportable", "rotation_period"} {
		if _, ok := imp.Properties[f]; !ok {
			t.Errorf("ImportKeyRequest schema lacks %q", f)
		}
	}
}

// TestDocsAPI checks docs/api.md against the code: its error table equals
// api.Codes row for row, and every route is documented under a heading
// "### `METHOD PATH`".
func TestDocsAPI(t *testing.T) {
	f, err := os.Open("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| ([0-9]{3}) \\| (.+) \\|$")
	heading := regexp.MustCompile("^### `([A-Z]+) (/[^`]*)`")
	var codes []api.Code
	documented := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := row.FindStringSubmatch(line); m != nil {
			status, _ := strconv.Atoi(m[2])
			codes = append(codes, api.Code{Code: m[1], Status: status})
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			documented[m[1]+" "+m[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(codes) != len(api.Codes) {
		t.Errorf("docs/api.md's error table has %d rows, api.Codes %d", len(codes), len(api.Codes))
	}
	for i := range min(len(codes), len(api.Codes)) {
		if codes[i].Code != api.Codes[i].Code || codes[i].Status != api.Codes[i].Status {
			t.Errorf("row %d: docs say %s %d, api.Codes %s %d", i+1, codes[i].Code, codes[i].Status, api.Codes[i].Code, api.Codes[i].Status)
		}
	}
	for _, r := range api.Routes {
		if !documented[r.Pattern()] {
			t.Errorf("route %s is not documented: want a heading ### `%s`", r.Name, r.Pattern())
		}
		delete(documented, r.Pattern())
	}
	for p := range documented {
		t.Errorf("docs/api.md documents %s, which is not a route", p)
	}
}
