package dh

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests drive Python cryptography through testdata/interop.py, with
// every distinct interpreter among $CUSTODIAN_PYTHON, /usr/bin/python3 and
// python3 on PATH that can import it. They skip when there is none; CI
// installs python3-cryptography.

// pythons returns the usable interpreters, keyed by their cryptography
// version.
func pythons(t *testing.T) map[string]string {
	t.Helper()
	candidates := []string{os.Getenv("CUSTODIAN_PYTHON"), "/usr/bin/python3"}
	if path, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, path)
	}
	found := make(map[string]string)
	seen := make(map[string]bool)
	for _, c := range candidates {
		if c == "" {
			continue
		}
		resolved, err := filepath.EvalSymlinks(c)
		if err != nil || seen[resolved] {
			continue
		}
		seen[resolved] = true
		out, err := exec.Command(c, interopScript, "version").Output()
		if err != nil {
			continue
		}
		label := "cryptography-" + strings.TrimSpace(string(out))
		if found[label] != "" {
			continue // same version twice; one run is enough
		}
		found[label] = c
	}
	if len(found) == 0 {
		t.Skip("no python3 with the cryptography package found (set CUSTODIAN_PYTHON); CI installs python3-cryptography")
	}
	return found
}

var interopScript = filepath.Join("testdata", "interop.py")

func runPython(t *testing.T, python string, args ...string) string {
	t.Helper()
	return strings.TrimSpace(string(runTool(t, python, append([]string{interopScript}, args...)...)))
}

func writeDERKey(t *testing.T, dir string, k *PrivateKey) (priv, pub string) {
	t.Helper()
	privDER, err := k.MarshalPKCS8()
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := k.PublicKey().MarshalPKIX()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, "ours.der"), filepath.Join(dir, "ours_pub.der")
	writeFile(t, priv, privDER)
	writeFile(t, pub, pubDER)
	return priv, pub
}

// pythonKey generates a key with Python for g's parameters.
func pythonKey(t *testing.T, python, dir string, g *Group) (privPath, pubPath string, priv *PrivateKey, pub *PublicKey) {
	t.Helper()
	params := filepath.Join(dir, "params.pem")
	writeFile(t, params, g.ParametersPEM())
	privPath, pubPath = filepath.Join(dir, "theirs.der"), filepath.Join(dir, "theirs_pub.der")
	runPython(t, python, "genkey", params, privPath, pubPath)
	privDER, err := os.ReadFile(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if priv, err = ParsePKCS8(privDER); err != nil {
		t.Fatalf("ParsePKCS8(python key): %v", err)
	}
	if pub, err = ParsePKIX(pubDER); err != nil {
		t.Fatalf("ParsePKIX(python key): %v", err)
	}
	if !priv.Group().Equal(g) || !priv.PublicKey().Equal(pub) {
		t.Fatal("python key pair does not match its parameters")
	}
	return privPath, pubPath, priv, pub
}

func TestPythonInterop(t *testing.T) {
	t.Parallel()
	for label, python := range pythons(t) {
		for name, g := range map[string]*Group{"ffdhe2048": FFDHE2048(), "x942": x942Group(t), "safeprime": customSafePrimeGroup(t)} {
			t.Run(label+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				theirPriv, theirPubPath, theirKey, theirPub := pythonKey(t, python, dir, g)
				if g.Name() != "" && theirPub.Group() != g {
					t.Error("python's encoding of a named group not recognised")
				}
				ours := mustGenerateKey(t, g)
				ourPriv, ourPub := writeDERKey(t, dir, ours)
				if out := runPython(t, python, "check", ourPriv, ourPub); out != "ok" {
					t.Fatalf("python check: %s", out)
				}
				want, err := ours.SharedSecret(theirPub)
				if err != nil {
					t.Fatal(err)
				}
				for _, pair := range [][2]string{{theirPriv, ourPub}, {ourPriv, theirPubPath}} {
					got, err := hex.DecodeString(runPython(t, python, "derive", pair[0], pair[1]))
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("python derive %s %s: different secret", filepath.Base(pair[0]), filepath.Base(pair[1]))
					}
				}
				if got, err := theirKey.SharedSecret(ours.PublicKey()); err != nil || !bytes.Equal(got, want) {
					t.Errorf("their parsed key derived a different secret (%v)", err)
				}
			})
		}
	}
}

func TestPythonReadsParameters(t *testing.T) {
	for label, python := range pythons(t) {
		for name, g := range map[string]*Group{"ffdhe2048": FFDHE2048(), "ffdhe4096": FFDHE4096(), "x942": x942Group(t)} {
			t.Run(label+"/"+name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "params.pem")
				writeFile(t, path, g.ParametersPEM())
				fields := strings.Fields(runPython(t, python, "params", path))
				if len(fields) != 3 {
					t.Fatalf("unexpected output %q", fields)
				}
				if hexInt(t, fields[0]).Cmp(g.P()) != 0 || hexInt(t, fields[1]).Cmp(g.G()) != 0 {
					t.Error("python read a different p or g")
				}
				// Python learns q only where the encoding or OpenSSL's
				// named-group table gives it; when it does, it must agree.
				if fields[2] != "-" && (g.Q() == nil || hexInt(t, fields[2]).Cmp(g.Q()) != 0) {
					t.Errorf("python read q = %s", fields[2])
				}
				if g.Name() == "" && g.Q() != nil && fields[2] == "-" {
					t.Error("python lost q of an X9.42 group")
				}
			})
		}
	}
}

// TestPythonPadding checks that Python, like us, keeps leading zeros.
func TestPythonPadding(t *testing.T) {
	t.Parallel()
	for label, python := range pythons(t) {
		t.Run(label, func(t *testing.T) {
			dir := t.TempDir()
			theirPriv, _, _, theirPub := pythonKey(t, python, dir, FFDHE2048())
			var ours *PrivateKey
			want := []byte{1}
			for i := 0; want[0] != 0; i++ {
				if i > 5000 {
					t.Fatal("no secret with a leading zero byte in 5000 tries")
				}
				ours = mustGenerateKey(t, FFDHE2048())
				var err error
				if want, err = ours.SharedSecret(theirPub); err != nil {
					t.Fatal(err)
				}
			}
			_, ourPub := writeDERKey(t, dir, ours)
			got, err := hex.DecodeString(runPython(t, python, "derive", theirPriv, ourPub))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("python gave %d bytes, want %d starting with zero", len(got), len(want))
			}
		})
	}
}
