package custodian_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/pgtest"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/postgres"
)

// TestBackupAcrossStores takes a backup of the embedded bbolt store,
// restores it into a fresh PostgreSQL schema, and backs that up again into
// a fresh bbolt file: every ciphertext decrypts at each step.
func TestBackupAcrossStores(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	c, err := custodian.OpenDir(bgCtx, dir, custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[string]custodian.Ciphertext{}
	for _, typ := range []custodian.KeyType{custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.AES256CBC} {
		name := string(typ)
		if _, err := c.CreateKey(bgCtx, name, &custodian.CreateOptions{Type: typ}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RotateKey(bgCtx, name); err != nil {
			t.Fatal(err)
		}
		if want[name], err = c.Encrypt(bgCtx, name, []byte(name), nil); err != nil {
			t.Fatal(err)
		}
	}
	var fromBolt bytes.Buffer
	if _, err := c.Backup(bgCtx, &fromBolt); err != nil {
		t.Fatal(err)
	}
	kf, err := keyfile.Open(filepath.Join(dir, custodian.KeyFile))
	if err != nil {
		t.Fatal(err)
	}

	check := func(c *custodian.Custodian) {
		t.Helper()
		for name, ct := range want {
			if pt, err := c.Decrypt(bgCtx, ct, nil); err != nil || string(pt) != name {
				t.Fatalf("Decrypt(%s) = %q, %v", name, pt, err)
			}
		}
	}
	pg, err := postgres.Open(bgCtx, dsn, postgres.Options{Schema: pgtest.FreshSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := custodian.Restore(bgCtx, &fromBolt, custodian.RestoreOptions{Store: pg, Seal: kf}); err != nil || res.Keys != len(want) {
		t.Fatalf("Restore into PostgreSQL = %+v, %v", res, err)
	}
	onPG, err := custodian.Open(bgCtx, custodian.Options{Store: pg, Seal: kf, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer onPG.Close()
	check(onPG)

	var fromPG bytes.Buffer
	if _, err := onPG.Backup(bgCtx, &fromPG); err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "again.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custodian.Restore(bgCtx, &fromPG, custodian.RestoreOptions{Store: st, Seal: kf}); err != nil {
		t.Fatalf("Restore into bbolt: %v", err)
	}
	again, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: kf, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check(again)
}
