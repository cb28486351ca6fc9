package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/keycustodian/custodian/api"
	"github.com/keycustodian/custodian/client"
	"github.com/spf13/cobra"
)

// Exit codes.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitError: the command ran and failed: the server refused
	// (sealed, key revoked, invalid signature, ...), could not be
	// reached, or a file could not be read or written.
	ExitError = 1
	// ExitUsage: the command line is wrong: an unknown command or flag, a
	// missing or extra argument, a flag value out of range.
	ExitUsage = 2
)

// Env is the world a run of the command sees. Main fills zero fields
// from the process: os.Stdin, os.Stdout, os.Stderr and os.Getenv.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Version is the binary's version, set at build time.
	Version string
	// Dial connects to a key manager. Nil means the client package, over
	// the network.
	Dial func(ClientOptions) (Remote, error)
}

// app is one run of the command: its environment and global flags, and
// the key manager once a command has asked for it.
type app struct {
	env    Env
	global globalFlags
	remote Remote
	// stopSignals ends the command's signal handling.
	stopSignals func()
}

// globalFlags are the persistent flags of every command.
type globalFlags struct {
	addr, tokenFile, caCert, clientCert, clientKey string
	output                                         string
	out                                            string
}

// Output forms of --output.
const (
	outputText = "text"
	outputJSON = "json"
)

// Main runs the custodian command with args (without the program name)
// and returns its exit code. On failure it writes one line to stderr,
// "custodian: " and what went wrong; for a usage error, a second line
// says where the usage is.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Dial == nil {
		env.Dial = dialClient
	}
	a := &app{env: env}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if a.stopSignals != nil {
		a.stopSignals()
	}
	if err == nil {
		return ExitOK
	}
	var re *runError
	if errors.As(err, &re) {
		msg := a.explain(re.err)
		a.reportJSONError(re.err, msg)
		fmt.Fprintf(env.Stderr, "custodian: %s\n", msg)
		return ExitError
	}
	// Anything cobra or a flag check returned is a usage error.
	fmt.Fprintf(env.Stderr, "custodian: %s\n", oneLine(err.Error()))
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return ExitUsage
}

// Command returns the command tree, for documentation generators and
// tests; Main is the way to run it.
func Command(env Env) *cobra.Command {
	root := (&app{env: env}).rootCommand()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	return root
}

// runError marks an error from a command's work, as opposed to its
// command line: exit code 1, no usage hint.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// usageError is an error in the command line found by a command itself
// (a flag combination cobra cannot check): exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// run adapts a command's work to cobra: errors it returns are runtime
// errors unless they are usage errors.
func run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil {
			return nil
		}
		var ue *usageError
		if errors.As(err, &ue) {
			return ue
		}
		return &runError{err}
	}
}

// oneLine keeps an error message to the one line the CLI promises.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		rest := strings.Fields(s[i:])
		s = s[:i] + " " + strings.Join(rest, " ")
	}
	return s
}

// explain returns the one line that reports err: its message, with a
// hint where the cause is on this side (no token, no server).
func (a *app) explain(err error) string {
	opts, _ := a.clientOptions()
	var remote *api.RemoteError
	var netErr *net.OpError
	switch {
	case errors.As(err, &remote):
		if remote.Code == "unauthorized" && opts.Token == "" {
			return oneLine(err.Error()) + " (set CUSTODIAN_TOKEN, or give --token-file)"
		}
	case errors.Is(err, client.ErrClientCertificateRequired):
		return oneLine(fmt.Sprintf("the server at %s asked for a client certificate and none was given: certificate required (give --client-cert and --client-key, or set CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY)", addrForErrors(opts.Addr)))
	case errors.As(err, &netErr):
		addr := addrForErrors(opts.Addr)
		if netErr.Op == "dial" {
			return oneLine(fmt.Sprintf("cannot reach the server at %s: %v", addr, netErr))
		}
		return oneLine(fmt.Sprintf("the connection to the server at %s failed: %v", addr, netErr))
	}
	return oneLine(err.Error())
}

// addrForErrors names the server addr for an error message: addr, or the
// default, said to be one.
func addrForErrors(addr string) string {
	if addr == "" {
		return defaultAddr + " (the default; set CUSTODIAN_ADDR or --addr)"
	}
	return addr
}

// client returns the key manager, connecting on first use.
func (a *app) client() (Remote, error) {
	if a.remote != nil {
		return a.remote, nil
	}
	opts, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	r, err := a.env.Dial(opts)
	if err != nil {
		return nil, err
	}
	a.remote = r
	return r, nil
}

// clientOptions reads CUSTODIAN_ADDR, CUSTODIAN_TOKEN, CUSTODIAN_CACERT,
// CUSTODIAN_CLIENT_CERT and CUSTODIAN_CLIENT_KEY; flags win over them.
func (a *app) clientOptions() (ClientOptions, error) {
	g := a.global
	o := ClientOptions{
		Addr:           firstNonEmpty(g.addr, a.env.Getenv("CUSTODIAN_ADDR")),
		Token:          a.env.Getenv("CUSTODIAN_TOKEN"),
		CACertFile:     firstNonEmpty(g.caCert, a.env.Getenv("CUSTODIAN_CACERT")),
		ClientCertFile: firstNonEmpty(g.clientCert, a.env.Getenv("CUSTODIAN_CLIENT_CERT")),
		ClientKeyFile:  firstNonEmpty(g.clientKey, a.env.Getenv("CUSTODIAN_CLIENT_KEY")),
	}
	if g.tokenFile != "" {
		b, err := os.ReadFile(g.tokenFile)
		if err != nil {
			return o, fmt.Errorf("token file: %w", err)
		}
		o.Token = strings.TrimSpace(string(b))
	}
	return o, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// reportJSONError prints, under --output json, the error as the API's
// error body on stdout, so that scripts compare err.code, never message
// text. Errors from this side of the network have the code "local", or
// "unavailable" when the server could not be reached.
func (a *app) reportJSONError(err error, msg string) {
	if !a.isJSON() {
		return
	}
	code := "local"
	var remote *api.RemoteError
	var netErr net.Error
	switch {
	case errors.As(err, &remote):
		code = remote.Code
	case api.CodeFor(err).Err != api.ErrInternal:
		code = api.CodeFor(err).Code
	case errors.As(err, &netErr):
		code = "unavailable"
	}
	b, _ := marshalJSON(api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg}})
	a.env.Stdout.Write(b)
}
