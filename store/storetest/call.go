package storetest

import (
	"testing"
	"time"
)

// Call is a function running in its own goroutine: a write that a test
// lets queue behind a commit it holds open, to check what happens to it.
type Call struct {
	done chan struct{}
	err  error
}

// Go starts f in its own goroutine.
func Go(f func() error) *Call {
	c := &Call{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.err = f()
	}()
	return c
}

// Wait returns f's error, failing the test if f takes 20 seconds.
func (c *Call) Wait(t testing.TB, what string) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// Returned reports whether f returned within d.
func (c *Call) Returned(d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}
