package custodian_test

// The layering test: layers point one way, randomness comes from
// crypto/rand, and every third-party module is on a list. It reads the
// import graph from `go list` (no new dependency) and fails on a forbidden
// edge, naming the chain of imports that makes it, like the Go tree's
// crypto/internal/fips140deps/fipsdeps_test.go and tailscale's
// cmd/tailscaled/deps_test.go.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const dpModule = "github.com/keycustodian/custodian"

// dpThirdParty is every module outside the standard library that the
// module's packages and tests may use. Adding a dependency means adding it
// here, on purpose, with the reason.
var dpThirdParty = map[string]string{
	"filippo.io/bigmod":                    "constant-time modular arithmetic for finite-field DH",
	"golang.org/x/crypto":                  "ChaCha20-Poly1305",
	"github.com/hashicorp/golang-lru/v2":   "the key and key-version caches",
	"golang.org/x/sys":                     "CPU feature detection for golang.org/x/crypto",
	"go.etcd.io/bbolt":                     "the embedded default store (store/bolt)",
	"github.com/jackc/pgx/v5":              "the PostgreSQL store (store/postgres): driver and connection pool",
	"github.com/jackc/pgpassfile":          "pgx: passwords from ~/.pgpass, as libpq reads them",
	"github.com/jackc/pgservicefile":       "pgx: connection services from pg_service.conf, as libpq reads them",
	"github.com/jackc/puddle/v2":           "pgx: the resource pool under pgxpool",
	"golang.org/x/sync":                    "puddle: a weighted semaphore bounding the pool",
	"golang.org/x/text":                    "pgx: SASLprep (secure/precis) of passwords for SCRAM authentication",
	"github.com/openbao/openbao/sdk/v2":    "Shamir secret sharing of the root key (seal/shamir; MPL-2.0, helper/shamir only)",
	"github.com/spf13/cobra":               "the custodian CLI's command tree: nested subcommands, help, shell completion (internal/cli)",
	"github.com/spf13/pflag":               "cobra's POSIX flags; internal/cli defines the server's flags from the service's settings with it",
	"github.com/inconshreveable/mousetrap": "cobra, on Windows only: tells a double-clicked binary from one run in a console",
	"github.com/prometheus/client_golang":  "the server's Prometheus metrics and GET /metrics (server)",
	"github.com/prometheus/client_model":   "client_golang: the metric data model",
	"github.com/prometheus/common":         "client_golang: the exposition formats (expfmt) and metric names",
	"github.com/prometheus/procfs":         "client_golang's process collector: CPU, memory and file descriptors from /proc",
	"github.com/beorn7/perks":              "client_golang: quantile streams for summaries",
	"github.com/cespare/xxhash/v2":         "client_golang: hashes of label sets",
	"github.com/munnerz/goautoneg":         "prometheus/common: negotiates the exposition format from Accept",
	"google.golang.org/protobuf":           "client_model: the protobuf exposition format's messages",
	"go.yaml.in/yaml/v3":                   "the server's YAML config file (service), decoded strictly; cobra requires it too",
}

// dpCryptoModules are third-party modules that supply cryptography. Like
// the module's own packages they may not import math/rand outside tests;
// other modules may, where predictability is harmless (pgxpool jitters
// connection lifetimes with math/rand/v2).
var dpCryptoModules = []string{"golang.org/x/crypto", "filippo.io/bigmod", "github.com/openbao/openbao/sdk/v2"}

// dpNoMathRand reports whether p, a non-test package, must not import
// math/rand: it is ours or supplies cryptography. A package outside any
// module cannot be placed, so it is held to the rule.
func dpNoMathRand(p dpPackage) bool {
	if p.Standard {
		return false
	}
	return p.Module == nil || p.Module.Main || slices.Contains(dpCryptoModules, p.Module.Path)
}

// dpLayerRule forbids packages matching From to depend, directly or
// through any chain of imports, on packages matching To; with Direct, only
// to import them themselves (reaching them through a package in between
// is the point of that package). A pattern is an import path; "x/..."
// matches x and every package below it.
type dpLayerRule struct {
	From, To []string
	Why      string
	Direct   bool
}

// dpIn returns the import path of a package of the module.
func dpIn(rel string) string { return dpModule + "/" + rel }

var dpLayerRules = []dpLayerRule{
	{
		From: []string{dpIn("internal/algo"), dpIn("internal/envelope"), dpIn("internal/secret"), dpIn("internal/dh"), dpIn("internal/barrier")},
		To:   []string{dpIn("store/..."), "net/http", dpModule, "database/sql", dpIn("server/..."), dpIn("cmd/...")},
		Why:  "algorithms and formats know nothing of storage, HTTP, the API or policy",
	},
	{
		From: []string{dpIn("seal/...")},
		To:   []string{dpIn("store/..."), "net/http", dpModule, "database/sql", dpIn("server/..."), dpIn("cmd/...")},
		Why:  "a seal protects the root key and knows nothing of storage, HTTP or the API",
	},
	{
		From: []string{dpIn("store/...")},
		To:   []string{"net/http", dpModule, dpIn("internal/algo"), dpIn("server/..."), dpIn("cmd/...")},
		Why:  "storage keeps sealed records and knows nothing of HTTP, the API or algorithms",
	},
	{
		From:   []string{dpIn("server/...")},
		To:     []string{dpIn("internal/algo"), dpIn("internal/barrier"), dpIn("internal/envelope")},
		Why:    "the server maps HTTP to the root package's API; algorithms, the barrier and wire formats are the library's business",
		Direct: true,
	},
	{
		From: []string{dpIn("client/..."), dpIn("api/...")},
		To:   []string{dpIn("server/..."), dpIn("service/..."), dpIn("internal/cli"), dpIn("cmd/...")},
		Why:  "the client and the API contract stand apart from the server that implements them",
	},
	{
		From:   []string{dpIn("client/...")},
		To:     []string{dpIn("store/..."), dpIn("seal/..."), dpIn("internal/algo"), dpIn("internal/barrier"), dpIn("internal/envelope")},
		Why:    "the client speaks HTTP; storage, seals and algorithms are the server's",
		Direct: true,
	},
	{
		From:   []string{dpIn("internal/cli"), dpIn("cmd/...")},
		To:     []string{dpIn("server/..."), dpIn("store/..."), dpIn("internal/algo"), dpIn("internal/barrier")},
		Why:    "the CLI reaches a server through the client and runs one through the service package",
		Direct: true,
	},
}

// dpCryptoPackages may draw randomness only from crypto/rand.
var dpCryptoPackages = []string{dpModule, dpIn("internal/algo"), dpIn("internal/envelope"), dpIn("internal/secret"), dpIn("internal/dh"), dpIn("internal/barrier"), dpIn("seal/...")}

// dpPackage is the part of `go list -json` the rules read.
type dpPackage struct {
	ImportPath string
	Standard   bool
	ForTest    string
	Imports    []string
	Deps       []string
	Module     *struct {
		Path string
		Main bool
	}
}

// dpIsTest reports whether p is a test variant or a test main, whose
// imports include _test.go files.
func dpIsTest(p dpPackage) bool {
	return p.ForTest != "" || strings.HasSuffix(p.ImportPath, ".test") || strings.Contains(p.ImportPath, " [")
}

// dpMatch reports whether path matches pattern.
func dpMatch(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func dpMatchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return dpMatch(p, path) })
}

// dpChain returns the shortest import chain from "from" to "to" through
// the non-test packages of the graph.
func dpChain(graph map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, q := range graph[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return []string{from, "...", to}
}

// dpViolations applies every rule to the packages of a `go list -deps
// -test` run and returns one line per forbidden edge.
func dpViolations(pkgs []dpPackage) []string {
	var out []string
	graph := map[string][]string{}
	for _, p := range pkgs {
		if !dpIsTest(p) {
			graph[p.ImportPath] = p.Imports
		}
	}
	for _, p := range pkgs {
		if dpIsTest(p) {
			continue
		}
		inModule := p.Module != nil && p.Module.Main
		if inModule {
			for _, r := range dpLayerRules {
				if !dpMatchAny(r.From, p.ImportPath) {
					continue
				}
				deps := p.Deps
				if r.Direct {
					deps = p.Imports
				}
				for _, d := range deps {
					if dpMatchAny(r.To, d) && d != p.ImportPath {
						out = append(out, fmt.Sprintf("%s depends on %s (%s): %s",
							p.ImportPath, d, strings.Join(dpChain(graph, p.ImportPath, d), " -> "), r.Why))
					}
				}
			}
		}
		if dpNoMathRand(p) {
			for _, imp := range p.Imports {
				if imp == "math/rand" || imp == "math/rand/v2" {
					out = append(out, fmt.Sprintf("%s imports %s outside _test.go files: use crypto/rand", p.ImportPath, imp))
				}
			}
		}
		if inModule && dpMatchAny(dpCryptoPackages, p.ImportPath) {
			for _, imp := range p.Imports {
				last := imp[strings.LastIndex(imp, "/")+1:]
				if strings.Contains(last, "rand") && imp != "crypto/rand" && imp != "math/rand" && imp != "math/rand/v2" {
					out = append(out, fmt.Sprintf("%s imports %s: crypto code draws randomness only from crypto/rand", p.ImportPath, imp))
				}
			}
		}
	}
	// Third-party modules, test dependencies included.
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard || p.Module == nil || p.Module.Main || seen[p.Module.Path] {
			continue
		}
		seen[p.Module.Path] = true
		if _, ok := dpThirdParty[p.Module.Path]; !ok {
			out = append(out, fmt.Sprintf("module %s (package %s) is not in the dependency allow-list of deps_test.go: add it on purpose, with a reason", p.Module.Path, p.ImportPath))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dpGoList runs `go list -deps -test -json ./...` in the module root.
func dpGoList(t *testing.T) []dpPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "list", "-e", "-deps", "-test", "-json=ImportPath,Standard,ForTest,Imports,Deps,Module,Error", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var notFound *exec.Error
	if errors.As(err, &notFound) {
		t.Skipf("the go command is not available (%v): cannot check the import graph", err)
	}
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []dpPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p dpPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestDepsLayering(t *testing.T) {
	pkgs := dpGoList(t)
	// The rules must have something to bite on.
	have := map[string]bool{}
	for _, p := range pkgs {
		have[p.ImportPath] = true
	}
	for _, want := range []string{dpModule, dpModule + "/internal/algo", dpModule + "/internal/envelope", dpModule + "/internal/secret", dpModule + "/store/memory"} {
		if !have[want] {
			t.Fatalf("go list did not list %s; the test would check nothing", want)
		}
	}
	for _, v := range dpViolations(pkgs) {
		t.Error(v)
	}
}

// TestDepsRulesCatchViolations feeds the rules a fake graph with one
// forbidden edge of each kind, and a clean one.
func TestDepsRulesCatchViolations(t *testing.T) {
	main := &struct {
		Path string
		Main bool
	}{dpModule, true}
	mod := func(path string) *struct {
		Path string
		Main bool
	} {
		return &struct {
			Path string
			Main bool
		}{path, false}
	}
	pkg := func(path string, imports ...string) dpPackage {
		return dpPackage{ImportPath: dpModule + path, Imports: imports, Deps: imports, Module: main}
	}
	std := func(path string) dpPackage { return dpPackage{ImportPath: path, Standard: true} }
	clean := []dpPackage{
		pkg("", dpModule+"/internal/algo", dpModule+"/store", "crypto/rand", "github.com/hashicorp/golang-lru/v2"),
		pkg("/internal/algo", "crypto/rand", dpModule+"/internal/secret", "golang.org/x/crypto/chacha20poly1305"),
		pkg("/internal/secret", "fmt"),
		pkg("/store", "context"),
		pkg("/store/memory", dpModule+"/store"),
		{ImportPath: dpModule + "/internal/algo [" + dpModule + "/internal/algo.test]", ForTest: dpModule + "/internal/algo",
			Imports: []string{"math/rand/v2", "net/http"}, Deps: []string{"math/rand/v2", "net/http"}, Module: main},
		{ImportPath: "golang.org/x/crypto/chacha20poly1305", Module: mod("golang.org/x/crypto")},
		{ImportPath: "github.com/hashicorp/golang-lru/v2", Module: mod("github.com/hashicorp/golang-lru/v2")},
		std("crypto/rand"), std("math/big"), std("net/http"),
	}
	if v := dpViolations(clean); len(v) != 0 {
		t.Fatalf("violations in a clean graph (test files may use math/rand and net/http):\n%s", strings.Join(v, "\n"))
	}

	// A transitive edge: algo -> internal/helper -> store.
	transitive := pkg("/internal/algo", dpModule+"/internal/helper")
	transitive.Deps = []string{dpModule + "/internal/helper", dpModule + "/store"}
	for name, tc := range map[string]struct {
		add  []dpPackage
		want string
	}{
		"algo imports store":         {[]dpPackage{pkg("/internal/algo", dpModule+"/store")}, "internal/algo depends on " + dpModule + "/store "},
		"algo reaches store":         {[]dpPackage{transitive, pkg("/internal/helper", dpModule+"/store")}, "internal/algo -> " + dpModule + "/internal/helper -> " + dpModule + "/store"},
		"envelope imports net/http":  {[]dpPackage{pkg("/internal/envelope", "net/http")}, "internal/envelope depends on net/http"},
		"secret imports the root":    {[]dpPackage{pkg("/internal/secret", dpModule)}, "internal/secret depends on " + dpModule + " "},
		"dh imports database/sql":    {[]dpPackage{pkg("/internal/dh", "database/sql")}, "internal/dh depends on database/sql"},
		"barrier imports store/bolt": {[]dpPackage{pkg("/internal/barrier", dpModule+"/store/bolt")}, "internal/barrier depends on " + dpModule + "/store/bolt"},
		"store imports net/http":     {[]dpPackage{pkg("/store/postgres", "net/http")}, "store/postgres depends on net/http"},
		"store imports the root":     {[]dpPackage{pkg("/store/memory", dpModule)}, "store/memory depends on " + dpModule + " "},
		"store imports algo":         {[]dpPackage{pkg("/store", dpModule+"/internal/algo")}, "store depends on " + dpModule + "/internal/algo"},
		"server imports barrier":     {[]dpPackage{pkg("/server", dpModule, dpModule+"/internal/barrier")}, "server depends on " + dpModule + "/internal/barrier"},
		"math/rand":                  {[]dpPackage{pkg("/cmd/custodian", "math/rand")}, "cmd/custodian imports math/rand outside _test.go files"},
		"math/rand/v2":               {[]dpPackage{pkg("/internal/algo", "math/rand/v2")}, "internal/algo imports math/rand/v2"},
		"other randomness":           {[]dpPackage{pkg("/internal/dh", "golang.org/x/exp/rand")}, "internal/dh imports golang.org/x/exp/rand: crypto code"},
		"third-party math/rand":      {[]dpPackage{{ImportPath: "golang.org/x/crypto/foo", Imports: []string{"math/rand"}, Module: mod("golang.org/x/crypto")}}, "golang.org/x/crypto/foo imports math/rand"},
		"new module":                 {[]dpPackage{{ImportPath: "github.com/acme/leftpad", Module: mod("github.com/acme/leftpad")}}, "module github.com/acme/leftpad (package github.com/acme/leftpad) is not in the dependency allow-list"},
		"new test-only module": {[]dpPackage{{ImportPath: "github.com/acme/assert", Module: mod("github.com/acme/assert"),
			ForTest: ""}, {ImportPath: dpModule + " [" + dpModule + ".test]", ForTest: dpModule, Imports: []string{"github.com/acme/assert"}, Module: main}},
			"module github.com/acme/assert"},
	} {
		t.Run(name, func(t *testing.T) {
			v := dpViolations(append(slices.Clone(clean), tc.add...))
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("no violation containing %q; got:\n%s", tc.want, strings.Join(v, "\n"))
			}
		})
	}

	// Edges that are allowed, lest the rules grow too wide.
	serverViaRoot := pkg("/server", dpModule, dpModule+"/api")
	serverViaRoot.Deps = append(serverViaRoot.Deps, dpModule+"/internal/algo", dpModule+"/internal/envelope")
	for name, add := range map[string][]dpPackage{
		"math/rand outside crypto modules":     {{ImportPath: "github.com/jackc/pgx/v5/pgxpool", Imports: []string{"math/rand/v2"}, Module: mod("github.com/jackc/pgx/v5")}},
		"server reaches algo through the root": {serverViaRoot},
	} {
		t.Run(name, func(t *testing.T) {
			if v := dpViolations(append(slices.Clone(clean), add...)); len(v) != 0 {
				t.Errorf("violations in an allowed graph:\n%s", strings.Join(v, "\n"))
			}
		})
	}
}

func TestDepsMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{dpModule, dpModule, true},
		{dpModule, dpIn("store"), false},
		{dpIn("store/..."), dpIn("store"), true},
		{dpIn("store/..."), dpIn("store/memory"), true},
		{dpIn("store/..."), dpIn("storefront"), false},
		{dpIn("internal/algo"), dpIn("internal/algo"), true},
		{dpIn("internal/algo"), dpIn("internal/algorithms"), false},
		{"net/http", "net/http", true},
		{"net/http", "net/http/httptest", false},
		{"database/sql", "database/sql/driver", false},
	} {
		if got := dpMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("dpMatch(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
