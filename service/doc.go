// Package service is the running KeyCustodian server: it opens the store
// and the seal, a custodian over them, and serves the native API (package
// server) over HTTP or HTTPS until told to stop. `custodian server` is a
// thin wrapper around RunWithSignals; tests and programs that embed a
// server use Start or Run.
//
// # Configuration
//
// Config holds every setting. Each has a key in the YAML config file, an
// environment variable (CUSTODIAN_ and the key in capitals) and a flag,
// and the highest source wins: flag > environment > file > default.
// Load does all of that; the CLI may instead call LoadFile, ApplyEnv and
// Set (for each flag given) itself. Settings lists them for the CLI's
// flags and the docs; docs/server.md is the reference table.
//
//	listen_addr              CUSTODIAN_LISTEN_ADDR              --addr
//	tls_cert_file            CUSTODIAN_TLS_CERT_FILE            --tls-cert
//	tls_key_file             CUSTODIAN_TLS_KEY_FILE             --tls-key
//	tls_client_ca_file       CUSTODIAN_TLS_CLIENT_CA_FILE       --tls-client-ca
//	data_dir                 CUSTODIAN_DATA_DIR                 --data
//	postgres_dsn             CUSTODIAN_POSTGRES_DSN             --postgres-dsn
//	postgres_schema          CUSTODIAN_POSTGRES_SCHEMA          --postgres-schema
//	seal                     CUSTODIAN_SEAL                     --seal
//	key_file                 CUSTODIAN_KEY_FILE                 --key-file
//	log_format               CUSTODIAN_LOG_FORMAT               --log-format
//	log_level                CUSTODIAN_LOG_LEVEL                --log-level
//	max_header_bytes         CUSTODIAN_MAX_HEADER_BYTES         --max-header-bytes
//	read_header_timeout      CUSTODIAN_READ_HEADER_TIMEOUT      --read-header-timeout
//	read_timeout             CUSTODIAN_READ_TIMEOUT             --read-timeout
//	write_timeout            CUSTODIAN_WRITE_TIMEOUT            --write-timeout
//	idle_timeout             CUSTODIAN_IDLE_TIMEOUT             --idle-timeout
//	shutdown_timeout         CUSTODIAN_SHUTDOWN_TIMEOUT         --shutdown-timeout
//	max_batch_items          CUSTODIAN_MAX_BATCH_ITEMS          --max-batch-items
//	max_concurrent_requests  CUSTODIAN_MAX_CONCURRENT_REQUESTS  --max-concurrent-requests
//	dev                      CUSTODIAN_DEV                      --dev
//
// The config file itself is --config or CUSTODIAN_CONFIG. The listen
// address is CUSTODIAN_LISTEN_ADDR, not CUSTODIAN_ADDR: that one is the
// client's URL, which a user pastes from the dev server's output, and a
// server restarted in that shell must not read it.
//
// # Dev mode
//
// Dev mode keeps everything in the data directory: a bbolt store, a
// keyfile seal's key file, and the root token in DevTokenFile (0600). The
// first start initialises the store; every start unseals it and prints
// the root token with the export lines for CUSTODIAN_ADDR and
// CUSTODIAN_TOKEN. A later start reads the token back and checks it; a
// token file that is missing or no longer accepted is replaced with a new
// root token (custodian.NewRootToken), since the store keeps only the
// token's hash. Dev mode listens on loopback only.
//
// # Security
//
// Plain HTTP is served only on a loopback address; anywhere else TLS
// (1.2 or later) is required, checked before anything is bound, and once
// more against the address actually bound. With a client CA bundle every
// client must present a certificate it issued. The root token appears
// only on the dev server's standard output, never in the logs; a
// production server prints nothing secret (`custodian operator init`
// returns the token and shares over the API).
//
// # Signals and reloading
//
// RunWithSignals shuts down gracefully on SIGINT or SIGTERM: the listener
// closes, requests in flight get Config.ShutdownTimeout to finish, the
// rest are cut off (their contexts cancelled), and the custodian and its
// store are closed. A second signal kills the process. SIGHUP loads the
// configuration again and applies what can change live (Setting.Live):
// the log level, and the TLS certificate, key and client CA bundle, read
// again from disk. Every TLS handshake takes the current material from an
// atomic pointer, so connections already established keep theirs; a
// reload that fails keeps the old material and logs why. Start, Reload
// and Shutdown are the same steps without signals, for tests.
//
// # Restoring into a running server
//
// POST /v1/sys/restore reaches Service's restore through
// server.Options.Restore. It restores into the store the custodian is
// open on, never a second store, so nothing needs reopening:
//
//   - only while the custodian is uninitialised (a dev server never is);
//   - first a full check: the upload is restored into a store that keeps
//     nothing, while being spooled to a file (0600, in the data directory
//     or, with PostgreSQL, the temporary directory), so a truncated
//     upload, a tampered backup or a wrong key file or share fails with
//     nothing written;
//   - then the spooled backup is restored into the real store while a
//     gate holds off the custodian's own writes: key writes wait, and a
//     root record write (an Init racing the restore) fails as a conflict,
//     so that it does not hold the seal lock, and Status, meanwhile. The
//     client going away does not stop this pass, and Shutdown waits for
//     it;
//   - the custodian reads the root record from the store on each seal
//     operation and caches nothing about an uninitialised store, so it
//     sees the restored keys at once: a keyfile seal is unsealed
//     (Unseal with no share), a Shamir seal is left sealed for the
//     operators to unseal with the backup's shares.
//
// The gate is per process: with PostgreSQL, restore through one server
// while no other serves the same schema.
package service
