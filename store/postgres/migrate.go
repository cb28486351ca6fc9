package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrNewerSchema is returned by [Open] for a schema migrated by a newer
// build: its tables may mean things this build would misread.
var ErrNewerSchema = errors.New("schema is newer than this build reads")

// migrations are the schema's versions in order: migrations[i] takes the
// schema from version i to i+1. {s} stands for the quoted schema name. A
// released migration never changes; a change is a new one appended.
// (Migration 1 is unreleased and was edited in place.)
var migrations = []string{
	// 1: keys, versions and meta records.
	//
	// Ids are text COLLATE "C" so that the primary key index, Scan and
	// Dump order them bytewise, whatever the database's default collation.
	// keys_name_holder serves Lookup and List: per name, the live holder
	// first (false sorts before true), then tombstones newest first.
	`CREATE TABLE {s}.keys (
		id                     text COLLATE "C" PRIMARY KEY,
		name                   bytea NOT NULL,
		type                   text NOT NULL,
		usage                  text NOT NULL,
		description            text NOT NULL,
		labels                 jsonb NOT NULL,
		exportable             boolean NOT NULL,
		state                  text NOT NULL,
		state_before_deletion  text NOT NULL,
		deletion_date          bigint,
		created                bigint,
		updated                bigint,
		primary_version        bigint NOT NULL,
		latest_version         bigint NOT NULL,
		min_decryption_version bigint NOT NULL,
		rotation_period        bigint NOT NULL,
		seal                   bytea NOT NULL,
		revision               bigint NOT NULL,
		seq                    bigint GENERATED ALWAYS AS IDENTITY
	);
	CREATE UNIQUE INDEX keys_live_name ON {s}.keys (name) WHERE state <> 'destroyed';
	CREATE INDEX keys_name_holder ON {s}.keys (name, (state = 'destroyed'), seq DESC);
	CREATE TABLE {s}.versions (
		key_id   text COLLATE "C" NOT NULL REFERENCES {s}.keys (id),
		number   bigint NOT NULL,
		created  bigint,
		state    text NOT NULL,
		material bytea,
		PRIMARY KEY (key_id, number)
	);
	CREATE TABLE {s}.meta (
		name  bytea PRIMARY KEY,
		value bytea NOT NULL
	);`,
}

// SchemaVersion is the schema version this build migrates to and reads.
var SchemaVersion = len(migrations)

// lockID is the pg_advisory_xact_lock number that serializes migrations
// of one schema across processes.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("keycustodian/store/postgres migrate\x00"))
	h.Write([]byte(schema))
	return int64(h.Sum64())
}

// migrate creates the schema if need be and applies the migrations it
// lacks, all in one transaction under an advisory lock: a process that
// waited for the lock reads the version its predecessor committed.
func (s *Store) migrate(ctx context.Context) error {
	sch := pgx.Identifier{s.schema}.Sanitize()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID(s.schema)); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+sch); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+sch+`.schema_migrations (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+sch+`.schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("schema version %d, this build reads up to %d: %w", current, len(migrations), ErrNewerSchema)
		}
		for v := current + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, strings.ReplaceAll(migrations[v-1], "{s}", sch)); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+sch+`.schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("record migration %d: %w", v, err)
			}
		}
		return nil
	})
}
