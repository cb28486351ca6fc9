// Package wycheproof loads Project Wycheproof test vector files
// (github.com/C2SP/wycheproof, testvectors_v1) for KeyCustodian's tests.
//
// The vectors are not part of this repository. They live in a shared folder
// named by the environment variable CUSTODIAN_WYCHEPROOF_DIR, by default
// ../shared/testvectors/wycheproof relative to the module root (the
// directory holding go.mod). A relative value of the variable is also taken
// relative to the module root, so that it means the same thing from every
// package's tests.
//
// Each file is one JSON document whose groups and tests differ by schema.
// [Load] decodes the common envelope and lets the caller describe the group
// type; [Hex] and [Test] cover the fields every schema shares. Load checks
// the file's numberOfTests against the tests it decoded and every result
// against the three defined values, so that a decoding mistake fails loudly
// instead of quietly running fewer vectors.
package wycheproof

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// EnvDir is the environment variable naming the vector folder.
const EnvDir = "CUSTODIAN_WYCHEPROOF_DIR"

// DefaultDir is the vector folder relative to the module root.
const DefaultDir = "../shared/testvectors/wycheproof"

// ErrNoVectors means the vector folder does not exist. Tests skip on it.
var ErrNoVectors = errors.New("wycheproof vectors not found")

// Dir returns the vector folder, or an error wrapping [ErrNoVectors] that
// names [EnvDir] and the path tried when the folder is absent.
func Dir() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, from := os.Getenv(EnvDir), "$"+EnvDir
	if dir == "" {
		dir, from = DefaultDir, "the default"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: %s is not a directory (from %s; set %s, default %s relative to the module root %s)",
			ErrNoVectors, dir, from, EnvDir, DefaultDir, root)
	}
	return dir, nil
}

// moduleRoot walks up from the working directory to the one holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("wycheproof: find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("wycheproof: find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// File is one decoded vector file; G is the schema's group type, which
// normally embeds its tests as Tests []T with T embedding [Test].
type File[G any] struct {
	Algorithm     string          `json:"algorithm"`
	Schema        string          `json:"schema"`
	NumberOfTests int             `json:"numberOfTests"`
	Notes         map[string]Note `json:"notes"`
	TestGroups    []G             `json:"testGroups"`
}

// Note documents one flag.
type Note struct {
	BugType     string `json:"bugType"`
	Description string `json:"description"`
}

// Result is a vector's expected outcome.
type Result string

// The results Wycheproof defines.
const (
	// Valid vectors must be accepted and produce the stated output.
	Valid Result = "valid"
	// Invalid vectors must be rejected.
	Invalid Result = "invalid"
	// Acceptable vectors may be accepted or rejected; the caller decides and
	// documents which.
	Acceptable Result = "acceptable"
)

// UnmarshalJSON accepts only the three defined results.
func (r *Result) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("wycheproof: result: %w", err)
	}
	switch v := Result(s); v {
	case Valid, Invalid, Acceptable:
		*r = v
		return nil
	}
	return fmt.Errorf("wycheproof: unknown result %q", s)
}

// Test holds the fields every test case has. Embed it in a schema's test type.
type Test struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Result  Result   `json:"result"`
}

// HasFlag reports whether the test carries flag.
func (t *Test) HasFlag(flag string) bool {
	for _, f := range t.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// String names the test for failure messages.
func (t *Test) String() string {
	return fmt.Sprintf("tcId %d (%s; %q; flags %v)", t.TcID, t.Result, t.Comment, t.Flags)
}

// Hex is a byte string written in hexadecimal. A present but empty field
// decodes to an empty, non-nil slice, so that a missing field (nil) is
// distinguishable from an empty value.
type Hex []byte

// UnmarshalJSON decodes a JSON string of hex digits.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("wycheproof: hex field: %w", err)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("wycheproof: hex field: %w", err)
	}
	*h = append(make(Hex, 0, len(v)), v...)
	return nil
}

// Load reads and decodes the named file in dir. It fails if the file's
// numberOfTests is not the number of tests in its groups, or if any test has
// no tcId or an unknown result.
func Load[G any](dir, name string) (*File[G], error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("wycheproof: %w", err)
	}
	// A schema-independent view to check the envelope against.
	var skel struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			Tests []Test `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &skel); err != nil {
		return nil, fmt.Errorf("wycheproof: %s: %w", name, err)
	}
	n := 0
	for _, g := range skel.TestGroups {
		for _, t := range g.Tests {
			if t.TcID <= 0 || t.Result == "" {
				return nil, fmt.Errorf("wycheproof: %s: test %d of %d has no tcId or result", name, n, skel.NumberOfTests)
			}
			n++
		}
	}
	if n == 0 || n != skel.NumberOfTests {
		return nil, fmt.Errorf("wycheproof: %s: decoded %d tests, file says numberOfTests = %d", name, n, skel.NumberOfTests)
	}
	f := new(File[G])
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("wycheproof: %s: %w", name, err)
	}
	return f, nil
}

// TB is the part of testing.TB that [Tally] needs; this package does not
// import testing.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Tally counts the vectors of one file that ran and those skipped as not
// applicable, by reason.
type Tally struct {
	name    string
	want    int // vectors in the file, or -1 before Expect
	run     int
	skipped map[string]int
}

// NewTally starts counting for the named file.
func NewTally(name string) *Tally { return &Tally{name: name, want: -1, skipped: map[string]int{}} }

// Expect records how many vectors the file holds; Report then checks that
// every one was either run or skipped.
func (c *Tally) Expect(n int) { c.want = n }

// Run counts one vector that was run and asserted.
func (c *Tally) Run() { c.run++ }

// Skip counts one vector not applicable for reason.
func (c *Tally) Skip(reason string) { c.skipped[reason]++ }

// Ran returns the number of vectors run.
func (c *Tally) Ran() int { return c.run }

// Report logs the counts and fails t if no vector ran (a file that is
// present but exercises nothing means the loader or the test is broken), or
// if, after [Tally.Expect], some vectors were neither run nor skipped.
func (c *Tally) Report(t TB) {
	t.Helper()
	total := 0
	for _, n := range c.skipped {
		total += n
	}
	t.Logf("%s: %d vectors run, %d skipped", c.name, c.run, total)
	for _, r := range slices.Sorted(maps.Keys(c.skipped)) {
		t.Logf("%s: skipped %d: %s", c.name, c.skipped[r], r)
	}
	if c.run == 0 {
		t.Errorf("%s: no vector was run (%d skipped): the loader or the test is broken", c.name, total)
	}
	if c.want >= 0 && c.run+total != c.want {
		t.Errorf("%s: %d vectors run and %d skipped, but the file has %d", c.name, c.run, total, c.want)
	}
}
