// Package storetest is the conformance suite every [store.Store]
// implementation passes: the same sentinels, revision numbering, ordering,
// pagination, copying and behaviour under concurrent writers.
//
// An implementation's test calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// It is an ordinary (non-test) package so that every backend's tests can
// import it; nothing outside tests should.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes every store it opens when the subtest using it ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetLookup", testCreateGetLookup},
		{"CreateExists", testCreateExists},
		{"NotFound", testNotFound},
		{"Update", testUpdate},
		{"UpdateConflictWritesNothing", testUpdateConflictWritesNothing},
		{"UpdateRefusesRename", testUpdateRefusesRename},
		{"NameReuseAfterDestroy", testNameReuse},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"ListLimit", testListLimit},
		{"Copies", testCopies},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ConcurrentCreateOneName", testConcurrentCreateOneName},
		{"ConcurrentCreateManyNames", testConcurrentCreateManyNames},
		{"ConcurrentMixedWrites", testConcurrentMixedWrites},
		{"CreateTombstone", testCreateTombstone},
		{"Scan", testScan},
		{"Meta", testMeta},
		{"ConcurrentMeta", testConcurrentMeta},
		{"Dump", testDump},
		{"DumpIsASnapshot", testDumpIsASnapshot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// base is a fixed instant with nanoseconds, so that a store that drops
// sub-second precision fails.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*3600))

// newKey returns a key with every field set.
func newKey(id, name string) store.Key {
	return store.Key{
		ID:                   id,
		Name:                 name,
		Type:                 "aes256-gcm",
		Usage:                "encrypt-decrypt",
		Description:          fmt.Sprintf("a key for %q — ключ", name), // valid UTF-8 whatever the name
		Labels:               map[string]string{"team": "storage", "ünï": "cödé", "empty": ""},
		Exportable:           true,
		State:                "enabled",
		StateBeforeDeletion:  "disabled",
		DeletionDate:         base.Add(30 * 24 * time.Hour),
		Created:              base,
		Updated:              base.Add(time.Second),
		PrimaryVersion:       1,
		LatestVersion:        1,
		MinDecryptionVersion: 1,
		RotationPeriod:       90 * 24 * time.Hour,
		Seal:                 []byte("seal:" + id + "\x00\xff"),
		Revision:             42, // the store must ignore it on Create
	}
}

// newVersion returns version n of id with material that names both.
func newVersion(id string, n uint32) store.Version {
	return store.Version{
		KeyID:    id,
		Number:   n,
		Created:  base.Add(time.Duration(n) * time.Minute),
		State:    "enabled",
		Material: []byte(fmt.Sprintf("sealed:%s:%d:\x00\xff", id, n)),
	}
}

// keyDiff describes how got differs from want, or returns "". Times compare
// with Equal (a store need not keep the time zone), nil and empty label
// maps compare equal.
func keyDiff(got, want store.Key) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	str := func(field, g, w string) {
		if g != w {
			add(field, fmt.Sprintf("%q", g), fmt.Sprintf("%q", w))
		}
	}
	tm := func(field string, g, w time.Time) {
		if !g.Equal(w) || g.IsZero() != w.IsZero() {
			add(field, g, w)
		}
	}
	num := func(field string, g, w uint64) {
		if g != w {
			add(field, g, w)
		}
	}
	str("ID", got.ID, want.ID)
	str("Name", got.Name, want.Name)
	str("Type", got.Type, want.Type)
	str("Usage", got.Usage, want.Usage)
	str("Description", got.Description, want.Description)
	if !maps.Equal(got.Labels, want.Labels) {
		add("Labels", got.Labels, want.Labels)
	}
	if got.Exportable != want.Exportable {
		add("Exportable", got.Exportable, want.Exportable)
	}
	str("State", got.State, want.State)
	str("StateBeforeDeletion", got.StateBeforeDeletion, want.StateBeforeDeletion)
	tm("DeletionDate", got.DeletionDate, want.DeletionDate)
	tm("Created", got.Created, want.Created)
	tm("Updated", got.Updated, want.Updated)
	num("PrimaryVersion", uint64(got.PrimaryVersion), uint64(want.PrimaryVersion))
	num("LatestVersion", uint64(got.LatestVersion), uint64(want.LatestVersion))
	num("MinDecryptionVersion", uint64(got.MinDecryptionVersion), uint64(want.MinDecryptionVersion))
	if got.RotationPeriod != want.RotationPeriod {
		add("RotationPeriod", got.RotationPeriod, want.RotationPeriod)
	}
	if !bytes.Equal(got.Seal, want.Seal) {
		add("Seal", fmt.Sprintf("%q", got.Seal), fmt.Sprintf("%q", want.Seal))
	}
	num("Revision", got.Revision, want.Revision)
	return strings.Join(d, "; ")
}

// versionDiff is keyDiff for versions; nil and empty Material compare equal.
func versionDiff(got, want store.Version) string {
	var d []string
	if got.KeyID != want.KeyID {
		d = append(d, fmt.Sprintf("KeyID = %q, want %q", got.KeyID, want.KeyID))
	}
	if got.Number != want.Number {
		d = append(d, fmt.Sprintf("Number = %d, want %d", got.Number, want.Number))
	}
	if !got.Created.Equal(want.Created) {
		d = append(d, fmt.Sprintf("Created = %v, want %v", got.Created, want.Created))
	}
	if got.State != want.State {
		d = append(d, fmt.Sprintf("State = %q, want %q", got.State, want.State))
	}
	if !bytes.Equal(got.Material, want.Material) {
		d = append(d, fmt.Sprintf("Material = %q, want %q", got.Material, want.Material))
	}
	return strings.Join(d, "; ")
}

// withRevision returns k with Revision set, as the store should return it.
func withRevision(k store.Key, rev uint64) store.Key {
	k = k.Clone()
	k.Revision = rev
	return k
}

// mustCreate creates k with versions and checks the returned key.
func mustCreate(t *testing.T, s store.Store, k store.Key, versions ...store.Version) store.Key {
	t.Helper()
	got, err := s.Create(context.Background(), k, versions)
	if err != nil {
		t.Fatalf("Create(%s, %q): %v", k.ID, k.Name, err)
	}
	if d := keyDiff(got, withRevision(k, 1)); d != "" {
		t.Fatalf("Create(%s) returned %s", k.ID, d)
	}
	return got
}

// wantKey checks that Get(want.ID) returns want.
func wantKey(t *testing.T, s store.Store, want store.Key) {
	t.Helper()
	got, err := s.Get(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", want.ID, err)
	}
	if d := keyDiff(got, want); d != "" {
		t.Fatalf("Get(%s): %s", want.ID, d)
	}
}

// wantVersions checks that Versions(id) returns exactly want, in order.
func wantVersions(t *testing.T, s store.Store, id string, want ...store.Version) {
	t.Helper()
	got, err := s.Versions(context.Background(), id)
	if err != nil {
		t.Fatalf("Versions(%s): %v", id, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Versions(%s) returned %d versions, want %d", id, len(got), len(want))
	}
	for i := range want {
		if d := versionDiff(got[i], want[i]); d != "" {
			t.Fatalf("Versions(%s)[%d]: %s", id, i, d)
		}
	}
}
