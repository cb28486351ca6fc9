// Package keyfile is the seal that keeps its key in a local file: the
// auto-unseal of `custodian server --dev` and of single-user setups.
//
// # Security
//
// The file holds the key that wraps the root key; the store holds the
// wrapped root key. Whoever can read both the file and the store can read
// every key, so the file belongs on another disk than the store, or at
// least outside its backups. The file must have mode 0600 or narrower:
// Open refuses a file that group or others may read or write, rather than
// use a key others may have seen or replaced. For a root key that no
// single machine or person holds, use the Shamir seal.
//
// # File format
//
// One line: "keycustodian-unseal-key-v1:" and the 32-byte key in unpadded
// base64url, then a newline.
package keyfile

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/keycustodian/custodian/internal/secret"
)

// Type is the seal's name as recorded in the store.
const Type = "keyfile"

const (
	header  = "keycustodian-unseal-key-v1:"
	keySize = 32
	// maxFileSize bounds what Open reads: a key file is one short line.
	maxFileSize = 256
)

// ErrUnwrap is returned when a wrapped root key does not open under the
// file's key: another key file, or a damaged store.
var ErrUnwrap = errors.New("keyfile: the wrapped root key does not open with this key file")

// Seal wraps the root key under the key in one file. It is safe for
// concurrent use.
type Seal struct {
	path string
	// key is kept as a secret.Bytes and the cipher made for each call. A
	// cipher.AEAD field would hold a pointer to the expanded AES key, and
	// fmt prints a pointer's target when it cannot format the pointer with
	// the verb: a Seal value printed with %s showed the key schedule, whose
	// first words are the key.
	key secret.Bytes
}

// Type implements seal.Seal.
func (*Seal) Type() string { return Type }

// Path returns the key file's path.
func (s *Seal) Path() string { return s.path }

// String names the file, never its key.
func (s *Seal) String() string { return "keyfile seal " + s.path }

// GoString names the file, never its key.
func (s *Seal) GoString() string { return fmt.Sprintf("&keyfile.Seal{path: %q}", s.path) }

// Format implements fmt.Formatter so that every verb prints String or, for
// %#v, GoString, rather than fmt walking the struct's fields.
func (s *Seal) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// LogValue implements slog.LogValuer: the JSON handler would otherwise log
// an empty object.
func (s *Seal) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Create writes a new key file at path, mode 0600, and returns its seal.
// It refuses to overwrite an existing file. The file and its directory
// are synced before Create returns, so that a crash cannot leave a store
// whose key file is lost.
func Create(path string) (*Seal, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	defer clear(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keyfile %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keyfile: create: %w", err)
	}
	line := []byte(header + base64.RawURLEncoding.EncodeToString(key) + "\n")
	defer clear(line)
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("keyfile %s: write: %w", path, err)
	}
	return newSeal(path, secret.New(key))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open reads the key file at path. It refuses a file whose mode lets group
// or others read or write it, and one that is not a key file.
func Open(path string) (*Seal, error) {
	// Refuse a FIFO or a device before opening it: opening a FIFO blocks
	// until someone writes to it. The mode is checked again on the open
	// file, which is what counts.
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyfile %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyfile %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyfile %s: mode %04o lets others read or write the key; refusing it (chmod 600 %s, after checking nobody else could have used it)", path, perm, path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	defer clear(buf)
	if err != nil {
		return nil, fmt.Errorf("keyfile %s: read: %w", path, err)
	}
	key, ok := parseKey(buf)
	if !ok {
		return nil, fmt.Errorf("keyfile %s: not a KeyCustodian key file (it must hold one line %q and the key)", path, header)
	}
	return newSeal(path, secret.Own(key))
}

// parseKey returns the key in a key file's contents. Only the text Create
// writes is accepted, give or take the line ending.
func parseKey(b []byte) (key []byte, ok bool) {
	if len(b) > maxFileSize {
		return nil, false
	}
	line, ok := bytes.CutPrefix(bytes.TrimRight(b, "\r\n"), []byte(header))
	// Check the length before decoding: Decode writes past a destination
	// shorter than DecodedLen, and panics. A \r or \n inside is refused
	// because base64 decoders skip it; with Strict, a key has one text form.
	if !ok || base64.RawURLEncoding.DecodedLen(len(line)) != keySize || bytes.ContainsAny(line, "\r\n") {
		return nil, false
	}
	key = make([]byte, keySize)
	if n, err := base64.RawURLEncoding.Strict().Decode(key, line); err != nil || n != keySize {
		clear(key)
		return nil, false
	}
	return key, true
}

func newSeal(path string, key secret.Bytes) (*Seal, error) {
	if key.Len() != keySize {
		return nil, fmt.Errorf("keyfile %s: the key is %d bytes, want %d", path, key.Len(), keySize)
	}
	return &Seal{path: path, key: key}, nil
}

// aead returns the cipher under the file's key. A Seal not made by Create
// or Open has no key: using one is a misuse, and panics.
func (s *Seal) aead() cipher.AEAD {
	block, err := aes.NewCipher(secret.Reveal(s.key))
	if err != nil {
		panic("keyfile: a Seal must come from Create or Open: " + err.Error())
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic("keyfile: " + err.Error())
	}
	return a
}

// wrapAD binds a wrapped root key to its purpose.
var wrapAD = []byte("keycustodian keyfile wrapped root key v1")

// Wrap implements seal.Wrapper.
func (s *Seal) Wrap(_ context.Context, root []byte) ([]byte, error) {
	a := s.aead()
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(root)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return a.Seal(out, out, root, wrapAD), nil
}

// Unwrap implements seal.Wrapper.
func (s *Seal) Unwrap(_ context.Context, wrapped []byte) ([]byte, error) {
	a := s.aead()
	ns := a.NonceSize()
	if len(wrapped) < ns+a.Overhead() {
		return nil, ErrUnwrap
	}
	root, err := a.Open(nil, wrapped[:ns], wrapped[ns:], wrapAD)
	if err != nil {
		return nil, ErrUnwrap
	}
	return root, nil
}
