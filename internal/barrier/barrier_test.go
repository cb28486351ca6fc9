package barrier

import (
	"bytes"
	"errors"
	"testing"

	"github.com/keycustodian/custodian/internal/secret"
)

func TestSealedRecordsOpenOnlyInTheirSlot(t *testing.T) {
	b, err := NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	material := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	sealed, err := b.Seal(KindMaterial, "key-a", 1, "type=aes256-gcm", material)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret.Reveal(material)) {
		t.Fatal("sealed record contains the material")
	}
	m, err := b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed)
	if err != nil || !m.Equal(material) {
		t.Fatalf("open in its own slot: %v", err)
	}
	other, _ := NewEphemeral()
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, open := range map[string]func() (secret.Bytes, error){
		"other key":     func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-b", 1, "type=aes256-gcm", sealed) },
		"other version": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 2, "type=aes256-gcm", sealed) },
		"other kind":    func() (secret.Bytes, error) { return b.Open("other-kind", "key-a", 1, "type=aes256-gcm", sealed) },
		"other binding": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=hmac-sha256", sealed) },
		"other root":    func() (secret.Bytes, error) { return other.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed) },
		"tampered":      func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", flipped) },
		"truncated":     func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed[:10]) },
		// Length prefixes keep fields apart: moving a byte between key id
		// and binding must not produce the same associated data.
		"shifted fields": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-", 1, "atype=aes256-gcm", sealed) },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewRejectsWrongRootKeySize(t *testing.T) {
	if _, err := New(secret.New(make([]byte, 16))); err == nil {
		t.Fatal("a 16-byte root key was accepted")
	}
}
