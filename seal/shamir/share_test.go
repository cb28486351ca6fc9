package shamir_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/internal/leaktest"
	"github.com/keycustodian/custodian/seal/shamir"
)

func TestShareTextRoundTrip(t *testing.T) {
	for _, threshold := range []int{1, 3} {
		for _, s := range split(t, newSecret(t), 5, threshold) {
			text := shamir.EncodeShare(s)
			if !strings.HasPrefix(text, "kcshare1:") || strings.ContainsAny(text, "=+/ \n") {
				t.Errorf("EncodeShare = %q, want kcshare1: and unpadded base64url", text)
			}
			for _, pasted := range []string{text, text + "\n", text + "\r\n", "  " + text + "\t\n", "\n\n" + text + " "} {
				got, err := shamir.DecodeShare(pasted)
				if err != nil || !bytes.Equal(got, s) {
					t.Errorf("DecodeShare(%q) = %x, %v; want %x", pasted, got, err, s)
				}
			}
		}
	}
}

func TestDecodeShareRefuses(t *testing.T) {
	valid := shamir.EncodeShare([]byte{0xde, 0xad, 0xbe, 0xef, 0x07})
	b64 := strings.TrimPrefix(valid, "kcshare1:")
	// "kcshare1:AAE" is the share {0x00, 0x01}; its last character
	// carries two unused bits, which "AAF" sets.
	if got, err := shamir.DecodeShare("kcshare1:AAE"); err != nil || !bytes.Equal(got, []byte{0, 1}) {
		t.Fatalf("DecodeShare(kcshare1:AAE) = %x, %v; the table below relies on it", got, err)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"empty", "", "starts with"},
		{"only white space", " \n", "starts with"},
		{"no prefix", b64, "starts with"},
		{"another version", "kcshare2:" + b64, "starts with"},
		{"upper-case prefix", "KCSHARE1:" + b64, "starts with"},
		{"prefix without colon", "kcshare1" + b64, "starts with"},
		{"prefix only", "kcshare1:", "malformed"},
		{"characters outside base64url", "kcshare1:3q2*7wc", "malformed"},
		{"standard base64 alphabet", "kcshare1:" + base64.RawStdEncoding.EncodeToString([]byte{0xfb, 0xff, 0xbf, 0x07}), "malformed"},
		{"padding", "kcshare1:" + base64.URLEncoding.EncodeToString([]byte{0xde, 0xad, 0xbe, 0xef, 0x07}), "malformed"},
		{"impossible length", "kcshare1:AAAAA", "malformed"},
		{"one base64 character", "kcshare1:A", "malformed"},
		{"one byte", "kcshare1:" + base64.RawURLEncoding.EncodeToString([]byte{7}), "malformed"},
		{"x coordinate 0", "kcshare1:" + base64.RawURLEncoding.EncodeToString([]byte{0xde, 0xad, 0x00}), "malformed"},
		{"space inside", "kcshare1:" + b64[:3] + " " + b64[3:], "malformed"},
		{"newline inside", "kcshare1:" + b64[:3] + "\n" + b64[3:], "malformed"},
		{"CR inside", "kcshare1:" + b64[:3] + "\r" + b64[3:], "malformed"},
		{"space after prefix", "kcshare1: " + b64, "malformed"},
		{"unused bits set", "kcshare1:AAF", "malformed"},
		{"two shares", valid + " " + valid, "malformed"},
	} {
		got, err := shamir.DecodeShare(c.text)
		if err == nil {
			t.Errorf("%s: DecodeShare(%q) = %x, want an error", c.name, c.text, got)
			continue
		}
		if got != nil || !strings.HasPrefix(err.Error(), "shamir: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: DecodeShare(%q) = %x, %q; want an error containing %q", c.name, c.text, got, err, c.want)
		}
	}
}

// TestErrorsDoNotLeakShares checks that refusing a share, or a set of
// shares, never echoes share material: an operator pastes shares into a
// terminal whose errors end up in logs.
func TestErrorsDoNotLeakShares(t *testing.T) {
	shares := split(t, newSecret(t), 5, 3)
	good := shamir.EncodeShare(shares[0])
	zeroX := bytes.Clone(shares[1])
	zeroX[len(zeroX)-1] = 0
	texts := []string{
		"kcshare2:" + strings.TrimPrefix(good, "kcshare1:"), // wrong prefix
		good + "!", // bad base64
		good[:len(good)-1] + "\n" + good[len(good)-1:], // embedded newline
		shamir.EncodeShare(zeroX),
	}
	for _, text := range texts {
		_, err := shamir.DecodeShare(text)
		if err == nil {
			t.Fatalf("DecodeShare(%q) accepted", text)
		}
		checkNoShare(t, err, text, shares[0], zeroX)
	}
	for _, set := range [][][]byte{
		{shares[0], shares[0]},
		{shares[0], zeroX},
		{shares[0], shares[1][1:]},
	} {
		_, err := shamir.Seal{}.Combine(set)
		if err == nil {
			t.Fatal("Combine accepted a malformed set")
		}
		checkNoShare(t, err, "", set...)
	}
}

func checkNoShare(t *testing.T, err error, text string, shares ...[]byte) {
	t.Helper()
	msg := err.Error()
	if rest := strings.TrimPrefix(strings.TrimSpace(text), "kcshare1:"); len(rest) > 8 && strings.Contains(msg, rest[:8]) {
		t.Errorf("error %q echoes the share text", msg)
	}
	secrets := map[string][]byte{}
	for i, s := range shares {
		// The y values only: the x coordinate is a single small number
		// that innocently appears in messages.
		secrets[string(rune('a'+i))] = s[:len(s)-1]
	}
	if paths, _ := leaktest.Leaks(map[string]string{"error": msg}, secrets); len(paths) > 0 {
		t.Errorf("error %q leaks share material: %v", msg, paths)
	}
}

// FuzzDecodeShare checks that DecodeShare never panics, that what it
// accepts is a well-formed share, and that each share has exactly one text
// form: the accepted text, trimmed, is what EncodeShare gives back.
func FuzzDecodeShare(f *testing.F) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	for _, threshold := range []int{1, 3} {
		shares, err := shamir.Seal{}.Split(secret, 5, threshold)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range shares {
			f.Add(shamir.EncodeShare(s))
		}
	}
	for _, s := range []string{
		"", "kcshare1:", "kcshare1:AAE", "kcshare1:AAF", "kcshare1:AAA", "kcshare1:Bw",
		"kcshare1:3q2-7wc\n", " kcshare1:3q2-7wc ", "kcshare1:3q2\n-7wc", "kcshare1:3q2-7wc==",
		"kcshare1:3q2+7wc", "kcshare2:3q2-7wc", "kcshare1:\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		share, err := shamir.DecodeShare(text)
		if err != nil {
			if share != nil {
				t.Fatalf("DecodeShare(%q) returned %x with error %v", text, share, err)
			}
			return
		}
		if len(share) < 2 || share[len(share)-1] == 0 {
			t.Fatalf("DecodeShare(%q) accepted a malformed share %x", text, share)
		}
		enc := shamir.EncodeShare(share)
		if enc != strings.TrimSpace(text) {
			t.Fatalf("DecodeShare(%q) accepted a second text form of %q", text, enc)
		}
		again, err := shamir.DecodeShare(enc)
		if err != nil || !bytes.Equal(again, share) {
			t.Fatalf("DecodeShare(EncodeShare(%x)) = %x, %v", share, again, err)
		}
		// A share alone always combines (to the secret at threshold 1, to
		// garbage otherwise) and never panics.
		if _, err := (shamir.Seal{}).Combine([][]byte{share}); err != nil {
			t.Fatalf("Combine of accepted share %x: %v", share, err)
		}
	})
}
