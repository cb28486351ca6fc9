package envelope_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"regexp"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/envelope"
	"github.com/keycustodian/custodian/internal/secret"
)

// TestFormatsDocExample decrypts the worked example of docs/formats.md with
// the published test key, so the document and the code cannot drift apart.
func TestFormatsDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^kc1:[A-Za-z0-9_-]+$`).Find(doc)
	if text == nil {
		t.Fatal("docs/formats.md has no kc1: example line")
	}
	ct, err := envelope.DecodeText(string(text))
	if err != nil {
		t.Fatal(err)
	}
	h, header, body, err := envelope.Parse(ct)
	if err != nil {
		t.Fatal(err)
	}
	if h.Algorithm != algo.EncAES256GCM || h.Version != 3 || hex.EncodeToString(h.KeyID[:]) != "6b6331a4f0c2d95e07b8e3aa" {
		t.Fatalf("header = %+v, want aes256-gcm, key 6b6331a4f0c2d95e07b8e3aa, version 3", h)
	}
	if overhead := len(ct) - len("Confidential Communication"); overhead != 46 {
		t.Errorf("overhead = %d, docs say 46", overhead)
	}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	spec, _ := algo.Lookup(algo.AES256GCM)
	k, err := spec.Load(secret.New(key))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := k.(algo.Encrypter).Open(h.Algorithm, header, body, []byte("order=42"))
	if err != nil {
		t.Fatalf("the documented example does not decrypt: %v", err)
	}
	if !bytes.Equal(pt, []byte("Confidential Communication")) {
		t.Fatalf("plaintext = %q", pt)
	}
	if _, err := k.(algo.Encrypter).Open(h.Algorithm, header, body, []byte("order=43")); err == nil {
		t.Fatal("the example decrypts with other associated data")
	}
}
