// Package leaktest finds key material in formatted output. Tests use it to
// prove that secret-bearing values never leak through fmt, log/slog or
// encoding/json: Renderings formats a value every way a program is likely
// to, Needles lists every form a secret could take in such output, and
// Check fails a test when one appears in another.
package leaktest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Needles returns what an output would contain if it leaked s: for three
// 16-byte windows of s (or s itself, if short), the raw bytes, hex in both
// cases, fmt's decimal []byte, Go syntax, Go quoting, 32-bit words in
// decimal, base64 in both alphabets at each of the three alignments an
// enclosing buffer could give, and s as a decimal big.Int (how fmt prints
// *big.Int fields).
func Needles(s []byte) map[string]string {
	var windows [][]byte
	if len(s) <= 24 {
		windows = [][]byte{s}
	} else {
		windows = [][]byte{s[:16], s[len(s)/2-8 : len(s)/2+8], s[len(s)-16:]}
	}
	out := map[string]string{}
	for i, w := range windows {
		add := func(enc, v string) { out[fmt.Sprintf("%s, window %d", enc, i)] = v }
		dec := make([]string, len(w))
		gosyn := make([]string, len(w))
		for j, b := range w {
			dec[j] = strconv.Itoa(int(b))
			gosyn[j] = fmt.Sprintf("%#x", b)
		}
		add("raw", string(w))
		add("hex", hex.EncodeToString(w))
		add("HEX", strings.ToUpper(hex.EncodeToString(w)))
		add("decimal", strings.Join(dec, " "))
		add("decimal csv", strings.Join(dec, ","))
		add("go syntax", strings.Join(gosyn, ", "))
		// Go quoting: trimmed by three escaped bytes at each end, since a
		// rune may span the window's edge and quote differently in context.
		if q := strconv.Quote(string(w)); q[1:len(q)-1] != string(w) && len(q) >= 2+24+16 {
			add("quoted", q[1+12:len(q)-1-12])
		}
		// Big- and little-endian 32-bit words in decimal: how fmt prints
		// an expanded AES key schedule, whose first words are the key.
		if len(w)%4 == 0 {
			be, le := make([]string, len(w)/4), make([]string, len(w)/4)
			for j := range be {
				be[j] = strconv.FormatUint(uint64(binary.BigEndian.Uint32(w[4*j:])), 10)
				le[j] = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(w[4*j:])), 10)
			}
			add("uint32 words BE", strings.Join(be, " "))
			add("uint32 words LE", strings.Join(le, " "))
		}
		for a := range 3 {
			x := w[a:]
			x = x[:len(x)/3*3]
			add(fmt.Sprintf("base64 std @%d", a), base64.StdEncoding.EncodeToString(x))
			add(fmt.Sprintf("base64 url @%d", a), base64.URLEncoding.EncodeToString(x))
		}
	}
	if d := new(big.Int).SetBytes(s).String(); len(d) >= 40 {
		out["big.Int decimal"] = d[len(d)/2-10 : len(d)/2+10]
	}
	return out
}

// Renderings formats v every way a program is likely to: fmt verbs,
// log/slog's text and JSON handlers (as an attribute, in a group, with With,
// inside a struct) and encoding/json (directly, in a struct, in a map).
func Renderings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
	}
	out["fmt.Sprint"] = fmt.Sprint(v)
	wrapped := struct {
		Value any
		Named string
	}{v, "wrapper"}
	out["fmt %+v in struct"] = fmt.Sprintf("%+v", wrapped)
	out["fmt %#v in struct"] = fmt.Sprintf("%#v", wrapped)
	out["fmt %v in slice"] = fmt.Sprintf("%v", []any{v})
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		l := slog.New(h(&buf))
		l.Info("attr", "value", v)
		l.Info("group", slog.Group("g", slog.Any("value", v)))
		l.Info("struct", "wrapped", wrapped)
		l.With("value", v).Info("with")
		l.WithGroup("g").Info("with group", "value", v)
		out[name] = buf.String()
	}
	for name, x := range map[string]any{
		"json":           v,
		"json in struct": wrapped,
		"json in map":    map[string]any{"value": v},
	} {
		b, err := json.Marshal(x)
		if err != nil {
			// An unmarshalable value prints nothing; the error must not leak either.
			out[name] = err.Error()
			continue
		}
		out[name] = string(b)
	}
	return out
}

// Leaks returns the renderings that contain a needle of one of secrets,
// as "rendering (part: encoding)", and one offending output.
func Leaks(renderings map[string]string, secrets map[string][]byte) (paths []string, example string) {
	for how, out := range renderings {
	secrets:
		for part, s := range secrets {
			for enc, n := range Needles(s) {
				if strings.Contains(out, n) {
					paths = append(paths, fmt.Sprintf("%s (%s: %s)", how, part, enc))
					example = out
					break secrets
				}
			}
		}
	}
	slices.Sort(paths)
	return paths, example
}

// Check fails, once per value, if any rendering of v leaks secrets.
func Check(t testing.TB, what string, v any, secrets map[string][]byte) {
	t.Helper()
	if paths, example := Leaks(Renderings(v), secrets); len(paths) > 0 {
		if len(example) > 600 {
			example = example[:600] + "..."
		}
		t.Errorf("%s leaks key material through %d renderings: %s\n\tfor example: %s", what, len(paths), strings.Join(paths, ", "), example)
	}
}
