// Command custodian is KeyCustodian's command-line tool. In this release it
// only reports its version; the server and the key commands arrive with the
// server.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] != "version" && os.Args[1] != "--version" {
		fmt.Fprintf(os.Stderr, "custodian: unknown command %q; this release has only \"custodian version\"\n", os.Args[1])
		os.Exit(2)
	}
	fmt.Println("custodian", version)
}
