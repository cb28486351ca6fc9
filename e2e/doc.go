// Package e2e holds the end-to-end tests of KeyCustodian: they build the
// custodian binary once, start real server processes on free loopback
// ports, and drive them through the CLI binary and the Go client.
//
//   - script_test.go runs the CLI scripts in testdata/cli (the original
//     module's walkthrough among them), a small testscript-like language
//     described in testdata/cli/README.
//   - commands_test.go runs every command and checks it against the Go
//     client, both ways.
//   - lifecycle_test.go restarts a server on its data directory, runs a
//     sealed Shamir server from a config file through init, unseal, seal,
//     rekey, rotate-root, backup and restore, and shuts a server down with
//     SIGTERM under load, checking that no acknowledged write is lost.
//   - interop_test.go moves data between the CLI and the openssl command
//     line and Python cryptography; those tests skip, naming the missing
//     tool, when it is not installed (CI installs both).
//
// The servers run a binary built with -race when the tests are, so the
// server processes are race-checked too; the CLI runs a plain build,
// which starts in milliseconds rather than a second. The package has no
// non-test code.
package e2e
