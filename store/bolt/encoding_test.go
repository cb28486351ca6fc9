package bolt

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/keycustodian/custodian/store"
)

func TestEncodingRoundTrip(t *testing.T) {
	k := store.Key{ID: "id", Name: "ñame", Labels: map[string]string{"b": "2", "a": ""}, Exportable: true,
		Created: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Updated: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		RotationPeriod: -time.Second, PrimaryVersion: 1<<32 - 1, Revision: 1<<64 - 1}
	got, err := decodeKey(encodeKey(k))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeKey(got), encodeKey(k)) || !got.Created.Equal(k.Created) || !got.DeletionDate.IsZero() {
		t.Fatalf("key round trip: got %+v, want %+v", got, k)
	}
	v := store.Version{KeyID: "id", Number: 3, Material: []byte{0, 1, 2}}
	gotV, err := decodeVersion(encodeVersion(v))
	if err != nil || !bytes.Equal(gotV.Material, v.Material) || gotV.Number != 3 || !gotV.Created.IsZero() {
		t.Fatalf("version round trip: got %+v, %v", gotV, err)
	}
	// Every truncation and a trailing byte are refused, never a panic.
	encK, encV := encodeKey(k), encodeVersion(v)
	for n := range len(encK) {
		if _, err := decodeKey(encK[:n]); err == nil {
			t.Errorf("decodeKey of %d of %d bytes succeeded", n, len(encK))
		}
	}
	for n := range len(encV) {
		if _, err := decodeVersion(encV[:n]); err == nil {
			t.Errorf("decodeVersion of %d of %d bytes succeeded", n, len(encV))
		}
	}
	if _, err := decodeVersion(append(encodeVersion(v), 0)); !errors.Is(err, errCorrupt) {
		t.Errorf("trailing byte: err = %v, want errCorrupt", err)
	}
	future := encodeVersion(v)
	future[0] = formatV1 + 1
	if _, err := decodeVersion(future); err == nil {
		t.Error("a record of an unknown format decoded")
	}
}

// FuzzDecode checks that no input panics a decoder, and that whatever
// decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(encodeKey(store.Key{ID: "id", Name: "n", Labels: map[string]string{"a": "b"}}))
	f.Add(encodeVersion(store.Version{KeyID: "id", Number: 1, Material: []byte("m")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := decodeKey(b); err == nil && !bytes.Equal(encodeKey(k), b) {
			t.Errorf("key %x re-encodes as %x", b, encodeKey(k))
		}
		if v, err := decodeVersion(b); err == nil && !bytes.Equal(encodeVersion(v), b) {
			t.Errorf("version %x re-encodes as %x", b, encodeVersion(v))
		}
	})
}
