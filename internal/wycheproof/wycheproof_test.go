package wycheproof

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHex(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []byte
		wantErr bool
	}{
		{`"00ff10"`, []byte{0x00, 0xff, 0x10}, false},
		{`""`, []byte{}, false},
		{`"0"`, nil, true},
		{`"zz"`, nil, true},
		{`12`, nil, true},
	} {
		var h Hex
		err := json.Unmarshal([]byte(tc.in), &h)
		if (err != nil) != tc.wantErr {
			t.Errorf("Unmarshal(%s): err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (string(h) != string(tc.want) || h == nil) {
			t.Errorf("Unmarshal(%s) = %#v, want %#v (non-nil)", tc.in, h, tc.want)
		}
	}
	// An absent field stays nil, so it is told apart from an empty one.
	var v struct {
		A, B Hex
	}
	if err := json.Unmarshal([]byte(`{"a": ""}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A == nil || v.B != nil {
		t.Errorf("present empty field = %#v, absent field = %#v; want non-nil and nil", v.A, v.B)
	}
}

func TestResult(t *testing.T) {
	for _, s := range []Result{Valid, Invalid, Acceptable} {
		var r Result
		if err := json.Unmarshal([]byte(`"`+string(s)+`"`), &r); err != nil || r != s {
			t.Errorf("Unmarshal(%q) = %q, %v", s, r, err)
		}
	}
	for _, in := range []string{`"Valid"`, `""`, `"ok"`, `1`} {
		var r Result
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("Unmarshal(%s) = %q, want an error", in, r)
		}
	}
}

type testGroup struct {
	KeySize int `json:"keySize"`
	Tests   []struct {
		Test
		Msg Hex `json:"msg"`
	} `json:"tests"`
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	const good = `{"algorithm": "X", "schema": "x.json", "numberOfTests": 3, "notes": {"F": {"bugType": "BASIC", "description": "d"}},
	  "testGroups": [
	    {"keySize": 128, "tests": [{"tcId": 1, "comment": "c", "flags": ["F"], "msg": "00", "result": "valid"}]},
	    {"keySize": 256, "tests": [{"tcId": 2, "flags": [], "msg": "", "result": "invalid"},
	                               {"tcId": 3, "flags": [], "msg": "0102", "result": "acceptable"}]}]}`
	writeFile(t, dir, "good.json", good)
	f, err := Load[testGroup](dir, "good.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Algorithm != "X" || f.NumberOfTests != 3 || len(f.TestGroups) != 2 || f.Notes["F"].BugType != "BASIC" {
		t.Fatalf("Load = %+v", f)
	}
	g := f.TestGroups[1]
	if g.KeySize != 256 || len(g.Tests) != 2 || g.Tests[1].TcID != 3 || g.Tests[1].Result != Acceptable || string(g.Tests[1].Msg) != "\x01\x02" {
		t.Errorf("group 1 = %+v", g)
	}
	if tc := f.TestGroups[0].Tests[0]; !tc.HasFlag("F") || tc.HasFlag("G") || !strings.Contains(tc.String(), "tcId 1") {
		t.Errorf("test 1: HasFlag/String wrong: %v", &tc.Test)
	}

	for name, body := range map[string]string{
		"count.json":  strings.Replace(good, `"numberOfTests": 3`, `"numberOfTests": 4`, 1),
		"empty.json":  `{"numberOfTests": 0, "testGroups": []}`,
		"notcid.json": strings.Replace(good, `"tcId": 2,`, ``, 1),
		"result.json": strings.Replace(good, `"result": "invalid"`, `"result": "bogus"`, 1),
		"hex.json":    strings.Replace(good, `"msg": "0102"`, `"msg": "xyz"`, 1),
		"json.json":   good[:len(good)-1],
	} {
		writeFile(t, dir, name, body)
		if _, err := Load[testGroup](dir, name); err == nil {
			t.Errorf("Load(%s): no error", name)
		}
	}
	if _, err := Load[testGroup](dir, "absent.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent.json) = %v, want os.ErrNotExist", err)
	}
}

func TestDir(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s has no go.mod", root)
	}

	abs := t.TempDir()
	t.Setenv(EnvDir, abs)
	if got, err := Dir(); err != nil || got != abs {
		t.Errorf("Dir() with %s=%s = %q, %v", EnvDir, abs, got, err)
	}

	// A relative value is relative to the module root, wherever the test runs.
	t.Setenv(EnvDir, "internal/wycheproof")
	if got, err := Dir(); err != nil || got != filepath.Join(root, "internal", "wycheproof") {
		t.Errorf("Dir() with a relative %s = %q, %v", EnvDir, got, err)
	}

	missing := filepath.Join(abs, "missing")
	t.Setenv(EnvDir, missing)
	_, err = Dir()
	if !errors.Is(err, ErrNoVectors) || !strings.Contains(err.Error(), EnvDir) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Dir() with a missing folder = %v, want ErrNoVectors naming %s and the path", err, EnvDir)
	}

	t.Setenv(EnvDir, "")
	if got, err := Dir(); err == nil {
		if got != filepath.Join(root, DefaultDir) {
			t.Errorf("Dir() by default = %q, want %q", got, filepath.Join(root, DefaultDir))
		}
	} else if !errors.Is(err, ErrNoVectors) || !strings.Contains(err.Error(), DefaultDir) {
		t.Errorf("Dir() by default = %v, want ErrNoVectors naming %s", err, DefaultDir)
	}
}

// fakeTB records what a Tally reports.
type fakeTB struct {
	logs, errs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func TestTally(t *testing.T) {
	for _, tc := range []struct {
		name           string
		want, run, skp int // want < 0: no Expect
		wantErrs       int
	}{
		{"all run", 3, 3, 0, 0},
		{"run and skipped", 5, 3, 2, 0},
		{"no Expect", -1, 2, 1, 0},
		{"nothing run", 2, 0, 2, 1},
		{"nothing at all", -1, 0, 0, 1},
		{"vectors unaccounted for", 5, 3, 1, 1},
		{"nothing run, vectors unaccounted for", 5, 0, 0, 2},
	} {
		c := NewTally("f.json")
		if tc.want >= 0 {
			c.Expect(tc.want)
		}
		for range tc.run {
			c.Run()
		}
		for i := range tc.skp {
			c.Skip(fmt.Sprintf("reason %d", i%2))
		}
		var tb fakeTB
		c.Report(&tb)
		if len(tb.errs) != tc.wantErrs {
			t.Errorf("%s: errors %q, want %d", tc.name, tb.errs, tc.wantErrs)
		}
		if c.Ran() != tc.run || len(tb.logs) == 0 || !strings.Contains(tb.logs[0], fmt.Sprintf("%d vectors run, %d skipped", tc.run, tc.skp)) {
			t.Errorf("%s: Ran() = %d, logs %q", tc.name, c.Ran(), tb.logs)
		}
	}
}
