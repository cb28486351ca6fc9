//go:build unix

package keyfile_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keycustodian/custodian/seal/keyfile"
)

// TestOpenRefusesFIFO: opening a FIFO blocks until a writer comes, so a
// FIFO at the key file's path must be refused before it is opened, not
// hang the server's start.
func TestOpenRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unseal.key")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := keyfile.Open(path)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Open of a FIFO = %v, want a 'not a regular file' error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open of a FIFO hangs")
	}
}
