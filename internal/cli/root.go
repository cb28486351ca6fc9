package cli

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// rootCommand builds the command tree for one run.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "custodian",
		Short: "KeyCustodian: a key management service and its command line",
		Long: `KeyCustodian creates, stores, rotates and retires cryptographic keys and
performs every operation with them, so that applications never hold
long-lived key material.

"custodian server" runs the server; every other command talks to one, found
through the environment:

  CUSTODIAN_ADDR     the server's address (default http://127.0.0.1:8200)
  CUSTODIAN_TOKEN    the root token (or --token-file FILE)
  CUSTODIAN_CACERT   a PEM file of the CA that signed the server's certificate

Input comes from standard input or --in FILE; output goes to standard output
or --out FILE (written atomically, mode 0600). Binary results (signatures,
MACs, raw ciphertexts, random bytes, shared secrets, key material) print as
standard base64 on standard output and as raw bytes with --out. --output json
prints exactly one JSON object, the API's response body; when the command
fails it is the API's error body, {"error": {"code": ..., "message": ...}}.

Exit codes: 0 success; 1 the command failed (one line on standard error says
why); 2 the command line is wrong.`,
		Example: `  custodian server --dev
  export CUSTODIAN_ADDR=http://127.0.0.1:8200 CUSTODIAN_TOKEN=...
  custodian key create payments
  echo -n 'card 4111' | custodian encrypt --key payments > card.kc1
  custodian decrypt --in card.kc1`,
		Version:           a.env.Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              groupArgs,
		RunE:              groupHelp,
		PersistentPreRunE: a.checkGlobal,
	}
	root.SetVersionTemplate("custodian {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.StringVar(&a.global.addr, "addr", "", "the server's `URL` (default $CUSTODIAN_ADDR, or "+defaultAddr+")")
	pf.StringVar(&a.global.tokenFile, "token-file", "", "read the token from `FILE` instead of $CUSTODIAN_TOKEN")
	pf.StringVar(&a.global.caCert, "ca-cert", "", "PEM `FILE` of the CA that signed the server's certificate (default $CUSTODIAN_CACERT)")
	pf.StringVar(&a.global.clientCert, "client-cert", "", "PEM certificate `FILE` for mutual TLS (default $CUSTODIAN_CLIENT_CERT)")
	pf.StringVar(&a.global.clientKey, "client-key", "", "PEM private key `FILE` for mutual TLS (default $CUSTODIAN_CLIENT_KEY)")
	pf.StringVarP(&a.global.output, "output", "o", outputText, "output `FORM`: text or json")
	root.RegisterFlagCompletionFunc("output", fixedCompletion(outputText, outputJSON))

	root.AddGroup(
		&cobra.Group{ID: "data", Title: "Using keys:"},
		&cobra.Group{ID: "keys", Title: "Managing keys:"},
		&cobra.Group{ID: "ops", Title: "Running and operating the server:"},
	)
	for _, c := range []*cobra.Command{
		a.encryptCommand(), a.decryptCommand(), a.rewrapCommand(), a.datakeyCommand(),
		a.signCommand(), a.verifyCommand(), a.macCommand(), a.verifyMACCommand(),
		a.agreeCommand(), a.randomCommand(),
	} {
		c.GroupID = "data"
		root.AddCommand(c)
	}
	k := a.keyCommand()
	k.GroupID = "keys"
	root.AddCommand(k)
	for _, c := range []*cobra.Command{
		a.serverCommand(), a.statusCommand(), a.operatorCommand(),
		a.backupCommand(), a.restoreCommand(), a.versionCommand(),
	} {
		c.GroupID = "ops"
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("ops")
	root.SetCompletionCommandGroupID("ops")
	return root
}

// checkGlobal checks the global flags before any command runs, and makes
// SIGINT and SIGTERM cancel the command's context, so that an interrupted
// backup or --out leaves no temporary file. The server handles its own
// signals.
func (a *app) checkGlobal(cmd *cobra.Command, _ []string) error {
	if !slices.Contains([]string{outputText, outputJSON}, a.global.output) {
		return fmt.Errorf("--output %q: want text or json", a.global.output)
	}
	if cmd.Name() != "server" {
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		go func() {
			<-ctx.Done()
			stop() // a second signal has its default effect
		}()
		a.stopSignals = stop
		cmd.SetContext(ctx)
	}
	return nil
}

// groupArgs refuses an unknown subcommand of a command that only groups
// others (cobra would print the help and succeed).
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return fmt.Errorf("unknown command %q for %q; the commands are %s", args[0], cmd.CommandPath(), strings.Join(names, ", "))
}

// groupHelp is the action of a command that only groups others.
func groupHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// fixedCompletion completes a flag from a fixed list.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// exactArgs is cobra.ExactArgs with the arguments named in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return fmt.Errorf("missing %s", strings.Join(names[len(args):], " and "))
		}
		return fmt.Errorf("unexpected argument %q: %s takes %s", args[len(names)], cmd.CommandPath(), plural(len(names), "argument"))
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q: %s takes no arguments (input comes from standard input or --in)", args[0], cmd.CommandPath())
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
