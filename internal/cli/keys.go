package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/spf13/cobra"
)

// keyCommand is "custodian key" and its subcommands.
func (a *app) keyCommand() *cobra.Command {
	k := &cobra.Command{
		Use:   "key",
		Short: "Create, inspect and retire keys",
		Long: `Create, inspect and retire keys. A key has a name, a type fixed at creation,
numbered versions (rotate adds one and makes it primary) and a lifecycle:
enabled, disabled, revoked (for good), pending deletion, destroyed.`,
		Example: `  custodian key create payments
  custodian key create signer --type ed25519
  custodian key list --prefix pay
  custodian key rotate payments
  custodian key revoke payments`,
		Args: groupArgs,
		RunE: groupHelp,
	}
	k.AddCommand(
		a.keyCreateCommand(), a.keyImportCommand(), a.keyListCommand(), a.keyShowCommand(),
		a.keyUpdateCommand(), a.keyRotateCommand(),
		a.keyStateCommand("enable", "Enable a disabled key", "enabled", Remote.EnableKey),
		a.keyStateCommand("disable", "Disable a key until it is enabled again", "disabled", Remote.DisableKey),
		a.keyStateCommand("revoke", "Revoke a key for good: every later use fails", "revoked", Remote.RevokeKey),
		a.keyDeleteCommand(), a.keyCancelDeleteCommand(), a.keyDestroyCommand(),
		a.keyPublicCommand(), a.keyExportCommand(),
	)
	return k
}

// createFlags are the settings of a new key, shared by create and import.
type createFlags struct {
	typ, usage, description, rotation string
	exportable                        bool
	labels                            []string
}

func (f *createFlags) add(cmd *cobra.Command, defaultType string) {
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", defaultType, "key `TYPE`: "+strings.Join(keyTypeNames(), ", "))
	fl.StringVar(&f.usage, "usage", "", "what the key is for, for RSA types: encrypt (default) or sign")
	fl.BoolVar(&f.exportable, "exportable", false, "allow \"custodian key export\" (fixed at creation)")
	fl.StringVar(&f.description, "description", "", "a description, up to 1024 bytes")
	fl.StringVar(&f.rotation, "rotation-period", "", "rotate automatically this often: `PERIOD` like 90d or 36h")
	fl.StringArrayVar(&f.labels, "label", nil, "a label `KEY=VALUE`; repeat for more")
	cmd.RegisterFlagCompletionFunc("type", fixedCompletion(keyTypeNames()...))
	cmd.RegisterFlagCompletionFunc("usage", fixedCompletion(string(custodian.UsageEncrypt), string(custodian.UsageSign)))
}

func (f *createFlags) options() (*custodian.CreateOptions, error) {
	o := &custodian.CreateOptions{
		Type: custodian.KeyType(f.typ), Usage: custodian.KeyUsage(f.usage),
		Description: f.description, Exportable: f.exportable,
	}
	if f.rotation != "" {
		d, err := api.ParseDuration(f.rotation)
		if err != nil {
			return nil, usagef("--rotation-period: %v", err)
		}
		o.RotationPeriod = time.Duration(d)
	}
	labels, err := parseLabels(f.labels)
	if err != nil {
		return nil, err
	}
	o.Labels = labels
	return o, nil
}

// parseLabels reads --label k=v flags.
func parseLabels(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, l := range flags {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, usagef("--label %q: want KEY=VALUE", l)
		}
		labels[k] = v
	}
	return labels, nil
}

func keyTypeNames() []string {
	var names []string
	for _, t := range custodian.KeyTypes() {
		names = append(names, string(t))
	}
	return names
}

func (a *app) keyCreateCommand() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a key",
		Long: `Create a key with fresh material from the server's crypto/rand. The type
is fixed at creation; aes256-gcm is the default. RSA keys either encrypt
(the default) or sign, never both (--usage sign).`,
		Example: `  custodian key create payments
  custodian key create secure_channel_1 --type aes256-cbc --exportable
  custodian key create systemRSA --type rsa-2048
  custodian key create signer --type ecdsa-p256 --description "release signing" --label team=build
  custodian key create tokens --rotation-period 90d`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			return a.keyCall(func(c Remote) (*custodian.Key, error) {
				return c.CreateKey(cmd.Context(), args[0], opts)
			}, keyDetails)
		}),
	}
	f.add(cmd, string(custodian.DefaultKeyType))
	return cmd
}

func (a *app) keyImportCommand() *cobra.Command {
	var f createFlags
	var in string
	cmd := &cobra.Command{
		Use:   "import NAME --type TYPE --in FILE",
		Short: "Create a key from existing material",
		Long: `Create a key from existing material, read from --in FILE or standard input:
raw bytes for symmetric and HMAC keys, PKCS#8 for asymmetric ones (DER or
PEM). Base64 of either is accepted too. These are the forms "key export"
gives.`,
		Example: `  head -c 32 /dev/urandom > aes.key
  custodian key import legacy --type aes256-cbc --in aes.key
  openssl genpkey -algorithm ed25519 -out ed.pem
  custodian key import signer --type ed25519 --in ed.pem`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if f.typ == "" {
				return usagef("--type is required: the material does not say what it is")
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			b, err := a.readInput(in, "key material")
			if err != nil {
				return err
			}
			return a.keyCall(func(c Remote) (*custodian.Key, error) {
				return c.ImportKey(cmd.Context(), args[0], decodeBinary(b), opts)
			}, keyDetails)
		}),
	}
	f.add(cmd, "")
	a.inFlag(cmd, &in, "key material")
	return cmd
}

func (a *app) keyListCommand() *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys",
		Long:  "List keys in name order, optionally those whose name starts with a prefix.",
		Example: `  custodian key list
  custodian key list --prefix payments/
  custodian key list --output json | jq -r '.keys[].name'`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var keys []*custodian.Key
			opts := &custodian.ListOptions{Prefix: prefix, PageSize: 1000}
			for {
				page, err := c.ListKeys(cmd.Context(), opts)
				if err != nil {
					return err
				}
				keys = append(keys, page.Keys...)
				if page.NextPageToken == "" {
					break
				}
				opts.PageToken = page.NextPageToken
			}
			resp := api.ListKeysResponse{Keys: []*api.Key{}}
			for _, k := range keys {
				resp.Keys = append(resp.Keys, api.FromKey(k))
			}
			return a.emit(resp, keyTable(keys))
		}),
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only keys whose name starts with `PREFIX`")
	return cmd
}

// keyTable is the text form of a key listing.
func keyTable(keys []*custodian.Key) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tSTATE\tVERSION\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", k.Name, k.Type, k.State, k.PrimaryVersion, k.Created.UTC().Format(time.RFC3339))
	}
	w.Flush()
	return b.String()
}

func (a *app) keyShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "show NAME",
		Short:             "Show a key's settings, state and versions",
		Example:           "  custodian key show payments\n  custodian key show payments --output json",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE:              a.runKeyOp(Remote.GetKey, keyDetails),
	}
}

func (a *app) keyUpdateCommand() *cobra.Command {
	var description, rotation string
	var labels []string
	var minVersion int
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a key's description, labels, rotation period or minimum decryption version",
		Long: `Change a key's mutable settings; settings not given stay as they are.
--label replaces every label (give --clear-labels to remove them all);
--rotation-period 0 turns automatic rotation off; --min-decryption-version
refuses ciphertexts, signatures and MACs of older versions (rewrap old
ciphertexts first).`,
		Example: `  custodian key update payments --description "card data"
  custodian key update payments --rotation-period 30d
  custodian key update payments --min-decryption-version 3`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var u custodian.KeyUpdate
			fl := cmd.Flags()
			if fl.Changed("description") {
				u.Description = &description
			}
			if fl.Changed("label") {
				m, err := parseLabels(labels)
				if err != nil {
					return err
				}
				u.Labels = m
			}
			if clear, _ := fl.GetBool("clear-labels"); clear {
				if u.Labels != nil {
					return usagef("--clear-labels and --label contradict each other")
				}
				u.Labels = map[string]string{}
			}
			if fl.Changed("min-decryption-version") {
				u.MinDecryptionVersion = &minVersion
			}
			if fl.Changed("rotation-period") {
				var d time.Duration
				if rotation != "0" {
					p, err := api.ParseDuration(rotation)
					if err != nil {
						return usagef("--rotation-period: %v", err)
					}
					d = time.Duration(p)
				}
				u.RotationPeriod = &d
			}
			if u.Description == nil && u.Labels == nil && u.MinDecryptionVersion == nil && u.RotationPeriod == nil {
				return usagef("nothing to change: give --description, --label, --clear-labels, --rotation-period or --min-decryption-version")
			}
			return a.keyCall(func(c Remote) (*custodian.Key, error) {
				return c.UpdateKey(cmd.Context(), args[0], u)
			}, keyDetails)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&description, "description", "", "the new description")
	fl.StringArrayVar(&labels, "label", nil, "a label `KEY=VALUE`, replacing all labels; repeat for more")
	fl.Bool("clear-labels", false, "remove every label")
	fl.StringVar(&rotation, "rotation-period", "", "rotate automatically this often (`PERIOD` like 90d; 0 turns it off)")
	fl.IntVar(&minVersion, "min-decryption-version", 0, "the oldest `VERSION` that may decrypt and verify")
	return cmd
}

func (a *app) keyRotateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate NAME",
		Short: "Add a new key version and make it primary",
		Long: `Add a new version of a key and make it primary: it encrypts, signs and MACs
from now on, while older versions still decrypt and verify.`,
		Example:           "  custodian key rotate payments",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: a.runKeyOp(Remote.RotateKey, func(k *custodian.Key) string {
			return fmt.Sprintf("rotated %q: primary version %d", k.Name, k.PrimaryVersion)
		}),
	}
}

// keyStateCommand is enable, disable and revoke: one call, one state.
func (a *app) keyStateCommand(name, short, done string, op keyOp) *cobra.Command {
	return &cobra.Command{
		Use:               name + " NAME",
		Short:             short,
		Example:           fmt.Sprintf("  custodian key %s payments", name),
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: a.runKeyOp(op, func(k *custodian.Key) string {
			return fmt.Sprintf("%s %q", done, k.Name)
		}),
	}
}

func (a *app) keyDeleteCommand() *cobra.Command {
	var days int
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Schedule a key's destruction after a waiting period",
		Long: `Schedule a key's destruction: every use stops now, and after --pending-days
(7 to 30) the key's material may be destroyed ("key destroy", or the
server's own sweep). "key cancel-delete" undoes it until then.`,
		Example:           "  custodian key delete payments\n  custodian key delete payments --pending-days 7",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if days < 7 || days > 30 {
				return usagef("--pending-days %d: want 7 to 30", days)
			}
			return a.keyCall(func(c Remote) (*custodian.Key, error) {
				return c.ScheduleKeyDeletion(cmd.Context(), args[0], time.Duration(days)*24*time.Hour)
			}, func(k *custodian.Key) string {
				return fmt.Sprintf("scheduled %q for deletion on %s", k.Name, k.DeletionDate.UTC().Format(time.RFC3339))
			})
		}),
	}
	cmd.Flags().IntVar(&days, "pending-days", 30, "days before the key may be destroyed, 7 to 30")
	return cmd
}

func (a *app) keyCancelDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel-delete NAME",
		Short: "Cancel a scheduled deletion",
		Long: `Cancel a scheduled deletion. The key comes back disabled (enable it to use
it), or revoked if it was revoked before.`,
		Example:           "  custodian key cancel-delete payments\n  custodian key enable payments",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: a.runKeyOp(Remote.CancelKeyDeletion, func(k *custodian.Key) string {
			return fmt.Sprintf("cancelled the deletion of %q; it is %s", k.Name, k.State)
		}),
	}
}

func (a *app) keyDestroyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "destroy NAME",
		Short: "Destroy a key whose deletion date has passed",
		Long: `Destroy the material of every version of a key whose scheduled deletion
date has passed. Its metadata stays as a tombstone; its name is free again.`,
		Example:           "  custodian key destroy payments",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: a.runKeyOp(Remote.DestroyKey, func(k *custodian.Key) string {
			return fmt.Sprintf("destroyed %q", k.Name)
		}),
	}
}

func (a *app) keyPublicCommand() *cobra.Command {
	var format string
	var version int
	cmd := &cobra.Command{
		Use:   "public NAME",
		Short: "Print the public half of an asymmetric key",
		Long: `Print the public key of an asymmetric key as PEM SubjectPublicKeyInfo (the
default, what OpenSSL and most libraries read) or DER (base64 on standard
output, raw bytes with --out).`,
		Example: `  custodian key public systemRSA > rsa.pub.pem
  openssl pkeyutl -encrypt -pubin -inkey rsa.pub.pem -in msg.txt | base64 -w0 | custodian decrypt --key systemRSA --algorithm rsa-pkcs1v15 --format raw
  custodian key public signer --format der --out signer.der`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			f := custodian.PublicKeyFormat(format)
			if f != custodian.PEM && f != custodian.DER {
				return usagef("--format %q: want pem or der", format)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			pub, err := c.PublicKey(cmd.Context(), args[0], &custodian.PublicKeyOptions{Format: f, Version: version})
			if err != nil {
				return err
			}
			resp := api.PublicKeyResponse{Format: f, PublicKey: pub}
			if f == custodian.DER {
				return a.emitBinary(pub, resp)
			}
			return a.emitData(pub, resp)
		}),
	}
	cmd.Flags().StringVar(&format, "format", "pem", "pem or der")
	cmd.Flags().IntVar(&version, "version", 0, "key `VERSION` (default the primary)")
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion("pem", "der"))
	a.outFlag(cmd)
	return cmd
}

func (a *app) keyExportCommand() *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "export NAME",
		Short: "Print an exportable key's material",
		Long: `Print a key version's material, only for keys created --exportable: raw
bytes for symmetric and HMAC keys, PKCS#8 DER for asymmetric ones, as base64
on standard output or raw bytes with --out (mode 0600). These are the forms
"key import" takes.`,
		Example: `  custodian key export secure_channel_1 --out aes.key
  openssl enc -d -aes-256-cbc -K "$(xxd -p -c 64 aes.key)" -iv ... -in ct.bin`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeKeys,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.ExportKey(cmd.Context(), args[0], &custodian.ExportOptions{Version: version})
			if err != nil {
				return err
			}
			m := custodian.Reveal(s)
			return a.emitBinary(m, api.ExportKeyResponse{Material: m})
		}),
	}
	cmd.Flags().IntVar(&version, "version", 0, "key `VERSION` (default the primary)")
	a.outFlag(cmd)
	return cmd
}

// keyOp is a call on the key a command's argument names, returning the
// key as it is after the call.
type keyOp func(c Remote, ctx context.Context, name string) (*custodian.Key, error)

// runKeyOp is the RunE of a command that makes one call, op, on the key
// its argument names, and prints the key as keyCall does.
func (a *app) runKeyOp(op keyOp, text func(*custodian.Key) string) func(*cobra.Command, []string) error {
	return run(func(cmd *cobra.Command, args []string) error {
		return a.keyCall(func(c Remote) (*custodian.Key, error) {
			return op(c, cmd.Context(), args[0])
		}, text)
	})
}

// keyCall connects, makes one call that returns a key, and prints the
// key: as JSON with --output json, else as text says.
func (a *app) keyCall(call func(Remote) (*custodian.Key, error), text func(*custodian.Key) string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	k, err := call(c)
	if err != nil {
		return err
	}
	return a.emit(api.FromKey(k), text(k))
}

// keyDetails is the text form of one key.
func keyDetails(k *custodian.Key) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	line := func(label, format string, args ...any) { fmt.Fprintf(w, label+":\t"+format+"\n", args...) }
	line("name", "%s", k.Name)
	line("id", "%s", k.ID)
	line("type", "%s", k.Type)
	line("usage", "%s", k.Usage)
	line("state", "%s", k.State)
	if !k.DeletionDate.IsZero() {
		line("deletion date", "%s", k.DeletionDate.UTC().Format(time.RFC3339))
	}
	line("exportable", "%t", k.Exportable)
	if k.Description != "" {
		line("description", "%s", k.Description)
	}
	if len(k.Labels) > 0 {
		var ls []string
		for _, key := range slices.Sorted(maps.Keys(k.Labels)) {
			ls = append(ls, key+"="+k.Labels[key])
		}
		line("labels", "%s", strings.Join(ls, ", "))
	}
	line("created", "%s", k.Created.UTC().Format(time.RFC3339))
	if k.RotationPeriod > 0 {
		line("rotation period", "%s (next %s)", formatPeriod(k.RotationPeriod), k.NextRotation().UTC().Format(time.RFC3339))
	}
	line("versions", "%d, primary %d, decrypts from %d", k.LatestVersion, k.PrimaryVersion, k.MinDecryptionVersion)
	w.Flush()
	return b.String()
}

// formatPeriod writes whole days as operators give them ("90d").
func formatPeriod(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// completeKeys completes a key name from the server's list.
func (a *app) completeKeys(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	page, err := c.ListKeys(cmd.Context(), &custodian.ListOptions{Prefix: prefix, PageSize: 1000})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []string
	for _, k := range page.Keys {
		names = append(names, k.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeKeyFlag completes --key NAME.
func (a *app) completeKeyFlag(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	return a.completeKeys(cmd, nil, prefix)
}
