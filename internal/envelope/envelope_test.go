package envelope

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/keycustodian/custodian/internal/algo"
)

// TestEnvelopeCodesPinned pins the wire codes: they are a storage format,
// and a renumbered code would make every stored ciphertext of two
// algorithms decrypt with the wrong one, or not at all.
func TestEnvelopeCodesPinned(t *testing.T) {
	want := map[algo.Algorithm]byte{
		algo.EncAES256GCM:          0x01,
		algo.EncChaCha20Poly1305:   0x02,
		algo.EncAES256CBC:          0x03,
		algo.EncRSAOAEPSHA256:      0x10,
		algo.EncRSAOAEPSHA1:        0x11,
		algo.EncRSAPKCS1v15:        0x12,
		algo.EncHPKEX25519MLKEM768: 0x20,
	}
	for alg, code := range want {
		if got, ok := Code(alg); !ok || got != code {
			t.Errorf("Code(%s) = %#x, %v, want %#x", alg, got, ok, code)
		}
	}
	if len(codes) != len(want) || len(algorithms) != len(want) {
		t.Errorf("%d codes and %d algorithms, want %d of each: a new code needs a line above", len(codes), len(algorithms), len(want))
	}
	for _, alg := range []algo.Algorithm{algo.SigEd25519, algo.MACHMACSHA256, ""} {
		if _, ok := Code(alg); ok {
			t.Errorf("Code(%q) exists; only encryption algorithms have codes", alg)
		}
	}
}

func TestEnvelopeHeaderRoundTrip(t *testing.T) {
	id := KeyID{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for alg := range codes {
		for _, v := range []uint32{1, 2, 0x01020304, ^uint32(0)} {
			h := Header{Algorithm: alg, KeyID: id, Version: v}
			ct := AppendHeader([]byte(nil), h)
			if len(ct) != HeaderSize {
				t.Fatalf("header is %d bytes, want %d", len(ct), HeaderSize)
			}
			ct = append(ct, "body"...)
			got, header, body, err := Parse(ct)
			if err != nil || got != h || !bytes.Equal(header, ct[:HeaderSize]) || string(body) != "body" {
				t.Errorf("Parse(AppendHeader(%+v)) = %+v, %x, %q, %v", h, got, header, body, err)
			}
		}
	}
	// AppendHeader appends: what dst held stays in front.
	if got := AppendHeader([]byte("xy"), Header{Algorithm: algo.EncAES256GCM, Version: 1}); string(got[:2]) != "xy" || len(got) != 2+HeaderSize {
		t.Errorf("AppendHeader does not append: %x", got)
	}
}

func TestEnvelopeParseRejects(t *testing.T) {
	good := AppendHeader(nil, Header{Algorithm: algo.EncAES256GCM, Version: 1})
	mod := func(i int, b byte) []byte { c := bytes.Clone(good); c[i] = b; return c }
	for name, ct := range map[string][]byte{
		"nil":               nil,
		"empty":             {},
		"one byte short":    good[:HeaderSize-1],
		"format 0":          mod(0, 0x00),
		"format 2":          mod(0, 0x02),
		"algorithm 0":       mod(1, 0x00),
		"algorithm 0xff":    mod(1, 0xff),
		"version 0":         mod(HeaderSize-1, 0x00),
		"text form as is":   []byte(EncodeText(good)),
		"signature code 04": mod(1, 0x04),
	} {
		if _, _, _, err := Parse(ct); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", name, err)
		}
	}
	// A bare header with an empty body parses: the algorithm rejects the body.
	if _, _, body, err := Parse(good); err != nil || len(body) != 0 {
		t.Errorf("Parse(header only) = %q, %v", body, err)
	}
}

func TestEnvelopeAppendHeaderPanicsOnMisuse(t *testing.T) {
	for name, h := range map[string]Header{
		"version 0":         {Algorithm: algo.EncAES256GCM},
		"unknown algorithm": {Algorithm: "rot13", Version: 1},
		"signature":         {Algorithm: algo.SigEd25519, Version: 1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendHeader(%s) did not panic", name)
				}
			}()
			AppendHeader(nil, h)
		}()
	}
}

func TestEnvelopeText(t *testing.T) {
	ct := append(AppendHeader(nil, Header{Algorithm: algo.EncChaCha20Poly1305, Version: 7}), 0xfb, 0xff, 0xfe)
	s := EncodeText(ct)
	if s[:len(TextPrefix)] != TextPrefix {
		t.Fatalf("EncodeText = %q, want prefix %q", s, TextPrefix)
	}
	if got, err := DecodeText(s); err != nil || !bytes.Equal(got, ct) {
		t.Fatalf("DecodeText(EncodeText(ct)) = %x, %v", got, err)
	}
	for _, bad := range []string{
		"", "kc1", "KC1:AQ", "kc2:AQ", s + "=", s[:len(s)-1] + "+", s + " ",
		TextPrefix + "AR", // non-zero trailing bits: not the canonical encoding of any bytes
	} {
		if _, err := DecodeText(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeText(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

// fzCheckEnvelope is FuzzEnvelopeParse's property: Parse never panics;
// what it accepts splits into a header that AppendHeader reproduces byte
// for byte and a body, and what it refuses is ErrMalformed and really is
// malformed. The text form round-trips any bytes.
func fzCheckEnvelope(t *testing.T, ct []byte) {
	h, header, body, err := Parse(ct)
	wellFormed := len(ct) >= HeaderSize && ct[0] == FormatV1 &&
		binary.BigEndian.Uint32(ct[2+KeyIDSize:HeaderSize]) != 0
	if wellFormed {
		_, known := algorithms[ct[1]]
		wellFormed = known
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse(%x): %v, want ErrMalformed", ct, err)
		}
		if wellFormed {
			t.Fatalf("Parse(%x) refused a well-formed header", ct)
		}
	} else {
		if !wellFormed {
			t.Fatalf("Parse(%x) accepted a malformed header as %+v", ct, h)
		}
		again := AppendHeader(nil, h)
		if !bytes.Equal(again, header) || !bytes.Equal(header, ct[:HeaderSize]) {
			t.Fatalf("Parse(%x) = %+v, whose header %x does not round-trip: %x", ct, h, header, again)
		}
		if !bytes.Equal(append(again, body...), ct) {
			t.Fatalf("header and body of %x do not make the ciphertext again", ct)
		}
		if c, ok := Code(h.Algorithm); !ok || c != ct[1] {
			t.Fatalf("Code(%s) = %#x, %v, want %#x", h.Algorithm, c, ok, ct[1])
		}
	}
	back, err := DecodeText(EncodeText(ct))
	if err != nil || !bytes.Equal(back, ct) {
		t.Fatalf("DecodeText(EncodeText(%x)) = %x, %v", ct, back, err)
	}
}

func FuzzEnvelopeParse(f *testing.F) {
	for alg := range codes {
		f.Add(AppendHeader(nil, Header{Algorithm: alg, KeyID: KeyID{1, 2, 3}, Version: 1}))
	}
	f.Add([]byte{})
	f.Fuzz(fzCheckEnvelope)
}
