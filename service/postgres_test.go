package service

import (
	"bytes"
	"context"
	"testing"

	"github.com/keycustodian/custodian/internal/pgtest"
)

// A production server on PostgreSQL with a keyfile seal: it starts
// uninitialised, takes a restore (spooled outside the data directory),
// unseals itself, and a restart finds the keys in the schema.
func TestPostgresRestoreAndRestart(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	src, cfg := keyFileBackup(t)
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, pgtest.FreshSchema(t, dsn)
	s, _ := start(t, cfg)
	if st, err := s.b.c.Status(ctx); err != nil || st.Initialized {
		t.Fatalf("new schema: %+v, %v; want uninitialized", st, err)
	}
	if _, err := s.b.restore(ctx, bytes.NewReader(src.backup), nil, s.log); err != nil {
		t.Fatalf("restore: %v", err)
	}
	checkRestored(t, s.b.c, src)
	shutdown(t, s)

	s2, _ := start(t, cfg)
	checkRestored(t, s2.b.c, src)
}
