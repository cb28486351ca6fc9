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
	if len(sealed) != material.Len()+Overhead {
		t.Fatalf("sealed record is %d bytes, want %d", len(sealed), material.Len()+Overhead)
	}
	m, err := b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed)
	if err != nil || !m.Equal(material) {
		t.Fatalf("open in its own slot: %v", err)
	}
	other, _ := NewEphemeral()
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	otherTerm := bytes.Clone(sealed)
	otherTerm[4] ^= 1
	for name, open := range map[string]func() (secret.Bytes, error){
		"other key":     func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-b", 1, "type=aes256-gcm", sealed) },
		"other version": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 2, "type=aes256-gcm", sealed) },
		"other kind":    func() (secret.Bytes, error) { return b.Open(KindKeyRecord, "key-a", 1, "type=aes256-gcm", sealed) },
		"other binding": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=hmac-sha256", sealed) },
		"other keyring": func() (secret.Bytes, error) { return other.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed) },
		"tampered":      func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", flipped) },
		"unknown term":  func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", otherTerm) },
		"truncated":     func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", sealed[:10]) },
		"empty":         func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-a", 1, "type=aes256-gcm", nil) },
		// Length prefixes keep fields apart: moving a byte between key id
		// and binding must not produce the same associated data.
		"shifted fields": func() (secret.Bytes, error) { return b.Open(KindMaterial, "key-", 1, "atype=aes256-gcm", sealed) },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

// TestTermsRotate: a keyring with a new term seals under it and still
// opens the old term's records; once only the new term is left, the old
// records no longer open.
func TestTermsRotate(t *testing.T) {
	kr, err := NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := kr.Barrier()
	m := secret.New([]byte("material"))
	old, _ := b1.Seal(KindMaterial, "k", 1, "", m)

	kr2, err := kr.WithNewTerm()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := kr2.Barrier()
	if b2.Active() != 2 || len(b2.Terms()) != 2 {
		t.Fatalf("after a new term: active %d, terms %v", b2.Active(), b2.Terms())
	}
	fresh, _ := b2.Seal(KindMaterial, "k", 1, "", m)
	if term, _ := TermOf(fresh); term != 2 {
		t.Fatalf("new record sealed under term %d, want 2", term)
	}
	if term, _ := TermOf(old); term != 1 {
		t.Fatalf("old record names term %d, want 1", term)
	}
	for _, s := range [][]byte{old, fresh} {
		if got, err := b2.Open(KindMaterial, "k", 1, "", s); err != nil || !got.Equal(m) {
			t.Fatalf("open during rotation: %v", err)
		}
	}
	b3, _ := kr2.OnlyActive().Barrier()
	if _, err := b3.Open(KindMaterial, "k", 1, "", old); !errors.Is(err, ErrOpen) {
		t.Fatalf("an old-term record opened after its term was dropped: %v", err)
	}
	if _, err := b3.Open(KindMaterial, "k", 1, "", fresh); err != nil {
		t.Fatalf("a new-term record: %v", err)
	}
}

func TestKeyringSealedUnderRoot(t *testing.T) {
	root, _ := NewKey()
	kr, _ := NewKeyring()
	kr, _ = kr.WithNewTerm()
	sealed, err := SealKeyring(root, kr)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range kr.Terms {
		if bytes.Contains(sealed, secret.Reveal(term.Key)) {
			t.Fatal("sealed keyring contains a term's key")
		}
	}
	got, err := OpenKeyring(root, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active != kr.Active || len(got.Terms) != 2 || !got.Terms[1].Key.Equal(kr.Terms[1].Key) {
		t.Fatalf("keyring did not round-trip: active %d, %d terms", got.Active, len(got.Terms))
	}
	wrong, _ := NewKey()
	flipped := bytes.Clone(sealed)
	flipped[20] ^= 0x80
	for name, try := range map[string]func() error{
		"wrong root": func() error { _, err := OpenKeyring(wrong, sealed); return err },
		"tampered":   func() error { _, err := OpenKeyring(root, flipped); return err },
		"truncated":  func() error { _, err := OpenKeyring(root, sealed[:8]); return err },
		"short root": func() error { _, err := OpenKeyring(secret.New([]byte("short")), sealed); return err },
	} {
		if err := try(); !errors.Is(err, ErrRootKey) {
			t.Errorf("%s: err = %v, want ErrRootKey", name, err)
		}
	}
	check := Check(root)
	if err := VerifyRoot(root, check); err != nil {
		t.Fatalf("the root key fails its own check: %v", err)
	}
	if err := VerifyRoot(wrong, check); !errors.Is(err, ErrRootKey) {
		t.Fatalf("a wrong root key passed the check: %v", err)
	}
	if bytes.Contains(check, secret.Reveal(root)) {
		t.Fatal("the check value contains the root key")
	}
}

func TestNewRejectsBadKeyrings(t *testing.T) {
	k, _ := NewKey()
	for name, tc := range map[string]struct {
		terms  []Term
		active uint32
	}{
		"short key":      {[]Term{{1, secret.New(make([]byte, 16))}}, 1},
		"missing active": {[]Term{{1, k}}, 2},
		"duplicate term": {[]Term{{1, k}, {1, k}}, 1},
		"empty":          {nil, 1},
	} {
		if _, err := New(tc.terms, tc.active); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
