package cli

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/spf13/cobra"
)

// Algorithms by operation, for completion and help.
var (
	encryptAlgorithms = []string{
		string(custodian.AlgAES256GCM), string(custodian.AlgChaCha20Poly1305), string(custodian.AlgAES256CBC),
		string(custodian.AlgRSAOAEPSHA256), string(custodian.AlgRSAOAEPSHA1), string(custodian.AlgRSAPKCS1v15),
		string(custodian.AlgHPKEX25519MLKEM768),
	}
	signAlgorithms = []string{
		string(custodian.AlgRSAPSSSHA256), string(custodian.AlgRSAPSSSHA384), string(custodian.AlgRSAPSSSHA512),
		string(custodian.AlgRSAPKCS1v15SHA256), string(custodian.AlgRSAPKCS1v15SHA384), string(custodian.AlgRSAPKCS1v15SHA512),
		string(custodian.AlgECDSASHA256), string(custodian.AlgECDSASHA384), string(custodian.AlgECDSASHA512),
		string(custodian.AlgEd25519),
	}
)

// keyFlag adds --key NAME, completed from the server.
func (a *app) keyFlag(cmd *cobra.Command, p *string, usage string) {
	cmd.Flags().StringVar(p, "key", "", usage)
	cmd.RegisterFlagCompletionFunc("key", a.completeKeyFlag)
}

// needKey is the check for a required --key, a usage error.
func needKey(name string) error {
	if name == "" {
		return usagef("--key is required")
	}
	return nil
}

// cryptFlags are the flags of encrypt and decrypt.
type cryptFlags struct {
	key, aad, algorithm, format, in string
	version                         int
}

func (a *app) addCryptFlags(cmd *cobra.Command, f *cryptFlags, keyUsage, what string) {
	a.keyFlag(cmd, &f.key, keyUsage)
	fl := cmd.Flags()
	fl.StringVar(&f.aad, "aad", "", "associated data: `TEXT` authenticated with the ciphertext, needed again to decrypt")
	fl.StringVar(&f.algorithm, "algorithm", "", "`ALGORITHM` instead of the key type's default: "+strings.Join(encryptAlgorithms, ", "))
	fl.StringVar(&f.format, "format", api.FormatText, "text (the self-describing kc1: form) or raw (the bare algorithm output, base64)")
	fl.IntVar(&f.version, "version", 0, "key `VERSION` for --format raw (default the primary)")
	cmd.RegisterFlagCompletionFunc("algorithm", fixedCompletion(encryptAlgorithms...))
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion(api.FormatText, api.FormatRaw))
	a.inFlag(cmd, &f.in, what)
	a.outFlag(cmd)
}

func (f *cryptFlags) check(cmd *cobra.Command) error {
	switch f.format {
	case api.FormatText:
		if f.version != 0 {
			return usagef("--version applies to --format raw; a text ciphertext names its key version")
		}
	case api.FormatRaw:
	default:
		return usagef("--format %q: want text or raw", f.format)
	}
	return nil
}

// aadBytes returns --aad as bytes, nil when not given.
func aadBytes(aad string) []byte {
	if aad == "" {
		return nil
	}
	return []byte(aad)
}

func (a *app) encryptCommand() *cobra.Command {
	var f cryptFlags
	cmd := &cobra.Command{
		Use:   "encrypt --key NAME",
		Short: "Encrypt standard input or --in FILE",
		Long: `Encrypt data under a key's primary version. The default, text form prints
the self-describing ciphertext ("kc1:..."): it names its key, version and
algorithm, and "custodian decrypt" needs nothing else (but the --aad).

--format raw prints the bare algorithm output as base64, the bytes OpenSSL,
Python cryptography and the original module use: for aes256-cbc, IV (16
bytes) followed by the CBC ciphertext with PKCS#7 padding; for RSA, the RSA
ciphertext. Decrypt it with "decrypt --format raw --key NAME". Raw forms carry
no key name or version: keep track of them yourself.

The input is taken byte for byte: "echo" adds a newline, "echo -n" does not.
At most 4 MiB; encrypt more locally under a data key (custodian datakey).`,
		Example: `  echo -n 'Top secret message' | custodian encrypt --key payments > msg.kc1
  custodian encrypt --key payments --in report.pdf --out report.pdf.kc1 --aad report-2026
  echo -n 'Confidential Communication' | custodian encrypt --key secure_channel_1 --format raw
  echo -n 'Classified Information' | custodian encrypt --key systemRSA --algorithm rsa-pkcs1v15 --format raw`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := needKey(f.key); err != nil {
				return err
			}
			if err := f.check(cmd); err != nil {
				return err
			}
			pt, err := a.readInput(f.in, "plaintext")
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			alg := custodian.Algorithm(f.algorithm)
			if f.format == api.FormatRaw {
				raw, err := c.EncryptRaw(cmd.Context(), f.key, pt, &custodian.RawOptions{AssociatedData: aadBytes(f.aad), Algorithm: alg, Version: f.version})
				if err != nil {
					return err
				}
				return a.emitBinary(raw, api.EncryptResponse{Raw: raw})
			}
			ct, err := c.Encrypt(cmd.Context(), f.key, pt, &custodian.EncryptOptions{AssociatedData: aadBytes(f.aad), Algorithm: alg})
			if err != nil {
				return err
			}
			return a.emit(api.EncryptResponse{Ciphertext: ct.String()}, ct.String())
		}),
	}
	a.addCryptFlags(cmd, &f, "the `NAME` of the key to encrypt under (required)", "plaintext")
	return cmd
}

func (a *app) decryptCommand() *cobra.Command {
	var f cryptFlags
	cmd := &cobra.Command{
		Use:   "decrypt",
		Short: "Decrypt standard input or --in FILE",
		Long: `Decrypt a ciphertext and write the plaintext, byte for byte.

A text ciphertext ("kc1:...", surrounding whitespace ignored) names its own
key; --key, if given, is the key you expect, and a ciphertext under any other
is refused. A raw ciphertext (--format raw, base64 or the raw bytes) needs
--key, and --algorithm if it is not the key type's default (rsa-pkcs1v15 for
the original module's RSA ciphertexts).`,
		Example: `  custodian decrypt --in msg.kc1
  custodian decrypt --key payments --aad report-2026 --in report.pdf.kc1 --out report.pdf
  echo "$AES_B64" | custodian decrypt --key secure_channel_1 --format raw
  echo "$RSA_B64" | custodian decrypt --key systemRSA --algorithm rsa-pkcs1v15 --format raw`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			if f.format == api.FormatRaw && f.key == "" {
				return usagef("--format raw needs --key: a raw ciphertext does not name its key")
			}
			if f.format == api.FormatText && f.algorithm != "" {
				return usagef("--algorithm applies to --format raw; a text ciphertext names its algorithm")
			}
			in, err := a.readInput(f.in, "ciphertext")
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var pt []byte
			if f.format == api.FormatRaw {
				pt, err = c.DecryptRaw(cmd.Context(), f.key, decodeBinary(in), &custodian.RawOptions{
					AssociatedData: aadBytes(f.aad), Algorithm: custodian.Algorithm(f.algorithm), Version: f.version})
			} else {
				var ct custodian.Ciphertext
				if ct, err = parseCiphertext(in); err != nil {
					return err
				}
				pt, err = c.Decrypt(cmd.Context(), ct, &custodian.DecryptOptions{AssociatedData: aadBytes(f.aad), Key: f.key})
			}
			if err != nil {
				return err
			}
			return a.emitData(pt, api.DecryptResponse{Plaintext: pt})
		}),
	}
	a.addCryptFlags(cmd, &f, "the `NAME` of the key: expected for a text ciphertext, required for a raw one", "ciphertext")
	return cmd
}

// parseCiphertext reads a text-form ciphertext, naming the raw form when
// that is what it looks like.
func parseCiphertext(in []byte) (custodian.Ciphertext, error) {
	s := trimText(in)
	if s == "" {
		return nil, fmt.Errorf("no ciphertext: the input is empty")
	}
	ct, err := custodian.ParseCiphertext(s)
	if err != nil {
		if !strings.HasPrefix(s, "kc") {
			if _, berr := base64.StdEncoding.DecodeString(s); berr == nil {
				return nil, fmt.Errorf("%w (this looks like a raw ciphertext: give --format raw and --key)", err)
			}
		}
		return nil, err
	}
	return ct, nil
}

func (a *app) rewrapCommand() *cobra.Command {
	var key, aad, in string
	cmd := &cobra.Command{
		Use:   "rewrap",
		Short: "Re-encrypt a ciphertext under its key's primary version",
		Long: `Re-encrypt a text ciphertext under the primary version of its key, with the
same algorithm and associated data; the plaintext never leaves the server.
Use it after "key rotate", before raising the key's minimum decryption
version.`,
		Example: `  custodian rewrap --in msg.kc1 --out msg.kc1
  custodian rewrap --key payments --aad report-2026 < old.kc1 > new.kc1`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			b, err := a.readInput(in, "ciphertext")
			if err != nil {
				return err
			}
			ct, err := parseCiphertext(b)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			out, err := c.Rewrap(cmd.Context(), ct, &custodian.RewrapOptions{AssociatedData: aadBytes(aad), Key: key})
			if err != nil {
				return err
			}
			return a.emit(api.RewrapResponse{Ciphertext: out.String()}, out.String())
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the key the ciphertext must be under")
	cmd.Flags().StringVar(&aad, "aad", "", "the associated data `TEXT` the ciphertext was made with")
	a.inFlag(cmd, &in, "ciphertext")
	a.outFlag(cmd)
	return cmd
}

func (a *app) datakeyCommand() *cobra.Command {
	var key, aad, algorithm string
	var n int
	var noPlaintext bool
	cmd := &cobra.Command{
		Use:   "datakey --key NAME",
		Short: "Generate a data key for envelope encryption",
		Long: `Generate a fresh random data key and its encryption under a key: encrypt
large data locally with the data key, throw the data key away, and keep its
ciphertext beside the data; "custodian decrypt" gives the data key back.

Prints two lines, "ciphertext: kc1:..." and "plaintext: BASE64"; with
--no-plaintext only the ciphertext, as "encrypt" prints it.`,
		Example: `  custodian datakey --key payments --output json > dek.json
  custodian datakey --key payments --no-plaintext > dek.kc1
  custodian decrypt --in dek.kc1 --out dek.bin`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := needKey(key); err != nil {
				return err
			}
			if n < 1 || n > custodian.MaxRandomBytes {
				return usagef("--bytes %d: want 1 to %d", n, custodian.MaxRandomBytes)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			opts := &custodian.DataKeyOptions{Bytes: n, AssociatedData: aadBytes(aad), Algorithm: custodian.Algorithm(algorithm)}
			if noPlaintext {
				ct, err := c.GenerateDataKeyWithoutPlaintext(cmd.Context(), key, opts)
				if err != nil {
					return err
				}
				return a.emit(api.DataKeyResponse{Ciphertext: ct.String()}, ct.String())
			}
			dk, err := c.GenerateDataKey(cmd.Context(), key, opts)
			if err != nil {
				return err
			}
			pt := custodian.Reveal(dk.Plaintext)
			return a.emit(api.DataKeyResponse{Plaintext: pt, Ciphertext: dk.Ciphertext.String()},
				fmt.Sprintf("ciphertext: %s\nplaintext: %s", dk.Ciphertext, base64.StdEncoding.EncodeToString(pt)))
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the key that encrypts the data key (required)")
	fl := cmd.Flags()
	fl.IntVar(&n, "bytes", 32, "the data key's length in bytes")
	fl.BoolVar(&noPlaintext, "no-plaintext", false, "print only the encrypted data key")
	fl.StringVar(&aad, "aad", "", "associated data `TEXT` for the data key's encryption")
	fl.StringVar(&algorithm, "algorithm", "", "encryption `ALGORITHM` instead of the key type's default")
	cmd.RegisterFlagCompletionFunc("algorithm", fixedCompletion(encryptAlgorithms...))
	a.outFlag(cmd)
	return cmd
}
