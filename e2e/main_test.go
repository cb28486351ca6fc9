package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keycustodian/custodian/client"
)

// binary is the custodian binary TestMain builds, for CLI runs;
// serverBinary is the one servers run: the same, built with -race when the
// tests are, so that the server processes are race-checked too. (The CLI
// runs unchecked: a race-enabled binary takes a second to start, and the
// tests run hundreds of commands.)
var binary, serverBinary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "custodian-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "custodian")
	serverBinary = binary
	builds := [][]string{{"-o", binary}}
	if raceEnabled {
		serverBinary = filepath.Join(dir, "custodian-race")
		builds = append(builds, []string{"-race", "-o", serverBinary})
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Go(func() {
			args := append([]string{"build", "-ldflags", "-X main.version=e2e-test"}, b...)
			build := exec.Command(goTool, append(args, "../cmd/custodian")...)
			if out, err := build.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go %s: %v\n%s", strings.Join(build.Args[1:], " "), err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building cmd/custodian: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// server is a running "custodian server" process.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	URL     string
	Token   string // the dev server's root token, or what init returned
	DataDir string
	log     *lockedBuffer // stderr: the server's logs
	out     *lockedBuffer // stdout: the banner
	exited  chan struct{}
	waitErr error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	listeningRE = regexp.MustCompile(`(?m)server listening on (https?://\S+)`)
	tokenRE     = regexp.MustCompile(`(?m)^\s*export CUSTODIAN_TOKEN=(\S+)`)
)

// startDev starts "custodian server --dev" on a free loopback port over
// dataDir (a new directory when empty).
func startDev(t testing.TB, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = filepath.Join(t.TempDir(), "data")
	}
	s := startServer(t, append([]string{"server", "--dev", "--addr", "127.0.0.1:0", "--data", dataDir}, extra...)...)
	s.DataDir = dataDir
	if s.Token == "" {
		t.Fatalf("the dev server printed no export CUSTODIAN_TOKEN line:\n%s", s.out)
	}
	return s
}

// startServer runs the binary with args and waits until it says where it
// listens. The process is stopped at the end of the test if still running.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, args...)
}

// startServerEnv is startServer with variables added to the environment.
func startServerEnv(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	s := &server{t: t, log: &lockedBuffer{}, out: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(serverBinary, args...)
	s.cmd.Env = append(append(cleanEnviron(), "CUSTODIAN_LOG_LEVEL=warn"), env...)
	s.cmd.Stderr = s.log
	pr, pw := io.Pipe()
	s.cmd.Stdout = io.MultiWriter(s.out, pw)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		pw.Close()
		close(s.exited)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() { s.kill() })
	select {
	case u := <-found:
		s.URL = u
	case <-s.exited:
		t.Fatalf("custodian %s exited before listening: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), s.waitErr, s.out, s.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("custodian %s did not say where it listens within a minute\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), s.out, s.log)
	}
	// The banner's token line comes after the listening line.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && strings.Contains(s.out.String(), "dev server") {
		if m := tokenRE.FindStringSubmatch(s.out.String()); m != nil {
			s.Token = m[1]
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// banner waits up to five seconds for the server's stdout to contain
// want, and reports whether it did.
func (s *server) banner(want string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// cleanEnviron is the test's environment without CUSTODIAN_ variables, so
// that a developer's shell does not configure the servers under test.
func cleanEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUSTODIAN_") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits for a clean exit (status 0).
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(90 * time.Second):
		s.cmd.Process.Kill()
		s.t.Fatalf("the server did not stop within 90s of SIGTERM\n%s", s.log)
	}
	if s.waitErr != nil {
		s.t.Fatalf("the server exited with %v after SIGTERM; its log:\n%s", s.waitErr, s.log)
	}
}

// kill ends a server the test left running.
func (s *server) kill() {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// client is a Go client of the server with its token.
func (s *server) client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, client.Options{Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// env is the environment a CLI process gets for this server.
func (s *server) env() []string {
	return []string{"CUSTODIAN_ADDR=" + s.URL, "CUSTODIAN_TOKEN=" + s.Token}
}

// result is a CLI run's outcome.
type result struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the binary with env (beside PATH and HOME), stdin and args.
func runCLI(t testing.TB, env []string, dir string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("custodian %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// cli runs commands against one server from one working directory.
type cli struct {
	t   testing.TB
	s   *server
	dir string
}

func newCLI(t testing.TB, s *server) *cli {
	return &cli{t: t, s: s, dir: t.TempDir()}
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return runCLI(c.t, c.s.env(), c.dir, []byte(stdin), args...)
}

// ok runs a command that must succeed, and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.Code != 0 {
		c.t.Fatalf("custodian %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

// fail runs a command that must fail with exit code 1 and one stderr line
// matching re.
func (c *cli) fail(re, stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !regexp.MustCompile(re).MatchString(r.Stderr) {
		c.t.Fatalf("custodian %s: exit %d, stderr %q; want exit 1 and one line matching %q", strings.Join(args, " "), r.Code, r.Stderr, re)
	}
	return r
}

func (c *cli) path(name string) string { return filepath.Join(c.dir, name) }

func (c *cli) write(name string, b []byte) string {
	c.t.Helper()
	p := c.path(name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cli) read(name string) []byte {
	c.t.Helper()
	b, err := os.ReadFile(c.path(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}
