package dh

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

func TestPrivateKeyIsRedacted(t *testing.T) {
	k := mustGenerateKey(t, FFDHE2048())
	x := new(big.Int).SetBytes(k.x)
	secrets := []string{
		x.String(),                  // decimal
		x.Text(16),                  // hex, lower case
		strings.ToUpper(x.Text(16)), // hex, upper case
		hex.EncodeToString(k.x[:8]), // raw bytes as %x would show them
		fmt.Sprint(k.x[:4]),         // raw bytes as %v would show them
	}
	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outputs = append(outputs, fmt.Sprintf(format, k), fmt.Sprintf(format, *k))
	}
	outputs = append(outputs, fmt.Sprintf("%v", []any{k}), fmt.Sprintf("%+v", struct{ K *PrivateKey }{k}))

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k, "deref", *k)
	outputs = append(outputs, logged.String())
	js, err := json.Marshal(map[string]any{"key": k, "deref": *k})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))

	for _, out := range outputs {
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output %q is not marked redacted", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q contains the exponent", out)
			}
		}
	}
	if got, want := k.String(), "dh.PrivateKey(ffdhe2048, REDACTED)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestErrorsDoNotLeakExponent(t *testing.T) {
	g := FFDHE2048()
	for _, x := range []*big.Int{new(big.Int).Add(g.Q(), big.NewInt(12345)), g.P()} {
		der := pkcs8WithExponent(t, g, x)
		_, err := ParsePKCS8(der)
		if err == nil {
			t.Fatal("out-of-range exponent accepted")
		}
		if strings.Contains(err.Error(), x.String()) || strings.Contains(strings.ToLower(err.Error()), x.Text(16)) {
			t.Errorf("error %q contains the exponent", err)
		}
	}
}
