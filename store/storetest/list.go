package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keycustodian/custodian/store"
)

// listNames are names that are prefixes of each other, differ only after a
// shared prefix in bytes below and above '/', and hold non-ASCII and
// high bytes, so that only byte order sorts them right.
var listNames = []string{
	"key", "key-1", "key/1", "key/10", "key/2", "key1", "keys", "kez",
	"Key", "a", "ab", "abc", "é", "éa", "z", "日本", "日本語", "\x7f", "k\xffey",
}

// createListKeys creates one key per name and returns the names in byte order.
func createListKeys(t *testing.T, s store.Store) []string {
	t.Helper()
	for i, name := range listNames {
		mustCreate(t, s, newKey(fmt.Sprintf("id-%02d", i), name))
	}
	sorted := slices.Clone(listNames)
	slices.Sort(sorted) // Go compares strings bytewise
	return sorted
}

// list calls List and returns the names it returned, failing on error or on
// a key that does not match its own name's record.
func list(t *testing.T, s store.Store, opts store.ListOptions) []string {
	t.Helper()
	keys, err := s.List(bg, opts)
	if err != nil {
		t.Fatalf("List(%#v): %v", opts, err)
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
		if k.Revision != 1 || k.Type != "aes256-gcm" {
			t.Fatalf("List(%#v)[%d] = %+v: not the stored record", opts, i, k)
		}
	}
	return names
}

func testList(t *testing.T, s store.Store) {
	if got := list(t, s, store.ListOptions{Limit: 10}); len(got) != 0 {
		t.Fatalf("List on an empty store = %q", got)
	}
	all := createListKeys(t, s)
	filter := func(prefix, after string) []string {
		var out []string
		for _, n := range all {
			if strings.HasPrefix(n, prefix) && n > after {
				out = append(out, n)
			}
		}
		return out
	}
	tests := []store.ListOptions{
		{Limit: 100},
		{Prefix: "key", Limit: 100},
		{Prefix: "key/", Limit: 100},
		{Prefix: "key/1", Limit: 100},
		{Prefix: "k", After: "key-1", Limit: 100},
		{Prefix: "key", After: "key", Limit: 100},
		{Prefix: "key", After: "a", Limit: 100},    // After before the prefix
		{Prefix: "key", After: "kez", Limit: 100},  // After past the prefix
		{Prefix: "key", After: "key0", Limit: 100}, // After not a stored name
		{Prefix: "日本", Limit: 100},
		{Prefix: "é", After: "é", Limit: 100},
		{Prefix: "k\xff", Limit: 100},
		{After: "\x7f", Limit: 100},
		{After: "日本語", Limit: 100},
		{Prefix: "nothing", Limit: 100},
		{Prefix: "key", Limit: 3},
		{After: "key", Limit: 2},
	}
	for _, opts := range tests {
		want := filter(opts.Prefix, opts.After)
		want = want[:min(len(want), opts.Limit)]
		if got := list(t, s, opts); !slices.Equal(got, want) {
			t.Errorf("List(%#v) = %q, want %q", opts, got, want)
		}
	}
}

func testListPagination(t *testing.T, s store.Store) {
	all := createListKeys(t, s)
	for _, prefix := range []string{"", "key", "日"} {
		var want []string
		for _, n := range all {
			if strings.HasPrefix(n, prefix) {
				want = append(want, n)
			}
		}
		for limit := 1; limit <= 4; limit++ {
			var got []string
			opts := store.ListOptions{Prefix: prefix, Limit: limit}
			for range len(all) + 1 {
				page := list(t, s, opts)
				if len(page) > limit {
					t.Fatalf("List(%#v) returned %d names", opts, len(page))
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				opts.After = page[len(page)-1]
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages of %d under %q = %q, want %q", limit, prefix, got, want)
			}
		}
	}
}

func testListLimit(t *testing.T, s store.Store) {
	mustCreate(t, s, newKey("id-1", "name"))
	for _, limit := range []int{0, -1} {
		if keys, err := s.List(bg, store.ListOptions{Limit: limit}); err == nil {
			t.Errorf("List with limit %d = %d keys, want an error", limit, len(keys))
		}
	}
}
