package postgres

import (
	"fmt"
	"strings"
)

// queries are every statement the store runs, with the schema filled in.
// They live together so that a reviewer can read them beside the indexes
// of migrations that they rely on.
type queries struct {
	insertKey, updateKey, keyState, keyExists string
	createKey, createKeys, updateKeyVersions  string
	getKey, lookup, listBounded, listAll      string
	scan                                      string

	upsertVersion, version, versions, versionsBetween string

	getMeta, allMeta                           string
	insertMeta, updateMeta, deleteMeta, noMeta string
}

// holderOrder sorts the keys of one name so that the first is its holder:
// the live key if there is one (false sorts first), else the most recently
// created tombstone. It matches the index keys_name_holder.
const holderOrder = `name, (state = 'destroyed'), seq DESC`

// updateKey is Update's compare-and-swap of the key row.
const updateKey = `UPDATE {s}.keys SET type = $3, usage = $4, description = $5,
	labels = $6, exportable = $7, state = $8, state_before_deletion = $9,
	deletion_date = $10, created = $11, updated = $12, primary_version = $13,
	latest_version = $14, min_decryption_version = $15, rotation_period = $16,
	seal = $17, revision = revision + 1
	WHERE id = $1 AND name = $2 AND revision = $18`

// versionsFrom returns the SELECT of version rows, one per element of the
// arrays of versionArrays in parameters $n to $n+3, for each row of k.
func versionsFrom(n int) string {
	return fmt.Sprintf(`SELECT k.id, v.number, v.created, v.state, v.material
		FROM k, unnest($%d::bigint[], $%d::bigint[], $%d::text[], $%d::bytea[]) AS v (number, created, state, material)`,
		n, n+1, n+2, n+3)
}

func newQueries(sch string) queries {
	r := strings.NewReplacer("{s}", sch, "{k}", keyColumns, "{v}", versionColumns, "{holder}", holderOrder)
	// list is List's statement with an upper bound on names or without:
	// two statements rather than "$4 IS NULL OR name < $4", which a cached
	// generic plan cannot use as an index bound. DISTINCT ON keeps each
	// name's holder and yields names in order, so the LIMIT stops an index
	// scan of keys_name_holder early.
	list := func(upper string) string {
		return r.Replace(`SELECT DISTINCT ON (name) {k} FROM {s}.keys
			WHERE name >= $1 AND name > $2` + upper + `
			ORDER BY {holder} LIMIT $3`)
	}
	return queries{
		insertKey: r.Replace(`INSERT INTO {s}.keys ({k}) VALUES
			($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1)`),
		// name is in the WHERE clause, not the SET list: renaming is refused.
		updateKey: r.Replace(updateKey),
		// createKey and updateKeyVersions are Create and Update in one
		// statement each, for group commit: they refuse by writing
		// nothing and returning 0, never by failing. The versions
		// ($18/$19 on: numbers, created, states, materials as arrays) are
		// written only if the key row was. ON CONFLICT DO NOTHING without
		// a target covers keys_pkey and the partial index keys_live_name
		// alike, and waits, as a plain INSERT does, for a concurrent
		// transaction inserting the same id or live name.
		createKey: r.Replace(`WITH k AS (
				INSERT INTO {s}.keys ({k}) VALUES
				($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1)
				ON CONFLICT DO NOTHING RETURNING id
			), v AS (
				INSERT INTO {s}.versions ({v}) ` + versionsFrom(18) + `
				RETURNING 1
			)
			SELECT count(*) FROM k`),
		// createKeys is createKey for many keys, whose columns arrive as
		// arrays ($1 to $17), as do their versions' ($18 to $22). The
		// versions of a key not inserted are not either, so the keys'
		// ids must be distinct. It returns the ids it inserted.
		createKeys: r.Replace(`WITH k AS (
				INSERT INTO {s}.keys ({k})
				SELECT id, name, type, usage, description, labels::jsonb, exportable, state,
					state_before_deletion, deletion_date, created, updated, primary_version,
					latest_version, min_decryption_version, rotation_period, seal, 1
				FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[],
					$7::boolean[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[],
					$13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bytea[])
				AS t (id, name, type, usage, description, labels, exportable, state,
					state_before_deletion, deletion_date, created, updated, primary_version,
					latest_version, min_decryption_version, rotation_period, seal)
				ON CONFLICT DO NOTHING RETURNING id
			), v AS (
				INSERT INTO {s}.versions ({v})
				SELECT v.key_id, v.number, v.created, v.state, v.material
				FROM unnest($18::text[], $19::bigint[], $20::bigint[], $21::text[], $22::bytea[])
				AS v (key_id, number, created, state, material)
				WHERE v.key_id IN (SELECT id FROM k)
				RETURNING 1
			)
			SELECT id FROM k`),
		updateKeyVersions: r.Replace(`WITH k AS (` + updateKey + ` RETURNING id
			), v AS (
				INSERT INTO {s}.versions ({v}) ` + versionsFrom(19) + `
				ON CONFLICT (key_id, number) DO UPDATE SET created = excluded.created,
				state = excluded.state, material = excluded.material
				RETURNING 1
			)
			SELECT count(*) FROM k`),
		keyState:    r.Replace(`SELECT revision, name FROM {s}.keys WHERE id = $1`),
		keyExists:   r.Replace(`SELECT EXISTS (SELECT 1 FROM {s}.keys WHERE id = $1)`),
		getKey:      r.Replace(`SELECT {k} FROM {s}.keys WHERE id = $1`),
		lookup:      r.Replace(`SELECT {k} FROM {s}.keys WHERE name = $1 ORDER BY {holder} LIMIT 1`),
		listBounded: list(` AND name < $4`),
		listAll:     list(``),
		scan:        r.Replace(`SELECT {k} FROM {s}.keys WHERE id > $1 ORDER BY id LIMIT $2`),

		upsertVersion: r.Replace(`INSERT INTO {s}.versions ({v}) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key_id, number) DO UPDATE SET created = excluded.created,
			state = excluded.state, material = excluded.material`),
		version:  r.Replace(`SELECT {v} FROM {s}.versions WHERE key_id = $1 AND number = $2`),
		versions: r.Replace(`SELECT {v} FROM {s}.versions WHERE key_id = $1 ORDER BY number`),
		versionsBetween: r.Replace(`SELECT {v} FROM {s}.versions WHERE key_id >= $1 AND key_id <= $2
			ORDER BY key_id, number`),

		getMeta: r.Replace(`SELECT value FROM {s}.meta WHERE name = $1`),
		allMeta: r.Replace(`SELECT name, value FROM {s}.meta ORDER BY name`),
		// Each meta write is one statement that touches (or, for noMeta,
		// returns) one row exactly when the compare succeeds. PostgreSQL
		// re-checks an UPDATE's or DELETE's WHERE clause on a row that a
		// concurrent writer changed, and an INSERT … DO NOTHING waits for a
		// concurrent insert of the name and then does nothing: no race
		// between the compare and the swap.
		insertMeta: r.Replace(`INSERT INTO {s}.meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`),
		updateMeta: r.Replace(`UPDATE {s}.meta SET value = $3 WHERE name = $1 AND value = $2`),
		deleteMeta: r.Replace(`DELETE FROM {s}.meta WHERE name = $1 AND value = $2`),
		noMeta:     r.Replace(`SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM {s}.meta WHERE name = $1)`),
	}
}
