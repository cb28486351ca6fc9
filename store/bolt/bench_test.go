package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
