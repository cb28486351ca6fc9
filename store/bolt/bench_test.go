package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
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
// alternatives, with the three puts of a Create (a key record, its name,
// one version) of about the sizes the custodian writes, on a store's file,
// without the store's encoding and checks. Run it with
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
						return errors.Join(
							tx.Bucket([]byte("keys")).Put([]byte(id), record),
							tx.Bucket([]byte("names")).Put([]byte("bench/"+id), []byte(id)),
							tx.Bucket([]byte("versions")).Put([]byte(id+"\x00\x00\x00\x01"), version))
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
