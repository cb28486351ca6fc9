// Package cli is the custodian command: "custodian server" runs the
// server (package service), and every other command drives a server over
// the native API through package client. cmd/custodian only calls Main.
//
// # A tour
//
//	custodian server --dev                  # prints the two export lines below
//	export CUSTODIAN_ADDR=http://127.0.0.1:8200
//	export CUSTODIAN_TOKEN=kct1....
//
//	custodian key create payments           # aes256-gcm, the default
//	echo -n 'card 4111' | custodian encrypt --key payments > card.kc1
//	custodian decrypt --in card.kc1         # card 4111
//	custodian key rotate payments
//	custodian rewrap --in card.kc1 --out card.kc1
//
//	custodian key create signer --type ed25519
//	custodian sign --key signer --in release.tar.gz --out release.sig
//	custodian verify --key signer --signature release.sig --in release.tar.gz
//	custodian key public signer > signer.pem      # for openssl and friends
//
//	custodian key list --prefix pay
//	custodian key show payments --output json
//	custodian key delete payments --pending-days 7
//	custodian backup kc-$(date +%F).backup
//
// The original Python module's walkthrough, byte-compatible:
//
//	custodian key create secure_channel_1 --type aes256-cbc
//	echo -n 'Confidential Communication' | custodian encrypt --key secure_channel_1 --format raw > aes.b64
//	custodian decrypt --key secure_channel_1 --format raw --in aes.b64
//	custodian key create systemRSA --type rsa-2048
//	echo -n 'Classified Information' | custodian encrypt --key systemRSA --algorithm rsa-pkcs1v15 --format raw > rsa.b64
//	custodian decrypt --key systemRSA --algorithm rsa-pkcs1v15 --format raw --in rsa.b64
//	custodian key create dh --type dh-ffdhe2048 && custodian key public dh
//	custodian key revoke secure_channel_1
//	custodian decrypt --key secure_channel_1 --format raw --in aes.b64
//	# custodian: decrypt "secure_channel_1": key is revoked   (exit code 1)
//
// A production server with a Shamir seal:
//
//	custodian server --config /etc/custodian/config.yaml
//	custodian operator init --shares 5 --threshold 3   # shares and root token, once
//	custodian operator unseal                          # three holders, one share each on stdin
//	custodian operator status
//
// # Commands
//
//	custodian server [--dev] [--config FILE] [--addr A] [--data DIR] [a flag for every setting]
//	custodian status
//	custodian operator init|unseal|seal|status|rekey|rotate-root|rotate-due-keys|new-root-token
//	custodian key create NAME [--type T] [--usage U] [--exportable] [--description D] [--rotation-period 90d] [--label k=v]...
//	custodian key import NAME --type T [--in FILE]
//	custodian key list [--prefix P]
//	custodian key show|rotate|enable|disable|revoke|cancel-delete|destroy NAME
//	custodian key update NAME [--description D] [--label k=v]... [--clear-labels] [--rotation-period P] [--min-decryption-version N]
//	custodian key delete NAME [--pending-days 30]
//	custodian key public NAME [--format pem|der] [--version N]
//	custodian key export NAME [--version N]
//	custodian encrypt --key NAME [--aad TEXT] [--algorithm A] [--format text|raw] [--version N]
//	custodian decrypt [--key NAME] [--aad TEXT] [--algorithm A] [--format text|raw] [--version N]
//	custodian rewrap [--key NAME] [--aad TEXT]
//	custodian datakey --key NAME [--bytes 32] [--no-plaintext] [--aad TEXT]
//	custodian sign --key NAME [--algorithm A] [--digest] [--version N]
//	custodian verify --key NAME --signature FILE [--algorithm A] [--digest] [--version N]
//	custodian mac --key NAME [--version N]
//	custodian verify-mac --key NAME --mac FILE [--version N]
//	custodian agree --key NAME --peer PEMFILE [--derive-key NEWNAME [--salt S] [--info I]]
//	custodian random [--bytes 32]
//	custodian backup FILE
//	custodian restore FILE [--share S]... [--shares-file FILE]
//	custodian version
//	custodian completion bash|zsh|fish|powershell
//
// Every command has --help with examples.
//
// # Connecting
//
// Commands other than server find the server through CUSTODIAN_ADDR (default
// http://127.0.0.1:8200, the dev server), authenticate with CUSTODIAN_TOKEN,
// and verify a TLS server against CUSTODIAN_CACERT; CUSTODIAN_CLIENT_CERT
// and CUSTODIAN_CLIENT_KEY give a client certificate for mutual TLS. The
// flags --addr, --ca-cert, --client-cert and --client-key override them;
// the token is read from the environment or from --token-file FILE, never
// from a flag's value, which other users could read in the process list.
//
// # Input and output
//
//   - Data comes from standard input or --in FILE, byte for byte ("echo"
//     adds a newline; "echo -n" does not), at most 4 MiB; use datakey and
//     encrypt locally for more.
//   - Results go to standard output or --out FILE. A file is written
//     atomically (a temporary file in the same directory, synced, renamed)
//     with mode 0600, so it is complete or untouched, never partial.
//   - Text results print as text: kc1: ciphertexts, PEM public keys, key
//     details, plaintexts as they are.
//   - Binary results (signatures, MACs, raw ciphertexts, DER public keys,
//     exported key material, random bytes, shared secrets) print as
//     standard base64 and a newline on standard output, and as raw bytes
//     with --out.
//   - Files the user gives back (verify --signature, verify-mac --mac,
//     decrypt --format raw, key import) may hold the raw bytes, their
//     standard base64, or PEM; the CLI tells them apart.
//   - --output json (or -o json) prints exactly one JSON object, the API's
//     response body for the call (docs/api.md), to standard output or
//     --out. When the command fails (exit code 1) it prints, on standard
//     output, the API's error body instead, such as {"error": {"code":
//     "key_revoked", "message": "..."}}, so that scripts compare the code,
//     never the message; errors from this side have the code "local", or
//     "unavailable" when the server cannot be reached.
//
// # Errors and exit codes
//
//	0  success
//	1  the command failed: the server refused (sealed, key revoked,
//	   invalid signature, ...), could not be reached, or a file could not
//	   be read or written
//	2  the command line is wrong: unknown command or flag, a missing or
//	   extra argument, a bad flag value
//
// A failure writes exactly one line to standard error naming the
// operation, the key and the problem, such as
//
//	custodian: decrypt "secure_channel_1": key is revoked
//
// and never a stack trace; a usage error adds one line saying which --help
// to read. verify and verify-mac fail (exit code 1) when the signature or
// MAC does not verify.
package cli
