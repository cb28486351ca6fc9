package custodian_test

// Encryption at rest: known key material written through the embedded
// default (bbolt and a key file) and through PostgreSQL must not appear in
// the bytes the store keeps, nor in a backup file, raw or in any encoding internal/leaktest
// knows (hex in both cases, base64 in both alphabets at every alignment,
// decimal forms). The scans check themselves: each must find the key
// names, which are stored in the clear, or it proves nothing.
//
// Helpers here are prefixed "ar"; bk* helpers come from backup_test.go.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/leaktest"
	"github.com/keycustodian/custodian/internal/pgtest"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/memory"
	"github.com/keycustodian/custodian/store/postgres"
)

// arKey is key material the test knows, and its secret parts.
type arKey struct {
	name     string
	typ      custodian.KeyType
	material []byte
	secrets  map[string][]byte
}

// arKnownKeys returns material of four types: symmetric bytes derived
// from fixed labels, and RSA and ECDSA keys whose private values the test
// holds.
func arKnownKeys(t *testing.T) []arKey {
	t.Helper()
	label := func(s string) []byte { h := sha256.Sum256([]byte("atrest " + s)); return h[:] }
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	keys := []arKey{
		{name: "atrest-aes", typ: custodian.AES256GCM, material: label("aes256-gcm")},
		{name: "atrest-hmac", typ: custodian.HMACSHA256, material: append(label("hmac 1"), label("hmac 2")...)},
		{name: "atrest-rsa", typ: custodian.RSA2048, material: pkcs8(rk)},
		{name: "atrest-ecdsa", typ: custodian.ECDSAP256, material: pkcs8(ek)},
	}
	for i := range keys {
		k := &keys[i]
		k.secrets = map[string][]byte{k.name + " material": k.material}
		for part, s := range sxSecretParts(t, k.typ, k.material) {
			k.secrets[k.name+" "+part] = s
		}
	}
	return keys
}

// arImport imports the keys into c, checks that c holds exactly that
// material (so the scan looks for what is really stored), and uses each.
func arImport(t *testing.T, c *custodian.Custodian, keys []arKey) {
	t.Helper()
	ctx := t.Context()
	for _, k := range keys {
		if _, err := c.ImportKey(ctx, k.name, k.material, &custodian.CreateOptions{Type: k.typ, Exportable: true}); err != nil {
			t.Fatalf("import %s: %v", k.name, err)
		}
		got, err := c.ExportKey(ctx, k.name, nil)
		if err != nil {
			t.Fatalf("export %s: %v", k.name, err)
		}
		want := sxSecretParts(t, k.typ, k.material)
		if parts := sxSecretParts(t, k.typ, custodian.Reveal(got)); !maps.EqualFunc(parts, want, bytes.Equal) {
			t.Fatalf("%s: exported material differs from the imported one", k.name)
		}
		var use error
		switch k.typ {
		case custodian.HMACSHA256:
			_, use = c.MAC(ctx, k.name, []byte("m"), nil)
		case custodian.ECDSAP256:
			_, use = c.Sign(ctx, k.name, []byte("m"), nil)
		default:
			_, use = c.Encrypt(ctx, k.name, []byte("m"), nil)
		}
		if use != nil {
			t.Fatalf("use %s: %v", k.name, use)
		}
	}
}

func arSecrets(keys []arKey, more ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, k := range keys {
		maps.Copy(out, k.secrets)
	}
	for _, m := range more {
		maps.Copy(out, m)
	}
	return out
}

// arScan fails if haystack holds a secret, after checking that it holds
// every key name: a scan of the wrong bytes must not pass.
func arScan(t *testing.T, where string, haystack []byte, keys []arKey, secrets map[string][]byte) {
	t.Helper()
	for _, k := range keys {
		if !bytes.Contains(haystack, []byte(k.name)) {
			t.Fatalf("%s does not hold the key name %s: the scan reads the wrong bytes", where, k.name)
		}
	}
	arNoNeedles(t, where, haystack, secrets)
}

func TestAtRestBoltKeyFile(t *testing.T) {
	dir := t.TempDir()
	c, err := custodian.OpenDir(t.Context(), dir, custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	keys := arKnownKeys(t)
	arImport(t, c, keys)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{custodian.StoreFile, custodian.KeyFile}; !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want))) {
		t.Errorf("data directory holds %v, want only %v", names, want)
	}
	db, err := os.ReadFile(filepath.Join(dir, custodian.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	// The key file's key (which unwraps the root key) must not be in the
	// store either: the store alone must be useless.
	arScan(t, "the bbolt file", db, keys, arSecrets(keys, arKeyFileSecrets(t, filepath.Join(dir, custodian.KeyFile))))
}

func TestAtRestBoltShamir(t *testing.T) {
	path := filepath.Join(t.TempDir(), custodian.StoreFile)
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, shares := bkOpenShamir(t, st)
	keys := arKnownKeys(t)
	arImport(t, c, keys)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := arSecrets(keys, map[string][]byte{"root key": bkRoot(t, shares[:3])})
	for i, sh := range shares {
		secrets["share "+string(rune('1'+i))] = sh
		raw, err := shamir.DecodeShare(string(sh))
		if err != nil {
			t.Fatal(err)
		}
		secrets["share bytes "+string(rune('1'+i))] = raw
	}
	arScan(t, "the bbolt file", db, keys, secrets)
}

func TestAtRestPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	schema := pgtest.FreshSchema(t, dsn)
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	kf, keyPath := bkKeyfile(t)
	c := bkOpen(t, st, kf, nil)
	if _, err := c.Init(ctx, custodian.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := arKnownKeys(t)
	arImport(t, c, keys)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	dump := arDumpSchema(t, ctx, dsn, schema)
	arScan(t, "the PostgreSQL schema "+schema, dump, keys, arSecrets(keys, arKeyFileSecrets(t, keyPath)))
}

// arDumpSchema returns every row of every table in schema: each row as
// PostgreSQL's text form, and each bytea value raw and as hex, escape and
// base64 text.
func arDumpSchema(t *testing.T, ctx context.Context, dsn, schema string) []byte {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"keys", "versions", "meta"} {
		if !slices.Contains(tables, want) {
			t.Fatalf("schema %s has tables %v, no %s: the dump would miss it", schema, tables, want)
		}
	}
	var out bytes.Buffer
	total := 0
	for _, table := range tables {
		qt := pgx.Identifier{schema, table}.Sanitize()
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+qt+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		total += len(texts)
		out.WriteString(strings.Join(texts, "\n"))
		rows, err = conn.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'`, schema, table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range cols {
			qc := pgx.Identifier{col}.Sanitize()
			rows, err := conn.Query(ctx, `SELECT `+qc+`, coalesce(encode(`+qc+`, 'hex'), ''), coalesce(encode(`+qc+`, 'escape'), ''), coalesce(encode(`+qc+`, 'base64'), '') FROM `+qt)
			if err != nil {
				t.Fatal(err)
			}
			var raw []byte
			var hexText, escText, b64Text string
			_, err = pgx.ForEachRow(rows, []any{&raw, &hexText, &escText, &b64Text}, func() error {
				out.Write(raw)
				for _, s := range []string{hexText, escText, b64Text} {
					out.WriteString("\n" + s)
				}
				out.WriteByte('\n')
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if total < 4 {
		t.Fatalf("schema %s holds %d rows; the four keys alone need more", schema, total)
	}
	return out.Bytes()
}

// arNoNeedles fails if any form of any secret appears in haystack.
func arNoNeedles(t *testing.T, where string, haystack []byte, secrets map[string][]byte) {
	t.Helper()
	for part, s := range secrets {
		for enc, n := range leaktest.Needles(s) {
			if bytes.Contains(haystack, []byte(n)) {
				t.Errorf("%s contains %s (%s)", where, part, enc)
			}
		}
	}
}

func TestAtRestBackupFile(t *testing.T) {
	ctx := t.Context()
	c, shares := bkOpenShamir(t, memory.New())
	secrets := map[string][]byte{"root key": bkRoot(t, shares[:3])}
	for i, sh := range shares {
		secrets[fmt.Sprintf("share %d (text)", i)] = sh
		raw, err := shamir.DecodeShare(string(sh))
		if err != nil {
			t.Fatal(err)
		}
		secrets[fmt.Sprintf("share %d", i)] = raw
	}
	types := []custodian.KeyType{custodian.AES256GCM, custodian.AES256CBC, custodian.HMACSHA512,
		custodian.Ed25519, custodian.ECDSAP384, custodian.X25519, custodian.RSA2048}
	for _, typ := range types {
		name := "exportable-" + string(typ)
		if _, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Type: typ, Exportable: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RotateKey(ctx, name); err != nil {
			t.Fatal(err)
		}
		for v := 1; v <= 2; v++ {
			m, err := c.ExportKey(ctx, name, &custodian.ExportOptions{Version: v})
			if err != nil {
				t.Fatalf("export %s v%d: %v", name, v, err)
			}
			raw := custodian.Reveal(m)
			secrets[fmt.Sprintf("%s v%d material", typ, v)] = raw
			for part, s := range sxSecretParts(t, typ, raw) {
				secrets[fmt.Sprintf("%s v%d %s", typ, v, part)] = s
			}
		}
	}
	data, _ := bkBackup(t, c)
	arNoNeedles(t, "the backup", data, secrets)
	// Inside the encryption the names are in the clear and the material is
	// still sealed under the keyring.
	d := bkDecode(t, data, secrets["root key"])
	for _, typ := range types {
		name := "exportable-" + string(typ)
		if bytes.Contains(data, []byte(name)) {
			t.Errorf("the backup file shows the key name %s", name)
		}
		if !bytes.Contains(d.plain, []byte(name)) {
			t.Errorf("the decrypted backup lacks the key name %s: the decoder reads nothing", name)
		}
	}
	arNoNeedles(t, "the decrypted backup", d.plain, secrets)

	// A key file's key is not in a backup either.
	kc, keyPath := bkOpenKeyfile(t, memory.New())
	if _, err := kc.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	kdata, _ := bkBackup(t, kc)
	arNoNeedles(t, "the key-file backup", kdata, arKeyFileSecrets(t, keyPath))
}

// arKeyFileSecrets returns a key file's line and the key it holds.
func arKeyFileSecrets(t *testing.T, path string) map[string][]byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(text))
	_, enc, ok := strings.Cut(line, ":")
	if !ok {
		t.Fatalf("key file %q has no key", line)
	}
	key, err := opB64URL.DecodeString(enc)
	if err != nil || len(key) != 32 {
		t.Fatalf("key file key: %d bytes, %v", len(key), err)
	}
	return map[string][]byte{"key file line": []byte(line), "key file key": key}
}
