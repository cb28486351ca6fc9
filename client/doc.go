// Package client is the Go client of KeyCustodian's native JSON API. A
// *Client satisfies custodian.KeyManager, like the embedded
// *custodian.Custodian, so a program switches between in-process and
// remote key management by changing the line that makes one:
//
//	kms, err := custodian.OpenDir(ctx, dir, custodian.Options{}) // in-process
//	kms, err := client.New("https://kms.internal:8200", opts)    // remote
//
// Errors wrap the library's sentinels either way: an error response
// becomes an *api.RemoteError whose Unwrap is the sentinel of its code, so
// errors.Is(err, custodian.ErrKeyRevoked) holds over the network. A batch
// item's error is an *api.RemoteError too. The operator calls (Init,
// Unseal, Seal, Rekey, RotateRoot, Backup, Restore) are methods of Client
// beside the KeyManager ones.
//
// # Security
//
// The root token travels only in the Authorization header, and only to
// routes that need it; it is held as a secret.Bytes, and Client and
// Options print it as REDACTED through fmt, log/slog and encoding/json.
// Errors name the route and the server's address, never the token or a
// request body. Plain http is refused except to a loopback address, where
// the token cannot cross a network; TLS can verify the server against a
// private CA (CACertFile, CACertPEM) and present a client certificate
// (mTLS). There is no option to skip verification: a client that cannot
// tell the server from an impostor hands it the token and every plaintext.
// Redirects are not followed, so a response can never send the token or a
// request body elsewhere.
//
// # Retries
//
// Calls that change no state (reads, encrypt, decrypt, rewrap, sign,
// verify, MACs, data keys, random bytes, export, agree without deriving
// a key, batch encrypt and decrypt) are retried on transient failures: a
// connection refused or reset, a 502 or 504, and a 503 whose code is
// "unavailable" or "timeout". A sealed or uninitialized server (also
// 503) is not transient. Calls that change state are sent once: a create
// or rotate whose response was lost may have happened, and sending it
// again would make a second key or version. Backoff doubles from
// Options.RetryBackoff with jitter from crypto/rand, and stops when the
// context ends.
//
// # Compatibility
//
// Responses are decoded with unknown fields ignored, so a newer server may
// add fields; an error code this build does not know matches
// api.ErrInternal. The client does not check the server's version.
package client
