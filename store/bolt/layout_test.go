package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
)

// checkLayout reads s's buckets raw and checks that they agree: every id
// maps to the record of that id, every key record is reached from ids
// once, every name maps to a record of that name, every version belongs
// to a key record, and the keys bucket's sequence is past every record.
func checkLayout(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx, withAll)
		reached := map[uint64]string{}
		err := b.ids.ForEach(func(id, v []byte) error {
			seq, err := parseSeq(v)
			if err != nil {
				return fmt.Errorf("ids %q: %w", id, err)
			}
			if other, ok := reached[seq]; ok {
				return fmt.Errorf("ids %q and %q share record %d", id, other, seq)
			}
			reached[seq] = string(id)
			_, err = b.keyAt(seq, string(id))
			return err
		})
		if err != nil {
			return err
		}
		var last uint64
		err = b.keys.ForEach(func(k, _ []byte) error {
			seq, err := parseSeq(k)
			if err != nil {
				return fmt.Errorf("keys %x: %w", k, err)
			}
			if _, ok := reached[seq]; !ok {
				return fmt.Errorf("key record %d: no id reaches it", seq)
			}
			last = max(last, seq)
			return nil
		})
		if err != nil {
			return err
		}
		if b.keys.Sequence() < last {
			return fmt.Errorf("keys sequence %d is behind record %d", b.keys.Sequence(), last)
		}
		err = b.names.ForEach(func(name, v []byte) error {
			_, err := b.holder(string(name), v)
			return err
		})
		if err != nil {
			return err
		}
		return b.versions.ForEach(func(k, _ []byte) error {
			if len(k) != 12 {
				return fmt.Errorf("version key %x: %d bytes, want 12", k, len(k))
			}
			if _, ok := reached[binary.BigEndian.Uint64(k)]; !ok {
				return fmt.Errorf("version %x: no key record %d", k, binary.BigEndian.Uint64(k))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("layout: %v", err)
	}
}

// TestLayoutAppends creates keys with ids in random order and checks what
// the layout promises: records under sequence numbers in the order of
// creation, and Scan, Dump and Versions in id and number order whatever
// that order was.
func TestLayoutAppends(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, Options{})
	var ids []string
	for i := range 200 {
		ids = append(ids, fmt.Sprintf("%08x", rand.Uint32()), fmt.Sprintf("id-%03d", i))
	}
	ids = append(ids, "a", "ab", "a\x00") // an id that is another's prefix
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	ids = slices.Compact(ids) // a repeat would be refused; keep the order
	for i, id := range ids {
		vs := []store.Version{testVersion(id)}
		if i%3 == 0 {
			v2 := testVersion(id)
			v2.Number = 2
			vs = append(vs, v2)
		}
		if _, err := s.Create(ctx, testKey(id, "name-"+id), vs); err != nil {
			t.Fatalf("Create(%q): %v", id, err)
		}
	}
	// Rotate the first key created, after all the others: its new
	// version joins its own.
	k, err := s.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	v9 := testVersion(ids[0])
	v9.Number = 9
	if _, err := s.Update(ctx, k, []store.Version{v9}); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, s)

	err = s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx, withAll)
		seq := uint64(0)
		return b.keys.ForEach(func(k, v []byte) error {
			seq++
			if !bytes.Equal(k, seqKey(seq)) {
				return fmt.Errorf("record %d under key %x, want %x", seq, k, seqKey(seq))
			}
			rec, err := decodeKey(v)
			if err != nil || rec.ID != ids[seq-1] {
				return fmt.Errorf("record %d is key id %q (%v), want %q, the key created %dth", seq, rec.ID, err, ids[seq-1], seq)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	sorted := slices.Sorted(slices.Values(ids))
	var scanned []string
	for after := ""; ; {
		page, err := s.Scan(ctx, after, 37)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page {
			scanned = append(scanned, k.ID)
		}
		if len(page) < 37 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(scanned, sorted) {
		t.Fatalf("Scan returned %d ids, not in id order: %q…", len(scanned), scanned[:min(5, len(scanned))])
	}
	var dumped []string
	err = s.Dump(ctx, func(string, []byte) error { return nil }, func(k store.Key, vs []store.Version) error {
		dumped = append(dumped, k.ID)
		var numbers []uint32
		for _, v := range vs {
			if v.KeyID != k.ID {
				return fmt.Errorf("key id %q dumped with a version of %q", k.ID, v.KeyID)
			}
			numbers = append(numbers, v.Number)
		}
		if !slices.IsSorted(numbers) || len(numbers) == 0 {
			return fmt.Errorf("key id %q dumped with versions %v", k.ID, numbers)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dumped, sorted) {
		t.Fatalf("Dump returned %d ids, not in id order", len(dumped))
	}
	vs, err := s.Versions(ctx, ids[0])
	if err != nil || len(vs) == 0 || vs[len(vs)-1].Number != 9 {
		t.Fatalf("Versions(%q) = %+v, %v; want its versions ending with 9", ids[0], vs, err)
	}
	for _, id := range []string{"a", "ab", "a\x00"} {
		if vs, err := s.Versions(ctx, id); err != nil || len(vs) == 0 || vs[0].KeyID != id {
			t.Fatalf("Versions(%q) = %+v, %v", id, vs, err)
		}
	}
}

// TestLayoutCorruptIndex points an id at another key's record: reads
// through it report corruption instead of returning the other key.
func TestLayoutCorruptIndex(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, Options{})
	for _, id := range []string{"x", "y"} {
		if _, err := s.Create(ctx, testKey(id, "name-"+id), nil); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx, withAll)
		return errors.Join(b.ids.Put([]byte("x"), b.ids.Get([]byte("y"))), b.names.Put([]byte("name-x"), seqKey(2)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "x"); !errors.Is(err, errCorrupt) {
		t.Errorf("Get(x) through y's record: err = %v, want errCorrupt", err)
	}
	if _, err := s.Lookup(ctx, "name-x"); !errors.Is(err, errCorrupt) {
		t.Errorf("Lookup(name-x) through y's record: err = %v, want errCorrupt", err)
	}
	if _, err := s.Scan(ctx, "", 10); !errors.Is(err, errCorrupt) {
		t.Errorf("Scan: err = %v, want errCorrupt", err)
	}
	if k, err := s.Get(ctx, "y"); err != nil || k.ID != "y" {
		t.Errorf("Get(y) = %q, %v", k.ID, err)
	}
}

// TestOpenRefusesLayout1 opens a file of layout 1, in which key records
// were kept under their ids: it is refused, not misread.
func TestOpenRefusesLayout1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(metaFormat, []byte{1})
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a layout 1 file succeeded")
	}
	if !strings.Contains(err.Error(), "layout version [1]: unsupported") {
		t.Fatalf("Open of a layout 1 file: %v; want it to name the layout", err)
	}
}

// TestLayoutPagesFull checks that creates fill the pages of keys and
// versions to appendFillPercent, not to bbolt's default half: bbolt reads
// FillPercent from the *Bucket of the transaction that commits, so it
// takes only if every write sets it on that one.
func TestLayoutPagesFull(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, Options{})
	const writers, each = 16, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("%08x", rand.Uint32()) + fmt.Sprintf("-%02d-%03d", w, i)
				if _, err := s.Create(ctx, testKey(id, "name-"+id), []store.Version{testVersion(id)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketKeys, bucketVersions} {
			st := tx.Bucket(name).Stats()
			used := float64(st.LeafInuse) / float64(st.LeafPageN*tx.DB().Info().PageSize)
			t.Logf("%s: %d leaf pages, %.0f %% used", name, st.LeafPageN, 100*used)
			if st.LeafPageN < 4 || used < 0.8 {
				return fmt.Errorf("%s: %d leaf pages %.0f %% used, want them filled to about %.0f %%", name, st.LeafPageN, 100*used, 100*appendFillPercent)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
