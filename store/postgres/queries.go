package postgres

import "strings"

// queries are every statement the store runs, with the schema filled in.
// They live together so that a reviewer can read them beside the indexes
// of migrations that they rely on.
type queries struct {
	insertKey, updateKey, keyState, keyExists string
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
		updateKey: r.Replace(`UPDATE {s}.keys SET type = $3, usage = $4, description = $5,
			labels = $6, exportable = $7, state = $8, state_before_deletion = $9,
			deletion_date = $10, created = $11, updated = $12, primary_version = $13,
			latest_version = $14, min_decryption_version = $15, rotation_period = $16,
			seal = $17, revision = revision + 1
			WHERE id = $1 AND name = $2 AND revision = $18`),
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
