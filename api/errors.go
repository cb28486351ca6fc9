package api

import (
	"errors"
	"net/http"

	"github.com/keycustodian/custodian"
)

// Errors of the API itself, beside the library's sentinels. The client
// returns errors that wrap these (or the library's) so that callers use
// errors.Is whether the key manager is in-process or remote.
var (
	// ErrForbidden: the token may not do this.
	ErrForbidden = errors.New("permission denied")
	// ErrTooLarge: the request body is over the route's limit.
	ErrTooLarge = errors.New("request too large")
	// ErrNoRoute: no such path.
	ErrNoRoute = errors.New("no such route")
	// ErrMethodNotAllowed: the path exists but not with this method.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrTimeout: the request took longer than its route allows.
	ErrTimeout = errors.New("request timed out")
	// ErrInternal: the server failed; its log has the cause.
	ErrInternal = errors.New("internal error")
)

// Code is one row of the error table: a stable machine code, the HTTP
// status it travels with, and the sentinel error it stands for.
type Code struct {
	Code   string
	Status int
	Err    error
}

// Codes is the error table, shared by the server (sentinel to code and
// status) and the client (code back to sentinel). Order matters: the first
// row whose sentinel an error matches gives its code, so the specific
// state sentinels come before ErrInvalidKeyState, which they also match.
// docs/api.md lists it; a test checks the two agree.
var Codes = []Code{
	{"key_not_found", http.StatusNotFound, custodian.ErrKeyNotFound},
	{"key_exists", http.StatusConflict, custodian.ErrKeyExists},
	{"key_disabled", http.StatusConflict, custodian.ErrKeyDisabled},
	{"key_revoked", http.StatusConflict, custodian.ErrKeyRevoked},
	{"key_pending_deletion", http.StatusConflict, custodian.ErrKeyPendingDeletion},
	{"key_destroyed", http.StatusConflict, custodian.ErrKeyDestroyed},
	{"invalid_key_state", http.StatusConflict, custodian.ErrInvalidKeyState},
	{"key_version_not_allowed", http.StatusBadRequest, custodian.ErrKeyVersionNotAllowed},
	{"invalid_ciphertext", http.StatusBadRequest, custodian.ErrInvalidCiphertext},
	{"invalid_signature", http.StatusBadRequest, custodian.ErrInvalidSignature},
	{"invalid_mac", http.StatusBadRequest, custodian.ErrInvalidMAC},
	{"unsupported_operation", http.StatusBadRequest, custodian.ErrUnsupportedOperation},
	{"invalid_shares", http.StatusBadRequest, custodian.ErrInvalidShares},
	{"invalid_argument", http.StatusBadRequest, custodian.ErrInvalidArgument},
	{"sealed", http.StatusServiceUnavailable, custodian.ErrSealed},
	{"not_initialized", http.StatusServiceUnavailable, custodian.ErrNotInitialized},
	{"already_initialized", http.StatusConflict, custodian.ErrAlreadyInitialized},
	{"unavailable", http.StatusServiceUnavailable, custodian.ErrClosed},
	{"unauthorized", http.StatusUnauthorized, custodian.ErrInvalidToken},
	{"forbidden", http.StatusForbidden, ErrForbidden},
	{"too_large", http.StatusRequestEntityTooLarge, ErrTooLarge},
	{"no_route", http.StatusNotFound, ErrNoRoute},
	{"method_not_allowed", http.StatusMethodNotAllowed, ErrMethodNotAllowed},
	{"timeout", http.StatusServiceUnavailable, ErrTimeout},
	{"integrity", http.StatusInternalServerError, custodian.ErrIntegrity},
	{"internal", http.StatusInternalServerError, ErrInternal},
}

// CodeFor returns the table row err matches, or the "internal" row.
func CodeFor(err error) Code {
	for _, c := range Codes {
		if errors.Is(err, c.Err) {
			return c
		}
	}
	return Codes[len(Codes)-1]
}

// ErrorFor returns the sentinel of a code, or ErrInternal for a code this
// build does not know (a newer server's).
func ErrorFor(code string) error {
	for _, c := range Codes {
		if c.Code == code {
			return c.Err
		}
	}
	return ErrInternal
}

// ErrorBody is the body of every error response:
//
//	{"error": {"code": "key_not_found", "message": "get \"payments\": key not found"}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error itself. Message is safe to show a client: it
// names the operation, the key and what was wrong, never key material.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RemoteError is what the client returns for an error response. It
// matches, with errors.Is, the sentinel of its code.
type RemoteError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel of the error's code and, for a refusal
// because of a key's state, ErrInvalidKeyState too, as the library's own
// state errors match both.
func (e *RemoteError) Unwrap() []error {
	err := ErrorFor(e.Code)
	switch err {
	case custodian.ErrKeyDisabled, custodian.ErrKeyRevoked, custodian.ErrKeyPendingDeletion, custodian.ErrKeyDestroyed:
		return []error{err, custodian.ErrInvalidKeyState}
	}
	return []error{err}
}
