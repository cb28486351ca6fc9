// Package bolt is a [store.Store] kept in one embedded bbolt file: the
// default KeyCustodian store, durable with no set-up.
//
// # Durability and concurrency
//
// Every write is committed with fsync before the call returns (bbolt's
// default; this package never sets NoSync).
//
// Concurrent writers share commits through group commit with a leader and
// no timer. A write joins a queue. If no commit is in flight, its writer
// leads at once: it runs its own write and every write queued by then (at
// most [Options.MaxBatchSize]) in one read-write transaction, commits it
// with one fsync, hands the lead to the first writer that queued during
// the commit, and wakes the writers it committed. So a lone writer pays
// one commit, not a batch delay, and under load each commit carries what
// arrived during the one before: commits stay near the rate the disk
// syncs at, and the writes in each grow with the load.
// [Options.MaxBatchDelay] adds a wait before each commit for company; it
// is zero by default. (bbolt's own [bbolt.DB.Batch], which this replaces,
// waits 10ms for company even when none comes.)
//
// Writes sharing a transaction are independent. A refused write
// ([store.ErrExists], [store.ErrConflict], …) changes nothing and does
// not affect the others. A write that fails (a bbolt error such as a full
// disk, or a panic, raised again in its caller) rolls the whole
// transaction back: it then runs alone, in a transaction of its own whose
// failure is its own, and the others run again without it, as in bbolt's
// Batch. No acknowledged write is lost and no failure is reported for a
// write that landed.
//
// A write's context counts until a leader takes the write into a
// transaction: a write whose context ends while it is queued returns the
// context's error and never lands. Once taken, the call waits for the
// outcome and reports it, whatever its context does. bbolt does not wait
// on a network, so that wait is one commit, and a solo run should the
// write fail.
//
// The file is locked while open. A second [Open] of the same file, from
// this process or another, fails after [Options.Timeout] with an error
// wrapping [ErrLocked].
//
// # Secrets
//
// A store holds records, not secrets: [store.Version.Material] arrives
// sealed by the custodian and is written as given. This package encrypts
// nothing; a copy of the file is exactly as safe as the sealing above it.
//
// # File layout
//
// The file holds five top-level buckets:
//
//	meta      "format" -> one byte, the layout version (1)
//	records   name -> value of a meta record ([store.Store.PutMeta])
//	keys      id -> key record
//	names     name -> id of the key holding the name
//	versions  uint16 len(id) | id | uint32 number -> version record
//
// Integers in bbolt keys are big-endian, so a cursor walks the versions of
// one key in ascending number order, and the length prefix keeps one id's
// versions apart from those of an id it is a prefix of. The names bucket
// holds only current holders: creating a key under a destroyed key's name
// repoints the name, and the destroyed key stays in keys (and its versions
// in versions), reachable by id. Creating a destroyed key (as a restore
// does) never repoints a name held by a live key.
//
// # Backups while writing
//
// [Store.Dump] reads inside one read-only transaction, which bbolt lets
// writers run beside. A writer waits for it only when the file must grow
// past the size already mapped into memory; [Options.InitialMmapSize]
// (1 GiB of address space by default, not of memory) makes that rare.
//
// # Record encoding (format 1)
//
// Every key and version record starts with a format byte (1), so that a
// later release can tell old records from new and migrate them. Then, in
// order, strings and byte slices as a uvarint length and the bytes,
// integers big-endian at fixed width, booleans as one byte 0 or 1, times as
// Unix seconds (int64) and nanoseconds (uint32) in UTC (the zero time
// round-trips to the zero value; the time zone is not kept), and durations
// as int64 nanoseconds.
//
//	key:     format | ID | Name | Type | Usage | Description |
//	         uvarint count, (name | value)... labels in sorted order |
//	         Exportable | State | StateBeforeDeletion | DeletionDate |
//	         Created | Updated | PrimaryVersion u32 | LatestVersion u32 |
//	         MinDecryptionVersion u32 | RotationPeriod i64 | Seal | Revision u64
//	version: format | KeyID | Number u32 | Created | State | Material
//
// Field names are not stored, so renaming a Go field changes nothing on
// disk; adding, removing or reordering a field needs a new format byte.
//
// # Copies
//
// Slices that bbolt returns are valid only inside their transaction
// (see the Caveats in bbolt's documentation). Every value is decoded into
// fresh strings, maps and slices before the transaction ends, and every
// method returns values the caller owns.
package bolt
