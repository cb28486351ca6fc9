// Package api is the contract of KeyCustodian's native JSON API, shared by
// the server and the client: the route table (method, path, body limit,
// timeout, the policy action each needs), the request and response bodies,
// and the error table that maps the library's sentinel errors to stable
// codes and HTTP statuses and back, so that errors.Is works over the
// network. docs/api.md describes the API for people; this package is its
// single source for programs.
package api
