package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/keycustodian/custodian/store"
)

// keyColumns are the columns scanKey reads, in its order.
const keyColumns = `id, name, type, usage, description, labels, exportable, state,
	state_before_deletion, deletion_date, created, updated, primary_version,
	latest_version, min_decryption_version, rotation_period, seal, revision`

// versionColumns are the columns scanVersion reads, in its order.
const versionColumns = `key_id, number, created, state, material`

// Times are stored as Unix nanoseconds, which reach this far.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// toNanos returns t as Unix nanoseconds, nil for the zero time.
func toNanos(field string, t time.Time) (*int64, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("%s %v: outside the years 1678 to 2262", field, t)
	}
	n := t.UnixNano()
	return &n, nil
}

// fromNanos is the inverse of toNanos.
func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// checkText refuses strings that a text or jsonb column would reject or
// (through encoding/json) silently change.
func checkText(field, s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%s %q: must be valid UTF-8 without NUL", field, s)
	}
	return nil
}

// keyRow is a key's column values, in keyColumns order: revision last.
type keyRow []any

// withoutRevision returns the values an insert gives, the store setting
// the revision itself.
func (r keyRow) withoutRevision() []any { return r[:len(r)-1] }

// encodeKey checks k and returns its column values.
func encodeKey(k store.Key) (keyRow, error) {
	if k.ID == "" || k.Name == "" {
		return nil, fmt.Errorf("key id %q name %q: id and name must not be empty", k.ID, k.Name)
	}
	for field, s := range map[string]string{
		"id": k.ID, "type": k.Type, "usage": k.Usage, "description": k.Description,
		"state": k.State, "state before deletion": k.StateBeforeDeletion,
	} {
		if err := checkText(field, s); err != nil {
			return nil, fmt.Errorf("key id %q: %w", k.ID, err)
		}
	}
	for name, value := range k.Labels {
		if err := checkText("label", name); err != nil {
			return nil, fmt.Errorf("key id %s: %w", k.ID, err)
		}
		if err := checkText("label "+name, value); err != nil {
			return nil, fmt.Errorf("key id %s: %w", k.ID, err)
		}
	}
	labels := k.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	lj, err := json.Marshal(labels)
	if err != nil {
		return nil, fmt.Errorf("key id %s: labels: %w", k.ID, err)
	}
	var times [3]*int64
	for i, t := range []struct {
		field string
		t     time.Time
	}{{"deletion date", k.DeletionDate}, {"created", k.Created}, {"updated", k.Updated}} {
		if times[i], err = toNanos(t.field, t.t); err != nil {
			return nil, fmt.Errorf("key id %s: %w", k.ID, err)
		}
	}
	if k.Revision > math.MaxInt64 {
		return nil, fmt.Errorf("key id %s: revision %d out of range", k.ID, k.Revision)
	}
	// seal is NOT NULL; pgx would send a nil slice as NULL.
	seal := append([]byte{}, k.Seal...)
	return keyRow{
		k.ID, []byte(k.Name), k.Type, k.Usage, k.Description, string(lj), k.Exportable, k.State,
		k.StateBeforeDeletion, times[0], times[1], times[2], int64(k.PrimaryVersion),
		int64(k.LatestVersion), int64(k.MinDecryptionVersion), int64(k.RotationPeriod), seal, int64(k.Revision),
	}, nil
}

// scanKey reads a row of keyColumns. Everything it returns is freshly
// allocated.
func scanKey(row pgx.Row) (store.Key, error) {
	var (
		k               store.Key
		name, labels    []byte
		del, cre, upd   *int64
		pv, lv, mdv, rp int64
		rev             int64
	)
	err := row.Scan(&k.ID, &name, &k.Type, &k.Usage, &k.Description, &labels, &k.Exportable, &k.State,
		&k.StateBeforeDeletion, &del, &cre, &upd, &pv, &lv, &mdv, &rp, &k.Seal, &rev)
	if err != nil {
		return store.Key{}, err
	}
	k.Name = string(name)
	if err := json.Unmarshal(labels, &k.Labels); err != nil {
		return store.Key{}, fmt.Errorf("key id %s: labels: %w", k.ID, err)
	}
	if len(k.Labels) == 0 {
		k.Labels = nil
	}
	if len(k.Seal) == 0 {
		k.Seal = nil
	}
	for _, n := range []int64{pv, lv, mdv} {
		if n < 0 || n > math.MaxUint32 {
			return store.Key{}, fmt.Errorf("key id %s: version number %d out of range", k.ID, n)
		}
	}
	k.DeletionDate, k.Created, k.Updated = fromNanos(del), fromNanos(cre), fromNanos(upd)
	k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion = uint32(pv), uint32(lv), uint32(mdv)
	k.RotationPeriod = time.Duration(rp)
	k.Revision = uint64(rev)
	return k, nil
}

// encodeVersion checks v and returns its column values, stored under keyID.
func encodeVersion(keyID string, v store.Version) ([]any, error) {
	if err := checkText("state", v.State); err != nil {
		return nil, fmt.Errorf("key id %s version %d: %w", keyID, v.Number, err)
	}
	created, err := toNanos("created", v.Created)
	if err != nil {
		return nil, fmt.Errorf("key id %s version %d: %w", keyID, v.Number, err)
	}
	return []any{keyID, int64(v.Number), created, v.State, v.Material}, nil
}

// scanVersion reads a row of versionColumns.
func scanVersion(row pgx.Row) (store.Version, error) {
	var (
		v       store.Version
		number  int64
		created *int64
	)
	if err := row.Scan(&v.KeyID, &number, &created, &v.State, &v.Material); err != nil {
		return store.Version{}, err
	}
	if number < 0 || number > math.MaxUint32 {
		return store.Version{}, fmt.Errorf("key id %s: version number %d out of range", v.KeyID, number)
	}
	v.Number = uint32(number)
	v.Created = fromNanos(created)
	return v, nil
}
