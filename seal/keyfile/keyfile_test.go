package keyfile_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
)

var _ seal.Wrapper = (*keyfile.Seal)(nil)

const header = "keycustodian-unseal-key-v1:"

// create makes a key file in a fresh directory and returns its seal and
// the key it holds, read back from the file.
func create(t *testing.T) (s *keyfile.Seal, keyText string, key []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unseal.key")
	s, err := keyfile.Create(path)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	keyText, key = readKey(t, path)
	return s, keyText, key
}

// readKey returns the key in a key file, as text and as bytes.
func readKey(t *testing.T, path string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(string(b), header)
	if !ok || !strings.HasSuffix(text, "\n") || strings.Count(text, "\n") != 1 {
		t.Fatalf("key file %q is not one line starting with %q", b, header)
	}
	text = strings.TrimSuffix(text, "\n")
	key, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(key) != 32 {
		t.Fatalf("key file holds %q: %d bytes, %v; want 32 bytes of base64url", text, len(key), err)
	}
	return text, key
}

// writeFile writes a file with exactly the given mode, whatever the umask.
func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func newRoot(t *testing.T) []byte {
	t.Helper()
	root := make([]byte, 32)
	if _, err := rand.Read(root); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestCreateOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new", "dir", "unseal.key")
	created, err := keyfile.Create(path)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("Create wrote mode %04o, want 0600", perm)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm()&0o077 != 0 {
		t.Errorf("Create made the directory with mode %v, %v; want no access for group or others", di.Mode(), err)
	}
	readKey(t, path)

	opened, err := keyfile.Open(path)
	if err != nil {
		t.Fatalf("Open of a file Create wrote: %v", err)
	}
	for _, s := range []*keyfile.Seal{created, opened} {
		if s.Path() != path || s.Type() != "keyfile" {
			t.Errorf("Path() = %q, Type() = %q; want %q, %q", s.Path(), s.Type(), path, "keyfile")
		}
	}
	for _, root := range [][]byte{newRoot(t), []byte("r"), bytes.Repeat([]byte{0xa5}, 64)} {
		for _, pair := range []struct {
			name         string
			wrap, unwrap *keyfile.Seal
		}{
			{"created to opened", created, opened},
			{"opened to created", opened, created},
			{"opened to itself", opened, opened},
		} {
			w, err := pair.wrap.Wrap(ctx, root)
			if err != nil {
				t.Fatalf("%s: Wrap: %v", pair.name, err)
			}
			if len(root) >= 16 && bytes.Contains(w, root) {
				t.Errorf("%s: the wrapped root key contains the root key", pair.name)
			}
			got, err := pair.unwrap.Unwrap(ctx, w)
			if err != nil || !bytes.Equal(got, root) {
				t.Errorf("%s: Unwrap = %x, %v; want %x", pair.name, got, err, root)
			}
		}
	}
	// Each Wrap draws a fresh nonce.
	root := newRoot(t)
	w1, _ := created.Wrap(ctx, root)
	w2, _ := created.Wrap(ctx, root)
	if bytes.Equal(w1, w2) {
		t.Error("two Wraps of one root key are identical")
	}
}

func TestCreateGivesFreshKeys(t *testing.T) {
	_, a, _ := create(t)
	_, b, _ := create(t)
	if a == b {
		t.Fatal("two key files hold the same key")
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "unseal.key")
	if _, err := keyfile.Create(keyPath); err != nil {
		t.Fatal(err)
	}
	otherPath := filepath.Join(dir, "config")
	writeFile(t, otherPath, []byte("not a key file\n"), 0o644)
	dirPath := filepath.Join(dir, "subdir")
	if err := os.Mkdir(dirPath, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{keyPath, otherPath, dirPath} {
		before, _ := os.ReadFile(path)
		s, err := keyfile.Create(path)
		if err == nil || s != nil {
			t.Errorf("Create(%s) over an existing file = %v, %v; want an error", filepath.Base(path), s, err)
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			t.Errorf("Create(%s) = %v, want an error that is fs.ErrExist", filepath.Base(path), err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("Create(%s) changed the existing file", filepath.Base(path))
		}
	}
	// The existing key file still opens.
	if _, err := keyfile.Open(keyPath); err != nil {
		t.Errorf("Open after a refused Create: %v", err)
	}
}

func TestOpenChecksMode(t *testing.T) {
	_, keyText, _ := create(t)
	contents := []byte(header + keyText + "\n")
	for _, c := range []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true},
		{0o640, false}, {0o604, false}, {0o660, false}, {0o644, false}, {0o666, false},
		{0o620, false}, {0o602, false}, {0o610, false}, {0o601, false}, {0o444, false}, {0o777, false},
	} {
		path := filepath.Join(t.TempDir(), "unseal.key")
		writeFile(t, path, contents, c.mode)
		s, err := keyfile.Open(path)
		if c.ok {
			if err != nil {
				t.Errorf("Open of a mode %04o file: %v", c.mode, err)
			}
			continue
		}
		if err == nil || s != nil {
			t.Errorf("Open of a mode %04o file = %v, %v; want an error", c.mode, s, err)
			continue
		}
		if want := fmt.Sprintf("mode %04o", c.mode); !strings.Contains(err.Error(), want) {
			t.Errorf("Open of a mode %04o file: %q does not name the mode (%q)", c.mode, err, want)
		}
	}
}

// TestOpenRefusesContents lists files that are not key files. Each must
// be refused with an error, never a panic and never a seal.
func TestOpenRefusesContents(t *testing.T) {
	_, keyText, key := create(t)
	b64 := base64.RawURLEncoding.EncodeToString
	for _, c := range []struct {
		name, contents string
	}{
		{"empty", ""},
		{"newline", "\n"},
		{"header only", header + "\n"},
		{"no header", keyText + "\n"},
		{"another version", strings.Replace(header, "v1", "v2", 1) + keyText + "\n"},
		{"upper-case header", strings.ToUpper(header) + keyText + "\n"},
		{"space after header", header + " " + keyText + "\n"},
		{"leading blank line", "\n" + header + keyText + "\n"},
		{"16-byte key", header + b64(key[:16]) + "\n"},
		{"31-byte key", header + b64(key[:31]) + "\n"},
		{"33-byte key", header + b64(append(key, 0)) + "\n"},
		{"64-byte key", header + b64(append(key, key...)) + "\n"},
		{"long line", header + strings.Repeat("A", 200) + "\n"},
		{"longer than a key file can be", header + keyText + "\n" + strings.Repeat("#", 300)},
		{"padded base64", header + base64.URLEncoding.EncodeToString(key) + "\n"},
		{"standard base64 alphabet", header + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + "\n"},
		{"a character outside base64", header + keyText[:20] + "!" + keyText[21:] + "\n"},
		{"newline inside the key", header + keyText[:20] + "\n" + keyText[20:] + "\n"},
		{"CR inside the key", header + keyText[:20] + "\r" + keyText[20:] + "\n"},
		{"unused bits set", header + keyText[:42] + flipLowBit(keyText[42]) + "\n"},
		{"a second line", header + keyText + "\n" + "more\n"},
		{"key twice", header + keyText + "\n" + header + keyText + "\n"},
		{"garbage", string(newRoot(t)) + string(newRoot(t))},
		{"NUL bytes", strings.Repeat("\x00", 71)},
	} {
		path := filepath.Join(t.TempDir(), "unseal.key")
		writeFile(t, path, []byte(c.contents), 0o600)
		var s *keyfile.Seal
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			s, err = keyfile.Open(path)
		}()
		if err == nil || s != nil {
			t.Errorf("%s: Open = %v, %v; want an error", c.name, s, err)
			continue
		}
		if strings.HasPrefix(err.Error(), "panic") {
			t.Errorf("%s: Open panicked: %v", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "not a KeyCustodian key file") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open error %q does not say the file is not a key file", c.name, err)
		}
	}
}

// flipLowBit changes the last base64 character of a 32-byte key so that
// one of its two unused bits flips: the same key, another text.
func flipLowBit(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)^1])
}

// TestOpenAcceptsLineEndings: a key file edited by hand may lose its
// newline or gain a CR.
func TestOpenAcceptsLineEndings(t *testing.T) {
	ctx := context.Background()
	created, keyText, _ := create(t)
	root := newRoot(t)
	w, err := created.Wrap(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, ending := range []string{"", "\n", "\r\n", "\n\n"} {
		path := filepath.Join(t.TempDir(), "unseal.key")
		writeFile(t, path, []byte(header+keyText+ending), 0o600)
		s, err := keyfile.Open(path)
		if err != nil {
			t.Errorf("Open with line ending %q: %v", ending, err)
			continue
		}
		if got, err := s.Unwrap(ctx, w); err != nil || !bytes.Equal(got, root) {
			t.Errorf("line ending %q: Unwrap = %x, %v; want %x", ending, got, err, root)
		}
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.key")
	if _, err := keyfile.Open(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file = %v, want fs.ErrNotExist", err)
	}
	if s, err := keyfile.Open(dir); err == nil || s != nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open of a directory = %v, %v; want a 'not a regular file' error", s, err)
	}
}

func TestUnwrapWithAnotherKeyFile(t *testing.T) {
	ctx := context.Background()
	a, _, _ := create(t)
	b, _, _ := create(t)
	w, err := a.Wrap(ctx, newRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Unwrap(ctx, w)
	if !errors.Is(err, keyfile.ErrUnwrap) || got != nil {
		t.Errorf("Unwrap under another key file = %x, %v; want ErrUnwrap", got, err)
	}
}

// TestUnwrapTampered checks that every change to a wrapped root key is
// refused: a flip of any bit, any truncation, any extension.
func TestUnwrapTampered(t *testing.T) {
	ctx := context.Background()
	s, _, _ := create(t)
	w, err := s.Wrap(ctx, newRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 12+32+16 {
		t.Fatalf("a wrapped 32-byte root key is %d bytes, want nonce, key and tag (60)", len(w))
	}
	var tampered [][]byte
	for i := range len(w) * 8 {
		b := bytes.Clone(w)
		b[i/8] ^= 1 << (i % 8)
		tampered = append(tampered, b)
	}
	for n := range len(w) {
		tampered = append(tampered, bytes.Clone(w[:n]))
	}
	tampered = append(tampered, nil, append(bytes.Clone(w), 0), append([]byte{0}, w...), w[1:])
	for _, b := range tampered {
		got, err := s.Unwrap(ctx, b)
		if !errors.Is(err, keyfile.ErrUnwrap) || got != nil {
			t.Fatalf("Unwrap(%x) = %x, %v; want ErrUnwrap", b, got, err)
		}
	}
	// The original still opens: the failures above were the tampering.
	if _, err := s.Unwrap(ctx, w); err != nil {
		t.Fatalf("Unwrap of the untouched blob: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s, _, _ := create(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				root := make([]byte, 32)
				rand.Read(root)
				w, err := s.Wrap(ctx, root)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Unwrap(ctx, w); err != nil || !bytes.Equal(got, root) {
					t.Errorf("concurrent Unwrap = %x, %v; want %x", got, err, root)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Example_autoUnseal wraps a root key at initialisation and unwraps it
// at the next start, from the same key file.
func Example_autoUnseal() {
	dir, err := os.MkdirTemp("", "keyfile-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "unseal.key")
	ctx := context.Background()

	// Initialisation: make the key file, store the wrapped root key.
	s, err := keyfile.Create(path)
	if err != nil {
		panic(err)
	}
	root := []byte("an example root key of 32 bytes!")
	stored, err := s.Wrap(ctx, root)
	if err != nil {
		panic(err)
	}

	// A later start: open the key file, unwrap what the store holds.
	s, err = keyfile.Open(path)
	if err != nil {
		panic(err)
	}
	got, err := s.Unwrap(ctx, stored)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(got))
	// Output: an example root key of 32 bytes!
}

// TestZeroSealPanics: a Seal has a key only from Create or Open. Using
// another is a programming error, which panics with a message that says
// so rather than wrapping under an empty key.
func TestZeroSealPanics(t *testing.T) {
	for name, use := range map[string]func(s *keyfile.Seal){
		"Wrap":   func(s *keyfile.Seal) { s.Wrap(context.Background(), []byte("root")) },
		"Unwrap": func(s *keyfile.Seal) { s.Unwrap(context.Background(), make([]byte, 60)) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "Create or Open") {
					t.Errorf("%s on a zero Seal: recovered %v, want a panic naming Create or Open", name, r)
				}
			}()
			use(new(keyfile.Seal))
		}()
	}
}
