// Package postgres is a [store.Store] kept in PostgreSQL, for custodians
// that run as several processes sharing one database.
//
// # Schema and migrations
//
// Every table lives in one schema ([Options.Schema], "custodian" by
// default), so that several stores (or tests) can share a database. [Open]
// creates the schema and migrates it: a schema_migrations table records
// each applied version, and the migrations run in one transaction that
// first takes pg_advisory_xact_lock on a number derived from the schema
// name, so two processes starting at once apply them once, one after the
// other. A schema migrated by a newer build (a version above
// [SchemaVersion]) is refused with [ErrNewerSchema] rather than misread.
//
// Version 1 creates:
//
//	keys      one row per key, tombstones included: id text COLLATE "C"
//	          primary key, name bytea, type, usage, description, labels
//	          jsonb, exportable, state, state_before_deletion,
//	          deletion_date, created, updated, primary_version,
//	          latest_version, min_decryption_version, rotation_period,
//	          seal bytea (as given; empty for none), revision, and seq (an
//	          identity giving creation order)
//	versions  (key_id, number) primary key, created, state, material
//	          bytea (NULL once destroyed); key_id references keys
//	meta      name bytea primary key, value bytea: the meta records
//
// Names, meta names and ids sort bytewise, as Go compares strings: names
// are bytea because a name is any byte string, ids are text in the "C"
// collation whatever the database's default. Ids and the other strings are
// text and must be valid UTF-8 without NUL (a write breaking this is
// refused with an error, never mangled). Labels are a jsonb object. Times
// are bigint Unix nanoseconds in UTC, NULL for the zero time, so
// nanoseconds round-trip (timestamptz keeps microseconds); times outside
// the years 1678 to 2262 are refused. Version numbers are bigint,
// durations bigint nanoseconds.
//
// # Names and tombstones
//
// A partial unique index on keys(name) WHERE state <> 'destroyed' makes a
// name unique among keys that are not destroyed, whatever the race: of two
// concurrent Creates of one name, the second fails on the index
// (SQLSTATE 23505) and gets [store.ErrExists]. Destroyed keys keep their
// rows and names, and a destroyed key is outside the index, so Create
// stores one even while a live key holds its name (as a restore, creating
// keys in id order, does). Lookup and List answer for a name with its live
// holder if there is one, else with the tombstone most recently created
// (highest seq); the index keys_name_holder is in that order.
//
// # Concurrency
//
// [Store.Update] is a compare-and-swap: UPDATE … WHERE id = $1 AND
// revision = $2 in the transaction that also writes the versions. Of two
// processes rotating one key at once, one commits; the other's UPDATE
// waits for it, re-checks the revision against the committed row, matches
// nothing, and gets [store.ErrConflict] with nothing written.
// [Store.PutMeta] is one conditional statement, INSERT … ON CONFLICT DO
// NOTHING, UPDATE or DELETE of the record WHERE value = old, which
// PostgreSQL re-checks the same way. [Store.Create] is an INSERT … ON
// CONFLICT DO NOTHING of the key, whose versions are inserted only if the
// key was: a taken id or live name makes it insert nothing (waiting, as a
// plain INSERT would, for a concurrent transaction inserting the same).
//
// # Group commit
//
// Concurrent writes of one Store share transactions, so that they share
// COMMITs and WAL flushes. A write (Create, Update, PutMeta) joins a
// queue. If no transaction of the Store's is in flight, its writer leads
// at once: it takes its write and every write queued by then (at most
// [Options.MaxBatchSize]) into one transaction, sends all their statements
// in one pipelined round trip (the creates merged into one multi-row
// statement), commits, hands the lead to the first writer that queued
// meanwhile, and wakes the writers it committed. A lone writer pays one
// transaction of three round trips (BEGIN, its statement, COMMIT); under
// load each transaction carries what arrived during the one before (the
// queue, leader and hand-off are internal/groupcommit's, shared with the
// bbolt store; [Store.CommitStats] counts them). One
// transaction is in flight per Store at a time, so a process's own
// writes never deadlock one another.
//
// A write that is refused ([store.ErrExists], [store.ErrConflict],
// [store.ErrNotFound]) writes nothing, and says so in its statement's
// result rather than by an error, so it costs the others in its
// transaction nothing; a query after the pipeline says which of id and
// name a refused create found taken. A write whose statement fails (a
// SQL error, such as un-destroying a key over a live name, or a
// deadlock with another process) aborts the transaction: the leader rolls
// back, runs that write alone in a transaction of its own as the store
// ran every write before group commit (so it gets the same answer), and
// runs the others again without it. No savepoints are used: each would be
// a subtransaction, and a transaction with more than 64 that write makes
// every other session consult pg_subtrans when it checks visibility.
//
// # Connections
//
// Writes take one pooled connection at a time per Store, however many
// writers there are; reads take one each. pgxpool keeps at most
// max(4, number of CPUs) connections: raise that with pool_max_conns in
// the DSN (postgres://…/db?pool_max_conns=16) for many concurrent readers.
//
// # Dump
//
// [Store.Dump] reads in one REPEATABLE READ, READ ONLY transaction, whose
// snapshot PostgreSQL takes at its first query: every meta record and
// every key it returns is as it was then, and writes committed meanwhile
// are not seen. Writers do not wait for it: it takes only the ACCESS
// SHARE table locks of any read, which hold back only DDL (a migration
// waits for a running Dump). It reads keys in pages by id, then the
// versions of each page, so memory stays bounded whatever the store's
// size, and calls back between queries.
//
// # Cancellation
//
// Every method honours its context, and [Options.ConnectTimeout] bounds
// each connection attempt, so an unreachable server gives an error, not a
// hang. A read whose context ends while it waits on the server returns
// the context's error at once and abandons its connection.
//
// A write whose context ends while it is queued returns the context's
// error at once and never lands. Once a leader has taken it into a
// transaction, it waits for that transaction's outcome and reports it,
// whatever its own context does, so that an error never hides a write
// that landed, nor success one that did not. The transaction is abandoned
// only once the contexts of all the writes in it have ended: before its
// COMMIT is sent, it then never lands, and each write returns its
// context's error (a lone writer's write so returns as soon as its
// context ends). Once COMMIT is sent, its answer is awaited for up to ten
// seconds whatever the contexts do; only a server that does not answer
// by then leaves the outcome unknown, as with any connection lost at that
// moment.
//
// # Secrets
//
// A store holds records, not secrets: [store.Version.Material] arrives
// sealed by the custodian and is written as given, as is [store.Key.Seal].
package postgres
