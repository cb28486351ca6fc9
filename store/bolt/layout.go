package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/keycustodian/custodian/store"
)

// layoutVersion is the value of meta/format: the layout of buckets and keys
// described in the package documentation. Layout 1 kept key records and
// versions under the key id; a file of that layout is refused.
const layoutVersion byte = 2

var (
	bucketMeta     = []byte("meta")
	bucketRecords  = []byte("records")
	bucketIDs      = []byte("ids")
	bucketKeys     = []byte("keys")
	bucketNames    = []byte("names")
	bucketVersions = []byte("versions")
	metaFormat     = []byte("format")
)

// appendFillPercent is the FillPercent of the buckets whose keys are
// sequence numbers (keys, versions). Creates append to them, and bbolt
// splits a growing last page at FillPercent of a page; its default, one
// half, would leave every page of these trees half empty for good. Not
// 1.0, so that an update that lengthens a record (a longer state name, a
// new label) rarely splits a full page in two.
const appendFillPercent = 0.9

// initLayout creates the buckets of a new file and checks the layout
// version of an existing one.
func initLayout(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	switch f := meta.Get(metaFormat); {
	case f == nil:
		if err := meta.Put(metaFormat, []byte{layoutVersion}); err != nil {
			return err
		}
	case len(f) != 1 || f[0] != layoutVersion:
		return fmt.Errorf("layout version %v: unsupported (this build reads %d)", f, layoutVersion)
	}
	for _, name := range [][]byte{bucketRecords, bucketIDs, bucketKeys, bucketNames, bucketVersions} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// buckets are the buckets of keys and versions, as one transaction sees
// them; those not asked of bucketsOf are nil.
type buckets struct {
	ids, keys, names, versions *bolt.Bucket
	keysCursor                 *bolt.Cursor // reused by record
}

// The buckets a method uses. A read-only transaction opens a bucket anew,
// with a seek and allocations, each time it is asked for one, so reads
// ask only for those they use.
const (
	withIDs = 1 << iota
	withKeys
	withNames
	withVersions
	withAll = withIDs | withKeys | withNames | withVersions
)

func bucketsOf(tx *bolt.Tx, which int) *buckets {
	b := &buckets{}
	for _, w := range []struct {
		flag int
		name []byte
		to   **bolt.Bucket
	}{{withIDs, bucketIDs, &b.ids}, {withKeys, bucketKeys, &b.keys}, {withNames, bucketNames, &b.names}, {withVersions, bucketVersions, &b.versions}} {
		if which&w.flag != 0 {
			*w.to = tx.Bucket(w.name)
		}
	}
	if tx.Writable() {
		// FillPercent is not stored: it holds for this transaction's
		// splits. tx.Bucket returns the same *Bucket for the whole of a
		// writable transaction, so this reaches its commit.
		if b.keys != nil {
			b.keys.FillPercent = appendFillPercent
		}
		if b.versions != nil {
			b.versions.FillPercent = appendFillPercent
		}
	}
	return b
}

// seqKey returns the keys-bucket key of the key with sequence number seq:
// 8 bytes, big-endian, so that keys sort in the order they were created.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// versionKey returns the versions-bucket key of a version of the key with
// sequence number seq: uint64 seq | uint32 number. Its first 8 bytes are
// the prefix of every version of that key.
func versionKey(seq uint64, number uint32) []byte {
	b := make([]byte, 0, 12)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint32(b, number)
}

// parseSeq decodes a sequence number stored as a value of ids or names.
func parseSeq(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("sequence number of %d bytes: %w", len(b), errCorrupt)
	}
	return binary.BigEndian.Uint64(b), nil
}

// seqOf returns the sequence number of the key with id, or ErrNotFound.
func (b *buckets) seqOf(id string) (uint64, error) {
	v := b.ids.Get([]byte(id))
	if v == nil {
		return 0, fmt.Errorf("key id %s: %w", id, store.ErrNotFound)
	}
	seq, err := parseSeq(v)
	if err != nil {
		return 0, fmt.Errorf("key id %s: %w", id, err)
	}
	return seq, nil
}

// record returns the key record at seq, or nil, through one cursor
// reused for the transaction's reads (a Get makes a cursor of its own).
// It must not be called once the transaction has written to keys.
func (b *buckets) record(seq uint64) []byte {
	if b.keysCursor == nil {
		b.keysCursor = b.keys.Cursor()
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seq)
	k, v := b.keysCursor.Seek(key[:])
	if !bytes.Equal(k, key[:]) {
		return nil
	}
	return v
}

// keyAt reads and decodes the key record at seq, whose id must be id:
// a record that names another key means the indexes are corrupt.
func (b *buckets) keyAt(seq uint64, id string) (store.Key, error) {
	v := b.record(seq)
	if v == nil {
		return store.Key{}, fmt.Errorf("key id %s: record %d missing: %w", id, seq, errCorrupt)
	}
	k, err := decodeKey(v)
	if err != nil {
		return store.Key{}, fmt.Errorf("key id %s: %w", id, err)
	}
	if k.ID != id {
		return store.Key{}, fmt.Errorf("key id %s: record %d holds key id %s: %w", id, seq, k.ID, errCorrupt)
	}
	return k, nil
}

// getKey reads and decodes the key with id, or returns ErrNotFound; it
// also returns the key's sequence number.
func (b *buckets) getKey(id string) (store.Key, uint64, error) {
	seq, err := b.seqOf(id)
	if err != nil {
		return store.Key{}, 0, err
	}
	k, err := b.keyAt(seq, id)
	return k, seq, err
}

// holder reads and decodes the key holding name, whose names-bucket value
// is seqValue.
func (b *buckets) holder(name string, seqValue []byte) (store.Key, error) {
	seq, err := parseSeq(seqValue)
	if err != nil {
		return store.Key{}, fmt.Errorf("key name %q: %w", name, err)
	}
	v := b.record(seq)
	if v == nil {
		return store.Key{}, fmt.Errorf("key name %q: record %d missing: %w", name, seq, errCorrupt)
	}
	k, err := decodeKey(v)
	if err != nil {
		return store.Key{}, fmt.Errorf("key name %q: %w", name, err)
	}
	if k.Name != name {
		return store.Key{}, fmt.Errorf("key name %q: record %d holds name %q: %w", name, seq, k.Name, errCorrupt)
	}
	return k, nil
}

// records are a key record and version records, encoded before their
// write joins a transaction: the writers of a group commit encode in
// parallel, and the leader's transaction only stores the bytes.
type records struct {
	key      []byte
	numbers  []uint32
	versions [][]byte
}

func encodeRecords(k store.Key, versions []store.Version) records {
	r := records{key: encodeKey(k), numbers: make([]uint32, len(versions)), versions: make([][]byte, len(versions))}
	for i, v := range versions {
		r.numbers[i], r.versions[i] = v.Number, encodeVersion(v)
	}
	return r
}

// put writes the records of the key at seq. bbolt keeps the slices it is
// given until the commit; r is never changed after encodeRecords.
func (b *buckets) put(seq uint64, r records) error {
	if err := b.keys.Put(seqKey(seq), r.key); err != nil {
		return err
	}
	for i, v := range r.versions {
		if err := b.versions.Put(versionKey(seq, r.numbers[i]), v); err != nil {
			return err
		}
	}
	return nil
}

// version reads and decodes version number of the key id at seq, or
// returns ErrNotFound.
func (b *buckets) version(seq uint64, id string, number uint32) (store.Version, error) {
	raw := b.versions.Get(versionKey(seq, number))
	if raw == nil {
		return store.Version{}, fmt.Errorf("key id %s version %d: %w", id, number, store.ErrNotFound)
	}
	v, err := decodeVersion(raw)
	if err != nil {
		return store.Version{}, fmt.Errorf("key id %s version %d: %w", id, number, err)
	}
	return v, nil
}

// readVersions decodes every version of the key id at seq with c, in
// number order.
func readVersions(c *bolt.Cursor, seq uint64, id string) ([]store.Version, error) {
	var out []store.Version
	prefix := seqKey(seq)
	for k, raw := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, raw = c.Next() {
		v, err := decodeVersion(raw)
		if err != nil {
			return nil, fmt.Errorf("key id %s version %x: %w", id, k[len(prefix):], err)
		}
		out = append(out, v)
	}
	return out, nil
}

// keyAtValue reads and decodes the key id whose ids-bucket value is seqValue.
func (b *buckets) keyAtValue(id string, seqValue []byte) (store.Key, error) {
	seq, err := parseSeq(seqValue)
	if err != nil {
		return store.Key{}, fmt.Errorf("key id %s: %w", id, err)
	}
	return b.keyAt(seq, id)
}
