package cli

import (
	"fmt"
	"strings"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/spf13/cobra"
)

func (a *app) signCommand() *cobra.Command {
	var key, algorithm, in string
	var version int
	var digest bool
	cmd := &cobra.Command{
		Use:   "sign --key NAME",
		Short: "Sign standard input or --in FILE",
		Long: `Sign a message with a key's primary version and print the signature as
standard base64 (raw bytes with --out): ASN.1 DER for ECDSA, 64 bytes for
Ed25519, the RSA signature for RSA, exactly what "openssl pkeyutl -verify" and
"openssl dgst -verify" take. --digest says the input is already the digest
of the algorithm's hash (raw bytes, as "openssl dgst -binary" writes them).

Keep the key version (--output json has it) if the key may be rotated:
"verify" checks against the primary version unless given --version.`,
		Example: `  custodian sign --key signer --in release.tar.gz --out release.sig
  openssl dgst -sha256 -verify <(custodian key public signer) -signature release.sig release.tar.gz
  openssl dgst -sha256 -binary release.tar.gz | custodian sign --key signer --digest
  custodian sign --key rsa-signer --algorithm rsa-pkcs1v15-sha256 --in msg.txt`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := needKey(key); err != nil {
				return err
			}
			msg, err := a.readInput(in, "message")
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			sig, err := c.Sign(cmd.Context(), key, msg, &custodian.SignOptions{Algorithm: custodian.Algorithm(algorithm), Digest: digest, Version: version})
			if err != nil {
				return err
			}
			return a.emitBinary(sig.Signature, api.SignResponse{Signature: sig.Signature, KeyVersion: sig.KeyVersion, Algorithm: sig.Algorithm})
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the signing key (required)")
	a.signFlags(cmd, &algorithm, &version, &digest)
	a.inFlag(cmd, &in, "message")
	a.outFlag(cmd)
	return cmd
}

func (a *app) signFlags(cmd *cobra.Command, algorithm *string, version *int, digest *bool) {
	fl := cmd.Flags()
	fl.StringVar(algorithm, "algorithm", "", "`ALGORITHM` instead of the key type's default: "+strings.Join(signAlgorithms, ", "))
	fl.IntVar(version, "version", 0, "key `VERSION` (default the primary)")
	fl.BoolVar(digest, "digest", false, "the input is the message's digest, not the message")
	cmd.RegisterFlagCompletionFunc("algorithm", fixedCompletion(signAlgorithms...))
}

func (a *app) verifyCommand() *cobra.Command {
	var key, algorithm, in string
	sigFile := tagFile{flag: "signature", what: "signature file"}
	var version int
	var digest bool
	cmd := &cobra.Command{
		Use:   "verify --key NAME --signature FILE",
		Short: "Verify a signature of standard input or --in FILE",
		Long: `Verify a signature of a message: exit code 0 and "valid" if it verifies,
exit code 1 and "invalid signature" if not. The signature file may hold the
raw signature or its standard base64 (what "sign" writes with --out and on
standard output). A signature made before the key was rotated needs
--version, the key version it was made with.`,
		Example: `  custodian verify --key signer --signature release.sig --in release.tar.gz
  custodian sign --key signer --in msg.txt > msg.sig.b64 && custodian verify --key signer --signature msg.sig.b64 --in msg.txt`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			return a.verifyTag(key, in, sigFile, func(c Remote, msg, sig []byte) error {
				return c.Verify(cmd.Context(), key, msg, sig, &custodian.SignOptions{Algorithm: custodian.Algorithm(algorithm), Digest: digest, Version: version})
			})
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the key that signed (required)")
	sigFile.add(cmd, "`FILE` holding the signature, raw or base64 (required)")
	a.signFlags(cmd, &algorithm, &version, &digest)
	a.inFlag(cmd, &in, "message")
	a.outFlag(cmd)
	return cmd
}

func (a *app) macCommand() *cobra.Command {
	var key, in string
	var version int
	cmd := &cobra.Command{
		Use:   "mac --key NAME",
		Short: "Compute the MAC of standard input or --in FILE",
		Long: `Compute a message authentication code (HMAC) with an hmac-sha256 or
hmac-sha512 key, printed as standard base64 (raw bytes with --out).`,
		Example: `  echo -n 'amount=100' | custodian mac --key webhooks
  custodian mac --key webhooks --in body.json --out body.mac`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := needKey(key); err != nil {
				return err
			}
			msg, err := a.readInput(in, "message")
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.MAC(cmd.Context(), key, msg, &custodian.MACOptions{Version: version})
			if err != nil {
				return err
			}
			return a.emitBinary(m.MAC, api.MACResponse{MAC: m.MAC, KeyVersion: m.KeyVersion, Algorithm: m.Algorithm})
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the HMAC key (required)")
	cmd.Flags().IntVar(&version, "version", 0, "key `VERSION` (default the primary)")
	a.inFlag(cmd, &in, "message")
	a.outFlag(cmd)
	return cmd
}

func (a *app) verifyMACCommand() *cobra.Command {
	var key, in string
	macFile := tagFile{flag: "mac", what: "MAC file"}
	var version int
	cmd := &cobra.Command{
		Use:   "verify-mac --key NAME --mac FILE",
		Short: "Verify the MAC of standard input or --in FILE",
		Long: `Verify a MAC in constant time: exit code 0 and "valid" if it verifies, exit
code 1 and "invalid mac" if not. The MAC file may hold the raw MAC or its
standard base64.`,
		Example: `  custodian verify-mac --key webhooks --mac body.mac --in body.json`,
		Args:    noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			return a.verifyTag(key, in, macFile, func(c Remote, msg, mac []byte) error {
				return c.VerifyMAC(cmd.Context(), key, msg, mac, &custodian.MACOptions{Version: version})
			})
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of the HMAC key (required)")
	macFile.add(cmd, "`FILE` holding the MAC, raw or base64 (required)")
	cmd.Flags().IntVar(&version, "version", 0, "key `VERSION` the MAC was made with (default the primary)")
	a.inFlag(cmd, &in, "message")
	a.outFlag(cmd)
	return cmd
}

// tagFile is the required flag of verify and verify-mac that names the
// file holding the signature or MAC; what names the file in errors.
type tagFile struct {
	flag, what, path string
}

func (f *tagFile) add(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVar(&f.path, f.flag, "", usage)
}

// verifyTag is verify and verify-mac: it reads the tag (raw or base64)
// from its file and the message from --in or standard input, has check
// compare them on the server, and prints "valid" if they match.
func (a *app) verifyTag(key, in string, f tagFile, check func(c Remote, msg, tag []byte) error) error {
	if err := needKey(key); err != nil {
		return err
	}
	if f.path == "" {
		return usagef("--%s is required", f.flag)
	}
	tag, err := readFile(f.path, f.what)
	if err != nil {
		return err
	}
	msg, err := a.readInput(in, "message")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := check(c, msg, decodeBinary(tag)); err != nil {
		return err
	}
	return a.emit(api.VerifyResponse{Valid: true}, "valid")
}

func (a *app) agreeCommand() *cobra.Command {
	var key, peer, deriveKey, salt, info string
	var version int
	cmd := &cobra.Command{
		Use:   "agree --key NAME --peer PEMFILE",
		Short: "Key agreement (ECDH, X25519, Diffie-Hellman) with a peer's public key",
		Long: `Agree a shared secret between a key (x25519, ecdh-p256/384/521,
dh-ffdhe2048/3072/4096) and a peer's public key: a PEM or DER
SubjectPublicKeyInfo file (or, for X25519 and ECDH, the raw public value).
Prints the shared secret as standard base64 (raw bytes with --out).

A raw shared secret is not a uniform key: feed it to a KDF, or give
--derive-key NAME to derive a new aes256-gcm key from it with HKDF-SHA-256
inside the server, where the secret stays; both sides must use the same
--salt and --info.`,
		Example: `  custodian key create exchange --type x25519
  custodian key public exchange > ours.pem      # send to the peer
  custodian agree --key exchange --peer theirs.pem
  custodian agree --key exchange --peer theirs.pem --derive-key session-1 --info "app v1"`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := needKey(key); err != nil {
				return err
			}
			if peer == "" {
				return usagef("--peer is required")
			}
			if deriveKey == "" && (salt != "" || info != "") {
				return usagef("--salt and --info apply to --derive-key")
			}
			p, err := readFile(peer, "peer public key")
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if deriveKey != "" {
				k, err := c.DeriveKey(cmd.Context(), key, p, deriveKey, &custodian.DeriveOptions{Version: version, Salt: aadBytes(salt), Info: aadBytes(info)})
				if err != nil {
					return err
				}
				return a.emit(api.AgreeResponse{Key: api.FromKey(k)}, fmt.Sprintf("derived %s key %q", k.Type, k.Name))
			}
			s, err := c.Agree(cmd.Context(), key, p, &custodian.AgreeOptions{Version: version})
			if err != nil {
				return err
			}
			secret := custodian.Reveal(s)
			return a.emitBinary(secret, api.AgreeResponse{SharedSecret: secret})
		}),
	}
	a.keyFlag(cmd, &key, "the `NAME` of our agreement key (required)")
	fl := cmd.Flags()
	fl.StringVar(&peer, "peer", "", "`FILE` holding the peer's public key, PEM or DER (required)")
	fl.StringVar(&deriveKey, "derive-key", "", "store a new aes256-gcm key `NAME` derived from the secret, instead of printing it")
	fl.StringVar(&salt, "salt", "", "HKDF salt `TEXT` for --derive-key")
	fl.StringVar(&info, "info", "", "HKDF info `TEXT` for --derive-key")
	fl.IntVar(&version, "version", 0, "key `VERSION` (default the primary)")
	a.outFlag(cmd)
	return cmd
}

func (a *app) randomCommand() *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:   "random",
		Short: "Random bytes from the server's crypto/rand",
		Long: `Print random bytes from the server's crypto/rand, as standard base64 (raw
bytes with --out).`,
		Example: `  custodian random
  custodian random --bytes 16 --out iv.bin`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > custodian.MaxRandomBytes {
				return usagef("--bytes %d: want 1 to %d", n, custodian.MaxRandomBytes)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			b, err := c.Random(cmd.Context(), n)
			if err != nil {
				return err
			}
			return a.emitBinary(b, api.RandomResponse{Random: b})
		}),
	}
	cmd.Flags().IntVar(&n, "bytes", 32, "how many bytes")
	a.outFlag(cmd)
	return cmd
}
