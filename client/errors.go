package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// maxErrorBody bounds an error response read.
const maxErrorBody = 64 << 10

// remoteError reads an error response. The API's error body gives the code
// and message; any other body (a proxy's page, a load balancer's) gives a
// code chosen by the status, and a message naming the status, never the
// body's text.
func remoteError(route string, resp *http.Response, b []byte) *api.RemoteError {
	e := &api.RemoteError{Status: resp.StatusCode, RequestID: resp.Header.Get(api.HeaderRequestID)}
	var body api.ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		if e.Message == "" {
			e.Message = fmt.Sprintf("%s: %s (HTTP %d)", route, e.Code, e.Status)
		}
		return e
	}
	e.Code = codeForStatus(resp.StatusCode)
	e.Message = fmt.Sprintf("%s: HTTP %d %s from the server or a proxy before it, without an API error body (%s)",
		route, resp.StatusCode, http.StatusText(resp.StatusCode), contentType(resp))
	return e
}

// readErrorBody reads at most maxErrorBody bytes of an error response; a
// read error leaves what arrived, which then fails to decode.
func readErrorBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return b
}

// codeForStatus picks the code of an error response that has none.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "unavailable"
	case http.StatusRequestEntityTooLarge:
		// A proxy's body limit, below the route's.
		return "too_large"
	}
	return "internal"
}

// itemError is a batch item's error as the library's would be: an
// *api.RemoteError matching the code's sentinel, with the code's status.
func itemError(d *api.ErrorDetail, requestID string) error {
	if d == nil {
		return nil
	}
	e := &api.RemoteError{Code: d.Code, Message: d.Message, RequestID: requestID, Status: http.StatusInternalServerError}
	for _, row := range api.Codes {
		if row.Code == d.Code {
			e.Status = row.Status
		}
	}
	if e.Message == "" {
		e.Message = d.Code
	}
	return withIdentity(e)
}

// alsoMatches gives, for the codes of the library's state refusals, the
// second sentinel the library's error matches: a refusal because a key is
// revoked is ErrKeyRevoked and ErrInvalidKeyState alike, while
// api.RemoteError unwraps to its code's one sentinel.
var alsoMatches = map[string]error{
	"key_disabled":         custodian.ErrInvalidKeyState,
	"key_revoked":          custodian.ErrInvalidKeyState,
	"key_pending_deletion": custodian.ErrInvalidKeyState,
	"key_destroyed":        custodian.ErrInvalidKeyState,
}

// withIdentity returns e, or e together with the second sentinel its
// code stands for, so that errors.Is answers as it would in-process.
// Once api.RemoteError matches both itself, e is returned as it is.
func withIdentity(e *api.RemoteError) error {
	if also, ok := alsoMatches[e.Code]; ok && !errors.Is(e, also) {
		return &stateError{RemoteError: e, also: also}
	}
	return e
}

// stateError is an *api.RemoteError of a state refusal; errors.As finds
// the *api.RemoteError in it.
type stateError struct {
	*api.RemoteError
	also error
}

func (e *stateError) Unwrap() []error { return []error{e.RemoteError, e.also} }
