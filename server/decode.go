package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/keycustodian/custodian"
)

// badRequest is an ErrInvalidArgument about the request itself.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{custodian.ErrInvalidArgument}, args...)...)
}

// decode reads the request body into v, strictly: exactly one JSON
// object, no unknown fields, every value of its field's type.
func decode(r *http.Request, v any) error {
	body := &firstByte{r: r.Body}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if body.first != '{' {
		return badRequest("request body: want a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(tooBig.Limit)
		}
		return badRequest("request body: want exactly one JSON value; more follows it")
	}
	return nil
}

// decodeError turns encoding/json's error into a message that names the
// field where it can, and never echoes a value.
func decodeError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		b64     base64.CorruptInputError
		tooBig  *http.MaxBytesError
		invalid *json.InvalidUnmarshalError
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty: want a JSON object ({} when every field is optional)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body ends inside its JSON value")
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit)
	case errors.As(err, &syntax):
		return badRequest("request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		// Value is "number 1e9", "string" and the like: keep the kind,
		// drop the literal, which might be something the caller meant
		// to keep secret.
		kind, _, _ := strings.Cut(typ.Value, " ")
		if typ.Field == "" {
			return badRequest("request body: want a JSON object, not %s", kind)
		}
		return badRequest("field %q: want %s, not JSON %s", typ.Field, jsonKind(typ.Type), kind)
	case errors.As(err, &b64):
		return badRequest("a binary field is not valid standard base64 (at byte %d of its value)", int64(b64))
	case errors.As(err, &invalid):
		return err // a bug: internal
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("request body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	// Reading the body failed (the client went away, a read deadline),
	// or a field's own decoder refused its value.
	return badRequest("request body: %v", err)
}

// jsonKind names a Go type as the JSON a client would send.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.Kind().String()
}

// firstByte remembers the first non-space byte read through it.
type firstByte struct {
	r     io.Reader
	first byte
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.first == 0 {
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				f.first = c
				break
			}
		}
	}
	return n, err
}

// parseQuery parses a query string, refusing malformed escapes.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("query string: %v", err)
	}
	return q, nil
}

// param is a query parameter a route takes.
type param struct {
	Name, Type, Description string
}

// intParam reads an optional non-negative integer query parameter.
func intParam(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest("query parameter %s: want a non-negative integer", name)
	}
	return n, nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// reply writes a success.
func reply(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusOK, v) }
