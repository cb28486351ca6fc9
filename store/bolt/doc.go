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
// syncs at, and the writes in each grow with the load. A writer encodes
// its records before it queues, so that the leader's transaction, which
// every other writer waits for, only looks up keys and stores bytes.
// [Options.MaxBatchDelay] adds a wait before each commit for company; it
// is zero by default. (The queue, leader and hand-off are
// internal/groupcommit's, shared with the PostgreSQL store; a leader yields
// the processor once before taking the queue, so that writers the last
// commit woke can join. [Store.CommitStats] counts commits and writes.) (bbolt's own [bbolt.DB.Batch], which this replaces,
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
// The file holds six top-level buckets (layout version 2):
//
//	meta      "format" -> one byte, the layout version (2)
//	records   name -> value of a meta record ([store.Store.PutMeta])
//	ids       id -> uint64 seq of the key
//	keys      uint64 seq -> key record
//	versions  uint64 seq | uint32 number -> version record
//	names     name -> uint64 seq of the key holding the name
//
// A key's seq is a number of the store's own, never shown to callers: the
// keys bucket's next sequence number (bbolt's [bbolt.Bucket.NextSequence]),
// taken in the transaction that creates the key. Keys are never deleted,
// so a committed key's seq is never given to another; a transaction that
// rolls back gives its numbers back with everything else it wrote.
// Integers in bbolt keys are big-endian,
// so keys sort in the order they were created and a cursor walks the
// versions of one key, which share their first 8 bytes, in ascending
// number order.
//
// Why a seq: key ids are random, so a B+tree ordered by id takes each new
// key at a random place, and every key a group commit creates dirties a
// leaf page of its own there, which the commit writes out whole with its
// parent branch pages. Layout 1 kept the key records (about 200 bytes)
// and the versions under the id, so a create dirtied a random page in
// each of two trees of large records. Here the only tree in id order is
// ids, whose entries are an id and 8 bytes (48 bytes with bbolt's header
// for the library's 24-digit ids: up to 85 to a 4 KiB page), and records
// are appended: a commit of many creates rewrites the last page or two of
// keys and of versions. Pages of keys and versions are split at 90 % full
// ([bbolt.Bucket.FillPercent]) instead of bbolt's half, since they are
// filled once, in order, and seldom grow.
//
// Reads by id take two descents, ids then keys or versions, where layout 1
// took one; a read by name takes two, names then keys, as before. Scan
// and Dump walk ids, so keys come in id order as [store.Store] requires,
// and read each record by its seq. A record read through ids or names
// must hold that id or name, or the read fails as corrupt.
//
// The names bucket holds only current holders: creating a key under a
// destroyed key's name repoints the name, and the destroyed key stays in
// ids, keys and versions, reachable by id. Creating a destroyed key (as a
// restore does) never repoints a name held by a live key.
//
// Open refuses a file of another layout version, layout 1 included; no
// release wrote layout 1, so there is no migration.
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
