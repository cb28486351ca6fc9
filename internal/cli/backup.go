package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"
)

// backupResponse is "backup --output json".
type backupResponse struct {
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
}

// restoreResponse is "restore --output json": what the restore wrote.
type restoreResponse struct {
	File string `json:"file"`
	Meta int    `json:"meta"`
	Keys int    `json:"keys"`
}

func (a *app) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write an encrypted, consistent backup of every key to FILE",
		Long: `Write a consistent backup of the whole server to FILE while it keeps
serving. The file is encrypted and authenticated under the root key:
restoring it needs a quorum of the unseal shares (or the key file). FILE is
written atomically, mode 0600: it is complete or absent, never partial.`,
		Example: "  custodian backup custodian-$(date +%F).backup",
		Args:    exactArgs("FILE"),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var n int64
			err = writeAtomic(args[0], 0o600, func(w io.Writer) error {
				var err error
				n, err = c.Backup(cmd.Context(), w)
				return err
			})
			if err != nil {
				return err
			}
			return a.emit(backupResponse{File: args[0], Bytes: n}, fmt.Sprintf("wrote %s (%s)", args[0], plural(int(n), "byte")))
		}),
	}
}

func (a *app) restoreCommand() *cobra.Command {
	var sf shareFlags
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into a new, uninitialized server",
		Long: `Restore a backup into a server that was never initialized (a new data
directory or PostgreSQL schema). The backup's own root key authorizes it: a
quorum of the unseal shares the backup was made under (--share, repeated, or
--shares-file), or, for a key-file seal, the server's key file. No token is
needed. The restored server is then unsealed as the original was.`,
		Example: `  custodian restore custodian-2026-01-31.backup --shares-file quorum.txt
  custodian restore custodian-2026-01-31.backup --share "$S1" --share "$S2" --share "$S3"`,
		Args: exactArgs("FILE"),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			shares, err := sf.read(a)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.Restore(cmd.Context(), f, shares)
			if err != nil {
				return err
			}
			return a.emit(restoreResponse{File: args[0], Meta: res.Meta, Keys: res.Keys},
				fmt.Sprintf("restored %s from %s", plural(res.Keys, "key"), args[0]))
		}),
	}
	sf.add(cmd, "the backup was made under")
	return cmd
}

// versionResponse is "version --output json".
type versionResponse struct {
	Version string `json:"version"`
	Go      string `json:"go"`
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of this binary",
		Example: "  custodian version",
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			return a.emit(versionResponse{Version: a.env.Version, Go: runtime.Version()}, "custodian "+a.env.Version)
		}),
	}
}
