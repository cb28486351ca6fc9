package custodian_test

// Benchmarks of durable storage (issue 3, section 4): group commit, scale to
// a million keys, and the bounded cache of decrypted key material.
// docs/performance.md, "Durable storage (issue 3)", has the figures and the
// commands. In short:
//
//	go test -run '^$' -bench 'DurableCreate|KeyCache|DestroyKey|DecryptVersion' -count 5 . | tee store.txt
//	CUSTODIAN_BENCH_1M=1 go test -run '^$' -bench Scale -count 5 -timeout 2h . | tee scale.txt
//
// The first run with CUSTODIAN_BENCH_1M=1 builds the million-key store,
// in about five minutes here, under os.TempDir(); later runs reuse it.
//
// PostgreSQL sub-benchmarks need CUSTODIAN_TEST_POSTGRES and skip, saying
// so, without it.

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/groupcommit"
	"github.com/keycustodian/custodian/internal/pgtest"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/bolt"
	"github.com/keycustodian/custodian/store/postgres"
)

// dsBackend opens a fresh, initialised, unsealed Custodian over one store
// and returns it with the store beneath it, for store-level baselines.
type dsBackend struct {
	name string
	open func(b *testing.B) (*custodian.Custodian, store.Store)
}

var dsBackends = []dsBackend{
	{"bolt", dsOpenBolt},
	{"postgres", dsOpenPostgres("")},
	// pgxpool keeps at most max(4, GOMAXPROCS) connections by default.
	// Group commit sends a store's writes over one connection at a time,
	// so a pool of 64 should change nothing for them; this variant shows
	// it (before group commit, it let 64 writers run 64 transactions).
	{"postgres-pool64", dsOpenPostgres("pool_max_conns=64")},
	// NOT DURABLE, a diagnostic: with synchronous_commit off, COMMIT does
	// not wait for the WAL flush, so this shows what the flush costs.
	{"postgres-async", dsOpenPostgres("synchronous_commit=off")},
}

// dsOpenBolt is what OpenDir does in a new directory (bolt.Open with the
// default options, a new key file, Init), spelt out to keep the store.
func dsOpenBolt(b *testing.B) (*custodian.Custodian, store.Store) {
	b.Helper()
	dir := b.TempDir()
	st, err := bolt.Open(filepath.Join(dir, custodian.StoreFile), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return dsInit(b, st, filepath.Join(dir, custodian.KeyFile))
}

// dsOpenPostgres returns an opener of stores in fresh schemas, dropped
// afterwards; params are added to the DSN's query.
func dsOpenPostgres(params string) func(b *testing.B) (*custodian.Custodian, store.Store) {
	return func(b *testing.B) (*custodian.Custodian, store.Store) {
		b.Helper()
		dsn := pgtest.DSN(b)
		schema := pgtest.FreshSchema(b, dsn)
		if params != "" {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + params
		}
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		return dsInit(b, st, filepath.Join(b.TempDir(), custodian.KeyFile))
	}
}

// dsInit opens a Custodian over st under a new key file and initialises it.
func dsInit(b *testing.B, st store.Store, keyPath string) (*custodian.Custodian, store.Store) {
	b.Helper()
	ctx := context.Background()
	s, err := keyfile.Create(keyPath)
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	c, err := custodian.Open(ctx, custodian.Options{Store: st, Seal: s})
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Init(ctx, custodian.InitOptions{}); err != nil {
		b.Fatal(err)
	}
	return c, st
}

// dsTemplate creates one key through c and returns its records as they sit
// in st, sealed: store-level writes copy them, so that they write what the
// library writes.
func dsTemplate(b *testing.B, c *custodian.Custodian, st store.Store) (store.Key, store.Version) {
	b.Helper()
	ctx := context.Background()
	if _, err := c.CreateKey(ctx, "template", nil); err != nil {
		b.Fatal(err)
	}
	k, err := st.Lookup(ctx, "template")
	if err != nil {
		b.Fatal(err)
	}
	v, err := st.Version(ctx, k.ID, 1)
	if err != nil {
		b.Fatal(err)
	}
	return k, v
}

// dsKeyID returns a random key id, as the library makes them (24 hex
// digits): sequential ids would spare the id indexes the random inserts
// the library makes them do.
func dsKeyID() string {
	var id [12]byte
	crand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// BenchmarkDurableCreate measures durable key creations per second (the
// creates/s metric) with 1 and with 64 concurrent writers, through the
// library (api=custodian: CreateKey of an aes256-gcm key, material
// generated and sealed) and straight into the store beneath it (api=store:
// Create of the same sealed records). Every create is committed, fsync'd,
// before it returns; concurrent ones share commits (group commit, in
// both stores). With RunParallel, ns/op is wall time per create, not a
// create's latency. Run the binary several times rather than use -count,
// so that 1 and 64 writers are measured in turns under the same load:
//
//	go test -c -o custodian.test .
//	for i in 1 2 3 4 5; do ./custodian.test -test.run '^$' -test.bench DurableCreate -test.benchtime 3s; done | tee out.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /writers -filter '.unit:creates/s' out.txt
func BenchmarkDurableCreate(b *testing.B) {
	for _, be := range dsBackends {
		b.Run("store="+be.name, func(b *testing.B) {
			for _, api := range []string{"custodian", "store"} {
				for _, writers := range []int{1, 64} {
					b.Run(fmt.Sprintf("api=%s/writers=%d", api, writers), func(b *testing.B) {
						dsCreate(b, be, api, writers)
					})
				}
			}
		})
	}
}

func dsCreate(b *testing.B, be dsBackend, api string, writers int) {
	ctx := context.Background()
	c, st := be.open(b)
	var create func(n int64) error
	switch api {
	case "custodian":
		create = func(n int64) error {
			_, err := c.CreateKey(ctx, "bench/"+strconv.FormatInt(n, 10), nil)
			return err
		}
	case "store":
		tk, tv := dsTemplate(b, c, st)
		create = func(n int64) error {
			k, v := tk, tv
			k.ID = dsKeyID()
			k.Name = "bench/" + strconv.FormatInt(n, 10)
			v.KeyID = k.ID
			_, err := st.Create(ctx, k, []store.Version{v})
			return err
		}
	}
	stats, _ := st.(interface{ CommitStats() groupcommit.Stats })
	var before groupcommit.Stats
	if stats != nil {
		before = stats.CommitStats()
	}
	var next atomic.Int64
	b.ResetTimer()
	if writers == 1 {
		for b.Loop() {
			if err := create(next.Add(1)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((writers + procs - 1) / procs)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := create(next.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "creates/s")
	if stats != nil {
		after := stats.CommitStats()
		b.ReportMetric(float64(after.Writes-before.Writes)/float64(after.Commits-before.Commits), "writes/commit")
	}
}

// The scale benchmark's key stores are built once and kept, since a
// million durable creates take minutes: dsScaleDir(n) holds OpenDir's
// files and, once complete, dsScaleDone. Bump dsScaleFormat when the
// stored format changes, or remove the directories, to rebuild them.
const (
	dsScaleFormat  = 2
	dsScaleDone    = "complete"
	dsScaleWriters = 1000 // concurrent CreateKeys while building: bbolt's MaxBatchSize
	dsHotKeys      = 100
)

// dsPlaintext is the size of an encrypted plaintext: 1 KiB, as in
// bench_test.go.
const dsPlaintext = 1024

func dsScaleDir(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("keycustodian-bench-%d-v%d", n, dsScaleFormat))
}

// dsScaleName is the name of key i of a scale store: scale/0000042.
func dsScaleName(buf []byte, i int) string {
	buf = append(buf[:0], "scale/"...)
	for j := 1_000_000; j > 1; j /= 10 {
		if i < j {
			buf = append(buf, '0')
		}
	}
	return string(strconv.AppendInt(buf, int64(i), 10))
}

// dsScaleStore returns the directory of a store of n aes256-gcm keys named
// by dsScaleName, building it if needed. Building is the library's
// concurrent CreateKey, so that group commit does its job.
func dsScaleStore(b *testing.B, n int) string {
	b.Helper()
	dir := dsScaleDir(n)
	if done, err := os.ReadFile(filepath.Join(dir, dsScaleDone)); err == nil {
		b.Logf("%d keys in %s (%s); remove it to rebuild", n, dir, strings.TrimSpace(string(done)))
		return dir
	}
	if err := os.RemoveAll(dir); err != nil { // an interrupted build
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	c, err := custodian.OpenDir(ctx, dir, custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		failed     atomic.Pointer[error]
	)
	for range dsScaleWriters {
		wg.Go(func() {
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				if _, err := c.CreateKey(ctx, dsScaleName(buf, i), nil); err != nil {
					failed.Store(&err)
					return
				}
				if d := done.Add(1); n >= 100_000 && d%(int64(n)/10) == 0 {
					fmt.Fprintf(os.Stderr, "building %s: %d keys in %v\n", dir, d, time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("building %d keys: %v", n, *err)
	}
	took := time.Since(start)
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	size := int64(0)
	if fi, err := os.Stat(filepath.Join(dir, custodian.StoreFile)); err == nil {
		size = fi.Size()
	}
	note := fmt.Sprintf("built in %v by %d writers, %.0f creates/s, file %d MiB", took.Round(time.Millisecond), dsScaleWriters, float64(n)/took.Seconds(), size>>20)
	if err := os.WriteFile(filepath.Join(dir, dsScaleDone), []byte(note+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d keys in %s: %s", n, dir, note)
	return dir
}

// dsScaleSizes returns the key counts of BenchmarkScale: 1,000 and
// 1,000,000, or the count CUSTODIAN_BENCH_1M names when a million is too
// many for the machine. The large store is built and measured only when
// CUSTODIAN_BENCH_1M is set; dsScaleSkip says so otherwise.
func dsScaleSizes(b *testing.B) []int {
	switch v := os.Getenv("CUSTODIAN_BENCH_1M"); v {
	case "", "1":
		return []int{1000, 1_000_000}
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n <= 1000 {
			b.Fatalf("CUSTODIAN_BENCH_1M=%q: want 1, or a key count above 1000", v)
		}
		return []int{1000, n}
	}
}

func dsScaleSkip(b *testing.B, n int) {
	if n > 1000 && os.Getenv("CUSTODIAN_BENCH_1M") == "" {
		b.Skipf("CUSTODIAN_BENCH_1M is not set: skipping the %d-key store (set it to 1 to build it once, in about five minutes, under %s)", n, os.TempDir())
	}
}

// BenchmarkScale compares a store of 1,000 keys with one of 1,000,000 (see
// dsScaleSizes):
//
//   - op=open: OpenDir of the existing directory, default options, warm
//     page cache;
//   - op=rotation-scan: RotateDueKeys when no key is due, the scan of
//     every key that automatic rotation makes on unsealing and then every
//     Options.RotationCheckInterval;
//   - op=getkey: GetKey, which reads the store every time;
//   - op=store-lookup: the bbolt store's Lookup beneath it;
//   - op=encrypt: Encrypt of 1 KiB, with the default cache of 10,000
//     keys and with one of 16, which misses at either size.
//
// Keys are drawn uniformly from the whole store (pick=uniform: at 1M, 99 %
// miss the default cache) or from a hot set of 100 spread over it
// (pick=hot). The operations share one opened store, its file mapped and
// faulted in once beforehand (dsFaultIn) as in a server that has run for
// a while, and automatic rotation is off so that its scan does not run
// beside them. After each encrypt benchmark, with the cache in its steady
// state, the process's memory is reported (dsReportMemory).
//
//	CUSTODIAN_BENCH_1M=1 go test -run '^$' -bench Scale -count 5 -timeout 2h .
//
// -count repeats each sub-benchmark in a row, so the two sizes are
// measured minutes apart; for ratios on a noisy machine, run the test
// binary several times with -test.count 1 instead (docs/performance.md).
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range dsScaleSizes(b) {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			dsScaleSkip(b, n)
			dir := dsScaleStore(b, n)
			b.Run("op=open", func(b *testing.B) { dsScaleOpen(b, dir) })
			st, err := bolt.Open(filepath.Join(dir, custodian.StoreFile), bolt.Options{})
			if err != nil {
				b.Fatalf("%v (remove %s to rebuild it)", err, dir)
			}
			defer st.Close()
			dsFaultIn(b, st)
			// open is OpenDir of dir, over the store opened above.
			open := func(b *testing.B, cacheSize int) *custodian.Custodian {
				s, err := keyfile.Open(filepath.Join(dir, custodian.KeyFile))
				if err != nil {
					b.Fatal(err)
				}
				c, err := custodian.Open(ctx, custodian.Options{Store: dsNoClose{st}, Seal: s,
					CacheSize: cacheSize, RotationCheckInterval: -1})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			}
			b.Run("op=rotation-scan", func(b *testing.B) { dsRotationScan(b, open(b, 0), n) })
			for _, pick := range []string{"uniform", "hot"} {
				b.Run("op=getkey/pick="+pick, func(b *testing.B) {
					c := open(b, 0)
					dsRun(b, n, pick, func(name string) error {
						_, err := c.GetKey(ctx, name)
						return err
					})
				})
			}
			b.Run("op=store-lookup/pick=uniform", func(b *testing.B) {
				dsRun(b, n, "uniform", func(name string) error {
					_, err := st.Lookup(ctx, name)
					return err
				})
			})
			for _, v := range []struct {
				pick  string
				cache int
			}{{"uniform", custodian.DefaultCacheSize}, {"uniform", 16}, {"hot", custodian.DefaultCacheSize}} {
				b.Run(fmt.Sprintf("op=encrypt/pick=%s/cache=%d", v.pick, v.cache), func(b *testing.B) {
					c := open(b, v.cache)
					pt := make([]byte, dsPlaintext)
					encrypt := func(name string) error {
						_, err := c.Encrypt(ctx, name, pt, nil)
						return err
					}
					dsWarm(b, n, v.pick, v.cache, encrypt)
					b.SetBytes(dsPlaintext)
					dsRun(b, n, v.pick, encrypt)
					dsReportMemory(b)
				})
			}
		})
	}
}

// dsNoClose lets several Custodians in turn use one open store.
type dsNoClose struct{ store.Store }

func (dsNoClose) Close() error { return nil }

// dsFaultIn reads every record of st once, so that the pages of the
// memory-mapped file are in the process's page tables before timing: a
// store's first reads after opening take page faults that later ones do
// not.
func dsFaultIn(b *testing.B, st store.Store) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	var after string
	for {
		page, err := st.List(ctx, store.ListOptions{After: after, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Name
	}
	err := st.Dump(ctx, func(string, []byte) error { return nil },
		func(store.Key, []store.Version) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("faulted the store in in %v", time.Since(start).Round(time.Millisecond))
}

func dsOpenDir(b *testing.B, dir string, opts custodian.Options) *custodian.Custodian {
	b.Helper()
	c, err := custodian.OpenDir(context.Background(), dir, opts)
	if err != nil {
		b.Fatalf("%v (remove %s to rebuild it)", err, dir)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// dsScaleOpen times OpenDir of an existing store with the default options.
// Close, untimed, cancels the rotation scan that unsealing starts in the
// background.
func dsScaleOpen(b *testing.B, dir string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := custodian.OpenDir(ctx, dir, custodian.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := c.Encrypt(ctx, dsScaleName(nil, 0), nil, nil); err != nil {
			b.Fatal(err) // opened, and unsealed
		}
		c.Close()
		b.StartTimer()
	}
}

// dsRotationScan times RotateDueKeys over a store where no key has a
// rotation period: the scan automatic rotation makes of every key at each
// unseal and every Options.RotationCheckInterval (a minute by default).
func dsRotationScan(b *testing.B, c *custodian.Custodian, n int) {
	b.ReportAllocs()
	for b.Loop() {
		if rotated, err := c.RotateDueKeys(context.Background()); err != nil || rotated != 0 {
			b.Fatalf("RotateDueKeys = %d, %v; want 0, nil", rotated, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// dsPick returns a function drawing key indexes: uniformly from all n
// keys, or from a hot set of dsHotKeys spread over the store.
func dsPick(n int, pick string) func() int {
	if pick == "hot" {
		stride := n / dsHotKeys
		return func() int { return rand.IntN(dsHotKeys) * stride }
	}
	return func() int { return rand.IntN(n) }
}

// dsWarm brings the cache to its steady state before timing: every key of
// the population once, or three cache-fulls of uniform draws when there
// are more keys than the cache holds.
func dsWarm(b *testing.B, n int, pick string, cacheSize int, op func(name string) error) {
	b.Helper()
	var buf []byte
	if pick == "hot" || n <= cacheSize {
		stride := 1
		if pick == "hot" {
			stride = n / dsHotKeys
		}
		for i := 0; i < n; i += stride {
			if err := op(dsScaleName(buf, i)); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	next := dsPick(n, pick)
	for range 3 * cacheSize {
		if err := op(dsScaleName(buf, next())); err != nil {
			b.Fatal(err)
		}
	}
}

// dsRun times op on names drawn by dsPick. Formatting the name (one small
// allocation) is part of every variant alike.
func dsRun(b *testing.B, n int, pick string, op func(name string) error) {
	next := dsPick(n, pick)
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := op(dsScaleName(buf, next())); err != nil {
			b.Fatal(err)
		}
	}
}

// dsReportMemory reports the process's memory after a full collection,
// in MiB: Go heap in use, Go's total from the OS, and the resident set
// with its anonymous and file-backed parts.
func dsReportMemory(b *testing.B) {
	b.StopTimer()
	defer b.StartTimer()
	debug.FreeOSMemory() // collects, then returns free memory to the OS
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	const mib = 1 << 20
	b.ReportMetric(float64(ms.HeapInuse)/mib, "heap-MiB")
	b.ReportMetric(float64(ms.Sys)/mib, "sys-MiB")
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return // not Linux: the Go figures only
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		unit := map[string]string{"VmRSS": "rss-MiB", "RssAnon": "rss-anon-MiB", "RssFile": "rss-file-MiB"}[name]
		if !ok || unit == "" {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err == nil {
			b.ReportMetric(kb/1024, unit)
		}
	}
}

// BenchmarkKeyCache shows what the cache of loaded key versions saves:
// Encrypt of 1 KiB under keys drawn uniformly from 1,000, with a cache
// that holds them all (cache=hit; DefaultCacheSize) and with one of 16
// (cache=miss: 98 % of calls read the key's record and version from the
// store, check the record's seal, open the material and set up the AEAD).
// store=memory separates that work from bbolt's reads.
//
//	go test -run '^$' -bench KeyCache -benchtime 3s -count 5 .
//	go run golang.org/x/perf/cmd/benchstat@latest -col /cache out.txt
func BenchmarkKeyCache(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	pt := make([]byte, dsPlaintext)
	dir := dsScaleStore(b, n)
	mem := func(size int) *custodian.Custodian {
		c, err := custodian.New(custodian.Options{CacheSize: size, RotationCheckInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		var buf []byte
		for i := range n {
			if _, err := c.CreateKey(ctx, dsScaleName(buf, i), nil); err != nil {
				b.Fatal(err)
			}
		}
		return c
	}
	for _, st := range []string{"bolt", "memory"} {
		for _, cache := range []struct {
			name string
			size int
		}{{"hit", custodian.DefaultCacheSize}, {"miss", 16}} {
			b.Run(fmt.Sprintf("store=%s/cache=%s", st, cache.name), func(b *testing.B) {
				var c *custodian.Custodian
				if st == "bolt" {
					c = dsOpenDir(b, dir, custodian.Options{CacheSize: cache.size, RotationCheckInterval: -1})
				} else {
					c = mem(cache.size)
				}
				encrypt := func(name string) error {
					_, err := c.Encrypt(ctx, name, pt, nil)
					if errors.Is(err, custodian.ErrKeyNotFound) {
						err = fmt.Errorf("%w (remove %s to rebuild it)", err, dir)
					}
					return err
				}
				dsWarm(b, n, "uniform", cache.size, encrypt)
				b.SetBytes(dsPlaintext)
				dsRun(b, n, "uniform", encrypt)
			})
		}
	}
}

// BenchmarkDestroyKey shows the cost of forgetting a destroyed key's
// loaded versions, which walks the whole cache of loaded versions: a
// create, a scheduled deletion and a destruction, in memory, among 10,000
// keys whose versions are all loaded and cached (cache=full) or with a
// cache of 16 (cache=small).
//
//	go test -run '^$' -bench DestroyKey -count 5 .
func BenchmarkDestroyKey(b *testing.B) {
	ctx := context.Background()
	for _, cache := range []struct {
		name string
		size int
	}{{"full", custodian.DefaultCacheSize}, {"small", 16}} {
		b.Run("cache="+cache.name, func(b *testing.B) {
			var days atomic.Int64
			base := time.Now()
			c, err := custodian.New(custodian.Options{
				CacheSize: cache.size, RotationCheckInterval: -1,
				Now: func() time.Time { return base.Add(time.Duration(days.Load()) * 24 * time.Hour) },
			})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var buf []byte
			const keys = custodian.DefaultCacheSize // the same store for both
			for i := range keys {
				name := dsScaleName(buf, i)
				if _, err := c.CreateKey(ctx, name, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Encrypt(ctx, name, nil, nil); err != nil {
					b.Fatal(err) // loads the version into the cache
				}
			}
			n := keys
			b.ReportAllocs()
			for b.Loop() {
				name := dsScaleName(buf, n)
				n++
				days.Store(0)
				if _, err := c.CreateKey(ctx, name, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := c.ScheduleKeyDeletion(ctx, name, custodian.MinDeletionWindow); err != nil {
					b.Fatal(err)
				}
				days.Store(8) // past the deletion window
				if _, err := c.DestroyKey(ctx, name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecryptVersion compares Decrypt of 1 KiB made under a key's
// primary version with one made under its previous version, both loaded
// and cached: the previous version is found in the cache of loaded
// versions rather than on the key's cached entry.
//
//	go test -run '^$' -bench DecryptVersion -count 8 .
func BenchmarkDecryptVersion(b *testing.B) {
	ctx := context.Background()
	c, err := custodian.New(custodian.Options{RotationCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		b.Fatal(err)
	}
	pt := make([]byte, dsPlaintext)
	previous, err := c.Encrypt(ctx, "k", pt, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.RotateKey(ctx, "k"); err != nil {
		b.Fatal(err)
	}
	primary, err := c.Encrypt(ctx, "k", pt, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		ct   custodian.Ciphertext
	}{{"primary", primary}, {"previous", previous}} {
		b.Run("version="+v.name, func(b *testing.B) {
			b.SetBytes(dsPlaintext)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decrypt(ctx, v.ct, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
