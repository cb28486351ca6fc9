package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
)

// handlerFunc is every route's handler: it reads the request, calls the
// library and writes a success; its error is the adapter's to write.
type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request) error

// noRoute is the route of requests that match none: 404 or 405.
var noRoute = api.Route{Name: "none", Timeout: 10 * time.Second, Public: true}

// adapt returns the handler of one route: the only place that sets the
// request id, authenticates, bounds the body and the time, writes errors,
// logs and counts.
func (s *Server) adapt(rt api.Route, b binding) http.Handler {
	m := s.metrics.route(rt.Name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get(api.HeaderRequestID))
		h := w.Header()
		h.Set(api.HeaderRequestID, id)
		// Responses carry plaintexts, data keys and tokens.
		h.Set("Cache-Control", "no-store")
		rw := &responseWriter{ResponseWriter: w, id: id}
		ctx, cancel := context.WithTimeout(r.Context(), rt.Timeout)
		defer cancel()
		r = r.WithContext(ctx)

		err := s.run(rt, b, rw, r)
		began := rw.wroteBody
		row := api.Code{Code: "ok", Status: http.StatusOK}
		var detail api.ErrorDetail
		if err != nil {
			row, detail = s.classify(err, id)
			if !rw.wroteHeader {
				if row.Status == http.StatusUnauthorized {
					h.Set("WWW-Authenticate", `Bearer realm="custodian"`)
				}
				writeJSON(rw, row.Status, api.ErrorBody{Error: detail})
			}
		}
		elapsed := time.Since(start)
		m.observe(row.Code, elapsed)
		s.logRequest(ctx, rt, r, rw.status(), row, id, elapsed, err, detail)
		if err != nil && began {
			// The response was under way (a backup stream): cut the
			// connection, so the client sees a truncated body and not a
			// complete-looking one.
			panic(http.ErrAbortHandler)
		}
	})
}

// run authenticates, bounds the body and calls the handler, turning a
// panic into an error.
func (s *Server) run(rt api.Route, b binding, w *responseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	if !rt.Public {
		if err := s.authorize(r); err != nil {
			return err
		}
	}
	if rt.Name != noRoute.Name {
		if err := checkQuery(b.query, r); err != nil {
			return err
		}
		if err := limitBody(rt, w.ResponseWriter, r); err != nil {
			return err
		}
	}
	return b.handle(s, w, r)
}

// panicError is a recovered panic; it maps to "internal".
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.value, e.stack) }

// authorize checks the bearer token. A sealed Custodian answers
// ErrSealed whatever the token, so a client learns to unseal, not to
// change its token.
func (s *Server) authorize(r *http.Request) error {
	token, ok := bearer(r.Header.Get("Authorization"))
	err := s.c.CheckRootToken(r.Context(), token)
	if err != nil && !ok && errors.Is(err, custodian.ErrInvalidToken) {
		return fmt.Errorf("%w: send Authorization: Bearer <token>", err)
	}
	return err
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(h string) ([]byte, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return nil, false
	}
	return []byte(strings.TrimSpace(h[len(scheme):])), true
}

// limitBody bounds the request body to the route's limit. A route with no
// limit takes no body and refuses one.
func limitBody(rt api.Route, w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	if rt.BodyLimit == 0 {
		if r.ContentLength > 0 {
			return errUnwantedBody
		}
		if r.ContentLength < 0 {
			var one [1]byte
			if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
				return errUnwantedBody
			}
		}
		return nil
	}
	if r.ContentLength > rt.BodyLimit {
		return tooLarge(rt.BodyLimit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, rt.BodyLimit)
	return nil
}

var errUnwantedBody = fmt.Errorf("%w: this route takes no request body", custodian.ErrInvalidArgument)

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: the body is over this route's limit of %d bytes", api.ErrTooLarge, limit)
}

// checkQuery refuses query parameters the route does not take, and
// repeated ones.
func checkQuery(allowed []param, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	for name, vs := range q {
		known := false
		for _, p := range allowed {
			known = known || p.Name == name
		}
		if !known {
			return fmt.Errorf("%w: unknown query parameter %q", custodian.ErrInvalidArgument, name)
		}
		if len(vs) > 1 {
			return fmt.Errorf("%w: query parameter %q given %d times", custodian.ErrInvalidArgument, name, len(vs))
		}
	}
	return nil
}

// requestID returns the caller's request id if it is sane, else a new one.
func requestID(given string) string {
	if given != "" && len(given) <= 64 && strings.IndexFunc(given, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) < 0 {
		return given
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// classify returns err's row of the error table and the detail to send.
// Errors outside the table, and context errors, are not the library's
// words: their detail hides the cause, which only the log gets.
func (s *Server) classify(err error, id string) (api.Code, api.ErrorDetail) {
	row := api.CodeFor(err)
	if row.Err == api.ErrInternal && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		row = api.CodeFor(api.ErrTimeout)
		return row, api.ErrorDetail{Code: row.Code, Message: "the request took longer than its route allows"}
	}
	var tooBig *http.MaxBytesError
	if row.Err == api.ErrInternal && errors.As(err, &tooBig) {
		row = api.CodeFor(api.ErrTooLarge)
		return row, api.ErrorDetail{Code: row.Code, Message: tooLarge(tooBig.Limit).Error()}
	}
	if row.Err == api.ErrInternal {
		return row, api.ErrorDetail{Code: row.Code, Message: "internal error; request id " + id}
	}
	return row, api.ErrorDetail{Code: row.Code, Message: err.Error()}
}

// itemError is the detail of one failed batch item. Internal causes are
// logged here, since the request itself succeeds.
func (s *Server) itemError(w http.ResponseWriter, r *http.Request, err error, index int) *api.ErrorDetail {
	var id string
	if rw, ok := w.(*responseWriter); ok {
		id = rw.id
	}
	row, d := s.classify(err, id)
	if row.Status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "batch item failed", slog.String("request_id", id),
			slog.Int("item", index), slog.String("code", row.Code), slog.Any("err", err))
	}
	return &d
}

// logRequest writes the request's one log line. It names the route and
// the key, never a body, a token or material.
func (s *Server) logRequest(ctx context.Context, rt api.Route, r *http.Request, status int, row api.Code, id string, elapsed time.Duration, err error, detail api.ErrorDetail) {
	// A server fault is an error whatever status went out first (a
	// backup stream that broke off went out as 200).
	fault := status >= 500 || row.Status >= 500
	level := slog.LevelInfo
	if fault {
		level = slog.LevelError
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("route", rt.Name), slog.String("method", r.Method), slog.Int("status", status),
		slog.String("code", row.Code), slog.Duration("duration", elapsed), slog.String("request_id", id))
	if name := r.PathValue("name"); name != "" {
		attrs = append(attrs, slog.String("key", name))
	}
	if rt.Name == noRoute.Name {
		attrs = append(attrs, slog.String("path", r.URL.Path))
	}
	if err != nil {
		if fault {
			attrs = append(attrs, slog.Any("err", err))
		} else {
			// The client's own message: safe, and useful to an operator.
			attrs = append(attrs, slog.String("err", detail.Message))
		}
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
}

// responseWriter records what was written, for the log, the metrics and
// for errors that come after the response began.
type responseWriter struct {
	http.ResponseWriter
	id          string
	code        int
	wroteHeader bool
	wroteBody   bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.wroteBody = w.wroteBody || len(b) > 0
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}
