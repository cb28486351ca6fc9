// Package pgtest gives tests a PostgreSQL database of their own: the DSN
// from the environment (or a clear skip), and a fresh schema dropped when
// the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNVar names the environment variable holding the test database's DSN.
// CI sets it (.ci/run), so PostgreSQL tests always run there.
const DSNVar = "CUSTODIAN_TEST_POSTGRES"

// DSN returns the test database's DSN, or skips the test saying why.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNVar)
	if dsn == "" {
		t.Skipf("%s is not set: skipping PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", DSNVar, DSNVar)
	}
	return dsn
}

// FreshSchema returns a new random schema name that is dropped, with
// everything in it, when the test ends.
func FreshSchema(t testing.TB, dsn string) string {
	t.Helper()
	schema := "custodian_test_" + rand.Text()[:16]
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
