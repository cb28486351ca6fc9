package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/keycustodian/custodian/store"
)

var bg = context.Background()

func testCreateGetLookup(t *testing.T, s store.Store) {
	k := newKey("id-1", "payments/ключ")
	v1, v2 := newVersion("id-1", 1), newVersion("id-1", 2)
	want := mustCreate(t, s, k, v2, v1)
	wantKey(t, s, want)
	got, err := s.Lookup(bg, k.Name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", k.Name, err)
	}
	if d := keyDiff(got, want); d != "" {
		t.Fatalf("Lookup(%q): %s", k.Name, d)
	}
	// Versions come back in number order whatever the order given.
	wantVersions(t, s, k.ID, v1, v2)
	gotV, err := s.Version(bg, k.ID, 2)
	if err != nil {
		t.Fatalf("Version(%s, 2): %v", k.ID, err)
	}
	if d := versionDiff(gotV, v2); d != "" {
		t.Fatalf("Version(%s, 2): %s", k.ID, d)
	}

	// A key with no versions and zero times and labels round-trips too.
	bare := store.Key{ID: "id-bare", Name: "bare", State: "enabled"}
	wantBare := mustCreate(t, s, bare)
	wantKey(t, s, wantBare)
	if got, _ := s.Get(bg, bare.ID); !got.DeletionDate.IsZero() || !got.Created.IsZero() {
		t.Fatalf("Get(%s): zero times came back as %v, %v", bare.ID, got.DeletionDate, got.Created)
	}
	wantVersions(t, s, bare.ID)
}

func testCreateExists(t *testing.T, s store.Store) {
	first := mustCreate(t, s, newKey("id-1", "name-1"), newVersion("id-1", 1))

	// The same id under another name.
	_, err := s.Create(bg, newKey("id-1", "name-2"), []store.Version{newVersion("id-1", 7)})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create with a taken id: err = %v, want ErrExists", err)
	}
	if _, err := s.Lookup(bg, "name-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused Create claimed its name: Lookup err = %v, want ErrNotFound", err)
	}
	if _, err := s.Version(bg, "id-1", 7); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused Create wrote a version: err = %v, want ErrNotFound", err)
	}

	// The same name under another id.
	_, err = s.Create(bg, newKey("id-2", "name-1"), []store.Version{newVersion("id-2", 1)})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create with a taken name: err = %v, want ErrExists", err)
	}
	if _, err := s.Get(bg, "id-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused Create stored its key: Get err = %v, want ErrNotFound", err)
	}
	if _, err := s.Versions(bg, "id-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused Create stored versions: err = %v, want ErrNotFound", err)
	}
	wantKey(t, s, first)
	wantVersions(t, s, "id-1", newVersion("id-1", 1))
}

func testNotFound(t *testing.T, s store.Store) {
	mustCreate(t, s, newKey("id-1", "name"), newVersion("id-1", 1))
	// "id" is a prefix of "id-1" and "nam" of "name": neither may match.
	checks := map[string]error{}
	_, checks["Get"] = s.Get(bg, "id")
	_, checks["Lookup"] = s.Lookup(bg, "nam")
	_, checks["Update"] = s.Update(bg, withRevision(newKey("id", "nam"), 1), nil)
	_, checks["Version of a missing key"] = s.Version(bg, "id", 1)
	_, checks["Version of a missing number"] = s.Version(bg, "id-1", 2)
	_, checks["Version 0"] = s.Version(bg, "id-1", 0)
	_, checks["Versions"] = s.Versions(bg, "id")
	for name, err := range checks {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Get(bg, "id"); err == nil {
		t.Fatal("Update of a missing key created it")
	}
}

func testUpdate(t *testing.T, s store.Store) {
	k := mustCreate(t, s, newKey("id-1", "name"), newVersion("id-1", 1))
	for rev := uint64(2); rev <= 4; rev++ {
		k.LatestVersion++
		k.PrimaryVersion = k.LatestVersion
		k.Labels["round"] = string(rune('a' + rev))
		next, err := s.Update(bg, k, []store.Version{newVersion("id-1", k.LatestVersion)})
		if err != nil {
			t.Fatalf("Update to revision %d: %v", rev, err)
		}
		if d := keyDiff(next, withRevision(k, rev)); d != "" {
			t.Fatalf("Update to revision %d returned %s", rev, d)
		}
		wantKey(t, s, next)
		k = next
	}
	// Update replaces a version with the same number and keeps the rest.
	v2 := newVersion("id-1", 2)
	v2.State, v2.Material = "destroyed", nil
	k.State = "disabled"
	k, err := s.Update(bg, k, []store.Version{v2})
	if err != nil {
		t.Fatalf("Update replacing version 2: %v", err)
	}
	if k.Revision != 5 {
		t.Fatalf("Revision = %d after four updates, want 5", k.Revision)
	}
	wantVersions(t, s, "id-1", newVersion("id-1", 1), v2, newVersion("id-1", 3), newVersion("id-1", 4))
}

func testUpdateConflictWritesNothing(t *testing.T, s store.Store) {
	stale := mustCreate(t, s, newKey("id-1", "name"), newVersion("id-1", 1))
	fresh := stale.Clone()
	fresh.LatestVersion = 2
	fresh, err := s.Update(bg, fresh, []store.Version{newVersion("id-1", 2)})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	// A writer still holding revision 1 loses, and neither its key nor
	// its versions (new or replacing) are written.
	stale.LatestVersion = 3
	stale.Description = "lost update"
	replaced := newVersion("id-1", 1)
	replaced.Material = []byte("lost")
	for _, rev := range []uint64{1, 3, 0} {
		stale.Revision = rev
		_, err = s.Update(bg, stale, []store.Version{newVersion("id-1", 3), replaced})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Update at revision %d (stored 2): err = %v, want ErrConflict", rev, err)
		}
	}
	wantKey(t, s, fresh)
	wantVersions(t, s, "id-1", newVersion("id-1", 1), newVersion("id-1", 2))
}

func testUpdateRefusesRename(t *testing.T, s store.Store) {
	k := mustCreate(t, s, newKey("id-1", "old"))
	renamed := k.Clone()
	renamed.Name = "new"
	if _, err := s.Update(bg, renamed, nil); err == nil {
		t.Fatal("Update changing the name succeeded")
	}
	if _, err := s.Lookup(bg, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Lookup(new) after refused rename: err = %v, want ErrNotFound", err)
	}
	wantKey(t, s, k)
}

func testNameReuse(t *testing.T, s store.Store) {
	old := mustCreate(t, s, newKey("id-old", "shared"), newVersion("id-old", 1))
	if _, err := s.Create(bg, newKey("id-new", "shared"), nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create over an enabled key's name: err = %v, want ErrExists", err)
	}
	old.State = store.StateDestroyed
	old, err := s.Update(bg, old, []store.Version{{KeyID: "id-old", Number: 1, State: store.StateDestroyed}})
	if err != nil {
		t.Fatalf("Update to destroyed: %v", err)
	}
	// Until the name is taken again it still finds the destroyed key.
	if got, err := s.Lookup(bg, "shared"); err != nil || got.ID != "id-old" {
		t.Fatalf("Lookup(shared) before reuse = %s, %v; want id-old", got.ID, err)
	}

	next := mustCreate(t, s, newKey("id-new", "shared"), newVersion("id-new", 1))
	got, err := s.Lookup(bg, "shared")
	if err != nil {
		t.Fatalf("Lookup(shared): %v", err)
	}
	if d := keyDiff(got, next); d != "" {
		t.Fatalf("Lookup(shared) after reuse: %s", d)
	}
	wantKey(t, s, old)
	wantVersions(t, s, "id-old", store.Version{KeyID: "id-old", Number: 1, State: store.StateDestroyed})
	wantVersions(t, s, "id-new", newVersion("id-new", 1))
	list, err := s.List(bg, store.ListOptions{Prefix: "shared", Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID != "id-new" {
		t.Fatalf("List(shared) = %d keys, %v; want only id-new", len(list), err)
	}
	// The new holder is not destroyed, so the name is taken again.
	if _, err := s.Create(bg, newKey("id-third", "shared"), nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create over the new holder's name: err = %v, want ErrExists", err)
	}
	// Neither may the destroyed key's id be reused.
	if _, err := s.Create(bg, newKey("id-old", "other"), nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create with a destroyed key's id: err = %v, want ErrExists", err)
	}
	// The destroyed key can still be updated by id (e.g. to wipe versions).
	if _, err := s.Update(bg, old, nil); err != nil {
		t.Fatalf("Update of the destroyed key: %v", err)
	}
	if got, _ := s.Lookup(bg, "shared"); got.ID != "id-new" {
		t.Fatalf("updating the destroyed key took its name back: Lookup = %s", got.ID)
	}
}

func testCopies(t *testing.T, s store.Store) {
	k := newKey("id-1", "name")
	v := newVersion("id-1", 1)
	wantK, wantV := withRevision(k, 1), v.Clone()
	created, err := s.Create(bg, k, []store.Version{v})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// What the caller passed in stays the caller's.
	k.Labels["team"] = "mutated input"
	v.Material[0] ^= 0xff
	// What the store returned is the caller's too.
	created.Labels["team"] = "mutated result"
	got, _ := s.Get(bg, "id-1")
	got.Labels["new"] = "x"
	looked, _ := s.Lookup(bg, "name")
	clear(looked.Labels)
	list, _ := s.List(bg, store.ListOptions{Limit: 1})
	if len(list) != 1 {
		t.Fatalf("List returned %d keys, want 1", len(list))
	}
	list[0].Labels["team"] = "mutated list"
	one, _ := s.Version(bg, "id-1", 1)
	one.Material[0] ^= 0xff
	all, _ := s.Versions(bg, "id-1")
	all[0].Material[1] ^= 0xff
	all[0].State = "mutated"

	wantKey(t, s, wantK)
	wantVersions(t, s, "id-1", wantV)

	// The same for Update's arguments and result.
	upd := wantK.Clone()
	uv := newVersion("id-1", 2)
	updated, err := s.Update(bg, upd, []store.Version{uv})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	upd.Labels["team"] = "mutated input"
	uv.Material[0] ^= 0xff
	updated.Labels["team"] = "mutated result"
	wantKey(t, s, withRevision(wantK, 2))
	wantVersions(t, s, "id-1", wantV, newVersion("id-1", 2))
}

// testCancelledContext passes an already cancelled context to every method.
// A store need not honour cancellation, but if it refuses a call it must
// say so with context.Canceled, and a refused write must write nothing.
func testCancelledContext(t *testing.T, s store.Store) {
	k := mustCreate(t, s, newKey("id-1", "name"), newVersion("id-1", 1))
	orig := k.Clone()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	check := func(op string, err error) bool {
		t.Helper()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want nil or context.Canceled", op, err)
		}
		return err != nil
	}
	_, err := s.Get(ctx, "id-1")
	check("Get", err)
	_, err = s.Lookup(ctx, "name")
	check("Lookup", err)
	_, err = s.List(ctx, store.ListOptions{Limit: 1})
	check("List", err)
	_, err = s.Version(ctx, "id-1", 1)
	check("Version", err)
	_, err = s.Versions(ctx, "id-1")
	check("Versions", err)

	_, err = s.Create(ctx, newKey("id-2", "other"), []store.Version{newVersion("id-2", 1)})
	if check("Create", err) {
		if _, err := s.Get(bg, "id-2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Create refused for cancellation stored the key: Get err = %v", err)
		}
	}
	k.LatestVersion = 2
	_, err = s.Update(ctx, k, []store.Version{newVersion("id-1", 2)})
	if check("Update", err) {
		wantKey(t, s, orig)
		if _, err := s.Version(bg, "id-1", 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update refused for cancellation wrote a version: err = %v", err)
		}
	}
}
