package cli

import (
	"strconv"
	"time"

	"github.com/keycustodian/custodian/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serverCommand is "custodian server". Its flags come from the service's
// table of settings, so that every setting has one and the two never
// drift apart.
func (a *app) serverCommand() *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the KeyCustodian server",
		Long: `Run the KeyCustodian server until SIGINT or SIGTERM, then shut down
gracefully: requests in flight finish and the store is closed cleanly.
SIGHUP reloads the TLS certificate, key and client CA and the log level.

--dev is the quick start: an embedded store in ./custodian-data (or --data),
initialized and unsealed by a key file kept beside it, on 127.0.0.1:8200
only, with the root token printed and written to DATA/dev-root-token.
Restarting with the same data directory keeps every key. Not for keys that
matter.

In production give a YAML --config FILE (or $CUSTODIAN_CONFIG). Every setting
is also an environment variable (CUSTODIAN_ and the config key in capitals,
such as CUSTODIAN_DATA_DIR) and a flag; flags win over the environment,
which wins over the file. TLS is required off loopback. With the default
Shamir seal the server starts sealed: "custodian operator init" once, then
"custodian operator unseal" by share holders after each start.`,
		Example: `  custodian server --dev
  custodian server --dev --addr 127.0.0.1:8300 --data /tmp/kc
  custodian server --config /etc/custodian/config.yaml
  custodian server --addr 0.0.0.0:8200 --tls-cert cert.pem --tls-key key.pem --data /var/lib/custodian`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if a.isJSON() {
				return usagef("the server prints no JSON object; --log-format json makes its logs JSON")
			}
			flags := map[string]string{}
			var bad error
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if !isSetting(f.Name) {
					return
				}
				// Check the value now, so that a bad one is a usage error.
				scratch := service.Default()
				if err := scratch.Set(f.Name, f.Value.String()); err != nil && bad == nil {
					bad = usagef("%v", err)
				}
				flags[f.Name] = f.Value.String()
			})
			if bad != nil {
				return bad
			}
			load := func() (service.Config, error) {
				c, err := service.Load(configFile, a.env.Getenv, flags)
				c.Version = a.env.Version
				return c, err
			}
			return service.RunWithSignals(cmd.Context(), load, a.env.Stdout)
		}),
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML config `FILE` (default $"+service.EnvConfig+")")
	for _, s := range service.Settings() {
		v := newTextValue(s.Default)
		f := cmd.Flags().VarPF(v, s.Flag, "", s.Usage+" (env "+s.Env+")")
		if v.kind == "bool" {
			f.NoOptDefVal = "true"
		}
	}
	return cmd
}

func isSetting(flag string) bool {
	for _, s := range service.Settings() {
		if s.Flag == flag {
			return true
		}
	}
	return false
}

// textValue is a flag holding a setting's text form; the service parses
// it, so the CLI and the config file accept the same values. kind, read
// from the default, is what --help shows (bool, duration, int, string).
type textValue struct {
	v, kind string
}

func newTextValue(def string) *textValue {
	kind := "string"
	if _, err := strconv.ParseBool(def); err == nil {
		kind = "bool"
	} else if _, err := strconv.Atoi(def); err == nil {
		kind = "int"
	} else if _, err := time.ParseDuration(def); err == nil {
		kind = "duration"
	}
	return &textValue{def, kind}
}

func (t *textValue) String() string     { return t.v }
func (t *textValue) Set(s string) error { t.v = s; return nil }
func (t *textValue) Type() string       { return t.kind }
