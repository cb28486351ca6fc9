package keyfile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/internal/leaktest"
	"github.com/keycustodian/custodian/seal/keyfile"
)

// TestSealRedacts prints a seal every way a program might (fmt verbs,
// slog, JSON, nested in structs and slices) and checks that no output
// holds the key, in the file's base64 or in any form leaktest knows, nor
// the cipher that holds the key.
func TestSealRedacts(t *testing.T) {
	s, keyText, key := create(t)
	secrets := map[string][]byte{"key": key}
	leaktest.Check(t, "*keyfile.Seal", s, secrets)
	leaktest.Check(t, "keyfile.Seal", *s, secrets)
	leaktest.Check(t, "[]*keyfile.Seal", []*keyfile.Seal{s}, secrets)
	// fmt cannot call methods on unexported fields and walks them by
	// reflection: how a server's config struct would hold a seal.
	type holder struct {
		name string
		seal *keyfile.Seal
		copy keyfile.Seal
	}
	leaktest.Check(t, "struct holding a seal", holder{name: "unseal", seal: s, copy: *s}, secrets)
	leaktest.Check(t, "*struct holding a seal", &holder{seal: s, copy: *s}, secrets)

	for how, out := range leaktest.Renderings(s) {
		if strings.Contains(out, keyText) {
			t.Errorf("%s holds the key file's text: %s", how, out)
		}
		if strings.Contains(strings.ToLower(out), "gcm") || strings.Contains(out, "aead") {
			t.Errorf("%s shows the cipher: %s", how, out)
		}
		// What a seal prints is its path: logs should say which file.
		if strings.HasPrefix(how, "fmt") && !strings.Contains(out, s.Path()) && !strings.Contains(out, fmt.Sprintf("%x", s.Path())) {
			t.Errorf("%s does not name the key file: %s", how, out)
		}
	}
	for verb, want := range map[string]string{
		"%v":  "keyfile seal " + s.Path(),
		"%s":  "keyfile seal " + s.Path(),
		"%+v": "keyfile seal " + s.Path(),
		"%d":  "keyfile seal " + s.Path(),
		"%q":  fmt.Sprintf("%q", "keyfile seal "+s.Path()),
		"%#v": fmt.Sprintf("&keyfile.Seal{path: %q}", s.Path()),
	} {
		if got := fmt.Sprintf(verb, s); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, want)
		}
	}
	// Without LogValue, slog's JSON handler logs a seal as {}.
	if lv, ok := any(s).(slog.LogValuer); !ok || lv.LogValue().String() != s.String() {
		t.Errorf("*keyfile.Seal is not a slog.LogValuer that logs %q", s.String())
	}
}

// TestErrorsDoNotLeakKey makes every error a key file can give and checks
// that none holds the key.
func TestErrorsDoNotLeakKey(t *testing.T) {
	ctx := context.Background()
	s, keyText, key := create(t)
	var errs []error

	for _, c := range []struct {
		contents string
		mode     os.FileMode
	}{
		{header + keyText + "\n", 0o644},                                 // mode
		{header + keyText + "x\n", 0o600},                                // wrong length
		{header + keyText + keyText + "\n", 0o600},                       // far too long
		{header + keyText[:30] + "!" + keyText[31:] + "\n", 0o600},       // bad base64
		{header + keyText + "\n" + strings.Repeat("x", 300), 0o600},      // too large
		{strings.Replace(header, "v1", "v9", 1) + keyText + "\n", 0o600}, // header
	} {
		path := filepath.Join(t.TempDir(), "unseal.key")
		writeFile(t, path, []byte(c.contents), c.mode)
		_, err := keyfile.Open(path)
		if err == nil {
			t.Fatalf("Open accepted %q", c.contents)
		}
		errs = append(errs, err)
	}
	_, err := keyfile.Create(s.Path())
	errs = append(errs, err)
	other, _, _ := create(t)
	w, _ := other.Wrap(ctx, key) // the worst case: the key wraps itself
	_, err = s.Unwrap(ctx, w)
	errs = append(errs, err)
	_, err = s.Unwrap(ctx, w[:5])
	errs = append(errs, err)

	for _, err := range errs {
		if err == nil {
			t.Fatal("an expected error is nil")
		}
		msg := err.Error()
		if strings.Contains(msg, keyText[:12]) || strings.Contains(msg, keyText[20:32]) {
			t.Errorf("error %q holds the key file's text", msg)
		}
		if paths, _ := leaktest.Leaks(map[string]string{"error": msg, "%+v": fmt.Sprintf("%+v", err)}, map[string][]byte{"key": key}); len(paths) > 0 {
			t.Errorf("error %q leaks the key: %v", msg, paths)
		}
	}
	if !errors.Is(errs[len(errs)-1], keyfile.ErrUnwrap) {
		t.Errorf("Unwrap of a truncated blob = %v, want ErrUnwrap", errs[len(errs)-1])
	}
}
