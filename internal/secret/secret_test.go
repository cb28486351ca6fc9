package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/keycustodian/custodian/internal/leaktest"
)

// material is what the tests try to find in formatted output: a 32-byte key
// and a short one, whose decimal form ("[104 117 ...]") is what fmt prints
// for a small []byte.
var materials = map[string][]byte{
	"key32": {
		0x8c, 0x1f, 0xe4, 0x37, 0x9a, 0x52, 0xd6, 0x0b, 0x73, 0xee, 0x45, 0xa9, 0x1c, 0xb0, 0x66, 0xf2,
		0x29, 0xdd, 0x84, 0x5e, 0xc3, 0x17, 0x7a, 0xbb, 0x40, 0xf9, 0x0e, 0x95, 0x6d, 0xa2, 0x31, 0xc8,
	},
	"short": []byte("hunter2!"),
}

func TestSecretRedactsEverywhere(t *testing.T) {
	for name, m := range materials {
		s := New(m)
		type exported struct {
			Key   Bytes
			Ptr   *Bytes
			Slice []Bytes
			Map   map[string]Bytes
		}
		values := map[string]any{
			"Bytes":                   s,
			"*Bytes":                  &s,
			"[]Bytes":                 []Bytes{s, s},
			"map value":               map[string]Bytes{"k": s},
			"struct of exported":      exported{Key: s, Ptr: &s, Slice: []Bytes{s}, Map: map[string]Bytes{"k": s}},
			"*struct of exported":     &exported{Key: s},
			"Own":                     Own(append([]byte(nil), m...)),
			"error wrapping a secret": fmt.Errorf("op failed with %v", s),
		}
		for vname, v := range values {
			leaktest.Check(t, name+" "+vname, v, map[string][]byte{name: m})
		}
		// Text encoders (YAML, TOML, encoding/xml attributes) go through
		// MarshalText.
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if paths, _ := leaktest.Leaks(map[string]string{"MarshalText": string(b)}, map[string][]byte{name: m}); len(paths) > 0 {
			t.Errorf("%s MarshalText leaks: %v", name, paths)
		}
	}
}

// TestSecretInUnexportedField is the case every key type of internal/algo
// relies on: a struct that keeps a Bytes in an unexported field. fmt cannot
// call methods on unexported fields (reflect refuses Interface on them), so
// it prints such a field by reflection. Bytes must not expose its bytes to
// that walk either.
func TestSecretInUnexportedField(t *testing.T) {
	type holder struct {
		name string
		key  Bytes
	}
	type nested struct {
		inner holder
	}
	for name, m := range materials {
		s := New(m)
		for vname, v := range map[string]any{
			"struct":          holder{name: "k", key: s},
			"*struct":         &holder{name: "k", key: s},
			"nested struct":   nested{inner: holder{key: s}},
			"*nested struct":  &nested{inner: holder{key: s}},
			"[]struct":        []holder{{key: s}},
			"map of *structs": map[string]*holder{"k": {key: s}},
		} {
			leaktest.Check(t, name+" "+vname, v, map[string][]byte{name: m})
		}
	}
}

func TestSecretMarkers(t *testing.T) {
	s := New(materials["key32"])
	for verb, want := range map[string]string{
		"%v": Redacted, "%+v": Redacted, "%s": Redacted, "%x": Redacted, "%q": Redacted,
		"%#v": "secret.Bytes(" + Redacted + ")",
	} {
		if got := fmt.Sprintf(verb, s); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, want)
		}
	}
	if got, _ := json.Marshal(s); string(got) != `"`+Redacted+`"` {
		t.Errorf("json.Marshal = %s", got)
	}
	if got := s.LogValue().String(); got != Redacted {
		t.Errorf("LogValue = %q", got)
	}
}

func TestSecretNewCopies(t *testing.T) {
	in := []byte("0123456789abcdef")
	s := New(in)
	in[0] = 'X'
	if got := Reveal(s); got[0] != '0' {
		t.Fatalf("New aliases its input: %q", got)
	}
	own := []byte("fedcba9876543210")
	o := Own(own)
	if &Reveal(o)[0] != &own[0] {
		t.Fatal("Own copied its input")
	}
}

func TestSecretEqualLenWipe(t *testing.T) {
	a, b, c := New([]byte("same bytes")), New([]byte("same bytes")), New([]byte("diff bytes"))
	if !a.Equal(b) || a.Equal(c) || a.Equal(New([]byte("same"))) {
		t.Fatal("Equal is wrong")
	}
	if a.Len() != 10 || a.IsZero() || !(Bytes{}).IsZero() || (Bytes{}).Len() != 0 {
		t.Fatal("Len or IsZero is wrong")
	}
	if !(Bytes{}).Equal(New(nil)) {
		t.Fatal("two empty secrets differ")
	}
	a.Wipe()
	if !bytes.Equal(Reveal(a), make([]byte, 10)) {
		t.Fatalf("Wipe left %q", Reveal(a))
	}
	if !b.Equal(New([]byte("same bytes"))) {
		t.Fatal("Wipe reached a secret made from a copy")
	}
	(Bytes{}).Wipe() // must not panic
}
