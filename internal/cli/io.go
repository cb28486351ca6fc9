package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// maxInput bounds what one command reads from stdin or --in: the 4 MiB a
// request carries once base64 has grown it to the API's 6 MiB body limit.
const maxInput = 4 << 20

// isTerminal reports whether r is a terminal, so that a command reading
// it can say what it waits for.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readInput reads a command's input from --in FILE ("-" is stdin) or stdin.
func (a *app) readInput(in, what string) ([]byte, error) {
	var r io.Reader = a.env.Stdin
	name := "standard input"
	if in != "" && in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, in
	} else if isTerminal(a.env.Stdin) {
		fmt.Fprintf(a.env.Stderr, "custodian: reading the %s from the terminal; end it with Ctrl-D\n", what)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading the %s from %s: %w", what, name, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("the %s in %s is over %d MiB, the most one request carries; encrypt large data locally under a data key (custodian datakey)", what, name, maxInput>>20)
	}
	return b, nil
}

// readFile reads a file named on the command line, bounded like input.
func readFile(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s %s is over %d MiB", what, path, maxInput>>20)
	}
	return b, nil
}

// decodeBinary takes bytes the user gave in any of the forms the CLI
// writes: a PEM block (its contents), standard base64 (whitespace
// ignored, the form printed on stdout), or else the raw bytes (the form
// --out writes). Raw binary that happens to be all base64 characters is
// astronomically unlikely for signatures, MACs and keys.
func decodeBinary(b []byte) []byte {
	if block, _ := pem.Decode(b); block != nil {
		return block.Bytes
	}
	if s := strings.Join(strings.Fields(string(b)), ""); s != "" {
		if d, err := base64.StdEncoding.DecodeString(s); err == nil {
			return d
		}
	}
	return b
}

// decodeBase64 reads base64 text (standard, padded or not, whitespace
// ignored), the form of raw ciphertexts on the command line.
func decodeBase64(b []byte, what string) ([]byte, error) {
	s := strings.Join(strings.Fields(string(b)), "")
	if d, err := base64.StdEncoding.DecodeString(s); err == nil {
		return d, nil
	}
	if d, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return d, nil
	}
	return nil, fmt.Errorf("the %s is not base64", what)
}

// isJSON reports whether --output json was asked for.
func (a *app) isJSON() bool { return a.global.output == outputJSON }

// write sends a command's result to --out FILE or stdout.
func (a *app) write(b []byte) error {
	if a.global.out == "" || a.global.out == "-" {
		_, err := a.env.Stdout.Write(b)
		return err
	}
	return writeFileAtomic(a.global.out, b, 0o600)
}

// emitJSON writes v as the one JSON object of --output json.
func (a *app) emitJSON(v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return a.write(b)
}

// marshalJSON indents v and leaves <, > and & as they are: the output is
// for people and jq, not for HTML.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

// emit writes v as JSON under --output json, or else text.
func (a *app) emit(v any, text string) error {
	if a.isJSON() {
		return a.emitJSON(v)
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return a.write([]byte(text))
}

// emitData writes data that is its own text form (a plaintext, a PEM
// public key) as it is, or v under --output json.
func (a *app) emitData(data []byte, v any) error {
	if a.isJSON() {
		return a.emitJSON(v)
	}
	return a.write(data)
}

// emitBinary writes binary data (a signature, a MAC, a raw ciphertext,
// random bytes, a shared secret, key material): the raw bytes to --out
// FILE, standard base64 and a newline to stdout, or v under --output json.
func (a *app) emitBinary(data []byte, v any) error {
	switch {
	case a.isJSON():
		return a.emitJSON(v)
	case a.global.out != "" && a.global.out != "-":
		return a.write(data)
	default:
		return a.write([]byte(base64.StdEncoding.EncodeToString(data) + "\n"))
	}
}

// writeFileAtomic writes b to path so that path holds either its old
// contents or all of b, never part: a temporary file in the same
// directory, synced, then renamed over path.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// writeAtomic is writeFileAtomic for a writer function; if fill fails,
// path is left as it was.
func writeAtomic(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not every system can sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// trimText trims the whitespace a shell or an editor leaves around a
// ciphertext or share.
func trimText(b []byte) string { return string(bytes.TrimSpace(b)) }

// errNoInput is the error for empty required input.
var errNoInput = errors.New("no input")

// inFlag adds --in FILE to a command that reads input.
func (a *app) inFlag(cmd *cobra.Command, p *string, what string) {
	cmd.Flags().StringVar(p, "in", "", "read the "+what+" from `FILE` (default standard input)")
}

// outFlag adds --out FILE to a command that writes a result.
func (a *app) outFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.global.out, "out", "", "write the result to `FILE` (atomically, mode 0600) instead of standard output")
}
