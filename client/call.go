package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/internal/secret"
)

// ErrBadResponse is wrapped by errors for a 2xx response the client cannot
// read: not JSON, or missing a field the call needs. A proxy that answers
// for the server, or a server of another kind, sends such responses.
var ErrBadResponse = errors.New("malformed response from the server")

// ErrClientCertificateRequired is wrapped by errors for a call whose
// connection failed after the server asked for a client certificate in
// the TLS handshake, when none is configured: a server that requires one
// (mutual TLS) refuses the connection once the handshake is over.
var ErrClientCertificateRequired = errors.New("the server asked for a client certificate and none is configured: certificate required (set Options.ClientCertFile and ClientKeyFile, or CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY)")

// maxResponse bounds a JSON response read into memory: a full batch of
// data-bearing results, base64-encoded, fits.
const maxResponse = 128 << 20

// call is one API call.
type call struct {
	route string // api route name
	op    string // the library's name of the operation, if not opNames'
	name  string // the {name} path wildcard
	query url.Values
	// body is marshalled to JSON once and sent again as is on a retry.
	body any
	// stream, if set instead of body, is sent as it is read; such a call
	// is never retried.
	stream io.Reader
	header http.Header
	// out receives the JSON response; nil discards it.
	out any
	// download, if set, receives the response body as it arrives.
	download io.Writer
	written  int64
	// id is sent as X-Request-Id; requestID is the one the successful
	// response carried (the same, from a server that keeps it).
	id, requestID string
	// retry marks a call that changes no state (see retryable).
	retry bool
	// accept lists non-2xx statuses whose body is a response, not an
	// error (health's 503).
	accept []int
}

func newCall(route string) *call {
	return &call{route: route, retry: retryable[route]}
}

// opNames are the library's operation names, for the errors the client
// makes itself: the same words as the library's errors for the same call.
var opNames = map[string]string{
	api.RouteImportKey: "import", api.RouteGetKey: "get", api.RouteUpdateKey: "update",
	api.RouteRotateKey: "rotate", api.RouteEnableKey: "enable", api.RouteDisableKey: "disable",
	api.RouteRevokeKey: "revoke", api.RouteScheduleDel: "schedule-deletion", api.RouteCancelDel: "cancel-deletion",
	api.RouteDestroyKey: "destroy", api.RoutePublicKey: "public-key", api.RouteExportKey: "export",
	api.RouteEncrypt: "encrypt", api.RouteDecryptKey: "decrypt", api.RouteDataKey: "generate-data-key",
	api.RouteSign: "sign", api.RouteVerify: "verify", api.RouteMAC: "mac", api.RouteVerifyMAC: "verify-mac",
	api.RouteAgree: "agree",
}

func (cl *call) opName() string {
	if cl.op != "" {
		return cl.op
	}
	if op, ok := opNames[cl.route]; ok {
		return op
	}
	return cl.route
}

// do runs a call, retrying it while that is allowed and the failure
// transient.
func (c *Client) do(ctx context.Context, cl *call) error {
	r := api.RouteByName(cl.route)
	u, err := c.url(r, cl)
	if err != nil {
		return err
	}
	var body []byte
	if cl.body != nil {
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("client: %s: encode request: %w", r.Name, err)
		}
	}
	// One id for every attempt, so that the server's log shows retries
	// as one call.
	cl.id = newRequestID()
	retries := c.retries
	if !cl.retry || cl.stream != nil || cl.download != nil {
		retries = 0
	}
	for attempt := 0; ; attempt++ {
		transient, err := c.attempt(ctx, r, u, body, cl)
		if err == nil || !transient || attempt >= retries {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("client: %s: %w after %d attempts; last: %w", r.Name, context.Cause(ctx), attempt+1, err)
		}
		t := time.NewTimer(backoff(c.backoff, attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("client: %s: %w after %d attempts; last: %w", r.Name, context.Cause(ctx), attempt+1, err)
		case <-t.C:
		}
	}
}

// url returns the route's URL with its {name} wildcard filled in.
func (c *Client) url(r api.Route, cl *call) (*url.URL, error) {
	path := r.Path
	if strings.Contains(path, "{name}") {
		// A name that cannot be one path segment would be cleaned or
		// redirected away by the server's router; the library refuses
		// each as an invalid name.
		if cl.name == "" || cl.name == "." || cl.name == ".." {
			return nil, &custodian.Error{Op: cl.opName(), Key: cl.name,
				Err: fmt.Errorf("%w: key name must be 1 to %d characters of A-Z a-z 0-9 . _ / -, starting with a letter or digit", custodian.ErrInvalidArgument, custodian.MaxNameLength)}
		}
		path = strings.Replace(path, "{name}", url.PathEscape(cl.name), 1)
	}
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", r.Name, err)
	}
	u.RawQuery = cl.query.Encode()
	return u, nil
}

// attempt sends the request once and reports whether a failure is
// transient.
func (c *Client) attempt(ctx context.Context, r api.Route, u *url.URL, body []byte, cl *call) (transient bool, err error) {
	timeout := c.timeout
	if timeout == 0 {
		timeout = r.Timeout + timeoutMargin
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := c.request(actx, r, u, body, cl)
	if err != nil {
		return false, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return ctx.Err() == nil && transientTransport(err), c.transportError(ctx, r, u, cl.id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if !slices.Contains(cl.accept, resp.StatusCode) {
			rerr := remoteError(r.Name, resp, readErrorBody(resp))
			return transientStatus(rerr), withIdentity(rerr)
		}
		// A body that is not the expected one is the error it seems.
		b := readErrorBody(resp)
		if cl.out == nil || json.Unmarshal(b, cl.out) != nil {
			rerr := remoteError(r.Name, resp, b)
			return transientStatus(rerr), withIdentity(rerr)
		}
		cl.requestID = resp.Header.Get(api.HeaderRequestID)
		return false, nil
	}
	cl.requestID = resp.Header.Get(api.HeaderRequestID)
	if err := c.readResponse(r, resp, cl); err != nil {
		var we writeError
		if errors.Is(err, ErrBadResponse) || errors.As(err, &we) {
			return false, err
		}
		// The body broke off: as transient as a reset before it began.
		return ctx.Err() == nil && transientTransport(err), c.transportError(ctx, r, u, cl.id, err)
	}
	return false, nil
}

func (c *Client) request(ctx context.Context, r api.Route, u *url.URL, body []byte, cl *call) (*http.Request, error) {
	var rd io.Reader
	switch {
	case cl.stream != nil:
		rd = cl.stream
	case body != nil:
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", r.Name, err)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if cl.stream != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if cl.download != nil {
		req.Header.Set("Accept", "application/octet-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	if cl.id != "" {
		req.Header.Set(api.HeaderRequestID, cl.id)
	}
	if !r.Public && !c.token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+string(secret.Reveal(c.token)))
	}
	return req, nil
}

// readResponse reads a successful response into cl.out or cl.download.
func (c *Client) readResponse(r api.Route, resp *http.Response, cl *call) error {
	if cl.download != nil {
		n, err := io.Copy(writer{cl.download}, resp.Body)
		cl.written = n
		var we writeError
		if errors.As(err, &we) {
			return fmt.Errorf("client: %s: write the response: %w", r.Name, we)
		}
		return err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return err
	}
	if len(b) > maxResponse {
		return fmt.Errorf("client: %s: %w: over %d bytes", r.Name, ErrBadResponse, maxResponse)
	}
	if cl.out == nil {
		return nil
	}
	if err := json.Unmarshal(b, cl.out); err != nil {
		// The JSON error never quotes the body: it may hold plaintext.
		return fmt.Errorf("client: %s: %w: HTTP %d, %s: %w", r.Name, ErrBadResponse, resp.StatusCode, contentType(resp), jsonError(err))
	}
	return nil
}

// jsonError keeps the kind of a JSON error and drops any text of the
// document it quotes.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not JSON (syntax error at byte %d)", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q is not a %s", te.Field, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON ends early")
	}
	return errors.New("cannot decode JSON")
}

func contentType(resp *http.Response) string {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "no content type"
}

// transportError wraps a failure to get a response with the route and the
// server's address.
func (c *Client) transportError(ctx context.Context, r api.Route, u *url.URL, id string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	hint := ""
	var cve *tls.CertificateVerificationError
	var oe *net.OpError
	switch {
	case errors.As(err, &cve):
		hint = " (is the server's CA given in Options.CACertFile, or CUSTODIAN_CACERT?)"
	case !c.hasCert && c.certAsked.Load() && ctx.Err() == nil && !(errors.As(err, &oe) && oe.Op == "dial"):
		// The server asked for a certificate and got none; a failure
		// after connecting is most likely its refusal (see httpClient).
		err = fmt.Errorf("%w: %w", ErrClientCertificateRequired, err)
	case errors.As(err, &oe) && oe.Op == "remote error" && !c.hasCert:
		// A TLS alert from the server, to a client without a
		// certificate: most likely the server requires one.
		hint = " (does the server require a client certificate? Options.ClientCertFile and ClientKeyFile, or CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY)"
	}
	where := fmt.Sprintf("client: %s %s (request id %s)", r.Name, u.Redacted(), id)
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%s: %w: %w", where, context.Cause(ctx), err)
	}
	return fmt.Errorf("%s: %w%s", where, err, hint)
}

// writer tells the caller's write errors from the connection's read
// errors in io.Copy.
type writer struct{ w io.Writer }

func (w writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = writeError{err}
	}
	return n, err
}

type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// newRequestID returns 16 random hex digits, or "" if crypto/rand fails
// (the server then makes one).
func newRequestID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	return hex.EncodeToString(b[:])
}

func badResponse(route, what string) error {
	return fmt.Errorf("client: %s: %w: %s", route, ErrBadResponse, what)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
