// Package server serves a Custodian over KeyCustodian's native JSON API:
// the routes of package api, nothing else, each mapped to one library
// call. New returns an http.Handler; the process around it (listeners,
// TLS, http.Server timeouts, signals) is package service's.
//
// # Requests
//
// Every response carries X-Request-Id: the caller's, if it sent a sane one
// (at most 64 characters of A-Z a-z 0-9 - _), else 16 random bytes in hex.
// Every route except the public ones (health, seal status, init, unseal,
// restore, the OpenAPI document and the metrics) needs
// "Authorization: Bearer <root token>", checked by
// Custodian.CheckRootToken in constant time; while the Custodian is sealed
// those routes answer 503 "sealed" before looking at the token.
//
// Bodies are JSON objects, decoded strictly: unknown fields, a second
// value after the first, wrong types and bad base64 are 400
// "invalid_argument"; an empty body is refused too (send {} when every
// field is optional). A body over the route's limit is 413 "too_large".
// Routes whose limit is zero take no body and refuse a non-empty one with
// 400, so that options a client thinks it sends are never silently
// dropped. Query parameters other than those a route documents are
// refused the same way. Each route's context ends after its timeout;
// library calls that honour the context then fail with 503 "timeout".
//
// # Errors
//
// One adapter turns every handler's error into the body
// {"error":{"code","message"}} with the status of its row in api.Codes.
// Messages of known codes are the library's, which name the operation and
// the key and never material; anything else is "internal error" with the
// request id, and only the log has the cause. Panics are recovered the
// same way. Unknown paths and methods get JSON 404 and 405 bodies, never
// net/http's plain text.
//
// # Logs and metrics
//
// One slog line per request: route, method, status, code, duration,
// request id and the key name from the path. Never bodies, tokens,
// plaintexts or key material. Prometheus metrics: requests by route and
// code, latency by route, seal status, and keys by state (destroyed
// tombstones included), counted by reading every key record
// (Custodian.CountKeys) at most once per Options.KeyCountInterval (5
// minutes by default) so that scraping a large store is not a scan each
// time.
//
// # Compatibility
//
// The routes, bodies and codes are package api's contract; docs/api.md
// describes them and /v1/openapi.json is generated from the route table.
// New fields may appear in responses; clients ignore them.
package server
