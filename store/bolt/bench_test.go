package bolt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/bolt"
)

// BenchmarkCreate measures durable (fsync'd) key creations per second with
// 1 and 64 concurrent writers: with the default options (group commit
// with no delay) and with a 1ms MaxBatchDelay before each commit.
// RunParallel starts SetParallelism×GOMAXPROCS goroutines, so the
// parallelism is chosen to give at least the named number of writers
// (exactly that number when GOMAXPROCS divides it).
func BenchmarkCreate(b *testing.B) {
	for _, c := range []struct {
		delay   string
		writers int
		opts    bolt.Options
	}{
		{"none", 1, bolt.Options{}},
		{"none", 64, bolt.Options{}},
		{"1ms", 1, bolt.Options{MaxBatchDelay: time.Millisecond}},
		{"1ms", 64, bolt.Options{MaxBatchDelay: time.Millisecond}},
	} {
		writers := c.writers
		b.Run(fmt.Sprintf("delay=%s/writers=%d", c.delay, writers), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "keys.db"), c.opts)
			defer s.Close()
			var next atomic.Int64
			material := make([]byte, 60) // an AES-256 key sealed with AES-GCM, roughly
			create := func() {
				id := fmt.Sprintf("id-%09d", next.Add(1))
				k := store.Key{ID: id, Name: "bench/" + id, Type: "aes256-gcm", State: "enabled", LatestVersion: 1, PrimaryVersion: 1}
				if _, err := s.Create(context.Background(), k, []store.Version{{KeyID: id, Number: 1, State: "enabled", Material: material}}); err != nil {
					b.Error(err)
				}
			}
			b.ResetTimer()
			parallel(b, writers, create)
			b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

// parallel calls op b.N times from writers goroutines (see BenchmarkCreate).
func parallel(b *testing.B, writers int, op func()) {
	if writers == 1 {
		for b.Loop() {
			op()
		}
		return
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((writers + procs - 1) / procs)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op()
		}
	})
}

// BenchmarkCommitModes sets the store's group commit beside the
// alternatives, with the four puts of a Create (its id, its key record
// and one version under the next sequence number, its name; see "File
// layout" in the package documentation) of about the sizes the custodian
// writes, on a store's file, without the store's encoding and checks. Ids
// are sequential here, so this measures commits, not the layout. Run it
// with
//
//	go test -run '^$' -bench CommitModes -benchtime 3s -count 5 ./store/bolt
//
// The modes:
//   - mode=update: bbolt's Update, one transaction and one fsync per
//     create and no waiting: what a lone writer could have, and no group
//     commit at all.
//   - mode=batch: bbolt's Batch with its default 10ms delay, which the
//     store used before it had group commit of its own.
//   - mode=store: the store's group commit (WriteRaw): a writer that finds
//     no commit in flight commits at once; writers arriving meanwhile
//     queue, and the first of them commits the whole queue next.
func BenchmarkCommitModes(b *testing.B) {
	for _, mode := range []string{"update", "batch", "store"} {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("mode=%s/writers=%d", mode, writers), func(b *testing.B) {
				s := open(b, filepath.Join(b.TempDir(), "keys.db"), bolt.Options{})
				defer s.Close()
				db := bolt.DB(s)
				commit := map[string]func(func(*bbolt.Tx) error) error{
					"update": db.Update, "batch": db.Batch,
					"store": func(fn func(*bbolt.Tx) error) error { return bolt.WriteRaw(s, fn) },
				}[mode]
				record, version := make([]byte, 200), make([]byte, 100)
				var next atomic.Int64
				create := func() {
					id := fmt.Sprintf("%024x", next.Add(1))
					err := commit(func(tx *bbolt.Tx) error {
						keys := tx.Bucket([]byte("keys"))
						seq, err := keys.NextSequence()
						if err != nil {
							return err
						}
						sk := binary.BigEndian.AppendUint64(nil, seq)
						return errors.Join(
							tx.Bucket([]byte("ids")).Put([]byte(id), sk),
							keys.Put(sk, record),
							tx.Bucket([]byte("names")).Put([]byte("bench/"+id), sk),
							tx.Bucket([]byte("versions")).Put(binary.BigEndian.AppendUint32(sk[:8:8], 1), version))
					})
					if err != nil {
						b.Error(err)
					}
				}
				parallel(b, writers, create)
				b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "creates/s")
			})
		}
	}
}

// BenchmarkRead measures reads of one key on a store of 1,000 and of
// 100,000 keys with random ids, as the library makes them: Get and
// Version by id (ids, then keys or versions), Lookup by name (names, then
// keys), Versions, and a Scan page of 100 in id order. Keys are drawn
// uniformly; the store is read once beforehand so that its pages are
// mapped.
//
//	go test -run '^$' -bench Read -count 5 ./store/bolt
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "keys.db"), bolt.Options{})
			defer s.Close()
			ids := benchFill(b, s, n)
			for _, op := range []struct {
				name string
				fn   func(i int) error
			}{
				{"get", func(i int) error { _, err := s.Get(ctx, ids[i]); return err }},
				{"lookup", func(i int) error { _, err := s.Lookup(ctx, "bench/"+ids[i]); return err }},
				{"version", func(i int) error { _, err := s.Version(ctx, ids[i], 1); return err }},
				{"versions", func(i int) error { _, err := s.Versions(ctx, ids[i]); return err }},
				{"scan100", func(i int) error { _, err := s.Scan(ctx, ids[i], 100); return err }},
			} {
				b.Run("op="+op.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if err := op.fn(rand.IntN(n)); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// benchFill creates n keys with random 24-digit ids, each with one
// version, through 64 writers, and reads them all once. It returns the ids.
func benchFill(b *testing.B, s *bolt.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%024x", rand.Uint64()<<32^rand.Uint64())
	}
	material := make([]byte, 92) // a sealed 32-byte key, roughly
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				k := store.Key{ID: ids[i], Name: "bench/" + ids[i], Type: "aes256-gcm", Usage: "encrypt-decrypt",
					State: "enabled", LatestVersion: 1, PrimaryVersion: 1, MinDecryptionVersion: 1,
					Created: time.Now(), Updated: time.Now(), Seal: make([]byte, 60)}
				if _, err := s.Create(ctx, k, []store.Version{{KeyID: ids[i], Number: 1, State: "enabled", Material: material, Created: time.Now()}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	err := s.Dump(ctx, func(string, []byte) error { return nil }, func(store.Key, []store.Version) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	return ids
}
