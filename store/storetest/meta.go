package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/keycustodian/custodian/store"
)

// testCreateTombstone creates keys the way a restore does: in id order,
// so that a destroyed key may arrive after the live key holding its name.
func testCreateTombstone(t *testing.T, s store.Store) {
	live := mustCreate(t, s, newKey("id-2", "shared"), newVersion("id-2", 1))
	gone := newKey("id-3", "shared")
	gone.State = store.StateDestroyed
	gone = mustCreate(t, s, gone, store.Version{KeyID: "id-3", Number: 1, State: store.StateDestroyed})
	if got, err := s.Lookup(bg, "shared"); err != nil || got.ID != live.ID {
		t.Fatalf("a tombstone created after the live holder took its name: Lookup = %s, %v; want %s", got.ID, err, live.ID)
	}
	wantKey(t, s, gone)
	if names := list(t, s, store.ListOptions{Limit: 10}); !slices.Equal(names, []string{"shared"}) {
		t.Fatalf("List = %q, want [shared] once", names)
	}
	// A tombstone alone holds its name until a live key takes it.
	first := newKey("id-1", "alone")
	first.State = store.StateDestroyed
	mustCreate(t, s, first)
	if got, err := s.Lookup(bg, "alone"); err != nil || got.ID != "id-1" {
		t.Fatalf("Lookup(alone) = %s, %v; want the tombstone id-1", got.ID, err)
	}
	mustCreate(t, s, newKey("id-4", "alone"))
	if got, err := s.Lookup(bg, "alone"); err != nil || got.ID != "id-4" {
		t.Fatalf("Lookup(alone) after a live create = %s, %v; want id-4", got.ID, err)
	}
}

// testScan walks every key by id, tombstones included.
func testScan(t *testing.T, s store.Store) {
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("id-%02d", i)
		k := newKey(id, fmt.Sprintf("name-%02d", 24-i))
		if i%5 == 0 {
			k.State = store.StateDestroyed
		}
		mustCreate(t, s, k)
		want = append(want, id)
	}
	for _, limit := range []int{1, 7, 25, 100} {
		var got []string
		after := ""
		for {
			page, err := s.Scan(bg, after, limit)
			if err != nil {
				t.Fatalf("Scan(%q, %d): %v", after, limit, err)
			}
			if len(page) > limit {
				t.Fatalf("Scan(%q, %d) returned %d keys", after, limit, len(page))
			}
			for _, k := range page {
				got = append(got, k.ID)
				if k.Revision != 1 || k.Name == "" {
					t.Fatalf("Scan returned %+v: not the stored record", k)
				}
			}
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Scan pages of %d = %q, want %q", limit, got, want)
		}
	}
	if _, err := s.Scan(bg, "", 0); err == nil {
		t.Fatal("Scan with limit 0 succeeded")
	}
}

// testMeta checks the compare-and-swap of meta records.
func testMeta(t *testing.T, s store.Store) {
	if _, err := s.GetMeta(bg, "keyring"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMeta of a missing record: err = %v, want ErrNotFound", err)
	}
	v1 := []byte("one\x00\xff")
	if err := s.PutMeta(bg, "keyring", nil, v1); err != nil {
		t.Fatalf("PutMeta(new): %v", err)
	}
	if err := s.PutMeta(bg, "keyring", nil, []byte("again")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutMeta(new) over an existing record: err = %v, want ErrConflict", err)
	}
	if err := s.PutMeta(bg, "keyring", []byte("stale"), []byte("two")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutMeta with a stale old value: err = %v, want ErrConflict", err)
	}
	got, err := s.GetMeta(bg, "keyring")
	if err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("GetMeta = %q, %v; want %q (refused writes must change nothing)", got, err, v1)
	}
	got[0] = 'X' // the caller owns what it gets
	if again, _ := s.GetMeta(bg, "keyring"); !bytes.Equal(again, v1) {
		t.Fatalf("modifying a returned value changed the store: %q", again)
	}
	v2 := bytes.Repeat([]byte{0xab}, 64<<10)
	if err := s.PutMeta(bg, "keyring", v1, v2); err != nil {
		t.Fatalf("PutMeta(swap): %v", err)
	}
	if got, err := s.GetMeta(bg, "keyring"); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("GetMeta after swap: %d bytes, %v; want %d bytes", len(got), err, len(v2))
	}
	if err := s.PutMeta(bg, "other", nil, []byte{}); err != nil {
		t.Fatalf("PutMeta(empty value): %v", err)
	}
	if got, err := s.GetMeta(bg, "other"); err != nil || len(got) != 0 {
		t.Fatalf("GetMeta(empty value) = %q, %v", got, err)
	}
	if err := s.PutMeta(bg, "keyring", v2, nil); err != nil {
		t.Fatalf("PutMeta(delete): %v", err)
	}
	if _, err := s.GetMeta(bg, "keyring"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMeta after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.PutMeta(bg, "keyring", v2, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("deleting a missing record: err = %v, want ErrConflict", err)
	}
}

// testConcurrentMeta has writers increment one meta counter by
// compare-and-swap: no increment may be lost.
func testConcurrentMeta(t *testing.T, s store.Store) {
	const rounds = 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for done := 0; done < rounds; {
				cur, err := s.GetMeta(bg, "counter")
				if errors.Is(err, store.ErrNotFound) {
					cur, err = nil, nil
				}
				if err != nil {
					errs <- err
					return
				}
				next := append(bytes.Clone(cur), 'x')
				switch err := s.PutMeta(bg, "counter", cur, next); {
				case err == nil:
					done++
				case !errors.Is(err, store.ErrConflict):
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	got, err := s.GetMeta(bg, "counter")
	if err != nil || len(got) != writers*rounds {
		t.Fatalf("counter = %d, %v; want %d increments", len(got), err, writers*rounds)
	}
}

// dumped is what one Dump returned.
type dumped struct {
	meta     map[string][]byte
	metaSeq  []string
	keys     []store.Key
	versions map[string][]store.Version
}

func dump(t *testing.T, s store.Store) dumped {
	t.Helper()
	d := dumped{meta: map[string][]byte{}, versions: map[string][]store.Version{}}
	err := s.Dump(bg, func(name string, value []byte) error {
		if len(d.keys) > 0 {
			t.Errorf("Dump: meta record %q after a key", name)
		}
		d.metaSeq = append(d.metaSeq, name)
		d.meta[name] = value
		return nil
	}, func(k store.Key, vs []store.Version) error {
		d.keys = append(d.keys, k)
		d.versions[k.ID] = vs
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return d
}

// testDump checks that Dump returns every record, in order.
func testDump(t *testing.T, s store.Store) {
	if d := dump(t, s); len(d.meta)+len(d.keys) != 0 {
		t.Fatalf("Dump of an empty store returned %d meta and %d keys", len(d.meta), len(d.keys))
	}
	for _, name := range []string{"seal", "keyring", "a"} {
		if err := s.PutMeta(bg, name, nil, []byte("v:"+name)); err != nil {
			t.Fatal(err)
		}
	}
	k2 := mustCreate(t, s, newKey("id-2", "b"), newVersion("id-2", 2), newVersion("id-2", 1))
	k1 := newKey("id-1", "a")
	k1.State = store.StateDestroyed
	k1 = mustCreate(t, s, k1, store.Version{KeyID: "id-1", Number: 1, State: store.StateDestroyed})
	k3 := mustCreate(t, s, newKey("id-3", "c"))

	d := dump(t, s)
	if !slices.Equal(d.metaSeq, []string{"a", "keyring", "seal"}) {
		t.Fatalf("Dump meta order = %q, want [a keyring seal]", d.metaSeq)
	}
	for name, v := range d.meta {
		if string(v) != "v:"+name {
			t.Fatalf("Dump meta %q = %q", name, v)
		}
	}
	if len(d.keys) != 3 {
		t.Fatalf("Dump returned %d keys, want 3", len(d.keys))
	}
	for i, want := range []store.Key{k1, k2, k3} {
		if diff := keyDiff(d.keys[i], want); diff != "" {
			t.Fatalf("Dump key %d: %s", i, diff)
		}
	}
	wantVs := map[string][]store.Version{
		"id-1": {{KeyID: "id-1", Number: 1, State: store.StateDestroyed}},
		"id-2": {newVersion("id-2", 1), newVersion("id-2", 2)},
		"id-3": nil,
	}
	for id, want := range wantVs {
		got := d.versions[id]
		if len(got) != len(want) {
			t.Fatalf("Dump versions of %s: %d, want %d", id, len(got), len(want))
		}
		for i := range want {
			if diff := versionDiff(got[i], want[i]); diff != "" {
				t.Fatalf("Dump versions of %s [%d]: %s", id, i, diff)
			}
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := s.Dump(bg, func(string, []byte) error { return nil }, func(store.Key, []store.Version) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Dump with a failing callback: err = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

// testDumpIsASnapshot writes while a Dump is in progress: the dump must
// see the store as it was when it began, whole.
func testDumpIsASnapshot(t *testing.T, s store.Store) {
	const n = 20
	for i := range n {
		id := fmt.Sprintf("id-%02d", i)
		mustCreate(t, s, newKey(id, "name-"+id), newVersion(id, 1))
	}
	if err := s.PutMeta(bg, "keyring", nil, []byte("before")); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	seen := 0
	err := s.Dump(bg, func(name string, value []byte) error {
		if string(value) != "before" {
			t.Errorf("Dump meta %q = %q, want the value at the start", name, value)
		}
		return nil
	}, func(k store.Key, vs []store.Version) error {
		seen++
		if k.Revision != 1 || len(vs) != 1 {
			t.Errorf("Dump saw %s at revision %d with %d versions: a write made during the dump", k.ID, k.Revision, len(vs))
		}
		if seen == 1 {
			// Concurrent writers must not wait for the dump to finish.
			go func() {
				written <- func() error {
					for i := range n {
						id := fmt.Sprintf("id-%02d", i)
						cur, err := s.Get(bg, id)
						if err != nil {
							return err
						}
						cur.LatestVersion = 2
						if _, err := s.Update(bg, cur, []store.Version{newVersion(id, 2)}); err != nil {
							return err
						}
					}
					if _, err := s.Create(bg, newKey("id-zz", "late"), nil); err != nil {
						return err
					}
					return s.PutMeta(bg, "keyring", []byte("before"), []byte("after"))
				}()
			}()
			if err := <-written; err != nil {
				return fmt.Errorf("writes during the dump: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if seen != n {
		t.Fatalf("Dump saw %d keys, want the %d present when it began", seen, n)
	}
	if d := dump(t, s); len(d.keys) != n+1 || string(d.meta["keyring"]) != "after" {
		t.Fatalf("a later Dump saw %d keys and keyring %q; want %d and the new value", len(d.keys), d.meta["keyring"], n+1)
	}
}
