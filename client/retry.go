package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/keycustodian/custodian/api"
)

// retryable lists the routes whose calls change no state, and so may be
// sent again when a response is lost. A retried encrypt or data key
// returns a different ciphertext or key, which is as good as the lost one.
// Agree is here, and DeriveKey, on the same route, turns it off: it
// creates a key.
var retryable = map[string]bool{
	api.RouteHealth:       true,
	api.RouteSealStatus:   true,
	api.RouteRandom:       true,
	api.RouteListKeys:     true,
	api.RouteGetKey:       true,
	api.RoutePublicKey:    true,
	api.RouteExportKey:    true,
	api.RouteEncrypt:      true,
	api.RouteDecryptKey:   true,
	api.RouteDecrypt:      true,
	api.RouteRewrap:       true,
	api.RouteEncryptBatch: true,
	api.RouteDecryptBatch: true,
	api.RouteDataKey:      true,
	api.RouteSign:         true,
	api.RouteVerify:       true,
	api.RouteMAC:          true,
	api.RouteVerifyMAC:    true,
	api.RouteAgree:        true,
}

// transientStatus reports whether an error response may go away if the
// call is sent again: a gateway that could not reach the server, or a
// server shutting down or overloaded. A sealed or uninitialized server
// answers 503 too, but stays so until an operator acts.
func transientStatus(e *api.RemoteError) bool {
	switch e.Status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	case http.StatusServiceUnavailable:
		return e.Code == "unavailable" || e.Code == "timeout"
	}
	return false
}

// transientTransport reports whether a failure to get a response may go
// away: a refused or reset connection, one closed early (a server
// restarting, an idle connection the server had closed), an attempt that
// timed out. A TLS or certificate failure, a bad address or a name that
// does not resolve is not.
func transientTransport(err error) bool {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// The attempt's own timeout; the caller's context is checked
		// before this is asked.
		return true
	case errors.As(err, &dns):
		return dns.IsTemporary || dns.IsTimeout
	}
	return false
}

// backoff returns the wait before retry number n+1: base doubled n times,
// capped at MaxRetryBackoff, of which the upper half is random (from
// crypto/rand: the module takes no randomness from math/rand) so that
// clients failed by one outage do not come back in step.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < MaxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxRetryBackoff)
	half := d / 2
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil || half <= 0 {
		return d
	}
	return half + time.Duration(binary.LittleEndian.Uint64(b[:])%uint64(half+1))
}
