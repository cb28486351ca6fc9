package custodian_test

// Tampering with the store is detected: a key record edited behind the
// custodian's back (a revoked key set back to enabled, a flag flipped, a
// label changed, a Seal swapped or removed) fails its Seal with
// ErrIntegrity, and version material swapped between keys or versions
// never opens. Genuine records, for their part, keep reading across
// restarts. A backup file modified anywhere (a flipped bit, truncated,
// extended, chunks reordered) is refused as damaged, and one restored with
// the wrong key file as a wrong key.
//
// Helpers here are prefixed "ig", and "bk" for those on backups, as in
// backup_test.go whose helpers they share.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// igFixture is a custodian over a memory store the test edits directly.
type igFixture struct {
	c   *custodian.Custodian
	st  *memory.Store
	cts map[string]custodian.Ciphertext // by "name vN"
}

const igPlaintext = "integrity"

// igSetup creates "victim" (two versions), "other" and "revoked", with a
// ciphertext under each version.
func igSetup(t *testing.T) *igFixture {
	t.Helper()
	ctx := t.Context()
	f := &igFixture{st: memory.New(), cts: map[string]custodian.Ciphertext{}}
	f.c, _ = bkOpenKeyfile(t, f.st)
	encrypt := func(name, as string) {
		t.Helper()
		ct, err := f.c.Encrypt(ctx, name, []byte(igPlaintext), nil)
		if err != nil {
			t.Fatal(err)
		}
		f.cts[as] = ct
	}
	for _, name := range []string{"victim", "other", "revoked"} {
		if _, err := f.c.CreateKey(ctx, name, &custodian.CreateOptions{Labels: map[string]string{"team": "a"}, Description: name}); err != nil {
			t.Fatal(err)
		}
		encrypt(name, name+" v1")
	}
	if _, err := f.c.RotateKey(ctx, "victim"); err != nil {
		t.Fatal(err)
	}
	encrypt("victim", "victim v2")
	if _, err := f.c.RevokeKey(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	return f
}

// tamper edits the stored record of name, and its versions, directly in
// the store, then drops the custodian's caches (a seal and an unseal) so
// that the next operation reads the store.
func (f *igFixture) tamper(t *testing.T, name string, edit func(k *store.Key, vs []store.Version, other store.Key, otherVs []store.Version) []store.Version) {
	t.Helper()
	ctx := t.Context()
	k, err := f.st.Lookup(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := f.st.Versions(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.st.Lookup(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	otherVs, err := f.st.Versions(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Update(ctx, k, edit(&k, vs, other, otherVs)); err != nil {
		t.Fatalf("tamper with %s: %v", name, err)
	}
	f.fresh(t)
}

func (f *igFixture) fresh(t *testing.T) {
	t.Helper()
	if err := f.c.Seal(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Unseal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}

// igRefused fails unless err is the sentinel want (the operation never
// succeeds on a tampered record).
func igRefused(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s after tampering: err = %v, want %v", what, err, want)
	}
}

func TestIntegrityKeyRecordEdits(t *testing.T) {
	other := func(k *store.Key, o store.Key) { k.Seal = o.Seal }
	edits := []struct {
		name string
		key  string
		edit func(k *store.Key, o store.Key)
	}{
		{"revoked set back to enabled", "revoked", func(k *store.Key, _ store.Key) { k.State = string(custodian.StateEnabled) }},
		{"enabled set to disabled", "victim", func(k *store.Key, _ store.Key) { k.State = string(custodian.StateDisabled) }},
		{"exportable flipped", "victim", func(k *store.Key, _ store.Key) { k.Exportable = true }},
		{"label changed", "victim", func(k *store.Key, _ store.Key) { k.Labels["team"] = "b" }},
		{"label added", "victim", func(k *store.Key, _ store.Key) { k.Labels["owner"] = "mallory" }},
		{"labels removed", "victim", func(k *store.Key, _ store.Key) { k.Labels = nil }},
		{"description changed", "victim", func(k *store.Key, _ store.Key) { k.Description = "victim!" }},
		{"type changed", "victim", func(k *store.Key, _ store.Key) { k.Type = string(custodian.ChaCha20Poly1305) }},
		{"usage changed", "victim", func(k *store.Key, _ store.Key) { k.Usage = string(custodian.UsageMAC) }},
		{"primary version rolled back", "victim", func(k *store.Key, _ store.Key) { k.PrimaryVersion = 1 }},
		{"latest version raised", "victim", func(k *store.Key, _ store.Key) { k.LatestVersion = 3 }},
		{"minimum decryption version lowered", "victim", func(k *store.Key, _ store.Key) { k.MinDecryptionVersion = 0 }},
		{"rotation period set", "victim", func(k *store.Key, _ store.Key) { k.RotationPeriod = 24 * time.Hour }},
		{"deletion scheduled", "victim", func(k *store.Key, _ store.Key) {
			k.State, k.StateBeforeDeletion, k.DeletionDate = string(custodian.StatePendingDeletion), k.State, k.Created
		}},
		{"created moved", "victim", func(k *store.Key, _ store.Key) { k.Created = k.Created.Add(-time.Hour) }},
		{"updated moved", "victim", func(k *store.Key, _ store.Key) { k.Updated = k.Updated.Add(time.Nanosecond) }},
		{"seal of another key", "victim", other},
		{"seal removed", "victim", func(k *store.Key, _ store.Key) { k.Seal = nil }},
		{"seal truncated", "victim", func(k *store.Key, _ store.Key) { k.Seal = k.Seal[:len(k.Seal)-1] }},
		{"seal bit flipped", "victim", func(k *store.Key, _ store.Key) { k.Seal[len(k.Seal)/2] ^= 1 }},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			f := igSetup(t)
			before, err := f.st.Lookup(ctx, e.key)
			if err != nil {
				t.Fatal(err)
			}
			f.tamper(t, e.key, func(k *store.Key, _ []store.Version, o store.Key, _ []store.Version) []store.Version {
				e.edit(k, o)
				return nil
			})
			_, err = f.c.GetKey(ctx, e.key)
			igRefused(t, "GetKey", err, custodian.ErrIntegrity)
			_, err = f.c.Encrypt(ctx, e.key, []byte("x"), nil)
			igRefused(t, "Encrypt", err, custodian.ErrIntegrity)
			_, err = f.c.Decrypt(ctx, f.cts[e.key+" v1"], nil)
			igRefused(t, "Decrypt", err, custodian.ErrIntegrity)
			_, err = f.c.ExportKey(ctx, e.key, nil)
			igRefused(t, "ExportKey", err, custodian.ErrIntegrity)
			_, err = f.c.RotateKey(ctx, e.key)
			igRefused(t, "RotateKey", err, custodian.ErrIntegrity)
			if page, err := f.c.ListKeys(ctx, nil); err == nil {
				for _, k := range page.Keys {
					if k.Name == e.key {
						t.Errorf("ListKeys returns the tampered record of %s: %+v", e.key, k)
					}
				}
			} else {
				igRefused(t, "ListKeys", err, custodian.ErrIntegrity)
			}

			// The record put back as it was reads again: the check is
			// about the record's content, nothing else.
			cur, err := f.st.Lookup(ctx, e.key)
			if err != nil {
				t.Fatal(err)
			}
			before.Revision = cur.Revision
			if _, err := f.st.Update(ctx, before, nil); err != nil {
				t.Fatal(err)
			}
			f.fresh(t)
			if _, err := f.c.GetKey(ctx, e.key); err != nil {
				t.Errorf("GetKey after putting the record back: %v", err)
			}
		})
	}
}

// The refusal does not depend on the process: a second custodian opened
// on the tampered store refuses as well.
func TestIntegrityRevokedKeyReenabledSecondCustodian(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	sl, _ := bkKeyfile(t)
	c := bkOpen(t, st, sl, nil)
	if _, err := c.Init(ctx, custodian.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, "k", []byte(igPlaintext), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	k, err := st.Lookup(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	k.State = string(custodian.StateEnabled)
	if _, err := st.Update(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	second := bkOpen(t, st, sl, nil)
	_, err = second.GetKey(ctx, "k")
	igRefused(t, "GetKey on a second custodian", err, custodian.ErrIntegrity)
	pt, err := second.Decrypt(ctx, ct, nil)
	igRefused(t, "Decrypt on a second custodian", err, custodian.ErrIntegrity)
	if pt != nil {
		t.Errorf("Decrypt returned %q", pt)
	}
}

func TestIntegrityVersionMaterialEdits(t *testing.T) {
	swap := func(vs []store.Version, i, j int) []store.Version {
		vs[i].Material, vs[j].Material = vs[j].Material, vs[i].Material
		return vs
	}
	edits := []struct {
		name string
		edit func(vs, otherVs []store.Version) []store.Version
		// want is the refusal of each of the victim's ciphertexts, by version.
		want map[string]error
		// encrypt is the refusal of Encrypt under the primary, v2.
		encrypt error
	}{
		{"v1 swapped with another key's v1", func(vs, o []store.Version) []store.Version {
			vs[0].Material = o[0].Material
			return vs[:1]
		}, map[string]error{"victim v1": custodian.ErrIntegrity}, nil},
		{"primary swapped with another key's v1", func(vs, o []store.Version) []store.Version {
			vs[1].Material = o[0].Material
			return vs[1:]
		}, map[string]error{"victim v2": custodian.ErrIntegrity}, custodian.ErrIntegrity},
		{"v1 and v2 swapped", func(vs, _ []store.Version) []store.Version { return swap(vs, 0, 1) },
			map[string]error{"victim v1": custodian.ErrIntegrity, "victim v2": custodian.ErrIntegrity}, custodian.ErrIntegrity},
		{"v1 material removed", func(vs, _ []store.Version) []store.Version {
			vs[0].Material = nil
			return vs[:1]
		}, map[string]error{"victim v1": custodian.ErrIntegrity}, nil},
		{"v2 material bit flipped", func(vs, _ []store.Version) []store.Version {
			vs[1].Material[len(vs[1].Material)-1] ^= 1
			return vs[1:]
		}, map[string]error{"victim v2": custodian.ErrIntegrity}, custodian.ErrIntegrity},
		// A version marked destroyed is refused as destroyed: the state is
		// not sealed, but all it can do is deny use, never grant it.
		{"v1 marked destroyed", func(vs, _ []store.Version) []store.Version {
			vs[0].State = string(custodian.VersionDestroyed)
			return vs[:1]
		}, map[string]error{"victim v1": custodian.ErrKeyDestroyed}, nil},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			f := igSetup(t)
			f.tamper(t, "victim", func(_ *store.Key, vs []store.Version, _ store.Key, o []store.Version) []store.Version {
				return e.edit(vs, o)
			})
			for as, ct := range f.cts {
				pt, err := f.c.Decrypt(ctx, ct, nil)
				want, tampered := e.want[as]
				switch {
				case tampered:
					igRefused(t, "Decrypt "+as, err, want)
					if pt != nil {
						t.Errorf("Decrypt %s returned %q", as, pt)
					}
				case as == "revoked v1":
					igRefused(t, "Decrypt "+as, err, custodian.ErrKeyRevoked)
				case err != nil || !bytes.Equal(pt, []byte(igPlaintext)):
					t.Errorf("Decrypt %s, untouched: %q, %v", as, pt, err)
				}
			}
			_, err := f.c.Encrypt(ctx, "victim", []byte("x"), nil)
			if e.encrypt == nil && err != nil {
				t.Errorf("Encrypt under the untouched primary: %v", err)
			}
			if e.encrypt != nil {
				igRefused(t, "Encrypt", err, e.encrypt)
			}
		})
	}
}

// Genuine records read back after every restart of the embedded default,
// through rotations, state changes, a root rotation and a destroyed key
// whose name was taken again: no false positive.
func TestIntegrityNoFalsePositivesAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	clock := lcNewClock()
	dir := t.TempDir()
	opts := custodian.Options{Now: clock.Now, RotationCheckInterval: -1}
	c, err := custodian.OpenDir(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() }) // the last one opened
	f := bkPopulate(t, c, clock)
	want := bkKeys(t, c)
	before := make([][]byte, len(f.checks))
	for i, ck := range f.checks {
		before[i] = ck.run(t, c, nil)
	}
	for round := range 3 {
		switch round {
		case 1:
			if _, err := c.RotateRoot(ctx, custodian.RotateRootOptions{}); err != nil {
				t.Fatalf("RotateRoot: %v", err)
			}
		case 2:
			if _, err := c.UpdateKey(ctx, "aes", custodian.KeyUpdate{Labels: map[string]string{"env": "staging"}}); err != nil {
				t.Fatal(err)
			}
			want = bkKeys(t, c)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if c, err = custodian.OpenDir(ctx, dir, opts); err != nil {
			t.Fatalf("round %d: OpenDir: %v", round, err)
		}
		bkSameKeys(t, want, bkKeys(t, c))
		for i, ck := range f.checks {
			ck.run(t, c, before[i])
		}
	}
}

// After a restart, a tombstone loaded by id (to refuse a ciphertext made
// under the destroyed key) must not become the cached holder of its name,
// which a newer key holds.
func TestIntegrityTombstoneDoesNotShadowItsNameAfterRestart(t *testing.T) {
	ctx := t.Context()
	clock := lcNewClock()
	dir := t.TempDir()
	opts := custodian.Options{Now: clock.Now, RotationCheckInterval: -1}
	c, err := custodian.OpenDir(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, "n", nil); err != nil {
		t.Fatal(err)
	}
	old, err := c.Encrypt(ctx, "n", []byte("old"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, "n", 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(custodian.MaxDeletionWindow + time.Hour)
	if _, err := c.DestroyKey(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, "n", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = custodian.OpenDir(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Decrypt(ctx, old, nil); !errors.Is(err, custodian.ErrKeyDestroyed) {
		t.Fatalf("Decrypt under the destroyed key: err = %v, want ErrKeyDestroyed", err)
	}
	if _, err := c.Encrypt(ctx, "n", []byte("new"), nil); err != nil {
		k, gerr := c.GetKey(ctx, "n")
		t.Fatalf("Encrypt under the live key named n (GetKey says %s, %v): %v", k.State, gerr, err)
	}
}

// bkFlip is one bit to flip in a backup.
type bkFlip struct {
	pos int
	bit byte
}

// bkFlips returns the bits to flip in a backup of size bytes: one in
// every byte, or a sample that always includes the whole prelude (magic,
// header, wrapped file key, digest), each chunk's length field and first,
// middle and last bytes, and a stride across everything. Every bit of a
// length field is flipped where it is cheap (a high bit makes a huge
// length); elsewhere the bit moves with the position.
func bkFlips(l bkLayout, size int, every bool) []bkFlip {
	var out []bkFlip
	add := func(p int, allBits bool) {
		if !allBits {
			out = append(out, bkFlip{p, 1 << (p % 8)})
			return
		}
		for i := range 8 {
			out = append(out, bkFlip{p, 1 << i})
		}
	}
	lengths := map[int]bool{}
	for _, s := range [][2]int{l.headerLen, l.wrappedLen} {
		for p := s[0]; p < s[1]; p++ {
			lengths[p] = true
		}
	}
	for _, ch := range l.chunks {
		for p := ch[0]; p < ch[0]+4; p++ {
			lengths[p] = true
		}
	}
	if every {
		for p := range size {
			add(p, lengths[p])
		}
		return out
	}
	seen := map[int]bool{}
	once := func(p int, allBits bool) {
		if !seen[p] {
			seen[p] = true
			add(p, allBits)
		}
	}
	for p := range l.chunks[0][0] + 12 {
		once(p, lengths[p])
	}
	// Every later flip costs a restore up to its chunk: a few per chunk.
	for _, ch := range l.chunks[1:] {
		out = append(out, bkFlip{ch[0], 0x80}, bkFlip{ch[0] + 3, 0x01})
		for _, p := range []int{ch[0] + 4, (ch[0] + ch[1]) / 2, ch[1] - 1} {
			once(p, false)
		}
	}
	for p := 0; p < size; p += 65537 {
		once(p, false)
	}
	return out
}

// bkRestore restores data into a new memory store, turning a panic into
// an error the test reports.
func bkRestore(data []byte, sl seal.Seal, shares [][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Restore panicked: %v", r)
		}
	}()
	_, err = custodian.Restore(context.Background(), bytes.NewReader(data), custodian.RestoreOptions{Store: memory.New(), Seal: sl, Shares: shares})
	return err
}

// bkWantDamaged fails unless err says the backup is damaged or is not a
// backup at all, as ErrInvalidArgument and not as a wrong key.
func bkWantDamaged(t *testing.T, err error, what string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: Restore succeeded", what)
	case !errors.Is(err, custodian.ErrInvalidArgument) || errors.Is(err, custodian.ErrInvalidShares):
		t.Errorf("%s: err = %v, want ErrInvalidArgument (and not ErrInvalidShares)", what, err)
	case !strings.Contains(err.Error(), "damaged or was modified") && !strings.Contains(err.Error(), "not a KeyCustodian backup"):
		t.Errorf("%s: err = %q does not say the backup is damaged or not a backup", what, err)
	}
}

// bkBigBackup returns a keyfile-sealed backup spanning several chunks,
// with the key file's seal.
func bkBigBackup(t *testing.T) ([]byte, seal.Seal) {
	t.Helper()
	c, keyPath := bkOpenKeyfile(t, memory.New())
	labels := map[string]string{}
	for i := range 8 {
		labels[fmt.Sprintf("label-%d", i)] = strings.Repeat(string(rune('a'+i)), custodian.MaxLabelValueLength)
	}
	for i := range 80 {
		_, err := c.CreateKey(t.Context(), fmt.Sprintf("big-%03d", i), &custodian.CreateOptions{
			Description: strings.Repeat("d", custodian.MaxDescriptionLength), Labels: labels,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _ := bkBackup(t, c)
	if n := len(bkParseLayout(t, data).chunks); n < 4 {
		t.Fatalf("the backup has %d chunks; the test needs several", n)
	}
	sl, err := keyfile.Open(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return data, sl
}

func bkSmallBackup(t *testing.T) ([]byte, seal.Seal) {
	t.Helper()
	c, keyPath := bkOpenKeyfile(t, memory.New())
	if _, err := c.CreateKey(t.Context(), "small", nil); err != nil {
		t.Fatal(err)
	}
	data, _ := bkBackup(t, c)
	sl, err := keyfile.Open(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return data, sl
}

func TestBackupIntegrityFlippedBits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) ([]byte, seal.Seal)
		every bool
	}{
		{"one key, every byte", bkSmallBackup, true},
		{"several chunks, sampled", bkBigBackup, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, sl := tc.make(t)
			if err := bkRestore(data, sl, nil); err != nil {
				t.Fatalf("the intact backup does not restore: %v", err)
			}
			l := bkParseLayout(t, data)
			flips := bkFlips(l, len(data), tc.every)
			for _, f := range flips {
				bad := bytes.Clone(data)
				bad[f.pos] ^= f.bit
				bkWantDamaged(t, bkRestore(bad, sl, nil), fmt.Sprintf("bit %#02x of byte %d of %d", f.bit, f.pos, len(data)))
				if t.Failed() {
					t.Fatalf("stopping at the first position not refused as damaged (%d)", f.pos)
				}
			}
			t.Logf("%d flipped bits in %d bytes (%d chunks) refused", len(flips), len(data), len(l.chunks))
		})
	}
}

func TestBackupIntegrityTruncatedOrExtended(t *testing.T) {
	data, sl := bkBigBackup(t)
	l := bkParseLayout(t, data)
	cuts := map[string]int{
		"empty": 0, "one byte": 1, "inside the magic": 5, "after the magic": 9,
		"inside the header": l.header[0] + 10, "before the wrapped key": l.wrapped[0],
		"inside the wrapped key": l.wrapped[0] + 5, "inside the digest": l.digest[0] + 1,
		"before the chunks": l.chunks[0][0], "inside a chunk length": l.chunks[0][0] + 2,
		"one byte short": len(data) - 1, "one tag short": len(data) - 16,
	}
	for i, ch := range l.chunks {
		cuts[fmt.Sprintf("before chunk %d", i)] = ch[0]
		cuts[fmt.Sprintf("inside chunk %d", i)] = (ch[0] + ch[1]) / 2
	}
	for name, n := range cuts {
		bkWantDamaged(t, bkRestore(data[:n], sl, nil), "truncated "+name)
	}
	last := l.chunks[len(l.chunks)-1]
	for name, extra := range map[string][]byte{
		"one zero byte":         {0},
		"a zero chunk length":   {0, 0, 0, 0},
		"the last chunk again":  data[last[0]:last[1]],
		"the first chunk again": data[l.chunks[0][0]:l.chunks[0][1]],
		"a whole backup":        data,
	} {
		bkWantDamaged(t, bkRestore(append(bytes.Clone(data), extra...), sl, nil), "followed by "+name)
	}
	// Chunks in another order, or one dropped.
	swapped := slices.Concat(data[:l.chunks[0][0]], data[l.chunks[1][0]:l.chunks[1][1]], data[l.chunks[0][0]:l.chunks[0][1]], data[l.chunks[1][1]:])
	bkWantDamaged(t, bkRestore(swapped, sl, nil), "first two chunks swapped")
	dropped := slices.Concat(data[:l.chunks[1][0]], data[l.chunks[1][1]:])
	bkWantDamaged(t, bkRestore(dropped, sl, nil), "second chunk dropped")
	for name, junk := range map[string][]byte{
		"random bytes": bytes.Repeat([]byte{0x5a, 0xc3}, 100),
		"a JSON file":  []byte(`{"format":1,"seal":"keyfile"}`),
		"a key file":   []byte("keycustodian-unseal-key-v1:AAAA\n"),
	} {
		bkWantDamaged(t, bkRestore(junk, sl, nil), name)
	}
}

func TestRestoreWrongKeyFile(t *testing.T) {
	data, _ := bkSmallBackup(t)
	other, _ := bkKeyfile(t)
	target := memory.New()
	_, err := custodian.Restore(t.Context(), bytes.NewReader(data), custodian.RestoreOptions{Store: target, Seal: other})
	if !errors.Is(err, custodian.ErrInvalidShares) {
		t.Fatalf("Restore with another key file: err = %v, want ErrInvalidShares", err)
	}
	if strings.Contains(err.Error(), "damaged") {
		t.Errorf("a wrong key file is reported as damage: %v", err)
	}
	bkWantEmpty(t, target, "after Restore with another key file")
	_, shamirShares := bkOpenShamir(t, memory.New())
	_, err = custodian.Restore(t.Context(), bytes.NewReader(data), custodian.RestoreOptions{Store: target, Seal: shamir.Seal{}, Shares: shamirShares[:3]})
	if !errors.Is(err, custodian.ErrInvalidArgument) || !strings.Contains(err.Error(), keyfile.Type) {
		t.Errorf("Restore of a key-file backup with a Shamir seal: err = %v, want ErrInvalidArgument naming the %s seal", err, keyfile.Type)
	}
	bkWantEmpty(t, target, "after Restore with a Shamir seal")
}
