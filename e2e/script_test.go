package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestScripts runs each testdata/cli/*.txt against a dev server of its
// own; testdata/cli/README describes the language.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "cli", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata/cli: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runScript(t, f)
		})
	}
}

// script is one script's state as it runs.
type script struct {
	t        *testing.T
	file     string
	line     int
	work     string
	srv      *server
	env      map[string]string
	stdin    []byte
	last     result
	lastArgs string
}

func runScript(t *testing.T, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text, files := parseTxtar(b)
	s := &script{t: t, file: file, work: t.TempDir(), env: map[string]string{}}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(s.work, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.srv = startDev(t, "")
	for i, line := range strings.Split(text, "\n") {
		s.line = i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s.exec(line)
	}
	s.srv.stop()
}

// parseTxtar splits a script from its files: "-- name --" lines start a file.
func parseTxtar(b []byte) (string, map[string][]byte) {
	files := map[string][]byte{}
	var script []byte
	var name string
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if bytes.HasPrefix(l, []byte("-- ")) && bytes.HasSuffix(l, []byte(" --")) && len(l) > 6 {
			name = string(l[3 : len(l)-3])
			files[name] = []byte{}
			continue
		}
		if name == "" {
			script = append(script, line...)
		} else {
			files[name] = append(files[name], line...)
		}
	}
	return string(script), files
}

func (s *script) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s:%d: %s", filepath.Base(s.file), s.line, fmt.Sprintf(format, args...))
}

// fields splits a line into words; 'single quotes' keep spaces and are
// removed, and a doubled quote inside them is one quote; $WORK is the script's
// directory.
func (s *script) fields(line string) []string {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\'' && quoted && i+1 < len(rs) && rs[i+1] == '\'':
			cur.WriteRune('\'')
			i++
		case r == '\'':
			quoted = !quoted
			inWord = true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		s.fatalf("unterminated quote")
	}
	if inWord {
		out = append(out, cur.String())
	}
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], "$WORK", s.work)
	}
	return out
}

func (s *script) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.work, name)
}

func (s *script) exec(line string) {
	s.t.Helper()
	args := s.fields(line)
	neg := false
	wantCode := 0
	switch args[0] {
	case "!":
		neg, wantCode, args = true, 1, args[1:]
	case "!2":
		neg, wantCode, args = true, 2, args[1:]
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "custodian":
		s.custodian(wantCode, args)
	case "stdin":
		s.need(args, 1)
		b, err := os.ReadFile(s.path(args[0]))
		if err != nil {
			s.fatalf("%v", err)
		}
		s.stdin = b
	case "stdout", "stderr":
		s.need(args, 1)
		got := s.last.Stdout
		if cmd == "stderr" {
			got = s.last.Stderr
		}
		re, err := regexp.Compile("(?m)" + args[0])
		if err != nil {
			s.fatalf("%v", err)
		}
		if re.MatchString(got) == neg {
			s.fatalf("custodian %s: %s %q; want it %smatching %q", s.lastArgs, cmd, got, map[bool]string{true: "not ", false: ""}[neg], args[0])
		}
	case "cp":
		s.need(args, 2)
		if err := os.WriteFile(s.path(args[1]), s.content(args[0]), 0o600); err != nil {
			s.fatalf("%v", err)
		}
	case "cmp":
		s.need(args, 2)
		if a, b := s.content(args[0]), s.content(args[1]); !bytes.Equal(a, b) {
			s.fatalf("%s and %s differ:\n%q\n%q", args[0], args[1], a, b)
		}
	case "exists":
		s.need(args, 1)
		_, err := os.Stat(s.path(args[0]))
		if (err == nil) == neg {
			s.fatalf("exists %s: %v", args[0], err)
		}
	case "perm":
		s.need(args, 2)
		fi, err := os.Stat(s.path(args[0]))
		want, _ := strconv.ParseUint(args[1], 8, 32)
		if err != nil || fi.Mode().Perm() != os.FileMode(want) {
			s.fatalf("perm %s: %v, %v; want %s", args[0], fi.Mode().Perm(), err, args[1])
		}
	case "size":
		s.need(args, 2)
		fi, err := os.Stat(s.path(args[0]))
		if err != nil || strconv.FormatInt(fi.Size(), 10) != args[1] {
			s.fatalf("size %s: %v, %v; want %s", args[0], fi, err, args[1])
		}
	case "json":
		s.need(args, 2)
		s.json(args[0], args[1])
	case "env":
		s.need(args, 1)
		k, v, ok := strings.Cut(args[0], "=")
		if !ok {
			s.fatalf("env %s: want NAME=VALUE", args[0])
		}
		s.env[k] = v
	case "restart":
		s.srv.stop()
		token := s.srv.Token
		s.srv = startDev(s.t, s.srv.DataDir)
		if s.srv.Token != token {
			s.fatalf("the dev server's root token changed across a restart")
		}
	default:
		s.fatalf("unknown command %q", cmd)
	}
}

func (s *script) need(args []string, n int) {
	s.t.Helper()
	if len(args) != n {
		s.fatalf("want %d arguments, have %d: %q", n, len(args), args)
	}
}

// content is the last stdout or stderr, or a file.
func (s *script) content(name string) []byte {
	switch name {
	case "stdout":
		return []byte(s.last.Stdout)
	case "stderr":
		return []byte(s.last.Stderr)
	}
	b, err := os.ReadFile(s.path(name))
	if err != nil {
		s.fatalf("%v", err)
	}
	return b
}

func (s *script) custodian(wantCode int, args []string) {
	s.t.Helper()
	env := s.srv.env()
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	s.last = runCLI(s.t, env, s.work, s.stdin, args...)
	s.lastArgs = strings.Join(args, " ")
	s.stdin = nil
	r := s.last
	if r.Code != wantCode {
		s.fatalf("custodian %s: exit %d, want %d\nstdout: %s\nstderr: %s", s.lastArgs, r.Code, wantCode, r.Stdout, r.Stderr)
	}
	switch wantCode {
	case 1:
		if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "custodian: ") {
			s.fatalf("custodian %s: stderr %q is not one line \"custodian: ...\"", s.lastArgs, r.Stderr)
		}
	case 2:
		if !strings.HasSuffix(r.Stderr, "--help' for usage.\n") {
			s.fatalf("custodian %s: a usage error's stderr %q does not point at --help", s.lastArgs, r.Stderr)
		}
	}
}

// json checks a field of the last stdout, a JSON object: path is
// dot-separated (".error.code", ".keys.0.name").
func (s *script) json(path, want string) {
	var v any
	if err := json.Unmarshal([]byte(s.last.Stdout), &v); err != nil {
		s.fatalf("custodian %s: stdout is not JSON: %v\n%s", s.lastArgs, err, s.last.Stdout)
	}
	for _, p := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				s.fatalf("json %s: no element %s", path, p)
			}
			v = x[i]
		default:
			s.fatalf("json %s: %s of a %T", path, p, v)
		}
	}
	if got := fmt.Sprint(v); got != want {
		s.fatalf("json %s = %q, want %q", path, got, want)
	}
}
