package server

import (
	"bytes"
	"sync"
)

// LogBuffer is a log sink safe for concurrent requests. It is declared in
// a test file of package server, so that only tests see it, and exported,
// so that the internal tests and the external ones (package server_test)
// share one.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, as a log handler does with each record.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
