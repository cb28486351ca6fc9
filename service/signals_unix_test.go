//go:build unix

package service

import (
	"context"
	"regexp"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RunWithSignals reloads on SIGHUP and shuts down on SIGTERM. The test
// signals its own process, which RunWithSignals has asked to be told.
func TestRunWithSignals(t *testing.T) {
	logs := new(syncBuffer)
	cfg := testConfig(t, logs)
	cfg.Dev = true
	var loads atomic.Int32
	load := func() (Config, error) {
		loads.Add(1)
		next := cfg
		if loads.Load() > 1 {
			next.LogLevel = "warn"
		}
		return next, nil
	}
	out := new(syncBuffer)
	done := make(chan error, 1)
	go func() { done <- RunWithSignals(context.Background(), load, out) }()
	waitFor(t, "the URL", func() bool { return regexp.MustCompile(`listening on http://`).MatchString(out.String()) })

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload", func() bool { return regexp.MustCompile(`log level changed.*level=warn`).MatchString(logs.String()) })
	if n := loads.Load(); n != 2 {
		t.Errorf("load called %d times, want 2", n)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunWithSignals = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	reopenStore(t, cfg)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
