package custodian_test

// The crash test of issue 3, section 4. A child process (this test binary
// run again, as TestCrashChild) creates, rotates and revokes keys from
// several goroutines, and after each acknowledged operation reports it on
// its standard output, one line per write. The parent kills it with
// SIGKILL at a random moment, reopens the store in-process and checks that
// nothing acknowledged was lost, that nothing appeared that was never
// begun, and that every ciphertext the child reported still decrypts.
// Every round runs on the same store, so damage would accumulate. Some
// rounds kill the child while it rotates the root key, and the parent
// checks the store while the interrupted rotation resumes.
//
// The child's report lines:
//
//	ready N                  opened; N keys found
//	try OP NAME              OP (create, rotate, revoke) begun on NAME
//	ok create NAME           acknowledged: NAME exists, at version 1
//	ok rotate NAME V         acknowledged: NAME has version V
//	ok revoke NAME           acknowledged: NAME is revoked
//	ct NAME V CIPHERTEXT     Encrypt under version V of NAME returned this
//	try rotate-root          RotateRoot begun
//	switched rotate-root     the new root key is durable; re-sealing runs
//	ok rotate-root           RotateRoot acknowledged

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/pgtest"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store/postgres"
)

// crashChildVar holds a child's crashConfig as JSON. Only children have it.
const crashChildVar = "CUSTODIAN_TEST_CRASH_CHILD"

const (
	crashBoltRounds     = 20
	crashPostgresRounds = 5
	// Every RootEvery-th round, from the second, also rotates the root
	// key; and so does every round after one where the kill missed the
	// rotation, until a kill lands inside one. On bbolt, resuming an
	// interrupted rotation takes about 15 ms a key (one batched commit per
	// key), seconds by round 10: only the second round rotates there.
	crashBoltRootEvery     = crashBoltRounds
	crashPostgresRootEvery = 2
	crashWorkers           = 8
	// The kill comes this long after the child's first report.
	crashMinDelay = 50 * time.Millisecond
	crashMaxDelay = 400 * time.Millisecond
	// crashRootPause is the most a child waits before each root rotation.
	crashRootPause = 200 * time.Millisecond
	// crashAimDelay bounds a kill aimed at a root rotation.
	crashAimDelay = 10 * time.Millisecond
	// crashChildLimit ends a child that nobody kills, and bounds how long
	// the parent waits for its first report.
	crashChildLimit = time.Minute
	// crashResumeLimit bounds how long an interrupted root rotation may
	// take to finish in the background after the store is reopened.
	crashResumeLimit = time.Minute
)

// crashConfig tells a child which store to open and what to do.
type crashConfig struct {
	Backend string `json:"backend"` // "bolt" (OpenDir) or "postgres"
	Dir     string `json:"dir,omitempty"`
	DSN     string `json:"dsn,omitempty"`
	Schema  string `json:"schema,omitempty"`
	KeyFile string `json:"key_file,omitempty"`
	Round   int    `json:"round"`
	// RotateRoot adds a goroutine that rotates the root key in a loop.
	RotateRoot bool `json:"rotate_root,omitempty"`
}

// crashPlaintext is what the child encrypts under version v of name.
func crashPlaintext(name string, v int) []byte {
	return fmt.Appendf(nil, "crash test plaintext of %s version %d", name, v)
}

func TestCrashBolt(t *testing.T) {
	crashTest(t, crashConfig{Backend: "bolt", Dir: filepath.Join(t.TempDir(), "data")}, crashBoltRounds, crashBoltRootEvery)
}

func TestCrashPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	kf := filepath.Join(t.TempDir(), "unseal.key")
	if _, err := keyfile.Create(kf); err != nil {
		t.Fatal(err)
	}
	crashTest(t, crashConfig{Backend: "postgres", DSN: dsn, Schema: pgtest.FreshSchema(t, dsn), KeyFile: kf}, crashPostgresRounds, crashPostgresRootEvery)
}

// crashOpen opens the store cfg names, as the product would. Only the
// child initialises a new PostgreSQL store: after the first round the
// parent must find it initialised. (OpenDir initialises by itself; a lost
// root record would show as keys that no longer open.)
func crashOpen(ctx context.Context, cfg crashConfig, mayInit bool, logger *slog.Logger) (*custodian.Custodian, error) {
	// Re-sealing one key per page makes a root rotation last long enough
	// (a commit per key) for a kill aimed at it to land inside.
	opts := custodian.Options{RotationCheckInterval: -1, Logger: logger, ResealBatch: 1}
	switch cfg.Backend {
	case "bolt":
		return custodian.OpenDir(ctx, cfg.Dir, opts)
	case "postgres":
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
	kf, err := keyfile.Open(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, cfg.DSN, postgres.Options{Schema: cfg.Schema})
	if err != nil {
		return nil, err
	}
	opts.Store, opts.Seal = st, kf
	c, err := custodian.Open(ctx, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	s, err := c.Status(ctx)
	switch {
	case err == nil && !s.Initialized && !mayInit:
		err = errors.New("the store is not initialized")
	case err == nil && !s.Initialized:
		_, err = c.Init(ctx, custodian.InitOptions{})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// crashTest runs rounds of child, kill, check on one store.
func crashTest(t *testing.T, cfg crashConfig, rounds, rootEvery int) {
	start := time.Now()
	m := &crashModel{keys: map[string]*crashKey{}}
	rootRounds, interrupted := 0, 0
	for round := range rounds {
		cfg.Round = round
		cfg.RotateRoot = round%rootEvery == 1 || (rootRounds > 0 && interrupted == 0)
		if cfg.RotateRoot {
			rootRounds++
		}
		run := crashRunChild(t, cfg)
		for _, line := range run.lines {
			if err := m.apply(round, line); err != nil {
				t.Fatalf("round %d: the child's report %q: %v", round, line, err)
			}
		}
		checked := time.Now()
		// The first interrupted rotation is left to the next child, to be
		// resumed there and killed again.
		leave := interrupted == 0 && round+1 < rounds
		hit := crashVerify(t, cfg, m, round, leave)
		note := ""
		switch {
		case hit && leave:
			note = "; the kill interrupted a root rotation, left for the next child to resume"
		case hit:
			note = "; the kill interrupted a root rotation, resumed and finished here"
		}
		if hit {
			interrupted++
		}
		t.Logf("round %d: %d reports, killed %v after the first report (or the root rotation it aimed at); reopened and checked in %v%s", round, len(run.lines),
			run.delay.Round(time.Millisecond), time.Since(checked).Round(time.Millisecond), note)
	}
	if interrupted == 0 {
		t.Errorf("in %d rounds that rotated the root key, no kill landed inside a rotation: resuming an interrupted root rotation went untested", rootRounds)
	}
	t.Logf("%d rounds in %v: %s; %d kills inside a root rotation", rounds, time.Since(start).Round(time.Millisecond), m.summary(), interrupted)
}

// crashRun is what one child reported before it was killed, and when.
type crashRun struct {
	lines []string
	delay time.Duration // from the first report to the kill
}

// crashRunChild runs one child until a random kill and returns the lines
// it reported: every complete line it wrote before it died, including
// those still in the pipe when the kill came.
func crashRunChild(t *testing.T, cfg crashConfig) crashRun {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildVar+"="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("round %d: start the child: %v", cfg.Round, err)
	}
	lines := make(chan string, 1024)
	go crashReadLines(stdout, lines)
	run, killed := crashKillAtRandom(cmd, lines, cfg.RotateRoot)
	werr := cmd.Wait()
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("round %d: the race detector reported in the child:\n%s", cfg.Round, stderr.String())
	}
	switch {
	case !killed && len(run.lines) == 0:
		t.Fatalf("round %d: the child reported nothing within %v (%v); its stderr:\n%s", cfg.Round, crashChildLimit, werr, stderr.String())
	case !killed:
		t.Fatalf("round %d: the child ended before it was killed (%v) after %d reports; its stderr:\n%s", cfg.Round, werr, len(run.lines), stderr.String())
	case cmd.ProcessState.ExitCode() != -1:
		t.Fatalf("round %d: the child exited by itself (%v) as it was being killed; its stderr:\n%s", cfg.Round, werr, stderr.String())
	case stderr.Len() > 0:
		// A custodian logs only failures of its background work.
		t.Fatalf("round %d: the child wrote to stderr:\n%s", cfg.Round, stderr.String())
	}
	return run
}

// crashReadLines sends each complete line of r to lines, and closes lines
// at the end. A last line without its newline was cut by the kill: it
// acknowledges nothing, and is dropped.
func crashReadLines(r io.Reader, lines chan<- string) {
	defer close(lines)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		lines <- strings.TrimSuffix(line, "\n")
	}
}

// crashKillAtRandom collects the child's lines and kills it with SIGKILL
// crashMinDelay to crashMaxDelay after its first report or, if aim, up to
// crashAimDelay after a root rotation has switched keys and re-seals, so
// that the kill lands inside one. (Aiming at "try rotate-root" missed on a
// slow machine: the switch waits for in-flight writes to drain, and a kill
// before it leaves nothing to resume.) It reports false if the child
// ended, or stayed silent for crashChildLimit, before the kill.
func crashKillAtRandom(cmd *exec.Cmd, lines <-chan string, aim bool) (run crashRun, killed bool) {
	run.delay = crashMinDelay + rand.N(crashMaxDelay-crashMinDelay)
	var fire <-chan time.Time
	silence := time.NewTimer(crashChildLimit)
	defer silence.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return run, false
			}
			run.lines = append(run.lines, line)
			if aim && line == "switched rotate-root" {
				aim = false
				run.delay = rand.N(crashAimDelay)
				fire = time.After(run.delay)
			}
			if fire == nil {
				fire = time.After(run.delay)
			}
		case <-fire:
			return crashKill(cmd, lines, run), true
		case <-silence.C:
			return crashKill(cmd, lines, run), false
		}
	}
}

// crashKill sends SIGKILL, so that no deferred function, flush or Close
// runs in the child, and collects the lines still in the pipe: they were
// written, so acknowledged, before the child died.
func crashKill(cmd *exec.Cmd, lines <-chan string, run crashRun) crashRun {
	cmd.Process.Kill()
	for line := range lines {
		run.lines = append(run.lines, line)
	}
	return run
}

// crashVerify reopens the store after a kill and checks it against the
// model; it fails the test on any problem. It reports whether the kill
// interrupted a root rotation. Then the store is checked while the
// rotation resumes in the background, and, unless leave, again once it has
// finished; with leave, the rotation is left unfinished to the next child.
func crashVerify(t *testing.T, cfg crashConfig, m *crashModel, round int, leave bool) (interrupted bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*crashResumeLimit)
	defer cancel()
	logs := &crashLog{}
	c, err := crashOpen(ctx, cfg, false, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("round %d: the store does not reopen after the kill: %v", round, err)
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil || !st.Initialized || st.Sealed {
		t.Fatalf("round %d: after reopening, Status() = %+v, %v; want initialised and unsealed", round, st, err)
	}
	interrupted = st.Terms > 1
	problems := m.check(ctx, c)
	switch {
	case interrupted && !m.rootPending:
		problems = append(problems, fmt.Sprintf("the keyring has %d terms, but no root rotation was in flight", st.Terms))
	case interrupted && leave:
	case interrupted:
		if err := crashAwaitOneTerm(ctx, c); err != nil {
			problems = append(problems, err.Error())
		}
		problems = append(problems, m.check(ctx, c)...)
		m.rootPending = false
	default:
		m.rootPending = false
	}
	if s := logs.String(); s != "" {
		problems = append(problems, "the reopened custodian logged:\n"+s)
	}
	if len(problems) > 0 {
		if len(problems) > 40 {
			problems = append(problems[:40], fmt.Sprintf("… and %d more", len(problems)-40))
		}
		t.Fatalf("round %d (killed %s): %d problems after reopening the store:\n%s",
			round, map[bool]string{true: "during a root rotation", false: "during key operations"}[interrupted],
			len(problems), strings.Join(problems, "\n"))
	}
	return interrupted
}

// crashAwaitOneTerm waits for the background re-sealing of an interrupted
// root rotation to finish.
func crashAwaitOneTerm(ctx context.Context, c *custodian.Custodian) error {
	deadline := time.Now().Add(crashResumeLimit)
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("Status while the root rotation resumes: %w", err)
		}
		if st.Terms == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the interrupted root rotation did not finish within %v of reopening: %d keyring terms remain", crashResumeLimit, st.Terms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashLog collects what a Custodian logs; a healthy one logs nothing.
type crashLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *crashLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *crashLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// crashKey is what the parent knows of a key from the child's reports.
type crashKey struct {
	created bool // acknowledged, or found done after the kill
	version int  // the latest version acknowledged (or found)
	revoked bool // acknowledged, or found done after the kill
	// pending is the operation begun and not acknowledged when the child
	// died: it may or may not have happened. One at most, since one
	// goroutine at a time works on a key.
	pending string
	round   int                          // the round of the last acknowledgement
	cts     map[int]custodian.Ciphertext // one per version
}

// crashModel is everything the children acknowledged, over all rounds.
type crashModel struct {
	keys      map[string]*crashKey
	rootOK    int // root rotations acknowledged
	rootBegun int
	// rootPending: a root rotation was begun, and neither acknowledged
	// nor seen finished since.
	rootPending bool
	created     int // creates acknowledged
	rotated     int // rotations acknowledged
	revokedAck  int // revocations acknowledged
}

func (m *crashModel) summary() string {
	cts := 0
	for _, k := range m.keys {
		cts += len(k.cts)
	}
	return fmt.Sprintf("%d keys, %d creates, %d rotations and %d revocations acknowledged, %d ciphertexts; %d root rotations begun, %d acknowledged",
		len(m.keys), m.created, m.rotated, m.revokedAck, cts, m.rootBegun, m.rootOK)
}

// apply takes one report line into the model, and refuses a report that
// contradicts the earlier ones.
func (m *crashModel) apply(round int, line string) error {
	f := strings.Fields(line)
	switch {
	case len(f) == 2 && f[0] == "ready":
		return nil
	case len(f) == 2 && f[0] == "try" && f[1] == "rotate-root":
		m.rootBegun++
		m.rootPending = true
		return nil
	case len(f) == 2 && f[0] == "switched" && f[1] == "rotate-root":
		return nil
	case len(f) == 2 && f[0] == "ok" && f[1] == "rotate-root":
		m.rootOK++
		m.rootPending = false
		return nil
	case len(f) == 3 && f[0] == "try":
		return m.begin(f[1], f[2])
	case (len(f) == 3 || len(f) == 4) && f[0] == "ok":
		return m.acknowledge(round, f[1:])
	case len(f) == 4 && f[0] == "ct":
		return m.ciphertext(f[1], f[2], f[3])
	}
	return errors.New("not a report")
}

func (m *crashModel) begin(op, name string) error {
	k := m.keys[name]
	switch {
	case op == "create" && k != nil:
		return errors.New("a second create of the same name")
	case op == "create":
		m.keys[name] = &crashKey{pending: op, cts: map[int]custodian.Ciphertext{}}
		return nil
	case op != "rotate" && op != "revoke":
		return errors.New("unknown operation")
	case k == nil || !k.created || k.revoked || k.pending != "":
		return errors.New("the key is not known to be live and idle")
	}
	k.pending = op
	return nil
}

func (m *crashModel) acknowledge(round int, f []string) error {
	op, name := f[0], f[1]
	k := m.keys[name]
	if k == nil || k.pending != op {
		return errors.New("acknowledges an operation that was not begun")
	}
	k.pending, k.round = "", round
	switch {
	case op == "create" && len(f) == 2:
		k.created, k.version = true, 1
		m.created++
	case op == "rotate" && len(f) == 3:
		v, err := strconv.Atoi(f[2])
		if err != nil || v != k.version+1 {
			return fmt.Errorf("rotation to version %s after version %d", f[2], k.version)
		}
		k.version = v
		m.rotated++
	case op == "revoke" && len(f) == 2:
		k.revoked = true
		m.revokedAck++
	default:
		return errors.New("malformed acknowledgement")
	}
	return nil
}

func (m *crashModel) ciphertext(name, version, text string) error {
	k := m.keys[name]
	v, err := strconv.Atoi(version)
	if err != nil || k == nil || !k.created || v != k.version {
		return errors.New("a ciphertext under a version not acknowledged last")
	}
	ct, err := custodian.ParseCiphertext(text)
	if err != nil {
		return err
	}
	k.cts[v] = ct
	return nil
}

// check compares the reopened store with the model, settles the
// operations that were in flight at the kill by what the store shows,
// and returns every discrepancy, naming the acknowledged operation lost.
func (m *crashModel) check(ctx context.Context, c *custodian.Custodian) []string {
	var problems []string
	listed, err := crashListAll(ctx, c)
	if err != nil {
		problems = append(problems, fmt.Sprintf("ListKeys: %v", err))
	}
	for _, name := range slices.Sorted(maps.Keys(m.keys)) {
		k := m.keys[name]
		got, err := c.GetKey(ctx, name)
		p, gone := k.settle(name, got, err)
		problems = append(problems, p...)
		if gone {
			delete(m.keys, name)
			continue
		}
		if err == nil && listed != nil && !listed[name] {
			problems = append(problems, fmt.Sprintf("key %s: GetKey finds it but ListKeys does not list it", name))
		}
		problems = append(problems, k.decryptAll(ctx, c, name)...)
	}
	for name := range listed {
		if m.keys[name] == nil {
			problems = append(problems, fmt.Sprintf("key %s is in the store, but no child ever began creating it", name))
		}
	}
	return problems
}

// settle checks what the store holds of one key against what was
// acknowledged, then takes the store's word for operations in flight.
// gone reports an unacknowledged create that did not happen.
func (k *crashKey) settle(name string, got *custodian.Key, err error) (problems []string, gone bool) {
	switch {
	case errors.Is(err, custodian.ErrKeyNotFound) && k.created:
		return []string{fmt.Sprintf("LOST acknowledged create: key %s (acknowledged in round %d) is not in the store", name, k.round)}, false
	case errors.Is(err, custodian.ErrKeyNotFound):
		return nil, true
	case err != nil:
		return []string{fmt.Sprintf("key %s (acknowledged in round %d): GetKey: %v", name, k.round, err)}, false
	}
	if !k.created {
		k.created, k.version = true, 1 // the create in flight happened
	}
	most := k.version
	if k.pending == "rotate" {
		most++
	}
	switch {
	case got.LatestVersion < k.version:
		problems = append(problems, fmt.Sprintf("LOST acknowledged rotation: key %s was rotated to version %d (acknowledged in round %d), the store has latest version %d", name, k.version, k.round, got.LatestVersion))
	case got.LatestVersion > most:
		problems = append(problems, fmt.Sprintf("key %s has latest version %d, but version %d was the last acknowledged and %q was in flight", name, got.LatestVersion, k.version, k.pending))
	}
	if got.PrimaryVersion != got.LatestVersion || len(got.Versions) != got.LatestVersion {
		problems = append(problems, fmt.Sprintf("key %s: primary version %d, latest %d, %d versions listed: every rotation makes the latest version primary", name, got.PrimaryVersion, got.LatestVersion, len(got.Versions)))
	}
	switch {
	case k.revoked && got.State != custodian.StateRevoked:
		problems = append(problems, fmt.Sprintf("LOST acknowledged revoke: key %s was revoked (acknowledged in round %d), the store has it %s", name, k.round, got.State))
	case got.State == custodian.StateRevoked && !k.revoked && k.pending != "revoke":
		problems = append(problems, fmt.Sprintf("key %s is revoked, but its revocation was never begun", name))
	case got.State != custodian.StateRevoked && got.State != custodian.StateEnabled:
		problems = append(problems, fmt.Sprintf("key %s is %s; the children only enable and revoke", name, got.State))
	}
	k.version, k.revoked, k.pending = got.LatestVersion, got.State == custodian.StateRevoked, ""
	return problems, false
}

// decryptAll decrypts every ciphertext reported under k: each gives its
// plaintext back, or ErrKeyRevoked once k is revoked.
func (k *crashKey) decryptAll(ctx context.Context, c *custodian.Custodian, name string) []string {
	var problems []string
	for v, ct := range k.cts {
		pt, err := c.Decrypt(ctx, ct, &custodian.DecryptOptions{Key: name})
		switch {
		case k.revoked && !errors.Is(err, custodian.ErrKeyRevoked):
			problems = append(problems, fmt.Sprintf("ciphertext under key %s version %d: Decrypt gave %q, %v; want ErrKeyRevoked, the key is revoked", name, v, pt, err))
		case k.revoked:
		case err != nil:
			problems = append(problems, fmt.Sprintf("LOST: ciphertext under key %s version %d (acknowledged by round %d) does not decrypt: %v", name, v, k.round, err))
		case !bytes.Equal(pt, crashPlaintext(name, v)):
			problems = append(problems, fmt.Sprintf("ciphertext under key %s version %d decrypts to %q, want %q", name, v, pt, crashPlaintext(name, v)))
		}
	}
	return problems
}

// crashListAll returns the names of every key in the store.
func crashListAll(ctx context.Context, c *custodian.Custodian) (map[string]bool, error) {
	names := map[string]bool{}
	opts := &custodian.ListOptions{PageSize: 1000}
	for {
		page, err := c.ListKeys(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, k := range page.Keys {
			names[k.Name] = true
		}
		if page.NextPageToken == "" {
			return names, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// TestCrashChild is the child process of TestCrashBolt and
// TestCrashPostgres. It works until it is killed, and returns only on an
// error, which it writes to stderr before exiting with status 1.
func TestCrashChild(t *testing.T) {
	raw := os.Getenv(crashChildVar)
	if raw == "" {
		t.Skip("the child process of TestCrashBolt and TestCrashPostgres: runs only when they start it")
	}
	err := crashChild(raw)
	fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
	os.Exit(1)
}

func crashChild(raw string) error {
	var cfg crashConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), crashChildLimit)
	defer cancel()
	c, err := crashOpen(ctx, cfg, true, nil)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	owned, n, err := crashOwned(ctx, c)
	if err != nil {
		return err
	}
	out := &crashOut{w: os.Stdout}
	out.line("ready %d", n)
	errs := make(chan error, crashWorkers+1)
	for w := range crashWorkers {
		go func() { errs <- crashWorker(ctx, c, out, cfg.Round, w, owned[w]) }()
	}
	if cfg.RotateRoot {
		go func() { errs <- crashRotateRoot(ctx, c, out) }()
	}
	return <-errs
}

// crashOwned deals the live keys out among the workers, by a hash of
// their names, so that each key has one worker: its versions and state
// then follow from the reports alone.
func crashOwned(ctx context.Context, c *custodian.Custodian) (owned [crashWorkers][]string, n int, err error) {
	opts := &custodian.ListOptions{PageSize: 1000}
	for {
		page, err := c.ListKeys(ctx, opts)
		if err != nil {
			return owned, n, err
		}
		for _, k := range page.Keys {
			n++
			if k.State == custodian.StateEnabled {
				h := fnv.New32a()
				h.Write([]byte(k.Name))
				w := h.Sum32() % crashWorkers
				owned[w] = append(owned[w], k.Name)
			}
		}
		if page.NextPageToken == "" {
			return owned, n, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// crashOut writes report lines, each in one write(2) of a few hundred
// bytes, so that a line in the pipe is whole and follows its operation.
type crashOut struct {
	mu sync.Mutex
	w  io.Writer // unbuffered: os.Stdout
}

func (o *crashOut) line(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format+"\n", args...)
}

// crashWorker creates, rotates and revokes its keys until an error.
func crashWorker(ctx context.Context, c *custodian.Custodian, out *crashOut, round, w int, live []string) error {
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch r := rand.IntN(100); {
		case len(live) < 4 || r < 30:
			name := fmt.Sprintf("r%02d-w%d-%d", round, w, n)
			if err = crashCreate(ctx, c, out, name); err == nil {
				live = append(live, name)
			}
		case r < 80:
			err = crashRotate(ctx, c, out, live[rand.IntN(len(live))])
		default:
			i := rand.IntN(len(live))
			err = crashRevoke(ctx, c, out, live[i])
			live = slices.Delete(live, i, i+1)
		}
		if err != nil {
			return err
		}
	}
}

func crashCreate(ctx context.Context, c *custodian.Custodian, out *crashOut, name string) error {
	out.line("try create %s", name)
	if _, err := c.CreateKey(ctx, name, nil); err != nil {
		return err
	}
	out.line("ok create %s", name)
	return crashEncrypt(ctx, c, out, name, 1)
}

func crashRotate(ctx context.Context, c *custodian.Custodian, out *crashOut, name string) error {
	out.line("try rotate %s", name)
	k, err := c.RotateKey(ctx, name)
	if err != nil {
		return err
	}
	out.line("ok rotate %s %d", name, k.LatestVersion)
	return crashEncrypt(ctx, c, out, name, k.LatestVersion)
}

func crashRevoke(ctx context.Context, c *custodian.Custodian, out *crashOut, name string) error {
	out.line("try revoke %s", name)
	if _, err := c.RevokeKey(ctx, name); err != nil {
		return err
	}
	out.line("ok revoke %s", name)
	return nil
}

// crashEncrypt encrypts under the primary version, which is v: only this
// worker rotates the key.
func crashEncrypt(ctx context.Context, c *custodian.Custodian, out *crashOut, name string, v int) error {
	ct, err := c.Encrypt(ctx, name, crashPlaintext(name, v), nil)
	if err != nil {
		return err
	}
	out.line("ct %s %d %s", name, v, ct)
	return nil
}

// crashRotateRoot rotates the root key now and then, while the workers
// write.
func crashRotateRoot(ctx context.Context, c *custodian.Custodian, out *crashOut) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(crashRootPause)):
		}
		out.line("try rotate-root")
		rotated := make(chan struct{})
		go crashReportSwitch(ctx, c, out, rotated)
		_, err := c.RotateRoot(ctx, custodian.RotateRootOptions{})
		close(rotated)
		if err != nil {
			return err
		}
		out.line("ok rotate-root")
	}
}

// crashReportSwitch reports "switched rotate-root" once the keyring in the
// store holds more than one term, which is while a rotation re-seals.
// Status waits while RotateRoot switches keys, then reads the root record.
func crashReportSwitch(ctx context.Context, c *custodian.Custodian, out *crashOut, rotated <-chan struct{}) {
	for {
		if st, err := c.Status(ctx); err == nil && st.Terms > 1 {
			select {
			case <-rotated: // already over: nothing left to aim at
			default:
				out.line("switched rotate-root")
			}
			return
		}
		select {
		case <-rotated:
			return
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}
