package bolt_test

import (
	"context"
	"errors"
	"fmt"
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
// 1 and 64 concurrent writers, with bbolt's default batch delay (10ms,
// which bounds a lone writer to about 100 creates/s) and with 1ms.
// RunParallel starts SetParallelism×GOMAXPROCS goroutines, so the
// parallelism is chosen to give at least the named number of writers
// (exactly that number when GOMAXPROCS divides it).
func BenchmarkCreate(b *testing.B) {
	for _, c := range []struct {
		delay   string
		writers int
		opts    bolt.Options
	}{
		{"default", 1, bolt.Options{}},
		{"default", 64, bolt.Options{}},
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
			if writers == 1 {
				for b.Loop() {
					create()
				}
			} else {
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((writers + procs - 1) / procs)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						create()
					}
				})
			}
			b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

// BenchmarkCommitModes sets the group commit of BenchmarkCreate beside the
// alternatives, with bbolt alone and the three puts of a Create (a key
// record, its name, one version) of about the sizes the custodian writes.
// Run it with
//
//	go test -run '^$' -bench CommitModes -benchtime 3s -count 5 ./store/bolt
//
// The modes:
//   - mode=update: bbolt's Update, one transaction and one fsync per
//     create and no waiting: what a lone writer could have, and no group
//     commit at all.
//   - mode=batch: bbolt's Batch with its default 10ms delay, as the store
//     does.
//   - mode=leader: group commit without a delay. A writer that finds no
//     commit in flight commits at once; writers arriving meanwhile queue,
//     and the first of them commits the whole queue next (leaderCommit).
func BenchmarkCommitModes(b *testing.B) {
	for _, mode := range []string{"update", "batch", "leader"} {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("mode=%s/writers=%d", mode, writers), func(b *testing.B) {
				db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600,
					&bbolt.Options{InitialMmapSize: bolt.DefaultInitialMmapSize})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				buckets := [][]byte{[]byte("keys"), []byte("names"), []byte("versions")}
				err = db.Update(func(tx *bbolt.Tx) error {
					for _, name := range buckets {
						if _, err := tx.CreateBucket(name); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				record, version := make([]byte, 200), make([]byte, 100)
				lc := &leaderCommit{db: db}
				commit := map[string]func(func(*bbolt.Tx) error) error{
					"update": db.Update, "batch": db.Batch, "leader": lc.do,
				}[mode]
				var next atomic.Int64
				create := func() {
					id := fmt.Sprintf("%024x", next.Add(1))
					err := commit(func(tx *bbolt.Tx) error {
						return errors.Join(
							tx.Bucket(buckets[0]).Put([]byte(id), record),
							tx.Bucket(buckets[1]).Put([]byte("bench/"+id), []byte(id)),
							tx.Bucket(buckets[2]).Put([]byte(id+"\x00\x00\x00\x01"), version))
					})
					if err != nil {
						b.Error(err)
					}
				}
				if writers == 1 {
					for b.Loop() {
						create()
					}
				} else {
					procs := runtime.GOMAXPROCS(0)
					b.SetParallelism((writers + procs - 1) / procs)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							create()
						}
					})
				}
				b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "creates/s")
			})
		}
	}
}

// leaderCommit is group commit with no delay, as a prototype for the
// store: the first writer to find no commit in flight leads, committing
// its write with every write queued by the time it starts; it then hands
// the lead to the first writer that queued during its commit, if any.
type leaderCommit struct {
	db    *bbolt.DB
	mu    sync.Mutex
	queue []*pendingWrite
	busy  bool // a leader is committing or handing over
}

type pendingWrite struct {
	fn   func(*bbolt.Tx) error
	done chan commitResult
}

type commitResult struct {
	err  error
	lead bool // the receiver commits the queue next
}

func (g *leaderCommit) do(fn func(*bbolt.Tx) error) error {
	p := &pendingWrite{fn: fn, done: make(chan commitResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		if r := <-p.done; !r.lead {
			return r.err
		}
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	err := g.db.Update(func(tx *bbolt.Tx) error {
		for _, w := range batch {
			if err := w.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	for _, w := range batch {
		if w != p {
			w.done <- commitResult{err: err}
		}
	}
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.busy = false
		g.mu.Unlock()
	} else {
		nextLeader := g.queue[0]
		g.mu.Unlock()
		nextLeader.done <- commitResult{lead: true}
	}
	return err
}
