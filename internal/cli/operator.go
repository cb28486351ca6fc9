package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the server is reachable, initialized and unsealed",
		Long: `Show the server's health: its address, version, and whether it is
initialized and unsealed. Needs no token. "operator status" shows the seal
in detail.`,
		Example: "  custodian status\n  custodian status --output json | jq .sealed",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			h, err := c.Health(cmd.Context())
			if err != nil {
				return err
			}
			opts, _ := a.clientOptions()
			addr := firstNonEmpty(opts.Addr, defaultAddr)
			resp := statusResponse{Address: addr, HealthResponse: *h}
			return a.emit(resp, table(
				"address", addr,
				"version", h.Version,
				"initialized", fmt.Sprint(h.Initialized),
				"sealed", fmt.Sprint(h.Sealed),
			))
		}),
	}
	return cmd
}

// statusResponse is "custodian status --output json".
type statusResponse struct {
	Address string `json:"address,omitempty"`
	api.HealthResponse
}

// table lays out label, value pairs in two columns.
func table(pairs ...string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			fmt.Fprintf(w, "%s:\t%s\n", pairs[i], pairs[i+1])
		}
	}
	w.Flush()
	return b.String()
}

func (a *app) operatorCommand() *cobra.Command {
	op := &cobra.Command{
		Use:   "operator",
		Short: "Initialize, unseal, seal, rekey and rotate the server's root key",
		Long: `Operate the server's seal. A server with a Shamir seal starts sealed: it
holds its keys encrypted under a root key that only a threshold of unseal
shares reconstructs. "operator init" makes the root key once; "operator
unseal" is run by share holders after each start; "operator seal" drops the
root key from memory.`,
		Example: `  custodian operator init --shares 5 --threshold 3
  custodian operator unseal            # each of 3 share holders
  custodian operator status
  custodian operator seal`,
		Args: groupArgs,
		RunE: groupHelp,
	}
	op.AddCommand(a.initCommand(), a.unsealCommand(), a.sealCommand(), a.sealStatusCommand(),
		a.rekeyCommand(), a.rotateRootCommand(), a.rotateDueKeysCommand(), a.newRootTokenCommand())
	return op
}

func (a *app) initCommand() *cobra.Command {
	var shares, threshold int
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialize the server: make the root key, its shares and the root token",
		Long: `Initialize a new server: generate the root key and protect it with the
server's seal. A Shamir seal splits it into --shares unseal shares, any
--threshold of which unseal the server; a key-file seal needs none. Prints
the shares and the root token, which are shown this once and never stored:
give each share to a different person.`,
		Example: "  custodian operator init --shares 5 --threshold 3\n  custodian operator init --output json > init.json",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			// Unset flags send zero, the server's default (5 and 3 for a
			// Shamir seal), so that a key-file server, which takes no
			// shares, needs no flags.
			var opts custodian.InitOptions
			if cmd.Flags().Changed("shares") || cmd.Flags().Changed("threshold") {
				if threshold < 1 || shares < threshold || shares > 255 {
					return usagef("--shares %d --threshold %d: want 1 <= threshold <= shares <= 255", shares, threshold)
				}
				opts = custodian.InitOptions{Shares: shares, Threshold: threshold}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.Init(cmd.Context(), opts)
			if err != nil {
				return err
			}
			resp := api.InitResponse{Shares: revealAll(res.Shares), Threshold: res.Threshold, RootToken: string(custodian.Reveal(res.RootToken))}
			var b strings.Builder
			for i, s := range resp.Shares {
				fmt.Fprintf(&b, "Unseal share %d: %s\n", i+1, s)
			}
			fmt.Fprintf(&b, "Root token: %s\n\n", resp.RootToken)
			if len(resp.Shares) > 0 {
				fmt.Fprintf(&b, "The server is initialized and sealed. Any %d of these %d shares unseal it\n(custodian operator unseal). Give each to a different person: they, and the\nroot token, are shown only this once.\n", resp.Threshold, len(resp.Shares))
			} else {
				fmt.Fprintf(&b, "The server is initialized and unsealed by its key file. The root token is\nshown only this once.\n")
			}
			return a.emit(resp, b.String())
		}),
	}
	cmd.Flags().IntVar(&shares, "shares", 5, "how many unseal shares to make (Shamir seal only)")
	cmd.Flags().IntVar(&threshold, "threshold", 3, "how many shares unseal (Shamir seal only)")
	a.outFlag(cmd)
	return cmd
}

func revealAll(ss []custodian.Secret) []string {
	var out []string
	for _, s := range ss {
		out = append(out, string(custodian.Reveal(s)))
	}
	return out
}

func (a *app) unsealCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unseal [SHARE]",
		Short: "Give one unseal share",
		Long: `Give one unseal share, as an argument or, better (the argument shows in the
process list and the shell's history), one line on standard input. Prints the
progress, "2 of 3", or "unsealed" when the threshold is reached. Needs no
token: the shares are the authority.`,
		Example: "  custodian operator unseal\n  custodian operator unseal < share-1.txt",
		Args:    cobra.MaximumNArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var share string
			if len(args) == 1 {
				share = args[0]
			} else {
				var err error
				if share, err = a.readLine("Unseal share (the terminal shows what you type): "); err != nil {
					return err
				}
			}
			if share == "" {
				return fmt.Errorf("no unseal share given")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := c.Unseal(cmd.Context(), []byte(share))
			if err != nil {
				return err
			}
			return a.emit(st, progressText(st))
		}),
	}
	return cmd
}

func progressText(st *custodian.Status) string {
	if !st.Sealed {
		return "unsealed"
	}
	return fmt.Sprintf("unseal progress: %d of %d", st.Progress, st.Threshold)
}

// readLine reads one line from stdin, prompting on a terminal.
func (a *app) readLine(prompt string) (string, error) {
	if isTerminal(a.env.Stdin) {
		fmt.Fprint(a.env.Stderr, prompt)
	}
	line, err := bufio.NewReader(io.LimitReader(a.env.Stdin, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func (a *app) sealCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Seal the server: drop the root key from memory",
		Long: `Seal the server: it drops the root key and every key from memory and refuses
key operations until it is unsealed again.`,
		Example: "  custodian operator seal",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.Seal(cmd.Context()); err != nil {
				return err
			}
			return a.emit(sealResponse{Sealed: true}, "sealed")
		}),
	}
}

// sealResponse is "operator seal --output json".
type sealResponse struct {
	Sealed bool `json:"sealed"`
}

func (a *app) sealStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Show the seal: type, shares, threshold, unseal progress",
		Example: "  custodian operator status",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := c.SealStatus(cmd.Context())
			if err != nil {
				return err
			}
			return a.emit(st, sealStatusText(st))
		}),
	}
}

func sealStatusText(st *custodian.Status) string {
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	progress := ""
	if st.Sealed && st.Threshold > 0 {
		progress = fmt.Sprintf("%d of %d", st.Progress, st.Threshold)
	}
	term := ""
	if st.ActiveTerm > 0 {
		term = fmt.Sprint(st.ActiveTerm)
	}
	return table(
		"initialized", fmt.Sprint(st.Initialized),
		"sealed", fmt.Sprint(st.Sealed),
		"seal type", st.SealType,
		"shares", num(st.Shares),
		"threshold", num(st.Threshold),
		"unseal progress", progress,
		"active term", term,
		"terms", num(st.Terms),
	)
}

// shareFlags collect a quorum of shares: --share, repeated, or
// --shares-file with one share a line.
type shareFlags struct {
	shares []string
	file   string
}

func (f *shareFlags) add(cmd *cobra.Command, why string) {
	cmd.Flags().StringArrayVar(&f.shares, "share", nil, "an unseal `SHARE` "+why+"; repeat for a quorum")
	cmd.Flags().StringVar(&f.file, "shares-file", "", "read shares from `FILE`, one a line (\"-\" is standard input)")
}

func (f *shareFlags) read(a *app) ([][]byte, error) {
	var out [][]byte
	for _, s := range f.shares {
		out = append(out, []byte(strings.TrimSpace(s)))
	}
	if f.file == "" {
		return out, nil
	}
	var r io.Reader = a.env.Stdin
	if f.file != "-" {
		fh, err := os.Open(f.file)
		if err != nil {
			return nil, fmt.Errorf("shares file: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, []byte(s))
		}
	}
	return out, sc.Err()
}

// newSplit are the flags of a new Shamir split.
type newSplit struct{ shares, threshold int }

func (n *newSplit) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&n.shares, "new-shares", 0, "how many shares to make (default: as now)")
	cmd.Flags().IntVar(&n.threshold, "new-threshold", 0, "how many of them unseal (default: as now)")
}

func sharesText(shares []string, threshold int, head string) string {
	var b strings.Builder
	b.WriteString(head)
	for i, s := range shares {
		fmt.Fprintf(&b, "Unseal share %d: %s\n", i+1, s)
	}
	if len(shares) > 0 {
		fmt.Fprintf(&b, "\nAny %d of these %d new shares unseal the server; the old shares no longer do.\n", threshold, len(shares))
	}
	return b.String()
}

func (a *app) rekeyCommand() *cobra.Command {
	var sf shareFlags
	var split newSplit
	cmd := &cobra.Command{
		Use:   "rekey",
		Short: "Replace the root key and its shares, given a quorum of the current shares",
		Long: `Replace the root key of a Shamir seal and hand out new shares; the old ones
stop working. Needs a threshold of the current shares; --new-shares and
--new-threshold change the split. The keys keep their data-encryption keys
("operator rotate-root" replaces those too).`,
		Example: `  custodian operator rekey --shares-file quorum.txt
  custodian operator rekey --share "$S1" --share "$S2" --share "$S3" --new-shares 7 --new-threshold 4`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			shares, err := sf.read(a)
			if err != nil {
				return err
			}
			if len(shares) == 0 {
				return usagef("rekey needs a quorum of the current shares: --share or --shares-file")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.Rekey(cmd.Context(), custodian.RekeyOptions{Shares: shares, NewShares: split.shares, NewThreshold: split.threshold})
			if err != nil {
				return err
			}
			resp := api.RekeyResponse{Shares: revealAll(res.Shares), Threshold: res.Threshold}
			return a.emit(resp, sharesText(resp.Shares, resp.Threshold, "Root key replaced.\n\n"))
		}),
	}
	sf.add(cmd, "of the current split")
	split.add(cmd)
	a.outFlag(cmd)
	return cmd
}

func (a *app) rotateRootCommand() *cobra.Command {
	var sf shareFlags
	var split newSplit
	cmd := &cobra.Command{
		Use:   "rotate-root",
		Short: "Replace the root key and the data-encryption key; re-seal every key",
		Long: `Replace the root key and the data-encryption key and re-seal every stored
key under them, online. A Shamir seal needs a quorum of the current shares
and hands out new ones; a key-file seal needs none.`,
		Example: `  custodian operator rotate-root --shares-file quorum.txt
  custodian operator rotate-root      # key-file seal`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			shares, err := sf.read(a)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.RotateRoot(cmd.Context(), custodian.RotateRootOptions{Shares: shares, NewShares: split.shares, NewThreshold: split.threshold})
			if err != nil {
				return err
			}
			resp := api.RekeyResponse{Shares: revealAll(res.Shares), Threshold: res.Threshold, ActiveTerm: res.ActiveTerm, Resealed: res.Resealed}
			head := fmt.Sprintf("Root key rotated: term %d, %d keys re-sealed.\n", res.ActiveTerm, res.Resealed)
			if len(resp.Shares) > 0 {
				head += "\n"
			}
			return a.emit(resp, sharesText(resp.Shares, resp.Threshold, head))
		}),
	}
	sf.add(cmd, "of the current split")
	split.add(cmd)
	a.outFlag(cmd)
	return cmd
}

func (a *app) rotateDueKeysCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-due-keys",
		Short: "Rotate every key whose rotation period has passed",
		Long: `Rotate, now, every key whose rotation period has passed. The server does
this by itself at intervals; this is for scripts and tests.`,
		Example: "  custodian operator rotate-due-keys",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			n, err := c.RotateDueKeys(cmd.Context())
			if err != nil {
				return err
			}
			return a.emit(api.RotateDueKeysResponse{Rotated: n}, fmt.Sprintf("rotated %s", plural(n, "key")))
		}),
	}
}

func (a *app) newRootTokenCommand() *cobra.Command {
	var sf shareFlags
	cmd := &cobra.Command{
		Use:   "new-root-token",
		Short: "Replace the root token; the old one stops working",
		Long: `Replace the root token and print the new one, shown this once. A Shamir
seal needs a quorum of the unseal shares (whoever holds the token can use
every key, so making one is the share holders' call); a key-file seal needs
none.`,
		Example: "  custodian operator new-root-token --shares-file quorum.txt",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			shares, err := sf.read(a)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			tok, err := c.NewRootToken(cmd.Context(), shares)
			if err != nil {
				return err
			}
			t := string(custodian.Reveal(tok))
			return a.emit(api.RootTokenResponse{RootToken: t}, "Root token: "+t+"\n\nThe old root token no longer works; this one is shown only this once.")
		}),
	}
	sf.add(cmd, "of the current split")
	a.outFlag(cmd)
	return cmd
}
