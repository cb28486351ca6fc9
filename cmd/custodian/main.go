// Command custodian is KeyCustodian's one binary: "custodian server" runs
// the server, and every other command drives one over its native API. The
// commands live in internal/cli; see its package documentation, or run
// "custodian --help".
package main

import (
	"context"
	"os"

	"github.com/keycustodian/custodian/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Version: version}))
}
